// Whole-file mode (qplay/wholefile.hpp): the plan per tensor, one tensor's quantization, and the
// streaming bundle writer. Shapes and dtypes of every output are predicted from the options before
// any data is read, so the safetensors header can be written first; each result is then checked
// against its prediction.
#include "qplay/wholefile.hpp"

#include <algorithm>

#include "driver.hpp"
#include "formats/common.hpp"
#include "formats/json.hpp"
#include "qplay/error.hpp"
#include "qplay/export.hpp"
#include "qplay/numbers.hpp"
#include "qplay/quantize.hpp"

namespace qplay {
namespace {

using formats::shown;

bool is_float(DType d) {
  switch (d) {
    case DType::f16: case DType::bf16: case DType::f32: case DType::f64: case DType::f8_e4m3: case DType::f8_e5m2:
      return true;
    default:
      return false;
  }
}

// Errors about one tensor name it.
template <class F> auto about_tensor(const std::string& name, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    throw Error("tensor '" + shown(name) + "': " + e.what());
  }
}

std::string scheme_text(const QuantOptions& o) {
  std::string s = o.code.name();
  if (o.code.is(Family::integer) && o.mode == Mode::symmetric) s += " sym";
  s += " " + std::string(granularity_name(o.granularity));
  if (o.granularity == Granularity::block) s += ":" + std::to_string(o.block_size);
  if (o.granularity == Granularity::group) s += ":" + std::to_string(o.group_size);
  return s;
}

Tensor f32_of(const Shape& shape, const std::vector<float>& values) { return tensor_from_f32(shape, values); }

// The names a quantized tensor's parts take in a bundle.
constexpr const char* kParts[] = {".codes", ".scale", ".zero_point"};

// CSV fields with a comma, quote or line break are quoted (RFC 4180).
std::string csv_field(std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(v);
  std::string q = "\"";
  for (char c : v) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// The report's shape column: 4096x11008 (one field, no comma to quote; "" for a 0-d tensor).
std::string csv_shape(const Shape& shape) {
  std::string s;
  for (int64_t d : shape) s += (s.empty() ? "" : "x") + std::to_string(d);
  return s;
}

}  // namespace

std::string report_csv_header() {
  return "name,shape,dtype,action,scheme,params,mse,sqnr_db,max_abs_error,bits_per_element,bytes_before,bytes_after\n";
}

std::string report_csv_row(const TensorReport& r) {
  const bool q = r.quantized;
  std::string row = csv_field(r.name) + "," + csv_shape(r.shape) + "," + std::string(dtype_name(r.dtype)) + "," +
                    (q ? "quantized" : "kept") + "," + csv_field(r.scheme) + "," + std::to_string(r.params) + ",";
  // Non-finite metrics (an all-zero tensor's SQNR) are spelled nan/inf, which pandas reads.
  row += q ? shortest_text(r.mse) + "," + shortest_text(r.sqnr_db) + "," + shortest_text(r.max_abs_error) + "," +
                 shortest_text(r.bits_per_element)
           : ",,,";
  row += "," + std::to_string(r.bytes_before) + "," + std::to_string(r.bytes_after) + "\n";
  return row;
}

std::string report_json(const std::vector<TensorReport>& rows) {
  formats::JsonWriter j;
  j.begin_object();
  j.begin_array("tensors");
  for (const TensorReport& r : rows) {
    j.begin_object();
    j.field("name", r.name);
    j.int_array("shape", r.shape);
    j.field("dtype", dtype_name(r.dtype));
    j.field("action", r.quantized ? "quantized" : "kept");
    j.field("scheme", r.scheme);
    j.field("params", r.params);
    if (r.quantized) {  // NaN and infinities are null, as in params.json
      j.field("mse", r.mse);
      j.field("sqnr_db", r.sqnr_db);
      j.field("max_abs_error", r.max_abs_error);
      j.field("bits_per_element", r.bits_per_element);
    }
    j.field("bytes_before", r.bytes_before);
    j.field("bytes_after", r.bytes_after);
    j.end_object();
  }
  j.end_array();
  j.end_object();
  return j.finish();
}

bool glob_match(std::string_view pattern, std::string_view name) {
  // Greedy match with one backtrack point (the last '*'): linear in practice, never exponential.
  size_t p = 0, n = 0, star = std::string_view::npos, resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p, ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

BundleFormat bundle_format_for(std::string_view output_name) {
  if (output_name.ends_with(".gguf")) return BundleFormat::gguf;
  return output_name.ends_with(".safetensors") ? BundleFormat::safetensors : BundleFormat::npz;
}

BundleFormat parse_bundle_format(std::string_view name) {
  if (name == "safetensors") return BundleFormat::safetensors;
  if (name == "npz") return BundleFormat::npz;
  if (name == "gguf") return BundleFormat::gguf;
  throw Error("bundle format '" + std::string(name) + "' is not supported (supported: safetensors, npz, gguf)");
}

TensorPlan plan_tensor(const TensorInfo& t, const QuantOptions* options, std::string why) {
  TensorPlan p;
  p.input = t;
  p.why = std::move(why);
  if (!t.loadable)
    throw Error("tensor '" + shown(t.name) + "' has type " + t.stored_type + ", which qplay cannot decode");
  if (!options) {
    p.scheme = "kept";
    return p;
  }
  if (!is_float(t.dtype))
    throw Error("tensor '" + shown(t.name) + "' is " + std::string(dtype_name(t.dtype)) +
                "; only floating-point tensors are quantized");
  p.quantize = true;
  p.options = *options;
  about_tensor(t.name, [&] {
    const GranularityPlan g = plan_granularity(t.shape, p.options);
    p.axis = g.axis;
    p.param_shape = g.param_shape;
    p.codes_dtype = p.options.code.is(Family::integer) ? detail::code_dtype(p.options.code.int_type()) : DType::u8;
    p.zero_point_dtype =
        p.options.code.is(Family::integer) && p.options.zero_point_domain == ZeroPointDomain::floating
            ? DType::f32
            : DType::i32;
    p.scheme = scheme_text(p.options);
    p.scheme_json =
        scheme_json({t.name, t.dtype, t.shape, p.options, p.axis, p.param_shape, p.codes_dtype, p.zero_point_dtype});
  });
  return p;
}

WholeFilePlan plan_whole_file(const FileInfo& file, const QuantOptions& base, std::span<const TensorRule> rules) {
  WholeFilePlan out;
  for (const TensorInfo& t : file.tensors) {
    const TensorRule* rule = nullptr;
    for (const TensorRule& r : rules)
      if (glob_match(r.pattern, t.name)) {
        rule = &r;
        break;
      }
    if (!is_float(t.dtype) && t.loadable)
      out.tensors.push_back(plan_tensor(t, nullptr, t.dtype == DType::boolean ? "bool" : "integer"));
    else if (rule)
      out.tensors.push_back(plan_tensor(t, rule->keep ? nullptr : &rule->options, "rule '" + rule->pattern + "'"));
    else if (t.shape.size() < 2)
      out.tensors.push_back(plan_tensor(t, nullptr, t.shape.empty() ? "0-d" : "1-D"));
    else
      out.tensors.push_back(plan_tensor(t, &base, "default"));
  }
  return out;
}

Tensor decode_planned(const TensorPlan& plan, std::span<const uint8_t> stored) {
  return about_tensor(plan.input.name, [&] { return decode_tensor(plan.input, stored); });
}

TensorOutput process_tensor(const TensorPlan& plan, std::span<const uint8_t> stored) {
  return process_tensor(plan, decode_planned(plan, stored));
}

TensorOutput process_tensor(const TensorPlan& plan, Tensor decoded) {
  return about_tensor(plan.input.name, [&] {
    const TensorInfo& t = plan.input;
    if (decoded.dtype != t.dtype || decoded.shape != t.shape)
      throw Error("decoded as " + std::string(dtype_name(decoded.dtype)) + " " + shape_to_string(decoded.shape) +
                  ", described as " + std::string(dtype_name(t.dtype)) + " " + shape_to_string(t.shape));
    TensorOutput out;
    TensorReport& r = out.report;
    r.name = t.name;
    r.shape = t.shape;
    r.dtype = t.dtype;
    r.scheme = plan.scheme;
    // What the input stored (a gguf Q4_K tensor decodes to more bytes than it stores).
    r.bytes_before = t.data_bytes ? t.data_bytes : decoded.bytes.size();
    if (!plan.quantize) {
      out.kept = std::move(decoded);
      r.bytes_after = out.kept.bytes.size();
      return out;
    }
    std::vector<float> values = to_f32(decoded);
    decoded = Tensor{};  // peak memory: the float32 copy, codes and dequantized values, not the input too
    const TensorViewF32 x{t.shape, values};
    Quantized q = quantize_dynamic(x, plan.options);
    const std::vector<float> deq = dequantize(q);
    const Evaluation e = evaluate(x, q, deq);
    r.quantized = true;
    r.params = static_cast<int64_t>(q.params.scale.size());
    r.mse = e.metrics.mse;
    r.sqnr_db = e.metrics.sqnr_db;
    r.max_abs_error = e.metrics.max_abs_error;
    r.bits_per_element = e.metrics.bits_per_element;
    if (plan.options.code.is(Family::ggml)) {  // llama.cpp's bytes are the output
      out.blocks = std::move(q.blocks);
      r.bytes_after = out.blocks.size();
      return out;
    }
    out.codes = std::move(q.codes);
    out.scale = f32_of(q.params.shape, q.params.scale);
    out.zero_point = zero_point_tensor(q.params);
    // The header was written from the prediction: a mismatch would corrupt the bundle.
    if (out.codes.dtype != plan.codes_dtype || out.codes.shape != t.shape || out.scale.shape != plan.param_shape ||
        out.zero_point.dtype != plan.zero_point_dtype)
      throw Error("internal error: the quantized parts (" + std::string(dtype_name(out.codes.dtype)) + " codes, params " +
                  shape_to_string(out.scale.shape) + ", " + std::string(dtype_name(out.zero_point.dtype)) +
                  " zero points) differ from the plan (" + std::string(dtype_name(plan.codes_dtype)) + ", " +
                  shape_to_string(plan.param_shape) + ", " + std::string(dtype_name(plan.zero_point_dtype)) + ")");
    r.bytes_after = out.codes.bytes.size() + out.scale.bytes.size() + out.zero_point.bytes.size();
    return out;
  });
}

// ---- BundleWriter -------------------------------------------------------------------------------------

BundleWriter::BundleWriter(BundleFormat format, const WholeFilePlan& plan) : format_(format) {
  std::vector<TensorSpec> specs;
  Metadata metadata;
  for (const TensorPlan& p : plan.tensors) {
    if (!plans_.emplace(p.input.name, p).second)
      throw Error("tensor '" + shown(p.input.name) + "' appears twice in the plan");
    added_[p.input.name] = false;
    if (format == BundleFormat::gguf) continue;
    if (p.quantize && p.options.code.is(Family::ggml))
      throw Error("tensor '" + shown(p.input.name) + "': --format " + p.options.code.name() +
                  " (a ggml block format) is written to .gguf only, not to a .safetensors or .npz bundle");
    if (format != BundleFormat::safetensors) continue;
    if (!p.quantize) {
      specs.push_back({p.input.name, p.input.dtype, p.input.shape});
      continue;
    }
    specs.push_back({p.input.name + kParts[0], p.codes_dtype, p.input.shape});
    specs.push_back({p.input.name + kParts[1], DType::f32, p.param_shape});
    specs.push_back({p.input.name + kParts[2], p.zero_point_dtype, p.param_shape});
    metadata.emplace_back("qplay.params." + p.input.name, p.scheme_json);
  }
  if (format == BundleFormat::gguf) {
    std::vector<GgufTensorDesc> descs;
    std::vector<GgufKv> kvs = {{"general.quantization_version", GgufValue{uint32_t{2}}}};
    for (const TensorPlan& p : plan.tensors) {
      const std::string who = "tensor '" + shown(p.input.name) + "': ";
      GgufTensorDesc d;
      d.name = p.input.name;
      d.shape = p.input.shape;
      try {
        if (p.quantize && !p.options.code.is(Family::ggml))
          throw Error("a .gguf holds ggml block formats; quantize with --format (this tensor is --dtype " +
                      p.options.code.name() + ")");
        d.type = p.quantize ? ggml_type_id(p.options.code.ggml_type()) : gguf_type_of(p.input.dtype);
        d.bytes = gguf_tensor_bytes(d.type, d.shape);
      } catch (const Error& e) {
        throw Error(who + e.what());
      }
      if (p.quantize) kvs.push_back({"qplay.params." + p.input.name, GgufValue{p.scheme_json}});
      descs.push_back(std::move(d));
    }
    gguf_ = gguf_layout(descs, kvs);
    for (size_t i = 0; i < descs.size(); ++i)
      slots_[descs[i].name] = {gguf_.header.size() + gguf_.offsets[i], descs[i].bytes};
  }
  if (format == BundleFormat::safetensors) {
    layout_ = safetensors_layout(specs, metadata);
    for (const auto& s : layout_.slots) slots_[s.name] = {s.offset, s.bytes};
  }
}

OutputChunk BundleWriter::header() const {
  OutputChunk c;
  if (format_ == BundleFormat::safetensors) c.bytes = layout_.header;
  if (format_ == BundleFormat::gguf) c.bytes = gguf_.header;
  return c;
}

std::optional<uint64_t> BundleWriter::total_size() const {
  if (format_ == BundleFormat::safetensors) return layout_.size;
  if (format_ == BundleFormat::gguf) return gguf_.file_bytes;
  return std::nullopt;
}

std::vector<OutputChunk> BundleWriter::add(const std::string& name, const TensorOutput& out) {
  const auto it = plans_.find(name);
  if (it == plans_.end()) throw Error("bundle: tensor '" + shown(name) + "' is not in the plan");
  if (added_[name]) throw Error("bundle: tensor '" + shown(name) + "' was already written");
  const TensorPlan& p = it->second;
  if (format_ == BundleFormat::gguf) {
    // One tensor per input tensor: the blocks, or the kept tensor's bytes; zero padding to 32.
    const std::vector<uint8_t>& data = p.quantize ? out.blocks : out.kept.bytes;
    const Slot& s = slots_.at(name);
    if (data.size() != s.bytes || (!p.quantize && (out.kept.dtype != p.input.dtype || out.kept.shape != p.input.shape)))
      throw Error("bundle: tensor '" + shown(name) + "' has " + std::to_string(data.size()) + " bytes, the plan says " +
                  std::to_string(s.bytes));
    added_[name] = true;
    OutputChunk c{s.offset, data};
    c.bytes.resize(c.bytes.size() + gguf_padding(data.size()), 0);
    return {c};
  }
  std::vector<std::pair<std::string, const Tensor*>> parts;
  if (p.quantize) {
    parts = {{name + kParts[0], &out.codes}, {name + kParts[1], &out.scale}, {name + kParts[2], &out.zero_point}};
    const std::pair<const Tensor*, DType> expected[] = {
        {&out.codes, p.codes_dtype}, {&out.scale, DType::f32}, {&out.zero_point, p.zero_point_dtype}};
    for (size_t k = 0; k < 3; ++k) {
      const Shape& shape = k == 0 ? p.input.shape : p.param_shape;
      if (expected[k].first->dtype != expected[k].second || expected[k].first->shape != shape ||
          expected[k].first->bytes.size() != shape_elements(shape) * dtype_size(expected[k].second))
        throw Error("bundle: tensor '" + shown(name) + "' part " + kParts[k] + " is " +
                    std::string(dtype_name(expected[k].first->dtype)) + " " + shape_to_string(expected[k].first->shape) +
                    ", the plan says " + std::string(dtype_name(expected[k].second)) + " " + shape_to_string(shape));
    }
  } else {
    if (out.kept.dtype != p.input.dtype || out.kept.shape != p.input.shape)
      throw Error("bundle: kept tensor '" + shown(name) + "' is " + std::string(dtype_name(out.kept.dtype)) + " " +
                  shape_to_string(out.kept.shape) + ", the plan says " + std::string(dtype_name(p.input.dtype)) + " " +
                  shape_to_string(p.input.shape));
    parts = {{name, &out.kept}};
  }
  added_[name] = true;

  std::vector<OutputChunk> chunks;
  if (format_ == BundleFormat::safetensors) {
    for (const auto& [part, tensor] : parts) {
      const Slot& s = slots_.at(part);
      chunks.push_back({s.offset, tensor->bytes});
    }
    return chunks;
  }
  for (const auto& [part, tensor] : parts) {
    const uint64_t at = zip_.size();
    chunks.push_back({at, zip_.add(part + ".npy", write_npy(*tensor))});
  }
  if (p.quantize) {
    const uint64_t at = zip_.size();
    const std::span<const uint8_t> json(reinterpret_cast<const uint8_t*>(p.scheme_json.data()), p.scheme_json.size());
    chunks.push_back({at, zip_.add(name + ".params.json", json)});
  }
  return chunks;
}

OutputChunk BundleWriter::finish() {
  for (const auto& [name, done] : added_)
    if (!done) throw Error("bundle: tensor '" + shown(name) + "' was never written");
  OutputChunk c;
  if (format_ == BundleFormat::npz) {
    c.offset = zip_.size();
    c.bytes = zip_.finish();
  } else {
    c.offset = *total_size();  // empty, at the end: the chunks still tile the file
  }
  return c;
}

}  // namespace qplay
