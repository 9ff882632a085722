// A k-means (Lloyd-Max) codebook over a tensor's values: k = 2^bits centroids, deterministic.
// Definition in docs/FLOAT_FORMATS.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace qplay::kmeans {

struct Options {
  int bits = 4;             // k = 2^bits centroids, 1 <= bits <= 8
  int max_iterations = 25;  // Lloyd iterations (assign + update); >= 0
};

struct Result {
  std::vector<float> codebook;  // k centroids, ascending (index = code)
  std::vector<uint8_t> codes;   // one per input value
  std::vector<float> dequantized;
  int iterations = 0;           // update steps taken
  bool converged = false;       // an assignment pass changed nothing
};

// Fit on the finite values of x, then code every value:
//   init: sorted finite values v[0..m); centroid i = v[floor((2i + 1) * m / (2k))] (the (i + 0.5)/k
//         quantiles), so repeated values give repeated centroids.
//   loop (at most max_iterations times): assign each value to its nearest centroid (distance in
//         double; a tie goes to the lower index, so among equal centroids the first wins); stop
//         if no assignment changed since the previous pass; otherwise each centroid becomes the
//         mean (double sum, rounded to float32) of its values. An empty cluster moves to the
//         value farthest from its assigned centroid (ties to the smaller value), taking each
//         value at most once per pass, or keeps its place when every value is exactly
//         represented; then the centroids are sorted again.
//   codes: nearest centroid (same tie rule); +-Inf go to the last / first centroid, NaN to the
//         centroid nearest 0. No finite value at all: every centroid is 0.
// Throws qplay::Error for bits outside 1..8 or a negative max_iterations.
Result fit(const float* x, size_t n, const Options& o = {});

// Index of the nearest centroid in an ascending codebook (ties to the lower index).
uint8_t nearest(const std::vector<float>& codebook, float x) noexcept;

}  // namespace qplay::kmeans
