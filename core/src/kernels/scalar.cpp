// The scalar twin: plain loops over the element rules of element.hpp. This file is the
// specification the SIMD twin is tested against bit for bit.
#include "element.hpp"
#include "kernels.hpp"

namespace qplay::kernels {

float stochastic_uniform(uint32_t seed, uint32_t index) noexcept {
  return element::uniform(element::stream_key(seed), index);
}

void merge(ErrorSums& into, const ErrorSums& from) {
  into.sq_err += from.sq_err;
  into.abs_err += from.abs_err;
  into.sq_x += from.sq_x;
  into.sq_y += from.sq_y;
  into.xy += from.xy;
  into.max_abs = into.max_abs < from.max_abs ? from.max_abs : into.max_abs;
  into.count += from.count;
}

namespace scalar {
namespace {

// Per-element parameters come either from one value (run) or from arrays (vec).
struct SameParams {
  float scale_op, zf, zi;
  float scale(size_t) const { return scale_op; }
  float zero_f(size_t) const { return zf; }
  float zero_i(size_t) const { return zi; }
};
struct PerElementParams {
  const float *scale_op, *zf, *zi;
  float scale(size_t i) const { return scale_op[i]; }
  float zero_f(size_t i) const { return zf[i]; }
  float zero_i(size_t i) const { return zi[i]; }
};

template <Round R, Div D, class T, class Params>
uint64_t quantize_loop(const float* x, size_t n, Params p, const QuantizeSpec& spec, uint32_t index0,
                       T* out) {
  const element::Bounds b = element::code_bounds<T>(spec);
  const bool nan_to_qmin = spec.nan == NanCode::qmin;
  const uint32_t key = element::stream_key(spec.seed);
  uint64_t saturated = 0;
  for (size_t i = 0; i < n; ++i) {
    const element::Quantized e = element::quantize_one<R, D>(
        x[i], p.scale(i), p.zero_f(i), p.zero_i(i), nan_to_qmin, b, key, index0 + uint32_t(i));
    out[i] = element::to_code<T>(e.q);
    saturated += e.saturated ? 1 : 0;
  }
  return saturated;
}

template <Div D, class T, class Params>
uint64_t quantize_round(const float* x, size_t n, Params p, const QuantizeSpec& spec, uint32_t index0,
                        T* out) {
  switch (spec.round) {
    case Round::half_away: return quantize_loop<Round::half_away, D>(x, n, p, spec, index0, out);
    case Round::half_up: return quantize_loop<Round::half_up, D>(x, n, p, spec, index0, out);
    case Round::stochastic: return quantize_loop<Round::stochastic, D>(x, n, p, spec, index0, out);
    case Round::half_even: break;
  }
  return quantize_loop<Round::half_even, D>(x, n, p, spec, index0, out);
}

template <class T, class Params>
uint64_t quantize(const float* x, size_t n, Params p, const QuantizeSpec& spec, uint32_t index0, T* out) {
  if (spec.div == Div::multiply_inverse)
    return quantize_round<Div::multiply_inverse>(x, n, p, spec, index0, out);
  return quantize_round<Div::divide>(x, n, p, spec, index0, out);
}

}  // namespace

#define QPLAY_SCALAR_CODE_KERNELS(T, s)                                                              \
  QPLAY_QUANTIZE_RUN_DECL(T, s) {                                                                   \
    return quantize(x, n, SameParams{scale_op, zf, zi}, spec, index0, out);                         \
  }                                                                                                 \
  QPLAY_QUANTIZE_VEC_DECL(T, s) {                                                                   \
    return quantize(x, n, PerElementParams{scale_op, zf, zi}, spec, index0, out);                   \
  }                                                                                                 \
  QPLAY_DEQUANTIZE_RUN_DECL(T, s) {                                                                 \
    for (size_t i = 0; i < n; ++i) y[i] = (float(q[i]) - zero) * scale;                             \
  }                                                                                                 \
  QPLAY_DEQUANTIZE_VEC_DECL(T, s) {                                                                 \
    for (size_t i = 0; i < n; ++i) y[i] = (float(q[i]) - zero[i]) * scale[i];                       \
  }
QPLAY_FOR_EACH_CODE_TYPE(QPLAY_SCALAR_CODE_KERNELS)
#undef QPLAY_SCALAR_CODE_KERNELS

QPLAY_MINMAX_DECL {
  float mn = acc->min, mx = acc->max;
  uint64_t nonfinite = 0;
  for (size_t i = 0; i < n; ++i) {
    if (element::is_finite(x[i])) {
      mn = element::min_total(mn, x[i]);
      mx = element::max_total(mx, x[i]);
    } else {
      ++nonfinite;
    }
  }
  acc->min = mn;
  acc->max = mx;
  acc->nonfinite += nonfinite;
}

QPLAY_MINMAX_ROWS_DECL {
  for (size_t i = 0; i < n; ++i) {
    if (!element::is_finite(x[i])) continue;
    mn[i] = element::min_total(mn[i], x[i]);
    mx[i] = element::max_total(mx[i], x[i]);
  }
}

QPLAY_ABSMAX_DECL {
  float m = *acc;
  for (size_t i = 0; i < n; ++i) m = element::absmax_fold(m, x[i]);
  *acc = m;
}

QPLAY_ERROR_SUMS_DECL {
  element::ErrorLanes lanes;
  for (size_t i = 0; i < n; ++i) lanes.add(x[i], y[i], i % 4);
  *out = lanes.finish();
}

QPLAY_HISTOGRAM_DECL {
  if (bins == 0) return;
  const uint32_t last = bins - 1;
  for (size_t i = 0; i < n; ++i)
    if (element::is_finite(x[i])) ++counts[element::histogram_bin(x[i], lo, inv_width, last)];
}

}  // namespace scalar
}  // namespace qplay::kernels
