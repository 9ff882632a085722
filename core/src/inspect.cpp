// The inspector's per-element answers: the plan's group, and the kernels' scalar rule for one
// element (kernels/element.hpp's quantize_one, the very function the scalar kernels loop over and
// the SIMD twin reproduces), so the code explained is the code the run stored.
#include "qplay/inspect.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "driver.hpp"
#include "kernels/element.hpp"
#include "qplay/error.hpp"

namespace qplay {
namespace {

int64_t element_count(const GranularityPlan& plan) { return plan.outer * plan.dim * plan.inner; }

// Integer codes need one scale and zero point per group of the plan; element formats report the
// group's scale when there is one (ggml's sub-block scales follow the format, not the plan).
void check_fits(const QuantOptions& o, const QuantParams& p, const GranularityPlan& plan, const TensorViewF32& x) {
  if (element_count(plan) != int64_t(x.values.size()))
    throw Error("the plan covers " + std::to_string(element_count(plan)) + " elements but the tensor has " +
                std::to_string(x.values.size()));
  if (!o.code.is(Family::integer)) return;
  if (int64_t(p.scale.size()) != plan.param_count || int64_t(p.zero_point.size()) != plan.param_count)
    throw Error("the plan has " + std::to_string(plan.param_count) + " param groups but the params hold " +
                std::to_string(p.scale.size()) + " scales and " + std::to_string(p.zero_point.size()) +
                " zero points");
}

// The kernels' per-element rule with the run's spec, unclamped value kept for the explanation.
struct ElementRule {
  kernels::QuantizeSpec spec;
  kernels::element::Bounds bounds{};
  uint32_t key = 0;
  bool multiply_inverse = false;

  ElementRule(const QuantOptions& o) : spec(detail::quantize_spec(o, code_range(o))) {
    detail::with_code_type(detail::code_dtype(o.code.int_type()),
                           [&](auto t) { bounds = kernels::element::code_bounds<decltype(t)>(spec); });
    key = kernels::element::stream_key(spec.seed);
    multiply_inverse = spec.div == kernels::Div::multiply_inverse;
  }

  template <kernels::Round R>
  float round(float t, uint32_t index) const { return kernels::element::round_with<R>(t, key, index); }
  float round(float t, uint32_t index) const {
    using kernels::Round;
    switch (spec.round) {
      case Round::half_away: return round<Round::half_away>(t, index);
      case Round::half_up: return round<Round::half_up>(t, index);
      case Round::stochastic: return round<Round::stochastic>(t, index);
      case Round::half_even: break;
    }
    return round<Round::half_even>(t, index);
  }

  // Fills the integer fields of `e` (x, scale, zero point and index already set).
  void apply(InspectedElement& e, bool float_zero_point) const {
    namespace el = kernels::element;
    const float scale_op = multiply_inverse ? 1.0f / e.scale : e.scale;
    const float zf = float_zero_point ? e.zero_point : 0.0f;
    const float zi = float_zero_point ? 0.0f : e.zero_point;
    const bool nan_to_qmin = spec.nan == kernels::NanCode::qmin;
    const uint32_t index = uint32_t(e.index);  // the kernels' stochastic stream index
    // quantize_one's own steps, with the unclamped value kept.
    const float xs = el::nan_input_replaced(e.x, nan_to_qmin);
    e.shifted = (multiply_inverse ? xs * scale_op : xs / scale_op) + zf;
    e.rounded = round(e.shifted, index) + zi;
    const el::Quantized q = multiply_inverse
        ? quantize_one<kernels::Div::multiply_inverse>(e.x, scale_op, zf, zi, nan_to_qmin, index)
        : quantize_one<kernels::Div::divide>(e.x, scale_op, zf, zi, nan_to_qmin, index);
    e.integer = true;
    e.code = int32_t(q.q);
    e.clipped = q.saturated;
    e.tie = el::is_finite(e.shifted) && e.shifted - std::floor(e.shifted) == 0.5f;
    e.dequantized = (float(e.code) - e.zero_point) * e.scale;  // the dequantize kernels' rule
  }

  template <kernels::Div D>
  kernels::element::Quantized quantize_one(float x, float scale_op, float zf, float zi, bool nan_to_qmin,
                                           uint32_t index) const {
    using kernels::Round;
    namespace el = kernels::element;
    switch (spec.round) {
      case Round::half_away: return el::quantize_one<Round::half_away, D>(x, scale_op, zf, zi, nan_to_qmin, bounds, key, index);
      case Round::half_up: return el::quantize_one<Round::half_up, D>(x, scale_op, zf, zi, nan_to_qmin, bounds, key, index);
      case Round::stochastic: return el::quantize_one<Round::stochastic, D>(x, scale_op, zf, zi, nan_to_qmin, bounds, key, index);
      case Round::half_even: break;
    }
    return el::quantize_one<Round::half_even, D>(x, scale_op, zf, zi, nan_to_qmin, bounds, key, index);
  }
};

// What explain() returns, without the checks (the searches call it for every element).
InspectedElement inspect_checked(const QuantOptions& o, const QuantParams& p, const GranularityPlan& plan,
                                 const TensorViewF32& x, int64_t flat, const ElementRule* rule) {
  InspectedElement e;
  e.index = flat;
  e.group = param_index(plan, flat);
  e.x = x.values[size_t(flat)];
  const float nan = std::nanf("");
  const size_t g = size_t(e.group);
  e.scale = g < p.scale.size() ? p.scale[g] : nan;
  e.zero_point = g < p.zero_point.size() ? p.zero_point[g] : 0.0f;
  e.scaled = o.division == DivisionMode::multiply_inverse ? e.x * (1.0f / e.scale) : e.x / e.scale;
  if (rule) {
    rule->apply(e, p.float_zero_point);
  } else {
    e.shifted = e.rounded = e.dequantized = nan;
  }
  return e;
}

}  // namespace

int64_t param_index(const GranularityPlan& plan, int64_t flat) {
  const int64_t i = flat % plan.inner;
  const int64_t d = (flat / plan.inner) % plan.dim;
  const int64_t o = flat / (plan.inner * plan.dim);
  return plan.param_index(o, d, i);
}

std::vector<int64_t> group_elements(const GranularityPlan& plan, int64_t group) {
  if (group < 0 || group >= plan.param_count)
    throw Error("param group " + std::to_string(group) + " is out of range (the plan has " +
                std::to_string(plan.param_count) + ")");
  // Only that group's elements are visited: a channel of a [4096, 4096] matrix is 4096 steps.
  int64_t o_lo = 0, o_hi = plan.outer, d_lo = 0, d_hi = plan.dim, i_lo = 0, i_hi = plan.inner;
  switch (plan.granularity) {
    case Granularity::tensor: break;
    case Granularity::channel:
    case Granularity::group:
      d_lo = group * plan.group;
      d_hi = std::min(plan.dim, d_lo + plan.group);
      break;
    case Granularity::block: {
      const int64_t blocks = (plan.dim + plan.block - 1) / plan.block;
      i_lo = group % plan.inner;
      i_hi = i_lo + 1;
      const int64_t outer_block = group / plan.inner;
      o_lo = outer_block / blocks;
      o_hi = o_lo + 1;
      d_lo = (outer_block % blocks) * plan.block;
      d_hi = std::min(plan.dim, d_lo + plan.block);
      break;
    }
  }
  std::vector<int64_t> out;
  out.reserve(size_t((o_hi - o_lo) * (d_hi - d_lo) * (i_hi - i_lo)));
  for (int64_t o = o_lo; o < o_hi; ++o)
    for (int64_t d = d_lo; d < d_hi; ++d)
      for (int64_t i = i_lo; i < i_hi; ++i) out.push_back((o * plan.dim + d) * plan.inner + i);
  return out;
}

InspectedElement explain(const QuantOptions& o, const QuantParams& p, const GranularityPlan& plan,
                         const TensorViewF32& x, int64_t flat) {
  check_fits(o, p, plan, x);
  if (flat < 0 || flat >= int64_t(x.values.size()))
    throw Error("element " + std::to_string(flat) + " is out of range (the tensor has " +
                std::to_string(x.values.size()) + " elements)");
  if (!o.code.is(Family::integer)) return inspect_checked(o, p, plan, x, flat, nullptr);
  const ElementRule rule(o);
  return inspect_checked(o, p, plan, x, flat, &rule);
}

FoundElements find_elements(const QuantOptions& o, const QuantParams& p, const GranularityPlan& plan,
                            const TensorViewF32& x, const FindQuery& q, std::span<const float> dequantized) {
  check_fits(o, p, plan, x);
  const bool integer = o.code.is(Family::integer);
  if ((q.kind == FindKind::ties || q.kind == FindKind::clipped) && !integer)
    throw Error("ties and clipping are searched for integer codes only (this run's codes are element codes)");
  if (!dequantized.empty() && dequantized.size() != x.values.size())
    throw Error("the dequantized values number " + std::to_string(dequantized.size()) + " but the tensor has " +
                std::to_string(x.values.size()) + " elements");
  if (q.kind == FindKind::max_error && !integer && dequantized.empty())
    throw Error("the largest error of element codes needs the run's dequantized values");
  if (q.limit < 0) throw Error("the search limit must be >= 0 (got " + std::to_string(q.limit) + ")");
  FoundElements found;
  auto take = [&](int64_t i) {
    ++found.total;
    if (int64_t(found.indices.size()) < q.limit) found.indices.push_back(i);
  };
  std::vector<int64_t> chosen;
  if (q.group >= 0) chosen = group_elements(plan, q.group);
  const int64_t n = q.group >= 0 ? int64_t(chosen.size()) : int64_t(x.values.size());
  auto element_at = [&](int64_t k) { return q.group >= 0 ? chosen[size_t(k)] : k; };

  // |x̂ - x| in double, as the page compared them; NaN never wins.
  int64_t best = -1;
  double best_error = -1.0;
  auto consider = [&](int64_t i, float xhat) {
    const double err = std::fabs(double(xhat) - double(x.values[size_t(i)]));
    if (err > best_error) {
      best_error = err;
      best = i;
    }
  };
  if (q.kind == FindKind::max_error && !dequantized.empty()) {
    for (int64_t k = 0; k < n; ++k)
      if (element_at(k) > q.after) consider(element_at(k), dequantized[size_t(element_at(k))]);
    if (best >= 0) take(best);
    return found;
  }
  if (q.kind == FindKind::value_range) {
    for (int64_t k = 0; k < n; ++k) {
      const int64_t i = element_at(k);
      const float v = x.values[size_t(i)];
      if (i > q.after && v >= q.lo && (v < q.hi || (q.include_hi && v <= q.hi))) take(i);
    }
    return found;
  }
  const ElementRule rule(o);
  for (int64_t k = 0; k < n; ++k) {
    const int64_t i = element_at(k);
    if (i <= q.after) continue;
    const InspectedElement e = inspect_checked(o, p, plan, x, i, &rule);
    switch (q.kind) {
      case FindKind::ties:
        if (std::isfinite(e.x) && e.tie) take(i);
        break;
      case FindKind::clipped:
        if (e.clipped) take(i);
        break;
      case FindKind::max_error:
        consider(i, e.dequantized);
        break;
      case FindKind::value_range: break;
    }
  }
  if (q.kind == FindKind::max_error && best >= 0) take(best);
  return found;
}

}  // namespace qplay
