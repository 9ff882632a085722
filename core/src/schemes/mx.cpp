// OCP MX block quantization. The shared exponent comes from the exact floor(log2) of the float32
// bits; elements reuse the exact small-float encoder; MXFP4 and MXFP8 with the FLOOR rule and
// blocks of 32 run through the SIMD kernels.
#include "qplay/mx.hpp"

#include <cmath>

#include "kernels/float_kernels.hpp"
#include "qplay/bits.hpp"
#include "qplay/error.hpp"

namespace qplay::mx {
namespace {

constexpr ElementInfo kInfos[] = {
    {"mxfp8_e4m3", 8, 448.0f, 8, &minifloat::e4m3fn},
    {"mxfp8_e5m2", 15, 57344.0f, 8, &minifloat::e5m2},
    {"mxfp6_e2m3", 2, 7.5f, 6, &minifloat::e2m3},
    {"mxfp6_e3m2", 4, 28.0f, 6, &minifloat::e3m2},
    {"mxfp4_e2m1", 2, 6.0f, 4, &minifloat::e2m1},
    {"mxint8", 0, 127.0f / 64.0f, 8, nullptr},
};

// ceil(log2(d)) for finite d > 0, exact: floor(log2(d)), plus one unless d is a power of two
// (for a float32 subnormal: exactly one mantissa bit set).
int ceil_log2(float d) {
  const uint32_t b = bit_cast<uint32_t>(d);
  const uint32_t m = b & 0x7FFFFFu;
  const bool power_of_two = (b >> 23) != 0 ? m == 0 : (m & (m - 1)) == 0;
  return kernels::floor_log2(d) + (power_of_two ? 0 : 1);
}

uint8_t biased(int e) { return uint8_t((e < -127 ? -127 : e > 127 ? 127 : e) + 127); }

}  // namespace

const ElementInfo& element_info(Element e) noexcept { return kInfos[size_t(e)]; }

uint8_t scale_code(float amax, Element e, ScaleRule rule) noexcept {
  if (!(amax > 0.0f)) return 0;
  const ElementInfo& info = element_info(e);
  if (rule == ScaleRule::floor) return biased(kernels::floor_log2(amax) - info.emax);
  const float d = amax / info.max_normal;
  if (!(d > 0.0f)) return 0;  // underflowed to 0: log2 -> -inf, clamped to -127
  return biased(ceil_log2(d));
}

uint8_t encode_element(float t, Element e, minifloat::Rounding rounding) noexcept {
  const ElementInfo& info = element_info(e);
  if (info.format) return minifloat::encode(t, *info.format, minifloat::EncodeOptions{true, rounding});
  // MXINT8: t * 64 is exact (a power-of-two scale of a value below 2^8 in magnitude).
  const float s = t * 64.0f;
  float r;
  if (rounding == minifloat::Rounding::half_even) {
    r = std::nearbyint(s);
  } else {
    const float fl = std::floor(std::fabs(s));
    r = std::copysign(fl + (std::fabs(s) - fl >= 0.5f ? 1.0f : 0.0f), s);
  }
  r = r < -127.0f ? -127.0f : r > 127.0f ? 127.0f : r;
  return uint8_t(int8_t(int(r)));
}

float decode_element(uint8_t code, Element e) noexcept {
  const ElementInfo& info = element_info(e);
  if (info.format) return minifloat::decode(code, *info.format);
  return float(int8_t(code)) / 64.0f;
}

namespace {

// The SIMD-kernel encoder of a format, when it has one: FLOOR scale, blocks of 32.
using KernelFn = void (*)(const float*, size_t, bool, uint8_t*, uint8_t*) noexcept;
KernelFn kernel_for(const Options& o) {
  if (o.scale != ScaleRule::floor || o.block != 32) return nullptr;
  const kernels::FloatTable& t = kernels::float_table();
  switch (o.element) {
    case Element::fp4_e2m1: return t.encode_mxfp4_f32;
    case Element::fp8_e4m3: return t.encode_mxfp8_e4m3_f32;
    case Element::fp8_e5m2: return t.encode_mxfp8_e5m2_f32;
    default: return nullptr;
  }
}

// Finite elements of block b with |x / X| > max_normal.
uint64_t count_saturated(const float* x, size_t first, size_t last, uint8_t scale, float max_normal) {
  if (scale == 0xFF) return 0;
  const float inv = std::ldexp(1.0f, 127 - int(scale));
  uint64_t n = 0;
  for (size_t i = first; i < last; ++i) n += std::fabs(x[i] * inv) > max_normal;
  return n;
}

}  // namespace

uint64_t encode(const float* x, size_t n, const Options& options, uint8_t* scales, uint8_t* codes) {
  if (options.block == 0) throw Error("MX: block size must be positive");
  const size_t k = options.block;
  const size_t blocks = n / k + (n % k ? 1 : 0);
  const ElementInfo& info = element_info(options.element);
  uint64_t saturated = 0;

  if (const KernelFn kernel = kernel_for(options)) {
    const bool away = options.rounding == minifloat::Rounding::half_away;
    const size_t full = n / 32;
    // In chunks, so the saturation count reads values still in cache.
    constexpr size_t kChunk = 256;
    for (size_t b0 = 0; b0 < full; b0 += kChunk) {
      const size_t nb = full - b0 < kChunk ? full - b0 : kChunk;
      kernel(x + b0 * 32, nb, away, scales + b0, codes + b0 * 32);
      for (size_t b = b0; b < b0 + nb; ++b) saturated += count_saturated(x, b * 32, b * 32 + 32, scales[b], info.max_normal);
    }
    if (n % 32) {
      // The tail block padded with zeros, which leave amax alone; the pad's codes are dropped.
      float pad[32] = {};
      uint8_t tail[32];
      for (size_t i = 0; i < n % 32; ++i) pad[i] = x[full * 32 + i];
      kernel(pad, 1, away, scales + full, tail);
      for (size_t i = 0; i < n % 32; ++i) codes[full * 32 + i] = tail[i];
      saturated += count_saturated(x, full * 32, n, scales[full], info.max_normal);
    }
    return saturated;
  }
  for (size_t b = 0; b < blocks; ++b) {
    const size_t first = b * k, len = first + k <= n ? k : n - first;
    float amax = 0.0f;
    bool finite = true;
    for (size_t i = first; i < first + len; ++i) {
      const float a = std::fabs(x[i]);
      if (!std::isfinite(a)) finite = false;
      else if (a > amax) amax = a;
    }
    if (!finite) {
      scales[b] = 0xFF;
      for (size_t i = first; i < first + len; ++i) codes[i] = 0;
      continue;
    }
    const uint8_t s = scale_code(amax, options.element, options.scale);
    scales[b] = s;
    const float inv = std::ldexp(1.0f, 127 - int(s));  // 1/X: x * inv == x / X exactly
    for (size_t i = first; i < first + len; ++i) codes[i] = encode_element(x[i] * inv, options.element, options.rounding);
    saturated += count_saturated(x, first, first + len, s, info.max_normal);
  }
  return saturated;
}

Quantized quantize(const float* x, size_t n, const Options& options) {
  if (options.block == 0) throw Error("MX: block size must be positive");
  Quantized q;
  q.options = options;
  q.n = n;
  q.codes.resize(n);
  q.dequantized.resize(n);
  q.scales.resize(n / options.block + (n % options.block ? 1 : 0));
  q.saturated = encode(x, n, options, q.scales.data(), q.codes.data());
  dequantize(q, q.dequantized.data());
  return q;
}

void dequantize(const Quantized& q, float* out) {
  // For long inputs each element code is decoded once (a table of every code value), then scaled
  // per block: the same floats as decode_element(code) * decode_e8m0(scale).
  const Element e = q.options.element;
  float table[256];
  const bool tabled = q.n >= 1024;
  if (tabled)
    for (unsigned c = 0; c < 256; ++c) table[c] = decode_element(uint8_t(c), e);
  const size_t k = q.options.block;
  for (size_t first = 0; first < q.n; first += k) {
    const uint8_t s = q.scales[first / k];
    const size_t last = first + k < q.n ? first + k : q.n;
    if (s == 0xFF) {
      for (size_t i = first; i < last; ++i) out[i] = NAN;
      continue;
    }
    const float X = minifloat::decode_e8m0(s);
    for (size_t i = first; i < last; ++i) out[i] = (tabled ? table[q.codes[i]] : decode_element(q.codes[i], e)) * X;
  }
}

}  // namespace qplay::mx
