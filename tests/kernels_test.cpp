// Kernel tests. Two kinds:
//  - spec tests of the scalar twin alone, against hand-computed or independently computed values;
//  - equivalence tests (only when the build has the SIMD twin): simd128 must equal scalar bit for
//    bit over sizes around the vector steps, misaligned starts, every Round x Div x NanCode, and
//    inputs with ties, NaN, +-inf, -0.0, huge values and denormals; output guards must stay intact.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/element.hpp"
#include "kernels/kernels.hpp"
#include "test_util.hpp"

using namespace qplay::kernels;
using namespace qplay_test;

namespace {

// ---- scalar helpers for the spec tests ----------------------------------------------------------

template <class T>
T quantize_one_scalar(float x, float s, float zi, Round r, Div d, NanCode nan, float qmin, float qmax,
                      uint64_t* saturated = nullptr, float zf = 0.0f) {
  const QuantizeSpec spec{r, d, nan, qmin, qmax};
  const float op = d == Div::divide ? s : 1.0f / s;
  T out{};
  uint64_t sat = 0;
  if constexpr (std::is_same_v<T, int8_t>) sat = scalar::quantize_run_f32_i8(&x, 1, op, zf, zi, spec, 0, &out);
  else if constexpr (std::is_same_v<T, uint8_t>) sat = scalar::quantize_run_f32_u8(&x, 1, op, zf, zi, spec, 0, &out);
  else if constexpr (std::is_same_v<T, int16_t>) sat = scalar::quantize_run_f32_i16(&x, 1, op, zf, zi, spec, 0, &out);
  else sat = scalar::quantize_run_f32_u16(&x, 1, op, zf, zi, spec, 0, &out);
  if (saturated) *saturated = sat;
  return out;
}

int i8_code(float x, Round r) {
  return quantize_one_scalar<int8_t>(x, 1.0f, 0.0f, r, Div::divide, NanCode::as_zero, -128, 127);
}

}  // namespace

// ================================ spec tests of the scalar twin ==================================

TEST_CASE("scalar quantize: rounding modes on ties and near-ties") {
  struct Row {
    float t;
    int even, away, up;
  };
  const Row rows[] = {
      {0.5f, 0, 1, 1},   {-0.5f, 0, -1, 0},  {1.5f, 2, 2, 2},         {-1.5f, -2, -2, -1},
      {2.5f, 2, 3, 3},   {-2.5f, -2, -3, -2}, {0.49999997f, 0, 0, 0}, {-0.49999997f, 0, 0, 0},
      {0.50000006f, 1, 1, 1}, {-0.50000006f, -1, -1, -1}, {126.5f, 126, 127, 127}, {-127.5f, -128, -128, -127},
      {-0.0f, 0, 0, 0},  {1e-40f, 0, 0, 0},   {-1e-45f, 0, 0, 0},
  };
  for (const Row& row : rows) {
    CAPTURE(row.t);
    CHECK(i8_code(row.t, Round::half_even) == row.even);
    CHECK(i8_code(row.t, Round::half_away) == row.away);
    CHECK(i8_code(row.t, Round::half_up) == row.up);
  }
}

TEST_CASE("scalar rounding rules: exact over random bit patterns and beyond 2^23") {
  // half_away must be C roundf; half_up must be floor(t + 0.5) computed exactly (in double: a
  // float plus 0.5 is exact there except for |t| < 2^-29, where the floor is 0 either way).
  Rng rng(12345);
  size_t away_mismatch = 0, up_mismatch = 0, even_mismatch = 0;
  for (int i = 0; i < 200000; ++i) {
    float t = float_from_bits(uint32_t(rng.next()));
    if (i % 2) t = rng.uniform(-300.0f, 300.0f);  // dense near small integers and ties
    if (std::isnan(t)) continue;
    if (bits_of(element::round_half_away(t)) != bits_of(std::round(t)) &&
        element::round_half_away(t) != std::round(t))
      ++away_mismatch;
    if (element::round_half_up(t) != float(std::floor(double(t) + 0.5))) ++up_mismatch;
    if (element::round_half_even(t) != std::nearbyint(t)) ++even_mismatch;
  }
  CHECK(away_mismatch == 0);
  CHECK(up_mismatch == 0);
  CHECK(even_mismatch == 0);
  // Already integral: returned unchanged, including beyond 2^31 and infinities.
  for (float t : {8388608.0f, -8388609.0f, 16777216.0f, 2147483648.0f, -3e38f, kInf, -kInf}) {
    CAPTURE(t);
    CHECK(element::round_half_away(t) == t);
    CHECK(element::round_half_up(t) == t);
    CHECK(element::round_half_even(t) == t);
  }
  // Stochastic is floor(t + u) with a float32 add: identity from 2^24 on; in [2^23, 2^24) the add
  // can round up to t + 1 (those t are far outside every code range, so codes do not change).
  for (float t : {16777216.0f, -16777218.0f, 2147483648.0f, -3e38f, kInf, -kInf}) {
    CAPTURE(t);
    CHECK(element::round_stochastic(t, 0.99999994f) == t);
    CHECK(element::round_stochastic(t, 0.0f) == t);
  }
  CHECK(element::round_stochastic(8388608.0f, 0.99999994f) == 8388609.0f);
  CHECK(element::round_stochastic(8388608.0f, 0.25f) == 8388608.0f);
  CHECK(element::round_stochastic(2.75f, 0.25f) == 3.0f);
  CHECK(element::round_stochastic(2.75f, 0.2499997f) == 2.0f);
  CHECK(element::round_stochastic(2.75f, 0.24999999f) == 3.0f);  // the float add rounds up to 3
  CHECK(element::round_stochastic(-2.25f, 0.25f) == -2.0f);
  CHECK(element::round_half_away(8388607.5f) == 8388608.0f);
  CHECK(element::round_half_up(-8388607.5f) == -8388607.0f);
  CHECK(element::round_half_even(8388606.5f) == 8388606.0f);
}

TEST_CASE("scalar quantize: FBGEMM multiply_inverse vs divide example") {
  // x / s = 127.499992 but x * (1 / s) = 127.5, which rounds half-even to 128.
  const float s = 0.00214854861f, x = 0.273939937f;
  CHECK(quantize_one_scalar<uint8_t>(x, s, 0, Round::half_even, Div::multiply_inverse, NanCode::as_zero, 0, 255) == 128);
  CHECK(quantize_one_scalar<uint8_t>(x, s, 0, Round::half_even, Div::divide, NanCode::as_zero, 0, 255) == 127);
  CHECK(quantize_one_scalar<int16_t>(x, s, 0, Round::half_even, Div::multiply_inverse, NanCode::as_zero, -32768, 32767) == 128);
  // In the int8 range the 128 saturates to 127: the codes agree but only multiply_inverse clips.
  uint64_t sat_mul = 9, sat_div = 9;
  CHECK(quantize_one_scalar<int8_t>(x, s, 0, Round::half_even, Div::multiply_inverse, NanCode::as_zero, -128, 127, &sat_mul) == 127);
  CHECK(quantize_one_scalar<int8_t>(x, s, 0, Round::half_even, Div::divide, NanCode::as_zero, -128, 127, &sat_div) == 127);
  CHECK(sat_mul == 1);
  CHECK(sat_div == 0);
}

TEST_CASE("scalar quantize: zero points / clamping and the saturation count") {
  QuantizeSpec spec;  // half_even, divide, as_zero, [0, 255]
  const std::vector<float> x = {0.0f, 1.0f, -1.0f, 12.5f, 13.5f, 1000.0f, -1000.0f, kInf, -kInf, 3e38f};
  std::vector<uint8_t> q(x.size());
  // s = 0.5, z = 10: t = 2x, q = round(2x) + 10.
  const uint64_t sat = scalar::quantize_run_f32_u8(x.data(), x.size(), 0.5f, 0.0f, 10.0f, spec, 0, q.data());
  CHECK(std::vector<int>(q.begin(), q.end()) == std::vector<int>{10, 12, 8, 35, 37, 255, 0, 255, 0, 255});
  CHECK(sat == 3);  // 1000, -1000, 3e38 (finite); the infinities saturate but are not counted
  // Float zero point: t = x / s + zf, then rounding (zi = 0). 0.25 / 0.5 + 0.5 = 1.0; 0 + 0.5 -> 0.
  const float xf[] = {0.25f, 0.0f, -0.25f};
  uint8_t qf[3];
  scalar::quantize_run_f32_u8(xf, 3, 0.5f, 0.5f, 0.0f, spec, 0, qf);
  CHECK(int(qf[0]) == 1);
  CHECK(int(qf[1]) == 0);
  CHECK(int(qf[2]) == 0);
  // Narrow range on int8: [-127, 127] needs its own clamp (the narrowing would allow -128).
  QuantizeSpec narrow;
  narrow.qmin = -127;
  narrow.qmax = 127;
  const float xn[] = {-200.0f, -127.4f, 200.0f};
  int8_t qn[3];
  CHECK(scalar::quantize_run_f32_i8(xn, 3, 1.0f, 0.0f, 0.0f, narrow, 0, qn) == 2);
  CHECK(int(qn[0]) == -127);
  CHECK(int(qn[1]) == -127);
  CHECK(int(qn[2]) == 127);
  // Bounds beyond the code type are limited to it.
  QuantizeSpec wide;
  wide.qmin = -1000;
  wide.qmax = 1000;
  const float xw[] = {-300.0f, 300.0f};
  uint8_t qw[2];
  CHECK(scalar::quantize_run_f32_u8(xw, 2, 1.0f, 0.0f, 0.0f, wide, 0, qw) == 2);
  CHECK(int(qw[0]) == 0);
  CHECK(int(qw[1]) == 255);
}

TEST_CASE("scalar quantize: NaN codes and NaN t from an overflowed inverse") {
  // as_zero: a NaN gets the code of 0.0f, zero point and rounding included (integer and float
  // zero points; stochastic rounds zf + u like any x = 0).
  CHECK(quantize_one_scalar<uint8_t>(kNaN, 0.1f, 128, Round::half_even, Div::divide, NanCode::as_zero, 0, 255) == 128);
  CHECK(quantize_one_scalar<uint8_t>(-kNaN, 0.1f, 3, Round::half_away, Div::multiply_inverse, NanCode::as_zero, 0, 255) == 3);
  CHECK(quantize_one_scalar<uint8_t>(kNaN, 0.1f, 0, Round::half_away, Div::divide, NanCode::as_zero, 0, 255, nullptr, 2.5f) == 3);
  CHECK(quantize_one_scalar<uint8_t>(kNaN, 0.1f, 0, Round::half_even, Div::divide, NanCode::as_zero, 0, 255, nullptr, 2.5f) == 2);
  {
    QuantizeSpec st;
    st.round = Round::stochastic;
    st.seed = 9;
    const float nan_then_zero[] = {kNaN, 0.0f, kNaN, 0.0f, kNaN, 0.0f, kNaN, 0.0f};
    const float zero_then_nan[] = {0.0f, kNaN, 0.0f, kNaN, 0.0f, kNaN, 0.0f, kNaN};
    uint8_t a[8], b[8];
    scalar::quantize_run_f32_u8(nan_then_zero, 8, 1.0f, 0.5f, 0.0f, st, 0, a);
    scalar::quantize_run_f32_u8(zero_then_nan, 8, 1.0f, 0.5f, 0.0f, st, 0, b);
    CHECK(std::memcmp(a, b, 8) == 0);
    int ones = 0;
    for (uint8_t code : a) ones += code;
    CHECK(ones > 0);  // floor(0.5 + u) is 1 for about half of the elements
    CHECK(ones < 8);
  }
  // qmin: NaN -> qmin, not counted as saturated.
  uint64_t sat = 9;
  CHECK(quantize_one_scalar<int8_t>(kNaN, 0.1f, 0, Round::half_even, Div::divide, NanCode::qmin, -127, 127, &sat) == -127);
  CHECK(sat == 0);
  // s = 1e-39: 1/s = inf, so x = 0 (or a NaN replaced by 0) gives t = 0 * inf = NaN: qmin, uncounted.
  const float tiny = 1e-39f;
  CHECK(std::isinf(1.0f / tiny));
  CHECK(quantize_one_scalar<uint8_t>(0.0f, tiny, 7, Round::half_even, Div::multiply_inverse, NanCode::as_zero, 3, 255, &sat) == 3);
  CHECK(sat == 0);
  CHECK(quantize_one_scalar<uint8_t>(kNaN, tiny, 7, Round::half_even, Div::multiply_inverse, NanCode::as_zero, 3, 255, &sat) == 3);
  CHECK(sat == 0);
  CHECK(quantize_one_scalar<uint8_t>(-1e-45f, tiny, 7, Round::half_even, Div::multiply_inverse, NanCode::as_zero, 3, 255, &sat) == 3);
  CHECK(sat == 1);  // -denorm * inf = -inf: a finite x that saturates
  CHECK(quantize_one_scalar<uint8_t>(0.0f, tiny, 7, Round::half_even, Div::multiply_inverse, NanCode::qmin, 0, 255, &sat) == 0);
  CHECK(sat == 0);
  CHECK(quantize_one_scalar<uint8_t>(1.0f, tiny, 7, Round::half_even, Div::multiply_inverse, NanCode::qmin, 0, 255, &sat) == 255);
  CHECK(sat == 1);
  // Infinite inputs saturate without being counted.
  CHECK(quantize_one_scalar<int16_t>(-kInf, 1.0f, 0, Round::half_up, Div::divide, NanCode::qmin, -32768, 32767, &sat) == -32768);
  CHECK(sat == 0);
}

TEST_CASE("scalar quantize: stochastic rounding") {
  const size_t n = 20000;
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = 10.3f + float(i % 7);  // t = 10.3 .. 16.3, fraction ~0.3
  QuantizeSpec spec;
  spec.round = Round::stochastic;
  spec.seed = 42;
  std::vector<uint8_t> a(n), b(n), c(n), chunked(n);
  scalar::quantize_run_f32_u8(x.data(), n, 1.0f, 0.0f, 0.0f, spec, 0, a.data());
  scalar::quantize_run_f32_u8(x.data(), n, 1.0f, 0.0f, 0.0f, spec, 0, b.data());
  CHECK(a == b);  // same seed, same codes
  // Counter based: two chunks with their global index0 give the one-call codes.
  scalar::quantize_run_f32_u8(x.data(), 777, 1.0f, 0.0f, 0.0f, spec, 0, chunked.data());
  scalar::quantize_run_f32_u8(x.data() + 777, n - 777, 1.0f, 0.0f, 0.0f, spec, 777, chunked.data() + 777);
  CHECK(chunked == a);
  spec.seed = 43;
  scalar::quantize_run_f32_u8(x.data(), n, 1.0f, 0.0f, 0.0f, spec, 0, c.data());
  size_t differing = 0;
  for (size_t i = 0; i < n; ++i) differing += a[i] != c[i];
  CHECK(differing > n / 5);  // ~42 % of codes differ between independent streams
  // Unbiased: the mean code approaches the mean t. Each code is floor or ceil of its t.
  double sum_code = 0, sum_t = 0;
  bool all_floor_or_ceil = true;
  for (size_t i = 0; i < n; ++i) {
    sum_code += a[i];
    sum_t += x[i];
    all_floor_or_ceil &= a[i] == std::floor(x[i]) || a[i] == std::ceil(x[i]);
  }
  CHECK(all_floor_or_ceil);
  CHECK(std::fabs(sum_code / n - sum_t / n) < 0.015);  // ~5 sigma; a biased u is off by ~0.3
  // u in [0, 1) on a 2^-24 grid, and a different index or seed gives a different u.
  for (uint32_t i = 0; i < 1000; ++i) {
    const float u = stochastic_uniform(7, i);
    REQUIRE(u >= 0.0f);
    REQUIRE(u < 1.0f);
    REQUIRE(u * 16777216.0f == std::floor(u * 16777216.0f));
  }
  // The documented construction, recomputed here: lowbias32(index ^ lowbias32(seed ^ 0x9E3779B9)),
  // top 24 bits.
  auto lowbias32 = [](uint32_t h) {
    h = (h ^ (h >> 16)) * 0x7FEB352Du;
    h = (h ^ (h >> 15)) * 0x846CA68Bu;
    return h ^ (h >> 16);
  };
  for (uint32_t seed : {0u, 1u, 0xDEADBEEFu})
    for (uint32_t index : {0u, 1u, 12345u, 0xFFFFFFFFu})
      CHECK(stochastic_uniform(seed, index) == float(lowbias32(index ^ lowbias32(seed ^ 0x9E3779B9u)) >> 8) * 0x1p-24f);
  CHECK(stochastic_uniform(7, 1) != stochastic_uniform(7, 2));
  CHECK(stochastic_uniform(7, 1) != stochastic_uniform(8, 1));
  double mean_u = 0;
  for (uint32_t i = 0; i < 100000; ++i) mean_u += stochastic_uniform(1, i);
  CHECK(std::fabs(mean_u / 100000 - 0.5) < 0.005);
}

TEST_CASE("scalar dequantize") {
  const uint8_t q[] = {0, 128, 255};
  float y[3];
  scalar::dequantize_run_u8_f32(q, 3, 0.5f, 128.0f, y);
  CHECK(y[0] == -64.0f);
  CHECK(y[1] == 0.0f);
  CHECK(y[2] == 63.5f);
  const int16_t qs[] = {-32768, 32767};
  const float scales[] = {0.25f, 2.0f}, zeros[] = {0.5f, -1.0f};
  float ys[2];
  scalar::dequantize_vec_i16_f32(qs, 2, scales, zeros, ys);
  CHECK(ys[0] == (-32768.0f - 0.5f) * 0.25f);
  CHECK(ys[1] == 65536.0f);
  // float32 arithmetic, no fma: (q - zero) rounds before the multiply.
  const uint16_t qu[] = {65535};
  float yu;
  scalar::dequantize_run_u16_f32(qu, 1, 0.1f, 0.3f, &yu);
  CHECK(bits_of(yu) == bits_of((65535.0f - 0.3f) * 0.1f));
}

TEST_CASE("scalar minmax / minmax_rows / absmax") {
  const std::vector<float> x = {3.0f, kNaN, -2.0f, kInf, 7.5f, -kInf, -0.0f, 1e-40f};
  MinMax m;
  scalar::minmax_f32(x.data(), x.size(), &m);
  CHECK(m.min == -2.0f);
  CHECK(m.max == 7.5f);
  CHECK(m.nonfinite == 3);
  // Folding into a partial result.
  const float more[] = {-5.0f, 1.0f};
  scalar::minmax_f32(more, 2, &m);
  CHECK(m.min == -5.0f);
  CHECK(m.max == 7.5f);
  CHECK(m.nonfinite == 3);
  // Only non-finite values: the accumulator is unchanged.
  MinMax empty;
  const float bad[] = {kNaN, kInf};
  scalar::minmax_f32(bad, 2, &empty);
  CHECK(empty.min == kInf);
  CHECK(empty.max == -kInf);
  CHECK(empty.nonfinite == 2);
  // Signed zeros: -0 < +0 whatever the order.
  for (const auto& zeros : {std::vector<float>{0.0f, -0.0f}, std::vector<float>{-0.0f, 0.0f}}) {
    MinMax z;
    scalar::minmax_f32(zeros.data(), 2, &z);
    CHECK(bits_of(z.min) == bits_of(-0.0f));
    CHECK(bits_of(z.max) == bits_of(0.0f));
  }
  // Rows: elementwise, non-finite skipped.
  const float row[] = {1.0f, kNaN, -0.0f, 4.0f};
  float mn[] = {2.0f, 5.0f, 0.0f, kInf}, mx[] = {0.5f, 5.0f, 0.0f, -kInf};
  scalar::minmax_rows_f32(row, 4, mn, mx);
  CHECK(mn[0] == 1.0f);
  CHECK(mx[0] == 1.0f);
  CHECK(mn[1] == 5.0f);
  CHECK(mx[1] == 5.0f);
  CHECK(bits_of(mn[2]) == bits_of(-0.0f));
  CHECK(bits_of(mx[2]) == bits_of(0.0f));
  CHECK(mn[3] == 4.0f);
  CHECK(mx[3] == 4.0f);
  float a = 0.0f;
  const float ax[] = {-3.0f, kNaN, 2.0f, -kInf, kInf, -9.5f, 1.0f};
  scalar::absmax_f32(ax, 7, &a);
  CHECK(a == 9.5f);
  scalar::absmax_f32(ax, 3, &a);  // folds into the previous result
  CHECK(a == 9.5f);
}

TEST_CASE("scalar error_sums: terms / skipping / and the four-lane order") {
  const float x[] = {1.0f, 2.0f, kNaN, -1.0f, 3.0f};
  const float y[] = {0.5f, 2.0f, 1.0f, 1.0f, kInf};
  ErrorSums s;
  scalar::error_sums_f32(x, y, 5, &s);
  CHECK(s.count == 3);
  CHECK(s.sq_err == 0.25 + 0.0 + 4.0);
  CHECK(s.abs_err == 0.5 + 0.0 + 2.0);
  CHECK(s.sq_x == 1.0 + 4.0 + 1.0);
  CHECK(s.sq_y == 0.25 + 4.0 + 1.0);
  CHECK(s.xy == 0.5 + 4.0 - 1.0);
  CHECK(s.max_abs == 2.0);
  // The lane rule: xy lanes are (2^53, 1, -2^53, 1); (l0 + l2) + (l1 + l3) = 2, while a sequential
  // sum would give 1 (2^53 + 1 rounds back to 2^53).
  const float ones[] = {1.0f, 1.0f, 1.0f, 1.0f};
  const float lanes[] = {9007199254740992.0f, 1.0f, -9007199254740992.0f, 1.0f};
  scalar::error_sums_f32(ones, lanes, 4, &s);
  CHECK(s.xy == 2.0);
  CHECK(s.count == 4);
  // Overwrites rather than accumulates; merge combines calls.
  ErrorSums total;
  scalar::error_sums_f32(x, y, 5, &s);
  merge(total, s);
  merge(total, s);
  CHECK(total.count == 6);
  CHECK(total.sq_err == 2 * (0.25 + 4.0));
  CHECK(total.max_abs == 2.0);
  ErrorSums none;
  scalar::error_sums_f32(x, y, 0, &none);
  CHECK(none.count == 0);
  CHECK(none.sq_err == 0.0);
}

TEST_CASE("scalar histogram") {
  // [0, 10) in 10 bins: inv_width = 1.
  const float x[] = {0.0f, 0.5f, 3.0f, 9.99f, 10.0f, -5.0f, 100.0f, kNaN, kInf, -kInf, 3e38f, -3e38f};
  std::vector<uint64_t> counts(10, 1);  // accumulates into existing counts
  scalar::histogram_f32(x, std::size(x), 0.0f, 1.0f, 10, counts.data());
  CHECK(counts == std::vector<uint64_t>{1 + 4, 1, 1, 1 + 1, 1, 1, 1, 1, 1, 1 + 4});
  // The bin rule alone: huge values reach the last bin even where float(bins - 1) rounds up.
  const uint32_t last = (1u << 24) + 2;  // float(last) == 2^24 + 2, float(last + 1) rounds
  CHECK(element::histogram_bin(3e38f, 0.0f, 1.0f, last) == last);
  CHECK(element::histogram_bin(16777220.0f, 0.0f, 1.0f, last) == last);
  CHECK(element::histogram_bin(16777216.0f, 0.0f, 1.0f, last) == 16777216u);
  CHECK(element::histogram_bin(-3e38f, 0.0f, 1.0f, last) == 0);
  CHECK(element::histogram_bin(2.5f, 1.0f, 4.0f, 9) == 6);  // floor((2.5 - 1) * 4) = 6
  // Zero bins: nothing is touched.
  uint64_t untouched = 77;
  scalar::histogram_f32(x, std::size(x), 0.0f, 1.0f, 0, &untouched);
  CHECK(untouched == 77);
}

TEST_CASE("dispatch tables") {
  CHECK(std::string(scalar_table().name) == "scalar");
  CHECK((scalar_table().quantize_run_f32_u8 == &scalar::quantize_run_f32_u8));  // function pointers: compared as bool
  CHECK((scalar_table().histogram_f32 == &scalar::histogram_f32));  // function pointers: compared as bool
#if QPLAY_HAVE_SIMD128
  REQUIRE(simd128_table() != nullptr);
  CHECK(simd_available());
  CHECK(std::string(simd128_table()->name) == "simd128");
  CHECK((simd128_table()->quantize_vec_f32_i16 == &simd128::quantize_vec_f32_i16));  // function pointers: compared as bool
  CHECK((simd128_table()->error_sums_f32 == &simd128::error_sums_f32));  // function pointers: compared as bool
  CHECK(&table() == simd128_table());
  force_scalar(true);
  CHECK(&table() == &scalar_table());
  force_scalar(false);
  CHECK(&table() == simd128_table());
#else
  CHECK(simd128_table() == nullptr);
  CHECK_FALSE(simd_available());
  force_scalar(false);
  CHECK(&table() == &scalar_table());
#endif
}

// ================================ simd128 == scalar, bit for bit =================================
#if QPLAY_HAVE_SIMD128

namespace {

// Values that stress every path: NaN (both signs, payload), infinities, signed zeros, huge values,
// integers beyond 2^23 and 2^31, denormals.
const float kSpecials[] = {
    kNaN, -kNaN, float_from_bits(0x7FC00001u), float_from_bits(0x7F800001u), kInf, -kInf, 0.0f, -0.0f,
    std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(), 3e38f, 1e10f, -1e10f,
    16777216.0f, 8388607.5f, -8388607.5f, 2147483648.0f, -8589934592.0f, 1e-40f, -1e-45f,
    std::numeric_limits<float>::min(), -std::numeric_limits<float>::denorm_min()};
// Multiplied by the scale: t lands on these values (exactly for power-of-two scales).
const float kScaledSpecials[] = {0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 0.49999997f, -0.49999997f,
                                 0.50000006f, 8388607.5f, 4194303.5f, -4194304.5f, 1e6f, -1e6f};

const char* round_name(Round r) {
  switch (r) {
    case Round::half_even: return "half_even";
    case Round::half_away: return "half_away";
    case Round::half_up: return "half_up";
    case Round::stochastic: return "stochastic";
  }
  return "?";
}

// ---- quantize parameter and input generation ----------------------------------------------------

struct ParamCase {
  float scale;  // s; scale_op is s (divide) or 1/s (multiply_inverse)
  float zf, zi;
};
float scale_op_for(const ParamCase& p, Div div) { return div == Div::divide ? p.scale : 1.0f / p.scale; }

template <class T>
std::vector<ParamCase> param_cases(float qmin, float qmax) {
  const float mid = std::floor((qmin + qmax) / 2);
  return {
      {1.0f, 0.0f, mid},            // exact ties, integer zero point
      {0.25f, 0.0f, qmin},          // exact ties, zero point at the bottom
      {0.00214854861f, 0.0f, 0.0f}, // FBGEMM scale: divide and multiply_inverse disagree
      {0.1f, 3.5f, 0.0f},           // float zero point with a tie of its own
      {3.0f, -2.25f, 0.0f},         // float zero point, scale > 1
      {1e-39f, 0.0f, mid},          // denormal scale: 1/s overflows to inf (0 * inf = NaN t)
      {1e30f, 0.0f, mid},           // huge scale: nearly everything rounds to the zero point
  };
}

float quantize_input(Rng& rng, const ParamCase& p, float qmin, float qmax) {
  const uint32_t pick = rng.below(100);
  if (pick < 10) return kSpecials[rng.below(std::size(kSpecials))];
  if (pick < 20) return kScaledSpecials[rng.below(std::size(kScaledSpecials))] * p.scale;
  static const float kFractions[] = {0.0f, 0.5f, -0.5f, 0.25f, 0.75f, 0.49999997f, 0.50000006f, -0.49999997f};
  const float k = std::floor(rng.uniform(qmin - p.zi - 24, qmax - p.zi + 24));
  const float frac = pick < 60 ? kFractions[rng.below(std::size(kFractions))] : rng.uniform(-1, 1);
  return (k + frac - p.zf) * p.scale;
}

std::string describe(const char* op, const char* type, const QuantizeSpec& spec, size_t n, size_t offset,
                     uint32_t index0) {
  std::ostringstream s;
  s << op << "_" << type << " round=" << round_name(spec.round)
    << " div=" << (spec.div == Div::divide ? "divide" : "multiply_inverse")
    << " nan=" << (spec.nan == NanCode::qmin ? "qmin" : "as_zero") << " qmin=" << spec.qmin
    << " qmax=" << spec.qmax << " n=" << n << " offset=" << offset << " index0=" << index0;
  return s.str();
}

std::vector<QuantizeSpec> all_specs(float qmin, float qmax) {
  std::vector<QuantizeSpec> specs;
  for (Round r : {Round::half_even, Round::half_away, Round::half_up, Round::stochastic})
    for (Div d : {Div::divide, Div::multiply_inverse})
      for (NanCode c : {NanCode::as_zero, NanCode::qmin})
        specs.push_back(QuantizeSpec{r, d, c, qmin, qmax, 0x5EED0000u + uint32_t(specs.size())});
  return specs;
}

// Full range and a narrower one (4-bit for the 8-bit types, symmetric for the 16-bit ones).
template <class T>
std::vector<std::pair<float, float>> code_ranges() {
  const float lo = float(std::numeric_limits<T>::min()), hi = float(std::numeric_limits<T>::max());
  if constexpr (sizeof(T) == 1) return {{lo, hi}, {lo < 0 ? -8.0f : 0.0f, lo < 0 ? 7.0f : 15.0f}};
  else return {{lo, hi}, {lo < 0 ? lo + 1 : lo, hi}};
}


template <class T>
using QuantizeRunFn = uint64_t (*)(const float*, size_t, float, float, float, const QuantizeSpec&,
                                   uint32_t, T*) noexcept;
template <class T>
using QuantizeVecFn = uint64_t (*)(const float*, size_t, const float*, const float*, const float*,
                                   const QuantizeSpec&, uint32_t, T*) noexcept;
template <class T>
using DequantizeRunFn = void (*)(const T*, size_t, float, float, float*) noexcept;
template <class T>
using DequantizeVecFn = void (*)(const T*, size_t, const float*, const float*, float*) noexcept;

template <class T>
void compare_codes(Report& report, const std::string& what, const Guarded<T>& expected, const Guarded<T>& got,
                   uint64_t sat_expected, uint64_t sat_got, const Guarded<float>& x) {
  ++report.cases;
  if (!expected.guards_intact()) report.fail("scalar wrote outside its output: " + what);
  if (!got.guards_intact()) report.fail("simd128 wrote outside its output: " + what);
  if (!expected.same_bytes(got)) {
    const size_t i = expected.first_difference(got);
    std::ostringstream s;
    s << what << ": code " << i << " scalar=" << int(expected[i]) << " simd128=" << int(got[i])
      << " x=" << x[i] << " (bits 0x" << std::hex << bits_of(x[i]) << ")";
    report.fail(s.str());
  }
  if (sat_expected != sat_got)
    report.fail(what + ": saturated scalar=" + std::to_string(sat_expected) + " simd128=" + std::to_string(sat_got));
}

template <class T>
void check_quantize(const char* type, QuantizeRunFn<T> run_scalar, QuantizeRunFn<T> run_simd,
                    QuantizeVecFn<T> vec_scalar, QuantizeVecFn<T> vec_simd) {
  Report report;
  uint64_t saturated_seen = 0;
  Rng rng(0xC0DE + sizeof(T) * 17 + (std::numeric_limits<T>::min() < 0 ? 1 : 0));
  const uint32_t index0s[] = {0, 5, 0xFFFFFFF9u};  // the last one wraps the element counter
  size_t variant = 0;
  for (const auto& [qmin, qmax] : code_ranges<T>()) {
    const std::vector<ParamCase> params = param_cases<T>(qmin, qmax);
    for (const QuantizeSpec& spec : all_specs(qmin, qmax)) {
      for (size_t n : kSizes)
        for (size_t offset : kOffsets) {
          const uint32_t index0 = index0s[variant++ % std::size(index0s)];
          // One parameter set per run.
          for (const ParamCase& p : params) {
            std::vector<float> xv(n);
            for (float& v : xv) v = quantize_input(rng, p, qmin, qmax);
            const Guarded<float> x = guarded_copy(xv, offset);
            Guarded<T> expected(n, offset), got(n, offset);
            const float op = scale_op_for(p, spec.div);
            const uint64_t se = run_scalar(x.data(), n, op, p.zf, p.zi, spec, index0, expected.data());
            const uint64_t sg = run_simd(x.data(), n, op, p.zf, p.zi, spec, index0, got.data());
            saturated_seen += se;
            std::ostringstream what;
            what << describe("quantize_run_f32", type, spec, n, offset, index0) << " scale=" << p.scale
                 << " zf=" << p.zf << " zi=" << p.zi;
            compare_codes(report, what.str(), expected, got, se, sg, x);
          }
          // Parameters per element, each drawn from the cases.
          std::vector<float> xv(n), sv(n), zfv(n), ziv(n);
          for (size_t i = 0; i < n; ++i) {
            const ParamCase& p = params[rng.below(uint32_t(params.size()))];
            xv[i] = quantize_input(rng, p, qmin, qmax);
            sv[i] = scale_op_for(p, spec.div);
            zfv[i] = p.zf;
            ziv[i] = p.zi;
          }
          const Guarded<float> x = guarded_copy(xv, offset), s = guarded_copy(sv, offset),
                               zf = guarded_copy(zfv, offset), zi = guarded_copy(ziv, offset);
          Guarded<T> expected(n, offset), got(n, offset);
          const uint64_t se = vec_scalar(x.data(), n, s.data(), zf.data(), zi.data(), spec, index0, expected.data());
          const uint64_t sg = vec_simd(x.data(), n, s.data(), zf.data(), zi.data(), spec, index0, got.data());
          compare_codes(report, describe("quantize_vec_f32", type, spec, n, offset, index0), expected, got, se, sg, x);
        }
    }
  }
  INFO("quantize " << type << ": " << report.cases << " cases");
  CHECK(saturated_seen > 0);  // the inputs do reach the clamp
  check_report(report, 1000);
}

template <class T>
void check_dequantize(const char* type, DequantizeRunFn<T> run_scalar, DequantizeRunFn<T> run_simd,
                      DequantizeVecFn<T> vec_scalar, DequantizeVecFn<T> vec_simd) {
  Report report;
  Rng rng(0xDE0 + sizeof(T));
  const float scales[] = {1.0f, 0.00214854861f, 0.1f, 3e38f, 1e-39f};
  const float zeros[] = {0.0f, 128.0f, -3.7f, 0.5f};
  auto compare = [&](const std::string& what, const Guarded<float>& expected, const Guarded<float>& got) {
    ++report.cases;
    if (!expected.guards_intact()) report.fail("scalar wrote outside its output: " + what);
    if (!got.guards_intact()) report.fail("simd128 wrote outside its output: " + what);
    if (!expected.same_bytes(got)) {
      const size_t i = expected.first_difference(got);
      report.fail(what + ": y[" + std::to_string(i) + "] scalar=" + std::to_string(expected[i]) +
                  " simd128=" + std::to_string(got[i]));
    }
  };
  for (size_t n : kSizes)
    for (size_t offset : kOffsets) {
      std::vector<T> qv(n);
      for (T& q : qv) q = T(rng.next());  // every code value, extremes included
      if (n > 0) qv[0] = std::numeric_limits<T>::min();
      if (n > 1) qv[n - 1] = std::numeric_limits<T>::max();
      const Guarded<T> q = guarded_copy(qv, offset);
      for (float scale : scales)
        for (float zero : zeros) {
          Guarded<float> expected(n, offset), got(n, offset);
          run_scalar(q.data(), n, scale, zero, expected.data());
          run_simd(q.data(), n, scale, zero, got.data());
          compare(std::string("dequantize_run_") + type + " n=" + std::to_string(n) + " offset=" +
                      std::to_string(offset) + " scale=" + std::to_string(scale) + " zero=" + std::to_string(zero),
                  expected, got);
        }
      std::vector<float> sv(n), zv(n);
      for (size_t i = 0; i < n; ++i) {
        sv[i] = scales[rng.below(std::size(scales))];
        zv[i] = zeros[rng.below(std::size(zeros))];
      }
      const Guarded<float> s = guarded_copy(sv, offset), z = guarded_copy(zv, offset);
      Guarded<float> expected(n, offset), got(n, offset);
      vec_scalar(q.data(), n, s.data(), z.data(), expected.data());
      vec_simd(q.data(), n, s.data(), z.data(), got.data());
      compare(std::string("dequantize_vec_") + type + " n=" + std::to_string(n) + " offset=" + std::to_string(offset),
              expected, got);
    }
  check_report(report, 100);
}

// Inputs for the reductions: ordinary values, exact duplicates, signed zeros and the specials.
std::vector<float> reduction_input(Rng& rng, size_t n, int flavor) {
  std::vector<float> v(n);
  for (float& x : v) {
    const uint32_t pick = rng.below(100);
    if (flavor == 1) x = pick < 50 ? 0.0f : -0.0f;  // only zeros: the sign decides
    else if (flavor == 2) x = rng.uniform(-1e3f, 1e3f);  // all finite
    else if (pick < 15) x = kSpecials[rng.below(std::size(kSpecials))];
    else if (pick < 25) x = pick < 20 ? 0.0f : -0.0f;
    else x = rng.uniform(-100.0f, 100.0f);
  }
  return v;
}

}  // namespace

TEST_CASE("simd128 == scalar: quantize_run / quantize_vec / every code type and mode") {
#define QPLAY_CHECK_QUANTIZE(T, s)                                                                   \
  check_quantize<T>(#s, &scalar::quantize_run_f32_##s, &simd128::quantize_run_f32_##s,              \
                    &scalar::quantize_vec_f32_##s, &simd128::quantize_vec_f32_##s);
  QPLAY_FOR_EACH_CODE_TYPE(QPLAY_CHECK_QUANTIZE)
#undef QPLAY_CHECK_QUANTIZE
}

TEST_CASE("simd128 == scalar: dequantize_run / dequantize_vec / every code type") {
#define QPLAY_CHECK_DEQUANTIZE(T, s)                                                                 \
  check_dequantize<T>(#s, &scalar::dequantize_run_##s##_f32, &simd128::dequantize_run_##s##_f32,    \
                      &scalar::dequantize_vec_##s##_f32, &simd128::dequantize_vec_##s##_f32);
  QPLAY_FOR_EACH_CODE_TYPE(QPLAY_CHECK_DEQUANTIZE)
#undef QPLAY_CHECK_DEQUANTIZE
}

TEST_CASE("simd128 == scalar: minmax / minmax_rows / absmax") {
  Report report;
  Rng rng(0x3131);
  const MinMax starts[] = {MinMax{}, MinMax{0.5f, -0.0f, 2}, MinMax{-0.0f, 0.0f, 0}, MinMax{0.0f, -0.0f, 0}};
  const float absmax_starts[] = {0.0f, -0.0f, 2.5f};
  for (int flavor = 0; flavor < 3; ++flavor)
    for (size_t n : kSizes)
      for (size_t offset : kOffsets) {
        const std::vector<float> xv = reduction_input(rng, n, flavor);
        const Guarded<float> x = guarded_copy(xv, offset);
        const std::string where = " flavor=" + std::to_string(flavor) + " n=" + std::to_string(n) +
                                  " offset=" + std::to_string(offset);
        for (const MinMax& start : starts) {
          MinMax a = start, b = start;
          scalar::minmax_f32(x.data(), n, &a);
          simd128::minmax_f32(x.data(), n, &b);
          ++report.cases;
          if (bits_of(a.min) != bits_of(b.min) || bits_of(a.max) != bits_of(b.max) || a.nonfinite != b.nonfinite) {
            std::ostringstream s;
            s << "minmax" << where << ": scalar (" << a.min << ", " << a.max << ", " << a.nonfinite << ") simd128 ("
              << b.min << ", " << b.max << ", " << b.nonfinite << ")";
            report.fail(s.str());
          }
        }
        for (float start : absmax_starts) {
          float a = start, b = start;
          scalar::absmax_f32(x.data(), n, &a);
          simd128::absmax_f32(x.data(), n, &b);
          ++report.cases;
          if (bits_of(a) != bits_of(b))
            report.fail("absmax" + where + ": scalar " + std::to_string(a) + " simd128 " + std::to_string(b));
        }
        // Rows: accumulators with signed zeros, infinities and values on both sides.
        std::vector<float> mn0(n), mx0(n);
        for (size_t i = 0; i < n; ++i) {
          const float pool[] = {kInf, -kInf, 0.0f, -0.0f, 1.0f, -1.0f, 50.0f};
          mn0[i] = pool[rng.below(std::size(pool))];
          mx0[i] = pool[rng.below(std::size(pool))];
        }
        Guarded<float> mn_a = guarded_copy(mn0, offset), mx_a = guarded_copy(mx0, offset);
        Guarded<float> mn_b = guarded_copy(mn0, offset), mx_b = guarded_copy(mx0, offset);
        scalar::minmax_rows_f32(x.data(), n, mn_a.data(), mx_a.data());
        simd128::minmax_rows_f32(x.data(), n, mn_b.data(), mx_b.data());
        ++report.cases;
        if (!mn_a.guards_intact() || !mx_a.guards_intact() || !mn_b.guards_intact() || !mx_b.guards_intact())
          report.fail("minmax_rows wrote outside its rows" + where);
        if (!mn_a.same_bytes(mn_b) || !mx_a.same_bytes(mx_b)) report.fail("minmax_rows differs" + where);
      }
  check_report(report, 500);
}

TEST_CASE("simd128 == scalar: error_sums") {
  Report report;
  Rng rng(0xE770);
  for (int flavor = 0; flavor < 3; ++flavor)
    for (size_t n : kSizes)
      for (size_t offset : kOffsets) {
        const std::vector<float> xv = reduction_input(rng, n, flavor);
        std::vector<float> yv(n);
        for (size_t i = 0; i < n; ++i) {
          // Mostly a reconstruction of x (small errors), sometimes unrelated or non-finite.
          const uint32_t pick = rng.below(100);
          yv[i] = pick < 70 ? xv[i] + rng.uniform(-0.01f, 0.01f)
                  : pick < 90 ? rng.uniform(-1e4f, 1e4f) : kSpecials[rng.below(std::size(kSpecials))];
        }
        const Guarded<float> x = guarded_copy(xv, offset), y = guarded_copy(yv, offset);
        ErrorSums a, b;
        b.count = 12345;  // the result must not depend on what was in *out
        scalar::error_sums_f32(x.data(), y.data(), n, &a);
        simd128::error_sums_f32(x.data(), y.data(), n, &b);
        ++report.cases;
        if (bits_of(a.sq_err) != bits_of(b.sq_err) || bits_of(a.abs_err) != bits_of(b.abs_err) ||
            bits_of(a.sq_x) != bits_of(b.sq_x) || bits_of(a.sq_y) != bits_of(b.sq_y) ||
            bits_of(a.xy) != bits_of(b.xy) || bits_of(a.max_abs) != bits_of(b.max_abs) || a.count != b.count) {
          std::ostringstream s;
          s.precision(17);
          s << "error_sums flavor=" << flavor << " n=" << n << " offset=" << offset << ": scalar {" << a.sq_err << ", "
            << a.abs_err << ", " << a.sq_x << ", " << a.sq_y << ", " << a.xy << ", " << a.max_abs << ", " << a.count
            << "} simd128 {" << b.sq_err << ", " << b.abs_err << ", " << b.sq_x << ", " << b.sq_y << ", " << b.xy
            << ", " << b.max_abs << ", " << b.count << "}";
          report.fail(s.str());
        }
      }
  check_report(report, 100);
}

TEST_CASE("simd128 == scalar: histogram") {
  Report report;
  Rng rng(0x4157);
  struct Range {
    float lo, hi;
    uint32_t bins;
  };
  const Range ranges[] = {{-100.0f, 100.0f, 256}, {0.0f, 1.0f, 1}, {-3.0f, 7.0f, 7}, {5.0f, 5.0000005f, 64}};
  for (int flavor = 0; flavor < 3; ++flavor)
    for (size_t n : kSizes)
      for (size_t offset : kOffsets)
        for (const Range& r : ranges) {
          const Guarded<float> x = guarded_copy(reduction_input(rng, n, flavor), offset);
          const float inv_width = float(r.bins) / (r.hi - r.lo);
          std::vector<uint64_t> start(r.bins);
          for (uint64_t& c : start) c = rng.below(5);
          Guarded<uint64_t> a = guarded_copy(start, offset), b = guarded_copy(start, offset);
          scalar::histogram_f32(x.data(), n, r.lo, inv_width, r.bins, a.data());
          simd128::histogram_f32(x.data(), n, r.lo, inv_width, r.bins, b.data());
          ++report.cases;
          const std::string where = "histogram bins=" + std::to_string(r.bins) + " n=" + std::to_string(n) +
                                    " offset=" + std::to_string(offset);
          if (!a.guards_intact() || !b.guards_intact()) report.fail(where + ": wrote outside counts");
          if (!a.same_bytes(b)) report.fail(where + ": counts differ");
        }
  check_report(report, 100);
}

#endif  // QPLAY_HAVE_SIMD128
