// k-means codebooks: deterministic quantile initialisation, convergence on clustered data, tie
// rules, empty clusters, few distinct values, non-finite inputs and the iteration bound.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "qplay/error.hpp"
#include "qplay/kmeans.hpp"

using namespace qplay::kmeans;

TEST_CASE("kmeans: well separated clusters converge to their means") {
  std::vector<float> x;
  const float centres[4] = {-10.0f, -1.0f, 2.0f, 30.0f};
  for (int rep = 0; rep < 50; ++rep)
    for (float c : centres)
      for (float d : {-0.25f, 0.0f, 0.25f}) x.push_back(c + d);
  const Result r = fit(x.data(), x.size(), Options{2, 25});
  REQUIRE(r.codebook.size() == 4);
  for (int i = 0; i < 4; ++i) CHECK(r.codebook[size_t(i)] == centres[i]);
  CHECK(r.converged);
  CHECK(r.iterations <= 3);
  for (size_t i = 0; i < x.size(); ++i) {
    CHECK(r.codes[i] == uint8_t(i / 3 % 4));
    CHECK(r.dequantized[i] == r.codebook[r.codes[i]]);
  }
  CHECK(std::is_sorted(r.codebook.begin(), r.codebook.end()));
}

TEST_CASE("kmeans: quantile initialisation and the iteration bound") {
  std::vector<float> x(100);
  for (int i = 0; i < 100; ++i) x[size_t(i)] = float(i);
  // No iterations: the centroids are the (i + 0.5)/k quantiles v[floor((2i + 1) * 100 / 8)].
  const Result r0 = fit(x.data(), x.size(), Options{2, 0});
  CHECK(r0.iterations == 0);
  CHECK(r0.codebook == std::vector<float>({12.0f, 37.0f, 62.0f, 87.0f}));
  CHECK_FALSE(r0.converged);
  const Result r = fit(x.data(), x.size(), Options{2, 25});
  // Uniform 0..99 in four clusters: the means of 0..24, 25..49, 50..74, 75..99.
  CHECK(r.codebook == std::vector<float>({12.0f, 37.0f, 62.0f, 87.0f}));
  CHECK(r.converged);
  CHECK(r.iterations == 1);
  // Same input, same answer.
  const Result again = fit(x.data(), x.size(), Options{2, 25});
  CHECK(again.codebook == r.codebook);
  CHECK(again.codes == r.codes);
}

TEST_CASE("kmeans: ties go to the lower centroid") {
  const std::vector<float> c = {-1.0f, 1.0f, 3.0f};
  CHECK(nearest(c, 0.0f) == 0);
  CHECK(nearest(c, 2.0f) == 1);
  CHECK(nearest(c, std::nextafter(2.0f, 3.0f)) == 2);
  CHECK(nearest(c, -5.0f) == 0);
  CHECK(nearest(c, 5.0f) == 2);
  CHECK(nearest(c, 3.0f) == 2);
  const std::vector<float> dup = {0.0f, 1.0f, 1.0f, 1.0f, 4.0f};
  CHECK(nearest(dup, 1.0f) == 1);
  CHECK(nearest(dup, 1.2f) == 1);
  CHECK(nearest(dup, 2.5f) == 1);  // equidistant from 1 and 4: the first 1
  CHECK(nearest(dup, std::nextafter(2.5f, 4.0f)) == 4);
}

TEST_CASE("kmeans: few distinct values and empty clusters and non-finite inputs") {
  // Three distinct values, eight centroids: duplicates at first, empty clusters reseeded on the
  // worst-represented values until every value has an exact centroid.
  std::vector<float> x;
  for (int i = 0; i < 30; ++i) x.push_back(i % 3 == 0 ? -2.0f : i % 3 == 1 ? 0.5f : 7.0f);
  const Result r = fit(x.data(), x.size(), Options{3, 25});
  CHECK(r.codebook.size() == 8);
  CHECK(std::is_sorted(r.codebook.begin(), r.codebook.end()));
  for (size_t i = 0; i < x.size(); ++i) CHECK(r.dequantized[i] == x[i]);
  CHECK(r.converged);

  const std::vector<float> y = {1.0f, 2.0f, NAN, INFINITY, -INFINITY, 3.0f, 4.0f, -0.5f};
  const Result s = fit(y.data(), y.size(), Options{1, 25});
  REQUIRE(s.codebook.size() == 2);
  CHECK(s.codes[2] == nearest(s.codebook, 0.0f));
  CHECK(s.codes[3] == 1);
  CHECK(s.codes[4] == 0);
  CHECK(s.codebook[0] < s.codebook[1]);

  const std::vector<float> none = {NAN, NAN};
  const Result z = fit(none.data(), none.size(), Options{2, 25});
  CHECK(z.codebook == std::vector<float>(4, 0.0f));
  CHECK(z.codes[0] == 0);
  const Result empty = fit(none.data(), 0, Options{2, 25});
  CHECK(empty.codes.empty());

  CHECK_THROWS_AS(fit(y.data(), y.size(), Options{0, 25}), qplay::Error);
  CHECK_THROWS_AS(fit(y.data(), y.size(), Options{9, 25}), qplay::Error);
  CHECK_THROWS_AS(fit(y.data(), y.size(), Options{2, -1}), qplay::Error);
}

TEST_CASE("kmeans: Lloyd iterations never increase the distortion") {
  std::vector<float> x(2000);
  uint64_t s = 99;
  for (float& v : x) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    const double u = double(s >> 11) * 0x1p-53;
    v = float(std::tan((u - 0.5) * 3.0));  // heavy tails
  }
  double prev = INFINITY;
  for (int it = 0; it <= 6; ++it) {
    const Result r = fit(x.data(), x.size(), Options{4, it});
    double d = 0;
    for (size_t i = 0; i < x.size(); ++i) d += (double(x[i]) - r.dequantized[i]) * (double(x[i]) - r.dequantized[i]);
    CHECK(d <= prev * (1 + 1e-12));
    prev = d;
  }
}
