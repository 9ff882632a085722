// ggml's non-linear 4-bit block formats: IQ4_NL (a fixed 16-level table times an fp16 scale) and
// MXFP4 (OCP MX: E2M1 codes under a shared E8M0 exponent).
// Source read: ggml-org/ggml@d99724f2:src/ggml-quants.c (best_index_int8, quantize_row_iq4_nl_impl,
// quantize_row_iq4_nl_ref, dequantize_row_iq4_nl, quantize_row_mxfp4_ref, dequantize_row_mxfp4),
// src/ggml-common.h (kvalues_iq4nl, kvalues_fp4), src/ggml-impl.h (ggml_e8m0_to_fp32_half).
// Both quantize through the kernels (scalar spec + SIMD twin, core/src/kernels/ggml_scalar.cpp).
#include <cmath>

#include "ggml_schemes.hpp"
#include "kernels/ggml_element.hpp"

namespace qplay::ggml_detail {

using namespace qplay::ggml_element;

// ---- IQ4_NL -------------------------------------------------------------------------------------
// The rule (and the carry-over of codes into all-zero blocks) is stated in the scalar kernel.
bool quantize_iq4_nl(const float* x, size_t nblocks, uint8_t* out) {
  return kernels::ggml_table().ggml_quantize_iq4_nl(x, nblocks, out);
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
  return kernels::ggml_table().ggml_quantize_mxfp4(x, nblocks, out);
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
