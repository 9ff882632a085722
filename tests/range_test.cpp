// Clipping-range methods: exact expectations on hand-made inputs, behaviour on shaped samples, and
// the contract invariants (inside [min, max], lo <= hi) for every method.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "qplay/error.hpp"
#include "qplay/range.hpp"
#include "qplay/range_detail.hpp"

using qplay::Range;
using qplay::RangeMethod;
using qplay::RangeRequest;
namespace rd = qplay::range_detail;

namespace {

constexpr RangeMethod kAllMethods[] = {RangeMethod::minmax, RangeMethod::percentile,
                                       RangeMethod::mse, RangeMethod::kl, RangeMethod::aciq};

// Dequantization MSE of a plain round-to-nearest-even quantizer: the test's stand-in for the
// driver's quantizer behind RangeRequest::error_of.
double toy_mse(const std::vector<float>& xs, float lo, float hi, int bits, bool symmetric) {
  double scale = 0, zero = 0, qmin = 0, qmax = 0;
  if (symmetric) {
    qmax = (1 << (bits - 1)) - 1;
    qmin = -qmax;
    scale = std::max(std::fabs(static_cast<double>(lo)), std::fabs(static_cast<double>(hi))) / qmax;
  } else {
    qmax = (1 << bits) - 1;
    scale = (static_cast<double>(hi) - lo) / qmax;
    zero = scale > 0 ? std::nearbyint(-lo / scale) : 0;
  }
  double sum = 0;
  for (float x : xs) {
    double deq = 0;
    if (scale > 0) {
      const double q = std::clamp(std::nearbyint(x / scale) + zero, qmin, qmax);
      deq = (q - zero) * scale;
    }
    sum += (deq - x) * (deq - x);
  }
  return sum / static_cast<double>(xs.size());
}

// Laplace(0, b) quantiles at (k + 0.5)/n: a deterministic heavy-tailed sample.
std::vector<float> laplace_sample(int n, double b) {
  std::vector<float> xs;
  for (int k = 0; k < n; ++k) {
    const double u = (k + 0.5) / n;
    const double x = u < 0.5 ? b * rd::portable_log(2 * u) : -b * rd::portable_log(2 * (1 - u));
    xs.push_back(static_cast<float>(x));
  }
  return xs;
}

std::vector<float> uniform_sample(int n, double lo, double hi) {
  std::vector<float> xs;
  for (int k = 0; k < n; ++k) xs.push_back(static_cast<float>(lo + (hi - lo) * k / (n - 1)));
  return xs;
}

RangeRequest request(RangeMethod m, bool symmetric = false, int bits = 8, bool is_signed = true) {
  RangeRequest r;
  r.method = m;
  r.symmetric = symmetric;
  r.bits = bits;
  r.is_signed = is_signed;
  return r;
}

}  // namespace

TEST_CASE("range: empty input gives {0 / 0} for every method") {
  const std::vector<float> none;
  for (RangeMethod m : kAllMethods) {
    for (bool sym : {false, true}) {
      RangeRequest r = request(m, sym);
      r.error_of = [](float, float) { return 0.0; };
      const Range got = qplay::compute_range(none, r);
      CHECK(got.lo == 0.0f);
      CHECK(got.hi == 0.0f);
    }
  }
}

TEST_CASE("range: constant input gives {c / c} for every method") {
  for (float c : {0.0f, 2.5f, -3.0f}) {
    const std::vector<float> xs(17, c);
    for (RangeMethod m : kAllMethods) {
      for (bool sym : {false, true}) {
        RangeRequest r = request(m, sym);
        r.error_of = [](float, float) { return 1.0; };
        const Range got = qplay::compute_range(xs, r);
        CHECK(got.lo == c);
        CHECK(got.hi == c);
      }
    }
  }
}

TEST_CASE("range: minmax is the observed extent") {
  const std::vector<float> xs = {0.5f, -2.25f, 7.0f, 3.0f, -1.0f};
  for (bool sym : {false, true}) {
    const Range got = qplay::compute_range(xs, request(RangeMethod::minmax, sym));
    CHECK(got.lo == -2.25f);
    CHECK(got.hi == 7.0f);
  }
}

TEST_CASE("range: tail_cut is floor(cut% x n / 100) with integer snapping") {
  CHECK(rd::tail_cut(100, 10.0) == 10);
  CHECK(rd::tail_cut(100, 0.5) == 0);
  CHECK(rd::tail_cut(100, 1.5) == 1);
  CHECK(rd::tail_cut(100, 0.999) == 0);
  // 100 - 99.9 = 0.0999999999999943 in double: without snapping this would cut 0 of 1000.
  CHECK(rd::tail_cut(1000, 100.0 - 99.9) == 1);
  CHECK(rd::tail_cut(10000, 100.0 - 99.99) == 1);
  CHECK(rd::tail_cut(3, 100.0) == 2);  // never cuts everything
  CHECK(rd::tail_cut(0, 5.0) == 0);
  CHECK(rd::tail_cut(50, 0.0) == 0);
}

TEST_CASE("range: symmetric percentile takes the ceil(pxn/100)-th smallest |x|") {
  // |x| = 1..100, odd values negative, stored in a scrambled order (37 is coprime to 100).
  std::vector<float> xs;
  for (int k = 0; k < 100; ++k) {
    const int v = (k * 37) % 100 + 1;
    xs.push_back(static_cast<float>(v % 2 ? -v : v));
  }
  auto sym = [&](double p) {
    RangeRequest r = request(RangeMethod::percentile, true);
    r.percentile = p;
    return qplay::compute_range(xs, r);
  };
  Range got = sym(90);
  CHECK(got.lo == -90.0f);
  CHECK(got.hi == 90.0f);
  got = sym(50.5);  // rank ceil(50.5) = 51
  CHECK(got.lo == -51.0f);
  CHECK(got.hi == 51.0f);
  got = sym(0.5);  // rank 1: the smallest |x|
  CHECK(got.lo == -1.0f);
  CHECK(got.hi == 1.0f);
  got = sym(99.5);  // rank 100 = max |x|; the negative end is clamped to min = -99
  CHECK(got.lo == -99.0f);
  CHECK(got.hi == 100.0f);
  got = sym(100);
  CHECK(got.lo == -99.0f);
  CHECK(got.hi == 100.0f);

  std::vector<float> big;
  for (int v = 1000; v >= 1; --v) big.push_back(static_cast<float>(v));
  RangeRequest r = request(RangeMethod::percentile, true);
  r.percentile = 99.9;  // rank 999 of 1000 exactly, despite 99.9 not being exact in binary
  got = qplay::compute_range(big, r);
  CHECK(got.lo == 1.0f);  // clamped: all values positive
  CHECK(got.hi == 999.0f);
}

TEST_CASE("range: asymmetric percentile cuts (100-p)/2 % from each tail") {
  std::vector<float> xs;
  for (int k = 0; k < 100; ++k) xs.push_back(static_cast<float>((k * 37) % 100 + 1));
  auto asym = [&](double p) {
    RangeRequest r = request(RangeMethod::percentile, false);
    r.percentile = p;
    return qplay::compute_range(xs, r);
  };
  Range got = asym(90);  // cut 5 values each side
  CHECK(got.lo == 6.0f);
  CHECK(got.hi == 95.0f);
  got = asym(98);  // cut 1
  CHECK(got.lo == 2.0f);
  CHECK(got.hi == 99.0f);
  got = asym(99);  // 0.5 % of 100 = 0.5 values: floor -> nothing cut
  CHECK(got.lo == 1.0f);
  CHECK(got.hi == 100.0f);
  got = asym(1);  // cut 49 each side: the two middle values
  CHECK(got.lo == 50.0f);
  CHECK(got.hi == 51.0f);

  const std::vector<float> one = {-4.0f, 3.0f, 9.0f};
  RangeRequest r = request(RangeMethod::percentile, false);
  r.percentile = 0.001;  // cut capped below n/2: the median
  got = qplay::compute_range(one, r);
  CHECK(got.lo == 3.0f);
  CHECK(got.hi == 3.0f);
}

TEST_CASE("range: percentile rejects P outside (0 / 100)") {
  const std::vector<float> xs = {1.0f, 2.0f};
  for (double p : {0.0, -1.0, 100.5, std::numeric_limits<double>::quiet_NaN()}) {
    RangeRequest r = request(RangeMethod::percentile);
    r.percentile = p;
    CHECK_THROWS_AS(qplay::compute_range(xs, r), qplay::Error);
  }
}

TEST_CASE("range: aciq constants follow the published table") {
  const double laplace[] = {2.83, 3.89, 5.03, 6.2, 7.41, 8.64, 9.89};
  const double gauss[] = {1.71, 2.15, 2.55, 2.93, 3.28, 3.61, 3.92};
  for (int bits = 2; bits <= 8; ++bits) {
    CHECK(rd::aciq_constant(bits, false) == laplace[bits - 2]);
    CHECK(rd::aciq_constant(bits, true) == gauss[bits - 2]);
  }
  CHECK(rd::aciq_constant(1, false) == 1.86);
  CHECK(rd::aciq_constant(1, true) == 1.24);
  CHECK(rd::aciq_constant(16, false) == 20.27);
  CHECK(rd::aciq_constant(16, true) == 5.93);
  for (int bits = 2; bits <= 16; ++bits) {  // the clip widens with every extra bit
    CHECK(rd::aciq_constant(bits, false) > rd::aciq_constant(bits - 1, false));
    CHECK(rd::aciq_constant(bits, true) > rd::aciq_constant(bits - 1, true));
  }
  CHECK_THROWS_AS(rd::aciq_constant(0, false), qplay::Error);
  CHECK_THROWS_AS(rd::aciq_constant(17, true), qplay::Error);
}

TEST_CASE("range: aciq on a zero-mean set with known b and sigma") {
  // mean 0; b = (8 * 1 + 2 * 8) / 10 = 2.4; sigma = sqrt((8 + 128) / 9) = 3.8873012632...
  const std::vector<float> xs = {-1, -1, -1, -1, 1, 1, 1, 1, -8, 8};
  for (bool sym : {false, true}) {
    Range got = qplay::aciq_range(xs, 2, sym, false);  // alpha = 2.83 * 2.4 = 6.792
    CHECK(got.lo == doctest::Approx(-6.792).epsilon(1e-6));
    CHECK(got.hi == doctest::Approx(6.792).epsilon(1e-6));
    got = qplay::aciq_range(xs, 2, sym, true);  // alpha = 1.71 * 3.8873012632 = 6.6472851601
    CHECK(got.lo == doctest::Approx(-6.6472851601).epsilon(1e-6));
    CHECK(got.hi == doctest::Approx(6.6472851601).epsilon(1e-6));
    got = qplay::aciq_range(xs, 4, sym, false);  // alpha = 12.072 > 8: nothing clipped
    CHECK(got.lo == -8.0f);
    CHECK(got.hi == 8.0f);
  }
  // RangeMethod::aciq is the Laplace variant.
  const Range via_request = qplay::compute_range(xs, request(RangeMethod::aciq, true, 2));
  CHECK(via_request.hi == doctest::Approx(6.792).epsilon(1e-6));
}

TEST_CASE("range: aciq on skewed data shifts the window and widens the symmetric clip") {
  // nine zeros and a 10: mean 1, b = (9 * 1 + 9) / 10 = 1.8.
  std::vector<float> xs(9, 0.0f);
  xs.push_back(10.0f);
  // 1 bit: alpha = 1.86 * 1.8 = 3.348. Asymmetric: lo = max(0, 1 - 3.348) = 0, hi = lo + 2 alpha.
  Range got = qplay::aciq_range(xs, 1, false, false);
  CHECK(got.lo == 0.0f);
  CHECK(got.hi == doctest::Approx(6.696).epsilon(1e-6));
  // Symmetric: t = |mean| + alpha = 4.348, lower end clamped to the minimum 0.
  got = qplay::aciq_range(xs, 1, true, false);
  CHECK(got.lo == 0.0f);
  CHECK(got.hi == doctest::Approx(4.348).epsilon(1e-6));
  // 2 bits: alpha = 2.83 * 1.8 = 5.094: the asymmetric window 0 + 10.188 is clamped to max 10.
  got = qplay::aciq_range(xs, 2, false, false);
  CHECK(got.lo == 0.0f);
  CHECK(got.hi == 10.0f);
  got = qplay::aciq_range(xs, 2, true, false);
  CHECK(got.hi == doctest::Approx(6.094).epsilon(1e-6));
}

TEST_CASE("range: kl target levels") {
  CHECK(rd::kl_quantized_bins(8, false, true) == 128);
  CHECK(rd::kl_quantized_bins(8, true, false) == 128);
  CHECK(rd::kl_quantized_bins(8, false, false) == 256);
  CHECK(rd::kl_quantized_bins(4, true, true) == 8);
  CHECK(rd::kl_quantized_bins(16, false, true) == 32768);
  CHECK_THROWS_AS(rd::kl_quantized_bins(0, false, true), qplay::Error);
}

TEST_CASE("range: kl clips the outliers of a Laplace-like sample") {
  std::vector<float> xs = laplace_sample(20000, 1.0);  // bulk within about +-9.2
  for (float o : {-60.0f, 45.0f, 52.0f, 60.0f}) xs.push_back(o);
  const Range got = qplay::compute_range(xs, request(RangeMethod::kl, true));
  CHECK(got.hi == -got.lo);
  CHECK(got.hi < 20.0f);  // far below amax = 60
  CHECK(got.hi > 2.0f);   // but keeps the bulk of the distribution
  const rd::KlSearch s = rd::kl_search(xs, 128);
  CHECK(s.amax == 60.0);
  CHECK(s.first_candidate == 128);
  CHECK(s.divergence.size() == 2048 - 128 + 1);
  CHECK(s.threshold == got.hi);
  CHECK(s.best_index < 2048);
  // The chosen candidate is the first global minimum.
  const auto best = std::min_element(s.divergence.begin(), s.divergence.end());
  CHECK(static_cast<int>(best - s.divergence.begin()) + s.first_candidate == s.best_index);
  // Q is built from the clipped histogram: clipping all but 128 bins must cost something.
  CHECK(s.divergence.front() > 0.0);
  CHECK(s.divergence.front() > *best);
}

TEST_CASE("range: kl keeps about amax for uniform data") {
  const std::vector<float> xs = uniform_sample(20001, -1.0, 1.0);
  for (bool sym : {false, true}) {
    const Range got = qplay::compute_range(xs, request(RangeMethod::kl, sym));
    CHECK(got.hi >= 0.97f);
    CHECK(got.lo <= -0.97f);
  }
  // Unsigned asymmetric codes (256 levels over |x|) on one-sided uniform data.
  const std::vector<float> pos = uniform_sample(20001, 0.0, 4.0);
  const Range got = qplay::compute_range(pos, request(RangeMethod::kl, false, 8, false));
  CHECK(got.lo == 0.0f);
  CHECK(got.hi >= 0.97f * 4.0f);
}

TEST_CASE("range: kl with more levels than histogram bins is the observed extent") {
  std::vector<float> xs = laplace_sample(5000, 1.0);
  xs.push_back(40.0f);
  const Range got = qplay::compute_range(xs, request(RangeMethod::kl, true, 16));
  CHECK(got.lo == *std::min_element(xs.begin(), xs.end()));
  CHECK(got.hi == 40.0f);
}

TEST_CASE("range: mse takes the first minimum over the k/100 grid") {
  const std::vector<float> xs = {-2.0f, 0.5f, 4.0f};
  // Symmetric grid: t = 4 * k / 100; an error preferring t = 1.48 picks k = 37.
  RangeRequest r = request(RangeMethod::mse, true);
  std::vector<Range> seen;
  r.error_of = [&](float lo, float hi) {
    seen.push_back({lo, hi});
    return std::fabs(static_cast<double>(hi) - 1.48);
  };
  Range got = qplay::compute_range(xs, r);
  CHECK(seen.size() == 100);
  CHECK(got.lo == -1.48f);
  CHECK(got.hi == 1.48f);
  CHECK(seen.back().lo == -2.0f);  // k = 100, clamped to the minimum
  CHECK(seen.back().hi == 4.0f);
  CHECK(seen[59].lo == -2.0f);  // k = 60: t = 2.4, lower end clamped
  CHECK(seen[59].hi == 2.4f);

  // Asymmetric grid shrinks both ends: [-2k/100, 4k/100]; k = 25 -> [-0.5, 1].
  r = request(RangeMethod::mse, false);
  r.error_of = [](float lo, float hi) {
    return std::fabs(static_cast<double>(lo) + 0.5) + std::fabs(static_cast<double>(hi) - 1.0);
  };
  got = qplay::compute_range(xs, r);
  CHECK(got.lo == -0.5f);
  CHECK(got.hi == 1.0f);

  // Ties keep the first (smallest) candidate; all-NaN errors keep the full range.
  r.error_of = [](float, float) { return 3.0; };
  got = qplay::compute_range(xs, r);
  CHECK(got.lo == -0.02f);
  CHECK(got.hi == 0.04f);
  r.error_of = [](float, float) { return std::numeric_limits<double>::quiet_NaN(); };
  got = qplay::compute_range(xs, r);
  CHECK(got.lo == -2.0f);
  CHECK(got.hi == 4.0f);
}

TEST_CASE("range: mse with a uniform quantizer clips heavy tails") {
  std::vector<float> xs = laplace_sample(4000, 1.0);
  xs.push_back(30.0f);
  xs.push_back(-25.0f);
  for (bool sym : {false, true}) {
    RangeRequest r = request(RangeMethod::mse, sym, 4);
    r.error_of = [&](float lo, float hi) { return toy_mse(xs, lo, hi, 4, sym); };
    const Range got = qplay::compute_range(xs, r);
    CHECK(got.hi < 15.0f);
    CHECK(got.lo > -15.0f);
    CHECK(got.hi > 1.0f);
    // The chosen range is at least as good as the unclipped one.
    CHECK(toy_mse(xs, got.lo, got.hi, 4, sym) < toy_mse(xs, -25.0f, 30.0f, 4, sym));
  }
}

TEST_CASE("range: mse needs an error function") {
  const std::vector<float> xs = {1.0f, 2.0f};
  CHECK_THROWS_AS(qplay::compute_range(xs, request(RangeMethod::mse)), qplay::Error);
}

TEST_CASE("range: kl and aciq reject bits outside 1..16") {
  const std::vector<float> xs = {1.0f, 2.0f};
  for (int bits : {0, 17}) {
    CHECK_THROWS_AS(qplay::compute_range(xs, request(RangeMethod::kl, false, bits)), qplay::Error);
    CHECK_THROWS_AS(qplay::compute_range(xs, request(RangeMethod::aciq, false, bits)),
                    qplay::Error);
  }
}

TEST_CASE("range: portable_log agrees with std::log to a few ulp") {
  double worst = 0;
  for (double x : {1e-300, 1e-20, 1e-4, 0.1, 0.5, 0.70710678, 0.9999999, 1.0, 1.0000001, 1.5, 2.0,
                   2.718281828459045, 10.0, 12345.678, 1e20, 1e300}) {
    const double want = std::log(x);
    const double got = rd::portable_log(x);
    const double err = want == 0 ? std::fabs(got) : std::fabs(got - want) / std::fabs(want);
    worst = std::max(worst, err);
  }
  for (int k = 1; k <= 2000; ++k) {
    const double x = k * 0.00731;
    const double want = std::log(x);
    if (std::fabs(want) < 1e-3) continue;  // relative error is meaningless next to the root at 1
    worst = std::max(worst, std::fabs(rd::portable_log(x) - want) / std::fabs(want));
  }
  CHECK(worst < 1e-15);
  CHECK(rd::portable_log(1.0) == 0.0);
}

TEST_CASE("range: every method stays inside (min / max) with lo <= hi") {
  std::vector<std::vector<float>> sets;
  std::vector<float> heavy = laplace_sample(3000, 0.5);
  heavy.push_back(25.0f);
  sets.push_back(heavy);
  sets.push_back(uniform_sample(1001, 100.0, 101.0));    // far from 0, positive
  sets.push_back(uniform_sample(1001, -7.0, -3.0));      // negative only
  sets.push_back(uniform_sample(513, -0.001, 5.0));      // almost one-sided
  sets.push_back({-1.0f, 3.0f});                         // two values
  sets.push_back({0.0f, 0.0f, 0.0f, 1e-30f});            // tiny extent
  for (const auto& xs : sets) {
    const float mn = *std::min_element(xs.begin(), xs.end());
    const float mx = *std::max_element(xs.begin(), xs.end());
    for (RangeMethod m : kAllMethods) {
      for (bool sym : {false, true}) {
        for (bool is_signed : {false, true}) {
          for (int bits : {1, 2, 4, 8, 16}) {
            RangeRequest r = request(m, sym, bits, is_signed);
            r.percentile = 99.0;
            r.error_of = [&](float lo, float hi) {
              CHECK(lo >= mn);  // candidates are already clamped
              CHECK(hi <= mx);
              return toy_mse(xs, lo, hi, std::min(bits, 8) + 1, sym);
            };
            const Range got = qplay::compute_range(xs, r);
            CAPTURE(static_cast<int>(m));
            CAPTURE(sym);
            CAPTURE(bits);
            CHECK(got.lo >= mn);
            CHECK(got.hi <= mx);
            CHECK(got.lo <= got.hi);
            CHECK(std::isfinite(got.lo));
            CHECK(std::isfinite(got.hi));
          }
        }
      }
    }
  }
}

TEST_CASE("range: results are a pure function of the values and request") {
  std::vector<float> xs = laplace_sample(6000, 2.0);
  xs.push_back(-44.0f);
  std::vector<float> reversed(xs.rbegin(), xs.rend());
  for (RangeMethod m : {RangeMethod::minmax, RangeMethod::percentile, RangeMethod::kl}) {
    for (bool sym : {false, true}) {
      const Range a = qplay::compute_range(xs, request(m, sym));
      const Range b = qplay::compute_range(reversed, request(m, sym));
      CHECK(a.lo == b.lo);
      CHECK(a.hi == b.hi);
    }
  }
}
