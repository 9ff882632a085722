// The format registry (qplay/registry.hpp): every row agrees with the code that quantizes with it:
// widths with code_bits, ggml geometry with the ggml API and ggml-common.h's sizes, codebooks with the
// lookup tables, minifloat and MX maxima with the encoders, spellings with the option parser, and
// documentation links with the headings of docs/. Also the ggml kernel table's dispatch.
#include <doctest/doctest.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/ggml_kernels.hpp"
#include "kernels/kernels.hpp"
#include "qplay/elements.hpp"
#include "qplay/error.hpp"
#include "qplay/ggml.hpp"
#include "qplay/lut.hpp"
#include "qplay/options.hpp"
#include "qplay/registry.hpp"

using namespace qplay;

namespace {

std::string error_of(auto&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

QuantOptions dtype_options(std::string_view name) {
  QuantOptions o;
  o.code = parse_dtype(name);
  return o;
}

// GitHub's heading anchors: lowercase, punctuation other than '-' and '_' dropped, spaces -> '-'.
std::set<std::string> heading_anchors(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::set<std::string> anchors;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("#")) continue;
    const size_t text = line.find_first_not_of('#');
    if (text == std::string::npos || line[text] != ' ') continue;
    std::string slug;
    for (char c : line.substr(text + 1)) {
      const unsigned char u = static_cast<unsigned char>(c);
      if (std::isalnum(u) || c == '-' || c == '_') slug += char(std::tolower(u));
      else if (c == ' ') slug += '-';
    }
    anchors.insert(slug);
  }
  return anchors;
}

}  // namespace

TEST_CASE("registry: rows are unique per option and complete") {
  std::set<std::pair<std::string, std::string>> seen;
  size_t ggml_rows = 0;
  for (const CodeFormat& row : code_formats()) {
    CAPTURE(row.name);
    CHECK((row.option == "--dtype" || row.option == "--format"));
    CHECK(seen.insert({std::string(row.option), std::string(row.name)}).second);
    CHECK((row.option == "--format") == (row.family == Family::ggml));
    CHECK((row.ggml != nullptr) == (row.family == Family::ggml));
    CHECK_FALSE(row.summary.empty());
    CHECK(row.codebook.empty() == row.table.empty());
    if (row.family == Family::ggml) ++ggml_rows;
  }
  CHECK(ggml_rows == kGgmlTypes.size());
  // The two spellings that are both an element and a ggml format resolve per option.
  for (std::string_view name : {"iq4_nl", "mxfp4"}) {
    REQUIRE(find_code_format("--dtype", name));
    REQUIRE(find_code_format("--format", name));
    CHECK(find_code_format("--dtype", name)->family != Family::ggml);
    CHECK(find_code_format("--format", name)->family == Family::ggml);
  }
  CHECK(find_code_format("--dtype", "q4_k") == nullptr);
  CHECK(find_code_format("--format", "nf4") == nullptr);
  CHECK(find_code_format("--format", "int8") == nullptr);
  CHECK(find_code_format("--dtype", "int9") == nullptr);
  CHECK(find_code_format("--dtype", "intN") == nullptr);  // the parametric row's name is no spelling
}

TEST_CASE("registry: every --dtype and --format spelling parses to its row and round-trips its name") {
  for (const CodeFormat& row : code_formats()) {
    CAPTURE(row.name);
    if (row.family == Family::integer) continue;  // parametric: below
    QuantOptions o;
    if (row.option == "--dtype") o.code = parse_dtype(row.name);
    else o.code = parse_format(row.name);
    CHECK(o.code.family() == row.family);
    CHECK(o.code.name() == row.name);
    CHECK(&o.code.format() == &row);
    CHECK(find_code_format(row.option, row.name) == &row);
    if (row.ggml) {
      CHECK(o.code.ggml_type() == row.ggml->type);
      QuantOptions upper;
      upper.code = parse_format(row.ggml->ggml_name);  // ggml's own "Q4_K" spelling
      CHECK(&upper.code.format() == &row);
    }
  }
  for (bool is_signed : {true, false}) {
    for (int n : {1, 2, 3, 4, 5, 6, 7, 8, 16}) {
      const std::string name = (is_signed ? "int" : "uint") + std::to_string(n);
      CAPTURE(name);
      const QuantOptions o = dtype_options(name);
      const CodeFormat& row = o.code.format();
      CHECK(row.family == Family::integer);
      CHECK(row.name == (is_signed ? "intN" : "uintN"));
      CHECK(find_code_format("--dtype", name) == &row);
      CHECK(o.code.name() == name);
      CHECK(o.code.bits == n);
      CHECK(o.code.int_type() == IntType{n, is_signed});
    }
  }
}

TEST_CASE("registry: a parsed format carries the row's width (pow2 / kmeans: the --bits default)") {
  for (const CodeFormat& row : code_formats()) {
    CAPTURE(row.name);
    if (row.family == Family::integer) continue;
    QuantOptions o;
    if (row.option == "--dtype") o.code = parse_dtype(row.name);
    else o.code = parse_format(row.name);
    CHECK(o.code.bits == (row.bits ? row.bits : kDefaultFittedBits));
    CHECK(row.bits == ((row.family == Family::pow2 || row.family == Family::kmeans) ? 0 : o.code.bits));
    if (row.ggml) CHECK(row.bits == ggml_code_bits(row.ggml->type));
  }
}

TEST_CASE("registry: the allowed lists of the option errors come from the rows, unchanged") {
  CHECK(error_of([] { dtype_options("bogus"); }) ==
        "invalid value 'bogus' for --dtype (allowed: int8, uint8, int4, uint4, int2, uint2, intN, uintN with N = 1..8, "
        "int16, uint16, nf4, fp4, iq4_nl, fp8_e4m3fn, fp8_e5m2, fp8_e4m3fnuz, fp8_e5m2fnuz, fp6_e2m3, fp6_e3m2, "
        "fp4_e2m1, mxfp8_e4m3, mxfp8_e5m2, mxfp6_e2m3, mxfp6_e3m2, mxfp4, mxint8, pow2, kmeans)");
  CHECK(error_of([] { dtype_options("int9"); }) ==
        "invalid value 'int9' for --dtype (allowed: int8, uint8, int4, uint4, int2, uint2, intN, uintN with N = 1..8, "
        "int16, uint16)");
  QuantOptions o;
  CHECK(error_of([&] { o.code = parse_format("Q9_K"); }) ==
        "invalid value 'Q9_K' for --format (allowed: q8_0, q8_1, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, "
        "q6_k, iq4_nl, mxfp4)");
  CHECK(error_of([] { parse_ggml_type("q9"); }) ==
        "unknown ggml type 'q9' (allowed: q8_0, q8_1, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k, iq4_nl, mxfp4)");
  CHECK(format_names(Family::lut) == "nf4, fp4, iq4_nl");
  CHECK(format_names(Family::minifloat) ==
        "fp8_e4m3fn, fp8_e5m2, fp8_e4m3fnuz, fp8_e5m2fnuz, fp6_e2m3, fp6_e3m2, fp4_e2m1");
  CHECK(format_names(Family::mx) == "mxfp8_e4m3, mxfp8_e5m2, mxfp6_e2m3, mxfp6_e3m2, mxfp4, mxint8");
  CHECK(format_names(Family::integer) == integer_dtype_spellings());
  CHECK(format_names(Family::pow2) == "pow2");
  // A code answers only what its family has: no integer type of nf4, no ggml type of int8.
  CHECK(error_of([] { dtype_options("nf4").code.int_type(); }) == "--dtype nf4 is not an integer type");
  CHECK(error_of([] { dtype_options("int8").code.ggml_type(); }) == "--dtype int8 is not a ggml block format");
  CHECK(error_of([] { code_of(code_formats()[0]); }) == "the integer rows take a width: use integer_code");
}

TEST_CASE("registry: element profiles and profile defaults are rows of the profile") {
  // Exactly bitsandbytes' two tables take --profile bnb, and every MX row --profile mx.
  for (const CodeFormat& row : code_formats()) {
    CAPTURE(row.name);
    const bool bnb = row.family == Family::lut && (row.codebook.data() == lut::kNf4 || row.codebook.data() == lut::kBnbFp4);
    CHECK(row.element_profile == (bnb ? "bnb" : row.family == Family::mx ? "mx" : ""));
  }
  CHECK(profile_default_format(Profile::bnb) == find_code_format("--dtype", "nf4"));
  CHECK(profile_default_format(Profile::mx) == find_code_format("--dtype", "mxfp8_e4m3"));
  CHECK(profile_default_format(Profile::ggml) == find_code_format("--format", "q8_0"));
  for (Profile p : {Profile::custom, Profile::seed, Profile::pytorch, Profile::onnx, Profile::ort_tool})
    CHECK(profile_default_format(p) == nullptr);
  for (Profile p : {Profile::bnb, Profile::mx})
    CHECK(profile_default_format(p)->element_profile == profile_name(p));
  // A profile given alone runs its default format.
  for (Profile p : {Profile::bnb, Profile::mx, Profile::ggml}) {
    QuantOptions o;
    o.profile = p;
    apply_profile(o, {});
    CHECK(&o.code.format() == profile_default_format(p));
  }
}

TEST_CASE("registry: ggml geometry agrees with the ggml API and ggml-common.h") {
  // ggml-common.h's static_asserts and ggml.h's type ids, restated as the oracle.
  struct Expected {
    const char* name;
    uint32_t id, elems, bytes, sub;
  };
  const Expected expected[] = {
      {"q8_0", 8, 32, 34, 32},    {"q8_1", 9, 32, 36, 32},     {"q4_0", 2, 32, 18, 32},
      {"q4_1", 3, 32, 20, 32},    {"q5_0", 6, 32, 22, 32},     {"q5_1", 7, 32, 24, 32},
      {"q2_k", 10, 256, 84, 16},  {"q3_k", 11, 256, 110, 16},  {"q4_k", 12, 256, 144, 32},
      {"q5_k", 13, 256, 176, 32}, {"q6_k", 14, 256, 210, 16},  {"iq4_nl", 20, 32, 18, 32},
      {"mxfp4", 39, 32, 17, 32},
  };
  for (const Expected& e : expected) {
    CAPTURE(e.name);
    const CodeFormat* row = find_code_format("--format", e.name);
    REQUIRE(row);
    const GgmlGeometry& g = *row->ggml;
    const GgmlType t = g.type;
    CHECK(&ggml_code_format(t) == row);
    CHECK(ggml_code_format_by_id(e.id) == row);
    CHECK(g.type_id == e.id);
    CHECK(g.block_elems == e.elems);
    CHECK(g.block_bytes == e.bytes);
    CHECK(g.sub_block == e.sub);
    CHECK(ggml_type_name(t) == row->name);
    CHECK(ggml_type_id(t) == g.type_id);
    CHECK(ggml_type_from_id(g.type_id) == t);
    CHECK(ggml_block_elems(t) == g.block_elems);
    CHECK(ggml_block_bytes(t) == g.block_bytes);
    CHECK(ggml_sub_block(t) == g.sub_block);
    CHECK(ggml_codes_signed(t) == g.codes_signed);
    CHECK(ggml_has_offset(t) == g.has_offset);
    CHECK(ggml_row_bytes(t, 3 * size_t(g.block_elems)) == 3 * size_t(g.block_bytes));
    CHECK((g.offset == nullptr) == !g.has_offset);
    std::string lower(g.ggml_name);
    for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
    CHECK(lower == row->name);
    CHECK(parse_ggml_type(g.ggml_name) == t);

    // The stored blocks themselves: their size, and codes within the row's width and signedness;
    // no additive member where the row says there is none.
    std::vector<float> x(2 * size_t(g.block_elems));
    for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(float(i) * 0.37f) * (i % 7 == 0 ? 3.0f : 1.0f) + 0.25f;
    const std::vector<uint8_t> blocks = ggml_quantize(t, x);
    CHECK(blocks.size() == 2 * size_t(g.block_bytes));
    const GgmlDecomposed d = ggml_decompose(t, blocks, x.size());
    CHECK(d.scale.size() == x.size() / g.sub_block);
    const int lo = g.codes_signed ? -(1 << (row->bits - 1)) : 0;
    const int hi = g.codes_signed ? (1 << (row->bits - 1)) - 1 : (1 << row->bits) - 1;
    for (uint8_t c : d.codes) {
      const int v = g.codes_signed ? int(int8_t(c)) : int(c);
      CHECK((v >= lo && v <= hi));
    }
    if (!g.has_offset)
      for (float off : d.offset) CHECK(off == 0.0f);
  }
  CHECK(ggml_code_format_by_id(15) == nullptr);  // Q8_K: listed by the gguf reader, not implemented
  CHECK(ggml_code_format_by_id(0) == nullptr);   // F32
}

TEST_CASE("registry: codebooks are the lookup tables the quantizers use") {
  const auto same_bits = [](std::span<const float> a, const std::vector<float>& b) {
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) CHECK(bits_of(a[i]) == bits_of(b[i]));
  };
  const CodeFormat& nf4 = *find_code_format("--dtype", "nf4");
  const CodeFormat& fp4 = *find_code_format("--dtype", "fp4");
  const CodeFormat& iq4 = *find_code_format("--dtype", "iq4_nl");
  same_bits(nf4.codebook, lut::nf4_codebook().values());
  same_bits(fp4.codebook, lut::bnb_fp4_codebook().values());
  same_bits(fp4.codebook, std::vector<float>(lut::bnb_fp4_table(), lut::bnb_fp4_table() + 16));
  for (const CodeFormat* row : {&nf4, &fp4, &iq4}) same_bits(row->codebook, element_codebook(dtype_options(row->name)).values());

  // --dtype iq4_nl is ggml's table / 127 in float32, computed here at run time.
  const std::span<const int8_t> levels = ggml_codebook(GgmlType::iq4_nl);
  REQUIRE(levels.size() == 16);
  volatile float divisor = 127.0f;
  for (size_t i = 0; i < 16; ++i) {
    CHECK(bits_of(iq4.codebook[i]) == bits_of(float(levels[i]) / divisor));
    CHECK(std::fabs(iq4.codebook[i]) <= 1.0f);
  }
  // The ggml rows carry ggml's own levels; formats without a table carry none.
  for (GgmlType t : kGgmlTypes) {
    const CodeFormat& row = ggml_code_format(t);
    CAPTURE(row.name);
    const std::span<const int8_t> book = ggml_codebook(t);
    REQUIRE(row.codebook.size() == book.size());
    for (size_t i = 0; i < book.size(); ++i) CHECK(row.codebook[i] == float(book[i]));
  }
  for (std::string_view name : {"pow2", "kmeans", "fp8_e4m3fn", "mxfp4"})
    CHECK(find_code_format("--dtype", name)->codebook.empty());
}

TEST_CASE("registry: small-float layouts and maxima agree with minifloat and mx") {
  for (const CodeFormat& row : code_formats()) {
    CAPTURE(row.name);
    if (row.family == Family::minifloat) {
      const QuantOptions o = dtype_options(row.name);
      REQUIRE(row.minifloat);
      CHECK(element_float_format(o) == row.minifloat);
      CHECK(row.bits == row.minifloat->bits());
      CHECK(bits_of(row.max_normal) == bits_of(minifloat::max_value(*row.minifloat)));
    } else if (row.family == Family::mx) {
      const QuantOptions o = dtype_options(row.name);
      const mx::ElementInfo& info = mx::element_info(row.mx_element);
      CHECK(element_mx(o) == row.mx_element);
      CHECK(info.name.starts_with(row.name));  // mx.hpp calls MXFP4 "mxfp4_e2m1"
      CHECK(info.bits == row.bits);
      CHECK(info.format == row.minifloat);
      CHECK(element_float_format(o) == row.minifloat);
      CHECK(bits_of(info.max_normal) == bits_of(row.max_normal));
      if (row.minifloat) CHECK(bits_of(minifloat::max_value(*row.minifloat)) == bits_of(row.max_normal));
    } else {
      CHECK(row.minifloat == nullptr);
      CHECK(row.max_normal == 0.0f);
    }
  }
}

TEST_CASE("registry: documentation links name an existing heading") {
  const std::string root = std::string(QPLAY_TEST_DATA) + "/../../";
  for (const CodeFormat& row : code_formats()) {
    CAPTURE(row.name);
    const size_t hash = row.docs.find('#');
    REQUIRE(hash != std::string_view::npos);
    const std::string file(row.docs.substr(0, hash));
    const std::string anchor(row.docs.substr(hash + 1));
    CHECK(heading_anchors(root + file).count(anchor) == 1);
  }
}

TEST_CASE("kernels: the ggml table follows force_scalar and lists every kernel") {
  kernels::force_scalar(true);
  CHECK(&kernels::ggml_table() == &kernels::ggml_scalar_table());
  kernels::force_scalar(false);
  if (kernels::simd_available()) CHECK(&kernels::ggml_table() == kernels::ggml_simd128_table());
  else CHECK(&kernels::ggml_table() == &kernels::ggml_scalar_table());
  CHECK(std::string(kernels::ggml_scalar_table().name) == "scalar");
#define QPLAY_CHECK_ENTRY(type)                                                       \
  CHECK((kernels::ggml_scalar_table().ggml_quantize_##type == &kernels::scalar::ggml_quantize_##type)); \
  if (const kernels::GgmlTable* simd = kernels::ggml_simd128_table()) CHECK((simd->ggml_quantize_##type != nullptr));
  QPLAY_GGML_KERNELS(QPLAY_CHECK_ENTRY)
#undef QPLAY_CHECK_ENTRY
}
