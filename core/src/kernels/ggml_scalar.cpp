// The scalar twins of the hot ggml quantizers: the specification ggml_simd128.cpp is tested against
// bit for bit. Each loop states ggml's quantize_row_<type>_ref for one 32-element block
// (ggml-org/ggml@d99724f2:src/ggml-quants.c), in the same float operations and order.
#include <cfloat>
#include <cmath>

#include "ggml_element.hpp"
#include "ggml_kernels.hpp"

namespace qplay::kernels::scalar {

using namespace qplay::ggml_element;

// Q8_0: d = amax / 127 (stored as fp16), q = roundf(x * (1/d)) -- C roundf, ties away from zero.
// q is computed with the fp32 1/d, not the fp16 d the decoder will use.
bool ggml_quantize_q8_0(const float* x, size_t nblocks, uint8_t* out) noexcept {
  bool finite = true;
  for (size_t b = 0; b < nblocks; ++b, x += kQK, out += kQ8_0Bytes) {
    float amax = 0.0f;
    for (size_t j = 0; j < kQK; ++j) {
      const float a = std::fabs(x[j]);
      finite &= a <= FLT_MAX;  // false for NaN and inf
      amax = amax > a ? amax : a;
    }
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_fp16(out, d);
    for (size_t j = 0; j < kQK; ++j) out[2 + j] = uint8_t(trunc_i32_x86(std::round(x[j] * id)));
  }
  return finite;
}

// Q4_0: max = the signed value of largest magnitude (the first one on ties), d = max / -8, and
// q = min(15, (int8_t)(x * (1/d) + 8.5f)): truncation after adding 8.5 in float, i.e. round half up
// of x/d, where the float add itself may round (0.49999997f + 8.5f == 9.0f). The extreme element
// gets q = 0; its negation would get 16 and is clamped to 15. Nibbles: element j low, j + 16 high.
// An all-zero block has max = +0, so d = -0.0 (fp16 0x8000) and every q = 8.
bool ggml_quantize_q4_0(const float* x, size_t nblocks, uint8_t* out) noexcept {
  bool finite = true;
  for (size_t b = 0; b < nblocks; ++b, x += kQK, out += kQ4_0Bytes) {
    float amax = 0.0f, max = 0.0f;
    for (size_t j = 0; j < kQK; ++j) {
      const float a = std::fabs(x[j]);
      finite &= a <= FLT_MAX;
      if (amax < a) {
        amax = a;
        max = x[j];
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_fp16(out, d);
    for (size_t j = 0; j < kQK / 2; ++j) {
      const int8_t v0 = int8_t(trunc_i32_x86(x[j] * id + 8.5f));
      const int8_t v1 = int8_t(trunc_i32_x86(x[j + kQK / 2] * id + 8.5f));
      const uint8_t q0 = uint8_t(v0 < 15 ? v0 : 15);
      const uint8_t q1 = uint8_t(v1 < 15 ? v1 : 15);
      out[2 + j] = uint8_t(q0 | (q1 << 4));
    }
  }
  return finite;
}

// MXFP4: e = floor(log2(amax)) - 2 + 127 (OCP's rule for E2M1, emax 2), d = 2^(e-127) / 2, and
// each element the index of the nearest kvalue * d, ties to the lower index.
bool ggml_quantize_mxfp4(const float* x, size_t nblocks, uint8_t* out) noexcept {
  bool finite = true;
  for (size_t b = 0; b < nblocks; ++b, x += kQK, out += kMxfp4Bytes) {
    float amax = 0.0f;
    for (size_t j = 0; j < kQK; ++j) {
      const float a = std::fabs(x[j]);
      finite &= a <= FLT_MAX;
      if (amax < a) amax = a;
    }
    const uint8_t e = mxfp4_exponent(amax);
    const float d = e8m0_to_fp32_half(e);
    out[0] = e;
    for (size_t j = 0; j < kQK / 2; ++j) {
      out[1 + j] = uint8_t(mxfp4_best_index(x[j], d) | (mxfp4_best_index(x[j + kQK / 2], d) << 4));
    }
  }
  return finite;
}

}  // namespace qplay::kernels::scalar
