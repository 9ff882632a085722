// The element profiles and double quantization: --profile bnb equals bitsandbytes' quantize_4bit
// (lut.hpp, tested against torch in lut_test.cpp) bit for bit, codes, packed bytes, absmax and the
// QLoRA double quantization included; --profile mx against custom MX runs on the semantics.md C17
// vectors; the generic --double-quant against a naive loop; the errors naming both options.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "qplay/elements.hpp"
#include "qplay/error.hpp"
#include "qplay/export.hpp"
#include "qplay/lut.hpp"
#include "qplay/options.hpp"
#include "qplay/quantize.hpp"
#include "test_util.hpp"

using namespace qplay;
using qplay_test::lcg_values;

namespace {

QuantOptions profiled(Profile p, const std::string& dtype, ExplicitOptions x = {}) {
  QuantOptions o;
  o.profile = p;
  if (!dtype.empty()) {
    o.code = parse_dtype(dtype);
    x.dtype = true;
  }
  apply_profile(o, x);
  return o;
}

const NpzMember* member(const std::vector<NpzMember>& extra, const std::string& name) {
  for (const NpzMember& m : extra)
    if (m.name == name) return &m;
  return nullptr;
}

std::vector<uint8_t> bytes_of(const NpzMember* m) { return m ? m->tensor.bytes : std::vector<uint8_t>{}; }

std::vector<float> floats_of(const NpzMember* m) {
  std::vector<float> v;
  if (!m) return v;
  v.resize(m->tensor.bytes.size() / 4);
  std::memcpy(v.data(), m->tensor.bytes.data(), m->tensor.bytes.size());
  return v;
}

}  // namespace

TEST_CASE("profile bnb is bitsandbytes quantize_4bit over the flattened tensor") {
  // 7 x 29 = 203 values: an odd count (bnb pads the last byte with the code of 0.0) and a tail
  // block; the rows do not line up with the blocks, so only flattening gives bnb's blocks.
  const std::vector<float> x = lcg_values(203, 11, 5);
  for (const char* dtype : {"nf4", "fp4"})
    for (int64_t block : {int64_t(32), int64_t(64), int64_t(128)})
      for (bool dq : {false, true}) {
        CAPTURE(dtype);
        CAPTURE(block);
        CAPTURE(dq);
        ExplicitOptions x_set;
        x_set.block_size = true;
        QuantOptions o;
        o.profile = Profile::bnb;
        o.code = parse_dtype(dtype);
        x_set.dtype = true;
        o.block_size = block;
        o.double_quant = dq;
        apply_profile(o, x_set);
        const Quantized q = quantize_dynamic({{7, 29}, x}, o);

        lut::Bnb4Options bo;
        bo.type = std::string(dtype) == "nf4" ? lut::Bnb4Type::nf4 : lut::Bnb4Type::fp4;
        bo.blocksize = size_t(block);
        bo.double_quant = dq;
        const lut::Bnb4Quantized ref = lut::bnb_quantize_4bit(x.data(), x.size(), bo);

        CHECK(q.codes.shape == Shape{7, 29});
        const uint8_t* codes = q.codes.data<uint8_t>();
        for (size_t i = 0; i < x.size(); ++i) REQUIRE(codes[i] == ref.codes[i]);
        CHECK(q.params.shape == Shape{int64_t(ref.absmax.size())});
        CHECK(q.params.scale == (dq ? ref.absmax_used : ref.absmax));
        const std::vector<NpzMember> extra = extra_members(q);
        CHECK(bytes_of(member(extra, "packed.npy")) == ref.packed);
        // bnb's NF4 padding nibble is the code of 0.0 (7), not 0: the generic packer differs there.
        if (bo.type == lut::Bnb4Type::nf4)
          CHECK(ref.packed.back() != pack_nibbles(q.codes, PackOrder::high_first).back());

        std::vector<float> y_ref(x.size());
        lut::bnb_dequantize_4bit(ref, y_ref.data());
        CHECK(dequantize(q) == y_ref);

        if (dq) {
          CHECK(q.scale_quant.scheme == "bnb-dynamic");
          CHECK(q.scale_quant.offset == ref.offset);
          CHECK(q.scale_quant.codes == ref.absmax_q.codes);
          CHECK(q.scale_quant.super == ref.absmax_q.absmax);
          CHECK(bytes_of(member(extra, "scale_codes.npy")) == ref.absmax_q.codes);
          CHECK(floats_of(member(extra, "scale_super.npy")) == ref.absmax_q.absmax);
          const std::vector<float> map = floats_of(member(extra, "scale_codebook.npy"));
          REQUIRE(map.size() == 256);
          for (size_t i = 0; i < 256; ++i) CHECK(map[i] == lut::bnb_dynamic_map()[i]);
        } else {
          CHECK(q.scale_quant.scheme.empty());
          CHECK(member(extra, "scale_codes.npy") == nullptr);
        }
      }
}

TEST_CASE("profile bnb defaults and its bits per element") {
  const QuantOptions o = profiled(Profile::bnb, "");
  CHECK(o.code.name() == "nf4");
  CHECK(o.granularity == Granularity::block);
  CHECK(o.block_size == 64);
  CHECK(o.pack == PackOrder::high_first);
  // 4096 values: 64 blocks. Plain: 4 + 32 / 64 = 4.5 bits. QLoRA: 4 + 8 / 64 + (32 + 32) / 4096.
  const std::vector<float> x = lcg_values(4096, 5, 5);
  const Quantized plain = quantize_dynamic({{4096}, x}, o);
  QuantOptions dq_o = o;
  dq_o.double_quant = true;
  const Quantized dq = quantize_dynamic({{4096}, x}, dq_o);
  const Evaluation ep = evaluate({{4096}, x}, plain, dequantize(plain));
  const Evaluation ed = evaluate({{4096}, x}, dq, dequantize(dq));
  CHECK(ep.metrics.bits_per_element == 4.5);
  CHECK(ed.metrics.bits_per_element == 4.0 + 8.0 / 64 + 64.0 / 4096);
}

TEST_CASE("profile bnb and mx refuse what contradicts them naming both") {
  const auto fails = [](Profile p, QuantOptions o, ExplicitOptions x, const std::string& want) {
    o.profile = p;
    CHECK_THROWS_WITH_AS(apply_profile(o, x), doctest::Contains(want.c_str()), Error);
  };
  QuantOptions o;
  ExplicitOptions x;
  x.dtype = true;
  o.code = parse_dtype("int4");
  fails(Profile::bnb, o, x, "--profile bnb quantizes --dtype nf4 or fp4 (bitsandbytes quantize_4bit); it conflicts with --dtype int4");
  o.code = parse_dtype("nf4");
  QuantOptions p = o;
  p.pack = PackOrder::low_first;
  fails(Profile::bnb, p, x, "it conflicts with --pack low-first");
  p = o;
  p.block_size = 48;
  fails(Profile::bnb, p, x, "it conflicts with --block-size 48");
  p.block_size = 8192;
  fails(Profile::bnb, p, x, "it conflicts with --block-size 8192");
  p = o;
  p.granularity = Granularity::channel;
  ExplicitOptions xg = x;
  xg.granularity = true;
  fails(Profile::bnb, p, xg, "it conflicts with --granularity channel");
  ExplicitOptions xa = x;
  xa.axis = true;
  fails(Profile::bnb, o, xa, "it conflicts with --axis 0");
  p = o;
  p.rounding = RoundingMode::half_away;
  ExplicitOptions xr = x;
  xr.rounding = true;
  fails(Profile::bnb, p, xr, "it conflicts with --rounding half-away");

  o.code = parse_dtype("mxfp4");
  fails(Profile::mx, p, x, "it conflicts with --dtype nf4");
  p = o;
  p.rounding = RoundingMode::half_away;
  fails(Profile::mx, p, xr, "--profile mx rounds elements half-to-even (OCP MX v1.0); it conflicts with --rounding half-away");
  p = o;
  p.scale_rule = ScaleRule::rceil;
  fails(Profile::mx, p, x, "it conflicts with --scale-rule rceil");
  p = o;
  p.saturate = false;
  ExplicitOptions xs = x;
  xs.saturate = true;
  fails(Profile::mx, p, xs, "it conflicts with --no-saturate");
  // Element dtypes keep refusing the integer profiles; bnb and mx keep to their own dtypes.
  o.code = parse_dtype("fp8_e4m3fn");
  fails(Profile::onnx, o, x, "has no --profile onnx");
  fails(Profile::bnb, o, x, "it conflicts with --dtype fp8_e4m3fn");
}

TEST_CASE("profile mx fixes FLOOR and half-even where custom MX runs may choose (semantics C17)") {
  const QuantOptions mx = profiled(Profile::mx, "");
  CHECK(mx.code.name() == "mxfp8_e4m3");
  CHECK(mx.block_size == 32);
  // One E2M1 block: amax 7 (FLOOR: X = 1, 7 saturates to 6; RCEIL: X = 2) and the tie 1.25
  // (half-even -> 1.0, half-away -> 1.5).
  std::vector<float> x(32, 0.0f);
  x[0] = 7.0f;
  x[1] = 1.25f;
  const auto run = [&](QuantOptions o) {
    const Quantized q = quantize_dynamic({{32}, x}, o);
    return std::pair{q.scale_codes.at(0), dequantize(q)};
  };
  const QuantOptions spec = profiled(Profile::mx, "mxfp4");
  const auto [scale_spec, y_spec] = run(spec);
  CHECK(scale_spec == 127);
  CHECK(y_spec[0] == 6.0f);
  CHECK(y_spec[1] == 1.0f);

  QuantOptions rceil = profiled(Profile::custom, "mxfp4");
  rceil.scale_rule = ScaleRule::rceil;
  const auto [scale_rceil, y_rceil] = run(rceil);
  CHECK(scale_rceil == 128);
  CHECK(y_rceil[0] == 8.0f);  // 7 / 2 = 3.5 ties to 4 (even mantissa) -> 8

  QuantOptions away = profiled(Profile::custom, "mxfp4");
  away.rounding = RoundingMode::half_away;
  const auto [scale_away, y_away] = run(away);
  CHECK(scale_away == 127);
  CHECK(y_away[1] == 1.5f);
  // The custom default is the spec's behaviour.
  CHECK(run(profiled(Profile::custom, "mxfp4")).second == y_spec);
}

namespace {

// The generic double quantization written out independently: per 256 scales, super = max / 255 and
// code = s / super rounded half to even by hand, at least 1 for a positive scale.
struct NaiveDq {
  std::vector<uint8_t> codes;
  std::vector<float> super, applied;
};
NaiveDq naive_double_quant(const std::vector<float>& s) {
  NaiveDq r;
  for (size_t first = 0; first < s.size(); first += 256) {
    const size_t last = std::min(s.size(), first + 256);
    float max = 0.0f;
    for (size_t i = first; i < last; ++i) max = s[i] > max ? s[i] : max;
    const float super = max / 255.0f;
    r.super.push_back(super);
    for (size_t i = first; i < last; ++i) {
      const float t = s[i] / super;
      float c = std::floor(t);
      const float frac = t - c;
      if (frac > 0.5f || (frac == 0.5f && std::fmod(c, 2.0f) != 0.0f)) c += 1.0f;
      if (c > 255.0f) c = 255.0f;
      if (c < 1.0f && s[i] > 0.0f) c = 1.0f;
      r.codes.push_back(uint8_t(c));
      r.applied.push_back(c * super);
    }
  }
  return r;
}

}  // namespace

TEST_CASE("double quant of integer scales equals a naive loop and the codes use the applied scales") {
  // 300 channels (two super-blocks, the second of 44) of 24 values with very different ranges.
  const int64_t channels = 300, width = 24;
  std::vector<float> x = lcg_values(size_t(channels * width), 9, 5);
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t i = 0; i < width; ++i) x[size_t(c * width + i)] *= 0.01f + float(c % 37) * 0.3f;
  for (Mode mode : {Mode::symmetric, Mode::asymmetric}) {
    CAPTURE(int(mode));
    QuantOptions o;
    o.mode = mode;
    o.granularity = Granularity::channel;
    apply_profile(o, {});
    const TensorViewF32 view{{channels, width}, x};
    const Quantized plain = quantize_dynamic(view, o);
    QuantOptions dq_o = o;
    dq_o.double_quant = true;
    apply_profile(dq_o, {});
    const Quantized dq = quantize_dynamic(view, dq_o);

    const NaiveDq want = naive_double_quant(plain.params.scale);
    CHECK(dq.scale_quant.scheme == "uint8");
    CHECK(dq.scale_quant.codes == want.codes);
    CHECK(dq.scale_quant.super == want.super);
    CHECK(dq.params.scale == want.applied);
    CHECK(dq.params.zero_point == plain.params.zero_point);
    // Codes: the plain quantizer given the applied scales.
    QuantParams applied = plain.params;
    applied.scale = want.applied;
    const Quantized ref = quantize(view, applied, o);
    CHECK(dq.codes.bytes == ref.codes.bytes);

    const std::vector<NpzMember> extra = extra_members(dq);
    CHECK(bytes_of(member(extra, "scale_codes.npy")) == want.codes);
    CHECK(floats_of(member(extra, "scale_super.npy")) == want.super);

    // Its effect: fewer bits per element, no less error (computed, not pinned).
    const Evaluation ep = evaluate(view, plain, dequantize(plain));
    const Evaluation ed = evaluate(view, dq, dequantize(dq));
    const double zero_bits = mode == Mode::asymmetric ? 8.0 : 0.0;
    CHECK(ep.metrics.bits_per_element == doctest::Approx(8.0 + (32.0 + zero_bits) / double(width)).epsilon(1e-12));
    CHECK(ed.metrics.bits_per_element ==
          doctest::Approx(8.0 + (8.0 + zero_bits) / double(width) + 64.0 / double(channels * width)).epsilon(1e-12));
    CHECK(ed.metrics.bits_per_element < ep.metrics.bits_per_element);
    CHECK(ed.metrics.mse >= ep.metrics.mse);
  }
}

TEST_CASE("double quant of element scales (nf4 and fp8 blocks)") {
  const std::vector<float> x = lcg_values(64 * 40, 4, 5);
  for (const char* dtype : {"nf4", "fp8_e4m3fn", "pow2"}) {
    CAPTURE(dtype);
    QuantOptions o;
    o.code = parse_dtype(dtype);
    o.granularity = Granularity::block;
    o.block_size = 16;
    o.axis = 1;
    ExplicitOptions xg;
    xg.granularity = true;
    apply_profile(o, xg);
    const TensorViewF32 view{{40, 64}, x};
    const Quantized plain = quantize_dynamic(view, o);
    o.double_quant = true;
    const Quantized dq = quantize_dynamic(view, o);
    const NaiveDq want = naive_double_quant(plain.params.scale);
    CHECK(dq.scale_quant.codes == want.codes);
    CHECK(dq.params.scale == want.applied);
    const Evaluation ep = evaluate(view, plain, dequantize(plain));
    const Evaluation ed = evaluate(view, dq, dequantize(dq));
    CHECK(ed.metrics.bits_per_element < ep.metrics.bits_per_element);
    CHECK(ed.metrics.mse >= ep.metrics.mse);
  }
}

TEST_CASE("double quant refuses runs without per-group float scales") {
  QuantOptions o;
  o.double_quant = true;
  CHECK_THROWS_WITH_AS(apply_profile(o, {}), doctest::Contains("--granularity tensor has a single scale"), Error);
  QuantOptions m;
  m.code = parse_dtype("mxfp4");
  m.double_quant = true;
  CHECK_THROWS_WITH_AS(apply_profile(m, {}), doctest::Contains("already 8-bit E8M0"), Error);
  QuantOptions k;
  k.code = parse_dtype("kmeans");
  k.granularity = Granularity::channel;
  k.double_quant = true;
  ExplicitOptions xg;
  xg.granularity = true;
  CHECK_THROWS_WITH_AS(apply_profile(k, xg), doctest::Contains("codebook per group"), Error);
  std::vector<float> bad = {1.0f, -2.0f};
  CHECK_THROWS_WITH_AS(double_quantize_scales(bad), doctest::Contains("non-negative"), Error);
  // All-zero scales stay zero (code 0, super 0).
  std::vector<float> zeros(3, 0.0f);
  const ScaleQuant z = double_quantize_scales(zeros);
  CHECK(z.codes == std::vector<uint8_t>(3, 0));
  CHECK(z.super == std::vector<float>{0.0f});
  CHECK(zeros == std::vector<float>(3, 0.0f));
}
