// Deterministic Lloyd-Max k-means over float32 values (see kmeans.hpp for the exact procedure).
#include "qplay/kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "qplay/error.hpp"

namespace qplay::kmeans {
namespace {

// Nearest centroid by binary search in an ascending codebook; distances in double (exact for any
// two float32 values of similar magnitude), ties to the lower index.
uint32_t nearest_index(const std::vector<float>& c, float x) {
  const auto it = std::lower_bound(c.begin(), c.end(), x);  // first centroid >= x
  if (it == c.begin()) return 0;
  if (it == c.end()) return uint32_t(c.size() - 1);
  // The first of a run of equal centroids below x, so ties among duplicates go to the lowest.
  const auto below = std::lower_bound(c.begin(), it, *(it - 1));
  const double d_below = double(x) - double(*(it - 1));
  const double d_above = double(*it) - double(x);
  return d_above < d_below ? uint32_t(it - c.begin()) : uint32_t(below - c.begin());
}

}  // namespace

uint8_t nearest(const std::vector<float>& codebook, float x) noexcept {
  if (codebook.empty()) return 0;
  if (x != x) return uint8_t(nearest_index(codebook, 0.0f));
  return uint8_t(nearest_index(codebook, x));
}

Result fit(const float* x, size_t n, const Options& o) {
  if (o.bits < 1 || o.bits > 8) throw Error("k-means: bits must be 1..8, got " + std::to_string(o.bits));
  if (o.max_iterations < 0) throw Error("k-means: max_iterations must be >= 0");
  const size_t k = size_t(1) << o.bits;
  Result r;

  std::vector<float> v;
  v.reserve(n);
  for (size_t i = 0; i < n; ++i)
    if (std::isfinite(x[i])) v.push_back(x[i]);
  std::sort(v.begin(), v.end());
  const size_t m = v.size();

  std::vector<float>& c = r.codebook;
  c.assign(k, 0.0f);
  if (m > 0) {
    for (size_t i = 0; i < k; ++i) c[i] = v[std::min(m - 1, (2 * i + 1) * m / (2 * k))];

    std::vector<uint32_t> assign(m, uint32_t(k)), previous;  // k = "not assigned yet"
    std::vector<double> sum(k);
    std::vector<size_t> count(k);
    std::vector<bool> taken(m);
    for (;;) {
      previous = assign;
      for (size_t j = 0; j < m; ++j) assign[j] = nearest_index(c, v[j]);
      if (assign == previous) {
        r.converged = true;
        break;
      }
      if (r.iterations == o.max_iterations) break;
      ++r.iterations;
      std::fill(sum.begin(), sum.end(), 0.0);
      std::fill(count.begin(), count.end(), size_t(0));
      for (size_t j = 0; j < m; ++j) {
        sum[assign[j]] += double(v[j]);
        ++count[assign[j]];
      }
      std::vector<float> next(c);
      for (size_t i = 0; i < k; ++i)
        if (count[i]) next[i] = float(sum[i] / double(count[i]));
      // Empty clusters: reseed at the worst-represented values (error against this pass's
      // centroid), each value at most once; v is sorted, so a strict > keeps the smaller value.
      std::fill(taken.begin(), taken.end(), false);
      for (size_t i = 0; i < k; ++i) {
        if (count[i]) continue;
        double worst = 0.0;
        size_t pick = m;
        for (size_t j = 0; j < m; ++j) {
          if (taken[j]) continue;
          const double e = std::fabs(double(v[j]) - double(c[assign[j]]));
          if (e > worst) {
            worst = e;
            pick = j;
          }
        }
        if (pick == m) continue;  // every value is represented exactly
        taken[pick] = true;
        next[i] = v[pick];
      }
      std::sort(next.begin(), next.end());
      c = next;
    }
  }

  r.codes.resize(n);
  r.dequantized.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const float xi = x[i];
    uint8_t code;
    if (xi != xi) code = uint8_t(nearest_index(c, 0.0f));
    else if (xi == INFINITY) code = uint8_t(k - 1);
    else if (xi == -INFINITY) code = 0;
    else code = uint8_t(nearest_index(c, xi));
    r.codes[i] = code;
    r.dequantized[i] = c[code];
  }
  return r;
}

}  // namespace qplay::kmeans
