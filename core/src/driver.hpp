// Glue shared by the params and quantize drivers: code dtypes, kernel specs, per-param operands.
#pragma once

#include <span>
#include <vector>

#include "kernels/kernels.hpp"
#include "qplay/quantize.hpp"

namespace qplay::detail {

// int8/uint8 hold codes of up to 8 bits, int16/uint16 the 16-bit ones.
DType code_dtype(IntType t);

kernels::QuantizeSpec quantize_spec(const QuantOptions& o, CodeRange r);

// What the kernels take per param set: scale_op (s or 1/s), zf (float zero point added before
// rounding), zi (integer zero point added after rounding), and the dequantization zero.
struct KernelParams {
  std::vector<float> scale_op, zf, zi;
};
KernelParams kernel_params(const QuantParams& p, const QuantOptions& o);

// Calls f(T{}) with the C++ type of the code dtype.
template <class F> decltype(auto) with_code_type(DType t, F&& f) {
  switch (t) {
    case DType::i8: return f(int8_t{});
    case DType::u8: return f(uint8_t{});
    case DType::i16: return f(int16_t{});
    default: return f(uint16_t{});
  }
}

// The kernel table entries for code type T.
template <class T> struct CodeKernels;
#define QPLAY_CODE_KERNELS(T, s)                                                                   \
  template <> struct CodeKernels<T> {                                                              \
    static auto quantize_run(const kernels::Table& k) { return k.quantize_run_f32_##s; }           \
    static auto quantize_vec(const kernels::Table& k) { return k.quantize_vec_f32_##s; }           \
    static auto dequantize_run(const kernels::Table& k) { return k.dequantize_run_##s##_f32; }     \
    static auto dequantize_vec(const kernels::Table& k) { return k.dequantize_vec_##s##_f32; }     \
  };
QPLAY_FOR_EACH_CODE_TYPE(QPLAY_CODE_KERNELS)
#undef QPLAY_CODE_KERNELS

// Channels along an axis with at least this many contiguous elements each are processed as runs
// (one param set per kernel call); thinner ones as rows with a param per element.
constexpr int64_t kRunThreshold = 16;

// Visits every element in memory order as visit(element_index, param_group); shared by the
// calibration buckets (params.cpp) and the element quantizers (schemes/elements.cpp).
template <class Visit> void for_each_element(const GranularityPlan& p, Visit&& visit) {
  const int64_t nb = p.granularity == Granularity::block ? (p.dim + p.block - 1) / p.block : 0;
  int64_t e = 0;
  for (int64_t o = 0; o < p.outer; ++o)
    for (int64_t d = 0; d < p.dim; ++d) {
      int64_t g = 0;
      if (p.granularity == Granularity::channel || p.granularity == Granularity::group) g = d / p.group;
      if (p.granularity == Granularity::block) g = (o * nb + d / p.block) * p.inner;
      const bool per_element = p.granularity == Granularity::block;
      for (int64_t i = 0; i < p.inner; ++i, ++e) visit(e, per_element ? g + i : g);
    }
}

// Per-group finite min/max (kernels), and the count of non-finite values seen.
GroupStats group_minmax(std::span<const float> x, const GranularityPlan& plan);

// Dynamic params over an already checked plan. `stats`, when given, must be group_minmax of x
// under `plan`; minmax then needs no pass of its own (quantize_dynamic computes them once for
// both the params and the report).
QuantParams compute_params(const TensorViewF32& x, const QuantOptions& o, const GranularityPlan& plan,
                           const GroupStats* stats);

// Sum of squared error of quantizing `values` with one param set (the run's own quantizer).
double group_sse(std::span<const float> values, float scale, float zero, bool float_zero_point,
                 const QuantOptions& o, CodeRange r);

// --format runs (schemes/ggml_run.cpp): ggml's blocks plus their codes / scale / offset view, and
// the blocks decoded by ggml_dequantize.
Quantized quantize_ggml(const TensorViewF32& x, const QuantOptions& o);
std::vector<float> dequantize_ggml(const Quantized& q);

}  // namespace qplay::detail
