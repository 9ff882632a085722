// llama.cpp / ggml block quantization formats, byte for byte.
//
// ggml_quantize gives the same block bytes as ggml's quantize_row_<type>_ref (round to nearest,
// no importance matrix: what llama-quantize writes for these types without --imatrix), and
// ggml_dequantize the same floats as dequantize_row_<type>. Every format's own rounding quirk is
// reproduced on purpose; docs/GGML_FORMATS.md has each layout, formula and quirk with the ggml
// source it was read from.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace qplay {

enum class GgmlType : uint8_t {
  q8_0, q8_1, q4_0, q4_1, q5_0, q5_1,  // 32-element blocks
  q2_k, q3_k, q4_k, q5_k, q6_k,        // 256-element super-blocks (K-quants)
  iq4_nl, mxfp4,                       // 32-element blocks, non-linear 4-bit codes
};

inline constexpr std::array<GgmlType, 13> kGgmlTypes = {
    GgmlType::q8_0, GgmlType::q8_1, GgmlType::q4_0, GgmlType::q4_1, GgmlType::q5_0,
    GgmlType::q5_1, GgmlType::q2_k, GgmlType::q3_k, GgmlType::q4_k, GgmlType::q5_k,
    GgmlType::q6_k, GgmlType::iq4_nl, GgmlType::mxfp4};

// "q8_0" ... "q6_k", "iq4_nl", "mxfp4" (the CLI spelling; ggml itself writes "q4_K").
std::string_view ggml_type_name(GgmlType t);
// The inverse of ggml_type_name, case-insensitive (so ggml's "q4_K" and "Q4_K" work too); an
// unknown name is a qplay::Error listing the accepted ones.
GgmlType parse_ggml_type(std::string_view name);

// The GGUF / ggml_type id (docs/gguf.md): q4_0 2, q4_1 3, q5_0 6, q5_1 7, q8_0 8, q8_1 9,
// q2_k 10 ... q6_k 14, iq4_nl 20, mxfp4 39.
uint32_t ggml_type_id(GgmlType t);
std::optional<GgmlType> ggml_type_from_id(uint32_t id);  // nullopt for ids we do not implement

size_t ggml_block_elems(GgmlType t);  // 32, or 256 for the K-quants
size_t ggml_block_bytes(GgmlType t);  // e.g. q8_0 34, q4_k 144, mxfp4 17
// Bytes of n elements (n must be a multiple of the block size; qplay::Error otherwise).
size_t ggml_row_bytes(GgmlType t, size_t n);

// Quantizes one row: row.size() / ggml_block_elems(t) blocks, concatenated. The row length must be
// a multiple of the block size and every value finite (qplay::Error otherwise: ggml's result for
// NaN or inf is undefined behaviour in C). A longer span is quantized as consecutive rows would be,
// except for IQ4_NL's all-zero blocks (see docs/GGML_FORMATS.md).
std::vector<uint8_t> ggml_quantize(GgmlType t, std::span<const float> row);
// The same into caller-owned memory (e.g. a GGUF tensor being written row by row): out.size() must
// be ggml_row_bytes(t, row.size()).
void ggml_quantize_into(GgmlType t, std::span<const float> row, std::span<uint8_t> out);

// Decodes blocks into out: out.size() must be a multiple of the block size and blocks.size() equal
// to ggml_row_bytes(t, out.size()) (qplay::Error otherwise). Any bytes decode (no validation), as
// in ggml. Q8_1 has no dequantize_row in ggml; it decodes as qs[j] * d.
void ggml_dequantize(GgmlType t, std::span<const uint8_t> blocks, std::span<float> out);

// The stored blocks as per-element codes and per-sub-block float32 members, so that for element k of
// sub-block b, ggml_dequantize gives exactly  scale[b] * value(code[k]) + offset[b]  (a float32
// product, then a float32 sum; offset is 0 where the format has none, making the sum exact).
// value(code) is the code itself (int8 for the signed formats, uint8 otherwise) or, for iq4_nl and
// mxfp4, ggml_codebook(t)[code]. docs/GGML_FORMATS.md lists each format's members.
size_t ggml_sub_block(GgmlType t);     // elements sharing one scale: 16 (q2_k, q3_k, q6_k) or 32
bool ggml_codes_signed(GgmlType t);    // q8_0, q8_1, q4_0 (q-8), q5_0 (q-16), q3_k, q6_k (q-32)
bool ggml_has_offset(GgmlType t);      // q4_1, q5_1 (+m), q2_k, q4_k, q5_k (-dmin*m)
int ggml_code_bits(GgmlType t);        // bits of one code: 8, 4, 5, 2, 3, 6
// The value table of iq4_nl (kvalues_iq4nl) and mxfp4 (E2M1 doubled); empty for the others.
std::span<const int8_t> ggml_codebook(GgmlType t);
struct GgmlDecomposed {
  std::vector<uint8_t> codes;  // one per element (int8 bit patterns where ggml_codes_signed)
  std::vector<float> scale, offset;  // one per sub-block, in element order
};
// blocks as ggml_dequantize takes them, for n elements.
GgmlDecomposed ggml_decompose(GgmlType t, std::span<const uint8_t> blocks, size_t n);

// ggml's IEEE half conversions (ggml-impl.h ggml_compute_fp32_to_fp16 / _fp16_to_fp32): round to
// nearest even, overflow to inf, any NaN -> sign | 0x7E00; half -> float exact (a signalling NaN
// comes back quiet).
uint16_t ggml_fp32_to_fp16(float f);
float ggml_fp16_to_fp32(uint16_t h);

}  // namespace qplay
