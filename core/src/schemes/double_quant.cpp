// --double-quant, generic scheme: the per-group float32 scales quantized to uint8 codes with one
// float32 super-scale per 256 scales. The bitsandbytes scheme lives in lut.cpp
// (bnb_double_quantize); docs/SCHEMES.md section 6 compares them.
#include <algorithm>
#include <cmath>
#include <string>

#include "qplay/error.hpp"
#include "qplay/quantize.hpp"

namespace qplay {

ScaleQuant double_quantize_scales(std::vector<float>& scales) {
  ScaleQuant dq;
  dq.scheme = "uint8";
  const size_t n = scales.size();
  const size_t block = size_t(dq.super_block);
  for (size_t i = 0; i < n; ++i)
    if (!(scales[i] >= 0.0f) || !std::isfinite(scales[i]))
      throw Error("--double-quant needs finite, non-negative scales (scale " + std::to_string(i) + " is " +
                  std::to_string(scales[i]) + ")");
  dq.codes.resize(n);
  dq.super.resize((n + block - 1) / block);
  for (size_t k = 0; k < dq.super.size(); ++k) {
    const size_t first = k * block, last = std::min(n, first + block);
    const float max = *std::max_element(scales.begin() + ptrdiff_t(first), scales.begin() + ptrdiff_t(last));
    // Scales are positive, so the unsigned grid spends all 256 codes on [0, max].
    const float super = max / 255.0f;
    dq.super[k] = super;
    for (size_t i = first; i < last; ++i) {
      float c = super > 0.0f ? std::nearbyint(scales[i] / super) : 0.0f;  // half-even (default FP mode)
      c = std::min(c, 255.0f);
      // A positive scale that rounded to 0 would send every value of its group to 0 (and divide
      // by zero): it keeps the smallest step instead.
      if (scales[i] > 0.0f && c < 1.0f) c = 1.0f;
      dq.codes[i] = uint8_t(c);
      scales[i] = c * super;
    }
  }
  return dq;
}

}  // namespace qplay
