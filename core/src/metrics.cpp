// How far the reconstruction is from the input: error metrics, histograms, per-group error.
#include <algorithm>
#include <cmath>
#include <limits>

#include "driver.hpp"
#include "qplay/error.hpp"
#include "qplay/range_detail.hpp"

namespace qplay {
namespace {

Histogram histogram(std::span<const float> v, float lo, float hi, int bins) {
  Histogram h;
  h.counts.assign(size_t(bins), 0);
  if (!(lo <= hi)) {  // nothing finite: an empty histogram over [0, 1]
    h.lo = 0;
    h.hi = 1;
    return h;
  }
  if (hi == lo) hi = lo + 1.0f;  // one value: put it in the first bin of a unit-wide range
  h.lo = lo;
  h.hi = hi;
  const float inv_width = float(bins) / (hi - lo);
  kernels::table().histogram_f32(v.data(), v.size(), lo, inv_width, uint32_t(bins), h.counts.data());
  return h;
}

// 10 log10(ratio) through portable_log: libm's log10 differs in the last place between glibc and
// the wasm libc, and params.json must read the same natively and in WebAssembly.
double decibels(double ratio) {
  if (ratio == 0) return -std::numeric_limits<double>::infinity();
  if (!std::isfinite(ratio)) return ratio;
  constexpr double kLn10 = 2.30258509299404568402;
  return 10.0 * range_detail::portable_log(ratio) / kLn10;
}

}  // namespace

Evaluation evaluate(const TensorViewF32& x, const Quantized& q, std::span<const float> y) {
  if (y.size() != x.values.size() || int64_t(y.size()) != q.codes.elements())
    throw Error("evaluate: the reconstruction holds " + std::to_string(y.size()) +
                " values for an input of " + std::to_string(x.values.size()));
  const kernels::Table& k = kernels::table();
  Evaluation ev;
  Metrics& m = ev.metrics;
  m.elements = x.values.size();
  for (float v : x.values) {
    if (std::isnan(v)) ++m.nan;
    else if (v == std::numeric_limits<float>::infinity()) ++m.pos_inf;
    else if (v == -std::numeric_limits<float>::infinity()) ++m.neg_inf;
  }
  m.finite = m.elements - m.nan - m.pos_inf - m.neg_inf;

  kernels::ErrorSums s;
  k.error_sums_f32(x.values.data(), y.data(), y.size(), &s);
  if (s.count == 0) {
    // No finite pair to compare: every error metric is undefined (written as null in JSON).
    const double nan = std::numeric_limits<double>::quiet_NaN();
    m.mse = m.rmse = m.mean_abs_error = m.max_abs_error = m.sqnr_db = m.cosine = nan;
  } else {
    m.mse = s.sq_err / double(s.count);
    m.rmse = std::sqrt(m.mse);
    m.mean_abs_error = s.abs_err / double(s.count);
    m.max_abs_error = s.max_abs;
    m.sqnr_db = s.sq_err == 0 ? std::numeric_limits<double>::infinity()
                              : decibels(s.sq_x / s.sq_err);
    m.cosine = (s.sq_x == 0 || s.sq_y == 0) ? (s.sq_x == s.sq_y ? 1.0 : 0.0)
                                            : s.xy / std::sqrt(s.sq_x * s.sq_y);
  }
  m.saturated = q.saturated;
  m.clip_rate = m.finite ? double(q.saturated) / double(m.finite) : 0.0;

  // Storage: codes at their bit width; per param a float32 scale, plus the zero point (code width
  // when integer and asymmetric, 32 bits when float, none when symmetric: it is a constant).
  const int bits = q.options.code.bits;
  uint64_t param_bits = 0;
  if (q.options.code.is(Family::integer)) {
    const int zero_bits = q.params.float_zero_point ? 32 : (q.options.mode == Mode::symmetric ? 0 : bits);
    param_bits = uint64_t(q.plan.param_count) * uint64_t(32 + zero_bits);
  } else {
    // Elements store no zero point. A scale per group is float32, or one E8M0 byte for MX; k-means
    // stores its centroids (float32) instead of a scale. Fixed tables (NF4, FP4, IQ4_NL, the pow2
    // levels) belong to the format, like an FP8 grid, and cost nothing per tensor.
    const Family kind = q.options.code.family();
    const uint64_t scale_bits = kind == Family::mx ? 8 : kind == Family::kmeans ? 0 : 32;
    param_bits = uint64_t(q.plan.param_count) * scale_bits;
    if (kind == Family::kmeans) param_bits += uint64_t(q.codebook.size()) * 32;
  }
  if (!q.scale_quant.scheme.empty()) {
    // Double quantization stores an 8-bit code instead of each float32 scale, plus one float32
    // per super-block (and bitsandbytes' float32 offset); its 256-value map belongs to the format.
    const ScaleQuant& dq = q.scale_quant;
    param_bits -= uint64_t(q.plan.param_count) * 32;
    param_bits += uint64_t(dq.codes.size()) * 8 + uint64_t(dq.super.size()) * 32 +
                  (dq.scheme == "bnb-dynamic" ? 32 : 0);
  }
  const uint64_t code_bits = m.elements * uint64_t(bits);
  m.bits_per_element = m.elements ? double(code_bits + param_bits) / double(m.elements) : 0.0;
  m.bytes_before = m.elements * 4;
  m.bytes_after = (code_bits + 7) / 8 + (param_bits + 7) / 8;
  if (q.options.code.is(Family::ggml)) {
    // ggml's storage is its blocks, codes and scales together: block_bytes * 8 / block_elems
    // bits per element exactly (Q4_K 4.5, Q3_K 3.4375).
    const GgmlType t = q.options.code.ggml_type();
    m.bytes_after = q.blocks.size();
    m.bits_per_element = double(ggml_block_bytes(t) * 8) / double(ggml_block_elems(t));
  }

  // Per-group MSE for the heatmaps, walking elements in order.
  const GranularityPlan& p = q.plan;
  std::vector<double> sq(size_t(p.param_count), 0.0);
  std::vector<uint64_t> count(size_t(p.param_count), 0);
  const int64_t nb = p.granularity == Granularity::block ? (p.dim + p.block - 1) / p.block : 0;
  size_t e = 0;
  for (int64_t o = 0; o < p.outer; ++o)
    for (int64_t d = 0; d < p.dim; ++d) {
      const int64_t base = p.granularity == Granularity::block ? (o * nb + d / p.block) * p.inner
                           : p.granularity == Granularity::tensor ? 0 : d / p.group;
      const bool per_element = p.granularity == Granularity::block;
      for (int64_t i = 0; i < p.inner; ++i, ++e) {
        const float xv = x.values[e], yv = y[e];
        if (!std::isfinite(xv) || !std::isfinite(yv)) continue;
        const size_t g = size_t(per_element ? base + i : base);
        const double diff = double(xv) - double(yv);
        sq[g] += diff * diff;
        ++count[g];
      }
    }
  ev.group_mse.resize(sq.size());
  for (size_t g = 0; g < sq.size(); ++g) ev.group_mse[g] = count[g] ? sq[g] / double(count[g]) : 0.0;

  // Histograms: original and dequantized over one shared range so they overlay; error on its own.
  kernels::MinMax xr, yr;
  k.minmax_f32(x.values.data(), x.values.size(), &xr);
  k.minmax_f32(y.data(), y.size(), &yr);
  const float lo = std::min(xr.min, yr.min), hi = std::max(xr.max, yr.max);
  const int bins = q.options.histogram_bins;
  ev.original = histogram(x.values, lo, hi, bins);
  ev.dequantized = histogram(y, lo, hi, bins);
  std::vector<float> err(y.size());
  for (size_t i = 0; i < err.size(); ++i) err[i] = y[i] - x.values[i];
  kernels::MinMax er;
  k.minmax_f32(err.data(), err.size(), &er);
  ev.error = histogram(err, er.min, er.max, bins);
  return ev;
}

}  // namespace qplay
