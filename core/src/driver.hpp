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

// Per-group finite min/max (kernels), and the count of non-finite values seen.
GroupStats group_minmax(std::span<const float> x, const GranularityPlan& plan);

// Sum of squared error of quantizing `values` with one param set (the run's own quantizer).
double group_sse(std::span<const float> values, float scale, float zero, bool float_zero_point,
                 const QuantOptions& o, CodeRange r);

}  // namespace qplay::detail
