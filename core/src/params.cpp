// Where quantization params come from: dynamic (the tensor's own ranges), given, or calibrated by
// observers; and each profile's formula from a range [lo, hi] to (scale, zero point).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "driver.hpp"
#include "qplay/error.hpp"
#include "qplay/range.hpp"

namespace qplay {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kTorchEps = 1.1920928955078125e-07f;  // torch.finfo(torch.float32).eps = 2^-23

struct ScaleZero {
  float scale = 1.0f;
  float zero = 0.0f;
};

float clampf(float v, int32_t lo, int32_t hi) {
  return std::min(std::max(v, float(lo)), float(hi));
}

// Symmetric zero point shared by the custom and seed profiles: 0 for signed codes, the middle
// code for unsigned ones (uint8 -> 128) so that +-amax both fit.
float unsigned_symmetric_zero(CodeRange r) { return float((r.qmin + r.qmax + 1) / 2); }

// float32 range arithmetic like the peers; only a range too wide for float32 (max - min = inf)
// falls back to double so the scale stays finite.
float range_scale(float lo, float hi, double levels) {
  const float s = (hi - lo) / float(levels);
  return std::isfinite(s) ? s : float((double(hi) - double(lo)) / levels);
}

// The per-group formulas run once per param group (512 K times for blocks of 32 over 16 M values):
// they take the code type's signedness from the caller and are noexcept, so the wasm build (which
// compiles the core with -fexceptions) calls them directly instead of through an invoke trampoline.
ScaleZero custom_params(float lo, float hi, const QuantOptions& o, CodeRange r, bool is_signed) noexcept {
  const double levels = double(r.qmax) - double(r.qmin);
  ScaleZero p;
  if (o.zero_point_domain == ZeroPointDomain::floating) {
    // torch float_qparams / HQQ convention: x_hat = (q - zp) * s, zp = qmin - lo / s (no 0 forced).
    p.scale = range_scale(lo, hi, levels);
    if (!(p.scale > 0)) p.scale = 1.0f;
    p.zero = float(r.qmin) - lo / p.scale;
    return p;
  }
  if (o.mode == Mode::symmetric) {
    const float amax = std::max(std::fabs(lo), std::fabs(hi));
    p.zero = is_signed ? 0.0f : unsigned_symmetric_zero(r);
    p.scale = amax / (float(r.qmax) - p.zero);
  } else {
    const float lo0 = std::min(lo, 0.0f), hi0 = std::max(hi, 0.0f);
    p.scale = range_scale(lo0, hi0, levels);
    if (p.scale > 0)
      p.zero = clampf(float(r.qmin) - std::nearbyint(lo0 / p.scale), r.qmin, r.qmax);
  }
  if (!(p.scale > 0) || !std::isfinite(p.scale)) {
    // An all-zero group: any scale represents it; 1.0 keeps the zero point inside the range.
    p.scale = 1.0f;
    if (o.mode == Mode::asymmetric) p.zero = clampf(0.0f, r.qmin, r.qmax);
  }
  return p;
}

ScaleZero seed_params(float lo, float hi, const QuantOptions& o, CodeRange r, bool is_signed) noexcept {
  if (o.mode == Mode::symmetric) return custom_params(lo, hi, o, r, is_signed);
  // The blog's formulas (1)-(2), in float32: s = (max - min) / (qmax - qmin),
  // z = round((max * qmin - min * qmax) / (max - min)). 0 is not forced into the range.
  if (hi == lo) {
    lo = std::min(lo, 0.0f);
    hi = std::max(hi, 0.0f);
  }
  ScaleZero p;
  if (hi == lo) return {1.0f, clampf(0.0f, r.qmin, r.qmax)};
  p.scale = (hi - lo) / float(r.qmax - r.qmin);
  const double z = (double(hi) * r.qmin - double(lo) * r.qmax) / (double(hi) - double(lo));
  p.zero = clampf(float(std::nearbyint(z)), r.qmin, r.qmax);
  if (!(p.scale > 0) || !std::isfinite(p.scale)) p.scale = 1.0f;
  return p;
}

ScaleZero pytorch_params(float lo, float hi, const QuantOptions& o, CodeRange r, bool is_signed) noexcept {
  ScaleZero p;
  if (o.zero_point_domain == ZeroPointDomain::floating) {
    // observer.py, per_channel_affine_float_qparams: no 0 forced, scale <= eps -> 1.0,
    // zero_point = -min / scale (float).
    p.scale = (hi - lo) / float(r.qmax - r.qmin);
    if (p.scale <= kTorchEps) p.scale = 1.0f;
    p.zero = -lo / p.scale;
    return p;
  }
  const float min_neg = std::min(lo, 0.0f), max_pos = std::max(hi, 0.0f);
  if (o.mode == Mode::symmetric) {
    const float amax = std::max(-min_neg, max_pos);
    p.scale = std::max(amax / (float(r.qmax - r.qmin) / 2.0f), kTorchEps);
    if (is_signed) {
      p.zero = 0.0f;
    } else {
      // quint8's default range gets 128; a custom range (every other width, or narrow) gets the
      // floor of the middle. reduce_range is not a custom range in torch, so it keeps 128.
      const bool default_quint8 = o.code.bits == 8 && !o.narrow;
      p.zero = default_quint8 ? 128.0f : float((r.qmin + r.qmax) / 2);
    }
    return p;
  }
  p.scale = std::max((max_pos - min_neg) / float(r.qmax - r.qmin), kTorchEps);
  p.zero = clampf(float(r.qmin) - std::nearbyint(min_neg / p.scale), r.qmin, r.qmax);
  return p;
}

ScaleZero onnx_params(float lo, float hi, const QuantOptions& o, CodeRange r, bool is_signed) noexcept {
  // DynamicQuantizeLinear generalized to the code range; symmetric is our extension: [-amax, amax]
  // through the same formula.
  float lo0 = std::min(lo, 0.0f), hi0 = std::max(hi, 0.0f);
  if (o.mode == Mode::symmetric) {
    const float amax = std::max(-lo0, hi0);
    lo0 = -amax;
    hi0 = amax;
  }
  ScaleZero p;
  p.scale = hi0 == lo0 ? 1.0f : (hi0 - lo0) / float(r.qmax - r.qmin);
  if (o.mode == Mode::symmetric)
    p.zero = float(std::nearbyint((double(r.qmin) + double(r.qmax)) / 2.0));
  else
    p.zero = std::nearbyint(clampf(float(r.qmin) - lo0 / p.scale, r.qmin, r.qmax));  // clip, then round
  return p;
}

ScaleZero ort_tool_params(float lo, float hi, const QuantOptions& o, CodeRange r, bool is_signed) noexcept {
  // quant_utils.compute_scale_zp: float32 range arithmetic, the division in float64 then cast.
  float rmin = std::min(lo, 0.0f), rmax = std::max(hi, 0.0f);
  if (o.mode == Mode::symmetric) {
    const float absmax = std::max(std::fabs(rmin), std::fabs(rmax));
    rmin = -absmax;
    rmax = absmax;
  }
  ScaleZero p;
  p.scale = float(double(rmax - rmin) / double(r.qmax - r.qmin));
  if (p.scale < std::numeric_limits<float>::min()) return {1.0f, 0.0f};
  if (o.mode == Mode::symmetric)
    p.zero = float(std::nearbyint((double(r.qmin) + double(r.qmax)) / 2.0));
  else  // numpy 1.x evaluates qmin - (float32 quotient) in float64, then rounds half to even
    p.zero = float(std::nearbyint(double(r.qmin) - double(rmin / p.scale)));
  return p;
}

ScaleZero params_for_range(float lo, float hi, const QuantOptions& o, CodeRange r, bool is_signed) noexcept {
  switch (o.profile) {
    case Profile::custom:
    case Profile::bnb:  // element profiles: apply_profile keeps them off integer dtypes
    case Profile::mx:
    case Profile::ggml:  // never an integer run (apply_profile turns it into --format)
      return custom_params(lo, hi, o, r, is_signed);
    case Profile::seed: return seed_params(lo, hi, o, r, is_signed);
    case Profile::pytorch: return pytorch_params(lo, hi, o, r, is_signed);
    case Profile::onnx: return onnx_params(lo, hi, o, r, is_signed);
    case Profile::ort_tool: return ort_tool_params(lo, hi, o, r, is_signed);
  }
  return {};
}

// The finite values of each group, bucketed in element order (for the non-minmax range methods).
struct Buckets {
  std::vector<int64_t> offset;  // group g holds values[offset[g] .. offset[g + 1])
  std::vector<float> values;
};

using detail::for_each_element;

Buckets bucket_finite(std::span<const float> x, const GranularityPlan& p) {
  Buckets b;
  b.offset.assign(size_t(p.param_count) + 1, 0);
  for_each_element(p, [&](int64_t e, int64_t g) {
    if (std::isfinite(x[size_t(e)])) ++b.offset[size_t(g) + 1];
  });
  for (size_t g = 1; g < b.offset.size(); ++g) b.offset[g] += b.offset[g - 1];
  b.values.resize(size_t(b.offset.back()));
  std::vector<int64_t> cursor(b.offset.begin(), b.offset.end() - 1);
  for_each_element(p, [&](int64_t e, int64_t g) {
    const float v = x[size_t(e)];
    if (std::isfinite(v)) b.values[size_t(cursor[size_t(g)]++)] = v;
  });
  return b;
}

void check_plan_fits(std::span<const float> x, const Shape& shape, const char* what) {
  if (shape_elements(shape) != int64_t(x.size()))
    throw Error(std::string(what) + " has shape " + shape_to_string(shape) + " but " +
                std::to_string(x.size()) + " values");
}

}  // namespace

namespace detail {

DType code_dtype(IntType t) {
  if (t.bits > 8) return t.is_signed ? DType::i16 : DType::u16;
  return t.is_signed ? DType::i8 : DType::u8;
}

kernels::QuantizeSpec quantize_spec(const QuantOptions& o, CodeRange r) {
  kernels::QuantizeSpec s;
  switch (o.rounding) {
    case RoundingMode::half_even: s.round = kernels::Round::half_even; break;
    case RoundingMode::half_away: s.round = kernels::Round::half_away; break;
    case RoundingMode::half_up: s.round = kernels::Round::half_up; break;
    case RoundingMode::stochastic: s.round = kernels::Round::stochastic; break;
  }
  s.div = o.division == DivisionMode::multiply_inverse ? kernels::Div::multiply_inverse
                                                        : kernels::Div::divide;
  // ONNX saturates NaN to qmin; the ort-tool profile quantizes with the same runtime op.
  s.nan = (o.profile == Profile::onnx || o.profile == Profile::ort_tool) ? kernels::NanCode::qmin
                                                                         : kernels::NanCode::as_zero;
  s.qmin = float(r.qmin);
  s.qmax = float(r.qmax);
  s.seed = o.seed;
  return s;
}

KernelParams kernel_params(const QuantParams& p, const QuantOptions& o) {
  KernelParams k;
  const size_t n = p.scale.size();
  k.scale_op.resize(n);
  k.zf.assign(n, 0.0f);
  k.zi.assign(n, 0.0f);
  for (size_t g = 0; g < n; ++g) {
    k.scale_op[g] = o.division == DivisionMode::multiply_inverse ? 1.0f / p.scale[g] : p.scale[g];
    (p.float_zero_point ? k.zf[g] : k.zi[g]) = p.zero_point[g];
  }
  return k;
}

GroupStats group_minmax(std::span<const float> x, const GranularityPlan& p) {
  const kernels::Table& k = kernels::table();
  GroupStats st;
  st.min.assign(size_t(p.param_count), kInf);
  st.max.assign(size_t(p.param_count), -kInf);
  const float* data = x.data();
  auto fold_run = [&](const float* run, int64_t n, int64_t g) {
    kernels::MinMax m{st.min[size_t(g)], st.max[size_t(g)], 0};
    k.minmax_f32(run, size_t(n), &m);
    st.min[size_t(g)] = m.min;
    st.max[size_t(g)] = m.max;
  };
  switch (p.granularity) {
    case Granularity::tensor:
      fold_run(data, int64_t(x.size()), 0);
      break;
    case Granularity::channel:
    case Granularity::group:
      if (p.inner >= kRunThreshold) {
        for (int64_t o = 0; o < p.outer; ++o)
          for (int64_t d = 0; d < p.dim; ++d) fold_run(data + (o * p.dim + d) * p.inner, p.inner, d / p.group);
      } else {
        const size_t row = size_t(p.dim * p.inner);
        std::vector<float> mn(row, kInf), mx(row, -kInf);
        for (int64_t o = 0; o < p.outer; ++o) k.minmax_rows_f32(data + size_t(o) * row, row, mn.data(), mx.data());
        for (int64_t d = 0; d < p.dim; ++d)
          for (int64_t i = 0; i < p.inner; ++i) {
            const size_t g = size_t(d / p.group), e = size_t(d * p.inner + i);
            st.min[g] = std::min(st.min[g], mn[e]);
            st.max[g] = std::max(st.max[g], mx[e]);
          }
      }
      break;
    case Granularity::block: {
      const int64_t nb = (p.dim + p.block - 1) / p.block;
      for (int64_t o = 0; o < p.outer; ++o) {
        if (p.inner == 1) {
          for (int64_t b = 0; b < nb; ++b) {
            const int64_t start = b * p.block, len = std::min(p.block, p.dim - start);
            fold_run(data + o * p.dim + start, len, o * nb + b);
          }
        } else {
          for (int64_t d = 0; d < p.dim; ++d) {
            const size_t g0 = size_t((o * nb + d / p.block) * p.inner);
            k.minmax_rows_f32(data + (o * p.dim + d) * p.inner, size_t(p.inner), st.min.data() + g0,
                              st.max.data() + g0);
          }
        }
      }
      break;
    }
  }
  return st;
}

double group_sse(std::span<const float> values, float scale, float zero, bool float_zero_point,
                 const QuantOptions& o, CodeRange r) {
  const kernels::Table& k = kernels::table();
  const kernels::QuantizeSpec spec = quantize_spec(o, r);
  const float scale_op = o.division == DivisionMode::multiply_inverse ? 1.0f / scale : scale;
  const float zf = float_zero_point ? zero : 0.0f, zi = float_zero_point ? 0.0f : zero;
  std::vector<float> y(values.size());
  with_code_type(code_dtype(o.code.int_type()), [&](auto t) {
    using T = decltype(t);
    std::vector<T> q(values.size());
    CodeKernels<T>::quantize_run(k)(values.data(), values.size(), scale_op, zf, zi, spec, 0, q.data());
    CodeKernels<T>::dequantize_run(k)(q.data(), q.size(), scale, zero, y.data());
  });
  kernels::ErrorSums sums;
  k.error_sums_f32(values.data(), y.data(), values.size(), &sums);
  return sums.sq_err;
}

}  // namespace detail

QuantParams params_from_ranges(std::span<const float> lo, std::span<const float> hi,
                               const Shape& param_shape, const QuantOptions& o) {
  const CodeRange r = code_range(o);
  const bool is_signed = o.code.int_type().is_signed;
  QuantParams p;
  p.shape = param_shape;
  p.float_zero_point = o.zero_point_domain == ZeroPointDomain::floating;
  p.scale.resize(lo.size());
  p.zero_point.resize(lo.size());
  for (size_t g = 0; g < lo.size(); ++g) {
    // A group without finite values has the range [0, 0].
    const bool empty = !(lo[g] <= hi[g]);
    const ScaleZero sz = params_for_range(empty ? 0.0f : lo[g], empty ? 0.0f : hi[g], o, r, is_signed);
    p.scale[g] = sz.scale;
    p.zero_point[g] = sz.zero;
  }
  return p;
}

QuantParams compute_params(const TensorViewF32& x, const QuantOptions& o) {
  check_plan_fits(x.values, x.shape, "the input");
  return detail::compute_params(x, o, plan_granularity(x.shape, o), nullptr);
}

namespace detail {

// --clip-ratio R: each range [lo, hi] becomes [R lo, R hi] in float32 (a group with no finite
// value keeps its empty range). R = 1 leaves the ranges untouched, so default runs keep their bits.
void clip_ranges(std::vector<float>& lo, std::vector<float>& hi, float ratio) {
  if (ratio == 1.0f) return;
  for (size_t g = 0; g < lo.size(); ++g) {
    if (!(lo[g] <= hi[g])) continue;
    lo[g] *= ratio;
    hi[g] *= ratio;
  }
}

// The range methods other than minmax work on each group's finite values; `stats`, when the
// caller already has the group extremes (quantize_dynamic reports them), saves the min/max pass.
QuantParams compute_params(const TensorViewF32& x, const QuantOptions& o, const GranularityPlan& plan,
                           const GroupStats* stats) {
  if (o.range == RangeMethod::minmax) {
    if (stats && o.clip_ratio == 1.0f) return params_from_ranges(stats->min, stats->max, plan.param_shape, o);
    GroupStats own = stats ? *stats : group_minmax(x.values, plan);
    clip_ranges(own.min, own.max, o.clip_ratio);
    return params_from_ranges(own.min, own.max, plan.param_shape, o);
  }

  const CodeRange r = code_range(o);
  const bool is_signed = o.code.int_type().is_signed;
  const Buckets buckets = bucket_finite(x.values, plan);
  std::vector<float> lo(size_t(plan.param_count)), hi(size_t(plan.param_count));
  for (size_t g = 0; g < lo.size(); ++g) {
    const std::span<const float> values(buckets.values.data() + buckets.offset[g],
                                        size_t(buckets.offset[g + 1] - buckets.offset[g]));
    RangeRequest req;
    req.method = o.range;
    req.percentile = o.percentile;
    req.bits = o.code.bits;
    req.symmetric = o.mode == Mode::symmetric;
    req.is_signed = is_signed;
    req.error_of = [&](float clip_lo, float clip_hi) {
      const ScaleZero sz = params_for_range(clip_lo, clip_hi, o, r, is_signed);
      return detail::group_sse(values, sz.scale, sz.zero, o.zero_point_domain == ZeroPointDomain::floating, o, r);
    };
    const Range range = compute_range(values, req);
    lo[g] = range.lo;
    hi[g] = range.hi;
  }
  clip_ranges(lo, hi, o.clip_ratio);
  return params_from_ranges(lo, hi, plan.param_shape, o);
}

}  // namespace detail

QuantParams given_params(const GivenParams& given, const GranularityPlan& plan, const QuantOptions& o) {
  const CodeRange r = code_range(o);
  const size_t n = size_t(plan.param_count);
  const bool scalar = given.scale.size() == 1 && shape_elements(given.shape) == 1;
  if (!scalar && given.shape != plan.param_shape)
    throw Error("the given scale has shape " + shape_to_string(given.shape) + " but --granularity " +
                std::string(granularity_name(plan.granularity)) + " needs " +
                shape_to_string(plan.param_shape) + " (or a scalar)");
  if (given.scale.size() != size_t(shape_elements(given.shape)))
    throw Error("the given scale holds " + std::to_string(given.scale.size()) + " values for shape " +
                shape_to_string(given.shape));
  if (!given.zero_point.empty() && given.zero_point.size() != given.scale.size())
    throw Error("the given zero point holds " + std::to_string(given.zero_point.size()) +
                " values but the scale holds " + std::to_string(given.scale.size()));
  QuantParams p;
  p.shape = plan.param_shape;
  p.float_zero_point = o.zero_point_domain == ZeroPointDomain::floating;
  p.scale.resize(n);
  p.zero_point.resize(n);
  for (size_t g = 0; g < n; ++g) {
    const size_t src = scalar ? 0 : g;
    const float s = given.scale[src];
    const float z = given.zero_point.empty() ? 0.0f : given.zero_point[src];
    if (!(s > 0) || !std::isfinite(s))
      throw Error("scale must be a finite number > 0 (got " + std::to_string(s) + " at index " +
                  std::to_string(src) + ")");
    if (!std::isfinite(z)) throw Error("zero point at index " + std::to_string(src) + " is not finite");
    if (!p.float_zero_point && (z != std::nearbyint(z) || z < float(r.qmin) || z > float(r.qmax)))
      throw Error("zero point " + std::to_string(z) + " at index " + std::to_string(src) +
                  " must be an integer in the code range [" + std::to_string(r.qmin) + ", " +
                  std::to_string(r.qmax) + "] (or use --zero-point-domain float)");
    p.scale[g] = s;
    p.zero_point[g] = z;
  }
  return p;
}

QuantParams calibrate_params(std::span<const TensorViewF32> calibration, const QuantOptions& o,
                             const CalibrationOptions& c) {
  if (calibration.empty()) throw Error("--calibrate needs at least one calibration tensor");
  if (o.range != RangeMethod::minmax)
    throw Error("--range " + range_name(o) + " applies to dynamic params; calibration uses --observer");
  GranularityPlan first;
  std::vector<float> lo, hi;
  for (size_t t = 0; t < calibration.size(); ++t) {
    const TensorViewF32& x = calibration[t];
    check_plan_fits(x.values, x.shape, "a calibration tensor");
    const GranularityPlan plan = plan_granularity(x.shape, o);
    if (t == 0) {
      first = plan;
    } else if (plan.param_shape != first.param_shape) {
      throw Error("calibration tensor " + std::to_string(t + 1) + " of shape " + shape_to_string(x.shape) +
                  " gives params of shape " + shape_to_string(plan.param_shape) + ", the first gives " +
                  shape_to_string(first.param_shape));
    }
    const GroupStats s = detail::group_minmax(x.values, plan);
    if (t == 0) {
      lo = s.min;
      hi = s.max;
      continue;
    }
    for (size_t g = 0; g < lo.size(); ++g) {
      if (!(s.min[g] <= s.max[g])) continue;  // no finite value in this group of this batch
      if (!(lo[g] <= hi[g])) {
        lo[g] = s.min[g];
        hi[g] = s.max[g];
      } else if (c.observer == Observer::minmax) {
        lo[g] = std::min(lo[g], s.min[g]);
        hi[g] = std::max(hi[g], s.max[g]);
      } else {  // torch MovingAverageMinMaxObserver: x <- x + c * (batch - x), in float32
        const float cf = float(c.averaging_constant);
        lo[g] = lo[g] + cf * (s.min[g] - lo[g]);
        hi[g] = hi[g] + cf * (s.max[g] - hi[g]);
      }
    }
  }
  return params_from_ranges(lo, hi, first.param_shape, o);
}

}  // namespace qplay
