// Scalar twins of the float-format kernels: each is a plain loop over the exact element rule of
// minifloat_rule.hpp (checked against an exhaustive oracle through minifloat::encode), so these are
// the specification the SIMD twins must reproduce bit for bit. Kernels are leaves: nothing here
// calls into core/src/schemes/.
#include <cmath>

#include "float_kernels.hpp"
#include "kernels.hpp"
#include "minifloat_rule.hpp"

namespace qplay::kernels {

// Float32 midpoints (nf4[i] + nf4[i + 1]) / 2 of the bitsandbytes NF4 table; equal to the
// constants of bitsandbytes' CUDA dQuantizeNF4 tree rounded to float32 (checked in lut_test).
const float kNf4Thresholds[15] = {
    -0x1.b239bp-1f,  -0x1.38a4ep-1f,  -0x1.d709p-2f,   -0x1.5bd4ecp-2f, -0x1.e079d8p-3f,
    -0x1.1a7178p-3f, -0x1.74f0e2p-5f, 0x1.45f5fep-5f,  0x1.ec90c4p-4f,  0x1.a0cfcp-3f,
    0x1.2b05a8p-2f,  0x1.8ea7f2p-2f,  0x1.00da08p-1f,  0x1.491b5ep-1f,  0x1.b913b4p-1f,
};

namespace scalar {

void encode_e4m3fn_f32(const float* x, size_t n, bool saturate, uint8_t* out) noexcept {
  const minifloat::EncodeOptions o{.saturate = saturate};
  for (size_t i = 0; i < n; ++i) out[i] = minifloat_rule::encode(x[i], minifloat::e4m3fn, o);
}

void encode_e5m2_f32(const float* x, size_t n, bool saturate, uint8_t* out) noexcept {
  const minifloat::EncodeOptions o{.saturate = saturate};
  for (size_t i = 0; i < n; ++i) out[i] = minifloat_rule::encode(x[i], minifloat::e5m2, o);
}

void decode_e4m3fn_f32(const uint8_t* codes, size_t n, float* out) noexcept {
  for (size_t i = 0; i < n; ++i) out[i] = minifloat_rule::decode(codes[i], minifloat::e4m3fn);
}

void decode_e5m2_f32(const uint8_t* codes, size_t n, float* out) noexcept {
  for (size_t i = 0; i < n; ++i) out[i] = minifloat_rule::decode(codes[i], minifloat::e5m2);
}

void encode_e2m1_f32(const float* x, size_t n, uint8_t* out) noexcept {
  for (size_t i = 0; i < n; ++i) out[i] = minifloat_rule::encode(x[i], minifloat::e2m1, {});
}

void encode_nf4_f32(const float* x, size_t n, float mul, uint8_t* out) noexcept {
  for (size_t i = 0; i < n; ++i) {
    const float s = x[i] * mul;
    uint8_t code = 15;
    if (s == s) {
      code = 0;
      for (float t : kNf4Thresholds) code = uint8_t(code + (t < s ? 1 : 0));
    }
    out[i] = code;
  }
}

namespace {

// Blocks of 32 under the MX FLOOR scale (see QPLAY_ENCODE_MXFP4_DECL), any element format.
void encode_mx_blocks(const float* x, size_t blocks, int emax, const minifloat::Format& f, bool half_away,
                      uint8_t* scales, uint8_t* codes) {
  const minifloat::EncodeOptions o{
      .saturate = true, .rounding = half_away ? minifloat::Rounding::half_away : minifloat::Rounding::half_even};
  for (size_t b = 0; b < blocks; ++b) {
    const float* xb = x + b * 32;
    uint8_t* cb = codes + b * 32;
    float amax = 0.0f;
    bool finite = true;
    for (size_t j = 0; j < 32; ++j) {
      const float a = std::fabs(xb[j]);
      if (!(a <= 3.40282347e38f)) finite = false;  // NaN or Inf
      else if (a > amax) amax = a;
    }
    if (!finite) {
      scales[b] = 0xFF;
      for (size_t j = 0; j < 32; ++j) cb[j] = 0;
      continue;
    }
    const uint8_t e = mx_floor_scale_code(amax, emax);
    scales[b] = e;
    const float inv = std::ldexp(1.0f, 127 - int(e));  // 1/X, a power of two: x * inv == x / X
    for (size_t j = 0; j < 32; ++j) cb[j] = minifloat_rule::encode(xb[j] * inv, f, o);
  }
}

}  // namespace

void encode_mxfp4_f32(const float* x, size_t blocks, bool half_away, uint8_t* scales,
                      uint8_t* codes) noexcept {
  encode_mx_blocks(x, blocks, 2, minifloat::e2m1, half_away, scales, codes);
}

void encode_mxfp8_e4m3_f32(const float* x, size_t blocks, bool half_away, uint8_t* scales,
                           uint8_t* codes) noexcept {
  encode_mx_blocks(x, blocks, 8, minifloat::e4m3fn, half_away, scales, codes);
}

void encode_mxfp8_e5m2_f32(const float* x, size_t blocks, bool half_away, uint8_t* scales,
                           uint8_t* codes) noexcept {
  encode_mx_blocks(x, blocks, 15, minifloat::e5m2, half_away, scales, codes);
}

}  // namespace scalar

namespace {

#define QPLAY_FLOAT_TABLE_ENTRY(name, decl) .name = &NS::name,
#define NS scalar
constexpr FloatTable kFloatScalar{QPLAY_FLOAT_KERNELS(QPLAY_FLOAT_TABLE_ENTRY).name = "scalar"};
#undef NS
#if QPLAY_HAVE_SIMD128
#define NS simd128
constexpr FloatTable kFloatSimd128{QPLAY_FLOAT_KERNELS(QPLAY_FLOAT_TABLE_ENTRY).name = "simd128"};
#undef NS
#endif
#undef QPLAY_FLOAT_TABLE_ENTRY

}  // namespace

const FloatTable& float_scalar_table() { return kFloatScalar; }

const FloatTable* float_simd128_table() {
#if QPLAY_HAVE_SIMD128
  return &kFloatSimd128;
#else
  return nullptr;
#endif
}

const FloatTable& float_table() { return same_twin_as_table(kFloatScalar, float_simd128_table()); }

}  // namespace qplay::kernels
