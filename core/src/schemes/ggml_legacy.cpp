// ggml's 32-element "legacy" block formats: Q8_0, Q8_1, Q4_0, Q4_1, Q5_0, Q5_1.
// Source read: ggml-org/ggml@d99724f2:src/ggml-quants.c (quantize_row_q*_ref, dequantize_row_q*),
// src/ggml-common.h (block layouts). All of them quantize through the kernels (scalar spec + SIMD
// twin, core/src/kernels/ggml_scalar.cpp, where each quantizer's rule is stated); the decoders are
// here.
#include <cfloat>
#include <cmath>
#include <cstring>

#include "ggml_schemes.hpp"
#include "kernels/ggml_element.hpp"

namespace qplay::ggml_detail {

using namespace qplay::ggml_element;

namespace {

uint32_t load_u32le(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

}  // namespace

// ---- Q8_0 ---------------------------------------------------------------------------------------
bool quantize_q8_0(const float* x, size_t nblocks, uint8_t* out) {
  return kernels::ggml_table().ggml_quantize_q8_0(x, nblocks, out);
}

void dequantize_q8_0(const uint8_t* in, size_t nblocks, float* y) {
  for (size_t b = 0; b < nblocks; ++b, in += kQ8_0Bytes, y += kQK) {
    const float d = load_fp16(in);
    for (size_t j = 0; j < kQK; ++j) y[j] = float(int8_t(in[2 + j])) * d;
  }
}

void decompose_q8_0(const uint8_t* in, size_t nblocks, uint8_t* codes, float* scale, float* offset) {
  for (size_t b = 0; b < nblocks; ++b, in += kQ8_0Bytes, codes += kQK) {
    scale[b] = load_fp16(in);
    offset[b] = 0.0f;
    std::memcpy(codes, in + 2, kQK);  // int8 q as it is
  }
}

// ---- Q8_1 ---------------------------------------------------------------------------------------
// Q8_0 plus s = fp16(d * sum(q)) (ggml uses it for dot products). The sum is of the stored int8 codes.
bool quantize_q8_1(const float* x, size_t nblocks, uint8_t* out) {
  return kernels::ggml_table().ggml_quantize_q8_1(x, nblocks, out);
}

// ggml has no dequantize_row_q8_1 (its type traits have no to_float for Q8_1): qs[j] * d, like Q8_0.
void dequantize_q8_1(const uint8_t* in, size_t nblocks, float* y) {
  for (size_t b = 0; b < nblocks; ++b, in += kQ8_1Bytes, y += kQK) {
    const float d = load_fp16(in);
    for (size_t j = 0; j < kQK; ++j) y[j] = float(int8_t(in[4 + j])) * d;
  }
}

void decompose_q8_1(const uint8_t* in, size_t nblocks, uint8_t* codes, float* scale, float* offset) {
  for (size_t b = 0; b < nblocks; ++b, in += kQ8_1Bytes, codes += kQK) {
    scale[b] = load_fp16(in);
    offset[b] = 0.0f;
    std::memcpy(codes, in + 4, kQK);
  }
}

// ---- Q4_0 ---------------------------------------------------------------------------------------
bool quantize_q4_0(const float* x, size_t nblocks, uint8_t* out) {
  return kernels::ggml_table().ggml_quantize_q4_0(x, nblocks, out);
}

void dequantize_q4_0(const uint8_t* in, size_t nblocks, float* y) {
  for (size_t b = 0; b < nblocks; ++b, in += kQ4_0Bytes, y += kQK) {
    const float d = load_fp16(in);
    for (size_t j = 0; j < kQK / 2; ++j) {
      y[j] = float(int(in[2 + j] & 0x0F) - 8) * d;
      y[j + kQK / 2] = float(int(in[2 + j] >> 4) - 8) * d;
    }
  }
}

void decompose_q4_0(const uint8_t* in, size_t nblocks, uint8_t* codes, float* scale, float* offset) {
  for (size_t b = 0; b < nblocks; ++b, in += kQ4_0Bytes, codes += kQK) {
    scale[b] = load_fp16(in);
    offset[b] = 0.0f;
    for (size_t j = 0; j < kQK / 2; ++j) {  // q - 8 as int8
      codes[j] = uint8_t(int(in[2 + j] & 0x0F) - 8);
      codes[j + kQK / 2] = uint8_t(int(in[2 + j] >> 4) - 8);
    }
  }
}

// ---- Q4_1 ---------------------------------------------------------------------------------------
// d = (max - min) / 15, m = min, q = min(15, (int8_t)((x - min) * (1/d) + 0.5f)): round half up of
// the shifted value (with the float add's own rounding); x = q * d + m.
bool quantize_q4_1(const float* x, size_t nblocks, uint8_t* out) {
  return kernels::ggml_table().ggml_quantize_q4_1(x, nblocks, out);
}

void dequantize_q4_1(const uint8_t* in, size_t nblocks, float* y) {
  for (size_t b = 0; b < nblocks; ++b, in += kQ4_1Bytes, y += kQK) {
    const float d = load_fp16(in);
    const float m = load_fp16(in + 2);
    for (size_t j = 0; j < kQK / 2; ++j) {
      y[j] = float(in[4 + j] & 0x0F) * d + m;
      y[j + kQK / 2] = float(in[4 + j] >> 4) * d + m;
    }
  }
}

void decompose_q4_1(const uint8_t* in, size_t nblocks, uint8_t* codes, float* scale, float* offset) {
  for (size_t b = 0; b < nblocks; ++b, in += kQ4_1Bytes, codes += kQK) {
    scale[b] = load_fp16(in);
    offset[b] = load_fp16(in + 2);
    for (size_t j = 0; j < kQK / 2; ++j) {
      codes[j] = uint8_t(in[4 + j] & 0x0F);
      codes[j + kQK / 2] = uint8_t(in[4 + j] >> 4);
    }
  }
}

// ---- Q5_0 ---------------------------------------------------------------------------------------
// Like Q4_0 with 5 bits: d = max / -16, q = min(31, (int8_t)(x * (1/d) + 16.5f)). Low nibbles as
// Q4_0; bit 4 of element j (j < 16) goes to bit j of the little-endian uint32 qh, of element j + 16
// to bit j + 16.
bool quantize_q5_0(const float* x, size_t nblocks, uint8_t* out) {
  return kernels::ggml_table().ggml_quantize_q5_0(x, nblocks, out);
}

void dequantize_q5_0(const uint8_t* in, size_t nblocks, float* y) {
  for (size_t b = 0; b < nblocks; ++b, in += kQ5_0Bytes, y += kQK) {
    const float d = load_fp16(in);
    const uint32_t qh = load_u32le(in + 2);
    for (size_t j = 0; j < kQK / 2; ++j) {
      const int h0 = int((qh >> j) & 1u) << 4;
      const int h1 = int((qh >> (j + kQK / 2)) & 1u) << 4;
      y[j] = float(((in[6 + j] & 0x0F) | h0) - 16) * d;
      y[j + kQK / 2] = float(((in[6 + j] >> 4) | h1) - 16) * d;
    }
  }
}

void decompose_q5_0(const uint8_t* in, size_t nblocks, uint8_t* codes, float* scale, float* offset) {
  for (size_t b = 0; b < nblocks; ++b, in += kQ5_0Bytes, codes += kQK) {
    scale[b] = load_fp16(in);
    offset[b] = 0.0f;
    const uint32_t qh = load_u32le(in + 2);
    for (size_t j = 0; j < kQK / 2; ++j) {  // q - 16 as int8
      codes[j] = uint8_t(((in[6 + j] & 0x0F) | int((qh >> j) & 1u) << 4) - 16);
      codes[j + kQK / 2] = uint8_t(((in[6 + j] >> 4) | int((qh >> (j + kQK / 2)) & 1u) << 4) - 16);
    }
  }
}

// ---- Q5_1 ---------------------------------------------------------------------------------------
// d = (max - min) / 31, m = min, q = (uint8_t)((x - min) * (1/d) + 0.5f) -- no clamp in ggml.
bool quantize_q5_1(const float* x, size_t nblocks, uint8_t* out) {
  return kernels::ggml_table().ggml_quantize_q5_1(x, nblocks, out);
}

void dequantize_q5_1(const uint8_t* in, size_t nblocks, float* y) {
  for (size_t b = 0; b < nblocks; ++b, in += kQ5_1Bytes, y += kQK) {
    const float d = load_fp16(in);
    const float m = load_fp16(in + 2);
    const uint32_t qh = load_u32le(in + 4);
    for (size_t j = 0; j < kQK / 2; ++j) {
      const int h0 = int((qh >> j) & 1u) << 4;
      const int h1 = int((qh >> (j + kQK / 2)) & 1u) << 4;
      y[j] = float((in[8 + j] & 0x0F) | h0) * d + m;
      y[j + kQK / 2] = float((in[8 + j] >> 4) | h1) * d + m;
    }
  }
}

void decompose_q5_1(const uint8_t* in, size_t nblocks, uint8_t* codes, float* scale, float* offset) {
  for (size_t b = 0; b < nblocks; ++b, in += kQ5_1Bytes, codes += kQK) {
    scale[b] = load_fp16(in);
    offset[b] = load_fp16(in + 2);
    const uint32_t qh = load_u32le(in + 4);
    for (size_t j = 0; j < kQK / 2; ++j) {
      codes[j] = uint8_t((in[8 + j] & 0x0F) | int((qh >> j) & 1u) << 4);
      codes[j + kQK / 2] = uint8_t((in[8 + j] >> 4) | int((qh >> (j + kQK / 2)) & 1u) << 4);
    }
  }
}

}  // namespace qplay::ggml_detail
