// Quantize and dequantize drivers: walk the granularity plan and hand contiguous runs (one param
// set) or rows (a param per element) to the kernels.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "driver.hpp"
#include "qplay/error.hpp"

namespace qplay {
namespace {

using detail::CodeKernels;
using detail::kRunThreshold;

// Visits the tensor as kernel calls: run(first_element, count, param) for one shared param set,
// row(first_element, count, first_param_of_a_contiguous_param_vector) otherwise. `expanded` holds
// per-channel params spread over one [D, inner] slice when channels are thin.
struct Walk {
  const GranularityPlan& plan;

  template <class Run, class Row, class Expand>
  void operator()(Run&& run, Row&& row, Expand&& expand) const {
    const GranularityPlan& p = plan;
    switch (p.granularity) {
      case Granularity::tensor:
        run(0, p.dim, 0);
        return;
      case Granularity::channel:
      case Granularity::group:
        if (p.inner >= kRunThreshold) {
          for (int64_t o = 0; o < p.outer; ++o)
            for (int64_t d = 0; d < p.dim; ++d) run((o * p.dim + d) * p.inner, p.inner, d / p.group);
        } else {
          // Thin channels (e.g. the last axis): spread params over one slice, reuse per outer index.
          expand();
          for (int64_t o = 0; o < p.outer; ++o) row(o * p.dim * p.inner, p.dim * p.inner, int64_t(-1));
        }
        return;
      case Granularity::block: {
        const int64_t nb = (p.dim + p.block - 1) / p.block;
        for (int64_t o = 0; o < p.outer; ++o) {
          if (p.inner == 1) {
            for (int64_t b = 0; b < nb; ++b) {
              const int64_t start = b * p.block;
              run(o * p.dim + start, std::min(p.block, p.dim - start), o * nb + b);
            }
          } else {
            for (int64_t d = 0; d < p.dim; ++d)
              row((o * p.dim + d) * p.inner, p.inner, (o * nb + d / p.block) * p.inner);
          }
        }
        return;
      }
    }
  }
};

void check_params(const QuantParams& params, const GranularityPlan& plan) {
  if (params.shape != plan.param_shape || params.scale.size() != size_t(plan.param_count) ||
      params.zero_point.size() != params.scale.size())
    throw Error("params of shape " + shape_to_string(params.shape) + " do not fit --granularity " +
                std::string(granularity_name(plan.granularity)) + " (needs " +
                shape_to_string(plan.param_shape) + ")");
}

// Spreads per-group values over a [D, inner] slice (thin channel/group case).
std::vector<float> spread(const std::vector<float>& per_group, const GranularityPlan& p) {
  std::vector<float> out(size_t(p.dim * p.inner));
  for (int64_t d = 0; d < p.dim; ++d)
    std::fill_n(out.begin() + d * p.inner, p.inner, per_group[size_t(d / p.group)]);
  return out;
}

// Builds a result vector in element order without value-initializing it first. std::vector
// zero-fills on resize, and for a 16 M element result that is a whole write pass over memory, as
// costly as the kernel's own stores (docs/PERFORMANCE.md). Instead the kernels write into a
// small stage that stays in cache, and full stages are appended to reserved storage: one copy
// replaces the zero-fill. This relies on the walk handing out elements in increasing, gap-free
// order, which it does for every granularity (outer, then channel or block, then inner).
template <class T, class Elem>
class Appender {
 public:
  Appender(std::vector<Elem>& out, size_t count) : out_(out), stage_(new T[kChunk]) {
    static_assert(sizeof(T) % sizeof(Elem) == 0);
    out_.clear();
    out_.reserve(count * kRatio);
  }
  // Calls write(offset, n, dst) for consecutive pieces of the next `count` elements. noexcept,
  // like the kernels it
  // wraps: in the wasm build (-fexceptions) a call that may throw out of a scope holding
  // destructors goes through a JS invoke trampoline, which at one call per block of 32 costs more
  // than the block's work.
  template <class Write>
  void append(int64_t count, Write&& write) noexcept {
    static_assert(noexcept(write(int64_t(0), size_t(0), static_cast<T*>(nullptr))));
    for (int64_t off = 0; off < count;) {
      const size_t n = size_t(std::min<int64_t>(int64_t(kChunk - fill_), count - off));
      write(off, n, stage_.get() + fill_);
      fill_ += n;
      off += int64_t(n);
      if (fill_ == kChunk) flush();
    }
  }
  void finish() noexcept { flush(); }

 private:
  static constexpr size_t kRatio = sizeof(T) / sizeof(Elem);
  // 16 Ki elements (16-64 KiB): few enough appends that their call overhead is noise, small
  // enough to stay in L2 between the kernel's stores and the copy.
  static constexpr size_t kChunk = 16384;
  void flush() noexcept {  // within the reserved capacity: no allocation
    const Elem* first = reinterpret_cast<const Elem*>(stage_.get());
    out_.insert(out_.end(), first, first + fill_ * kRatio);
    fill_ = 0;
  }
  std::vector<Elem>& out_;
  std::unique_ptr<T[]> stage_;  // default-initialized: nothing to zero
  size_t fill_ = 0;
};

}  // namespace

Quantized quantize(const TensorViewF32& x, const QuantParams& params, const QuantOptions& o) {
  if (!o.code.is(Family::integer))
    throw Error("--dtype " + o.code.name() + " computes its own scales; given or calibrated params apply to integer dtypes");
  if (shape_elements(x.shape) != int64_t(x.values.size()))
    throw Error("the input has shape " + shape_to_string(x.shape) + " but " +
                std::to_string(x.values.size()) + " values");
  Quantized q;
  q.options = o;
  q.plan = plan_granularity(x.shape, o);
  q.range = code_range(o);
  check_params(params, q.plan);
  q.params = params;
  // Double quantization replaces each scale by its 8-bit approximation before any code is
  // computed, so codes, dequantized values and metrics all see the scales a reader applies. The
  // integer zero points stay as computed (stored at code width).
  if (o.double_quant) q.scale_quant = double_quantize_scales(q.params.scale);
  q.codes.dtype = detail::code_dtype(o.code.int_type());
  q.codes.shape = x.shape;
  const int64_t count = int64_t(x.values.size());

  const kernels::Table& k = kernels::table();
  const kernels::QuantizeSpec spec = detail::quantize_spec(o, q.range);
  detail::KernelParams kp = detail::kernel_params(q.params, o);
  const float* xs = x.values.data();
  detail::with_code_type(q.codes.dtype, [&](auto t) {
    using T = decltype(t);
    Appender<T, uint8_t> out(q.codes.bytes, size_t(count));
    const auto run_kernel = CodeKernels<T>::quantize_run(k);
    const auto vec_kernel = CodeKernels<T>::quantize_vec(k);
    detail::KernelParams expanded;
    Walk{q.plan}(
        [&](int64_t e, int64_t n, int64_t g) {
          out.append(n, [&](int64_t off, size_t m, T* dst) noexcept {
            q.saturated += run_kernel(xs + e + off, m, kp.scale_op[size_t(g)], kp.zf[size_t(g)],
                                      kp.zi[size_t(g)], spec, uint32_t(e + off), dst);
          });
        },
        [&](int64_t e, int64_t n, int64_t g0) {
          const detail::KernelParams& src = g0 < 0 ? expanded : kp;
          const size_t at = g0 < 0 ? 0 : size_t(g0);
          out.append(n, [&](int64_t off, size_t m, T* dst) noexcept {
            q.saturated += vec_kernel(xs + e + off, m, src.scale_op.data() + at + off, src.zf.data() + at + off,
                                      src.zi.data() + at + off, spec, uint32_t(e + off), dst);
          });
        },
        [&] {
          expanded.scale_op = spread(kp.scale_op, q.plan);
          expanded.zf = spread(kp.zf, q.plan);
          expanded.zi = spread(kp.zi, q.plan);
        });
    out.finish();
  });
  return q;
}

Quantized quantize_dynamic(const TensorViewF32& x, const QuantOptions& o) {
  if (!o.code.is(Family::integer)) return quantize_elements(x, o);
  if (shape_elements(x.shape) != int64_t(x.values.size()))
    throw Error("the input has shape " + shape_to_string(x.shape) + " but " +
                std::to_string(x.values.size()) + " values");
  // One min/max pass serves both the params (minmax range) and the reported group extremes.
  const GranularityPlan plan = plan_granularity(x.shape, o);
  GroupStats stats = detail::group_minmax(x.values, plan);
  Quantized q = quantize(x, detail::compute_params(x, o, plan, &stats), o);
  q.group_stats = std::move(stats);
  return q;
}

std::vector<float> dequantize(const Quantized& q) {
  if (!q.options.code.is(Family::integer)) return dequantize_elements(q);
  const int64_t count = q.codes.elements();
  std::vector<float> y;
  Appender<float, float> out(y, size_t(count));
  const kernels::Table& k = kernels::table();
  const QuantParams& p = q.params;
  detail::with_code_type(q.codes.dtype, [&](auto t) {
    using T = decltype(t);
    const T* codes = q.codes.data<T>();
    const auto run_kernel = CodeKernels<T>::dequantize_run(k);
    const auto vec_kernel = CodeKernels<T>::dequantize_vec(k);
    std::vector<float> scale_row, zero_row;
    Walk{q.plan}(
        [&](int64_t e, int64_t n, int64_t g) {
          out.append(n, [&](int64_t off, size_t m, float* dst) noexcept {
            run_kernel(codes + e + off, m, p.scale[size_t(g)], p.zero_point[size_t(g)], dst);
          });
        },
        [&](int64_t e, int64_t n, int64_t g0) {
          const float* s = g0 < 0 ? scale_row.data() : p.scale.data() + g0;
          const float* z = g0 < 0 ? zero_row.data() : p.zero_point.data() + g0;
          out.append(n, [&](int64_t off, size_t m, float* dst) noexcept { vec_kernel(codes + e + off, m, s + off, z + off, dst); });
        },
        [&] {
          scale_row = spread(p.scale, q.plan);
          zero_row = spread(p.zero_point, q.plan);
        });
    out.finish();
  });
  return y;
}

}  // namespace qplay
