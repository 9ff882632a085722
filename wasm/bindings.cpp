// The JS API of the wasm modules: the EMSCRIPTEN_BINDINGS block alone (the only place that includes
// <emscripten/bind.h>). web/lib/qplay.js wraps it; the functions live beside this file by role:
// convert (JS values), options, open_file (the open file and inputs), run (quantize, calibrate,
// exports), wholefile (a file a tensor at a time). Rules at the boundary: convert.hpp.
#include <emscripten/bind.h>

#include <string>

#include "convert.hpp"
#include "open_file.hpp"
#include "options.hpp"
#include "qplay/build_info.hpp"
#include "qplay/ggml.hpp"
#include "run.hpp"
#include "wholefile.hpp"

namespace {

using emscripten::val;
using namespace qplay;

// buildInfo() -> {version, simd, kernels}: simd says whether this module contains the SIMD kernels,
// kernels names the table dispatch picked ("simd128" or "scalar").
val build_info_js() {
  const BuildInfo b = build_info();
  val info = val::object();
  info.set("version", b.version);
  info.set("simd", b.simd);
  info.set("kernels", b.kernels);
  return info;
}

// value_object fields for the int64 sizes: JS numbers (exact up to 2^53) without BigInt.
double get_group_size(const QuantOptions& o) { return double(o.group_size); }
void set_group_size(QuantOptions& o, double v) { o.group_size = static_cast<int64_t>(v); }
double get_block_size(const QuantOptions& o) { return double(o.block_size); }
void set_block_size(QuantOptions& o, double v) { o.block_size = static_cast<int64_t>(v); }

}  // namespace

EMSCRIPTEN_BINDINGS(qplay) {
  using emscripten::enum_;
  using emscripten::function;
  using emscripten::value_object;

  enum_<Mode>("Mode").value("asymmetric", Mode::asymmetric).value("symmetric", Mode::symmetric);
  enum_<Granularity>("Granularity")
      .value("tensor", Granularity::tensor)
      .value("channel", Granularity::channel)
      .value("group", Granularity::group)
      .value("block", Granularity::block);
  enum_<RoundingMode>("RoundingMode")
      .value("half_even", RoundingMode::half_even)
      .value("half_away", RoundingMode::half_away)
      .value("half_up", RoundingMode::half_up)
      .value("stochastic", RoundingMode::stochastic);
  enum_<DivisionMode>("DivisionMode")
      .value("divide", DivisionMode::divide)
      .value("multiply_inverse", DivisionMode::multiply_inverse);
  enum_<ZeroPointDomain>("ZeroPointDomain")
      .value("integer", ZeroPointDomain::integer)
      .value("floating", ZeroPointDomain::floating);
  enum_<RangeMethod>("RangeMethod")
      .value("minmax", RangeMethod::minmax)
      .value("percentile", RangeMethod::percentile)
      .value("mse", RangeMethod::mse)
      .value("kl", RangeMethod::kl)
      .value("aciq", RangeMethod::aciq);
  enum_<Observer>("Observer").value("minmax", Observer::minmax).value("moving_average", Observer::moving_average);
  enum_<Profile>("Profile")
      .value("custom", Profile::custom)
      .value("seed", Profile::seed)
      .value("pytorch", Profile::pytorch)
      .value("onnx", Profile::onnx)
      .value("ort_tool", Profile::ort_tool)
      .value("bnb", Profile::bnb)
      .value("mx", Profile::mx)
      .value("ggml", Profile::ggml);
  enum_<ScaleRule>("ScaleRule").value("floor", ScaleRule::floor).value("rceil", ScaleRule::rceil);

  enum_<ElementKind>("ElementKind")
      .value("integer", ElementKind::integer)
      .value("minifloat", ElementKind::minifloat)
      .value("lut", ElementKind::lut)
      .value("mx", ElementKind::mx)
      .value("pow2", ElementKind::pow2)
      .value("kmeans", ElementKind::kmeans)
      .value("ggml", ElementKind::ggml);
  enum_<PackOrder>("PackOrder")
      .value("none", PackOrder::none)
      .value("low_first", PackOrder::low_first)
      .value("high_first", PackOrder::high_first)
      .value("gptq", PackOrder::gptq)
      .value("awq", PackOrder::awq)
      .value("ggml", PackOrder::ggml);
  enum_<GgmlType>("GgmlType")
      .value("q8_0", GgmlType::q8_0)
      .value("q8_1", GgmlType::q8_1)
      .value("q4_0", GgmlType::q4_0)
      .value("q4_1", GgmlType::q4_1)
      .value("q5_0", GgmlType::q5_0)
      .value("q5_1", GgmlType::q5_1)
      .value("q2_k", GgmlType::q2_k)
      .value("q3_k", GgmlType::q3_k)
      .value("q4_k", GgmlType::q4_k)
      .value("q5_k", GgmlType::q5_k)
      .value("q6_k", GgmlType::q6_k)
      .value("iq4_nl", GgmlType::iq4_nl)
      .value("mxfp4", GgmlType::mxfp4);

  value_object<IntType>("IntType").field("bits", &IntType::bits).field("signed", &IntType::is_signed);
  value_object<QuantOptions>("QuantOptions")
      .field("dtype", &QuantOptions::dtype)
      .field("mode", &QuantOptions::mode)
      .field("narrow", &QuantOptions::narrow)
      .field("reduceRange", &QuantOptions::reduce_range)
      .field("granularity", &QuantOptions::granularity)
      .field("axis", &QuantOptions::axis)
      .field("groupSize", &get_group_size, &set_group_size)
      .field("blockSize", &get_block_size, &set_block_size)
      .field("range", &QuantOptions::range)
      .field("percentile", &QuantOptions::percentile)
      .field("rounding", &QuantOptions::rounding)
      .field("seed", &QuantOptions::seed)
      .field("zeroPointDomain", &QuantOptions::zero_point_domain)
      .field("profile", &QuantOptions::profile)
      .field("bins", &QuantOptions::histogram_bins)
      .field("division", &QuantOptions::division)
      .field("element", &QuantOptions::element)
      .field("elementName", &QuantOptions::element_name)
      .field("saturate", &QuantOptions::saturate)
      .field("elementBits", &QuantOptions::element_bits)
      .field("pack", &QuantOptions::pack)
      .field("scaleRule", &QuantOptions::scale_rule)
      .field("doubleQuant", &QuantOptions::double_quant)
      .field("ggmlType", &QuantOptions::ggml_type);
  value_object<CalibrationOptions>("CalibrationOptions")
      .field("observer", &CalibrationOptions::observer)
      .field("averagingConstant", &CalibrationOptions::averaging_constant);

  function("buildInfo", &build_info_js);
  function("parseOptions", &js::parse_options);
  function("parseObserver", &js::parse_observer_js);
  function("openFile", &js::open_file);
  function("closeFile", &js::close_file);
  function("tensorValues", &js::tensor_values);
  function("quantize", &js::quantize_js);
  function("calibrate", &js::calibrate_js);
  function("exportNpz", &js::export_npz_js);
  function("exportSafetensors", &js::export_safetensors_js);
  function("describeHead", &js::describe_head_js);
  function("planWholeFile", &js::plan_whole_file_js);
  function("quantizeTensorBytes", &js::quantize_tensor_bytes_js);
  function("bundleOpen", &js::bundle_open_js);
  function("bundleAdd", &js::bundle_add_js);
  function("bundleFinish", &js::bundle_finish_js);
  function("bundleClose", &js::bundle_close_js);
  function("reportText", &js::report_text_js);
  function("exportGguf", &js::export_gguf_js);
}
