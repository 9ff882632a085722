// The one spelling of a float as text: the shortest "%.{p}g" that reads back to the same value.
// params.json, the report, gguf metadata, option spellings (percentile:99.9) and the CLI summary
// all use it, so a number reads the same everywhere and natively and in wasm alike:
// std::to_chars for floating point is missing from Emscripten 3.1.6's libc++, while printf and
// strtod/strtof are correctly rounded in both glibc and Emscripten's musl.
// Header-only so every target that links a part of the core (the fuzz harnesses take only the
// readers) has it.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>

namespace qplay {

namespace numbers_detail {
// Tries 1.. max_digits significant digits; max_digits always reads back (9 for float, 17 for
// double), so the loop ends on a spelling that does.
template <class T, class ReadBack> std::string shortest(T v, int max_digits, ReadBack read_back) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[40];
  for (int p = 1; p <= max_digits; ++p) {
    std::snprintf(buf, sizeof buf, "%.*g", p, double(v));
    if (read_back(buf) == v) break;
  }
  return buf;
}
}  // namespace numbers_detail

// "0.1", "1e-05", "3.4028235e+38", "-0"; NaN of either sign is "nan", infinities "inf" / "-inf"
// (what numpy and pandas read). JSON writers spell the non-finite ones null themselves.
inline std::string shortest_text(float v) {
  return numbers_detail::shortest(v, 9, [](const char* s) { return std::strtof(s, nullptr); });
}
inline std::string shortest_text(double v) {
  return numbers_detail::shortest(v, 17, [](const char* s) { return std::strtod(s, nullptr); });
}

// The decimal grammar number text is checked against before strtod / strtof convert it (they would
// also take hex, "inf", "nan" and leading spaces): [sign]digits[.digits][(e|E)[+|-]digits] with at
// least one mantissa digit. The sign is '-' only, as std::from_chars reads it, or also '+' with
// allow_plus (text tables).
inline bool is_decimal_text(std::string_view s, bool allow_plus) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || (allow_plus && s[i] == '+'))) ++i;
  const auto digits = [&] {
    const size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  size_t mantissa = digits();
  if (i < s.size() && s[i] == '.') {
    ++i;
    mantissa += digits();
  }
  if (mantissa == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// A finite float32 read from decimal text as std::from_chars<float> reads it (the option values'
// reader): the whole text must be a number; "inf" / "nan" and a value out of float range (an
// overflow, or a nonzero number that underflows to 0) are refused. from_chars for float is missing
// from Emscripten 3.1.6's libc++, where strtof reads the same grammar with the same rounding.
inline bool read_float32(std::string_view text, float& out) {
#ifdef __EMSCRIPTEN__
  if (!is_decimal_text(text, false)) return false;
  const std::string s(text);
  const float v = std::strtof(s.c_str(), nullptr);
  const std::string mantissa = s.substr(0, s.find_first_of("eE"));
  if (!std::isfinite(v) || (v == 0 && mantissa.find_first_of("123456789") != std::string::npos)) return false;
  out = v;
  return true;
#else
  float v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty() || !std::isfinite(v)) return false;
  out = v;
  return true;
#endif
}

}  // namespace qplay
