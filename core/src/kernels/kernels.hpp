// Hot loops. Each op has <op>__scalar (the specification) and <op>__simd128 (wasm_simd128 intrinsics;
// natively compiled through SIMDe) that must agree bit for bit. QPLAY_KERNELS lists every op once; the
// dispatch table and the equivalence tests are generated from it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace qplay::kernels {

// ---- rounding and division ----------------------------------------------------------------------
enum class Round : uint8_t {
  half_even,   // nearbyint in the default FP mode == f32x4.nearest
  half_away,   // C roundf: ties away from zero
  half_up,     // exact floor(t + 0.5): ties toward +inf (computed without the t + 0.5 float rounding)
  stochastic,  // floor(t + u), u = stochastic_uniform(seed, element index) in [0, 1)
};
enum class Div : uint8_t {
  divide,            // t = x / s            (ONNX, onnxruntime tool, numpy)
  multiply_inverse,  // t = x * inv, inv = 1.0f / s computed once in float32 (PyTorch, FBGEMM)
};
enum class NanCode : uint8_t {
  as_zero,  // NaN is quantized as if it were 0.0f (its code dequantizes to ~0)
  qmin,     // NaN -> qmin (ONNX saturate rule used by our onnx profile)
};

// u in [0, 1) for stochastic rounding: a 32-bit integer hash of (seed, index), top 24 bits * 2^-24.
// Counter-based so any chunking or vector width gives the same u for the same element.
float stochastic_uniform(uint32_t seed, uint32_t index) noexcept;

// The quantization of one element, shared by all quantize kernels (the spec, written once):
//   t  = (div == divide ? x / s : x * inv) + zf       (float32)
//   r  = round(t)                                    (float32, per Round)
//   q  = clamp(r + zi, qmin, qmax)                   (float32, exact: small integers)
//   NaN x -> code of x = 0 (NanCode::as_zero) or qmin (NanCode::qmin); +-inf saturate naturally.
//   `saturated` counts finite x whose r + zi fell outside [qmin, qmax] (the clip rate).
// Integer zero points use (zf, zi) = (0, z); float zero points (torch float_qparams, HQQ) use (zp, 0).
// `scale_op` is s for divide and 1/s for multiply_inverse (the driver computes it once per param).
struct QuantizeSpec {
  Round round = Round::half_even;
  Div div = Div::divide;
  NanCode nan = NanCode::as_zero;
  float qmin = 0, qmax = 255;  // as floats: exact for every supported width
  uint32_t seed = 0;           // stochastic only
};

// One param set for a run of n elements. index0 = global element index of x[0] (stochastic rounding).
// Returns the number of saturated finite elements.
#define QPLAY_QUANTIZE_RUN_DECL(T, suffix)                                                            \
  uint64_t quantize_run_f32_##suffix(const float* x, size_t n, float scale_op, float zf, float zi,   \
                                     const QuantizeSpec& spec, uint32_t index0, T* out) noexcept
// One param set per element: scale_op[i], zf[i], zi[i] apply to x[i] (inner-axis per-channel, blocks
// across an inner axis). Same element rule as above.
#define QPLAY_QUANTIZE_VEC_DECL(T, suffix)                                                            \
  uint64_t quantize_vec_f32_##suffix(const float* x, size_t n, const float* scale_op,               \
                                     const float* zf, const float* zi, const QuantizeSpec& spec,    \
                                     uint32_t index0, T* out) noexcept
// y = (float(q) - zero) * scale, float32; zero = z (int domain, exact) or the float zero point.
#define QPLAY_DEQUANTIZE_RUN_DECL(T, suffix)                                                          \
  void dequantize_run_##suffix##_f32(const T* q, size_t n, float scale, float zero, float* y) noexcept
#define QPLAY_DEQUANTIZE_VEC_DECL(T, suffix)                                                          \
  void dequantize_vec_##suffix##_f32(const T* q, size_t n, const float* scale, const float* zero,    \
                                     float* y) noexcept

// ---- reductions ---------------------------------------------------------------------------------
struct MinMax {
  float min = __builtin_inff();   // over finite values only
  float max = -__builtin_inff();
  uint64_t nonfinite = 0;         // NaN and +-inf seen
};
// Folds x[0..n) into *acc (acc may already hold a partial result).
#define QPLAY_MINMAX_DECL void minmax_f32(const float* x, size_t n, MinMax* acc) noexcept
// Elementwise: for finite x[i]: mn[i] = min(mn[i], x[i]), mx[i] = max(mx[i], x[i]). Used for the
// inner-axis granularities: one row of `n` elements, each with its own param group.
#define QPLAY_MINMAX_ROWS_DECL void minmax_rows_f32(const float* x, size_t n, float* mn, float* mx) noexcept
// max |x| over finite values, folded into *acc (start at 0).
#define QPLAY_ABSMAX_DECL void absmax_f32(const float* x, size_t n, float* acc) noexcept

// Error sums between original x and reconstruction y over elements where both are finite.
// Spec for sums: four double accumulators, element i goes to lane i % 4, each term computed as
// double(x) op double(y); at the end sum = (lane0 + lane2) + (lane1 + lane3). Max is order-free.
struct ErrorSums {
  double sq_err = 0;    // sum (x - y)^2
  double abs_err = 0;   // sum |x - y|
  double sq_x = 0;      // sum x^2
  double sq_y = 0;      // sum y^2
  double xy = 0;        // sum x*y
  double max_abs = 0;   // max |x - y|
  uint64_t count = 0;   // elements counted
};
// Sums over one call (the driver combines calls in a fixed order so results do not depend on SIMD).
#define QPLAY_ERROR_SUMS_DECL void error_sums_f32(const float* x, const float* y, size_t n, ErrorSums* out) noexcept

// Histogram of finite x over [lo, hi] with `bins` bins: b = (int)floor((x - lo) * inv_width),
// inv_width = bins / (hi - lo) in float32, clamped to [0, bins - 1]; values outside [lo, hi] are
// counted in the edge bins. NaN/inf skipped. counts[] is accumulated into.
#define QPLAY_HISTOGRAM_DECL                                                                          \
  void histogram_f32(const float* x, size_t n, float lo, float inv_width, uint32_t bins,             \
                     uint64_t* counts) noexcept

// Every op, once. X(name) expands to the declaration macro of that op.
#define QPLAY_FOR_EACH_CODE_TYPE(X) X(int8_t, i8) X(uint8_t, u8) X(int16_t, i16) X(uint16_t, u16)

#define QPLAY_DECLARE_KERNELS(SUFFIX)                                                                 \
  namespace SUFFIX {                                                                                  \
  QPLAY_FOR_EACH_CODE_TYPE(QPLAY_KERNEL_Q_RUN)                                                        \
  QPLAY_FOR_EACH_CODE_TYPE(QPLAY_KERNEL_Q_VEC)                                                        \
  QPLAY_FOR_EACH_CODE_TYPE(QPLAY_KERNEL_DQ_RUN)                                                       \
  QPLAY_FOR_EACH_CODE_TYPE(QPLAY_KERNEL_DQ_VEC)                                                       \
  QPLAY_MINMAX_DECL;                                                                                  \
  QPLAY_MINMAX_ROWS_DECL;                                                                             \
  QPLAY_ABSMAX_DECL;                                                                                  \
  QPLAY_ERROR_SUMS_DECL;                                                                              \
  QPLAY_HISTOGRAM_DECL;                                                                               \
  }
#define QPLAY_KERNEL_Q_RUN(T, s) QPLAY_QUANTIZE_RUN_DECL(T, s);
#define QPLAY_KERNEL_Q_VEC(T, s) QPLAY_QUANTIZE_VEC_DECL(T, s);
#define QPLAY_KERNEL_DQ_RUN(T, s) QPLAY_DEQUANTIZE_RUN_DECL(T, s);
#define QPLAY_KERNEL_DQ_VEC(T, s) QPLAY_DEQUANTIZE_VEC_DECL(T, s);

// The variants live in namespaces qplay::kernels::scalar and qplay::kernels::simd128, so the names
// read quantize_run_f32_u8 in code and scalar::/simd128:: say which twin; the symbol names in the
// X-macro tests print as "quantize_run_f32_u8__scalar" / "__simd128".
QPLAY_DECLARE_KERNELS(scalar)
#if QPLAY_HAVE_SIMD128
QPLAY_DECLARE_KERNELS(simd128)
#endif

// Runtime dispatch: the SIMD twin when the build has it (wasm SIMD build, native via SIMDe), unless
// force_scalar(true) was called (benchmarks and the "scalar" build info use this).
struct Table {
#define QPLAY_TABLE_Q(T, s)                                                                           \
  uint64_t (*quantize_run_f32_##s)(const float*, size_t, float, float, float, const QuantizeSpec&,  \
                                   uint32_t, T*) noexcept;                                                    \
  uint64_t (*quantize_vec_f32_##s)(const float*, size_t, const float*, const float*, const float*,  \
                                   const QuantizeSpec&, uint32_t, T*) noexcept;                               \
  void (*dequantize_run_##s##_f32)(const T*, size_t, float, float, float*) noexcept;                          \
  void (*dequantize_vec_##s##_f32)(const T*, size_t, const float*, const float*, float*) noexcept;
  QPLAY_FOR_EACH_CODE_TYPE(QPLAY_TABLE_Q)
#undef QPLAY_TABLE_Q
  void (*minmax_f32)(const float*, size_t, MinMax*) noexcept;
  void (*minmax_rows_f32)(const float*, size_t, float*, float*) noexcept;
  void (*absmax_f32)(const float*, size_t, float*) noexcept;
  void (*error_sums_f32)(const float*, const float*, size_t, ErrorSums*) noexcept;
  void (*histogram_f32)(const float*, size_t, float, float, uint32_t, uint64_t*) noexcept;
  const char* name;  // "simd128" or "scalar"
};
const Table& table();           // the active table
const Table& scalar_table();
const Table* simd128_table();   // nullptr when the build has no SIMD twin
void force_scalar(bool on);
bool simd_available();
// Which of a kernel family's two tables to use (float_kernels.hpp, ggml_kernels.hpp): the twin
// table() currently hands out, so force_scalar() switches every family at once.
template <class FamilyTable>
const FamilyTable& same_twin_as_table(const FamilyTable& scalar, const FamilyTable* simd) {
  return simd && &table() != &scalar_table() ? *simd : scalar;
}

// Combines a and b in that order (sums add, max takes the larger, count adds).
void merge(ErrorSums& into, const ErrorSums& from);

}  // namespace qplay::kernels
