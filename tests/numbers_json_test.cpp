// The core's single spellings: numbers as text (qplay/numbers.hpp), JSON writing (formats/json.hpp
// JsonWriter and json_quote) and the small float dtypes widened to float32 (qplay/tensor.hpp).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "formats/json.hpp"
#include "qplay/bits.hpp"
#include "qplay/minifloat.hpp"
#include "qplay/numbers.hpp"
#include "qplay/tensor.hpp"
#include "test_util.hpp"

using namespace qplay;
using namespace qplay_test;
using formats::JsonWriter;

namespace {

// The spelling with one significant digit fewer than `text` (same "%g" style); "" for one digit.
template <class T> std::string one_digit_fewer(T v, const std::string& text) {
  int digits = 0;
  for (char c : text) {
    if (c == 'e') break;
    digits += c >= '0' && c <= '9';
  }
  // Leading zeros of "0.00012" are not significant: count from the first non-zero digit.
  for (char c : text) {
    if (c >= '1' && c <= '9') break;
    digits -= c == '0';
  }
  if (digits <= 1) return "";
  char buf[320];  // "%g" is at most 24 characters here; the compiler cannot see the precision bound
  std::snprintf(buf, sizeof buf, "%.*g", digits - 1, double(v));
  return buf;
}

// shortest_text(v) reads back to v and has no digit to spare; returns 1 (a case counted).
template <class T> size_t check_shortest(T v, T (*read)(const char*, char**)) {
  const std::string text = shortest_text(v);
  REQUIRE(read(text.c_str(), nullptr) == v);
  const std::string fewer = one_digit_fewer(v, text);
  if (!fewer.empty()) REQUIRE(read(fewer.c_str(), nullptr) != v);
  return 1;
}

}  // namespace

TEST_CASE("shortest_text: float and double spellings") {
  CHECK(shortest_text(0.1f) == "0.1");
  CHECK(shortest_text(double(0.1f)) == "0.10000000149011612");
  CHECK(shortest_text(0.01) == "0.01");
  CHECK(shortest_text(1e-5f) == "1e-05");
  CHECK(shortest_text(3.4028235e38f) == "3.4028235e+38");
  CHECK(shortest_text(0.0f) == "0");
  CHECK(shortest_text(-0.0f) == "-0");
  CHECK(shortest_text(100.0) == "1e+02");  // "%.1g" already reads back
  CHECK(shortest_text(123.0) == "123");
  CHECK(shortest_text(1.0 / 3.0) == "0.3333333333333333");
  CHECK(shortest_text(float(1e-45)) == "1e-45");  // the smallest subnormal
  // Non-finite values: what numpy and pandas read (JSON writers spell them null themselves).
  CHECK(shortest_text(kNaN) == "nan");
  CHECK(shortest_text(-kNaN) == "nan");
  CHECK(shortest_text(kInf) == "inf");
  CHECK(shortest_text(-kInf) == "-inf");
  CHECK(shortest_text(double(kNaN)) == "nan");
  CHECK(shortest_text(-double(kInf)) == "-inf");
}

TEST_CASE("shortest_text: reads back exactly, and one digit fewer does not") {
  Rng rng(0x5407);
  size_t floats = 0, doubles = 0;
  for (int i = 0; i < 20000; ++i) {
    const float f = float_from_bits(uint32_t(rng.next()));
    if (std::isfinite(f) && f != 0) floats += check_shortest(f, std::strtof);
    const double d = qplay::bit_cast<double>(rng.next());
    if (std::isfinite(d) && d != 0) doubles += check_shortest(d, std::strtod);
  }
  CHECK(floats > 19000);
  CHECK(doubles > 19000);
}

TEST_CASE("read_float32 / is_decimal_text: the one reader of number text") {
  for (const char* ok : {"0", "-0", "0.037", ".5", "5.", "1e3", "1E-3", "-2.5e+2", "3.4028235e38", "1e-45"})
    CHECK_MESSAGE(is_decimal_text(ok, false), ok);
  for (const char* bad : {"", "-", ".", "e3", "1e", "1e+", "+1", " 1", "1 ", "0x10", "inf", "nan", "1.2.3", "--1"})
    CHECK_MESSAGE(!is_decimal_text(bad, false), bad);
  CHECK(is_decimal_text("+1.5e2", true));
  CHECK(!is_decimal_text("++1", true));
  float v = -1;
  CHECK(read_float32("0.037", v));
  CHECK(v == 0.037f);
  CHECK(read_float32("-0", v));
  CHECK((v == 0 && std::signbit(v)));
  CHECK(read_float32("1e-45", v));  // the smallest subnormal
  CHECK(v > 0);
  // Extra text, overflow, a nonzero value that underflows to 0, and what is not finite.
  for (const char* bad : {"", "1x", "0x10", "+1", "inf", "nan", "-inf", "1e39", "1e-50", " 1"}) CHECK_MESSAGE(!read_float32(bad, v), bad);
  CHECK(read_float32("0e-50", v));  // zero is no underflow
  CHECK(v == 0);
}

TEST_CASE("json_quote: serde_json's escapes, DEL only on request") {
  CHECK(formats::json_quote("plain") == "\"plain\"");
  CHECK(formats::json_quote("q\"b\\") == "\"q\\\"b\\\\\"");
  CHECK(formats::json_quote("\n\r\t\b\f") == "\"\\n\\r\\t\\b\\f\"");
  CHECK(formats::json_quote(std::string("\x01\x1f", 2)) == "\"\\u0001\\u001f\"");
  CHECK(formats::json_quote(std::string(1, '\0')) == "\"\\u0000\"");
  CHECK(formats::json_quote("\x7f") == "\"\x7f\"");
  CHECK(formats::json_quote("\x7f", true) == "\"\\u007f\"");
  CHECK(formats::json_quote("\xc3\xa9/") == "\"\xc3\xa9/\"");  // UTF-8 and '/' as they are
}

TEST_CASE("JsonWriter indented: qplay's document layout") {
  JsonWriter j;
  j.begin_object();
  j.begin_object("a");
  j.field("s", "x\x7fy");
  j.field("f", 0.1f);
  j.field("d", 0.1);
  j.field("nan", kNaN);
  j.field("inf", -double(kInf));
  j.field("i", int64_t{-3});
  j.field("u", uint64_t{18446744073709551615ull});
  j.field("b", false);
  j.null_field("n");
  j.end_object();
  j.int_array("shape", std::vector<int64_t>{2, 3});
  j.begin_array("list");
  j.item("s").item(1.5f).item(kInf).item(int64_t{7}).item(uint64_t{8});
  j.end_array();
  j.begin_object("empty").end_object();
  j.begin_array("none").end_array();
  j.begin_array("objects");
  j.begin_object().field("k", 1).end_object();
  j.end_array();
  j.end_object();
  CHECK(j.finish() ==
        "{\n"
        "  \"a\": {\n"
        "    \"s\": \"x\\u007fy\",\n"
        "    \"f\": 0.1,\n"
        "    \"d\": 0.1,\n"
        "    \"nan\": null,\n"
        "    \"inf\": null,\n"
        "    \"i\": -3,\n"
        "    \"u\": 18446744073709551615,\n"
        "    \"b\": false,\n"
        "    \"n\": null\n"
        "  },\n"
        "  \"shape\": [2, 3],\n"
        "  \"list\": [\"s\", 1.5, null, 7, 8],\n"
        "  \"empty\": {},\n"
        "  \"none\": [],\n"
        "  \"objects\": [{\n"
        "      \"k\": 1\n"
        "    }]\n"
        "}\n");
}

TEST_CASE("JsonWriter compact: the safetensors header layout") {
  JsonWriter j(JsonWriter::Layout::compact);
  j.begin_object();
  j.begin_object("__metadata__").field("k\x7f", "v").end_object();
  j.begin_object("w");
  j.field("dtype", "F32");
  j.int_array("shape", std::vector<int64_t>{});
  j.begin_array("data_offsets").item(uint64_t{0}).item(uint64_t{4}).end_array();
  j.end_object();
  j.end_object();
  CHECK(j.finish() == "{\"__metadata__\":{\"k\x7f\":\"v\"},\"w\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}");

  JsonWriter empty(JsonWriter::Layout::compact);
  CHECK(empty.begin_object().end_object().finish() == "{}");
}

TEST_CASE("JsonWriter: unbalanced brackets are errors, not broken text") {
  JsonWriter open;
  open.begin_object().begin_array("a");
  CHECK(error_of([&] { open.finish(); }) == "JSON writer: 2 brackets left open");
  JsonWriter crossed;
  crossed.begin_object();
  CHECK(error_of([&] { crossed.end_array(); }) == "JSON writer: ']' closes another bracket");
  JsonWriter none;
  CHECK(error_of([&] { none.end_object(); }) == "JSON writer: '}' closes nothing");
}

TEST_CASE("half_to_float and bfloat16_to_float: every bit pattern") {
  for (uint32_t h = 0; h < 65536; ++h) {
    const bool negative = h & 0x8000;
    const int e = (h >> 10) & 0x1F, m = h & 0x3FF;
    const float got = half_to_float(uint16_t(h));
    if (e == 0x1F && m != 0) {  // NaN: sign and payload kept, no quiet bit added
      REQUIRE(bits_of(got) == ((negative ? 0x80000000u : 0u) | 0x7F800000u | uint32_t(m) << 13));
      continue;
    }
    // From the definition: subnormals m * 2^-24, normals (1024 + m) * 2^(e - 25).
    const float magnitude = e == 0x1F ? kInf : e == 0 ? std::ldexp(float(m), -24) : std::ldexp(float(1024 + m), e - 25);
    REQUIRE(bits_of(got) == bits_of(negative ? -magnitude : magnitude));
    REQUIRE(bits_of(bfloat16_to_float(uint16_t(h))) == h << 16);
  }
}

TEST_CASE("e4m3fn_to_float and e5m2_to_float equal the minifloat decoder") {
  for (unsigned c = 0; c < 256; ++c) {
    CAPTURE(c);
    const float e4 = e4m3fn_to_float(uint8_t(c)), e5 = e5m2_to_float(uint8_t(c));
    const float want4 = minifloat::decode(uint8_t(c), minifloat::e4m3fn);
    const float want5 = minifloat::decode(uint8_t(c), minifloat::e5m2);
    CHECK(std::isnan(e4) == std::isnan(want4));
    CHECK(std::isnan(e5) == std::isnan(want5));
    if (!std::isnan(want4)) CHECK(bits_of(e4) == bits_of(want4));
    if (!std::isnan(want5)) CHECK(bits_of(e5) == bits_of(want5));
    CHECK(std::signbit(e4) == bool(c & 0x80));
  }
  CHECK(e4m3fn_to_float(0x7E) == 448.0f);
  CHECK(std::isnan(e4m3fn_to_float(0x7F)));
  CHECK(e5m2_to_float(0x7C) == kInf);
  CHECK(e5m2_to_float(0x01) == 0x1p-16f);
}
