// Internal: one quantize and one dequantize function per ggml block type, over whole blocks. The
// public entry points (ggml.cpp) validate lengths and values and pick these from a table.
//
// Every function restates ggml's quantize_row_<type>_ref / dequantize_row_<type>
// (ggml-org/ggml@d99724f2:src/ggml-quants.c) with the same float operations in the same order, so
// the results are bit-identical wherever C leaves nothing to the platform; docs/GGML_FORMATS.md
// lists the few places where it does and what we chose.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/ggml_kernels.hpp"
#include "kernels/kernels.hpp"

namespace qplay::ggml_detail {

// x: nblocks * block elements; out: nblocks * block bytes. The kernel-backed 32-element types
// check finiteness on the way and return false when they met a NaN or inf; the K-quants are
// handed values ggml.cpp has already checked and return true.
using QuantizeFn = bool (*)(const float* x, size_t nblocks, uint8_t* out);
using DequantizeFn = void (*)(const uint8_t* in, size_t nblocks, float* y);
using DecomposeFn = void (*)(const uint8_t* in, size_t nblocks, uint8_t* codes, float* scale, float* offset);

#define QPLAY_GGML_TYPES(X) \
  X(q8_0) X(q8_1) X(q4_0) X(q4_1) X(q5_0) X(q5_1) X(q2_k) X(q3_k) X(q4_k) X(q5_k) X(q6_k) X(iq4_nl) X(mxfp4)
// decompose: per element the stored code (int8 bit pattern where ggml centres it), per sub-block
// the float32 multiplier and additive offset such that dequantize gives exactly
// scale * value(code) + offset (two float32 roundings, no FMA); see ggml.hpp ggml_decompose.
#define QPLAY_GGML_SCHEME_DECL(type)                                  \
  bool quantize_##type(const float* x, size_t nblocks, uint8_t* out); \
  void dequantize_##type(const uint8_t* in, size_t nblocks, float* y); \
  void decompose_##type(const uint8_t* in, size_t nblocks, uint8_t* codes, float* scale, float* offset);
QPLAY_GGML_TYPES(QPLAY_GGML_SCHEME_DECL)
#undef QPLAY_GGML_SCHEME_DECL

}  // namespace qplay::ggml_detail
