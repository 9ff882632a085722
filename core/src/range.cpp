// Clipping-range methods (minmax, percentile, mse, kl, aciq). Exact formulas: docs/RANGE_METHODS.md.
// Everything is deterministic and uses only IEEE double arithmetic (no libm transcendental whose
// last bit could differ between the native and the wasm build), so both builds pick the same range.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "qplay/error.hpp"
#include "qplay/range.hpp"
#include "qplay/range_detail.hpp"

namespace qplay {
namespace {

struct Extent {
  float lo = 0, hi = 0;
};

Extent extent_of(std::span<const float> values) {
  Extent e{values[0], values[0]};
  for (float v : values) {
    e.lo = std::min(e.lo, v);
    e.hi = std::max(e.hi, v);
  }
  return e;
}

// Clamps each end into the observed extent. Clamping is monotone, so lo <= hi on input keeps
// lo <= hi on output: the contract's "never outside [min, max]" and "never lo > hi" both hold.
Range clamp_to(double lo, double hi, Extent e) {
  return Range{std::clamp(static_cast<float>(lo), e.lo, e.hi),
               std::clamp(static_cast<float>(hi), e.lo, e.hi)};
}

void check_bits(int bits, const char* method) {
  if (bits < 1 || bits > 16) {
    throw Error(std::string("range ") + method + ": bits must be 1..16, got " +
                std::to_string(bits));
  }
}

void check_percentile(double p) {
  if (!(p > 0.0 && p <= 100.0)) {  // also rejects NaN
    throw Error("range percentile: P must be in (0, 100], got " + std::to_string(p));
  }
}

}  // namespace

namespace range_detail {

std::size_t tail_cut(std::size_t n, double cut_percent) {
  if (n == 0 || !(cut_percent > 0.0)) return 0;
  const double y = cut_percent * static_cast<double>(n) / 100.0;
  const double nearest = std::floor(y + 0.5);
  // Percentages like 99.9 are not exact in binary; snap products that are integers up to rounding.
  const double cut = std::fabs(y - nearest) <= 1e-9 * std::max(1.0, y) ? nearest : std::floor(y);
  if (cut >= static_cast<double>(n - 1)) return n - 1;
  return static_cast<std::size_t>(cut);
}

Range percentile_range(std::span<const float> values, double p, bool symmetric) {
  check_percentile(p);
  if (values.empty()) return {};
  const Extent e = extent_of(values);
  const std::size_t n = values.size();
  if (symmetric) {
    std::vector<float> magnitude(n);
    std::transform(values.begin(), values.end(), magnitude.begin(),
                   [](float v) { return std::fabs(v); });
    // Value at 0-based rank n-1-cut of the sorted |x| = rank ceil(p*n/100) in 1-based terms.
    const std::size_t k = n - 1 - tail_cut(n, 100.0 - p);
    std::nth_element(magnitude.begin(), magnitude.begin() + static_cast<std::ptrdiff_t>(k),
                     magnitude.end());
    const double t = magnitude[k];
    return clamp_to(-t, t, e);
  }
  // Asymmetric: drop (100 - p)/2 % of the values from each tail (onnxruntime's rule).
  std::vector<float> sorted(values.begin(), values.end());
  const std::size_t cut = tail_cut(n, (100.0 - p) / 2.0);
  const std::size_t lo_rank = cut, hi_rank = n - 1 - cut;  // cut < n/2, so lo_rank <= hi_rank
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(lo_rank),
                   sorted.end());
  const float lo = sorted[lo_rank];
  float hi = lo;
  if (hi_rank > lo_rank) {
    // Everything after lo_rank is already >= lo: select within that part only.
    std::nth_element(sorted.begin() + static_cast<std::ptrdiff_t>(lo_rank) + 1,
                     sorted.begin() + static_cast<std::ptrdiff_t>(hi_rank), sorted.end());
    hi = sorted[hi_rank];
  }
  return clamp_to(lo, hi, e);
}

Range mse_range(std::span<const float> values, bool symmetric,
                const std::function<double(float, float)>& error_of) {
  if (!error_of) throw Error("range mse: no error function was supplied for the quantizer");
  if (values.empty()) return {};
  const Extent e = extent_of(values);
  if (e.lo == e.hi) return Range{e.lo, e.hi};
  const double amax = std::max(std::fabs(static_cast<double>(e.lo)), std::fabs(static_cast<double>(e.hi)));
  auto candidate = [&](int k) {
    if (symmetric) {
      const double t = amax * k / 100.0;
      return clamp_to(-t, t, e);
    }
    return clamp_to(static_cast<double>(e.lo) * k / 100.0, static_cast<double>(e.hi) * k / 100.0, e);
  };
  // Start from the unclipped range so an error function returning only NaN still yields a range.
  Range best = candidate(100);
  double best_error = std::numeric_limits<double>::infinity();
  for (int k = 1; k <= 100; ++k) {
    const Range r = candidate(k);
    const double err = error_of(r.lo, r.hi);
    if (err < best_error) {  // strict: the first (smallest-k) minimum wins
      best_error = err;
      best = r;
    }
  }
  return best;
}

int kl_quantized_bins(int bits, bool symmetric, bool is_signed) {
  check_bits(bits, "kl");
  // |x| in [0, amax] maps onto the positive half of the codes when the range is split around 0.
  return (symmetric || is_signed) ? (1 << (bits - 1)) : (1 << bits);
}

KlSearch kl_search(std::span<const float> values, int num_quantized_bins) {
  if (num_quantized_bins < 1) throw Error("range kl: the number of target levels must be >= 1");
  KlSearch out;
  for (float v : values) out.amax = std::max(out.amax, std::fabs(static_cast<double>(v)));
  if (out.amax == 0.0) {
    out.best_index = 0;
    return out;
  }
  const double amax = out.amax;
  std::vector<double> bins(kKlBins, 0.0);
  for (float v : values) {
    // |x| * 2048 is exact and the division is correctly rounded: the bin is platform independent.
    auto j = static_cast<std::size_t>(std::fabs(static_cast<double>(v)) * kKlBins / amax);
    bins[std::min<std::size_t>(j, kKlBins - 1)] += 1.0;
  }
  std::vector<double> prefix(kKlBins + 1, 0.0);  // integer counts: exact in double
  for (int j = 0; j < kKlBins; ++j) prefix[j + 1] = prefix[j] + bins[j];
  const double total = prefix[kKlBins];

  const int nq = num_quantized_bins;
  // Bins holding values, ascending. Only they (plus the outlier bin) contribute, so walking this
  // list keeps small groups cheap (a 2048-bin histogram of 32 values is almost all zeros).
  std::vector<int> occupied;
  std::vector<double> log_p(kKlBins, 0.0);  // ln(bins[j] / total), reused by every candidate
  for (int j = 0; j < kKlBins; ++j) {
    if (bins[j] > 0.0) {
      occupied.push_back(j);
      log_p[j] = portable_log(bins[j] / total);
    }
  }
  // A single candidate bin makes P and Q both one-point distributions (KL 0): start at 2.
  out.first_candidate = std::max(nq, 2);
  double best = std::numeric_limits<double>::infinity();
  out.best_index = kKlBins;
  std::size_t below = 0;  // occupied bins with index < i
  for (int i = out.first_candidate; i <= kKlBins; ++i) {
    while (below < occupied.size() && occupied[below] < i) ++below;
    const double clipped = prefix[i];
    const double outliers = total - clipped;
    if (clipped == 0.0) {  // Q would be empty: no distribution to compare against
      out.divergence.push_back(std::numeric_limits<double>::infinity());
      continue;
    }
    // P folds the clipped-away mass into its last bin; Q is built from the clipped histogram only,
    // so clipping shows up as a P/Q mismatch (building Q from P would make i == nq free).
    auto p_count = [&](int j) { return j == i - 1 ? bins[j] + outliers : bins[j]; };
    // Positions where P > 0, ascending: the occupied bins below i, then bin i-1 if only the
    // folded outliers fill it.
    const bool extra = outliers > 0.0 && bins[i - 1] == 0.0;
    const std::size_t positions = below + (extra ? 1 : 0);
    auto position = [&](std::size_t t) { return t < below ? occupied[t] : i - 1; };
    const int merged = i / nq;  // bins per quantized level; the last level takes the remainder
    auto level_of = [&](int j) { return std::min(j / merged, nq - 1); };
    double kl = 0.0;
    for (std::size_t a = 0; a < positions;) {
      const int g = level_of(position(a));
      std::size_t b = a + 1;
      while (b < positions && level_of(position(b)) == g) ++b;
      const int begin = g * merged;
      const int end = g == nq - 1 ? i : begin + merged;
      const double nonzero = static_cast<double>(b - a);
      const double mass = prefix[end] - prefix[begin];
      // Spread the level's mass evenly over the positions where P is non-zero; a level with no
      // clipped mass (only folded outliers) gets the stand-in count kKlEpsilon.
      const double q = (mass > 0.0 ? mass / nonzero : kKlEpsilon) / clipped;
      const double log_q = portable_log(q);
      for (std::size_t t = a; t < b; ++t) {
        const int j = position(t);
        const double p = p_count(j) / total;
        // p ln(p/q) as p (ln p - ln q): one log per level instead of one per bin.
        kl += p * ((j == i - 1 ? portable_log(p) : log_p[j]) - log_q);
      }
      a = b;
    }
    out.divergence.push_back(kl);
    if (kl < best) {  // strict: the first (smallest) threshold among equal divergences wins
      best = kl;
      out.best_index = i;
    }
  }
  out.threshold = static_cast<float>(static_cast<double>(out.best_index) * amax / kKlBins);
  return out;
}

double portable_log(double x) {
  int exponent = 0;
  double m = std::frexp(x, &exponent);  // exact: x = m * 2^exponent, m in [0.5, 1)
  if (m < 0.70710678118654752440) {     // keep m in [sqrt(1/2), sqrt(2)) for a short series
    m *= 2.0;
    exponent -= 1;
  }
  // ln(m) = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.1716: 13 odd terms reach below 1e-20.
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s;
  double series = 0.0;
  for (int k = 25; k >= 1; k -= 2) series = series * s2 + 1.0 / k;
  constexpr double ln2_hi = 6.93147180369123816490e-01;  // ln 2 split so exponent*ln2_hi is exact
  constexpr double ln2_lo = 1.90821492927058770002e-10;
  return exponent * ln2_hi + (exponent * ln2_lo + 2.0 * s * series);
}

double aciq_constant(int bits, bool gaussian) {
  check_bits(bits, "aciq");
  // 1..8 bits: the published table (Banner et al.; Distiller's AciqClipper). 9..16 bits: the same
  // model extended, i.e. the alpha minimising the paper's clipping + rounding noise estimate
  // (Laplace: alpha/b = W(3 * 4^bits)), truncated to 2 decimals like the table.
  static constexpr double laplace[17] = {0,     1.86,  2.83,  3.89,  5.03,  6.2,
                                         7.41,  8.64,  9.89,  11.16, 12.44, 13.72,
                                         15.02, 16.32, 17.63, 18.95, 20.27};
  static constexpr double gauss[17] = {0,    1.24, 1.71, 2.15, 2.55, 2.93, 3.28, 3.61, 3.92,
                                       4.21, 4.49, 4.75, 5.01, 5.25, 5.49, 5.71, 5.93};
  return gaussian ? gauss[bits] : laplace[bits];
}

}  // namespace range_detail

Range aciq_range(std::span<const float> values, int bits, bool symmetric, bool gaussian) {
  const double k = range_detail::aciq_constant(bits, gaussian);
  if (values.empty()) return {};
  const Extent e = extent_of(values);
  if (e.lo == e.hi) return Range{e.lo, e.hi};
  const double n = static_cast<double>(values.size());
  double sum = 0.0;
  for (float v : values) sum += v;
  const double mean = sum / n;
  double spread = 0.0;
  if (gaussian) {
    double squares = 0.0;
    for (float v : values) squares += (v - mean) * (v - mean);
    spread = std::sqrt(squares / (n - 1.0));  // n >= 2 here (min != max); Bessel as torch.std
  } else {
    double deviations = 0.0;
    for (float v : values) deviations += std::fabs(v - mean);
    spread = deviations / n;  // b = mean |x - mean|
  }
  const double alpha = k * spread;
  if (symmetric) {
    // Centred at 0 but wide enough to hold mean +- alpha (Distiller's symmetric clipper).
    const double t = std::fabs(mean) + alpha;
    return clamp_to(-t, t, e);
  }
  // A window 2*alpha wide around the mean, shifted up when its lower end passes the minimum so
  // the code budget is not spent on an empty region (Distiller's asymmetric clipper).
  const double lo = std::max(static_cast<double>(e.lo), mean - alpha);
  return clamp_to(lo, lo + 2.0 * alpha, e);
}

Range compute_range(std::span<const float> values, const RangeRequest& request) {
  switch (request.method) {
    case RangeMethod::minmax: {
      if (values.empty()) return {};
      const Extent e = extent_of(values);
      return Range{e.lo, e.hi};
    }
    case RangeMethod::percentile:
      return range_detail::percentile_range(values, request.percentile, request.symmetric);
    case RangeMethod::mse:
      return range_detail::mse_range(values, request.symmetric, request.error_of);
    case RangeMethod::kl: {
      const int nq = range_detail::kl_quantized_bins(request.bits, request.symmetric,
                                                     request.is_signed);
      if (values.empty()) return {};
      const Extent e = extent_of(values);
      if (e.lo == e.hi) return Range{e.lo, e.hi};
      const double t = range_detail::kl_search(values, nq).threshold;
      return clamp_to(-t, t, e);
    }
    case RangeMethod::aciq:
      return aciq_range(values, request.bits, request.symmetric, /*gaussian=*/false);
  }
  throw Error("range: unknown method");
}

}  // namespace qplay
