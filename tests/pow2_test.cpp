// Power-of-two quantization: levels, the linear-domain midpoints and their ties, zero threshold,
// saturation, signs, specials and the scale helper.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "qplay/error.hpp"
#include "qplay/pow2.hpp"

using namespace qplay::pow2;

TEST_CASE("pow2: levels and midpoints and ties") {
  const Options o{4, 1.0f};  // L = 7 levels: 1, 1/2, ..., 1/64
  for (int k = 1; k <= 7; ++k) {
    CHECK(decode(uint8_t(k), o) == std::ldexp(1.0f, k - 7));
    CHECK(decode(uint8_t(8 | k), o) == -std::ldexp(1.0f, k - 7));
    CHECK(encode(std::ldexp(1.0f, k - 7), o) == k);
  }
  CHECK(decode(0, o) == 0.0f);
  CHECK(std::signbit(decode(8, o)));
  // Between 1/4 and 1/2 the linear midpoint is 3/8: a tie goes up, just below goes down.
  CHECK(encode(0.375f, o) == 6);
  CHECK(encode(std::nextafter(0.375f, 0.0f), o) == 5);
  CHECK(encode(0.36f, o) == 5);  // nearest in the linear domain (log-domain rounding would say 1/2)
  CHECK(encode(-0.375f, o) == (8 | 6));
  // Zero threshold: the midpoint 2^-7 between 0 and the smallest level 2^-6.
  CHECK(encode(std::ldexp(1.0f, -7), o) == 1);
  CHECK(encode(std::nextafter(std::ldexp(1.0f, -7), 0.0f), o) == 0);
  CHECK(encode(-1e-9f, o) == 8);  // -0
  // Saturation and specials.
  CHECK(encode(1.0f, o) == 7);
  CHECK(encode(3.0f, o) == 7);
  CHECK(encode(-INFINITY, o) == 15);
  CHECK(encode(NAN, o) == 0);
  // With a scale: levels scale with it.
  const Options s{3, 10.0f};  // L = 3: 10, 5, 2.5
  CHECK(encode(7.4f, s) == 2);
  CHECK(encode(7.5f, s) == 3);
  CHECK(decode(1, s) == 2.5f);
  CHECK(encode(1.25f, s) == 1);  // the zero threshold 10 * 2^-3 = 1.25: tie to the level
  CHECK(encode(1.2f, s) == 0);
  // 8 bits: L = 127 levels reach down to float32 subnormals exactly.
  const Options wide{8, 1.0f};
  CHECK(encode(std::ldexp(1.0f, -126), wide) == 1);
  CHECK(encode(std::ldexp(1.5f, -127), wide) == 1);
  CHECK(encode(std::ldexp(1.0f, -127), wide) == 1);  // the zero threshold itself
  CHECK(encode(std::ldexp(1.0f, -128), wide) == 0);
}

TEST_CASE("pow2: quantize with clipping and the scale helper and errors") {
  const std::vector<float> x = {0.0f, 0.3f, -0.7f, 2.0f, -5.0f, NAN, INFINITY};
  const float s = scale_for(x.data(), x.size(), false);
  CHECK(s == 5.0f);
  CHECK(scale_for(x.data(), x.size(), true) == 8.0f);
  const float p = 4.0f;
  CHECK(scale_for(&p, 1, true) == 4.0f);
  CHECK(scale_for(x.data(), 1, true) == 1.0f);  // only zeros
  const Quantized q = quantize(x.data(), x.size(), Options{4, 4.0f});
  CHECK(q.clipped == 1);  // -5 > 4 (Inf is not counted)
  CHECK(q.dequantized[4] == -4.0f);
  CHECK(q.dequantized[3] == 2.0f);
  CHECK(q.dequantized[1] == 0.25f);  // 0.3 / 4 = 0.075, nearest of 1/16 and 1/8 (midpoint 0.09375)
  CHECK(q.dequantized[5] == 0.0f);
  CHECK(q.dequantized[6] == 4.0f);
  CHECK_THROWS_AS(quantize(x.data(), x.size(), Options{1, 1.0f}), qplay::Error);
  CHECK_THROWS_AS(quantize(x.data(), x.size(), Options{9, 1.0f}), qplay::Error);
  CHECK_THROWS_AS(quantize(x.data(), x.size(), Options{4, 0.0f}), qplay::Error);
  CHECK_THROWS_AS(quantize(x.data(), x.size(), Options{4, INFINITY}), qplay::Error);
}
