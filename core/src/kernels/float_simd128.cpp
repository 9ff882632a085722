// SIMD twins of the float-format kernels (wasm_simd128 intrinsics; natively through SIMDe, which
// reproduces the wasm semantics). Must equal float_scalar.cpp bit for bit; the tails shorter than a
// vector step call the scalar twin itself.
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#else
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/wasm/simd128.h>
#endif

#include <cmath>

#include "float_kernels.hpp"

namespace qplay::kernels::simd128 {
namespace {

enum class Style { ieee, fn, finite };  // the Specials of the formats with a SIMD encoder

// One small-float format as compile-time constants; minifloat_rule.hpp has the scalar rule.
template <int kExp, int kManBits, int kBiasValue, Style kStyleValue>
struct Mini {
  static constexpr int kMan = kManBits;
  static constexpr int kBias = kBiasValue;
  static constexpr Style kStyle = kStyleValue;
  static constexpr int kBits = kExp + kMan;                     // below the sign bit
  static constexpr int32_t kSignMask = 1 << kBits;
  static constexpr int32_t kAll = kSignMask - 1;
  static constexpr int32_t kMaxCode = kStyle == Style::ieee ? kAll - (1 << kMan)
                                      : kStyle == Style::fn ? kAll - 1
                                                            : kAll;
  // Code of an overflow without saturation (before the sign): Inf for ieee, NaN for fn.
  static constexpr int32_t kOverflowCode = kStyle == Style::ieee ? kMaxCode + 1 : kAll;
  static constexpr int kMinExponent = 1 - kBias;
  static constexpr int kShift = 23 - kMan;
  // float32 bits of the smallest normal magnitude 2^kMinExponent.
  static constexpr int32_t kMinNormalBits = (127 + kMinExponent) << 23;
  // Rebias of the exponent field, in code units.
  static constexpr int32_t kRebias = (127 - kBias) << kMan;
};

// Codes (i32 lanes) of four floats. half_away selects ties-to-larger-magnitude over ties-to-even.
template <class F>
v128_t encode4(v128_t v, bool saturate, bool half_away) {
  const v128_t bits = v;
  const v128_t mag = wasm_v128_and(bits, wasm_i32x4_splat(0x7FFFFFFF));
  const v128_t is_nan = wasm_i32x4_gt(mag, wasm_i32x4_splat(0x7F800000));
  const v128_t is_inf = wasm_i32x4_eq(mag, wasm_i32x4_splat(0x7F800000));

  // Normal binades: round the float32 bits at the format's mantissa width (a carry runs into the
  // exponent field, which is exactly the next code), then rebias.
  const v128_t half_minus_one = wasm_i32x4_splat((1 << (F::kShift - 1)) - 1);
  const v128_t lsb = wasm_v128_and(wasm_u32x4_shr(mag, F::kShift), wasm_i32x4_splat(1));
  const v128_t bias = half_away ? wasm_i32x4_splat(1 << (F::kShift - 1))
                                : wasm_i32x4_add(half_minus_one, lsb);
  const v128_t code_normal =
      wasm_i32x4_sub(wasm_u32x4_shr(wasm_i32x4_add(mag, bias), F::kShift), wasm_i32x4_splat(F::kRebias));

  // Subnormal binade: |x| / quantum is exact in float32 (a power-of-two scale of a value below
  // 2^kMan); round it as a float, exactly, per rule.
  const v128_t scaled = wasm_f32x4_mul(mag, wasm_f32x4_splat(std::ldexp(1.0f, F::kMan - F::kMinExponent)));
  v128_t rounded;
  if (half_away) {
    const v128_t fl = wasm_f32x4_floor(scaled);
    const v128_t up = wasm_f32x4_ge(wasm_f32x4_sub(scaled, fl), wasm_f32x4_splat(0.5f));
    rounded = wasm_f32x4_add(fl, wasm_v128_and(up, wasm_f32x4_splat(1.0f)));
  } else {
    rounded = wasm_f32x4_nearest(scaled);
  }
  const v128_t code_sub = wasm_i32x4_trunc_sat_f32x4(rounded);
  const v128_t subnormal = wasm_i32x4_lt(mag, wasm_i32x4_splat(F::kMinNormalBits));
  v128_t code = wasm_v128_bitselect(code_sub, code_normal, subnormal);

  const v128_t max_code = wasm_i32x4_splat(F::kMaxCode);
  const v128_t too_big = wasm_v128_or(wasm_i32x4_gt(code, max_code), is_inf);
  const bool sat = saturate || F::kStyle == Style::finite;
  code = wasm_v128_bitselect(sat ? max_code : wasm_i32x4_splat(F::kOverflowCode), code, too_big);

  const v128_t sign = wasm_v128_and(wasm_u32x4_shr(bits, 31 - F::kBits), wasm_i32x4_splat(F::kSignMask));
  code = wasm_v128_or(code, sign);
  // NaN: S.1..1 for ieee/fn (sign kept); +max for the finite formats.
  const v128_t nan_code = F::kStyle == Style::finite ? max_code
                                                     : wasm_v128_or(sign, wasm_i32x4_splat(F::kAll));
  return wasm_v128_bitselect(nan_code, code, is_nan);
}

// Sixteen i32 codes in [0, 255] -> sixteen bytes.
inline v128_t narrow16(v128_t a, v128_t b, v128_t c, v128_t d) {
  return wasm_u8x16_narrow_i16x8(wasm_u16x8_narrow_i32x4(a, b), wasm_u16x8_narrow_i32x4(c, d));
}

template <class F, class Tail>
void encode_loop(const float* x, size_t n, bool saturate, uint8_t* out, Tail tail) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const v128_t a = encode4<F>(wasm_v128_load(x + i), saturate, false);
    const v128_t b = encode4<F>(wasm_v128_load(x + i + 4), saturate, false);
    const v128_t c = encode4<F>(wasm_v128_load(x + i + 8), saturate, false);
    const v128_t d = encode4<F>(wasm_v128_load(x + i + 12), saturate, false);
    wasm_v128_store(out + i, narrow16(a, b, c, d));
  }
  tail(x + i, n - i, out + i);
}

// Four codes (u32 lanes holding bytes) -> four floats.
template <class F>
v128_t decode4(v128_t c) {
  const v128_t sign = wasm_i32x4_shl(wasm_v128_and(c, wasm_i32x4_splat(F::kSignMask)), 31 - F::kBits);
  const v128_t mag = wasm_v128_and(c, wasm_i32x4_splat(F::kAll));
  const v128_t normal = wasm_i32x4_add(wasm_i32x4_shl(mag, F::kShift), wasm_i32x4_splat((127 - F::kBias) << 23));
  const v128_t sub = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(mag),
                                    wasm_f32x4_splat(std::ldexp(1.0f, F::kMinExponent - F::kMan)));
  const v128_t is_sub = wasm_i32x4_lt(mag, wasm_i32x4_splat(1 << F::kMan));
  v128_t r = wasm_v128_bitselect(sub, normal, is_sub);
  if constexpr (F::kStyle == Style::ieee) {
    const v128_t inf = wasm_i32x4_eq(mag, wasm_i32x4_splat(F::kMaxCode + 1));
    const v128_t nan = wasm_i32x4_gt(mag, wasm_i32x4_splat(F::kMaxCode + 1));
    r = wasm_v128_bitselect(wasm_i32x4_splat(0x7F800000), r, inf);
    r = wasm_v128_bitselect(wasm_i32x4_splat(0x7FC00000), r, nan);
  } else {
    const v128_t nan = wasm_i32x4_eq(mag, wasm_i32x4_splat(F::kAll));
    r = wasm_v128_bitselect(wasm_i32x4_splat(0x7FC00000), r, nan);
  }
  return wasm_v128_or(r, sign);
}

template <class F, class Tail>
void decode_loop(const uint8_t* codes, size_t n, float* out, Tail tail) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const v128_t bytes = wasm_v128_load(codes + i);
    const v128_t lo = wasm_u16x8_extend_low_u8x16(bytes);
    const v128_t hi = wasm_u16x8_extend_high_u8x16(bytes);
    wasm_v128_store(out + i, decode4<F>(wasm_u32x4_extend_low_u16x8(lo)));
    wasm_v128_store(out + i + 4, decode4<F>(wasm_u32x4_extend_high_u16x8(lo)));
    wasm_v128_store(out + i + 8, decode4<F>(wasm_u32x4_extend_low_u16x8(hi)));
    wasm_v128_store(out + i + 12, decode4<F>(wasm_u32x4_extend_high_u16x8(hi)));
  }
  tail(codes + i, n - i, out + i);
}

using E4M3FN = Mini<4, 3, 7, Style::fn>;
using E5M2 = Mini<5, 2, 15, Style::ieee>;
using E2M1 = Mini<2, 1, 1, Style::finite>;

v128_t nf4_codes4(v128_t x, v128_t mul) {
  const v128_t s = wasm_f32x4_mul(x, mul);
  v128_t count = wasm_i32x4_splat(0);
  for (float t : kNf4Thresholds) count = wasm_i32x4_sub(count, wasm_f32x4_lt(wasm_f32x4_splat(t), s));
  return wasm_v128_bitselect(wasm_i32x4_splat(15), count, wasm_f32x4_ne(s, s));
}

}  // namespace

void encode_e4m3fn_f32(const float* x, size_t n, bool saturate, uint8_t* out) noexcept {
  encode_loop<E4M3FN>(x, n, saturate, out, [saturate](const float* tx, size_t tn, uint8_t* to) {
    scalar::encode_e4m3fn_f32(tx, tn, saturate, to);
  });
}

void encode_e5m2_f32(const float* x, size_t n, bool saturate, uint8_t* out) noexcept {
  encode_loop<E5M2>(x, n, saturate, out, [saturate](const float* tx, size_t tn, uint8_t* to) {
    scalar::encode_e5m2_f32(tx, tn, saturate, to);
  });
}

void encode_e2m1_f32(const float* x, size_t n, uint8_t* out) noexcept {
  encode_loop<E2M1>(x, n, true, out, [](const float* tx, size_t tn, uint8_t* to) {
    scalar::encode_e2m1_f32(tx, tn, to);
  });
}

void decode_e4m3fn_f32(const uint8_t* codes, size_t n, float* out) noexcept {
  decode_loop<E4M3FN>(codes, n, out, [](const uint8_t* tc, size_t tn, float* to) {
    scalar::decode_e4m3fn_f32(tc, tn, to);
  });
}

void decode_e5m2_f32(const uint8_t* codes, size_t n, float* out) noexcept {
  decode_loop<E5M2>(codes, n, out, [](const uint8_t* tc, size_t tn, float* to) {
    scalar::decode_e5m2_f32(tc, tn, to);
  });
}

void encode_nf4_f32(const float* x, size_t n, float mul, uint8_t* out) noexcept {
  const v128_t m = wasm_f32x4_splat(mul);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    wasm_v128_store(out + i, narrow16(nf4_codes4(wasm_v128_load(x + i), m),
                                      nf4_codes4(wasm_v128_load(x + i + 4), m),
                                      nf4_codes4(wasm_v128_load(x + i + 8), m),
                                      nf4_codes4(wasm_v128_load(x + i + 12), m)));
  }
  scalar::encode_nf4_f32(x + i, n - i, mul, out + i);
}

namespace {

// MX blocks of 32 under the FLOOR scale, element format F with emax kEmax (float_kernels.hpp).
template <class F, int kEmax>
void encode_mx_blocks(const float* x, size_t blocks, bool half_away, uint8_t* scales, uint8_t* codes) {
  const v128_t abs_mask = wasm_i32x4_splat(0x7FFFFFFF);
  for (size_t b = 0; b < blocks; ++b) {
    const float* xb = x + b * 32;
    uint8_t* cb = codes + b * 32;
    v128_t v[8];
    // For non-negative floats the bit patterns order like the values, and NaN/Inf sit above
    // every finite one: an integer max of |x| finds amax and flags a non-finite element at once.
    v128_t max_bits = wasm_i32x4_splat(0);
    for (int j = 0; j < 8; ++j) {
      v[j] = wasm_v128_load(xb + 4 * j);
      max_bits = wasm_i32x4_max(max_bits, wasm_v128_and(v[j], abs_mask));
    }
    max_bits = wasm_i32x4_max(max_bits, wasm_i32x4_shuffle(max_bits, max_bits, 2, 3, 0, 1));
    max_bits = wasm_i32x4_max(max_bits, wasm_i32x4_shuffle(max_bits, max_bits, 1, 0, 3, 2));
    const int32_t top = wasm_i32x4_extract_lane(max_bits, 0);
    if (top >= 0x7F800000) {
      scales[b] = 0xFF;
      wasm_v128_store(cb, wasm_i32x4_splat(0));
      wasm_v128_store(cb + 16, wasm_i32x4_splat(0));
      continue;
    }
    float amax;
    __builtin_memcpy(&amax, &top, sizeof amax);
    const uint8_t e = mx_floor_scale_code(amax, kEmax);
    scales[b] = e;
    const v128_t inv = wasm_f32x4_splat(std::ldexp(1.0f, 127 - int(e)));
    v128_t c[8];
    for (int j = 0; j < 8; ++j) c[j] = encode4<F>(wasm_f32x4_mul(v[j], inv), true, half_away);
    wasm_v128_store(cb, narrow16(c[0], c[1], c[2], c[3]));
    wasm_v128_store(cb + 16, narrow16(c[4], c[5], c[6], c[7]));
  }
}

}  // namespace

void encode_mxfp4_f32(const float* x, size_t blocks, bool half_away, uint8_t* scales,
                      uint8_t* codes) noexcept {
  encode_mx_blocks<E2M1, 2>(x, blocks, half_away, scales, codes);
}

void encode_mxfp8_e4m3_f32(const float* x, size_t blocks, bool half_away, uint8_t* scales,
                           uint8_t* codes) noexcept {
  encode_mx_blocks<E4M3FN, 8>(x, blocks, half_away, scales, codes);
}

void encode_mxfp8_e5m2_f32(const float* x, size_t blocks, bool half_away, uint8_t* scales,
                           uint8_t* codes) noexcept {
  encode_mx_blocks<E5M2, 15>(x, blocks, half_away, scales, codes);
}

}  // namespace qplay::kernels::simd128
