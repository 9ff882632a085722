// The public ggml API: names, GGUF ids and block geometry from the format registry (registry.cpp),
// argument checks, and the dispatch to the per-family implementations (ggml_legacy.cpp, ggml_kquants.cpp,
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
#include "qplay/registry.hpp"

namespace qplay {

namespace {

// The implementation of each type; its geometry and names are the format registry's row.
struct TypeInfo {
  GgmlType type;
  ggml_detail::QuantizeFn quantize;
  ggml_detail::DequantizeFn dequantize;
  ggml_detail::DecomposeFn decompose;
};

#define QPLAY_GGML_ROW(t) \
  TypeInfo{GgmlType::t, &ggml_detail::quantize_##t, &ggml_detail::dequantize_##t, &ggml_detail::decompose_##t},
constexpr TypeInfo kTypes[] = {QPLAY_GGML_TYPES(QPLAY_GGML_ROW)};
#undef QPLAY_GGML_ROW
static_assert(std::size(kTypes) == kGgmlTypes.size());

const TypeInfo& info(GgmlType t) {
  for (const TypeInfo& i : kTypes) {
    if (i.type == t) return i;
  }
  throw Error("unknown ggml type (enum value " + std::to_string(int(t)) + ")");
}

const GgmlGeometry& geometry(GgmlType t) { return *ggml_code_format(t).ggml; }

std::string type_label(GgmlType t) { return "ggml " + std::string(ggml_type_name(t)); }

void check_whole_blocks(GgmlType t, size_t n) {
  const GgmlGeometry& g = geometry(t);
  if (n % g.block_elems != 0) {
    throw Error(type_label(t) + ": a row of " + std::to_string(n) +
                " elements is not a multiple of the block size " + std::to_string(g.block_elems));
  }
}

std::string describe_value(float v) {
  if (v != v) return "NaN";
  return v > 0 ? "inf" : "-inf";
}

}  // namespace

std::string_view ggml_type_name(GgmlType t) { return ggml_code_format(t).name; }

GgmlType parse_ggml_type(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (const CodeFormat* row = find_code_format("--format", lower)) return row->ggml->type;
  throw Error("unknown ggml type '" + std::string(name) + "' (allowed: " + format_names(Family::ggml) + ")");
}

uint32_t ggml_type_id(GgmlType t) { return geometry(t).type_id; }

std::optional<GgmlType> ggml_type_from_id(uint32_t id) {
  if (const CodeFormat* row = ggml_code_format_by_id(id)) return row->ggml->type;
  return std::nullopt;
}

size_t ggml_block_elems(GgmlType t) { return geometry(t).block_elems; }
size_t ggml_block_bytes(GgmlType t) { return geometry(t).block_bytes; }

size_t ggml_row_bytes(GgmlType t, size_t n) {
  check_whole_blocks(t, n);
  return n / geometry(t).block_elems * geometry(t).block_bytes;
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
  const GgmlGeometry& g = geometry(t);
  check_whole_blocks(t, row.size());
  const size_t nblocks = row.size() / g.block_elems;
  if (out.size() != nblocks * g.block_bytes) {
    throw Error(type_label(t) + ": " + std::to_string(row.size()) + " elements quantize to " +
                std::to_string(nblocks * g.block_bytes) + " bytes, the output has " +
                std::to_string(out.size()));
  }
  if (g.block_elems == 32) {
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
    i.quantize(row.data() + at, n / g.block_elems, out.data() + at / g.block_elems * g.block_bytes);
  }
}

std::vector<uint8_t> ggml_quantize(GgmlType t, std::span<const float> row) {
  std::vector<uint8_t> out(ggml_row_bytes(t, row.size()));
  ggml_quantize_into(t, row, out);
  return out;
}

void ggml_dequantize(GgmlType t, std::span<const uint8_t> blocks, std::span<float> out) {
  const TypeInfo& i = info(t);
  const GgmlGeometry& g = geometry(t);
  check_whole_blocks(t, out.size());
  const size_t nblocks = out.size() / g.block_elems;
  if (blocks.size() != nblocks * g.block_bytes) {
    throw Error(type_label(t) + ": " + std::to_string(out.size()) + " elements need " +
                std::to_string(nblocks * g.block_bytes) + " bytes (" + std::to_string(nblocks) +
                " blocks of " + std::to_string(g.block_bytes) + "), got " +
                std::to_string(blocks.size()));
  }
  i.dequantize(blocks.data(), nblocks, out.data());
}

size_t ggml_sub_block(GgmlType t) { return geometry(t).sub_block; }
bool ggml_codes_signed(GgmlType t) { return geometry(t).codes_signed; }
bool ggml_has_offset(GgmlType t) { return geometry(t).has_offset; }
int ggml_code_bits(GgmlType t) { return ggml_code_format(t).bits; }

std::span<const int8_t> ggml_codebook(GgmlType t) {
  if (t == GgmlType::iq4_nl) return ggml_element::kIq4nlValues;
  if (t == GgmlType::mxfp4) return ggml_element::kMxfp4Values;
  return {};
}

GgmlDecomposed ggml_decompose(GgmlType t, std::span<const uint8_t> blocks, size_t n) {
  const TypeInfo& i = info(t);
  const GgmlGeometry& g = geometry(t);
  check_whole_blocks(t, n);
  const size_t nblocks = n / g.block_elems;
  if (blocks.size() != nblocks * g.block_bytes)
    throw Error(type_label(t) + ": " + std::to_string(n) + " elements need " + std::to_string(nblocks * g.block_bytes) +
                " bytes, got " + std::to_string(blocks.size()));
  GgmlDecomposed d;
  d.codes.resize(n);
  d.scale.resize(n / g.sub_block);
  d.offset.resize(n / g.sub_block);
  i.decompose(blocks.data(), nblocks, d.codes.data(), d.scale.data(), d.offset.data());
  return d;
}

uint16_t ggml_fp32_to_fp16(float f) { return ggml_element::fp32_to_fp16(f); }
float ggml_fp16_to_fp32(uint16_t h) { return ggml_element::fp16_to_fp32(h); }

}  // namespace qplay
