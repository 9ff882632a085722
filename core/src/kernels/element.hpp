// The per-element rules of every kernel, written once. scalar.cpp loops over these; simd128.cpp
// reproduces them lane-wise and calls them for its tails, so both twins share one definition.
//
// Everything here has internal linkage (unnamed namespace): the header is compiled into TUs with
// different target flags (-msse4.1 for the SIMD twin), and a shared inline definition could let the
// linker pick the SSE4.1 copy for the scalar twin.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "kernels.hpp"

namespace qplay::kernels::element {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// False for NaN and +-inf (the comparison with NaN is false).
inline bool is_finite(float x) { return std::fabs(x) < kInf; }

// ---- quantize -----------------------------------------------------------------------------------

// The clamp bounds a quantize kernel really uses: the spec's [qmin, qmax] made integral and
// limited to the code type. Valid specs pass through unchanged; the limiting keeps every clamped
// value exactly representable in T, so the SIMD narrowing and the scalar cast cannot disagree.
struct Bounds {
  float qmin, qmax;
};
inline float clamp_bound(float v, float lo, float hi) {
  v = lo < v ? v : lo;  // NaN -> lo
  return v < hi ? v : hi;
}
template <class T>
inline Bounds code_bounds(const QuantizeSpec& spec) {
  constexpr float lo = float(std::numeric_limits<T>::min());
  constexpr float hi = float(std::numeric_limits<T>::max());
  return {clamp_bound(std::ceil(spec.qmin), lo, hi), clamp_bound(std::floor(spec.qmax), lo, hi)};
}

// NaN handling, chosen so the SIMD twin needs no select after rounding:
//  - NanCode::as_zero replaces a NaN x by +0 before the division, so it gets exactly the code of
//    x = 0 (stochastic rounding included: floor(zf + u) + zi).
//  - Any NaN t left (a NaN x under NanCode::qmin, or a finite x with an unusable scale_op: 0 * inf
//    when 1/s overflowed, 0 / 0) gets qmin: the clamp is written so NaN falls to qmin.
//  - Not counted as saturated: the count covers finite x with a non-NaN t.
inline float nan_input_replaced(float x, bool nan_to_qmin) { return (x == x || nan_to_qmin) ? x : 0.0f; }

// Stochastic rounding noise: a counter-based hash, so the same (seed, index) gives the same u for
// any chunking or vector width. lowbias32 (a two-multiply avalanche mix) of index ^ key(seed).
constexpr uint32_t kSeedSalt = 0x9E3779B9u;
constexpr uint32_t kMix1 = 0x7FEB352Du;
constexpr uint32_t kMix2 = 0x846CA68Bu;
inline uint32_t mix32(uint32_t h) {
  h ^= h >> 16;
  h *= kMix1;
  h ^= h >> 15;
  h *= kMix2;
  h ^= h >> 16;
  return h;
}
inline uint32_t stream_key(uint32_t seed) { return mix32(seed ^ kSeedSalt); }
// Top 24 bits: exact in float32, so u in [0, 1 - 2^-24].
inline float uniform(uint32_t key, uint32_t index) {
  return float(mix32(index ^ key) >> 8) * 0x1p-24f;
}

// The rounding rules. The deterministic ones are exact and return t itself for |t| >= 2^23 and
// for +-inf (t - r is then 0 or NaN, and neither passes the >= 0.5 test); t - r is exact: it is
// the fraction of t. Stochastic is floor(t + u) with a float32 add, as the contract states: the
// add rounds to the precision of t, so for |t| in [2^23, 2^24) it can give t + 1 (such t clamp to
// the same code either way), and it biases the step probability by at most half an ulp of t
// (2^-17 of a code for |t| < 256, 2^-9 near 2^16).
inline float round_half_even(float t) { return std::nearbyint(t); }
inline float round_half_away(float t) {
  const float r = std::trunc(t);
  // Adding +0 when not stepping mirrors the SIMD masked add.
  const float step = std::fabs(t - r) >= 0.5f ? std::copysign(1.0f, t) : 0.0f;
  return r + step;
}
inline float round_half_up(float t) {
  const float r = std::floor(t);
  const float step = (t - r) >= 0.5f ? 1.0f : 0.0f;
  return r + step;
}
inline float round_stochastic(float t, float u) { return std::floor(t + u); }

template <Round R>
inline float round_with(float t, uint32_t key, uint32_t index) {
  if constexpr (R == Round::half_even) return round_half_even(t);
  else if constexpr (R == Round::half_away) return round_half_away(t);
  else if constexpr (R == Round::half_up) return round_half_up(t);
  else return round_stochastic(t, uniform(key, index));
}

struct Quantized {
  float q;         // clamped code as an exact float
  bool saturated;  // finite x whose r + zi fell outside [qmin, qmax]
};
template <Round R, Div D>
inline Quantized quantize_one(float x, float scale_op, float zf, float zi, bool nan_to_qmin, Bounds b,
                              uint32_t key, uint32_t index) {
  const float xs = nan_input_replaced(x, nan_to_qmin);
  const float t = (D == Div::divide ? xs / scale_op : xs * scale_op) + zf;
  const float v = round_with<R>(t, key, index) + zi;  // NaN iff t is NaN
  // wasm pmax(qmin, v) then pmin(qmax, .): a NaN v fails both comparisons and lands on qmin.
  const float lo = b.qmin < v ? v : b.qmin;
  const float q = lo < b.qmax ? lo : b.qmax;
  // t + (x - x) is NaN when x is not finite or t is NaN: the elements the count skips.
  const float t_if_counted = t + (x - x);
  return {q, t_if_counted == t_if_counted && q != v};
}

template <class T>
inline T to_code(float q) { return static_cast<T>(static_cast<int32_t>(q)); }

// ---- reductions ---------------------------------------------------------------------------------

// min and max in the total order where -0 < +0 (a, b not NaN). With this order the result does not
// depend on the order elements are folded in, so lane-parallel SIMD agrees with the scalar loop.
inline float min_total(float a, float b) {
  return (b < a || (b == a && std::signbit(b))) ? b : a;
}
inline float max_total(float a, float b) {
  return (a < b || (a == b && std::signbit(a))) ? b : a;
}

// absmax fold: non-finite x contribute +0 (SIMD masks them to +0), the same expression as pmax.
inline float absmax_fold(float acc, float x) {
  const float a = is_finite(x) ? std::fabs(x) : 0.0f;
  return acc < a ? a : acc;
}

// Error sums in four lanes: element i of a call goes to lane i % 4. Non-finite pairs add +0 terms
// (their inputs are replaced by +0), which is what the SIMD masked loads produce.
struct ErrorLanes {
  double sq_err[4] = {0, 0, 0, 0};
  double abs_err[4] = {0, 0, 0, 0};
  double sq_x[4] = {0, 0, 0, 0};
  double sq_y[4] = {0, 0, 0, 0};
  double xy[4] = {0, 0, 0, 0};
  double max_abs = 0;
  uint64_t count = 0;

  void add(float x, float y, size_t lane) {
    const bool both_finite = is_finite(x) && is_finite(y);
    const double xd = both_finite ? double(x) : 0.0;
    const double yd = both_finite ? double(y) : 0.0;
    const double d = xd - yd;
    const double abs_d = std::fabs(d);
    sq_err[lane] += d * d;
    abs_err[lane] += abs_d;
    sq_x[lane] += xd * xd;
    sq_y[lane] += yd * yd;
    xy[lane] += xd * yd;
    max_abs = max_abs < abs_d ? abs_d : max_abs;
    count += both_finite ? 1 : 0;
  }
  static double combine(const double (&l)[4]) { return (l[0] + l[2]) + (l[1] + l[3]); }
  ErrorSums finish() const {
    ErrorSums s;
    s.sq_err = combine(sq_err);
    s.abs_err = combine(abs_err);
    s.sq_x = combine(sq_x);
    s.sq_y = combine(sq_y);
    s.xy = combine(xy);
    s.max_abs = max_abs;
    s.count = count;
    return s;
  }
};

// ---- histogram ----------------------------------------------------------------------------------

// wasm i32x4.trunc_sat_f32x4 on one value: NaN -> 0, out of range saturates.
inline int32_t trunc_sat_i32(float v) {
  if (v != v) return 0;
  if (v >= 2147483648.0f) return std::numeric_limits<int32_t>::max();
  if (v < -2147483648.0f) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(v);
}
// Bin of a finite x. Negative and NaN b go to 0 in float (same expression as wasm pmax(0, b));
// the saturating conversion and the integer min put everything above the range, huge values
// included, in the last bin (exact for any bins, where float(bins - 1) could round up).
inline uint32_t histogram_bin(float x, float lo, float inv_width, uint32_t last) {
  float b = std::floor((x - lo) * inv_width);
  b = 0.0f < b ? b : 0.0f;
  const uint32_t i = static_cast<uint32_t>(trunc_sat_i32(b));
  return i < last ? i : last;
}

}  // namespace
}  // namespace qplay::kernels::element
