// A --format run: the tensor quantized by ggml's block quantizer row by row along its last dim
// (llama.cpp's layout: ne[0] is the innermost dim), then the blocks read back as per-element codes
// and per-sub-block scale and offset (ggml_decompose) so the bundle shows what each byte means.
// The dequantized values come from ggml_dequantize itself, bit-exact with llama.cpp.
#include <cmath>
#include <string>

#include "driver.hpp"
#include "qplay/error.hpp"
#include "qplay/ggml.hpp"

namespace qplay::detail {
namespace {

std::string describe(float v) { return v != v ? "NaN" : v > 0 ? "inf" : "-inf"; }

}  // namespace

Quantized quantize_ggml(const TensorViewF32& x, const QuantOptions& o) {
  const GgmlType t = o.code.ggml_type();
  const std::string format = "--format " + o.code.name();
  const int64_t n = int64_t(x.values.size());
  const int64_t block = int64_t(ggml_block_elems(t));
  const int64_t row = x.shape.empty() ? 1 : x.shape.back();
  if (x.shape.empty() || row % block != 0)
    throw Error(format + " quantizes rows along the last dim in blocks of " + std::to_string(block) + ": shape " +
                shape_to_string(x.shape) + (x.shape.empty() ? " has no last dim" : " has rows of " + std::to_string(row)) +
                " (pad or reshape so the last dim is a multiple of " + std::to_string(block) + ")");
  // A clear message with the flat index, before ggml (whose result for NaN or inf is undefined).
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(x.values[size_t(i)]))
      throw Error(format + ": element " + std::to_string(i) + " of shape " + shape_to_string(x.shape) + " is " +
                  describe(x.values[size_t(i)]) + "; ggml block formats need finite values");

  Quantized q;
  q.options = o;
  q.plan = plan_granularity(x.shape, o);
  q.range = code_range(o);
  q.group_stats = group_minmax(x.values, q.plan);
  const size_t row_bytes = row == 0 ? 0 : ggml_row_bytes(t, size_t(row));
  const int64_t rows = row == 0 ? 0 : n / row;
  q.blocks.resize(size_t(rows) * row_bytes);
  // One call per row as llama.cpp quantizes a tensor; only IQ4_NL's all-zero blocks could tell a
  // longer call apart (docs/GGML_FORMATS.md), so the other formats take the tensor in one call.
  if (t == GgmlType::iq4_nl) {
    for (int64_t r = 0; r < rows; ++r)
      ggml_quantize_into(t, x.values.subspan(size_t(r * row), size_t(row)),
                         std::span<uint8_t>(q.blocks).subspan(size_t(r) * row_bytes, row_bytes));
  } else if (n > 0) {
    ggml_quantize_into(t, x.values, q.blocks);
  }
  GgmlDecomposed d = ggml_decompose(t, q.blocks, size_t(n));
  q.codes.dtype = ggml_codes_signed(t) ? DType::i8 : DType::u8;
  q.codes.shape = x.shape;
  q.codes.bytes = std::move(d.codes);
  q.params.shape = q.plan.param_shape;
  q.params.scale = std::move(d.scale);
  q.params.zero_point.assign(q.params.scale.size(), 0.0f);
  if (ggml_has_offset(t)) q.offset = std::move(d.offset);
  const std::span<const int8_t> book = ggml_codebook(t);
  if (!book.empty()) {
    q.codebook.assign(book.begin(), book.end());
    q.codebook_shape = {int64_t(book.size())};
  }
  return q;
}

std::vector<float> dequantize_ggml(const Quantized& q) {
  std::vector<float> y(size_t(q.codes.elements()));
  ggml_dequantize(q.options.code.ggml_type(), q.blocks, y);
  return y;
}

}  // namespace qplay::detail
