// The benchmark driver, linked twice like the product's modules: against the core with the SIMD
// kernels and against the baseline core. It owns the test data inside the wasm heap and times
// each case in wasm with emscripten_get_now(), so no JS copy or call overhead enters a timing.
// The JS runners (bench/suite.mjs) pick the repetitions, interleave the cases and the two
// builds, and take the medians; this file only knows how to run one case once.
//
// C ABI (Module._bench_*):
//   bench_init()                -> case count, or -1 (bench_error() says why)
//   bench_cases_json()          -> [{id, group, label, bytes, ggml_ref?}], the case list in run
//                                  order (ggml_ref: GGUF id of the case's native ggml _ref peer)
//   bench_info_json()           -> kernels in use and the per-tensor params the peers must use
//   bench_run(i)                -> milliseconds for one run of case i, or -1 on error
//   bench_input()               -> the float32 data (rows x cols, C order) for the JS peers
//   bench_param_array(w, k)     -> given params w (0 tensor, 1 channel axis 0, 2 channel axis 1),
//                                  k = 0 scale, 1 zero point; 1 or `rows` floats
//   bench_reference_codes(w)    -> uint8 codes from the core (0 given per tensor, 1 dynamic per
//                                  tensor, 2 given channel axis 0, 3 given channel axis 1), for
//                                  checking that each peer computes the same thing
#include <emscripten/emscripten.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "data.hpp"
#include "driver.hpp"
#include "kernels/kernels.hpp"
#include "limits.hpp"
#include "kernels/float_kernels.hpp"
#include "qplay/ggml.hpp"
#include "qplay/lut.hpp"
#include "qplay/minifloat.hpp"
#include "qplay/mx.hpp"
#include "qplay/quantize.hpp"

namespace {

using namespace qplay;

// The sizes: a 16 M element tensor (64 MiB of float32) that doubles as a 4096 x 4096
// matrix for the granularities. One buffer serves both views, so every case reads the same bytes.
constexpr int64_t kRows = 4096, kCols = 4096;
constexpr size_t kElements = size_t(kRows * kCols);
constexpr double kInputBytes = double(kElements) * sizeof(float);

// Results are folded in here so no case can be optimized away.
volatile uint64_t g_sink = 0;

// uint8 asymmetric under the onnx profile: exactly what onnxruntime's QuantizeLinear and
// DynamicQuantizeLinear compute (x / s, half to even, saturate), so the peer rows are comparable
// and checkable code for code. The profile changes no hot loop, only the O(params) formulas.
QuantOptions options(Granularity g, int axis = 0, int64_t block = 0, RangeMethod range = RangeMethod::minmax) {
  QuantOptions o;
  o.code = integer_code(parse_int_type("uint8"));
  o.profile = Profile::onnx;
  o.granularity = g;
  o.axis = axis;
  o.block_size = block;
  o.range = range;
  apply_profile(o, {});
  return o;
}

struct Case {
  std::string id, group, label;
  double bytes;                       // float32 bytes the case processes (GB/s are of these)
  std::function<uint64_t()> run;      // returns something to fold into the sink
  uint32_t ggml_ref = 0;              // GGUF type id of ggml's quantize_row_*_ref peer, 0 if none
};

struct State {
  std::vector<float> x;
  TensorViewF32 flat, matrix;
  // Given params (computed once from the data, outside any timing) per granularity.
  QuantParams tensor_params, channel0_params, channel1_params, block32_params, block128_params;
  QuantParams dynamic_tensor_params;  // what quantize_dynamic finds (reported to the peers)
  // Inputs of the dequantize and evaluate cases.
  Quantized q_tensor, q_channel1, q_block32;
  std::vector<float> y_tensor;
  // Kernel scratch, allocated once so the kernel rows time the loops alone.
  std::vector<uint8_t> codes_u8, stream_out, ggml_out, mx_scales;
  std::vector<int8_t> codes_i8;
  std::vector<uint16_t> codes_u16;
  std::vector<float> out_f32;
  std::vector<float> row_scale, row_zf, row_zi, row_min, row_max;
  std::vector<uint64_t> histogram;
  std::vector<uint8_t> reference;
  std::vector<Case> cases;
  std::string json, info, error;
};
State* g = nullptr;

uint64_t fold(const Quantized& q) {
  return q.saturated + q.codes.bytes[q.codes.bytes.size() / 2] + uint64_t(q.params.scale.size());
}

std::string number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void add_cases(State& s) {
  auto add = [&s](std::string id, std::string group, std::string label, std::function<uint64_t()> run) {
    s.cases.push_back({std::move(id), std::move(group), std::move(label), kInputBytes, std::move(run)});
  };
  const kernels::Table& k = kernels::table();
  const float* x = s.x.data();

  // ---- memory limits -------------------------------------------------------------------------
  add("stream", "limit", "stream pass (read f32, write u8, no math)",
      [&s, x] { return uint64_t(qplay_bench::stream_pass(x, kElements, s.stream_out.data())); });
  add("read", "limit", "read pass (read f32 only)", [x] { return uint64_t(qplay_bench::read_pass(x, kElements)); });

  // ---- the core's API, as the product calls it (allocation of the result included) -----------
  const QuantOptions tensor = options(Granularity::tensor);
  const QuantOptions channel0 = options(Granularity::channel, 0), channel1 = options(Granularity::channel, 1);
  const QuantOptions block32 = options(Granularity::block, 1, 32), block128 = options(Granularity::block, 1, 128);
  auto given = [&add](std::string id, std::string label, const TensorViewF32* view, QuantOptions o,
                          const QuantParams* p) {
    add(std::move(id), "given", std::move(label), [view, o, p] { return fold(quantize(*view, *p, o)); });
  };
  auto dynamic = [&add](std::string id, std::string label, const TensorViewF32* view, QuantOptions o) {
    add(std::move(id), "dynamic", std::move(label), [view, o] { return fold(quantize_dynamic(*view, o)); });
  };
  given("given_tensor", "per-tensor, given params", &s.flat, tensor, &s.tensor_params);
  given("given_channel0", "per-channel axis 0 (rows), given", &s.matrix, channel0, &s.channel0_params);
  given("given_channel1", "per-channel axis 1 (columns), given", &s.matrix, channel1, &s.channel1_params);
  given("given_block32", "block 32 along axis 1, given", &s.matrix, block32, &s.block32_params);
  given("given_block128", "block 128 along axis 1, given", &s.matrix, block128, &s.block128_params);
  dynamic("dynamic_tensor", "per-tensor, dynamic (min/max + quantize)", &s.flat, tensor);
  dynamic("dynamic_channel0", "per-channel axis 0, dynamic", &s.matrix, channel0);
  dynamic("dynamic_channel1", "per-channel axis 1, dynamic", &s.matrix, channel1);
  dynamic("dynamic_block32", "block 32 along axis 1, dynamic", &s.matrix, block32);
  dynamic("dynamic_block128", "block 128 along axis 1, dynamic", &s.matrix, block128);
  auto range = [&s, &add](std::string id, std::string label, RangeMethod m) {
    const QuantOptions o = options(Granularity::tensor, 0, 0, m);
    add(std::move(id), "range", std::move(label), [&s, o] { return fold(quantize_dynamic(s.flat, o)); });
  };
  range("range_percentile", "range percentile:99.99, per-tensor dynamic", RangeMethod::percentile);
  range("range_mse", "range mse (100 candidates), per-tensor dynamic", RangeMethod::mse);
  range("range_kl", "range kl, per-tensor dynamic", RangeMethod::kl);
  range("range_aciq", "range aciq, per-tensor dynamic", RangeMethod::aciq);
  add("dequantize_tensor", "api", "dequantize, per-tensor",
      [&s] { return uint64_t(dequantize(s.q_tensor)[kElements / 2] * 1e6f); });
  add("dequantize_channel1", "api", "dequantize, per-channel axis 1",
      [&s] { return uint64_t(dequantize(s.q_channel1)[kElements / 2] * 1e6f); });
  add("dequantize_block32", "api", "dequantize, block 32",
      [&s] { return uint64_t(dequantize(s.q_block32)[kElements / 2] * 1e6f); });
  add("evaluate", "api", "metrics (evaluate: error sums, per-group MSE, 3 histograms)", [&s] {
    const Evaluation e = evaluate(s.flat, s.q_tensor, s.y_tensor);
    return uint64_t(e.metrics.mse * 1e12) + e.original.counts[0];
  });

  // ---- kernels alone, from the active table (simd128 in the SIMD build, scalar in the baseline) --
  kernels::QuantizeSpec u8{};
  u8.qmin = 0;
  u8.qmax = 255;
  const float scale = s.tensor_params.scale[0], zero = s.tensor_params.zero_point[0];
  auto q_kernel = [&add, x](std::string id, std::string label, kernels::QuantizeSpec spec, float scale_op, float zi,
                                     auto kernel, auto* out) {
    add(std::move(id), "kernel", std::move(label),
        [=] { return kernel(x, kElements, scale_op, 0.0f, zi, spec, 0, out) + out[kElements / 2]; });
  };
  q_kernel("k_quantize_u8", "quantize_run_f32_u8 (divide, half-even)", u8, scale, zero, k.quantize_run_f32_u8,
           s.codes_u8.data());
  kernels::QuantizeSpec i8 = u8;
  i8.qmin = -128;
  i8.qmax = 127;
  i8.div = kernels::Div::multiply_inverse;
  q_kernel("k_quantize_i8_inv", "quantize_run_f32_i8 (multiply by 1/s: pytorch)", i8, 1.0f / scale, zero - 128.0f,
           k.quantize_run_f32_i8, s.codes_i8.data());
  kernels::QuantizeSpec away = u8;
  away.round = kernels::Round::half_away;
  q_kernel("k_quantize_u8_away", "quantize_run_f32_u8 (half-away)", away, scale, zero, k.quantize_run_f32_u8,
           s.codes_u8.data());
  kernels::QuantizeSpec stochastic = u8;
  stochastic.round = kernels::Round::stochastic;
  stochastic.seed = 7;
  q_kernel("k_quantize_u8_stochastic", "quantize_run_f32_u8 (stochastic)", stochastic, scale, zero,
           k.quantize_run_f32_u8, s.codes_u8.data());
  kernels::QuantizeSpec u16 = u8;
  u16.qmax = 65535;
  q_kernel("k_quantize_u16", "quantize_run_f32_u16", u16, scale / 256.0f, 32768.0f, k.quantize_run_f32_u16,
           s.codes_u16.data());
  add("k_quantize_vec_u8", "kernel", "quantize_vec_f32_u8 (a param per element, rows of 4096)", [&s, &k, x, u8] {
    uint64_t sat = 0;
    for (int64_t r = 0; r < kRows; ++r)
      sat += k.quantize_vec_f32_u8(x + r * kCols, size_t(kCols), s.row_scale.data(), s.row_zf.data(),
                                   s.row_zi.data(), u8, uint32_t(r * kCols), s.codes_u8.data() + r * kCols);
    return sat + s.codes_u8[kElements / 2];
  });
  add("k_dequantize_u8", "kernel", "dequantize_run_u8_f32", [&s, &k, scale, zero] {
    k.dequantize_run_u8_f32(s.codes_u8.data(), kElements, scale, zero, s.out_f32.data());
    return uint64_t(s.out_f32[kElements / 2] * 1e6f);
  });
  add("k_dequantize_vec_u8", "kernel", "dequantize_vec_u8_f32 (rows of 4096)", [&s, &k] {
    for (int64_t r = 0; r < kRows; ++r)
      k.dequantize_vec_u8_f32(s.codes_u8.data() + r * kCols, size_t(kCols), s.row_scale.data(),
                              s.row_zi.data(), s.out_f32.data() + r * kCols);
    return uint64_t(s.out_f32[kElements / 2] * 1e6f);
  });
  add("k_minmax", "kernel", "minmax_f32", [&k, x] {
    kernels::MinMax m;
    k.minmax_f32(x, kElements, &m);
    return uint64_t(m.max * 1e6f) + m.nonfinite;
  });
  add("k_minmax_rows", "kernel", "minmax_rows_f32 (rows of 4096)", [&s, &k, x] {
    std::fill(s.row_min.begin(), s.row_min.end(), __builtin_inff());
    std::fill(s.row_max.begin(), s.row_max.end(), -__builtin_inff());
    for (int64_t r = 0; r < kRows; ++r) k.minmax_rows_f32(x + r * kCols, size_t(kCols), s.row_min.data(), s.row_max.data());
    return uint64_t(s.row_max[7] * 1e6f);
  });
  add("k_absmax", "kernel", "absmax_f32", [&k, x] {
    float m = 0;
    k.absmax_f32(x, kElements, &m);
    return uint64_t(m * 1e6f);
  });
  add("k_error_sums", "kernel", "error_sums_f32 (x vs dequantized)", [&s, &k, x] {
    kernels::ErrorSums e;
    k.error_sums_f32(x, s.y_tensor.data(), kElements, &e);
    return uint64_t(e.sq_err * 1e12) + e.count;
  });
  add("k_histogram", "kernel", "histogram_f32 (64 bins)", [&s, &k, x] {
    std::fill(s.histogram.begin(), s.histogram.end(), 0);
    k.histogram_f32(x, kElements, -0.3f, 64.0f / 0.6f, 64, s.histogram.data());
    return s.histogram[32];
  });

  // ---- ggml block formats and the float / lookup element encoders (bench/ggml.mjs) -----------
  // ggml: the public ggml_quantize_into (finiteness check included) into a preallocated row, as
  // ggml's quantize_row_*_ref writes into the caller's memory; its native peer is that _ref.
  for (GgmlType t : kGgmlTypes) {
    const std::string name(ggml_type_name(t));
    add("ggml_" + name, "ggml", "ggml " + name + " (ggml_quantize_into)", [&s, t, x] {
      const std::span<uint8_t> out(s.ggml_out.data(), ggml_row_bytes(t, kElements));
      ggml_quantize_into(t, std::span<const float>(x, kElements), out);
      return uint64_t(out[out.size() / 2]);
    });
    s.cases.back().ggml_ref = ggml_type_id(t);
  }
  const kernels::FloatTable& f = kernels::float_table();
  add("fp8_e4m3fn", "float", "fp8 e4m3fn encode (minifloat::encode, saturate)", [&s, x] {
    minifloat::encode(x, kElements, s.codes_u8.data(), minifloat::e4m3fn);
    return uint64_t(s.codes_u8[kElements / 2]);
  });
  add("fp8_e5m2", "float", "fp8 e5m2 encode (minifloat::encode, saturate)", [&s, x] {
    minifloat::encode(x, kElements, s.codes_u8.data(), minifloat::e5m2);
    return uint64_t(s.codes_u8[kElements / 2]);
  });
  add("nf4", "float", "NF4 blockwise 64 (lut::bnb_quantize_4bit: absmax, codes, packed)", [x] {
    const lut::Bnb4Quantized q = lut::bnb_quantize_4bit(x, kElements);
    return uint64_t(q.packed[q.packed.size() / 2]);
  });
  add("k_nf4", "float", "encode_nf4_f32 kernel (one scale)", [&s, &f, x] {
    f.encode_nf4_f32(x, kElements, 8.0f, s.codes_u8.data());
    return uint64_t(s.codes_u8[kElements / 2]);
  });
  auto mx_encode = [&add, &s, x](std::string id, std::string label, mx::Element e) {
    add(std::move(id), "float", std::move(label), [&s, x, e] {
      mx::Options o;
      o.element = e;
      return mx::encode(x, kElements, o, s.mx_scales.data(), s.codes_u8.data()) + s.codes_u8[kElements / 2];
    });
  };
  mx_encode("mxfp4", "MXFP4 encode (mx::encode: scales, codes)", mx::Element::fp4_e2m1);
  mx_encode("mxfp8_e4m3", "MXFP8 E4M3 encode (mx::encode: scales, codes)", mx::Element::fp8_e4m3);
  add("mx_quantize_mxfp4", "float", "MXFP4 mx::quantize (encode, then dequantize for display)", [x] {
    const mx::Quantized q = mx::quantize(x, kElements, mx::Options{});
    return uint64_t(q.codes[kElements / 2]) + q.scales[7];
  });
}

void build_json(State& s) {
  s.json = "[";
  for (size_t i = 0; i < s.cases.size(); ++i) {
    const Case& c = s.cases[i];
    s.json += (i ? ",\n" : "") + std::string("{\"id\":\"") + c.id + "\",\"group\":\"" + c.group +
              "\",\"label\":\"" + c.label + "\",\"bytes\":" + number(c.bytes) +
              (c.ggml_ref ? ",\"ggml_ref\":" + std::to_string(c.ggml_ref) : "") + "}";
  }
  s.json += "]";
  const kernels::Table& k = kernels::table();
  s.info = std::string("{\"kernels\":\"") + k.name + "\",\"simd\":" +
           (kernels::simd128_table() ? "true" : "false") + ",\"rows\":" + std::to_string(kRows) +
           ",\"cols\":" + std::to_string(kCols) + ",\"given_scale\":" + number(s.tensor_params.scale[0]) +
           ",\"given_zero_point\":" + number(s.tensor_params.zero_point[0]) +
           ",\"dynamic_scale\":" + number(s.dynamic_tensor_params.scale[0]) +
           ",\"dynamic_zero_point\":" + number(s.dynamic_tensor_params.zero_point[0]) + "}";
}

int init(State& s) {
  s.x = qplay_bench::make_data(kRows, kCols);
  s.flat = {{int64_t(kElements)}, s.x};
  s.matrix = {{kRows, kCols}, s.x};
  s.tensor_params = compute_params(s.flat, options(Granularity::tensor));
  s.dynamic_tensor_params = s.tensor_params;
  s.channel0_params = compute_params(s.matrix, options(Granularity::channel, 0));
  s.channel1_params = compute_params(s.matrix, options(Granularity::channel, 1));
  s.block32_params = compute_params(s.matrix, options(Granularity::block, 1, 32));
  s.block128_params = compute_params(s.matrix, options(Granularity::block, 1, 128));
  s.q_tensor = quantize(s.flat, s.tensor_params, options(Granularity::tensor));
  s.q_channel1 = quantize(s.matrix, s.channel1_params, options(Granularity::channel, 1));
  s.q_block32 = quantize(s.matrix, s.block32_params, options(Granularity::block, 1, 32));
  s.y_tensor = dequantize(s.q_tensor);
  s.codes_u8.assign(kElements, 0);
  s.stream_out.assign(kElements, 0);
  s.ggml_out.assign(kElements / 32 * 36, 0);  // the largest ggml row: Q8_1
  s.mx_scales.assign(kElements / 32, 0);
  s.codes_i8.assign(kElements, 0);
  s.codes_u16.assign(kElements, 0);
  s.out_f32.assign(kElements, 0.0f);
  // One row's worth of per-element params, as the thin-channel driver spreads them.
  s.row_scale.assign(s.channel1_params.scale.begin(), s.channel1_params.scale.end());
  s.row_zi.assign(s.channel1_params.zero_point.begin(), s.channel1_params.zero_point.end());
  s.row_zf.assign(size_t(kCols), 0.0f);
  s.row_min.assign(size_t(kCols), 0.0f);
  s.row_max.assign(size_t(kCols), 0.0f);
  s.histogram.assign(64, 0);
  add_cases(s);
  build_json(s);
  return int(s.cases.size());
}

}  // namespace

extern "C" {

EMSCRIPTEN_KEEPALIVE int bench_init() {
  if (g) return int(g->cases.size());
  g = new State;
  try {
    return init(*g);
  } catch (const std::exception& e) {
    g->error = e.what();
    return -1;
  }
}

EMSCRIPTEN_KEEPALIVE const char* bench_cases_json() { return g ? g->json.c_str() : "[]"; }
EMSCRIPTEN_KEEPALIVE const char* bench_info_json() { return g ? g->info.c_str() : "{}"; }
EMSCRIPTEN_KEEPALIVE const char* bench_error() { return g ? g->error.c_str() : "bench_init was not called"; }

EMSCRIPTEN_KEEPALIVE double bench_run(int index) {
  if (!g || index < 0 || size_t(index) >= g->cases.size()) return -1;
  try {
    const double start = emscripten_get_now();
    const uint64_t r = g->cases[size_t(index)].run();
    const double ms = emscripten_get_now() - start;
    g_sink = g_sink + r;
    return ms;
  } catch (const std::exception& e) {
    g->error = g->cases[size_t(index)].id + ": " + e.what();
    return -1;
  }
}

EMSCRIPTEN_KEEPALIVE const float* bench_input() { return g ? g->x.data() : nullptr; }

EMSCRIPTEN_KEEPALIVE const float* bench_param_array(int which, int kind) {
  if (!g) return nullptr;
  const QuantParams& p = which == 0 ? g->tensor_params : which == 1 ? g->channel0_params : g->channel1_params;
  return kind == 0 ? p.scale.data() : p.zero_point.data();
}

EMSCRIPTEN_KEEPALIVE const uint8_t* bench_reference_codes(int which) {
  if (!g) return nullptr;
  try {
    Quantized q;
    switch (which) {
      case 0: q = quantize(g->flat, g->tensor_params, options(Granularity::tensor)); break;
      case 1: q = quantize_dynamic(g->flat, options(Granularity::tensor)); break;
      case 2: q = quantize(g->matrix, g->channel0_params, options(Granularity::channel, 0)); break;
      default: q = quantize(g->matrix, g->channel1_params, options(Granularity::channel, 1)); break;
    }
    g->reference = std::move(q.codes.bytes);
    return g->reference.data();
  } catch (const std::exception& e) {
    g->error = e.what();
    return nullptr;
  }
}

}  // extern "C"
