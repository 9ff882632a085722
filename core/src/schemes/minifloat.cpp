// The small-float API: the scalar rule (kernels/minifloat_rule.hpp, the kernels' specification),
// the batch forms that pick the SIMD kernels, E8M0 and nibble packing.
#include "qplay/minifloat.hpp"

#include <cmath>

#include "kernels/float_kernels.hpp"
#include "kernels/minifloat_rule.hpp"
#include "qplay/bits.hpp"

namespace qplay::minifloat {
namespace {

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

// The rule itself is the kernels' scalar specification (kernels/minifloat_rule.hpp).
uint8_t encode(float x, const Format& f, const EncodeOptions& o) noexcept {
  return kernels::minifloat_rule::encode(x, f, o);
}

bool is_nan_code(uint8_t code, const Format& f) noexcept { return kernels::minifloat_rule::is_nan_code(code, f); }

float decode(uint8_t code, const Format& f) noexcept { return kernels::minifloat_rule::decode(code, f); }

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
  if (code == 0xFF) return kernels::minifloat_rule::nan_with_sign(false);
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
