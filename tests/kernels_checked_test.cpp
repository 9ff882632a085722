// The SIMD twin's checked paths (quantize: codes computed without clamp or count, blocks with an
// out-of-range code recomputed exactly; minmax: blocks with a non-finite value folded exactly) only
// pay off on long runs of ordinary values, which the short, special-heavy inputs of
// kernels_test.cpp rarely produce. These cases are long runs of in-range values with ties and
// near-ties, with rare events (NaN, +-inf, clipped outliers, signed zeros) sprinkled at several
// densities so that clean blocks, single exact blocks and the backoff all run. simd128 must equal
// scalar bit for bit, saturation counts included.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/kernels.hpp"
#include "test_util.hpp"

#if QPLAY_HAVE_SIMD128

using namespace qplay::kernels;
using namespace qplay_test;

namespace {

// Event densities: none (every block clean), isolated, frequent (backoff), dense.
constexpr uint32_t kEveryNth[] = {0, 3000, 97, 5};

struct Params {
  float scale, zf, zi;
};

// t = x / s + zf lands in [qmin - zi, qmax - zi], a quarter of the values on exact ties or one
// float away from them (where x / s and x * (1/s) can round differently), plus the rare event.
float clean_value(Rng& rng, const Params& p, float qmin, float qmax) {
  const float lo = qmin - p.zi, hi = qmax - p.zi;
  const float k = std::floor(lo + (hi - lo) * rng.unit());
  float t;
  switch (rng.below(4)) {
    case 0: t = k + 0.5f; break;
    case 1: t = std::nextafter(k + 0.5f, kInf); break;
    case 2: t = std::nextafter(k + 0.5f, -kInf); break;
    default: t = k + rng.unit(); break;
  }
  t = std::fmin(std::fmax(t, lo), hi);
  return (t - p.zf) * p.scale;
}
float event_value(Rng& rng, const Params& p, float qmin, float qmax) {
  switch (rng.below(6)) {
    case 0: return kNaN;
    case 1: return kInf;
    case 2: return -kInf;
    case 3: return (qmax - p.zi + 3.0f + 100.0f * rng.unit()) * p.scale;  // clipped above
    case 4: return (qmin - p.zi - 3.0f - 100.0f * rng.unit()) * p.scale;  // clipped below
    default: return 3e38f;
  }
}

std::vector<float> make_input(Rng& rng, size_t n, uint32_t every, const Params& p, float qmin, float qmax) {
  std::vector<float> x(n);
  for (float& v : x) v = (every && rng.below(every) == 0) ? event_value(rng, p, qmin, qmax) : clean_value(rng, p, qmin, qmax);
  return x;
}

template <class T>
using RunFn = uint64_t (*)(const float*, size_t, float, float, float, const QuantizeSpec&, uint32_t, T*) noexcept;
template <class T>
using VecFn = uint64_t (*)(const float*, size_t, const float*, const float*, const float*, const QuantizeSpec&,
                           uint32_t, T*) noexcept;

template <class T>
void check_type(const char* name, RunFn<T> run_scalar, RunFn<T> run_simd, VecFn<T> vec_scalar, VecFn<T> vec_simd) {
  Rng rng(0xB10C + sizeof(T));
  const float tmin = float(std::numeric_limits<T>::min()), tmax = float(std::numeric_limits<T>::max());
  // The full type range and a narrow one (the checked path must use the spec's bounds, not T's).
  const std::pair<float, float> ranges[] = {{tmin, tmax}, {tmin < 0 ? -7.0f : 0.0f, tmin < 0 ? 7.0f : 14.0f}};
  // Scales: arbitrary (the bracket), a power of two (exact reciprocal), the FBGEMM scale, one whose
  // reciprocal is not normal (division kept), and a float zero point.
  size_t cases = 0, failures = 0, saturated_seen = 0;
  std::string first;
  for (const auto& [qmin, qmax] : ranges) {
    const float mid = std::floor((qmin + qmax) / 2);
    const Params params[] = {{0.0078017604f, 0.0f, mid}, {0.125f, 0.0f, qmin}, {0.00214854861f, 0.0f, mid},
                             {3e38f, 0.0f, mid},         {0.1f, 0.25f, 0.0f}, {0.0371f, -2.5f, mid}};
    for (Round r : {Round::half_even, Round::half_away, Round::half_up, Round::stochastic})
      for (Div d : {Div::divide, Div::multiply_inverse})
        for (NanCode nan : {NanCode::as_zero, NanCode::qmin})
          for (uint32_t every : kEveryNth)
            for (const Params& p : params) {
              const QuantizeSpec spec{r, d, nan, qmin, qmax, 99};
              const size_t n = 4096 + 7;  // 16 blocks and a tail
              const std::vector<float> x = make_input(rng, n, every, p, qmin, qmax);
              const float op = d == Div::divide ? p.scale : 1.0f / p.scale;
              std::vector<T> expected(n), got(n);
              const uint64_t se = run_scalar(x.data(), n, op, p.zf, p.zi, spec, 11, expected.data());
              const uint64_t sg = run_simd(x.data(), n, op, p.zf, p.zi, spec, 11, got.data());
              saturated_seen += se;
              ++cases;
              if (se != sg || std::memcmp(expected.data(), got.data(), n * sizeof(T)) != 0) {
                if (failures++ == 0) {
                  std::ostringstream s;
                  size_t i = 0;
                  while (i < n && expected[i] == got[i]) ++i;
                  s << "quantize_run_f32_" << name << " round=" << int(r) << " div=" << int(d) << " nan=" << int(nan)
                    << " every=" << every << " scale=" << p.scale << " zf=" << p.zf << " zi=" << p.zi
                    << " qmin=" << qmin << " qmax=" << qmax << " saturated " << se << "/" << sg;
                  if (i < n) s << " first code difference at " << i << ": x=" << x[i] << " scalar=" << int(expected[i])
                               << " simd128=" << int(got[i]);
                  first = s.str();
                }
              }
              // The same params spread per element (the thin-channel layout).
              const std::vector<float> sv(n, op), zfv(n, p.zf), ziv(n, p.zi);
              const uint64_t ve = vec_scalar(x.data(), n, sv.data(), zfv.data(), ziv.data(), spec, 11, expected.data());
              const uint64_t vg = vec_simd(x.data(), n, sv.data(), zfv.data(), ziv.data(), spec, 11, got.data());
              ++cases;
              if (ve != vg || std::memcmp(expected.data(), got.data(), n * sizeof(T)) != 0)
                if (failures++ == 0) first = std::string("quantize_vec_f32_") + name + " every=" + std::to_string(every);
            }
  }
  INFO("checked quantize " << name << ": " << cases << " cases");
  CHECK(saturated_seen > 0);
  CHECK_MESSAGE(failures == 0, failures << " failures; first: " << first);
}

}  // namespace

TEST_CASE("simd128 == scalar: minmax blocks on long runs with rare non-finite values and signed zeros") {
  Rng rng(0x5CA1E);
  const float specials[] = {kNaN, -kNaN, kInf, -kInf, 0.0f, -0.0f, 1e-45f, -1e-45f,
                            std::numeric_limits<float>::max(), -std::numeric_limits<float>::max()};
  size_t cases = 0, failures = 0;
  std::string first;
  // Value families: mixed signs, all positive (min decided by min_u), all negative (max by min_s),
  // only zeros of both signs, non-negative with zeros (the ReLU shape).
  for (int family = 0; family < 5; ++family)
    for (uint32_t every : kEveryNth)
      for (size_t n : {size_t(0), size_t(15), size_t(16), size_t(1023), size_t(1024), size_t(1040), size_t(5000)}) {
        std::vector<float> x(n);
        for (float& v : x) {
          const float u = rng.unit();
          switch (family) {
            case 0: v = (u - 0.5f) * 1e3f; break;
            case 1: v = 1.0f + u; break;
            case 2: v = -1.0f - u; break;
            case 3: v = rng.below(2) ? 0.0f : -0.0f; break;
            default: v = rng.below(3) ? u : 0.0f; break;
          }
          if (every && rng.below(every) == 0) v = specials[rng.below(std::size(specials))];
        }
        // Fresh accumulators and ones already holding a partial result.
        const MinMax starts[] = {MinMax{}, MinMax{-0.0f, 0.0f, 3}, MinMax{-5.0f, 7.0f, 0}};
        for (const MinMax& start : starts) {
          MinMax expected = start, got = start;
          scalar::minmax_f32(x.data(), n, &expected);
          simd128::minmax_f32(x.data(), n, &got);
          ++cases;
          if (bits_of(expected.min) != bits_of(got.min) || bits_of(expected.max) != bits_of(got.max) ||
              expected.nonfinite != got.nonfinite) {
            if (failures++ == 0) {
              std::ostringstream s;
              s << "family=" << family << " every=" << every << " n=" << n << " start=[" << start.min << ", "
                << start.max << "] scalar=[" << expected.min << ", " << expected.max << "] nonfinite "
                << expected.nonfinite << " simd128=[" << got.min << ", " << got.max << "] nonfinite " << got.nonfinite;
              first = s.str();
            }
          }
        }
      }
  INFO("minmax: " << cases << " cases");
  CHECK_MESSAGE(failures == 0, failures << " failures; first: " << first);
}

TEST_CASE("simd128 == scalar: quantize checked path on long runs with rare events") {
#define QPLAY_CHECK_CHECKED(T, s)                                                                    \
  check_type<T>(#s, &scalar::quantize_run_f32_##s, &simd128::quantize_run_f32_##s,                  \
                &scalar::quantize_vec_f32_##s, &simd128::quantize_vec_f32_##s);
  QPLAY_FOR_EACH_CODE_TYPE(QPLAY_CHECK_CHECKED)
#undef QPLAY_CHECK_CHECKED
}

#endif  // QPLAY_HAVE_SIMD128
