// The non-uniform and floating-point elements behind --dtype nf4|fp8_*|mx*|pow2|kmeans...: each
// param group of the granularity plan gets a scale (or a codebook) and every element a uint8 code,
// using the tested building blocks (minifloat, lut, mx, pow2, kmeans). Formulas: docs/SCHEMES.md
// section 4; the formats themselves: docs/FLOAT_FORMATS.md.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "driver.hpp"
#include "qplay/elements.hpp"
#include "qplay/error.hpp"
#include "qplay/kmeans.hpp"
#include "qplay/lut.hpp"
#include "qplay/minifloat.hpp"
#include "qplay/mx.hpp"
#include "qplay/pow2.hpp"
#include "qplay/registry.hpp"

namespace qplay {
namespace {

// The run's row when it is of `family`, else nullptr.
const CodeFormat* element_row(const QuantOptions& o, Family family) {
  return o.code.is(family) ? &o.code.format() : nullptr;
}

const minifloat::Format& minifloat_of(const QuantOptions& o) {
  if (const CodeFormat* row = element_row(o, Family::minifloat)) return *row->minifloat;
  throw Error("'" + o.code.name() + "' is not a small-float element");
}

minifloat::Rounding element_rounding(const QuantOptions& o) {
  return o.rounding == RoundingMode::half_away ? minifloat::Rounding::half_away : minifloat::Rounding::half_even;
}

// Largest finite |t| that rounds to at most max_value: the midpoint to the next grid value above
// max (one more step of the top binade's spacing). A tie at the midpoint rounds away (half-away)
// or to the even mantissa: up when max's own mantissa is odd.
bool overflows(float t, const minifloat::Format& f, minifloat::Rounding rounding) {
  const float max = minifloat::max_value(f);
  int e = 0;
  std::frexp(max, &e);  // max = m * 2^e, m in [0.5, 1): the top binade is 2^(e-1)
  const float limit = max + std::ldexp(1.0f, e - 2 - f.man_bits);
  const float a = std::fabs(t);
  if (a != limit) return a > limit;
  return rounding == minifloat::Rounding::half_away || (f.max_code() & 1u);
}

// Finite amax of every group (0 when a group holds no finite value).
std::vector<float> group_amax(const GroupStats& st) {
  std::vector<float> amax(st.min.size());
  for (size_t g = 0; g < amax.size(); ++g)
    amax[g] = st.min[g] <= st.max[g] ? std::max(std::fabs(st.min[g]), std::fabs(st.max[g])) : 0.0f;
  return amax;
}

// Element indices grouped by param group, each group in memory order (MX blocks and k-means fits
// need a group's values together).
struct Members {
  std::vector<int64_t> offset, index;
};
Members members_of(const GranularityPlan& p) {
  Members m;
  m.offset.assign(size_t(p.param_count) + 1, 0);
  detail::for_each_element(p, [&](int64_t, int64_t g) { ++m.offset[size_t(g) + 1]; });
  for (size_t g = 1; g < m.offset.size(); ++g) m.offset[g] += m.offset[g - 1];
  m.index.resize(size_t(m.offset.back()));
  std::vector<int64_t> cursor(m.offset.begin(), m.offset.end() - 1);
  detail::for_each_element(p, [&](int64_t e, int64_t g) { m.index[size_t(cursor[size_t(g)]++)] = e; });
  return m;
}

// A group is a full block when the plan is blockwise and the block is not the axis' tail.
bool full_block(const GranularityPlan& p, int64_t g) {
  if (p.granularity != Granularity::block) return true;
  const int64_t nb = (p.dim + p.block - 1) / p.block;
  const int64_t b = (g / p.inner) % nb;
  return (b + 1) * p.block <= p.dim;
}

// --double-quant (apply_profile allowed it for this kind): the codes below use the applied scales.
void double_quantize(Quantized& q) {
  if (q.options.double_quant) q.scale_quant = double_quantize_scales(q.params.scale);
}

// --profile bnb: bitsandbytes quantize_4bit itself (lut.hpp, tested against torch), over the
// flattened tensor. The plan is that of a 1-D view [n] in blocks of B, so scale.npy is the
// per-block absmax vector bitsandbytes stores.
Quantized quantize_bnb(const TensorViewF32& x, const QuantOptions& o) {
  Quantized q;
  q.options = o;
  const int64_t n = int64_t(x.values.size());
  q.plan = plan_granularity({n}, o);
  q.range = code_range(o);
  lut::Bnb4Options bo;
  // The row's table says which of bitsandbytes' two types this is.
  bo.type = o.code.format().codebook.data() == lut::kBnbFp4 ? lut::Bnb4Type::fp4 : lut::Bnb4Type::nf4;
  bo.blocksize = size_t(o.block_size);
  bo.double_quant = o.double_quant;
  lut::Bnb4Quantized r = lut::bnb_quantize_4bit(x.values.data(), x.values.size(), bo);
  const lut::Codebook& book = element_codebook(o);
  q.codebook = book.values();
  q.codebook_shape = {int64_t(book.size())};
  q.params.shape = q.plan.param_shape;
  q.params.scale = o.double_quant ? r.absmax_used : r.absmax;
  q.params.zero_point.assign(q.params.scale.size(), 0.0f);
  q.group_stats = detail::group_minmax(x.values, q.plan);
  q.codes = make_tensor(DType::u8, x.shape);
  std::copy(r.codes.begin(), r.codes.end(), q.codes.data<uint8_t>());
  q.packed = std::move(r.packed);
  if (o.double_quant) {
    q.scale_quant.scheme = "bnb-dynamic";
    q.scale_quant.super_block = 256;  // QLoRA: blocks of 256 absmax values (also for an empty tensor)
    q.scale_quant.codes = std::move(r.absmax_q.codes);
    q.scale_quant.super = std::move(r.absmax_q.absmax);
    q.scale_quant.offset = r.offset;
    q.scale_quant.codebook = lut::bnb_dynamic_codebook().values();
  }
  return q;
}

}  // namespace

const lut::Codebook& element_codebook(const QuantOptions& o) {
  // One Codebook per lut row of the registry (nf4, fp4, iq4_nl), built from the row's table once.
  static const std::vector<std::pair<const CodeFormat*, lut::Codebook>> books = [] {
    std::vector<std::pair<const CodeFormat*, lut::Codebook>> all;
    for (const CodeFormat& row : code_formats())
      if (row.family == Family::lut) all.emplace_back(&row, lut::Codebook(row.codebook.data(), row.codebook.size()));
    return all;
  }();
  const CodeFormat* row = element_row(o, Family::lut);
  for (const auto& [r, book] : books)
    if (r == row) return book;
  throw Error("'" + o.code.name() + "' is not a lookup-table element");
}

const minifloat::Format* element_float_format(const QuantOptions& o) {
  if (o.code.is(Family::minifloat)) return &minifloat_of(o);
  if (o.code.is(Family::mx)) return mx::element_info(element_mx(o)).format;
  return nullptr;
}

mx::Element element_mx(const QuantOptions& o) {
  if (const CodeFormat* row = element_row(o, Family::mx)) return row->mx_element;
  throw Error("'" + o.code.name() + "' is not an MX element");
}

Quantized quantize_elements(const TensorViewF32& x, const QuantOptions& o) {
  if (o.code.is(Family::integer)) throw Error("quantize_elements: --dtype " + o.code.name() + " is an integer type");
  if (shape_elements(x.shape) != int64_t(x.values.size()))
    throw Error("the input has shape " + shape_to_string(x.shape) + " but " + std::to_string(x.values.size()) +
                " values");
  if (o.code.is(Family::ggml)) return detail::quantize_ggml(x, o);
  if (o.profile == Profile::bnb) return quantize_bnb(x, o);
  Quantized q;
  q.options = o;
  q.plan = plan_granularity(x.shape, o);
  q.range = code_range(o);
  const GranularityPlan& p = q.plan;
  const size_t groups = size_t(p.param_count);
  q.params.shape = p.param_shape;
  q.params.scale.assign(groups, 1.0f);
  q.params.zero_point.assign(groups, 0.0f);
  q.group_stats = detail::group_minmax(x.values, p);
  q.codes = make_tensor(DType::u8, x.shape);
  uint8_t* codes = q.codes.data<uint8_t>();
  const float* xs = x.values.data();
  const std::vector<float> amax = group_amax(q.group_stats);

  switch (o.code.family()) {
    case Family::integer:
    case Family::ggml:  // returned above
      break;
    case Family::minifloat: {
      const minifloat::Format& f = minifloat_of(o);
      const minifloat::EncodeOptions eo{o.saturate, element_rounding(o), minifloat::FnuzInf::nan};
      const float max = minifloat::max_value(f);
      for (size_t g = 0; g < groups; ++g) q.params.scale[g] = amax[g] > 0 ? amax[g] / max : 1.0f;
      double_quantize(q);
      detail::for_each_element(p, [&](int64_t e, int64_t g) {
        const float t = xs[e] / q.params.scale[size_t(g)];
        if (std::isfinite(t) && overflows(t, f, eo.rounding)) ++q.saturated;
        codes[e] = minifloat::encode(t, f, eo);
      });
      break;
    }
    case Family::lut: {
      const lut::Codebook& book = element_codebook(o);
      q.codebook = book.values();
      q.codebook_shape = {int64_t(book.size())};
      // bitsandbytes' default backend: a full block multiplies by 1 / max(absmax, 1e-38), its tail
      // block divides by max(absmax, 1e-38); both clamp to [-1, 1] and send ties to the lower code.
      std::vector<float> inverse(groups), divisor(groups);
      std::copy(amax.begin(), amax.end(), q.params.scale.begin());
      double_quantize(q);
      for (size_t g = 0; g < groups; ++g) {
        divisor[g] = std::max(q.params.scale[g], 1e-38f);
        inverse[g] = 1.0f / divisor[g];
      }
      std::vector<uint8_t> full(groups);
      for (size_t g = 0; g < groups; ++g) full[g] = full_block(p, int64_t(g));
      detail::for_each_element(p, [&](int64_t e, int64_t g) {
        const float v = xs[e];
        float t = full[size_t(g)] ? v * inverse[size_t(g)] : v / divisor[size_t(g)];
        if (!(t != t)) t = std::min(std::max(t, -1.0f), 1.0f);
        codes[e] = book.nearest(t, lut::Tie::lower);
      });
      break;
    }
    case Family::mx: {
      mx::Options mo;
      mo.element = element_mx(o);
      mo.rounding = element_rounding(o);
      mo.scale = o.scale_rule == ScaleRule::rceil ? mx::ScaleRule::rceil : mx::ScaleRule::floor;
      mo.block = size_t(p.block);
      const Members m = members_of(p);
      q.scale_codes.assign(groups, 0);
      std::vector<float> values;
      for (size_t g = 0; g < groups; ++g) {
        const int64_t begin = m.offset[g], end = m.offset[g + 1];
        values.resize(size_t(end - begin));
        for (int64_t k = begin; k < end; ++k) values[size_t(k - begin)] = xs[m.index[size_t(k)]];
        const mx::Quantized b = mx::quantize(values.data(), values.size(), mo);
        q.scale_codes[g] = b.scales.empty() ? 0 : b.scales[0];
        q.params.scale[g] = minifloat::decode_e8m0(q.scale_codes[g]);
        q.saturated += b.saturated;
        for (int64_t k = begin; k < end; ++k) codes[m.index[size_t(k)]] = b.codes[size_t(k - begin)];
      }
      break;
    }
    case Family::pow2: {
      pow2::Options po;
      po.bits = o.code.bits;
      const int levels = 1 << o.code.bits;
      q.codebook.resize(size_t(levels));
      for (int c = 0; c < levels; ++c) q.codebook[size_t(c)] = pow2::decode(uint8_t(c), po);
      q.codebook_shape = {levels};
      for (size_t g = 0; g < groups; ++g) q.params.scale[g] = amax[g] > 0 ? amax[g] : 1.0f;
      double_quantize(q);
      detail::for_each_element(p, [&](int64_t e, int64_t g) {
        po.scale = q.params.scale[size_t(g)];
        codes[e] = pow2::encode(xs[e], po);
      });
      break;
    }
    case Family::kmeans: {
      kmeans::Options ko;
      ko.bits = o.code.bits;
      const size_t k = size_t(1) << o.code.bits;
      const Members m = members_of(p);
      q.codebook.assign(groups * k, 0.0f);
      q.codebook_shape = {int64_t(groups), int64_t(k)};
      std::vector<float> values;
      for (size_t g = 0; g < groups; ++g) {
        const int64_t begin = m.offset[g], end = m.offset[g + 1];
        values.resize(size_t(end - begin));
        for (int64_t i = begin; i < end; ++i) values[size_t(i - begin)] = xs[m.index[size_t(i)]];
        const kmeans::Result r = kmeans::fit(values.data(), values.size(), ko);
        std::copy(r.codebook.begin(), r.codebook.end(), q.codebook.begin() + ptrdiff_t(g * k));
        for (int64_t i = begin; i < end; ++i) codes[m.index[size_t(i)]] = r.codes[size_t(i - begin)];
      }
      break;
    }
  }
  return q;
}

std::vector<float> dequantize_elements(const Quantized& q) {
  const QuantOptions& o = q.options;
  const size_t n = size_t(q.codes.elements());
  std::vector<float> y(n);
  const uint8_t* codes = q.codes.data<uint8_t>();
  const std::vector<float>& s = q.params.scale;
  switch (o.code.family()) {
    case Family::integer:
      throw Error("dequantize_elements: --dtype " + o.code.name() + " is an integer type");
    case Family::ggml:
      return detail::dequantize_ggml(q);
    case Family::minifloat: {
      const minifloat::Format& f = minifloat_of(o);
      detail::for_each_element(q.plan, [&](int64_t e, int64_t g) {
        y[size_t(e)] = minifloat::decode(codes[e], f) * s[size_t(g)];
      });
      break;
    }
    case Family::lut:
      detail::for_each_element(q.plan, [&](int64_t e, int64_t g) {
        y[size_t(e)] = q.codebook[codes[e]] * s[size_t(g)];
      });
      break;
    case Family::mx: {
      const mx::Element el = element_mx(o);
      detail::for_each_element(q.plan, [&](int64_t e, int64_t g) {
        y[size_t(e)] = mx::decode_element(codes[e], el) * minifloat::decode_e8m0(q.scale_codes[size_t(g)]);
      });
      break;
    }
    case Family::pow2: {
      pow2::Options po;
      po.bits = o.code.bits;
      detail::for_each_element(q.plan, [&](int64_t e, int64_t g) {
        po.scale = s[size_t(g)];
        y[size_t(e)] = pow2::decode(codes[e], po);
      });
      break;
    }
    case Family::kmeans: {
      const size_t k = size_t(1) << o.code.bits;
      detail::for_each_element(q.plan, [&](int64_t e, int64_t g) {
        y[size_t(e)] = q.codebook[size_t(g) * k + codes[e]];
      });
      break;
    }
  }
  return y;
}

std::vector<uint8_t> pack_nibbles(const Tensor& codes, PackOrder order) {
  if (codes.dtype != DType::u8 && codes.dtype != DType::i8)
    throw Error("--pack packs 8-bit code tensors (got " + std::string(dtype_name(codes.dtype)) + ")");
  const size_t n = size_t(codes.elements());
  const uint8_t* c = codes.bytes.data();
  // Signed codes keep their two's complement low nibble (ONNX int4 packing).
  const auto nib = [&](size_t i) -> uint8_t { return i < n ? uint8_t(c[i] & 0x0F) : uint8_t(0); };
  std::vector<uint8_t> out;
  switch (order) {
    case PackOrder::none:
      break;
    case PackOrder::low_first:
    case PackOrder::high_first: {
      out.resize(n / 2 + n % 2);
      const int first = order == PackOrder::low_first ? 0 : 4;
      for (size_t b = 0; b < out.size(); ++b)
        out[b] = uint8_t((nib(2 * b) << first) | (nib(2 * b + 1) << (4 - first)));
      break;
    }
    case PackOrder::ggml: {
      // Per 32 codes 16 bytes: byte j = code j (low nibble) | code j + 16 (high nibble), as
      // Q4_0 / IQ4_NL / MXFP4 store them; a partial last group is padded with code 0.
      const size_t groups = (n + 31) / 32;
      out.resize(groups * 16);
      for (size_t g = 0; g < groups; ++g)
        for (size_t j = 0; j < 16; ++j) out[g * 16 + j] = uint8_t(nib(g * 32 + j) | (nib(g * 32 + j + 16) << 4));
      break;
    }
    case PackOrder::gptq:
    case PackOrder::awq: {
      // One little-endian int32 per 8 codes (the tail word padded with code 0). GPTQ puts code j
      // of a word in nibble slot j; AWQ in slot kAwqSlot[j] (AutoAWQ's reverse order map).
      constexpr int kAwqSlot[8] = {0, 4, 1, 5, 2, 6, 3, 7};
      const size_t words = (n + 7) / 8;
      out.assign(words * 4, 0);
      for (size_t w = 0; w < words; ++w) {
        uint32_t word = 0;
        for (int j = 0; j < 8; ++j) {
          const int slot = order == PackOrder::gptq ? j : kAwqSlot[j];
          word |= uint32_t(nib(w * 8 + size_t(j))) << (4 * slot);
        }
        for (int b = 0; b < 4; ++b) out[w * 4 + size_t(b)] = uint8_t(word >> (8 * b));
      }
      break;
    }
  }
  return out;
}

}  // namespace qplay
