// The building blocks of compute_range (range.hpp), exposed for tests and for options that need one
// method with a non-default parameter (e.g. ACIQ with the Gaussian prior). Formulas:
// docs/RANGE_METHODS.md.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "qplay/range.hpp"

namespace qplay {

// ACIQ (Banner et al., arXiv 1810.05723) with the Laplace (gaussian = false) or Gaussian prior.
// bits 1..16; throws qplay::Error otherwise.
Range aciq_range(std::span<const float> values, int bits, bool symmetric, bool gaussian);

namespace range_detail {

// Number of order statistics removed by cutting `cut_percent` % of n values:
// floor(cut_percent * n / 100), where a product within 1e-9 (relative) of an integer counts as that
// integer, so that 99.9 % of 1000 values cuts exactly 1 despite 100 - 99.9 not being exact in binary.
// The result is at most n - 1 when n > 0.
std::size_t tail_cut(std::size_t n, double cut_percent);

// The percentile method alone (p in (0, 100]); throws qplay::Error for other p.
Range percentile_range(std::span<const float> values, double p, bool symmetric);

// MSE grid search: candidates k = 1..100 of [-amax, amax] * k/100 (symmetric) or [min, max] * k/100,
// each clamped to [min, max]; the first minimum of error_of wins.
Range mse_range(std::span<const float> values, bool symmetric,
                const std::function<double(float, float)>& error_of);

inline constexpr int kKlBins = 2048;
inline constexpr double kKlEpsilon = 1e-4;  // stand-in count for a Q bin that is 0 where P is not

// Target levels of the KL search for the |x| histogram: half the codes when the range is
// sign-symmetric or the codes are signed, all 2^bits otherwise.
int kl_quantized_bins(int bits, bool symmetric, bool is_signed);

struct KlSearch {
  double amax = 0;                 // histogram spans [0, amax] in kKlBins bins
  int first_candidate = 0;         // divergence[j] belongs to threshold index first_candidate + j
  std::vector<double> divergence;  // KL(P || Q) per candidate (+inf when Q would be empty)
  int best_index = kKlBins;        // chosen threshold = best_index * amax / kKlBins
  float threshold = 0;
};
KlSearch kl_search(std::span<const float> values, int num_quantized_bins);

// ln(x) for finite x > 0 from +, -, *, / and frexp only, so native and wasm builds agree bit for bit
// (libm's log may differ in the last place between platforms). Accurate to a few ulp.
double portable_log(double x);

// ACIQ clip multiplier k(bits): alpha = k * b (Laplace) or k * sigma (Gaussian).
double aciq_constant(int bits, bool gaussian);

}  // namespace range_detail
}  // namespace qplay
