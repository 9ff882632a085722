// The format registry: one row per code format that --dtype or --format names, with everything that
// defines it (family, code width, small-float layout, fixed codebook, ggml block geometry) and where
// it is documented. The option parser, params.json, the gguf writer and the ggml API read these rows
// instead of spelling the formats again; help texts and pickers list them with format_names().
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "qplay/ggml.hpp"
#include "qplay/minifloat.hpp"
#include "qplay/mx.hpp"
#include "qplay/options.hpp"

namespace qplay {

// integer, minifloat, lut, mx, pow2, kmeans, ggml (element_kind_name spells them).
using Family = ElementKind;

// A ggml block format's storage (ggml-common.h's static_asserts, ggml.h's type ids) and what
// params.json says its bundle members hold (each dequantize_row_<type>; docs/GGML_FORMATS.md).
struct GgmlGeometry {
  GgmlType type;
  uint32_t type_id;      // GGUF / ggml_type id: q4_0 2 ... mxfp4 39
  std::string_view ggml_name;  // ggml's own spelling in .gguf files: "Q4_K"
  uint32_t block_elems;  // elements per block: 32, or 256 for the K-quants
  uint32_t sub_block;    // elements sharing one scale: 16 or 32
  uint32_t block_bytes;  // bytes per block: q8_0 34 ... mxfp4 17
  bool codes_signed;     // codes centred on 0 (q - 8, q - 32...)
  bool has_offset;       // an additive per-sub-block member (+m, -dmin * m)
  // params.json's descriptions of the bundle's members: what a code is, the scale, the additive
  // member (nullptr exactly when !has_offset) and quantize_row_<type>_ref's own rounding rule.
  const char* codes;
  const char* scale;
  const char* offset;
  const char* rounding;
};

struct CodeFormat {
  std::string_view name;    // the spelling the option takes: "nf4", "fp8_e4m3fn", "q4_k"; see below for intN
  Family family;
  int bits;                 // code width; 0 = the run's: N of intN / uintN, --bits for pow2 / kmeans
  std::string_view option;  // "--dtype" or "--format"
  // Small-float layout (exponent / mantissa bits, bias, ieee / fn / fnuz / finite specials) of the
  // minifloat rows and the MX float elements; nullptr otherwise (MXINT8 included).
  const minifloat::Format* minifloat;
  float max_normal;         // largest finite element value (minifloat and mx rows); 0 otherwise
  mx::Element mx_element;   // mx rows only
  // Fixed values of the codes, value(code) = codebook[code]: [-1, 1] tables for the lut rows
  // (scaled by the group absmax), ggml's integer levels for --format iq4_nl / mxfp4 (scaled by the
  // block's d). Empty where codes are not table indices or the table is fitted (pow2, kmeans).
  std::span<const float> codebook;
  std::string_view table;   // what that codebook is (params.json "table"); empty without one
  const GgmlGeometry* ggml; // ggml rows only
  std::string_view docs;    // docs/<FILE>.md#<section> describing it
  std::string_view summary; // one line for help texts and pickers
};

// Every row: the integer rows, the other --dtype rows in the order the help lists them, then the
// --format rows in kGgmlTypes order. The integer types are two parametric rows, "intN" and "uintN"
// (family integer, bits 0): one row each for every width N = 1..8 and 16, which find_code_format
// resolves from a spelling such as "int4"; integer_dtype_spellings() lists what they accept.
std::span<const CodeFormat> code_formats();

// The row `option` ("--dtype" or "--format") means by `name`, or nullptr. Names are exact (the
// --format parser lowercases ggml's "q4_K" first); "int4" / "uint16" give the intN / uintN row.
// The option is part of the key: iq4_nl and mxfp4 are both a --dtype element and a --format.
const CodeFormat* find_code_format(std::string_view option, std::string_view name);
// The --format row of a ggml type, and the row of a GGUF type id (nullptr for ids qplay does not
// implement).
const CodeFormat& ggml_code_format(GgmlType t);
const CodeFormat* ggml_code_format_by_id(uint32_t type_id);
// The row a parsed run uses (its dtype / element_name / ggml_type); qplay::Error for an element
// name no row has.
const CodeFormat& code_format(const QuantOptions& o);

// "int8, uint8, int4, uint4, int2, uint2, intN, uintN with N = 1..8, int16, uint16"
std::string_view integer_dtype_spellings();
// The names of one family, ", "-separated in row order (the integer family: its spellings above).
std::string format_names(Family family);
// Everything `option` accepts, ", "-separated: the allowed list of its error message.
std::string format_names(std::string_view option);

}  // namespace qplay
