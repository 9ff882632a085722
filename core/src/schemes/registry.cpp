// The format registry's rows (qplay/registry.hpp). Each value here is either the one spelling in
// qplay (names, summaries, ggml geometry and member descriptions) or a reference to the table or
// preset the code itself uses (lut::kNf4, ggml_element::kIq4nlValues, minifloat::e4m3fn...);
// tests/registry_test.cpp checks every row against the code that quantizes with it.
#include "qplay/registry.hpp"

#include <array>
#include <cctype>

#include "kernels/ggml_element.hpp"
#include "qplay/error.hpp"
#include "qplay/lut.hpp"
#include "qplay/options.hpp"

namespace qplay {
namespace {

// --dtype iq4_nl: ggml's IQ4_NL levels divided by 127 in float32, so the table spans [-1, 1] like
// NF4 and the absmax scale applies unchanged.
constexpr std::array<float, 16> kIq4nlUnit = [] {
  std::array<float, 16> v{};
  for (size_t i = 0; i < 16; ++i) v[i] = float(ggml_element::kIq4nlValues[i]) / 127.0f;
  return v;
}();
constexpr std::array<float, 16> kMxfp4Levels = ggml_element::levels_of(ggml_element::kMxfp4Values);

constexpr std::string_view kIntegerSpellings =
    "int8, uint8, int4, uint4, int2, uint2, intN, uintN with N = 1..8, int16, uint16";

constexpr std::string_view kDocsInteger = "docs/SCHEMES.md#1-uniform-integer-quantization";
constexpr std::string_view kDocsElements = "docs/SCHEMES.md#4-non-uniform-and-floating-point-elements";
constexpr std::string_view kDocsGgml = "docs/GGML_FORMATS.md#block-layouts-and-algorithms";

// Block sizes from ggml-common.h's static_asserts; ids from ggml.h / docs/gguf.md; sub-blocks,
// code widths and members from each dequantize_row_<type> (docs/GGML_FORMATS.md).
constexpr const char* kRoundf = "roundf(x / d), half away from zero";
constexpr const char* kQkx2 = "nearest_int, half to even, after make_qkx2_quants";
constexpr GgmlGeometry kQ8_0{GgmlType::q8_0, 8, "Q8_0", 32, 32, 34, true, false, "int8 q", "d", nullptr, kRoundf};
constexpr GgmlGeometry kQ8_1{GgmlType::q8_1, 9, "Q8_1", 32, 32, 36, true, false, "int8 q", "d", nullptr, kRoundf};
constexpr GgmlGeometry kQ4_0{GgmlType::q4_0, 2, "Q4_0", 32, 32, 18, true, false, "q - 8 (int8, -8..7)", "d", nullptr,
                             "(int8_t)(x / d + 8.5), truncation"};
constexpr GgmlGeometry kQ4_1{GgmlType::q4_1, 3, "Q4_1", 32, 32, 20, false, true, "q (0..15)", "d", "m (the block min)",
                             "(int8_t)((x - m) / d + 0.5), truncation"};
constexpr GgmlGeometry kQ5_0{GgmlType::q5_0, 6, "Q5_0", 32, 32, 22, true, false, "q - 16 (int8, -16..15)", "d", nullptr,
                             "(int8_t)(x / d + 16.5), truncation"};
constexpr GgmlGeometry kQ5_1{GgmlType::q5_1, 7, "Q5_1", 32, 32, 24, false, true, "q (0..31)", "d", "m (the block min)",
                             "(int8_t)((x - m) / d + 0.5), truncation"};
constexpr GgmlGeometry kQ2_K{GgmlType::q2_k, 10, "Q2_K", 256, 16, 84, false, true, "q (0..3)", "d * sc per 16 elements",
                             "-(dmin * m) per 16 elements", kQkx2};
constexpr GgmlGeometry kQ3_K{GgmlType::q3_k, 11, "Q3_K", 256, 16, 110, true, false,
                             "q - 4 * (hmask bit clear) (int8, -4..3)", "d * (sc - 32) per 16 elements", nullptr,
                             "nearest_int, half to even, after make_q3_quants"};
constexpr GgmlGeometry kQ4_K{GgmlType::q4_k, 12, "Q4_K", 256, 32, 144, false, true, "q (0..15)", "d * sc per 32 elements",
                             "-(dmin * m) per 32 elements", kQkx2};
constexpr GgmlGeometry kQ5_K{GgmlType::q5_k, 13, "Q5_K", 256, 32, 176, false, true, "q (0..31)", "d * sc per 32 elements",
                             "-(dmin * m) per 32 elements", kQkx2};
constexpr GgmlGeometry kQ6_K{GgmlType::q6_k, 14, "Q6_K", 256, 16, 210, true, false, "q - 32 (int8, -32..31)",
                             "d * sc per 16 elements", nullptr, "nearest_int, half to even, after make_qx_quants"};
constexpr GgmlGeometry kIq4_NL{GgmlType::iq4_nl, 20, "IQ4_NL", 32, 32, 18, false, false,
                               "index into codebook (kvalues_iq4nl)", "d (the weighted refit)", nullptr,
                               "best_index_int8: nearest level, ties to the upper one"};
constexpr GgmlGeometry kMxfp4{GgmlType::mxfp4, 39, "MXFP4", 32, 32, 17, false, false, "index into codebook (E2M1 doubled)",
                              "2^(e - 127) / 2 (E8M0 e, halved)", nullptr, "best_index_mxfp4: nearest, ties to the lower index"};

constexpr std::string_view kDtype = "--dtype";
constexpr std::string_view kFormat = "--format";
constexpr mx::Element kNoMx = mx::Element::int8;  // what the rows that are not mx carry (never read for them)

// Row builders, so each row below reads as its name, width and what is particular to it.
constexpr CodeFormat integer_row(std::string_view name, std::string_view summary) {
  return {name, Family::integer, 0, kDtype, nullptr, 0.0f, kNoMx, {}, "", nullptr, kDocsInteger, summary, ""};
}
constexpr CodeFormat lut_row(std::string_view name, std::span<const float> book, std::string_view table,
                             std::string_view summary, std::string_view profile = "") {
  return {name, Family::lut, 4, kDtype, nullptr, 0.0f, kNoMx, book, table, nullptr, kDocsElements, summary, profile};
}
constexpr CodeFormat minifloat_row(std::string_view name, const minifloat::Format& f, float max,
                                   std::string_view summary) {
  return {name, Family::minifloat, f.bits(), kDtype, &f, max, kNoMx, {}, "", nullptr, kDocsElements, summary, ""};
}
constexpr CodeFormat mx_row(std::string_view name, mx::Element e, int bits, const minifloat::Format* f, float max,
                            std::string_view summary) {
  return {name, Family::mx, bits, kDtype, f, max, e, {}, "", nullptr, kDocsElements, summary, "mx"};
}
constexpr CodeFormat fitted_row(std::string_view name, Family family, std::string_view summary) {
  return {name, family, 0, kDtype, nullptr, 0.0f, kNoMx, {}, "", nullptr, kDocsElements, summary, ""};
}
constexpr CodeFormat ggml_row(std::string_view name, int bits, const GgmlGeometry& g, std::string_view summary,
                              std::span<const float> book = {}, std::string_view table = "") {
  return {name, Family::ggml, bits, kFormat, nullptr, 0.0f, kNoMx, book, table, &g, kDocsGgml, summary, ""};
}

constexpr CodeFormat kRows[] = {
    integer_row("intN", "signed integer codes of N bits on a uniform affine grid"),
    integer_row("uintN", "unsigned integer codes of N bits on a uniform affine grid"),
    lut_row("nf4", lut::kNf4, "bitsandbytes NF4", "bitsandbytes NormalFloat4: 16 normal quantiles in [-1, 1] times the absmax",
            "bnb"),
    lut_row("fp4", lut::kBnbFp4, "bitsandbytes FP4 (bit-pattern order)",
            "bitsandbytes FP4 (its own table, not OCP E2M1) times the absmax", "bnb"),
    lut_row("iq4_nl", kIq4nlUnit, "ggml IQ4_NL / 127", "ggml's IQ4_NL non-linear levels / 127 times the absmax"),
    minifloat_row("fp8_e4m3fn", minifloat::e4m3fn, 448.0f, "FP8 E4M3FN (no inf, max 448), scaled by amax / max"),
    minifloat_row("fp8_e5m2", minifloat::e5m2, 57344.0f, "FP8 E5M2 (IEEE-style inf and NaN, max 57344), scaled by amax / max"),
    minifloat_row("fp8_e4m3fnuz", minifloat::e4m3fnuz, 240.0f, "FP8 E4M3FNUZ (no inf, no -0, max 240), scaled by amax / max"),
    minifloat_row("fp8_e5m2fnuz", minifloat::e5m2fnuz, 57344.0f, "FP8 E5M2FNUZ (no inf, no -0, max 57344), scaled by amax / max"),
    minifloat_row("fp6_e2m3", minifloat::e2m3, 7.5f, "OCP FP6 E2M3 (finite, max 7.5), scaled by amax / max"),
    minifloat_row("fp6_e3m2", minifloat::e3m2, 28.0f, "OCP FP6 E3M2 (finite, max 28), scaled by amax / max"),
    minifloat_row("fp4_e2m1", minifloat::e2m1, 6.0f, "OCP FP4 E2M1 (finite, max 6), scaled by amax / max"),
    mx_row("mxfp8_e4m3", mx::Element::fp8_e4m3, 8, &minifloat::e4m3fn, 448.0f, "OCP MX: E4M3 elements, one E8M0 scale per 32"),
    mx_row("mxfp8_e5m2", mx::Element::fp8_e5m2, 8, &minifloat::e5m2, 57344.0f, "OCP MX: E5M2 elements, one E8M0 scale per 32"),
    mx_row("mxfp6_e2m3", mx::Element::fp6_e2m3, 6, &minifloat::e2m3, 7.5f, "OCP MX: FP6 E2M3 elements, one E8M0 scale per 32"),
    mx_row("mxfp6_e3m2", mx::Element::fp6_e3m2, 6, &minifloat::e3m2, 28.0f, "OCP MX: FP6 E3M2 elements, one E8M0 scale per 32"),
    mx_row("mxfp4", mx::Element::fp4_e2m1, 4, &minifloat::e2m1, 6.0f, "OCP MX: FP4 E2M1 elements, one E8M0 scale per 32"),
    mx_row("mxint8", mx::Element::int8, 8, nullptr, 127.0f / 64.0f, "OCP MX: INT8 elements (x 2^-6), one E8M0 scale per 32"),
    fitted_row("pow2", Family::pow2, "signed powers of two times the group amax (2^--bits levels)"),
    fitted_row("kmeans", Family::kmeans, "a k-means codebook of 2^--bits values fitted per group"),
    ggml_row("q8_0", 8, kQ8_0, "ggml Q8_0: 32 int8 codes and an fp16 scale per block (8.5 bits per weight)"),
    ggml_row("q8_1", 8, kQ8_1, "ggml Q8_1: Q8_0 plus the fp16 block sum (the dot-product partner format)"),
    ggml_row("q4_0", 4, kQ4_0, "ggml Q4_0: 32 4-bit codes q - 8 and an fp16 scale per block"),
    ggml_row("q4_1", 4, kQ4_1, "ggml Q4_1: 32 4-bit codes, an fp16 scale and minimum per block"),
    ggml_row("q5_0", 5, kQ5_0, "ggml Q5_0: 32 5-bit codes q - 16 and an fp16 scale per block"),
    ggml_row("q5_1", 5, kQ5_1, "ggml Q5_1: 32 5-bit codes, an fp16 scale and minimum per block"),
    ggml_row("q2_k", 2, kQ2_K, "ggml Q2_K: 256-element super-blocks of 2-bit codes, 4-bit scales and mins per 16"),
    ggml_row("q3_k", 3, kQ3_K, "ggml Q3_K: 256-element super-blocks of 3-bit codes, 6-bit scales per 16"),
    ggml_row("q4_k", 4, kQ4_K, "ggml Q4_K: 256-element super-blocks of 4-bit codes, 6-bit scales and mins per 32"),
    ggml_row("q5_k", 5, kQ5_K, "ggml Q5_K: 256-element super-blocks of 5-bit codes, 6-bit scales and mins per 32"),
    ggml_row("q6_k", 6, kQ6_K, "ggml Q6_K: 256-element super-blocks of 6-bit codes, 8-bit scales per 16"),
    ggml_row("iq4_nl", 4, kIq4_NL, "ggml IQ4_NL: 32 indices into its non-linear 16-level table, an fp16 scale per block",
             ggml_element::kIq4nlLevels, "kvalues_iq4nl"),
    ggml_row("mxfp4", 4, kMxfp4, "ggml MXFP4: 32 E2M1 codes (as doubled integers) and an E8M0 scale per block",
             kMxfp4Levels, "E2M1 doubled"),
};

// The ggml rows follow kGgmlTypes, so a GgmlType finds its row by position.
constexpr size_t kFirstGgmlRow = std::size(kRows) - kGgmlTypes.size();
constexpr bool ggml_rows_in_enum_order() {
  for (size_t i = 0; i < kGgmlTypes.size(); ++i) {
    const CodeFormat& row = kRows[kFirstGgmlRow + i];
    if (row.family != Family::ggml || row.ggml->type != kGgmlTypes[i] || size_t(kGgmlTypes[i]) != i) return false;
  }
  return true;
}
static_assert(ggml_rows_in_enum_order());

// "int4" -> the intN row, "uint16" -> uintN; nullptr for anything else.
const CodeFormat* integer_row_of(std::string_view name) {
  const bool is_unsigned = name.starts_with("uint");
  if (!is_unsigned && !name.starts_with("int")) return nullptr;
  try {
    parse_int_type(name);
  } catch (const Error&) {
    return nullptr;
  }
  return &kRows[is_unsigned ? 1 : 0];
}

}  // namespace

std::span<const CodeFormat> code_formats() { return kRows; }

const CodeFormat* find_code_format(std::string_view option, std::string_view name) {
  for (const CodeFormat& row : kRows)
    if (row.option == option && row.family != Family::integer && row.name == name) return &row;
  return option == kDtype ? integer_row_of(name) : nullptr;
}

const CodeFormat& ggml_code_format(GgmlType t) {
  const size_t i = size_t(t);
  if (i >= kGgmlTypes.size()) throw Error("unknown ggml type (enum value " + std::to_string(i) + ")");
  return kRows[kFirstGgmlRow + i];
}

const CodeFormat* ggml_code_format_by_id(uint32_t type_id) {
  for (size_t i = kFirstGgmlRow; i < std::size(kRows); ++i)
    if (kRows[i].ggml->type_id == type_id) return &kRows[i];
  return nullptr;
}

std::string_view family_name(Family f) {
  switch (f) {
    case Family::integer: return "integer";
    case Family::minifloat: return "minifloat";
    case Family::lut: return "lut";
    case Family::mx: return "mx";
    case Family::pow2: return "pow2";
    case Family::kmeans: return "kmeans";
    case Family::ggml: return "ggml";
  }
  return "?";
}

IntType CodeFormatChoice::int_type() const {
  if (!is(Family::integer)) throw Error("--dtype " + name() + " is not an integer type");
  return {bits, row == &kRows[0]};
}

GgmlType CodeFormatChoice::ggml_type() const {
  if (!row->ggml) throw Error("--dtype " + name() + " is not a ggml block format");
  return row->ggml->type;
}

std::string CodeFormatChoice::name() const {
  if (is(Family::integer)) return (row == &kRows[0] ? "int" : "uint") + std::to_string(bits);
  return std::string(row->name);
}

CodeFormatChoice integer_code(IntType t) { return {&kRows[t.is_signed ? 0 : 1], t.bits}; }

CodeFormatChoice code_of(const CodeFormat& row) {
  if (row.family == Family::integer) throw Error("the integer rows take a width: use integer_code");
  return {&row, row.bits ? row.bits : kDefaultFittedBits};
}

std::string_view integer_dtype_spellings() { return kIntegerSpellings; }

std::string format_names(Family family) {
  if (family == Family::integer) return std::string(kIntegerSpellings);
  std::string names;
  for (const CodeFormat& row : kRows)
    if (row.family == family) names += (names.empty() ? "" : ", ") + std::string(row.name);
  return names;
}

std::string format_names(std::string_view option) {
  std::string names(option == kDtype ? kIntegerSpellings : "");
  for (const CodeFormat& row : kRows)
    if (row.option == option && row.family != Family::integer) names += (names.empty() ? "" : ", ") + std::string(row.name);
  return names;
}

}  // namespace qplay
