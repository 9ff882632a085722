// The element rules shared by every ggml block format (scalar kernels, SIMD twins, the schemes in
// core/src/schemes/): ggml's fp16 conversion, its nearest_int, C float->int conversion as x86-64
// performs it, E8M0 scales and the MXFP4 shared exponent. Written from the semantics documented in
// docs/GGML_FORMATS.md; nothing here is copied from ggml.
//
// Internal linkage (unnamed namespace), like element.hpp: this header is compiled into the SIMD
// object library with different target flags, and a shared inline definition could let the linker
// pick that copy for the scalar code.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace qplay::ggml_element {
namespace {

constexpr size_t kQK = 32;     // Q4_0 ... Q8_1, IQ4_NL, MXFP4
constexpr size_t kQK_K = 256;  // K-quant super-blocks

constexpr size_t kQ8_0Bytes = 34;   // d:f16, qs:int8[32]
constexpr size_t kQ4_0Bytes = 18;   // d:f16, qs[16]
constexpr size_t kMxfp4Bytes = 17;  // e:E8M0, qs[16]
constexpr size_t kQ8_1Bytes = 36;   // d:f16, s:f16, qs:int8[32]
constexpr size_t kQ4_1Bytes = 20;   // d:f16, m:f16, qs[16]
constexpr size_t kQ5_0Bytes = 22;   // d:f16, qh[4], qs[16]
constexpr size_t kQ5_1Bytes = 24;   // d:f16, m:f16, qh[4], qs[16]
constexpr size_t kIq4nlBytes = 18;  // d:f16, qs[16]

// 4-bit code tables (ggml-common.h): IQ4_NL's non-linear levels and E2M1 doubled (MXFP4). The
// only spelling of IQ4_NL's table in qplay: the format registry derives --dtype iq4_nl's [-1, 1]
// codebook from it (schemes/registry.cpp).
constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                     1,    13,   25,  38,  53,  69,  89,  113};
// A 16-entry int8 table as floats (exact), so searches and codebooks convert nothing.
constexpr std::array<float, 16> levels_of(const int8_t (&values)[16]) {
  std::array<float, 16> v{};
  for (size_t i = 0; i < 16; ++i) v[i] = float(values[i]);
  return v;
}
constexpr std::array<float, 16> kIq4nlLevels = levels_of(kIq4nlValues);
constexpr float kGroupMaxEps = 1e-15f;  // ggml's GROUP_MAX_EPS: below it a group counts as zero
constexpr int8_t kMxfp4Values[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

// (memcpy rather than qplay::bit_cast: the SIMD object library sees only core/src, not the public
// include directory.)
inline uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
inline float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// ---- IEEE half ----------------------------------------------------------------------------------
// float -> half, round to nearest even. |f| >= 65520 (the midpoint above the largest half, 65504,
// which ties to the even 65536) overflows to inf; every NaN becomes sign | 0x7E00, as ggml's
// conversion does. Integer arithmetic only, so it cannot depend on the FP environment.
inline uint16_t fp32_to_fp16(float f) {
  const uint32_t u = bits_of(f);
  const uint16_t sign = uint16_t((u >> 16) & 0x8000u);
  const uint32_t a = u & 0x7FFFFFFFu;
  if (a > 0x7F800000u) return uint16_t(sign | 0x7E00u);  // NaN
  if (a >= 0x477FF000u) return uint16_t(sign | 0x7C00u);  // >= 65520 and inf
  uint32_t mant, shift, base;
  if (a >= 0x38800000u) {  // >= 2^-14: a normal half
    // Keep 10 of the 23 mantissa bits; the exponent is rebiased from 127 to 15 (a carry out of the
    // mantissa correctly bumps the exponent).
    mant = a & 0x7FFFFFu;
    shift = 13;
    base = ((a >> 23) - 112u) << 10;
  } else {
    // Subnormal half (or zero): the value in units of 2^-24, from the float's 24-bit significand.
    // Float subnormals (a < 2^-126) are far below half the smallest half and round to zero.
    if (a < 0x00800000u) return sign;
    mant = (a & 0x7FFFFFu) | 0x800000u;
    const uint32_t s = 126u - (a >> 23);  // >= 14 here
    shift = s > 31u ? 31u : s;
    base = 0;
  }
  uint32_t q = mant >> shift;
  const uint32_t rem = mant & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1);
  if (rem > half || (rem == half && (q & 1u))) ++q;
  return uint16_t(sign | (base + q));
}

// half -> float, exact. NaN payloads are kept, with the quiet bit set.
inline float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  const uint32_t mant = h & 0x3FFu;
  if (exp == 0) {
    const float v = float(mant) * 0x1p-24f;  // zero or subnormal: exact
    return float_of(bits_of(v) | sign);
  }
  if (exp == 31) return float_of(sign | 0x7F800000u | (mant << 13) | (mant ? 0x400000u : 0u));
  return float_of(sign | ((exp + 112u) << 23) | (mant << 13));
}

inline void store_u32le(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}

inline void store_fp16(uint8_t* p, float f) {
  const uint16_t h = fp32_to_fp16(f);
  p[0] = uint8_t(h & 0xFF);
  p[1] = uint8_t(h >> 8);
}
inline float load_fp16(const uint8_t* p) { return fp16_to_fp32(uint16_t(p[0] | (p[1] << 8))); }

// ---- integer rounding ---------------------------------------------------------------------------
// ggml's nearest_int (K-quants, IQ4_NL's sub-scales): adding 1.5 * 2^23 leaves round-half-even(f)
// in the low 22 mantissa bits. Valid for |f| <= 2^22 - 1; outside that (and for NaN / inf) it is
// still this exact bit formula, which is what ggml computes in a release build.
inline int32_t nearest_int(float f) {
  const float v = f + 12582912.0f;
  return int32_t(bits_of(v) & 0x007FFFFFu) - 0x00400000;
}

// C's float -> int conversion (truncation) as x86-64 executes it (cvttss2si): NaN and values
// outside the int32 range give INT32_MIN. ggml's casts such as (int8_t)(x * id + 8.5f) are undefined
// behaviour in C for those inputs; this is what the reference build on x86-64 does, and narrowing
// to 8 bits then keeps the low byte.
inline int32_t trunc_i32_x86(float t) {
  return (t >= -2147483648.0f && t < 2147483648.0f) ? int32_t(t) : INT32_MIN;
}

// ---- E8M0 and the MXFP4 shared exponent --------------------------------------------------------
// 2^(e - 127) / 2, the MXFP4 scale (kvalues are doubled E2M1): e = 0 and 1 are float subnormals.
inline float e8m0_to_fp32_half(uint8_t e) {
  return float_of(e < 2 ? (0x00200000u << e) : (uint32_t(e - 1) << 23));
}

// floor(log2f(a)) for finite a > 0, where log2f is correctly rounded to float (glibc's log2f gives
// the same floor for every positive finite float; checked exhaustively). The exact floor is the
// binary exponent k; the float result rounds up to k + 1 when a is so close below 2^(k+1) that
// k + log2(a / 2^k) is within half an ulp of k + 1. Computed without libm so every platform agrees.
inline int floor_log2_rounded(float a) {
  const uint32_t u = bits_of(a);
  int k;
  uint32_t mant;
  if ((u >> 23) == 0) {  // subnormal: normalise the significand
    int msb = 31;
    while (!(u >> msb)) --msb;
    k = -149 + msb;
    mant = (u << (23 - msb)) & 0x7FFFFFu;
  } else {
    k = int(u >> 23) - 127;
    mant = u & 0x7FFFFFu;
  }
  const int next = k + 1;
  if (mant == 0 || next == 0) return k;
  // Half the spacing of the floats next to `next`, on the side of k.
  const int mag = next < 0 ? -next : next;
  int p = 0;
  while ((mag >> (p + 1)) != 0) ++p;
  const bool pow2_from_below = next > 0 && (mag & (mag - 1)) == 0;
  const double h = double(1u << p) * (pow2_from_below ? 0x1p-25 : 0x1p-24);
  // a = 2^(k+1) * (1 - t): log2 falls short of k + 1 by -log2(1 - t) = (t + t^2/2 + t^3/3 + ...)/ln 2
  // (t <= 2^-17 whenever this can matter, so three terms are exact far beyond double rounding).
  const double t = double(0x800000u - mant) * 0x1p-24;
  const double delta = (t + t * t / 2 + t * t * t / 3) / 0.69314718055994530942;
  return delta <= h ? k + 1 : k;
}

// ggml's MXFP4 shared exponent: (uint8_t)(floorf(log2f(amax)) - 2 + 127), 0 when amax == 0. For
// amax < 2^-125 the value is negative and the cast wraps as on x86-64 (e.g. -1 -> 255).
inline uint8_t mxfp4_exponent(float amax) {
  if (!(amax > 0.0f)) return 0;
  return uint8_t(uint32_t(floor_log2_rounded(amax) - 2 + 127) & 0xFFu);
}

// ggml's best_index_mxfp4: the first index with the smallest |kvalue * d - x| (strict <), so a tie
// goes to the lower index: the smaller magnitude, and 0 (index 0) for +-0.
inline uint8_t mxfp4_best_index(float x, float d) {
  uint8_t best = 0;
  float best_err = __builtin_fabsf(float(kMxfp4Values[0]) * d - x);
  for (uint8_t i = 1; i < 16; ++i) {
    const float err = __builtin_fabsf(float(kMxfp4Values[i]) * d - x);
    if (err < best_err) {
      best = i;
      best_err = err;
    }
  }
  return best;
}

}  // namespace
}  // namespace qplay::ggml_element
