// Whole-file mode. Files larger than the heap, a tensor at a time: describeHead reads the head the page sliced from
// its File, planWholeFile says what happens to each tensor, quantizeTensorBytes takes one tensor's
// stored bytes (File.slice(dataOffset, dataOffset + dataBytes)), and a bundle writer turns results
// into output chunks with their offsets. Plans and results are plain JS objects, so the page can
// hand them between workers; only the writer keeps state here (by id).

#include "wholefile.hpp"

#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "open_file.hpp"
#include "options.hpp"
#include "qplay/export.hpp"
#include "qplay/formats.hpp"
#include "qplay/wholefile.hpp"

namespace qplay::js {

namespace {

val tensor_info_to_js(const TensorInfo& t) {
  val e = val::object();
  e.set("name", t.name);
  e.set("dtype", std::string(dtype_name(t.dtype)));
  e.set("shape", shape_to_js(t.shape));
  e.set("storedType", t.stored_type);
  e.set("loadable", t.loadable);
  e.set("dataOffset", double(t.data_offset));  // exact below 2^53 (8 PiB)
  e.set("dataBytes", double(t.data_bytes));
  e.set("bigEndian", t.big_endian);
  e.set("fortranOrder", t.fortran_order);
  return e;
}

bool flag_from_js(const val& v) { return v.isTrue(); }

TensorInfo tensor_info_from_js(const val& v) {
  if (absent(v) || v.typeOf().as<std::string>() != "object")
    throw Error("a tensor entry must be an object from describeHead or planWholeFile (got " + js_kind(v) + ")");
  TensorInfo t;
  t.name = string_option(v["name"], "name");
  t.dtype = dtype_from_name(string_option(v["dtype"], "dtype"));
  t.shape = shape_from_js(v["shape"], "tensor '" + t.name + "' shape");
  t.stored_type = v["storedType"].isString() ? v["storedType"].as<std::string>() : std::string(dtype_name(t.dtype));
  t.loadable = absent(v["loadable"]) || v["loadable"].isTrue();
  const double offset = v["dataOffset"].isNumber() ? v["dataOffset"].as<double>() : -1;
  t.data_offset = offset >= 0 ? static_cast<int64_t>(offset) : -1;
  t.data_bytes = u64_from_js(v["dataBytes"], "tensor '" + t.name + "' dataBytes");
  t.big_endian = flag_from_js(v["bigEndian"]);
  t.fortran_order = flag_from_js(v["fortranOrder"]);
  return t;
}

val file_info_to_js(const FileInfo& f) {
  val info = val::object();
  info.set("format", std::string(format_name(f.format)));
  info.set("version", f.version);
  val tensors = val::array();
  for (const TensorInfo& t : f.tensors) tensors.call<void>("push", tensor_info_to_js(t));
  info.set("tensors", tensors);
  val metadata = val::array();
  for (const MetadataEntry& m : f.metadata) {
    val e = val::object();
    e.set("key", m.key);
    e.set("type", m.type);
    e.set("value", m.value);
    metadata.call<void>("push", e);
  }
  info.set("metadata", metadata);
  return info;
}

val plan_entry_to_js(const TensorPlan& p) {
  val e = tensor_info_to_js(p.input);
  e.set("quantize", p.quantize);
  e.set("why", p.why);
  e.set("scheme", p.scheme);
  if (p.quantize) {
    // In the user's spelling: plan entries travel to workers (structuredClone) and come back as
    // options objects.
    e.set("options", options_to_js(p.options));
    e.set("codesDtype", std::string(dtype_name(p.codes_dtype)));
    e.set("paramShape", shape_to_js(p.param_shape));
    e.set("zeroPointDtype", std::string(dtype_name(p.zero_point_dtype)));
    e.set("schemeJson", p.scheme_json);
  }
  return e;
}

// A plan entry back from JS: the prediction is recomputed, never trusted.
TensorPlan plan_entry_from_js(const val& v) {
  const TensorInfo t = tensor_info_from_js(v);
  const std::string why = v["why"].isString() ? v["why"].as<std::string>() : std::string();
  if (!v["quantize"].isTrue()) return plan_tensor(t, nullptr, why);
  const QuantOptions o = whole_file_options(v["options"], "tensor '" + t.name + "' options", true);
  return plan_tensor(t, &o, why);
}

WholeFilePlan plan_from_js(const val& entries) {
  if (!entries.isArray()) throw Error("a whole-file plan must be the array planWholeFile returns (got " + js_kind(entries) + ")");
  WholeFilePlan plan;
  const int n = entries["length"].as<int>();
  for (int i = 0; i < n; ++i) plan.tensors.push_back(plan_entry_from_js(entries[i]));
  return plan;
}

val report_to_js(const TensorReport& t) {
  val v = val::object();
  v.set("name", t.name);
  v.set("shape", shape_to_js(t.shape));
  v.set("dtype", std::string(dtype_name(t.dtype)));
  v.set("quantized", t.quantized);
  v.set("scheme", t.scheme);
  v.set("params", double(t.params));
  v.set("mse", t.mse);
  v.set("sqnrDb", t.sqnr_db);
  v.set("maxAbsError", t.max_abs_error);
  v.set("bitsPerElement", t.bits_per_element);
  v.set("bytesBefore", double(t.bytes_before));
  v.set("bytesAfter", double(t.bytes_after));
  return v;
}

double number_from_js(const val& v) { return v.isNumber() ? v.as<double>() : std::nan(""); }

TensorReport report_from_js(const val& v) {
  TensorReport t;
  t.name = string_option(v["name"], "report name");
  t.shape = shape_from_js(v["shape"], "report shape");
  t.dtype = dtype_from_name(string_option(v["dtype"], "report dtype"));
  t.quantized = v["quantized"].isTrue();
  t.scheme = string_option(v["scheme"], "report scheme");
  t.params = static_cast<int64_t>(u64_from_js(v["params"], "report params"));
  t.mse = number_from_js(v["mse"]);
  t.sqnr_db = number_from_js(v["sqnrDb"]);
  t.max_abs_error = number_from_js(v["maxAbsError"]);
  t.bits_per_element = number_from_js(v["bitsPerElement"]);
  t.bytes_before = u64_from_js(v["bytesBefore"], "report bytesBefore");
  t.bytes_after = u64_from_js(v["bytesAfter"], "report bytesAfter");
  return t;
}

// Any tensor's bytes as a Uint8Array (kept tensors of any dtype: bool, f16, bf16, int64...).
val raw_tensor_to_js(const Tensor& t) {
  val v = val::object();
  v.set("dtype", std::string(dtype_name(t.dtype)));
  v.set("shape", shape_to_js(t.shape));
  v.set("bytes", bytes_to_js(t.bytes));
  return v;
}

// The typed array of a part, checked against the plan's dtype and shape.
Tensor part_from_js(const val& v, DType dtype, const Shape& shape, const std::string& what) {
  if (!absent(v) && val::global("ArrayBuffer").call<bool>("isView", v)) {
    Tensor t = make_tensor(dtype, shape);
    const size_t n = v["byteLength"].as<size_t>();
    if (n != t.bytes.size())
      throw Error("bundle: " + what + " holds " + std::to_string(n) + " bytes, the plan says " +
                  std::string(dtype_name(dtype)) + " " + shape_to_string(shape) + " = " + std::to_string(t.bytes.size()));
    copy_from_js(v, t.bytes.data(), n);
    return t;
  }
  throw Error("bundle: " + what + " must be a typed array (got " + js_kind(v) + ")");
}

struct WriterSession {
  std::unique_ptr<BundleWriter> writer;
  std::map<std::string, TensorPlan> plans;
};
std::map<int, WriterSession> g_writers;
int g_next_writer = 1;

WriterSession& writer_of(int id) {
  const auto it = g_writers.find(id);
  if (it == g_writers.end()) throw Error("bundle writer " + std::to_string(id) + " is closed or was never opened");
  return it->second;
}

val chunk_to_js(const OutputChunk& c) {
  val v = val::object();
  v.set("offset", double(c.offset));
  v.set("bytes", bytes_to_js(c.bytes));
  return v;
}

}  // namespace

// describeHead(head, fileSize, raw) -> {ok, info} | {ok, bytesNeeded}
val describe_head_js(val head, double file_size, val raw) {
  return guarded([&] {
    if (!(file_size >= 0 && file_size == std::floor(file_size) && file_size <= 9007199254740991.0))
      throw Error("describeHead: fileSize must be a non-negative integer");
    ReadOptions read;
    read.raw = raw_from_js(raw);
    size_t size = 0;
    const std::unique_ptr<uint8_t[]> bytes = heap_copy(head, size);
    const HeadInfo h = describe_head({bytes.get(), size}, static_cast<uint64_t>(file_size), read);
    val r = success();
    if (h.info) r.set("info", file_info_to_js(*h.info));
    else r.set("bytesNeeded", double(h.bytes_needed));
    return r;
  });
}

// planWholeFile(info, options, overrides) -> {ok, plan}: options and each override's options are the
// user's objects (scheme options only); overrides [{pattern, keep} | {pattern, options}].
val plan_whole_file_js(val info, val options, val overrides) {
  return guarded([&] {
    std::vector<TensorRule> rules;
    if (!absent(overrides)) {
      if (!overrides.isArray()) throw Error("overrides must be an array of {pattern, keep} or {pattern, options}");
      const int m = overrides["length"].as<int>();
      for (int i = 0; i < m; ++i) {
        const val o = overrides[i];
        TensorRule r;
        r.pattern = string_option(o["pattern"], "override pattern");
        r.keep = o["keep"].isTrue();
        if (!r.keep) r.options = whole_file_options(o["options"], "override '" + r.pattern + "'", true);
        rules.push_back(std::move(r));
      }
    }
    const QuantOptions base = whole_file_options(options, "whole-file options", false);
    FileInfo file;
    if (absent(info) || !info["tensors"].isArray()) throw Error("planWholeFile needs the info describeHead returns");
    const int n = info["tensors"]["length"].as<int>();
    for (int i = 0; i < n; ++i) file.tensors.push_back(tensor_info_from_js(info["tensors"][i]));
    const WholeFilePlan plan = plan_whole_file(file, base, rules);
    val list = val::array();
    for (const TensorPlan& p : plan.tensors) list.call<void>("push", plan_entry_to_js(p));
    val r = success();
    r.set("plan", list);
    return r;
  });
}

// quantizeTensorBytes(entry, bytes) -> {ok, name, report, codes, scale, zeroPoint} | {ok, name, report, kept}
val quantize_tensor_bytes_js(val entry, val bytes) {
  return guarded([&] {
    const TensorPlan plan = plan_entry_from_js(entry);
    TensorOutput out;
    {
      size_t size = 0;
      const std::unique_ptr<uint8_t[]> stored = heap_copy(bytes, size);  // freed before the result is copied
      out = process_tensor(plan, std::span<const uint8_t>(stored.get(), size));
    }
    val r = success();
    r.set("name", plan.input.name);
    r.set("report", report_to_js(out.report));
    if (plan.quantize && plan.options.code.is(Family::ggml)) {
      r.set("blocks", bytes_to_js(out.blocks));
    } else if (plan.quantize) {
      r.set("codes", tensor_to_js(out.codes));
      r.set("scale", tensor_to_js(out.scale));
      r.set("zeroPoint", tensor_to_js(out.zero_point));
    } else {
      r.set("kept", raw_tensor_to_js(out.kept));
    }
    return r;
  });
}

// bundleOpen(plan, format) -> {ok, id, header: {offset, bytes}, totalSize | null}
val bundle_open_js(val plan_js, std::string format) {
  return guarded([&] {
    const BundleFormat bundle = parse_bundle_format(format);
    const WholeFilePlan plan = plan_from_js(plan_js);
    WriterSession s;
    s.writer = std::make_unique<BundleWriter>(bundle, plan);
    for (const TensorPlan& p : plan.tensors) s.plans.emplace(p.input.name, p);
    const int id = g_next_writer++;
    val r = success();
    r.set("id", id);
    r.set("header", chunk_to_js(s.writer->header()));
    const std::optional<uint64_t> total = s.writer->total_size();
    r.set("totalSize", total ? val(double(*total)) : val::null());
    g_writers.emplace(id, std::move(s));
    return r;
  });
}

// bundleAdd(id, result) -> {ok, chunks: [{offset, bytes}]}: a result of quantizeTensorBytes.
val bundle_add_js(int id, val result) {
  return guarded([&] {
    WriterSession& s = writer_of(id);
    const std::string name = string_option(result["name"], "result name");
    const auto it = s.plans.find(name);
    if (it == s.plans.end()) throw Error("bundle: tensor '" + name + "' is not in the plan");
    const TensorPlan& p = it->second;
    TensorOutput out;
    if (p.quantize && p.options.code.is(Family::ggml)) {
      const val blocks = result["blocks"];
      if (!is_instance(blocks, "Uint8Array")) throw Error("bundle: tensor '" + name + "' blocks must be a Uint8Array");
      out.blocks.resize(blocks["length"].as<size_t>());
      copy_from_js(blocks, out.blocks.data(), out.blocks.size());
    } else if (p.quantize) {
      out.codes = part_from_js(result["codes"], p.codes_dtype, p.input.shape, "tensor '" + name + "' codes");
      out.scale = part_from_js(result["scale"], DType::f32, p.param_shape, "tensor '" + name + "' scale");
      out.zero_point = part_from_js(result["zeroPoint"], p.zero_point_dtype, p.param_shape, "tensor '" + name + "' zeroPoint");
    } else {
      const val kept = result["kept"];
      if (absent(kept)) throw Error("bundle: tensor '" + name + "' is kept; its result needs `kept`");
      out.kept = part_from_js(kept["bytes"], p.input.dtype, p.input.shape, "tensor '" + name + "' kept bytes");
    }
    const std::vector<OutputChunk> chunks = s.writer->add(name, out);
    val list = val::array();
    for (const OutputChunk& c : chunks) list.call<void>("push", chunk_to_js(c));
    val r = success();
    r.set("chunks", list);
    return r;
  });
}

// bundleFinish(id) -> {ok, chunk}: the .npz central directory (empty for safetensors); closes it.
val bundle_finish_js(int id) {
  return guarded([&] {
    WriterSession& s = writer_of(id);
    const OutputChunk c = s.writer->finish();
    g_writers.erase(id);
    val r = success();
    r.set("chunk", chunk_to_js(c));
    return r;
  });
}

void bundle_close_js(int id) { g_writers.erase(id); }

// reportText(rows, format) -> {ok, text}: the CLI's --report CSV or --json text.
val report_text_js(val rows, std::string format) {
  return guarded([&] {
    if (!rows.isArray()) throw Error("report rows must be an array (got " + js_kind(rows) + ")");
    std::vector<TensorReport> reports;
    const int n = rows["length"].as<int>();
    for (int i = 0; i < n; ++i) reports.push_back(report_from_js(rows[i]));
    std::string text;
    if (format == "csv") {
      text = report_csv_header();
      for (const TensorReport& t : reports) text += report_csv_row(t);
    } else if (format == "json") {
      text = report_json(reports);
    } else {
      throw Error("report format '" + format + "' is not supported (supported: csv, json)");
    }
    val r = success();
    r.set("text", text);
    return r;
  });
}

}  // namespace qplay::js
