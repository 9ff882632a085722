// The parameterized small-float encoder/decoder. Encoding works on the float32 bits with integer
// arithmetic, so every rounding is exact (no double rounding through an intermediate float).
#include "qplay/minifloat.hpp"

#include <cmath>

#include "kernels/float_kernels.hpp"
#include "qplay/bits.hpp"

namespace qplay::minifloat {
namespace {

constexpr uint32_t kQuietNan = 0x7FC00000u;

float nan_with_sign(bool negative) {
  return bit_cast<float>(kQuietNan | (negative ? 0x80000000u : 0u));
}

// The code of the NaN this format produces (sign applies where the format has signed NaNs).
uint8_t nan_code(const Format& f, bool negative) {
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
uint8_t overflow_code(const Format& f, bool negative) {
  const uint8_t sign = negative ? f.sign_mask() : 0;
  switch (f.specials) {
    case Specials::ieee: return uint8_t(sign | (f.max_code() + 1));  // Inf: top exponent, mantissa 0
    case Specials::fn: return uint8_t(sign | (f.sign_mask() - 1));
    case Specials::fnuz: return f.sign_mask();
    case Specials::finite: return uint8_t(sign | f.max_code());
  }
  return 0;
}

// A caller may build its own Format: the kernels apply only when every field matches a preset.
bool same(const Format& a, const Format& b) {
  return a.exp_bits == b.exp_bits && a.man_bits == b.man_bits && a.bias == b.bias &&
         a.specials == b.specials;
}

}  // namespace

const Format* find_format(std::string_view name) noexcept {
  for (const Format& f : kPresets)
    if (f.name == name) return &f;
  return nullptr;
}

uint8_t encode(float x, const Format& f, const EncodeOptions& o) noexcept {
  const uint32_t b = bit_cast<uint32_t>(x);
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

bool is_nan_code(uint8_t code, const Format& f) noexcept {
  const uint8_t mag = uint8_t(code & (f.sign_mask() - 1));
  switch (f.specials) {
    case Specials::ieee: return mag > f.max_code() + 1u;  // max_code + 1 is Inf
    case Specials::fn: return mag == f.sign_mask() - 1;
    case Specials::fnuz: return code == f.sign_mask();
    case Specials::finite: return false;
  }
  return false;
}

float decode(uint8_t code, const Format& f) noexcept {
  const bool negative = (code & f.sign_mask()) != 0;
  const unsigned mag = code & (f.sign_mask() - 1u);
  if (is_nan_code(code, f)) return nan_with_sign(f.specials == Specials::fnuz ? false : negative);
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

float max_value(const Format& f) noexcept { return decode(f.max_code(), f); }
float min_subnormal(const Format& f) noexcept { return decode(1, f); }

void encode(const float* x, size_t n, uint8_t* out, const Format& f, const EncodeOptions& o) {
  const kernels::FloatTable& k = kernels::float_table();
  const bool even = o.rounding == Rounding::half_even;
  if (even && same(f, e4m3fn)) return k.encode_e4m3fn_f32(x, n, o.saturate, out);
  if (even && same(f, e5m2)) return k.encode_e5m2_f32(x, n, o.saturate, out);
  if (even && same(f, e2m1)) return k.encode_e2m1_f32(x, n, out);
  for (size_t i = 0; i < n; ++i) out[i] = encode(x[i], f, o);
}

void decode(const uint8_t* codes, size_t n, float* out, const Format& f) {
  const kernels::FloatTable& k = kernels::float_table();
  if (same(f, e4m3fn)) return k.decode_e4m3fn_f32(codes, n, out);
  if (same(f, e5m2)) return k.decode_e5m2_f32(codes, n, out);
  for (size_t i = 0; i < n; ++i) out[i] = decode(codes[i], f);
}

uint8_t encode_e8m0(float x, E8m0Round mode, bool saturate) noexcept {
  const uint32_t b = bit_cast<uint32_t>(x);
  uint32_t exponent = (b >> 23) & 0xFFu;
  if (exponent == 0xFFu) return 0xFF;  // NaN and +-Inf
  const uint32_t mantissa = b & 0x7FFFFFu;
  bool round_up = false;
  switch (mode) {
    case E8m0Round::up: round_up = mantissa != 0; break;
    case E8m0Round::down: break;
    case E8m0Round::nearest:
      round_up = (mantissa & 0x400000u) != 0 && (exponent > 0 || (mantissa & 0x3FFFFFu) != 0);
      break;
  }
  if (round_up && !(saturate && exponent == 0xFEu)) exponent += 1;
  return uint8_t(exponent);
}

float decode_e8m0(uint8_t code) noexcept {
  if (code == 0xFF) return nan_with_sign(false);
  return std::ldexp(1.0f, int(code) - 127);
}

void pack_nibbles(const uint8_t* codes, size_t n, NibbleOrder order, uint8_t* out) noexcept {
  const unsigned first_shift = order == NibbleOrder::low_first ? 0 : 4;
  const unsigned second_shift = 4 - first_shift;
  for (size_t i = 0; i < n; i += 2) {
    const unsigned a = codes[i] & 0x0Fu;
    const unsigned b = i + 1 < n ? (codes[i + 1] & 0x0Fu) : 0u;
    out[i / 2] = uint8_t((a << first_shift) | (b << second_shift));
  }
}

void unpack_nibbles(const uint8_t* packed, size_t n, NibbleOrder order, uint8_t* codes) noexcept {
  const unsigned first_shift = order == NibbleOrder::low_first ? 0 : 4;
  const unsigned second_shift = 4 - first_shift;
  for (size_t i = 0; i < n; ++i)
    codes[i] = uint8_t((packed[i / 2] >> (i % 2 == 0 ? first_shift : second_shift)) & 0x0Fu);
}

}  // namespace qplay::minifloat
