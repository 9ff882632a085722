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

namespace qplay {

// What kind of thing one code stands for. `integer` is the uniform affine grid; the others are the
// non-uniform and floating-point elements of docs/SCHEMES.md section 4, named by --dtype too;
// `ggml` is one of llama.cpp's block formats, named by --format. family_name spells them.
enum class Family : uint8_t { integer, minifloat, lut, mx, pow2, kmeans, ggml };
std::string_view family_name(Family f);

// The integer code type: bits 1..8 or 16, signed or unsigned.
struct IntType {
  int bits = 8;
  bool is_signed = true;
  bool operator==(const IntType&) const = default;
};

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
  // The --profile whose peer defines this element and which may run it instead of custom: "bnb"
  // (nf4, fp4: bitsandbytes quantize_4bit), "mx" (the OCP MX rows); empty for the others (the ggml
  // rows run under --format, which --profile ggml only defaults).
  std::string_view element_profile;
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

// What one run's codes are (--dtype or --format): a registry row and the code width. The width is
// the row's own, except where the row leaves it to the run: N of intN / uintN, --bits for pow2 and
// kmeans. Every question about "what a code is" reads the row through this value.
struct CodeFormatChoice {
  const CodeFormat* row;  // never null
  int bits;               // the code width of this run

  const CodeFormat& format() const { return *row; }
  Family family() const { return row->family; }
  bool is(Family f) const { return row->family == f; }
  // The integer type of an integer run (intN / uintN row, width bits); qplay::Error for others.
  IntType int_type() const;
  // The ggml block format of a --format run (qplay::Error for other families).
  GgmlType ggml_type() const;
  // The option's spelling: "int4", "uint16", "nf4", "mxfp4", "q4_k".
  std::string name() const;
  bool operator==(const CodeFormatChoice&) const = default;
};

// The width of pow2 and kmeans codes when no --bits is given.
constexpr int kDefaultFittedBits = 4;

// The choice of an integer type, and of a row (at its own width; kDefaultFittedBits for the rows
// whose width is the run's: pow2, kmeans; an integer row takes integer_code instead).
CodeFormatChoice integer_code(IntType t);
CodeFormatChoice code_of(const CodeFormat& row);

// "int8, uint8, int4, uint4, int2, uint2, intN, uintN with N = 1..8, int16, uint16"
std::string_view integer_dtype_spellings();
// The names of one family, ", "-separated in row order (the integer family: its spellings above).
std::string format_names(Family family);
// Everything `option` accepts, ", "-separated: the allowed list of its error message.
std::string format_names(std::string_view option);

}  // namespace qplay
