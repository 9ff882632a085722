// The element dtypes through the quantizer (schemes/elements.cpp): each kind pinned to its building
// block (bitsandbytes blockwise NF4, minifloat::encode, mx::quantize), every kind on 1-D, 2-D and
// 4-D tensors per channel and per block, non-finite inputs, the --dtype spelling and the packing.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "qplay/elements.hpp"
#include "qplay/error.hpp"
#include "qplay/lut.hpp"
#include "qplay/minifloat.hpp"
#include "qplay/mx.hpp"
#include "qplay/options.hpp"
#include "qplay/quantize.hpp"
#include "test_util.hpp"

using namespace qplay;
using qplay_test::kInf;
using qplay_test::kNaN;
using qplay_test::lcg_values;

namespace {

QuantOptions element(const std::string& name, Granularity g = Granularity::tensor, int axis = 0, int64_t block = 0) {
  QuantOptions o;
  o.code = parse_dtype(name);
  o.granularity = g;
  o.axis = axis;
  o.block_size = block;
  ExplicitOptions x;
  x.granularity = g != Granularity::tensor;
  apply_profile(o, x);
  return o;
}

const char* const kAllElements[] = {"nf4",          "fp4",        "iq4_nl",     "fp8_e4m3fn", "fp8_e5m2",
                                    "fp8_e4m3fnuz", "fp8_e5m2fnuz", "fp6_e2m3", "fp6_e3m2",   "fp4_e2m1",
                                    "mxfp8_e4m3",   "mxfp8_e5m2", "mxfp6_e2m3", "mxfp6_e3m2", "mxfp4",
                                    "mxint8",       "pow2",       "kmeans"};

}  // namespace

TEST_CASE("nf4 and fp4 blockwise codes equal the bitsandbytes blockwise result for the same block size") {
  for (const lut::Bnb4Type type : {lut::Bnb4Type::nf4, lut::Bnb4Type::fp4})
  for (size_t block : {size_t(64), size_t(256)}) {
    std::vector<float> x = lcg_values(1000, 3, 7);
    for (size_t i = 128; i < 192; ++i) x[i] = 0.0f;  // an all-zero block
    const QuantOptions o = element(type == lut::Bnb4Type::nf4 ? "nf4" : "fp4", Granularity::block, 0, int64_t(block));
    const Quantized q = quantize_dynamic({{int64_t(x.size())}, x}, o);
    lut::Bnb4Options bo;
    bo.blocksize = block;
    bo.type = type;
    const lut::Bnb4Quantized ref = lut::bnb_quantize_4bit(x.data(), x.size(), bo);
    REQUIRE(q.params.scale.size() == ref.absmax.size());
    for (size_t b = 0; b < ref.absmax.size(); ++b) CHECK(q.params.scale[b] == ref.absmax[b]);
    const uint8_t* codes = q.codes.data<uint8_t>();
    for (size_t i = 0; i < x.size(); ++i) CHECK(codes[i] == ref.codes[i]);
    std::vector<float> y_ref(x.size());
    lut::bnb_dequantize_4bit(ref, y_ref.data());
    const std::vector<float> y = dequantize(q);
    for (size_t i = 0; i < x.size(); ++i) CHECK(y[i] == y_ref[i]);
    // The high-first packing is bitsandbytes' byte layout (odd counts aside).
    CHECK(pack_nibbles(q.codes, PackOrder::high_first) == ref.packed);
  }
}

TEST_CASE("fp8 per tensor codes equal minifloat encode of x over s") {
  const std::vector<float> x = lcg_values(300, 5, 7);
  float amax = 0;
  for (float v : x) amax = std::max(amax, std::fabs(v));
  for (bool saturate : {true, false}) {
    for (const char* name : {"fp8_e4m3fn", "fp8_e5m2", "fp8_e4m3fnuz", "fp6_e3m2", "fp4_e2m1"}) {
      QuantOptions o = element(name);
      o.saturate = saturate;
      const minifloat::Format& f = *element_float_format(o);
      const Quantized q = quantize_dynamic({{int64_t(x.size())}, x}, o);
      const float s = amax / minifloat::max_value(f);
      REQUIRE(q.params.scale.size() == 1);
      CHECK(q.params.scale[0] == s);
      const uint8_t* codes = q.codes.data<uint8_t>();
      const std::vector<float> y = dequantize(q);
      for (size_t i = 0; i < x.size(); ++i) {
        CHECK(codes[i] == minifloat::encode(x[i] / s, f, {saturate, minifloat::Rounding::half_even}));
        CHECK(y[i] == minifloat::decode(codes[i], f) * s);
      }
    }
  }
}

TEST_CASE("mxfp4 codes and E8M0 scales equal mx quantize along the axis") {
  const std::vector<float> x = lcg_values(4 * 70, 9, 7);
  const QuantOptions o = element("mxfp4", Granularity::tensor, -1);  // block 32 is forced
  CHECK(o.granularity == Granularity::block);
  CHECK(o.block_size == 32);
  const Quantized q = quantize_dynamic({{4, 70}, x}, o);
  CHECK(q.params.shape == Shape{4, 3});
  const std::vector<float> y = dequantize(q);
  for (size_t row = 0; row < 4; ++row) {
    const mx::Quantized ref = mx::quantize(x.data() + row * 70, 70, {});
    for (size_t b = 0; b < 3; ++b) {
      CHECK(q.scale_codes[row * 3 + b] == ref.scales[b]);
      CHECK(q.params.scale[row * 3 + b] == minifloat::decode_e8m0(ref.scales[b]));
    }
    for (size_t i = 0; i < 70; ++i) {
      CHECK(q.codes.data<uint8_t>()[row * 70 + i] == ref.codes[i]);
      CHECK(y[row * 70 + i] == ref.dequantized[i]);
    }
  }
}

TEST_CASE("every element kind on 1-D 2-D and 4-D tensors per channel and per block") {
  const std::vector<Shape> shapes = {{37}, {5, 13}, {2, 3, 4, 5}};
  for (const char* name : kAllElements) {
    for (const Shape& shape : shapes) {
      const std::vector<float> x = lcg_values(size_t(shape_elements(shape)), 11, 7);
      const bool is_mx = std::string(name).starts_with("mx");
      std::vector<QuantOptions> runs;
      if (is_mx) {
        runs.push_back(element(name, Granularity::block, -1, 32));
        runs.push_back(element(name, Granularity::block, 0, 32));
      } else {
        runs.push_back(element(name, Granularity::channel, 0));
        runs.push_back(element(name, Granularity::channel, -1));
        runs.push_back(element(name, Granularity::block, -1, 4));
        runs.push_back(element(name, Granularity::block, 0, 3));
      }
      for (const QuantOptions& o : runs) {
        CAPTURE(name);
        CAPTURE(shape_to_string(shape));
        CAPTURE(o.axis);
        const Quantized q = quantize_dynamic({shape, x}, o);
        const GranularityPlan plan = plan_granularity(shape, o);
        CHECK(q.codes.dtype == DType::u8);
        CHECK(q.codes.shape == shape);
        CHECK(q.params.shape == plan.param_shape);
        const int bits = o.code.bits;
        const std::vector<float> y = dequantize(q);
        const uint8_t* codes = q.codes.data<uint8_t>();
        for (size_t i = 0; i < x.size(); ++i) {
          CHECK(codes[i] < (1u << bits));
          CHECK(std::isfinite(y[i]));
        }
        // Every reconstruction stays within its group's amax (the formats all saturate there).
        const Evaluation e = evaluate({shape, x}, q, y);
        CHECK(e.metrics.sqnr_db > 3.0);
        CHECK(e.metrics.bits_per_element > double(bits));
        if (o.code.is(Family::kmeans)) CHECK(q.codebook_shape == Shape{plan.param_count, int64_t(1) << bits});
        if (o.code.is(Family::lut)) CHECK(q.codebook_shape == Shape{16});
      }
    }
  }
}

TEST_CASE("NaN and infinite inputs per element kind") {
  std::vector<float> x = lcg_values(64, 13, 7);
  x[1] = kNaN;
  x[2] = kInf;
  x[40] = -kInf;
  const Shape shape{64};
  SUBCASE("fp8 e4m3fn saturates infinities and keeps NaN") {
    const Quantized q = quantize_dynamic({shape, x}, element("fp8_e4m3fn"));
    const std::vector<float> y = dequantize(q);
    CHECK(std::isnan(y[1]));
    CHECK(y[2] == 448.0f * q.params.scale[0]);
    CHECK(y[40] == -448.0f * q.params.scale[0]);
    CHECK(std::isfinite(q.params.scale[0]));
  }
  SUBCASE("fp8 e5m2 without saturation keeps infinities") {
    QuantOptions o = element("fp8_e5m2");
    o.saturate = false;
    const std::vector<float> y = dequantize(quantize_dynamic({shape, x}, o));
    CHECK(std::isnan(y[1]));
    CHECK(y[2] == kInf);
    CHECK(y[40] == -kInf);
  }
  SUBCASE("mx blocks holding a non-finite value get the NaN scale") {
    const Quantized q = quantize_dynamic({shape, x}, element("mxfp8_e4m3"));
    REQUIRE(q.scale_codes.size() == 2);
    CHECK(q.scale_codes[0] == 0xFF);
    CHECK(q.scale_codes[1] == 0xFF);
    CHECK(std::isnan(dequantize(q)[0]));
  }
  SUBCASE("lut pow2 and kmeans keep finite scales and reconstruct finite values exactly where they can") {
    for (const char* name : {"nf4", "fp4", "iq4_nl", "pow2", "kmeans"}) {
      CAPTURE(name);
      const Quantized q = quantize_dynamic({shape, x}, element(name, Granularity::block, 0, 32));
      for (float s : q.params.scale) CHECK(std::isfinite(s));
      const std::vector<float> y = dequantize(q);
      for (size_t i = 0; i < y.size(); ++i)
        if (std::isfinite(x[i])) CHECK(std::isfinite(y[i]));
    }
  }
  SUBCASE("an all-zero tensor dequantizes to zeros") {
    const std::vector<float> z(40, 0.0f);
    for (const char* name : kAllElements) {
      CAPTURE(name);
      const std::vector<float> y = dequantize(quantize_dynamic({{40}, z}, element(name, Granularity::block, 0, 32)));
      for (float v : y) CHECK(v == 0.0f);
    }
  }
}

TEST_CASE("dtype spelling and option conflicts") {
  QuantOptions o;
  o.code = parse_dtype("uint4");
  CHECK(o.code.is(Family::integer));
  CHECK(o.code.name() == "uint4");
  o.code = parse_dtype("mxint8");
  CHECK(o.code.is(Family::mx));
  CHECK(o.code.name() == "mxint8");
  CHECK(o.code.bits == 8);
  o.code = parse_dtype("int8");
  CHECK(o.code.is(Family::integer));
  CHECK(o.code.name() == "int8");
  CHECK_THROWS_WITH_AS(parse_dtype("fp8"), doctest::Contains("nf4"), Error);

  QuantOptions mx = element("mxfp6_e2m3");
  mx.granularity = Granularity::channel;
  ExplicitOptions x;
  x.granularity = true;
  CHECK_THROWS_WITH_AS(apply_profile(mx, x), doctest::Contains("OCP MX k = 32"), Error);
  QuantOptions kmeans = element("kmeans");
  kmeans.code.bits = 9;
  CHECK_THROWS_AS(apply_profile(kmeans, {}), Error);
  QuantOptions fp8 = element("fp8_e4m3fn");
  fp8.pack = PackOrder::gptq;
  CHECK_THROWS_WITH_AS(apply_profile(fp8, {}), doctest::Contains("at most 4 bits"), Error);
  CHECK(effective_pack(element("nf4")) == PackOrder::low_first);
  QuantOptions int4;
  int4.code = parse_dtype("int4");
  CHECK(effective_pack(int4) == PackOrder::none);
  int4.pack = PackOrder::awq;
  CHECK(effective_pack(int4) == PackOrder::awq);
}

TEST_CASE("nibble packing orders") {
  Tensor codes = make_tensor(DType::u8, {3});
  codes.bytes = {1, 2, 3};
  CHECK(pack_nibbles(codes, PackOrder::low_first) == std::vector<uint8_t>{0x21, 0x03});
  CHECK(pack_nibbles(codes, PackOrder::high_first) == std::vector<uint8_t>{0x12, 0x30});
  CHECK(pack_nibbles(codes, PackOrder::gptq) == std::vector<uint8_t>{0x21, 0x03, 0x00, 0x00});
  // AWQ: code 0 in nibble slot 0, code 1 in slot 4, code 2 in slot 1.
  CHECK(pack_nibbles(codes, PackOrder::awq) == std::vector<uint8_t>{0x31, 0x00, 0x02, 0x00});
  Tensor signed_codes = make_tensor(DType::i8, {2});
  signed_codes.bytes = {uint8_t(int8_t(-1)), uint8_t(int8_t(-8))};
  CHECK(pack_nibbles(signed_codes, PackOrder::low_first) == std::vector<uint8_t>{0x8F});
}
