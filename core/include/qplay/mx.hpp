// OCP Microscaling (MX) formats: blocks of k = 32 elements sharing one E8M0 scale X = 2^(code - 127).
// Elements: MXFP8 (E4M3, E5M2), MXFP6 (E2M3, E3M2), MXFP4 (E2M1), MXINT8. Rules and sources in
// docs/FLOAT_FORMATS.md; the shape follows microxcaling's _quantize_mx.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "qplay/minifloat.hpp"

namespace qplay::mx {

enum class Element : uint8_t { fp8_e4m3, fp8_e5m2, fp6_e2m3, fp6_e3m2, fp4_e2m1, int8 };

struct ElementInfo {
  std::string_view name;      // "mxfp8_e4m3", ..., "mxint8"
  int emax;                   // exponent of the largest normal (microxcaling formats.py)
  float max_normal;           // 448, 57344, 7.5, 28, 6, 127/64
  int bits;                   // element width
  const minifloat::Format* format;  // the element's float format; nullptr for MXINT8
};
const ElementInfo& element_info(Element e) noexcept;

// How the shared exponent is chosen from the block's amax.
enum class ScaleRule : uint8_t {
  floor,  // OCP MX v1.0 / microxcaling: X = 2^(floor(log2(amax)) - emax); values in
          // (max_normal, 2^(emax + 1)) then saturate to max_normal
  rceil,  // torchao RCEIL (cuBLAS, NVIDIA): X = 2^ceil(log2(amax / max_normal)), amax / max_normal
          // in float32; nothing saturates
};

struct Options {
  Element element = Element::fp4_e2m1;
  ScaleRule scale = ScaleRule::floor;
  // Element rounding: half_even is the OCP spec's roundTiesToEven; half_away is microxcaling's
  // default round='nearest' (sign * floor(|t| + 0.5)).
  minifloat::Rounding rounding = minifloat::Rounding::half_even;
  size_t block = 32;  // elements per shared scale; the spec's k is 32, microxcaling allows any
};

// E8M0 code of a block's shared scale for a finite amax >= 0 (amax = 0 -> code 0, i.e. 2^-127,
// what microxcaling's FP32_MIN_NORMAL guard and ggml's MXFP4 both produce). The exponent is
// clamped to [-127, 127].
uint8_t scale_code(float amax, Element e, ScaleRule rule) noexcept;

// One element t = x / X: floats are encoded with saturation to +-max_normal; MXINT8 is
// clamp(round(t * 64), -127, 127) as an int8 bit pattern (microxcaling's sign-magnitude range).
uint8_t encode_element(float t, Element e, minifloat::Rounding rounding) noexcept;
float decode_element(uint8_t code, Element e) noexcept;

struct Quantized {
  Options options;
  size_t n = 0;
  std::vector<uint8_t> scales;     // one E8M0 code per block (the tail block has its own)
  std::vector<uint8_t> codes;      // one element bit pattern per value (low bits() bits)
  std::vector<float> dequantized;  // decode_element(code) * X; NaN for a block whose scale is NaN
  uint64_t saturated = 0;          // finite elements with |x / X| > max_normal
};

// Blocks run along x in order; a block holding NaN or +-Inf gets scale 0xFF (NaN), element codes
// 0 and dequantizes to NaN. Throws qplay::Error when options.block is 0.
Quantized quantize(const float* x, size_t n, const Options& options = {});
// quantize's encoding step alone, into caller memory: scales[ceil(n / block)] and codes[n]. Returns
// the saturated count. (MXFP4 and MXFP8 with the FLOOR rule and blocks of 32 run on the SIMD kernels.)
uint64_t encode(const float* x, size_t n, const Options& options, uint8_t* scales, uint8_t* codes);
// y[i] = decode_element(codes[i]) * 2^(scales[block] - 127), float32; scale 0xFF gives NaN.
void dequantize(const Quantized& q, float* out);

}  // namespace qplay::mx
