// Hot loops of the floating-point and lookup-table element formats, each as <op>__scalar (the
// specification, float_scalar.cpp) and <op>__simd128 (float_simd128.cpp: wasm_simd128 intrinsics,
// natively through SIMDe) that must agree bit for bit. A separate list from kernels.hpp so the
// integer kernels' table keeps its shape; QPLAY_FLOAT_KERNELS lists every op once and drives the
// declarations, the tables and the equivalence tests.
#pragma once

#include <cstddef>
#include <cstdint>

namespace qplay::kernels {

// FP8 E4M3FN / E5M2 encode, half-to-even, with the ONNX saturate switch (minifloat::encode with
// EncodeOptions{saturate}): one code per input.
#define QPLAY_ENCODE_E4M3FN_DECL void encode_e4m3fn_f32(const float* x, size_t n, bool saturate, uint8_t* out) noexcept
#define QPLAY_ENCODE_E5M2_DECL void encode_e5m2_f32(const float* x, size_t n, bool saturate, uint8_t* out) noexcept
// FP8 decode: exact; NaN codes -> quiet NaN with the code's sign (0x7FC00000 / 0xFFC00000).
#define QPLAY_DECODE_E4M3FN_DECL void decode_e4m3fn_f32(const uint8_t* codes, size_t n, float* out) noexcept
#define QPLAY_DECODE_E5M2_DECL void decode_e5m2_f32(const uint8_t* codes, size_t n, float* out) noexcept
// FP4 E2M1 encode (ONNX float4.md): half-to-even within +-6, beyond -> +-6, NaN -> 0x7. One
// unpacked 4-bit code per byte.
#define QPLAY_ENCODE_E2M1_DECL void encode_e2m1_f32(const float* x, size_t n, uint8_t* out) noexcept
// NF4 (bitsandbytes) by thresholds: s = x * mul (float32); code = the number of the 15 NF4
// midpoints strictly below s (ties go to the lower code, as torch.bucketize and the CUDA tree);
// NaN s -> 15 (torch.bucketize puts NaN past the last boundary). Clamping s to [-1, 1] first, as
// bitsandbytes does, changes no code: every midpoint lies strictly inside.
#define QPLAY_ENCODE_NF4_DECL void encode_nf4_f32(const float* x, size_t n, float mul, uint8_t* out) noexcept
// MXFP4 blocks of 32 (the caller pads a partial tail block with zeros). Per block: when every
// element is finite, scale code e = floor(log2(amax)) - 2 + 127 clamped to [0, 254] (amax = 0 ->
// 0); elements t = x * 2^-(e - 127) in float32, then E2M1 encode with saturation, half-to-even or
// half-away by `half_away`. A block with NaN or +-Inf: scale 0xFF and element codes 0.
#define QPLAY_ENCODE_MXFP4_DECL                                                                      \
  void encode_mxfp4_f32(const float* x, size_t blocks, bool half_away, uint8_t* scales,             \
                        uint8_t* codes) noexcept
// MXFP8 blocks of 32, as MXFP4 with the element E4M3 (emax 8) or E5M2 (emax 15), saturated.
#define QPLAY_ENCODE_MXFP8_E4M3_DECL                                                                 \
  void encode_mxfp8_e4m3_f32(const float* x, size_t blocks, bool half_away, uint8_t* scales,        \
                             uint8_t* codes) noexcept
#define QPLAY_ENCODE_MXFP8_E5M2_DECL                                                                 \
  void encode_mxfp8_e5m2_f32(const float* x, size_t blocks, bool half_away, uint8_t* scales,        \
                             uint8_t* codes) noexcept

#define QPLAY_FLOAT_KERNELS(X)                                                                      \
  X(encode_e4m3fn_f32, QPLAY_ENCODE_E4M3FN_DECL)                                                    \
  X(encode_e5m2_f32, QPLAY_ENCODE_E5M2_DECL)                                                        \
  X(decode_e4m3fn_f32, QPLAY_DECODE_E4M3FN_DECL)                                                    \
  X(decode_e5m2_f32, QPLAY_DECODE_E5M2_DECL)                                                        \
  X(encode_e2m1_f32, QPLAY_ENCODE_E2M1_DECL)                                                        \
  X(encode_nf4_f32, QPLAY_ENCODE_NF4_DECL)                                                          \
  X(encode_mxfp4_f32, QPLAY_ENCODE_MXFP4_DECL)                                                      \
  X(encode_mxfp8_e4m3_f32, QPLAY_ENCODE_MXFP8_E4M3_DECL)                                            \
  X(encode_mxfp8_e5m2_f32, QPLAY_ENCODE_MXFP8_E5M2_DECL)

#define QPLAY_FLOAT_DECLARE_ONE(name, decl) decl;
namespace scalar {
QPLAY_FLOAT_KERNELS(QPLAY_FLOAT_DECLARE_ONE)
}
#if QPLAY_HAVE_SIMD128
namespace simd128 {
QPLAY_FLOAT_KERNELS(QPLAY_FLOAT_DECLARE_ONE)
}
#endif
#undef QPLAY_FLOAT_DECLARE_ONE

// floor(log2(a)) for finite a > 0, exact from the float32 bits (subnormals included). The MX scale
// rules use it instead of a float log2, which rounds up for values a few ulps below a power of two.
inline int floor_log2(float a) noexcept {
  uint32_t b;
  __builtin_memcpy(&b, &a, sizeof b);
  const int field = int((b >> 23) & 0xFFu);
  if (field != 0) return field - 127;
  return -149 + (31 - __builtin_clz(b & 0x7FFFFFu));
}

// E8M0 code of the MX FLOOR scale for a block's amax (finite): floor(log2(amax)) - emax + 127,
// clamped to [0, 254]; amax = 0 -> 0. emax: E2M1 2, E4M3 8, E5M2 15.
inline uint8_t mx_floor_scale_code(float amax, int emax) noexcept {
  if (!(amax > 0.0f)) return 0;
  const int e = floor_log2(amax) - emax + 127;
  return uint8_t(e < 0 ? 0 : e > 254 ? 254 : e);
}

// The 15 NF4 decision thresholds (float32 midpoints of the NF4 table), shared by both twins.
extern const float kNf4Thresholds[15];

struct FloatTable {
  void (*encode_e4m3fn_f32)(const float*, size_t, bool, uint8_t*) noexcept;
  void (*encode_e5m2_f32)(const float*, size_t, bool, uint8_t*) noexcept;
  void (*decode_e4m3fn_f32)(const uint8_t*, size_t, float*) noexcept;
  void (*decode_e5m2_f32)(const uint8_t*, size_t, float*) noexcept;
  void (*encode_e2m1_f32)(const float*, size_t, uint8_t*) noexcept;
  void (*encode_nf4_f32)(const float*, size_t, float, uint8_t*) noexcept;
  void (*encode_mxfp4_f32)(const float*, size_t, bool, uint8_t*, uint8_t*) noexcept;
  void (*encode_mxfp8_e4m3_f32)(const float*, size_t, bool, uint8_t*, uint8_t*) noexcept;
  void (*encode_mxfp8_e5m2_f32)(const float*, size_t, bool, uint8_t*, uint8_t*) noexcept;
  const char* name;
};
// Follows the integer kernels' choice: the SIMD twins unless force_scalar(true) or no SIMD build.
const FloatTable& float_table();
const FloatTable& float_scalar_table();
const FloatTable* float_simd128_table();  // nullptr when the build has no SIMD twin

}  // namespace qplay::kernels
