// The one spelling of a float as text: the shortest "%.{p}g" that reads back to the same value.
// params.json, the report, gguf metadata, option spellings (percentile:99.9) and the CLI summary
// all use it, so a number reads the same everywhere and natively and in wasm alike:
// std::to_chars for floating point is missing from Emscripten 3.1.6's libc++, while printf and
// strtod/strtof are correctly rounded in both glibc and Emscripten's musl.
// Header-only so every target that links a part of the core (the fuzz harnesses take only the
// readers) has it.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

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

}  // namespace qplay
