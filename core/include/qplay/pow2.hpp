// Power-of-two (logarithmic) quantization with a sign bit: every non-zero level is s * 2^-j, so a
// dequantization is a shift. Definition and tie rule in docs/FLOAT_FORMATS.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace qplay::pow2 {

// A b-bit code (2 <= b <= 8) is a sign bit above a (b - 1)-bit level k:
//   k = 0            -> 0 (the sign bit set gives -0)
//   k = 1 .. L       -> s * 2^(k - L),  L = 2^(b - 1) - 1 levels: s, s/2, ..., s * 2^(1 - L)
// Encoding m = |x| / s (float32) picks the nearest level in the LINEAR domain:
//   m >= 1 (or +-Inf)          -> k = L (values above s saturate; counted as clipped when m > 1)
//   m < 2^-L                   -> 0     (below the midpoint between 0 and the smallest level)
//   otherwise, 2^e <= m < 2^(e+1): the level 2^(e+1) when m >= 1.5 * 2^e (the linear midpoint;
//     a tie goes to the larger magnitude), else 2^e; then at least the smallest level.
// NaN -> 0. The rounding is exact (the float32 exponent and mantissa bits are compared directly).
struct Options {
  int bits = 4;
  float scale = 1.0f;  // s: the largest level, > 0 and finite
};

uint8_t encode(float x, const Options& o) noexcept;
float decode(uint8_t code, const Options& o) noexcept;

struct Quantized {
  std::vector<uint8_t> codes;
  std::vector<float> dequantized;
  uint64_t clipped = 0;  // finite |x| / s > 1
};
// Throws qplay::Error for bits outside 2..8 or a scale that is not finite and positive.
Quantized quantize(const float* x, size_t n, const Options& o);

// s for a tensor: its max |x| over finite values (1 when there is none), or with power_of_two the
// smallest power of two at or above it, which makes every level an exact power of two.
float scale_for(const float* x, size_t n, bool power_of_two) noexcept;

}  // namespace qplay::pow2
