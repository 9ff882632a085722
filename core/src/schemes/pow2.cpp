// Power-of-two quantization (see pow2.hpp for the rule).
#include "qplay/pow2.hpp"

#include <cmath>
#include <string>

#include "qplay/bits.hpp"
#include "qplay/error.hpp"

namespace qplay::pow2 {
namespace {

int levels(int bits) { return (1 << (bits - 1)) - 1; }

}  // namespace

uint8_t encode(float x, const Options& o) noexcept {
  if (x != x) return 0;
  const int L = levels(o.bits);
  const uint8_t sign = std::signbit(x) ? uint8_t(1u << (o.bits - 1)) : uint8_t(0);
  const float m = std::fabs(x) / o.scale;
  if (m >= 1.0f) return uint8_t(sign | L);
  if (m < std::ldexp(1.0f, -L)) return sign;  // a (signed) zero
  // m is a normal float32 here (>= 2^-127 is not guaranteed, so read the exponent exactly).
  const uint32_t b = bit_cast<uint32_t>(m);
  int e;
  bool up;
  if ((b >> 23) != 0) {
    e = int(b >> 23) - 127;
    up = (b & 0x7FFFFFu) >= 0x400000u;  // mantissa >= 1.5
  } else {
    const uint32_t mant = b & 0x7FFFFFu;
    const int top = 31 - __builtin_clz(mant);
    e = top - 149;
    up = top > 0 && ((mant >> (top - 1)) & 1u) != 0;
  }
  int p = up ? e + 1 : e;               // the nearest power of two, exponent p <= 0
  if (p < 1 - L) p = 1 - L;             // at least the smallest level
  return uint8_t(sign | (p + L));       // k = p + L in 1 .. L
}

float decode(uint8_t code, const Options& o) noexcept {
  const int L = levels(o.bits);
  const bool negative = (code >> (o.bits - 1)) & 1u;
  const int k = code & L;
  const float v = k == 0 ? 0.0f : std::ldexp(o.scale, k - L);
  return negative ? -v : v;
}

Quantized quantize(const float* x, size_t n, const Options& o) {
  if (o.bits < 2 || o.bits > 8) throw Error("pow2: bits must be 2..8, got " + std::to_string(o.bits));
  if (!(o.scale > 0.0f) || !std::isfinite(o.scale)) throw Error("pow2: the scale must be finite and positive");
  Quantized q;
  q.codes.resize(n);
  q.dequantized.resize(n);
  for (size_t i = 0; i < n; ++i) {
    q.codes[i] = encode(x[i], o);
    q.dequantized[i] = decode(q.codes[i], o);
    if (std::isfinite(x[i]) && std::fabs(x[i]) / o.scale > 1.0f) ++q.clipped;
  }
  return q;
}

float scale_for(const float* x, size_t n, bool power_of_two) noexcept {
  float amax = 0.0f;
  for (size_t i = 0; i < n; ++i)
    if (std::isfinite(x[i]) && std::fabs(x[i]) > amax) amax = std::fabs(x[i]);
  if (amax == 0.0f) return 1.0f;
  if (!power_of_two) return amax;
  int e;
  const float f = std::frexp(amax, &e);  // amax = f * 2^e, f in [0.5, 1)
  return f == 0.5f ? amax : std::ldexp(1.0f, e);
}

}  // namespace qplay::pow2
