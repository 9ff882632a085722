// ggml's non-linear 4-bit block formats: IQ4_NL (a fixed 16-level table times an fp16 scale) and
// MXFP4 (OCP MX: E2M1 codes under a shared E8M0 exponent).
// Source read: ggml-org/ggml@d99724f2:src/ggml-quants.c (best_index_int8, quantize_row_iq4_nl_impl,
// quantize_row_iq4_nl_ref, dequantize_row_iq4_nl, quantize_row_mxfp4_ref, dequantize_row_mxfp4),
// src/ggml-common.h (kvalues_iq4nl, kvalues_fp4), src/ggml-impl.h (ggml_e8m0_to_fp32_half).
// MXFP4 quantizes through the kernels (scalar spec + SIMD twin, core/src/kernels/ggml_scalar.cpp).
#include <cmath>

#include "ggml_schemes.hpp"
#include "kernels/ggml_element.hpp"

namespace qplay::ggml_detail {

using namespace qplay::ggml_element;

namespace {

constexpr float kGroupMaxEps = 1e-15f;
constexpr size_t kIq4nlBytes = 18;  // d:f16, qs[16]

// The levels as floats (exact), so the search below converts nothing.
constexpr float kLevels[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

// ggml's best_index_int8 over the 16 IQ4_NL levels: the nearest level, a tie going to the UPPER
// one (x - lower < upper - x is strict), values outside the table to its ends.
inline uint8_t iq4nl_best_index(float x) {
  if (x <= kLevels[0]) return 0;
  if (x >= kLevels[15]) return 15;
  int ml = 0, mu = 15;  // bisect to kLevels[mu - 1] <= x < kLevels[mu]
  while (mu - ml > 1) {
    const int mid = (ml + mu) / 2;
    if (x < kLevels[mid]) {
      mu = mid;
    } else {
      ml = mid;
    }
  }
  return uint8_t(x - kLevels[mu - 1] < kLevels[mu] - x ? mu - 1 : mu);
}

}  // namespace

// ---- IQ4_NL -------------------------------------------------------------------------------------
// quantize_row_iq4_nl_ref = quantize_row_iq4_nl_impl(32, 32, ..., no weights, ntry = -1): weights
// x^2; with max = the signed value of largest magnitude (first on ties), d = max / -127 and codes
// best_index(x / d); the stored scale is the weighted least-squares refit sum(w q x) / sum(w q^2)
// (as fp16), while the codes stay those of the unrefitted d. (llama-quantize's quantize_iq4_nl uses
// ntry = 7, a further scale search: different bytes.)
//
// A block whose max |x| is below GROUP_MAX_EPS gets d = 0 and ggml packs codes from a buffer it did
// not write for that block: whatever the previous block of the same call left there (uninitialised
// memory for the first block). We reproduce the carry-over within a call and start from zero codes.
bool quantize_iq4_nl(const float* x, size_t nblocks, uint8_t* out) {
  uint8_t L[32] = {};
  for (size_t b = 0; b < nblocks; ++b, x += kQK, out += kIq4nlBytes) {
    float amax = 0, max = 0;
    for (size_t j = 0; j < kQK; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) {
        amax = ax;
        max = x[j];
      }
    }
    float d = 0.0f;
    if (!(amax < kGroupMaxEps)) {
      d = max / float(kIq4nlValues[0]);
      const float id = 1 / d;
      float sumqx = 0, sumq2 = 0;
      for (size_t j = 0; j < kQK; ++j) {
        const uint8_t l = iq4nl_best_index(id * x[j]);
        L[j] = l;
        const float q = kLevels[l];
        const float w = x[j] * x[j];
        sumqx += w * q * x[j];
        sumq2 += w * q * q;
      }
      d = sumq2 > 0 ? sumqx / sumq2 : 0.0f;
    }
    store_fp16(out, d);
    for (size_t j = 0; j < kQK / 2; ++j) out[2 + j] = uint8_t(L[j] | (L[j + kQK / 2] << 4));
  }
  return true;
}

void dequantize_iq4_nl(const uint8_t* in, size_t nblocks, float* y) {
  for (size_t b = 0; b < nblocks; ++b, in += kIq4nlBytes, y += kQK) {
    const float d = load_fp16(in);
    for (size_t j = 0; j < kQK / 2; ++j) {
      y[j] = d * float(kIq4nlValues[in[2 + j] & 0xF]);
      y[j + kQK / 2] = d * float(kIq4nlValues[in[2 + j] >> 4]);
    }
  }
}

// Codes are table indices; scale * kvalues[code] is the dequantized value.
void decompose_iq4_nl(const uint8_t* in, size_t nblocks, uint8_t* codes, float* scale, float* offset) {
  for (size_t b = 0; b < nblocks; ++b, in += kIq4nlBytes, codes += kQK) {
    scale[b] = load_fp16(in);
    offset[b] = 0.0f;
    for (size_t j = 0; j < kQK / 2; ++j) {
      codes[j] = uint8_t(in[2 + j] & 0xF);
      codes[j + kQK / 2] = uint8_t(in[2 + j] >> 4);
    }
  }
}

// ---- MXFP4 --------------------------------------------------------------------------------------
bool quantize_mxfp4(const float* x, size_t nblocks, uint8_t* out) {
  return QPLAY_GGML_KERNEL_CALL(mxfp4, x, nblocks, out);
}

void dequantize_mxfp4(const uint8_t* in, size_t nblocks, float* y) {
  for (size_t b = 0; b < nblocks; ++b, in += kMxfp4Bytes, y += kQK) {
    const float d = e8m0_to_fp32_half(in[0]);
    for (size_t j = 0; j < kQK / 2; ++j) {
      y[j] = float(kMxfp4Values[in[1 + j] & 0xF]) * d;
      y[j + kQK / 2] = float(kMxfp4Values[in[1 + j] >> 4]) * d;
    }
  }
}

// scale is ggml's halved E8M0 (the table is E2M1 doubled), codes are table indices.
void decompose_mxfp4(const uint8_t* in, size_t nblocks, uint8_t* codes, float* scale, float* offset) {
  for (size_t b = 0; b < nblocks; ++b, in += kMxfp4Bytes, codes += kQK) {
    scale[b] = e8m0_to_fp32_half(in[0]);
    offset[b] = 0.0f;
    for (size_t j = 0; j < kQK / 2; ++j) {
      codes[j] = uint8_t(in[1 + j] & 0xF);
      codes[j + kQK / 2] = uint8_t(in[1 + j] >> 4);
    }
  }
}

}  // namespace qplay::ggml_detail
