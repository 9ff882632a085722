// params.json and the .npz bundle. Every JSON text goes through formats::JsonWriter so that key
// order and number spelling are fixed: the native CLI and the wasm page must produce the same bytes
// for the same run.
#include "qplay/export.hpp"

#include <cmath>
#include <cstring>

#include "formats/json.hpp"
#include "kernels/kernels.hpp"
#include "qplay/elements.hpp"
#include "qplay/error.hpp"
#include "qplay/formats.hpp"
#include "qplay/numbers.hpp"
#include "qplay/registry.hpp"

namespace qplay {
namespace {

using Json = formats::JsonWriter;

Tensor f32_tensor(const Shape& shape, std::span<const float> values, const char* what) {
  if (shape_elements(shape) != static_cast<int64_t>(values.size()))
    throw Error(std::string("export: ") + what + " holds " + std::to_string(values.size()) +
                " values for shape " + shape_to_string(shape));
  return tensor_from_f32(shape, values);
}

std::string_view specials_name(minifloat::Specials s) {
  switch (s) {
    case minifloat::Specials::ieee: return "ieee";
    case minifloat::Specials::fn: return "fn";
    case minifloat::Specials::fnuz: return "fnuz";
    case minifloat::Specials::finite: return "finite";
  }
  return "?";
}

// What each member of a ggml bundle means, per format: the format registry's row (docs/SCHEMES.md
// section 7).
using GgmlDoc = GgmlGeometry;
const GgmlDoc& ggml_doc(GgmlType t) { return *ggml_code_format(t).ggml; }

// ggml's own type_name: "q4_K" for the K-quants, the CLI name otherwise.
std::string ggml_spelling(GgmlType t) {
  std::string s(ggml_type_name(t));
  if (s.ends_with("_k")) s.back() = 'K';
  return s;
}

void ggml_element_json(Json& j, const Quantized& q) {
  const QuantOptions& o = q.options;
  const GgmlType t = o.code.ggml_type();
  const GgmlDoc& doc = ggml_doc(t);
  const bool book = !ggml_codebook(t).empty();
  j.begin_object("element");
  j.field("name", o.code.name());
  j.field("kind", "ggml");
  j.field("bits", o.code.bits);
  j.field("format", ggml_spelling(t));
  j.field("ggml_type_id", int64_t{ggml_type_id(t)});
  j.field("block_elements", uint64_t{ggml_block_elems(t)});
  j.field("block_bytes", uint64_t{ggml_block_bytes(t)});
  j.field("sub_block", uint64_t{ggml_sub_block(t)});
  j.field("reference", "ggml quantize_row_" + ggml_spelling(t) + "_ref / dequantize_row_" + ggml_spelling(t));
  j.field("formula", std::string("dequantized = scale * ") + (book ? "codebook[codes]" : "codes") +
                         (doc.offset ? " + offset" : "") + " (float32 multiply, then add), per sub-block along the last dim");
  j.field("codes", doc.codes);
  j.field("scale", doc.scale);
  if (doc.offset) j.field("offset", doc.offset);
  j.field("blocks", "blocks.npy: ggml's block bytes, [rows, row bytes], as llama.cpp stores them");
  j.field("rounding", doc.rounding);
  j.field("pack", pack_order_name(effective_pack(o)));
  j.end_object();
}

// The "element" object: the format named exactly, with what a reader needs to decode the codes.
void element_json(Json& j, const Quantized& q) {
  const QuantOptions& o = q.options;
  if (o.code.is(Family::ggml)) return ggml_element_json(j, q);
  j.begin_object("element");
  j.field("name", o.code.name());
  j.field("kind", family_name(o.code.family()));
  j.field("bits", o.code.bits);
  if (const minifloat::Format* f = element_float_format(o)) {
    j.field("format", f->name);
    j.field("exponent_bits", int(f->exp_bits));
    j.field("mantissa_bits", int(f->man_bits));
    j.field("bias", int(f->bias));
    j.field("specials", specials_name(f->specials));
    j.field("max", minifloat::max_value(*f));
  }
  switch (o.code.family()) {
    case Family::minifloat:
      j.field("scale", "amax / max per group (1 for an all-zero group)");
      j.field("saturate", o.saturate);
      j.field("rounding", rounding_name(o));
      break;
    case Family::lut:
      j.field("table", o.code.format().table);
      j.field("scale", o.profile == Profile::bnb ? "absmax per block of the flattened tensor (bitsandbytes quantize_4bit)"
                                                 : "absmax per group");
      j.field("rounding", "nearest, ties to the lower value (bitsandbytes)");
      break;
    case Family::mx:
      j.field("block", q.plan.block);
      j.field("scale", o.scale_rule == ScaleRule::rceil ? "E8M0, ceil(log2(amax / max)) (RCEIL)"
                                                         : "E8M0, floor(log2(amax)) - emax (OCP MX)");
      j.field("scale_rule", scale_rule_name(o.scale_rule));
      j.field("max", mx::element_info(element_mx(o)).max_normal);
      j.field("rounding", rounding_name(o));
      break;
    case Family::pow2:
      j.field("scale", "amax per group (1 for an all-zero group)");
      j.field("levels", int64_t(q.codebook.size()));
      j.field("rounding", "nearest in the linear domain, ties to the larger magnitude");
      break;
    case Family::kmeans:
      j.field("k", int64_t(1) << o.code.bits);
      j.field("scale", "none: the codebook holds values (one per group)");
      j.field("rounding", "nearest centroid, ties to the lower index");
      break;
    case Family::integer:
    case Family::ggml:
      break;
  }
  j.field("pack", pack_order_name(effective_pack(o)));
  j.end_object();
}

// What --double-quant stored and how a reader rebuilds scale.npy from it.
void double_quant_json(Json& j, const Quantized& q) {
  const ScaleQuant& dq = q.scale_quant;
  const bool bnb = dq.scheme == "bnb-dynamic";
  j.begin_object("double_quant");
  j.field("scheme", dq.scheme);
  j.field("source", bnb ? "bitsandbytes quantize_4bit(compress_statistics=True) (QLoRA)" : "qplay");
  j.field("super_block", dq.super_block);
  j.field("codes", "scale_codes.npy");
  j.field("super_scale", "scale_super.npy");
  if (bnb) {
    j.field("codebook", "scale_codebook.npy");
    j.field("offset", dq.offset);
    j.field("scale", "scale_codebook[code] * scale_super[i / 256] + offset (float32)");
  } else {
    j.field("scale", "code * scale_super[i / 256] (float32); super = max / 255, code rounded half-even, >= 1 for a positive scale");
  }
  j.end_object();
}

// The "options" object: every setting of the run in its CLI spelling.
void options_json(Json& j, const QuantOptions& o) {
  j.begin_object("options");
  j.field("dtype", o.code.name());
  j.field("bits", o.code.bits);
  // Elements have no integer sign; their bundles have always said true (the int8 default).
  j.field("signed", o.code.is(Family::integer) ? o.code.int_type().is_signed : true);
  j.field("mode", mode_name(o.mode));
  j.field("narrow", o.narrow);
  j.field("reduce_range", o.reduce_range);
  j.field("granularity", granularity_name(o.granularity));
  j.field("axis", o.axis);
  j.field("group_size", o.group_size);
  j.field("block_size", o.block_size);
  j.field("range", range_name(o));
  if (o.clip_ratio != 1.0f) j.field("clip_ratio", o.clip_ratio);
  j.field("rounding", rounding_name(o));
  j.field("zero_point_domain", zero_point_domain_name(o.zero_point_domain));
  j.field("profile", profile_name(o.profile));
  j.field("division", division_name(o.division));
  j.field("histogram_bins", o.histogram_bins);
  // Only runs that pack or use a non-integer element carry these keys, so integer bundles keep
  // their bytes.
  if (effective_pack(o) != PackOrder::none) j.field("pack", pack_order_name(effective_pack(o)));
  if (o.code.is(Family::mx)) j.field("scale_rule", scale_rule_name(o.scale_rule));
  if (o.double_quant) j.field("double_quant", true);
  j.end_object();
}

}  // namespace

std::string scheme_json(const SchemeInfo& s) {
  const QuantOptions& o = s.options;
  Json j;
  j.begin_object();
  j.begin_object("qplay");
  j.field("version", std::string_view(QPLAY_VERSION));
  j.end_object();
  j.begin_object("input");
  j.field("tensor", s.tensor);
  j.field("dtype", dtype_name(s.input_dtype));
  j.int_array("shape", s.shape);
  j.end_object();
  options_json(j, o);
  const CodeRange r = code_range(o);
  j.begin_object("params");
  j.field("source", "dynamic");
  j.field("qmin", int64_t{r.qmin});
  j.field("qmax", int64_t{r.qmax});
  j.field("axis", s.axis);
  j.int_array("shape", s.param_shape);
  j.field("count", shape_elements(s.param_shape));
  j.field("float_zero_point", s.zero_point_dtype == DType::f32);
  j.end_object();
  j.begin_object("codes");
  j.field("dtype", dtype_name(s.codes_dtype));
  j.int_array("shape", s.shape);
  j.end_object();
  j.end_object();
  return j.finish();
}

std::string_view kernel_table_name() { return kernels::table().name; }

std::string params_json(const Quantized& q, const Evaluation& e, const RunInfo& info) {
  const QuantOptions& o = q.options;
  const QuantParams& p = q.params;
  Json j;
  j.begin_object();

  j.begin_object("qplay");
  j.field("version", info.version);
  j.field("kernels", info.kernels.empty() ? kernel_table_name() : std::string_view(info.kernels));
  j.end_object();

  j.begin_object("input");
  j.field("file", info.input_file);
  j.field("tensor", info.input_tensor);
  j.field("dtype", dtype_name(info.input_dtype));
  j.int_array("shape", info.input_shape);
  j.end_object();

  options_json(j, o);

  if (!o.code.is(Family::integer)) element_json(j, q);
  if (!q.scale_quant.scheme.empty()) double_quant_json(j, q);

  j.begin_object("params");
  j.field("source", info.params_source);
  if (info.observer.empty()) j.null_field("observer");
  else j.field("observer", info.observer);
  j.begin_array("files");
  for (const auto& f : info.params_files) j.item(f);
  j.end_array();
  j.field("qmin", int64_t{q.range.qmin});
  j.field("qmax", int64_t{q.range.qmax});
  j.field("axis", q.plan.axis);
  j.int_array("shape", p.shape);
  j.field("count", static_cast<int64_t>(p.scale.size()));
  j.field("float_zero_point", p.float_zero_point);
  if (static_cast<int64_t>(p.scale.size()) <= kInlineParamLimit) {
    j.begin_array("scale");
    for (float s : p.scale) j.item(s);
    j.end_array();
    j.begin_array("zero_point");
    for (float z : p.zero_point) j.item(z);
    j.end_array();
  }
  j.end_object();

  j.begin_object("codes");
  j.field("dtype", dtype_name(q.codes.dtype));
  j.int_array("shape", q.codes.shape);
  j.end_object();

  const Metrics& m = e.metrics;
  j.begin_object("metrics");
  j.field("mse", m.mse);
  j.field("rmse", m.rmse);
  j.field("sqnr_db", m.sqnr_db);
  j.field("max_abs_error", m.max_abs_error);
  j.field("mean_abs_error", m.mean_abs_error);
  j.field("cosine", m.cosine);
  j.field("clip_rate", m.clip_rate);
  j.field("bits_per_element", m.bits_per_element);
  j.field("elements", m.elements);
  j.field("finite", m.finite);
  j.field("nan", m.nan);
  j.field("pos_inf", m.pos_inf);
  j.field("neg_inf", m.neg_inf);
  j.field("saturated", m.saturated);
  j.field("bytes_before", m.bytes_before);
  j.field("bytes_after", m.bytes_after);
  j.end_object();

  j.end_object();
  return j.finish();
}

Tensor zero_point_tensor(const QuantParams& p) {
  const size_t n = p.scale.size();
  if (!p.zero_point.empty() && p.zero_point.size() != n)
    throw Error("export: " + std::to_string(p.zero_point.size()) + " zero points for " + std::to_string(n) +
                " scales");
  std::vector<float> zero = p.zero_point;
  zero.resize(n, 0.0f);

  if (p.float_zero_point) return f32_tensor(p.shape, zero, "zero_point");
  Tensor zp = make_tensor(DType::i32, p.shape);
  if (static_cast<size_t>(zp.elements()) != n)
    throw Error("export: zero_point holds " + std::to_string(n) + " values for shape " + shape_to_string(p.shape));
  for (size_t i = 0; i < n; ++i) {
    const float z = zero[i];
    if (!(z == std::nearbyint(z) && std::fabs(z) <= 2147483520.0f))
      throw Error("export: integer zero point " + shortest_text(z) + " is not an int32");
    const int32_t v = static_cast<int32_t>(z);
    std::memcpy(zp.bytes.data() + 4 * i, &v, 4);
  }
  return zp;
}

std::vector<uint8_t> export_npz_parts(const Tensor& codes, const Tensor& scale, const Tensor& zero_point,
                                      const Tensor& dequantized, std::string_view params_json,
                                      const std::vector<NpzMember>& extra) {
  const auto fail = [](const std::string& what) { throw Error("export: " + what); };
  const auto describe = [](const Tensor& t) {
    return std::string(dtype_name(t.dtype)) + " " + shape_to_string(t.shape);
  };
  if (codes.dtype != DType::i8 && codes.dtype != DType::u8 && codes.dtype != DType::i16 && codes.dtype != DType::u16)
    fail("codes must be int8, uint8, int16 or uint16 (got " + describe(codes) + ")");
  if (dequantized.dtype != DType::f32 || dequantized.shape != codes.shape)
    fail("dequantized must be float32 shaped like the codes " + shape_to_string(codes.shape) + " (got " +
         describe(dequantized) + ")");
  if (scale.dtype != DType::f32) fail("scale must be float32 (got " + describe(scale) + ")");
  if ((zero_point.dtype != DType::i32 && zero_point.dtype != DType::f32) || zero_point.shape != scale.shape)
    fail("zero_point must be int32 or float32 shaped like the scale " + shape_to_string(scale.shape) + " (got " +
         describe(zero_point) + ")");

  std::vector<ZipMember> members;
  members.emplace_back("codes.npy", write_npy(codes));
  members.emplace_back("scale.npy", write_npy(scale));
  members.emplace_back("zero_point.npy", write_npy(zero_point));
  members.emplace_back("dequantized.npy", write_npy(dequantized));
  members.emplace_back("params.json", std::vector<uint8_t>(params_json.begin(), params_json.end()));
  for (const NpzMember& t : extra) {
    if (!t.name.ends_with(".npy")) fail("extra member '" + t.name + "' must be an .npy");
    members.emplace_back(t.name, write_npy(t.tensor));
  }
  return write_npz(members);
}

std::vector<uint8_t> export_npz(const Quantized& q, std::span<const float> dequantized, const Evaluation& e,
                                const RunInfo& info) {
  const QuantParams& p = q.params;
  const Tensor zp = zero_point_tensor(p);
  const Tensor scale = f32_tensor(p.shape, p.scale, "scale");
  const Tensor deq = f32_tensor(q.codes.shape, dequantized, "dequantized");
  return export_npz_parts(q.codes, scale, zp, deq, params_json(q, e, info), extra_members(q));
}

std::vector<NpzMember> extra_members(const Quantized& q) {
  std::vector<NpzMember> extra;
  if (!q.codebook.empty()) extra.push_back({"codebook.npy", f32_tensor(q.codebook_shape, q.codebook, "codebook")});
  const PackOrder pack = effective_pack(q.options);
  if (pack != PackOrder::none) {
    const std::vector<uint8_t> bytes = q.packed.empty() ? pack_nibbles(q.codes, pack) : q.packed;
    Tensor packed = make_tensor(DType::u8, {int64_t(bytes.size())});
    std::copy(bytes.begin(), bytes.end(), packed.bytes.begin());
    extra.push_back({"packed.npy", std::move(packed)});
  }
  if (q.options.code.is(Family::ggml)) {
    if (!q.offset.empty()) extra.push_back({"offset.npy", f32_tensor(q.params.shape, q.offset, "offset")});
    // [rows, row bytes]: the tensor's rows along its last dim, each ggml_row_bytes long.
    const Shape& shape = q.codes.shape;
    const int64_t last = shape.empty() ? 1 : shape.back();
    const int64_t rows = last ? q.codes.elements() / last : 0;
    Tensor blocks = make_tensor(DType::u8, {rows, rows ? int64_t(q.blocks.size()) / rows : 0});
    if (blocks.bytes.size() != q.blocks.size()) throw Error("export: ggml blocks do not fill whole rows");
    std::copy(q.blocks.begin(), q.blocks.end(), blocks.bytes.begin());
    extra.push_back({"blocks.npy", std::move(blocks)});
  }
  if (q.options.code.is(Family::mx)) {
    Tensor codes = make_tensor(DType::u8, q.params.shape);
    std::copy(q.scale_codes.begin(), q.scale_codes.end(), codes.bytes.begin());
    extra.push_back({"scale_e8m0.npy", std::move(codes)});
  }
  const ScaleQuant& dq = q.scale_quant;
  if (!dq.scheme.empty()) {
    Tensor codes = make_tensor(DType::u8, q.params.shape);
    std::copy(dq.codes.begin(), dq.codes.end(), codes.bytes.begin());
    extra.push_back({"scale_codes.npy", std::move(codes)});
    extra.push_back({"scale_super.npy", f32_tensor({int64_t(dq.super.size())}, dq.super, "scale_super")});
    if (!dq.codebook.empty())
      extra.push_back({"scale_codebook.npy", f32_tensor({int64_t(dq.codebook.size())}, dq.codebook, "scale_codebook")});
  }
  return extra;
}

std::vector<uint8_t> export_safetensors_parts(const std::vector<SafetensorsPart>& parts) {
  std::vector<NamedTensor> tensors;
  Metadata metadata;
  for (const SafetensorsPart& p : parts) {
    const auto fail = [&](const std::string& what) { throw Error("export: part '" + p.name + "': " + what); };
    const auto describe = [](const Tensor& t) {
      return std::string(dtype_name(t.dtype)) + " " + shape_to_string(t.shape);
    };
    if (p.name.empty()) throw Error("export: a safetensors part needs a name");
    const DType c = p.codes.dtype;
    if (c != DType::i8 && c != DType::u8 && c != DType::i16 && c != DType::u16)
      fail("codes must be int8, uint8, int16 or uint16 (got " + describe(p.codes) + ")");
    if (p.scale.dtype != DType::f32) fail("scale must be float32 (got " + describe(p.scale) + ")");
    if ((p.zero_point.dtype != DType::i32 && p.zero_point.dtype != DType::f32) || p.zero_point.shape != p.scale.shape)
      fail("zero_point must be int32 or float32 shaped like the scale " + shape_to_string(p.scale.shape) + " (got " +
           describe(p.zero_point) + ")");
    tensors.push_back({p.name + ".codes", p.codes});
    tensors.push_back({p.name + ".scale", p.scale});
    tensors.push_back({p.name + ".zero_point", p.zero_point});
    metadata.emplace_back("qplay.params." + p.name, p.params_json);
  }
  // write_safetensors rejects duplicate tensor names and metadata keys, so two parts of one name fail.
  return write_safetensors(tensors, metadata);
}

std::vector<uint8_t> export_safetensors(const Quantized& q, const Evaluation& e, const RunInfo& info) {
  SafetensorsPart part;
  part.name = info.input_tensor.empty() ? "array" : info.input_tensor;
  part.codes = q.codes;
  part.scale = f32_tensor(q.params.shape, q.params.scale, "scale");
  part.zero_point = zero_point_tensor(q.params);
  part.params_json = params_json(q, e, info);
  return export_safetensors_parts({part});
}

std::vector<uint8_t> export_gguf_parts(const std::string& name, const Shape& shape, GgmlType type,
                                       const std::vector<uint8_t>& blocks, const std::string& params_json) {
  GgufTensor t;
  t.desc.name = name.empty() ? "array" : name;
  t.desc.shape = shape;
  t.desc.type = ggml_type_id(type);
  t.desc.bytes = blocks.size();
  t.data = blocks;
  const std::vector<GgufKv> metadata = {
      {"general.quantization_version", GgufValue{uint32_t{2}}},
      {"qplay.params", GgufValue{params_json}},
  };
  return write_gguf({t}, metadata);
}

std::vector<uint8_t> export_gguf(const Quantized& q, const Evaluation& e, const RunInfo& info) {
  if (!q.options.code.is(Family::ggml))
    throw Error("export: a .gguf holds ggml block formats; this run is --dtype " + q.options.code.name() +
                " (use --format)");
  return export_gguf_parts(info.input_tensor, q.codes.shape, q.options.code.ggml_type(), q.blocks, params_json(q, e, info));
}

}  // namespace qplay
