// OCP MX: the shared-scale rules (semantics.md C17, FLOOR and RCEIL), element rounding both ways,
// saturation, MXINT8, non-finite and all-zero blocks, tails, and the MXFP4 kernel path against the
// generic per-element path.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "qplay/error.hpp"
#include "qplay/mx.hpp"
#include "test_util.hpp"

using namespace qplay::mx;
using qplay_test::kInf;
using qplay_test::kNaN;
using qplay::minifloat::Rounding;

namespace {

// A block of 32 whose amax is `amax` (first element), the rest small.
std::vector<float> block_with(float amax, std::vector<float> head = {}) {
  std::vector<float> x(32, 0.0f);
  x[0] = amax;
  for (size_t i = 0; i < head.size(); ++i) x[1 + i] = head[i];
  return x;
}

}  // namespace

TEST_CASE("mx: element parameters (microxcaling formats.py)") {
  CHECK(element_info(Element::fp8_e4m3).emax == 8);
  CHECK(element_info(Element::fp8_e4m3).max_normal == 448.0f);
  CHECK(element_info(Element::fp8_e5m2).emax == 15);
  CHECK(element_info(Element::fp8_e5m2).max_normal == 57344.0f);
  CHECK(element_info(Element::fp6_e3m2).emax == 4);
  CHECK(element_info(Element::fp6_e3m2).max_normal == 28.0f);
  CHECK(element_info(Element::fp6_e2m3).emax == 2);
  CHECK(element_info(Element::fp6_e2m3).max_normal == 7.5f);
  CHECK(element_info(Element::fp4_e2m1).emax == 2);
  CHECK(element_info(Element::fp4_e2m1).max_normal == 6.0f);
  CHECK(element_info(Element::int8).emax == 0);
  CHECK(element_info(Element::int8).max_normal == 1.984375f);
  for (Element e : {Element::fp8_e4m3, Element::fp8_e5m2, Element::fp6_e2m3, Element::fp6_e3m2,
                    Element::fp4_e2m1})
    CHECK(qplay::minifloat::max_value(*element_info(e).format) == element_info(e).max_normal);
}

TEST_CASE("mx: FLOOR shared scale (semantics C17)") {
  CHECK(scale_code(6.0f, Element::fp4_e2m1, ScaleRule::floor) == 127);
  CHECK(scale_code(7.0f, Element::fp4_e2m1, ScaleRule::floor) == 127);
  CHECK(scale_code(8.0f, Element::fp4_e2m1, ScaleRule::floor) == 128);
  CHECK(scale_code(0.3f, Element::fp4_e2m1, ScaleRule::floor) == 123);
  CHECK(scale_code(0.0f, Element::fp4_e2m1, ScaleRule::floor) == 0);
  CHECK(scale_code(448.0f, Element::fp8_e4m3, ScaleRule::floor) == 127);
  CHECK(scale_code(57344.0f, Element::fp8_e5m2, ScaleRule::floor) == 127);
  CHECK(scale_code(1.5f, Element::int8, ScaleRule::floor) == 127);
  // The exact exponent, not a float log2 (which rounds 8 - ulp up to 3).
  CHECK(scale_code(std::nextafter(8.0f, 0.0f), Element::fp4_e2m1, ScaleRule::floor) == 127);
  // Clamped to [-127, 127]: a tiny amax, a float32 subnormal, the largest float.
  CHECK(scale_code(1e-38f, Element::fp4_e2m1, ScaleRule::floor) == 0);
  CHECK(scale_code(1e-45f, Element::fp8_e4m3, ScaleRule::floor) == 0);
  CHECK(scale_code(std::numeric_limits<float>::max(), Element::fp4_e2m1, ScaleRule::floor) == 252);
  CHECK(scale_code(std::numeric_limits<float>::max(), Element::int8, ScaleRule::floor) == 254);

  const std::vector<float> x7 = block_with(7.0f, {-7.0f, 2.9f});
  const Quantized q = quantize(x7.data(), x7.size());
  CHECK(q.scales[0] == 127);
  CHECK(q.dequantized[0] == 6.0f);  // 7 saturates to the E2M1 max
  CHECK(q.dequantized[1] == -6.0f);
  CHECK(q.dequantized[2] == 3.0f);
  CHECK(q.saturated == 2);
  const std::vector<float> x8 = block_with(8.0f, {1.0f});
  const Quantized q8 = quantize(x8.data(), x8.size());
  CHECK(q8.scales[0] == 128);
  CHECK(q8.codes[0] == 0x6);  // 8 / 2 = 4
  CHECK(q8.codes[1] == 0x1);  // 1 / 2 = 0.5
  CHECK(q8.saturated == 0);
}

TEST_CASE("mx: RCEIL shared scale (torchao)") {
  CHECK(scale_code(6.0f, Element::fp4_e2m1, ScaleRule::rceil) == 127);
  CHECK(scale_code(7.0f, Element::fp4_e2m1, ScaleRule::rceil) == 128);
  CHECK(scale_code(13.0f, Element::fp4_e2m1, ScaleRule::rceil) == 129);
  CHECK(scale_code(13.0f, Element::fp4_e2m1, ScaleRule::floor) == 128);
  CHECK(scale_code(0.3f, Element::fp4_e2m1, ScaleRule::rceil) == 123);
  CHECK(scale_code(448.0f, Element::fp8_e4m3, ScaleRule::rceil) == 127);
  CHECK(scale_code(449.0f, Element::fp8_e4m3, ScaleRule::rceil) == 128);
  CHECK(scale_code(0.0f, Element::fp4_e2m1, ScaleRule::rceil) == 0);
  CHECK(scale_code(1e-40f, Element::fp4_e2m1, ScaleRule::rceil) == 0);
  Options o;
  o.scale = ScaleRule::rceil;
  const std::vector<float> x = block_with(13.0f, {-13.0f});
  const Quantized q = quantize(x.data(), x.size(), o);
  CHECK(q.scales[0] == 129);
  CHECK(q.dequantized[0] == 12.0f);  // 13 / 4 = 3.25 -> 3
  CHECK(q.saturated == 0);
}

TEST_CASE("mx: element rounding half to even versus half away (X = 1)") {
  // amax 6 -> X = 1, so each element is its own t.
  const std::vector<float> t = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f, 6.5f, -0.75f, -2.5f};
  const float even[] = {0.0f, 1.0f, 1.0f, 2.0f, 2.0f, 4.0f, 4.0f, 6.0f, -1.0f, -2.0f};
  const float away[] = {0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f, 6.0f, -1.0f, -3.0f};
  std::vector<float> x = block_with(6.0f, t);
  for (bool half_away : {false, true}) {
    Options o;
    o.rounding = half_away ? Rounding::half_away : Rounding::half_even;
    for (size_t k : {size_t(32), size_t(16)}) {  // 32: the MXFP4 kernel; 16: the generic path
      o.block = k;
      const Quantized q = quantize(x.data(), x.size(), o);
      REQUIRE(q.scales[0] == 127);
      for (size_t i = 0; i < t.size(); ++i) {
        INFO("t = " << t[i] << (half_away ? " away" : " even") << " block " << k);
        CHECK(q.dequantized[1 + i] == (half_away ? away[i] : even[i]));
      }
    }
  }
}

TEST_CASE("mx: MXFP8 and MXFP6 and MXINT8 blocks") {
  Options o;
  o.element = Element::fp8_e4m3;
  const std::vector<float> x = block_with(500.0f, {1.0f, -0.1f, 300.0f});
  const Quantized q = quantize(x.data(), x.size(), o);
  CHECK(q.scales[0] == 127);
  CHECK(q.codes[0] == 0x7E);  // 500 saturates to 448 (never the NaN code)
  CHECK(q.codes[1] == 0x38);
  CHECK(q.codes[2] == 0x9D);
  CHECK(q.dequantized[3] == 288.0f);
  CHECK(q.saturated == 1);

  o.element = Element::fp8_e5m2;
  const std::vector<float> y = block_with(1e5f);
  const Quantized q5 = quantize(y.data(), y.size(), o);
  CHECK(q5.scales[0] == 128);  // floor(log2 1e5) = 16, emax 15
  CHECK(q5.dequantized[0] == 98304.0f);  // 1e5 / 2 = 50000 -> 49152 (1.5 * 2^15), times 2

  o.element = Element::fp6_e3m2;
  const std::vector<float> z = block_with(30.0f, {-31.0f});
  const Quantized q6 = quantize(z.data(), z.size(), o);
  CHECK(q6.scales[0] == 127);
  CHECK(q6.codes[0] == 0x1F);
  CHECK(q6.codes[1] == 0x3F);
  CHECK(q6.dequantized[1] == -28.0f);

  o.element = Element::int8;
  const std::vector<float> w = block_with(3.0f, {-3.0f, 1.0f, 0.0234375f, -0.0078125f, 3.99f});
  const Quantized qi = quantize(w.data(), w.size(), o);
  CHECK(qi.scales[0] == 128);  // amax 3.99: floor(log2) = 1, emax 0 -> X = 2
  CHECK(qi.codes[0] == 96);    // 3 / 2 * 64
  CHECK(qi.codes[1] == uint8_t(int8_t(-96)));
  CHECK(qi.codes[2] == 32);
  CHECK(qi.codes[3] == 1);   // 0.0234375 / 2 * 64 = 0.75 -> 1
  CHECK(qi.codes[4] == 0);   // -0.25 -> 0 (half to even ties are not involved: 0.25 < 0.5)
  CHECK(qi.codes[5] == 127); // 3.99 / 2 * 64 = 127.68 -> 128 -> clamped to 127
  CHECK(qi.dequantized[5] == 3.96875f);
  CHECK(qi.saturated == 1);
  CHECK(encode_element(0.5f / 64.0f, Element::int8, Rounding::half_even) == 0);
  CHECK(encode_element(0.5f / 64.0f, Element::int8, Rounding::half_away) == 1);
  CHECK(encode_element(-1.5f / 64.0f, Element::int8, Rounding::half_even) == uint8_t(int8_t(-2)));
  CHECK(encode_element(-2.5f / 64.0f, Element::int8, Rounding::half_away) == uint8_t(int8_t(-3)));
  CHECK(encode_element(-5.0f, Element::int8, Rounding::half_even) == uint8_t(int8_t(-127)));
  CHECK(decode_element(uint8_t(int8_t(-127)), Element::int8) == -1.984375f);
}

TEST_CASE("mx: all-zero and non-finite and tail blocks") {
  std::vector<float> x(32 * 3 + 5, 0.0f);
  x[40] = kNaN;                // block 1 has a NaN
  x[64] = 1.0f;                // block 2 ordinary
  x[65] = kInf;                // ... and an Inf: NaN scale too
  x[96] = 0.75f;               // the tail block of 5
  x[97] = -0.3f;
  // E2M1 takes the MXFP4 kernel, E2M3 the generic loop; both have emax 2.
  for (Element e : {Element::fp4_e2m1, Element::fp6_e2m3}) {
    Options o;
    o.element = e;
    const Quantized q = quantize(x.data(), x.size(), o);
    REQUIRE(q.scales.size() == 4);
    CHECK(q.scales[0] == 0);     // all zero: code 0 (2^-127), codes 0, dequantized 0
    for (size_t i = 0; i < 32; ++i) CHECK(q.dequantized[i] == 0.0f);
    CHECK(q.scales[1] == 0xFF);
    CHECK(q.scales[2] == 0xFF);
    for (size_t i = 32; i < 96; ++i) {
      CHECK(q.codes[i] == 0);
      CHECK(std::isnan(q.dequantized[i]));
    }
    CHECK(q.scales[3] == 124);   // floor(log2 0.75) = -1, minus emax 2
    CHECK(q.dequantized[96] == 0.75f);
    // -0.3 / 0.125 = -2.4: E2M1 -> -2, E2M3 (steps of 0.25 there) -> -2.5; times 0.125.
    CHECK(q.dequantized[97] == (e == Element::fp4_e2m1 ? -0.25f : -0.3125f));
    CHECK(q.codes.size() == x.size());
  }
  Options bad;
  bad.block = 0;
  CHECK_THROWS_AS(quantize(x.data(), x.size(), bad), qplay::Error);
  const Quantized empty = quantize(x.data(), 0);
  CHECK(empty.scales.empty());
}

TEST_CASE("mx: the MXFP4 kernel path equals the per-element path") {
  // Blocks of 32 with FLOOR take the SIMD/scalar kernel; the rule applied by hand must agree.
  std::vector<float> x(32 * 40 + 17);
  uint64_t s = 12345;
  for (float& v : x) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    const int e = int((s >> 33) % 40) - 20;
    v = std::ldexp(float(int64_t(s >> 40) % 1000) / 100.0f, e % 6);
  }
  for (Rounding r : {Rounding::half_even, Rounding::half_away}) {
    Options o;
    o.rounding = r;
    const Quantized q = quantize(x.data(), x.size(), o);
    for (size_t b = 0; b < q.scales.size(); ++b) {
      float amax = 0.0f;
      for (size_t i = b * 32; i < std::min(x.size(), b * 32 + 32); ++i) amax = std::max(amax, std::fabs(x[i]));
      const uint8_t sc = scale_code(amax, Element::fp4_e2m1, ScaleRule::floor);
      CHECK(q.scales[b] == sc);
      const float inv = std::ldexp(1.0f, 127 - int(sc));
      for (size_t i = b * 32; i < std::min(x.size(), b * 32 + 32); ++i) {
        CHECK(q.codes[i] == encode_element(x[i] * inv, Element::fp4_e2m1, r));
        CHECK(q.dequantized[i] == decode_element(q.codes[i], Element::fp4_e2m1) * std::ldexp(1.0f, int(sc) - 127));
      }
    }
  }
}
