// quantize, calibrate and the exports of one result (.npz, .safetensors, .gguf).
#include "run.hpp"

#include <optional>
#include <span>
#include <utility>

#include "open_file.hpp"
#include "options.hpp"
#include "qplay/export.hpp"
#include "qplay/formats.hpp"
#include "qplay/quantize.hpp"
#include "qplay/request.hpp"

namespace qplay::js {

namespace {

val histogram_to_js(const Histogram& h) {
  val v = val::object();
  v.set("lo", h.lo);
  v.set("hi", h.hi);
  v.set("counts", u64_to_js(h.counts));
  return v;
}

val metrics_to_js(const Metrics& m) {
  val v = val::object();
  v.set("mse", m.mse);
  v.set("rmse", m.rmse);
  v.set("sqnrDb", m.sqnr_db);
  v.set("maxAbsError", m.max_abs_error);
  v.set("meanAbsError", m.mean_abs_error);
  v.set("cosine", m.cosine);
  v.set("clipRate", m.clip_rate);
  v.set("bitsPerElement", m.bits_per_element);
  v.set("elements", double(m.elements));
  v.set("finite", double(m.finite));
  v.set("nan", double(m.nan));
  v.set("posInf", double(m.pos_inf));
  v.set("negInf", double(m.neg_inf));
  v.set("saturated", double(m.saturated));
  v.set("bytesBefore", double(m.bytes_before));
  v.set("bytesAfter", double(m.bytes_after));
  return v;
}

// The params section of a result or of calibrate: the arrays and where they came from.
val params_to_js(const QuantParams& p, const RunInfo& info, const CodeRange& range, int axis) {
  val v = val::object();
  v.set("source", info.params_source);
  v.set("observer", info.observer.empty() ? val::null() : val(info.observer));
  v.set("files", string_array(info.params_files));
  v.set("shape", shape_to_js(p.shape));
  v.set("scale", f32_to_js(p.scale));
  v.set("zeroPoint", tensor_to_js(zero_point_tensor(p)));
  v.set("floatZeroPoint", p.float_zero_point);
  v.set("qmin", range.qmin);
  v.set("qmax", range.qmax);
  v.set("axis", axis);
  return v;
}

// The typed arrays a part of a bundle may arrive as, and the dtype each gives.
using ArrayChoice = std::pair<const char*, DType>;
constexpr ArrayChoice kCodeArrays[] = {
    {"Int8Array", DType::i8}, {"Uint8Array", DType::u8}, {"Int16Array", DType::i16}, {"Uint16Array", DType::u16}};
constexpr ArrayChoice kZeroPointArrays[] = {{"Int32Array", DType::i32}, {"Float32Array", DType::f32}};
constexpr ArrayChoice kF32Array[] = {{"Float32Array", DType::f32}};
constexpr ArrayChoice kU8Array[] = {{"Uint8Array", DType::u8}};

// A JS typed array (one of `allowed`) as a tensor of `shape`, copied into the heap.
Tensor tensor_from_js(const val& v, const Shape& shape, const std::string& what, std::span<const ArrayChoice> allowed) {
  std::string names;
  for (const auto& [ctor, dtype] : allowed) {
    if (is_instance(v, ctor)) {
      Tensor t = make_tensor(dtype, shape);
      const size_t length = v["length"].as<size_t>();
      if (static_cast<int64_t>(length) != t.elements())
        throw Error("export: " + what + " holds " + std::to_string(length) + " values for shape " +
                    shape_to_string(shape));
      copy_from_js(v, t.bytes.data(), t.bytes.size());
      return t;
    }
    names += (names.empty() ? "" : " or ") + std::string(ctor);
  }
  throw Error("export: " + what + " must be " + names + " (got " + js_kind(v) + ")");
}

std::string params_json_from_js(const val& parts) {
  if (!parts["paramsJson"].isString()) throw Error("export: paramsJson must be the result's params.json text");
  return parts["paramsJson"].as<std::string>();
}

// The bundle members a run adds after params.json (extra_members), as [{name, dtype, shape, data}]:
// one list in the bundle's order, with no code per member (qplay.js derives the named result keys).
val members_to_js(const std::vector<NpzMember>& members) {
  val list = val::array();
  for (const NpzMember& m : members) {
    val e = val::object();
    e.set("name", m.name);
    e.set("dtype", std::string(dtype_name(m.tensor.dtype)));
    e.set("shape", shape_to_js(m.tensor.shape));
    e.set("data", tensor_to_js(m.tensor));
    list.call<void>("push", e);
  }
  return list;
}

// A result's `members` back as NpzMembers, in the same order. Each entry's dtype is its `dtype`
// string when given (the typed array must then be that dtype's), else the typed array's; its shape
// must hold exactly the array's values.
std::vector<NpzMember> members_from_js(const val& list) {
  if (!list.isArray())
    throw Error("export: members must be the result's array of {name, dtype, shape, data} (got " + js_kind(list) + ")");
  std::vector<NpzMember> members;
  const int n = list["length"].as<int>();
  for (int i = 0; i < n; ++i) {
    const val m = list[i];
    const std::string at = "export: member " + std::to_string(i + 1);
    for (const auto& key : keys_of(m, at))
      if (key != "name" && key != "dtype" && key != "shape" && key != "data")
        throw Error(at + " has an unknown key '" + key + "' (allowed: name, dtype, shape, data)");
    if (!m["name"].isString() || m["name"].as<std::string>().empty())
      throw Error(at + " needs a name (its file name in the bundle, e.g. codebook.npy)");
    const std::string name = m["name"].as<std::string>();
    const std::string what = "member '" + name + "'";
    DType dtype;
    if (absent(m["dtype"])) {
      const std::optional<DType> held = typed_array_dtype(m["data"]);
      if (!held) throw Error("export: " + what + " data must be a typed array (got " + js_kind(m["data"]) + ")");
      dtype = *held;
    } else {
      dtype = dtype_from_name(string_option(m["dtype"], (what + " dtype").c_str()));
      if (!typed_array_name(dtype))
        throw Error("export: " + what + " dtype " + std::string(dtype_name(dtype)) + " has no JS typed array");
    }
    const ArrayChoice held_array[] = {{typed_array_name(dtype), dtype}};
    const Shape shape = shape_from_js(m["shape"], "export: " + what + " shape");
    members.push_back({name, tensor_from_js(m["data"], shape, what, held_array)});
  }
  return members;
}

}  // namespace

// quantize(source, options, fileName) -> the whole run of the CLI's `quantize`, returned as JS arrays.
// source {tensor} | {values, shape, name}; options: the user's object (its fileName, when given,
// names the input instead of `file_name`). The params source (dynamic, given, calibrated) is the
// core run()'s.
val quantize_js(val source, val options, std::string file_name) {
  return guarded([&] {
    const JsRequest js = request_from_js(options, false);
    if (js.file_name_given) file_name = js.request.input;

    Input in;
    load_input(in, source, source["tensor"].isString() ? source["tensor"].as<std::string>() : std::string(), false,
               file_name);
    RunInfo about;
    about.input_file = file_name;
    about.input_tensor = in.name;
    about.input_shape = in.shape;
    about.input_dtype = in.dtype;
    about.observer = js.observer;
    about.params_files = js.files;
    const RunResult done = run(js.request, in.view, std::move(about));
    const Quantized& q = done.q;
    const std::vector<float>& deq = done.dequantized;
    const Evaluation& e = done.eval;
    const RunInfo& info = done.info;

    val r = success();
    r.set("shape", shape_to_js(q.codes.shape));
    r.set("codes", tensor_to_js(q.codes));
    r.set("codesDtype", std::string(dtype_name(q.codes.dtype)));
    const val p = params_to_js(q.params, info, q.range, q.plan.axis);
    r.set("scale", p["scale"]);
    r.set("zeroPoint", p["zeroPoint"]);
    r.set("dequantized", f32_to_js(deq));
    r.set("params", p);
    r.set("metrics", metrics_to_js(e.metrics));
    val h = val::object();
    h.set("original", histogram_to_js(e.original));
    h.set("dequantized", histogram_to_js(e.dequantized));
    h.set("error", histogram_to_js(e.error));
    r.set("histograms", h);
    r.set("groupMse", f64_to_js(e.group_mse));
    if (q.group_stats.min.empty()) {
      r.set("groupStats", val::null());
    } else {
      val g = val::object();
      g.set("min", f32_to_js(q.group_stats.min));
      g.set("max", f32_to_js(q.group_stats.max));
      r.set("groupStats", g);
    }
    r.set("options", options_to_js(q.options));
    r.set("division", std::string(division_name(q.options.division)));
    val input = val::object();
    input.set("file", info.input_file);
    input.set("tensor", info.input_tensor);
    input.set("dtype", std::string(dtype_name(info.input_dtype)));
    input.set("shape", shape_to_js(info.input_shape));
    r.set("input", input);
    r.set("kernels", std::string(kernel_table_name()));
    r.set("paramsJson", params_json(q, e, info));
    // What the .npz adds after params.json (codebook.npy, packed.npy, ...): one list, in its order.
    r.set("members", members_to_js(extra_members(q)));
    return r;
  });
}

// calibrate(specs, options, observer) -> {ok, params}: the CLI's --calibrate. Each spec is {tensor} |
// {values, shape} | {bytes}, with fileName (may be empty) for messages and params.files; the
// options' tensor picks the tensor of a {bytes} file; observer is the --observer text.
val calibrate_js(val specs, val options, val observer) {
  return guarded([&] {
    const JsRequest js = request_from_js(options, true);
    const QuantOptions& o = js.request.options;
    const CalibrationOptions c = parse_observer(string_option(observer, "--observer"));
    const std::string& wanted = js.request.tensor;
    if (!specs.isArray()) throw Error("calibrate needs an array of tensors (got " + js_kind(specs) + ")");
    const int n = specs["length"].as<int>();
    std::vector<Input> inputs(static_cast<size_t>(n));
    std::vector<std::string> files;
    for (int i = 0; i < n; ++i) {
      const val spec = specs[i];
      const std::string file = spec["fileName"].isString() ? spec["fileName"].as<std::string>() : std::string();
      const bool from_open_file = spec["tensor"].isString();
      load_input(inputs[i], spec, from_open_file ? spec["tensor"].as<std::string>() : wanted, !from_open_file, file);
      if (!file.empty()) files.push_back(file);
    }
    std::vector<TensorViewF32> views;
    for (const Input& in : inputs) views.push_back(in.view);
    const QuantParams p = calibrate_params(views, o, c);
    RunInfo info;
    info.params_source = params_kind_name(ParamsKind::calibrated);
    info.observer = observer_name(c);
    info.params_files = files;
    val r = success();
    r.set("params", params_to_js(p, info, code_range(o), plan_granularity(views[0].shape, o).axis));
    return r;
  });
}

// ---- export ------------------------------------------------------------------------------------------

// exportNpz({codes, shape, scale, zeroPoint, paramShape, dequantized, paramsJson, members}) -> {ok, bytes}:
// the CLI's bundle; `members` is the result's list of the members after params.json.
val export_npz_js(val parts) {
  return guarded([&] {
    const Shape shape = shape_from_js(parts["shape"], "export: shape");
    const Shape param_shape = shape_from_js(parts["paramShape"], "export: params.shape");
    const Tensor codes = tensor_from_js(parts["codes"], shape, "codes", kCodeArrays);
    const Tensor scale = tensor_from_js(parts["scale"], param_shape, "scale", kF32Array);
    const Tensor zero = tensor_from_js(parts["zeroPoint"], param_shape, "zeroPoint", kZeroPointArrays);
    const Tensor deq = tensor_from_js(parts["dequantized"], shape, "dequantized", kF32Array);
    const std::string json = params_json_from_js(parts);
    const std::vector<NpzMember> extra = members_from_js(parts["members"]);
    val r = success();
    r.set("bytes", bytes_to_js(export_npz_parts(codes, scale, zero, deq, json, extra)));
    return r;
  });
}

// exportSafetensors({name, codes, shape, scale, zeroPoint, paramShape, paramsJson}) -> {ok, bytes}:
// the CLI's `-o OUT.safetensors` bundle of one run.
val export_safetensors_js(val parts) {
  return guarded([&] {
    const Shape shape = shape_from_js(parts["shape"], "export: shape");
    const Shape param_shape = shape_from_js(parts["paramShape"], "export: params.shape");
    SafetensorsPart part;
    part.name = parts["name"].isString() && !parts["name"].as<std::string>().empty() ? parts["name"].as<std::string>()
                                                                                     : std::string("array");
    part.codes = tensor_from_js(parts["codes"], shape, "codes", kCodeArrays);
    part.scale = tensor_from_js(parts["scale"], param_shape, "scale", kF32Array);
    part.zero_point = tensor_from_js(parts["zeroPoint"], param_shape, "zeroPoint", kZeroPointArrays);
    part.params_json = params_json_from_js(parts);
    val r = success();
    r.set("bytes", bytes_to_js(export_safetensors_parts({part})));
    return r;
  });
}

// exportGguf({name, shape, format, blocks, paramsJson}) -> {ok, bytes}: the CLI's -o X.gguf.
val export_gguf_js(val parts) {
  return guarded([&] {
    const Shape shape = shape_from_js(parts["shape"], "export: shape");
    if (!parts["format"].isString()) throw Error("export: a .gguf needs a result of a --format run");
    const GgmlType type = parse_ggml_type(parts["format"].as<std::string>());
    const Shape blocks_shape = shape_from_js(parts["blocksShape"], "export: blocksShape");
    const Tensor blocks = tensor_from_js(parts["blocks"], blocks_shape, "blocks", kU8Array);
    const std::string json = params_json_from_js(parts);
    const std::string name = parts["name"].isString() ? parts["name"].as<std::string>() : std::string();
    val r = success();
    r.set("bytes", bytes_to_js(export_gguf_parts(name, shape, type, blocks.bytes, json)));
    return r;
  });
}

}  // namespace qplay::js
