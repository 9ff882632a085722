// The scalar small-float rule: float32 -> code and code -> float32 for any minifloat::Format. It is
// the specification the SIMD float kernels reproduce (float_simd128.cpp), so it lives at the kernel
// level: the scalar kernels (float_scalar.cpp) loop over it, and minifloat::encode / decode
// (schemes/minifloat.cpp) are this rule behind the public API. Encoding works on the float32 bits
// with integer arithmetic, so every rounding is exact (no double rounding through a float).
//
// Internal linkage (unnamed namespace), like element.hpp: no inline definition shared across
// translation units that may be compiled with different target flags.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "qplay/minifloat.hpp"  // the Format / EncodeOptions types only (constexpr, no calls)

namespace qplay::kernels::minifloat_rule {
namespace {

using minifloat::EncodeOptions;
using minifloat::FnuzInf;
using minifloat::Format;
using minifloat::Rounding;
using minifloat::Specials;

inline uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

inline float nan_with_sign(bool negative) {
  const uint32_t u = 0x7FC00000u | (negative ? 0x80000000u : 0u);
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// The code of the NaN this format produces (sign applies where the format has signed NaNs).
inline uint8_t nan_code(const Format& f, bool negative) {
  const uint8_t sign = negative ? f.sign_mask() : 0;
  switch (f.specials) {
    case Specials::ieee:
    case Specials::fn: return uint8_t(sign | (f.sign_mask() - 1));
    case Specials::fnuz: return f.sign_mask();
    case Specials::finite: return f.max_code();  // no NaN: ONNX float4 sends NaN to +max
  }
  return 0;
}

// The code a too-large magnitude (or Inf) becomes without saturation.
inline uint8_t overflow_code(const Format& f, bool negative) {
  const uint8_t sign = negative ? f.sign_mask() : 0;
  switch (f.specials) {
    case Specials::ieee: return uint8_t(sign | (f.max_code() + 1));  // Inf: top exponent, mantissa 0
    case Specials::fn: return uint8_t(sign | (f.sign_mask() - 1));
    case Specials::fnuz: return f.sign_mask();
    case Specials::finite: return uint8_t(sign | f.max_code());
  }
  return 0;
}

// minifloat::encode's rule (qplay/minifloat.hpp states it in order).
inline uint8_t encode(float x, const Format& f, const EncodeOptions& o) noexcept {
  const uint32_t b = bits_of(x);
  const bool negative = (b >> 31) != 0;
  const uint32_t mag = b & 0x7FFFFFFFu;
  const uint8_t sign = negative ? f.sign_mask() : 0;
  const bool saturate = o.saturate || f.specials == Specials::finite;

  if (mag > 0x7F800000u) return nan_code(f, negative);
  if (mag == 0x7F800000u) {
    if (!saturate) return overflow_code(f, negative);
    if (f.specials == Specials::fnuz && o.fnuz_inf == FnuzInf::nan) return f.sign_mask();
    return uint8_t(sign | f.max_code());
  }

  // |x| = m * 2^e with m the 24-bit significand (no implicit one for float32 subnormals).
  const uint32_t field = mag >> 23;
  const uint32_t m = field == 0 ? (mag & 0x7FFFFFu) : ((mag & 0x7FFFFFu) | 0x800000u);
  const int e = field == 0 ? -149 : int(field) - 150;
  // floor(log2 |x|); for x = 0 any value works (m = 0 rounds to 0).
  int lg = e + 23;
  if (field == 0 && m != 0) lg = e + (31 - __builtin_clz(m));
  // The exponent of |x|'s binade in the format, held at the subnormal exponent below it, and the
  // quantum 2^(eff - man_bits) of that binade: q = |x| / quantum, rounded. A binade at or above
  // the top one simply keeps counting codes, which is the grid extended above max.
  const int eff = lg < f.min_exponent() ? f.min_exponent() : lg;
  const int shift = (eff - f.man_bits) - e;  // >= 0: the format never has more mantissa than float32
  uint64_t q;
  if (shift >= 40) {
    q = 0;  // |x| < 2^(quantum - 16): far below half a quantum, no tie possible
  } else {
    const uint64_t mm = m;
    q = mm >> shift;
    if (shift > 0) {
      const uint64_t rem = mm & ((uint64_t(1) << shift) - 1);
      const uint64_t half = uint64_t(1) << (shift - 1);
      if (rem > half || (rem == half && (o.rounding == Rounding::half_away || (q & 1))))
        q += 1;
    }
  }
  // Codes are monotonic in magnitude: (eff - min_exponent) binades of 2^man codes below this one,
  // plus q (a carry to 2^(man+1) moves to the next binade by itself).
  const int64_t code = (int64_t(eff - f.min_exponent()) << f.man_bits) + int64_t(q);
  if (code > f.max_code()) return saturate ? uint8_t(sign | f.max_code()) : overflow_code(f, negative);
  if (code == 0 && f.specials == Specials::fnuz) return 0;
  return uint8_t(sign | uint8_t(code));
}

inline bool is_nan_code(uint8_t code, const Format& f) noexcept {
  const uint8_t mag = uint8_t(code & (f.sign_mask() - 1));
  switch (f.specials) {
    case Specials::ieee: return mag > f.max_code() + 1u;  // max_code + 1 is Inf
    case Specials::fn: return mag == f.sign_mask() - 1;
    case Specials::fnuz: return code == f.sign_mask();
    case Specials::finite: return false;
  }
  return false;
}

// minifloat::decode's rule: exact; NaN codes give a quiet NaN with the code's sign (fnuz: positive).
inline float decode(uint8_t code, const Format& f) noexcept {
  const bool negative = (code & f.sign_mask()) != 0;
  const unsigned mag = code & (f.sign_mask() - 1u);
  if (minifloat_rule::is_nan_code(code, f)) return nan_with_sign(f.specials == Specials::fnuz ? false : negative);
  if (f.specials == Specials::ieee && mag == f.max_code() + 1u)
    return negative ? -INFINITY : INFINITY;
  const unsigned exp_field = mag >> f.man_bits;
  const unsigned man = mag & ((1u << f.man_bits) - 1);
  // Subnormal: man * 2^(min_exponent - man_bits); normal: (2^man_bits + man) * 2^(exp - bias - man_bits).
  const float v = exp_field == 0
                      ? std::ldexp(float(man), f.min_exponent() - f.man_bits)
                      : std::ldexp(float((1u << f.man_bits) + man), int(exp_field) - f.bias - f.man_bits);
  return negative ? -v : v;
}

}  // namespace
}  // namespace qplay::kernels::minifloat_rule
