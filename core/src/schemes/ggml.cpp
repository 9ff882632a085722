// The public ggml API: the type table (names, GGUF ids, block geometry), argument checks, and the
// dispatch to the per-family implementations (ggml_legacy.cpp, ggml_kquants.cpp,
// ggml_iq4nl_mxfp4.cpp).
#include "qplay/ggml.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>

#include "ggml_schemes.hpp"
#include "kernels/ggml_element.hpp"
#include "kernels/kernels.hpp"
#include "qplay/error.hpp"

namespace qplay {

namespace {

struct TypeInfo {
  GgmlType type;
  std::string_view name;
  uint32_t gguf_id;
  size_t block_elems;
  size_t block_bytes;
  ggml_detail::QuantizeFn quantize;
  ggml_detail::DequantizeFn dequantize;
  ggml_detail::DecomposeFn decompose;
  size_t sub_block;
  int code_bits;
  bool codes_signed, has_offset;
};

#define QPLAY_GGML_ROW(t, id, elems, bytes, sub, bits, sgn, off)                                     \
  TypeInfo{GgmlType::t, #t, id, elems, bytes, &ggml_detail::quantize_##t, &ggml_detail::dequantize_##t, \
           &ggml_detail::decompose_##t, sub, bits, sgn, off}
// Block sizes from ggml-common.h's static_asserts; ids from ggml.h / docs/gguf.md; sub-blocks,
// code widths and members from each dequantize_row_<type> (docs/GGML_FORMATS.md).
constexpr TypeInfo kTypes[] = {
    QPLAY_GGML_ROW(q8_0, 8, 32, 34, 32, 8, true, false),
    QPLAY_GGML_ROW(q8_1, 9, 32, 36, 32, 8, true, false),
    QPLAY_GGML_ROW(q4_0, 2, 32, 18, 32, 4, true, false),
    QPLAY_GGML_ROW(q4_1, 3, 32, 20, 32, 4, false, true),
    QPLAY_GGML_ROW(q5_0, 6, 32, 22, 32, 5, true, false),
    QPLAY_GGML_ROW(q5_1, 7, 32, 24, 32, 5, false, true),
    QPLAY_GGML_ROW(q2_k, 10, 256, 84, 16, 2, false, true),
    QPLAY_GGML_ROW(q3_k, 11, 256, 110, 16, 3, true, false),
    QPLAY_GGML_ROW(q4_k, 12, 256, 144, 32, 4, false, true),
    QPLAY_GGML_ROW(q5_k, 13, 256, 176, 32, 5, false, true),
    QPLAY_GGML_ROW(q6_k, 14, 256, 210, 16, 6, true, false),
    QPLAY_GGML_ROW(iq4_nl, 20, 32, 18, 32, 4, false, false),
    QPLAY_GGML_ROW(mxfp4, 39, 32, 17, 32, 4, false, false),
};
#undef QPLAY_GGML_ROW
static_assert(std::size(kTypes) == kGgmlTypes.size());

const TypeInfo& info(GgmlType t) {
  for (const TypeInfo& i : kTypes) {
    if (i.type == t) return i;
  }
  throw Error("unknown ggml type (enum value " + std::to_string(int(t)) + ")");
}

std::string type_label(GgmlType t) { return "ggml " + std::string(info(t).name); }

void check_whole_blocks(GgmlType t, size_t n) {
  const TypeInfo& i = info(t);
  if (n % i.block_elems != 0) {
    throw Error(type_label(t) + ": a row of " + std::to_string(n) +
                " elements is not a multiple of the block size " + std::to_string(i.block_elems));
  }
}

std::string describe_value(float v) {
  if (v != v) return "NaN";
  return v > 0 ? "inf" : "-inf";
}

}  // namespace

std::string_view ggml_type_name(GgmlType t) { return info(t).name; }

GgmlType parse_ggml_type(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  for (const TypeInfo& i : kTypes) {
    if (i.name == lower) return i.type;
  }
  std::string allowed;
  for (const TypeInfo& i : kTypes) allowed += (allowed.empty() ? "" : ", ") + std::string(i.name);
  throw Error("unknown ggml type '" + std::string(name) + "' (allowed: " + allowed + ")");
}

uint32_t ggml_type_id(GgmlType t) { return info(t).gguf_id; }

std::optional<GgmlType> ggml_type_from_id(uint32_t id) {
  for (const TypeInfo& i : kTypes) {
    if (i.gguf_id == id) return i.type;
  }
  return std::nullopt;
}

size_t ggml_block_elems(GgmlType t) { return info(t).block_elems; }
size_t ggml_block_bytes(GgmlType t) { return info(t).block_bytes; }

size_t ggml_row_bytes(GgmlType t, size_t n) {
  check_whole_blocks(t, n);
  return n / info(t).block_elems * info(t).block_bytes;
}

namespace {

// Throws for the first non-finite value of x[0..n) (index reported from `base`).
void check_finite(GgmlType t, const float* x, size_t n, size_t base) {
  kernels::MinMax mm;
  kernels::table().minmax_f32(x, n, &mm);
  if (mm.nonfinite == 0) return;
  for (size_t k = 0; k < n; ++k) {
    if (!std::isfinite(x[k])) {
      throw Error(type_label(t) + ": element " + std::to_string(base + k) + " is " +
                  describe_value(x[k]) + "; ggml block formats need finite values");
    }
  }
}

}  // namespace

void ggml_quantize_into(GgmlType t, std::span<const float> row, std::span<uint8_t> out) {
  const TypeInfo& i = info(t);
  check_whole_blocks(t, row.size());
  const size_t nblocks = row.size() / i.block_elems;
  if (out.size() != nblocks * i.block_bytes) {
    throw Error(type_label(t) + ": " + std::to_string(row.size()) + " elements quantize to " +
                std::to_string(nblocks * i.block_bytes) + " bytes, the output has " +
                std::to_string(out.size()));
  }
  if (i.block_elems == 32) {
    // The 32-block kernels check finiteness on the block max they compute anyway: no extra pass.
    // (One call for the row: IQ4_NL carries codes from block to block.)
    if (!i.quantize(row.data(), nblocks, out.data())) check_finite(t, row.data(), row.size(), 0);
    return;
  }
  // The finiteness check runs chunk by chunk just before the chunk is quantized, so the quantizer
  // reads values that are still in cache. kChunk is a multiple of every block size.
  constexpr size_t kChunk = 8192;
  for (size_t at = 0; at < row.size(); at += kChunk) {
    const size_t n = std::min(kChunk, row.size() - at);
    check_finite(t, row.data() + at, n, at);
    i.quantize(row.data() + at, n / i.block_elems, out.data() + at / i.block_elems * i.block_bytes);
  }
}

std::vector<uint8_t> ggml_quantize(GgmlType t, std::span<const float> row) {
  std::vector<uint8_t> out(ggml_row_bytes(t, row.size()));
  ggml_quantize_into(t, row, out);
  return out;
}

void ggml_dequantize(GgmlType t, std::span<const uint8_t> blocks, std::span<float> out) {
  const TypeInfo& i = info(t);
  check_whole_blocks(t, out.size());
  const size_t nblocks = out.size() / i.block_elems;
  if (blocks.size() != nblocks * i.block_bytes) {
    throw Error(type_label(t) + ": " + std::to_string(out.size()) + " elements need " +
                std::to_string(nblocks * i.block_bytes) + " bytes (" + std::to_string(nblocks) +
                " blocks of " + std::to_string(i.block_bytes) + "), got " +
                std::to_string(blocks.size()));
  }
  i.dequantize(blocks.data(), nblocks, out.data());
}

size_t ggml_sub_block(GgmlType t) { return info(t).sub_block; }
bool ggml_codes_signed(GgmlType t) { return info(t).codes_signed; }
bool ggml_has_offset(GgmlType t) { return info(t).has_offset; }
int ggml_code_bits(GgmlType t) { return info(t).code_bits; }

std::span<const int8_t> ggml_codebook(GgmlType t) {
  if (t == GgmlType::iq4_nl) return ggml_element::kIq4nlValues;
  if (t == GgmlType::mxfp4) return ggml_element::kMxfp4Values;
  return {};
}

GgmlDecomposed ggml_decompose(GgmlType t, std::span<const uint8_t> blocks, size_t n) {
  const TypeInfo& i = info(t);
  check_whole_blocks(t, n);
  const size_t nblocks = n / i.block_elems;
  if (blocks.size() != nblocks * i.block_bytes)
    throw Error(type_label(t) + ": " + std::to_string(n) + " elements need " + std::to_string(nblocks * i.block_bytes) +
                " bytes, got " + std::to_string(blocks.size()));
  GgmlDecomposed d;
  d.codes.resize(n);
  d.scale.resize(n / i.sub_block);
  d.offset.resize(n / i.sub_block);
  i.decompose(blocks.data(), nblocks, d.codes.data(), d.scale.data(), d.offset.data());
  return d;
}

uint16_t ggml_fp32_to_fp16(float f) { return ggml_element::fp32_to_fp16(f); }
float ggml_fp16_to_fp32(uint16_t h) { return ggml_element::fp16_to_fp32(h); }

}  // namespace qplay
