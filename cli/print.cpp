// What the CLI prints: the one-tensor summary and the `qplay info` listing.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "cli.hpp"
#include "qplay/numbers.hpp"

namespace qplay::cli {
namespace {

std::string range_of(const std::vector<float>& v) {
  if (v.empty()) return "-";
  float lo = v[0], hi = v[0];
  for (float f : v) lo = std::min(lo, f), hi = std::max(hi, f);
  return lo == hi ? shortest_text(lo) : shortest_text(lo) + " .. " + shortest_text(hi);
}

// A metadata value on one line: control characters shown as escapes, long values cut (a gguf chat
// template or tokenizer list would otherwise fill the screen).
std::string one_line(std::string_view v, size_t max = 100) {
  std::string out;
  for (unsigned char ch : v) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    if (ch == '\n') out += "\\n";
    else if (ch == '\t') out += "\\t";
    else if (ch < 0x20 || ch == 0x7f) out += '?';
    else out += static_cast<char>(ch);
  }
  return out;
}

}  // namespace

std::string fmt(double v, const char* spec) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, spec, v);
  return buf;
}

std::string human_bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = double(n);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  return u == 0 ? std::to_string(n) + " B" : fmt(v, "%.1f") + " " + units[u];
}

void print_summary(const Request& c, const RunInfo& info, const Quantized& q, const Evaluation& e,
                   size_t out_bytes) {
  const QuantOptions& o = q.options;
  const Metrics& m = e.metrics;
  std::string granularity = std::string(granularity_name(o.granularity));
  if (o.profile == Profile::bnb) granularity += " of " + std::to_string(o.block_size) + " (flattened tensor)";
  else if (o.granularity != Granularity::tensor) granularity += " (axis " + std::to_string(q.plan.axis) + ")";
  std::string element_extra;
  if (o.code.is(Family::minifloat)) element_extra = o.saturate ? ", saturate" : ", no saturate";
  if (o.code.is(Family::mx)) element_extra = ", scale rule " + std::string(scale_rule_name(o.scale_rule));
  std::string element_tail;
  if (effective_pack(o) != PackOrder::none) element_tail = ", pack " + std::string(pack_order_name(effective_pack(o)));
  if (o.profile != Profile::custom) element_tail += ", profile " + std::string(profile_name(o.profile));
  std::printf("input      %s [%s] %s %s\n", c.input.c_str(), info.input_tensor.c_str(),
              std::string(dtype_name(info.input_dtype)).c_str(), shape_to_string(info.input_shape).c_str());
  if (o.code.is(Family::ggml)) {
    std::printf("scheme     ggml %s (%d-bit codes, blocks of %zu, a scale per %zu along the last dim)%s\n",
                o.code.name().c_str(), o.code.bits, ggml_block_elems(o.code.ggml_type()), ggml_sub_block(o.code.ggml_type()),
                effective_pack(o) == PackOrder::none ? ""
                                                     : (", pack " + std::string(pack_order_name(effective_pack(o)))).c_str());
  } else if (!o.code.is(Family::integer)) {
    std::printf("scheme     %s (%s, %d-bit codes%s), per %s, rounding %s%s\n", o.code.name().c_str(),
                std::string(family_name(o.code.family())).c_str(), o.code.bits, element_extra.c_str(),
                granularity.c_str(), rounding_name(o).c_str(), element_tail.c_str());
  } else
  std::printf("scheme     %s %s%s%s, per %s, range %s, rounding %s, profile %s\n", o.code.name().c_str(),
              std::string(mode_name(o.mode)).c_str(), o.narrow ? ", narrow" : "", o.reduce_range ? ", reduce-range" : "",
              granularity.c_str(),
              (range_name(o) + (o.clip_ratio != 1.0f ? " clipped to " + shortest_text(o.clip_ratio) : "")).c_str(),
              rounding_name(o).c_str(), std::string(profile_name(o.profile)).c_str());
  std::string source = info.params_source;
  if (!info.observer.empty()) source += " (" + info.observer + ")";
  std::printf("params     %s, %zu group%s, shape %s\n", source.c_str(), q.params.scale.size(),
              q.params.scale.size() == 1 ? "" : "s", shape_to_string(q.params.shape).c_str());
  std::printf("scale      %s\n", range_of(q.params.scale).c_str());
  if (o.code.is(Family::ggml)) {
    if (!q.offset.empty()) std::printf("offset     %s\n", range_of(q.offset).c_str());
  } else {
    std::printf("zero point %s%s\n", range_of(q.params.zero_point).c_str(), q.params.float_zero_point ? " (float)" : "");
  }
  if (const ScaleQuant& dq = q.scale_quant; !dq.scheme.empty())
    std::printf("scale dq   %s: %zu uint8 codes, %zu float32 super-scale%s per %lld%s\n", dq.scheme.c_str(),
                dq.codes.size(), dq.super.size(), dq.super.size() == 1 ? "" : "s",
                static_cast<long long>(dq.super_block),
                dq.scheme == "bnb-dynamic" ? (", offset " + shortest_text(dq.offset)).c_str() : "");
  std::printf("codes      %s in [%d, %d]\n", std::string(dtype_name(q.codes.dtype)).c_str(), q.range.qmin, q.range.qmax);
  std::printf("MSE        %s (RMSE %s)\n", fmt(m.mse).c_str(), fmt(m.rmse).c_str());
  std::printf("SQNR       %s dB\n", fmt(m.sqnr_db, "%.2f").c_str());
  std::printf("max error  %s\n", fmt(m.max_abs_error).c_str());
  std::printf("clip rate  %s %% (%llu of %llu finite)\n", fmt(100.0 * m.clip_rate, "%.2f").c_str(),
              static_cast<unsigned long long>(m.saturated), static_cast<unsigned long long>(m.finite));
  std::printf("bits/elem  %s\n", fmt(m.bits_per_element, "%.4f").c_str());
  if (m.nan || m.pos_inf || m.neg_inf)
    std::printf("non-finite %llu NaN, %llu +inf, %llu -inf\n", static_cast<unsigned long long>(m.nan),
                static_cast<unsigned long long>(m.pos_inf), static_cast<unsigned long long>(m.neg_inf));
  std::printf("wrote      %s (%zu bytes)\n", c.output.c_str(), out_bytes);
}

void print_info(const FileInfo& file) {
  // Quantized gguf tensors show their ggml type (Q4_K...) and, when qplay decodes them, what they
  // load as ("Q4_K -> float32"); others show the dtype they load as.
  const auto type_of = [&](const TensorInfo& t) {
    // Stored in blocks: fewer stored bytes than the decoded elements take.
    const bool quantized = file.format == FileFormat::gguf &&
                           t.data_bytes != uint64_t(shape_elements(t.shape)) * dtype_size(t.dtype);
    if (!t.loadable) return t.stored_type;
    return quantized ? t.stored_type + " -> " + std::string(dtype_name(t.dtype)) : std::string(dtype_name(t.dtype));
  };
  size_t name_width = 4, dtype_width = 5;
  for (const auto& t : file.tensors) {
    name_width = std::max(name_width, t.name.size());
    dtype_width = std::max(dtype_width, type_of(t).size());
  }
  std::printf("%-*s  %-*s  %s\n", int(name_width), "name", int(dtype_width), "dtype", "shape");
  for (const auto& t : file.tensors)
    std::printf("%-*s  %-*s  %s\n", int(name_width), t.name.c_str(), int(dtype_width), type_of(t).c_str(),
                shape_to_string(t.shape).c_str());
  if (!file.metadata.empty()) {
    size_t key_width = 3, type_width = 4;
    for (const auto& m : file.metadata) {
      key_width = std::max(key_width, std::min<size_t>(m.key.size(), 48));
      type_width = std::max(type_width, m.type.size());
    }
    std::printf("\n%s metadata (%zu)\n", std::string(format_name(file.format)).c_str(), file.metadata.size());
    std::printf("%-*s  %-*s  %s\n", int(key_width), "key", int(type_width), "type", "value");
    for (const auto& m : file.metadata)
      std::printf("%-*s  %-*s  %s\n", int(key_width), one_line(m.key, 48).c_str(), int(type_width), m.type.c_str(),
                  one_line(m.value).c_str());
  }
}

}  // namespace qplay::cli
