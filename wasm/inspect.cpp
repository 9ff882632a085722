// inspect, findElements, groupElements, paramIndex: qplay/inspect.hpp through JS values.
#include "inspect.hpp"

#include <string>
#include <vector>

#include "options.hpp"
#include "qplay/inspect.hpp"

namespace qplay::js {

namespace {

// The run's effective options, validated as quantize() validates them.
QuantOptions run_options(const val& options) { return request_from_js(options, false).request.options; }

struct Input {
  Shape shape;
  std::vector<float> values;
  TensorViewF32 view() const { return {shape, values}; }
};
Input input_from_js(const val& v) {
  if (absent(v) || v.typeOf().as<std::string>() != "object")
    throw Error("the input must be {values, shape} (got " + js_kind(v) + ")");
  Input in;
  in.shape = shape_from_js(v["shape"], "input.shape");
  in.values = floats_from_js(v["values"], "input.values");
  if (shape_elements(in.shape) != int64_t(in.values.size()))
    throw Error("the input has shape " + shape_to_string(in.shape) + " but " + std::to_string(in.values.size()) +
                " values");
  return in;
}

// A result's params object: scale, zeroPoint (Int32Array or Float32Array), floatZeroPoint, shape.
QuantParams params_from_result(const val& p) {
  if (absent(p) || absent(p["scale"])) throw Error("params must be the result's params ({scale, zeroPoint, ...})");
  QuantParams q;
  q.scale = floats_from_js(p["scale"], "params.scale");
  q.zero_point = absent(p["zeroPoint"]) ? std::vector<float>(q.scale.size(), 0.0f)
                                        : floats_from_js(p["zeroPoint"], "params.zeroPoint");
  q.float_zero_point = !absent(p["floatZeroPoint"]) && bool_option(p["floatZeroPoint"], "params.floatZeroPoint");
  if (!absent(p["shape"])) q.shape = shape_from_js(p["shape"], "params.shape");
  return q;
}

int64_t index_from_js(const val& v, const std::string& what) { return int64_t(u64_from_js(v, what)); }

val element_to_js(const InspectedElement& e) {
  val v = val::object();
  v.set("index", double(e.index));
  v.set("group", double(e.group));
  v.set("x", e.x);
  v.set("scale", e.scale);
  v.set("zeroPoint", e.zero_point);
  v.set("scaled", e.scaled);
  v.set("integer", e.integer);
  v.set("shifted", e.shifted);
  v.set("rounded", e.rounded);
  v.set("tie", e.tie);
  v.set("clipped", e.clipped);
  v.set("code", e.integer ? val(e.code) : val::null());
  v.set("dequantized", e.dequantized);
  return v;
}

FindKind find_kind(const std::string& kind) {
  if (kind == "ties") return FindKind::ties;
  if (kind == "clipped") return FindKind::clipped;
  if (kind == "bin") return FindKind::value_range;
  if (kind == "maxError") return FindKind::max_error;
  throw Error("unknown search '" + kind + "' (allowed: ties, clipped, bin, maxError)");
}

double number_or(const val& v, double fallback, const std::string& what) {
  if (absent(v)) return fallback;
  if (!v.isNumber()) throw Error(what + " must be a number (got " + js_kind(v) + ")");
  return v.as<double>();
}

}  // namespace

val inspect_js(val options, val input, val params, val indices) {
  return guarded([&] {
    const QuantOptions o = run_options(options);
    const Input in = input_from_js(input);
    const QuantParams p = params_from_result(params);
    const GranularityPlan plan = plan_granularity(in.shape, o);
    if (!indices.isArray()) throw Error("indices must be an array of element indices (got " + js_kind(indices) + ")");
    val list = val::array();
    const int n = indices["length"].as<int>();
    for (int k = 0; k < n; ++k)
      list.call<void>("push", element_to_js(explain(o, p, plan, in.view(), index_from_js(indices[k], "an index"))));
    val r = success();
    r.set("elements", list);
    return r;
  });
}

val find_elements_js(val options, val input, val params, val query, val dequantized) {
  return guarded([&] {
    const QuantOptions o = run_options(options);
    const Input in = input_from_js(input);
    const QuantParams p = params_from_result(params);
    const GranularityPlan plan = plan_granularity(in.shape, o);
    if (absent(query) || !query["kind"].isString()) throw Error("the search needs {kind: 'ties'|'clipped'|'bin'|'maxError', ...}");
    FindQuery q;
    q.kind = find_kind(query["kind"].as<std::string>());
    q.lo = float(number_or(query["lo"], 0, "lo"));
    q.hi = float(number_or(query["hi"], 0, "hi"));
    q.include_hi = !absent(query["last"]) && bool_option(query["last"], "last");
    q.group = absent(query["group"]) ? -1 : index_from_js(query["group"], "group");
    q.after = absent(query["after"]) ? -1 : index_from_js(query["after"], "after");
    q.limit = absent(query["limit"]) ? q.limit : index_from_js(query["limit"], "limit");
    const std::vector<float> deq = absent(dequantized) ? std::vector<float>{} : floats_from_js(dequantized, "dequantized");
    const FoundElements f = find_elements(o, p, plan, in.view(), q, deq);
    std::vector<double> indices(f.indices.begin(), f.indices.end());
    val r = success();
    r.set("indices", f64_to_js(indices));
    r.set("total", double(f.total));
    return r;
  });
}

val group_elements_js(val options, val shape, val group) {
  return guarded([&] {
    const GranularityPlan plan = plan_granularity(shape_from_js(shape, "shape"), run_options(options));
    const std::vector<int64_t> e = group_elements(plan, index_from_js(group, "group"));
    val r = success();
    r.set("indices", f64_to_js(std::vector<double>(e.begin(), e.end())));
    return r;
  });
}

val param_index_js(val options, val shape, val flat) {
  return guarded([&] {
    const Shape s = shape_from_js(shape, "shape");
    const GranularityPlan plan = plan_granularity(s, run_options(options));
    const int64_t i = index_from_js(flat, "index");
    if (i >= shape_elements(s))
      throw Error("element " + std::to_string(i) + " is out of range (the tensor has " +
                  std::to_string(shape_elements(s)) + " elements)");
    val r = success();
    r.set("group", double(param_index(plan, i)));
    return r;
  });
}

}  // namespace qplay::js
