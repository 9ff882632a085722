// Semantics of the uniform quantizer: the seed example, the peers' facts (semantics.md §C1-C5),
// every granularity against a naive reference, non-finite inputs, calibration and metrics.
#include <doctest/doctest.h>

#include "qplay/bits.hpp"
#include <cmath>
#include <limits>
#include <random>

#include "qplay/error.hpp"
#include "qplay/quantize.hpp"

using namespace qplay;

namespace {

QuantOptions opts(std::string_view dtype, Profile profile = Profile::custom,
                  Mode mode = Mode::asymmetric) {
  QuantOptions o;
  o.code = integer_code(parse_int_type(dtype));
  o.profile = profile;
  o.mode = mode;
  apply_profile(o, {});
  return o;
}

TensorViewF32 view(const Shape& shape, const std::vector<float>& v) { return {shape, v}; }

std::vector<int> codes_of(const Quantized& q) {
  std::vector<int> out;
  const int64_t n = q.codes.elements();
  for (int64_t i = 0; i < n; ++i) {
    switch (q.codes.dtype) {
      case DType::i8: out.push_back(q.codes.data<int8_t>()[i]); break;
      case DType::u8: out.push_back(q.codes.data<uint8_t>()[i]); break;
      case DType::i16: out.push_back(q.codes.data<int16_t>()[i]); break;
      default: out.push_back(q.codes.data<uint16_t>()[i]); break;
    }
  }
  return out;
}

Quantized with_given(const std::vector<float>& x, float scale, float zero, const QuantOptions& o) {
  GivenParams g;
  g.scale = {scale};
  g.zero_point = {zero};
  const TensorViewF32 v{{int64_t(x.size())}, x};
  return quantize(v, given_params(g, plan_granularity(v.shape, o), o), o);
}

}  // namespace

TEST_CASE("seed example: (-4.75 / 4.67) to uint8 gives s = 0.036941178 / z = 129 / -3.57 -> 32") {
  const std::vector<float> x = {-4.75f, -3.57f, 0.0f, 4.67f};
  for (Profile p : {Profile::seed, Profile::pytorch, Profile::onnx, Profile::custom}) {
    CAPTURE(profile_name(p));
    const QuantOptions o = opts("uint8", p);
    const Quantized q = quantize_dynamic(view({4}, x), o);
    CHECK(q.params.scale[0] == (4.67f - -4.75f) / 255.0f);
    CHECK(qplay::bit_cast<uint32_t>(q.params.scale[0]) == qplay::bit_cast<uint32_t>(0.036941178f));
    CHECK(q.params.zero_point[0] == 129.0f);
    CHECK(codes_of(q) == std::vector<int>{0, 32, 129, 255});
  }
}

TEST_CASE("seed example with s rounded to 0.037 gives the blog's q = 33") {
  const QuantOptions o = opts("uint8", Profile::seed);
  const Quantized q = with_given({-3.57f}, 0.037f, 129.0f, o);
  CHECK(codes_of(q) == std::vector<int>{33});
  const std::vector<float> y = dequantize(q);
  CHECK(y[0] == (33.0f - 129.0f) * 0.037f);
}

TEST_CASE("seed formula does not force 0 into the range") {
  // [1, 3] to uint8: s = 2/255, z = round((3*0 - 1*255)/2) = round(-127.5) = -128 -> clamped to 0.
  const QuantOptions seed = opts("uint8", Profile::seed);
  const Quantized q = quantize_dynamic(view({3}, {1.0f, 2.0f, 3.0f}), seed);
  CHECK(q.params.scale[0] == 2.0f / 255.0f);
  CHECK(q.params.zero_point[0] == 0.0f);
  // torch forces 0 in: s = 3/255, z = 0.
  const Quantized t = quantize_dynamic(view({3}, {1.0f, 2.0f, 3.0f}), opts("uint8", Profile::pytorch));
  CHECK(t.params.scale[0] == 3.0f / 255.0f);
  CHECK(t.params.zero_point[0] == 0.0f);
}

TEST_CASE("multiply-by-inverse vs divide: FBGEMM's tie (semantics.md C2)") {
  const float scale = 0.00214854861f, x = 0.273939937f;
  CHECK(x * (1.0f / scale) == 127.5f);
  CHECK(codes_of(with_given({x}, scale, 0, opts("uint8", Profile::pytorch))) == std::vector<int>{128});
  CHECK(codes_of(with_given({x}, scale, 0, opts("uint8", Profile::onnx))) == std::vector<int>{127});
  CHECK(codes_of(with_given({x}, scale, 0, opts("uint8", Profile::ort_tool))) == std::vector<int>{127});
}

TEST_CASE("pytorch symmetric qint8 divides amax by 127.5 / quint8 symmetric zero point is 128") {
  const std::vector<float> x = {-2.0f, 0.5f, 1.0f};
  const Quantized s8 = quantize_dynamic(view({3}, x), opts("int8", Profile::pytorch, Mode::symmetric));
  CHECK(s8.params.scale[0] == 2.0f / 127.5f);
  CHECK(s8.params.zero_point[0] == 0.0f);
  const Quantized u8 = quantize_dynamic(view({3}, x), opts("uint8", Profile::pytorch, Mode::symmetric));
  CHECK(u8.params.scale[0] == 2.0f / 127.5f);
  CHECK(u8.params.zero_point[0] == 128.0f);
  // quant_min = -127 (narrow): amax / 127.
  QuantOptions narrow = opts("int8", Profile::pytorch, Mode::symmetric);
  narrow.narrow = true;
  CHECK(quantize_dynamic(view({3}, x), narrow).params.scale[0] == 2.0f / 127.0f);
  // uint4 is a custom range in torch terms: zero point (0 + 15) // 2 = 7.
  CHECK(quantize_dynamic(view({3}, x), opts("uint4", Profile::pytorch, Mode::symmetric)).params.zero_point[0] == 7.0f);
}

TEST_CASE("pytorch eps floor: an all-zero tensor gets scale 2^-23 and zero point qmin") {
  const std::vector<float> zeros(5, 0.0f);
  const Quantized q = quantize_dynamic(view({5}, zeros), opts("uint8", Profile::pytorch));
  CHECK(q.params.scale[0] == std::ldexp(1.0f, -23));
  CHECK(q.params.zero_point[0] == 0.0f);
  const Quantized s = quantize_dynamic(view({5}, zeros), opts("int8", Profile::pytorch));
  CHECK(s.params.zero_point[0] == -128.0f);
  CHECK(codes_of(s) == std::vector<int>(5, -128));
}

TEST_CASE("pytorch quantize_per_tensor((-1/0/1/2) / 0.1 / 10 / quint8) == (0/10/20/30)") {
  CHECK(codes_of(with_given({-1, 0, 1, 2}, 0.1f, 10, opts("uint8", Profile::pytorch))) ==
        std::vector<int>{0, 10, 20, 30});
}

TEST_CASE("pytorch reduce_range halves the range with floor division") {
  QuantOptions o = opts("int8", Profile::pytorch);
  o.reduce_range = true;
  CHECK(code_range(o).qmin == -64);
  CHECK(code_range(o).qmax == 63);
  o.code = integer_code(parse_int_type("uint8"));
  CHECK(code_range(o).qmax == 127);
  o.code = integer_code(parse_int_type("int4"));
  CHECK(code_range(o).qmin == -4);
  CHECK(code_range(o).qmax == 3);
}

TEST_CASE("onnx DynamicQuantizeLinear: the operator's example and the all-zero scale 1.0") {
  const std::vector<float> x = {0.0f, 2.0f, -3.0f, -2.5f, 1.34f, 0.5f};
  const Quantized q = quantize_dynamic(view({6}, x), opts("uint8", Profile::onnx));
  CHECK(q.params.scale[0] == 5.0f / 255.0f);
  CHECK(q.params.zero_point[0] == 153.0f);
  CHECK(codes_of(q) == std::vector<int>{153, 255, 0, 26, 221, 179});
  const Quantized z = quantize_dynamic(view({3}, {0.0f, 0.0f, 0.0f}), opts("uint8", Profile::onnx));
  CHECK(z.params.scale[0] == 1.0f);
  CHECK(z.params.zero_point[0] == 0.0f);
}

TEST_CASE("onnx saturation of non-finite values: NaN -> qmin / +inf -> qmax / -inf -> qmin") {
  const float inf = std::numeric_limits<float>::infinity();
  const Quantized q = with_given({std::nanf(""), inf, -inf, 1.0f}, 0.5f, 3, opts("int8", Profile::onnx));
  CHECK(codes_of(q) == std::vector<int>{-128, 127, -128, 5});
  // Our default maps NaN as 0 (the zero point) and reports it.
  const Quantized c = with_given({std::nanf(""), inf, -inf}, 0.5f, 3, opts("int8"));
  CHECK(codes_of(c) == std::vector<int>{3, 127, -128});
}

TEST_CASE("ort-tool: symmetric int8 uses (-127 / 127) and scale amax/127 / asymmetric zp rounds half to even") {
  const std::vector<float> x = {-1.27f, 0.3f, 2.54f};
  const Quantized s = quantize_dynamic(view({3}, x), opts("int8", Profile::ort_tool, Mode::symmetric));
  CHECK(s.range.qmin == -127);
  CHECK(s.range.qmax == 127);
  CHECK(s.params.scale[0] == float(double(2.54f - -2.54f) / 254.0));
  CHECK(s.params.zero_point[0] == 0.0f);
  const Quantized u = quantize_dynamic(view({3}, x), opts("uint8", Profile::ort_tool, Mode::symmetric));
  CHECK(u.range.qmax == 254);
  CHECK(u.params.zero_point[0] == 127.0f);
  const Quantized z = quantize_dynamic(view({2}, {0.0f, 0.0f}), opts("uint8", Profile::ort_tool));
  CHECK(z.params.scale[0] == 1.0f);
  CHECK(z.params.zero_point[0] == 0.0f);
}

TEST_CASE("rounding rules on exact ties") {
  const std::vector<float> x = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f};
  auto run = [&](std::string_view rule) {
    QuantOptions o = opts("int8");
    parse_rounding(rule, o);
    return codes_of(with_given(x, 1.0f, 0, o));
  };
  CHECK(run("half-even") == std::vector<int>{0, 2, 2, 0, -2, -2});
  CHECK(run("half-away") == std::vector<int>{1, 2, 3, -1, -2, -3});
  CHECK(run("half-up") == std::vector<int>{1, 2, 3, 0, -1, -2});
  // Stochastic: a seed fixes the draw; values land on one of the two neighbours.
  const auto a = run("stochastic:7"), b = run("stochastic:7");
  CHECK(a == b);
  for (size_t i = 0; i < x.size(); ++i) {
    CHECK(a[i] >= std::floor(x[i]));
    CHECK(a[i] <= std::ceil(x[i]));
  }
}

TEST_CASE("stochastic rounding is unbiased on average") {
  std::vector<float> x(20000, 0.25f);
  QuantOptions o = opts("int8");
  parse_rounding("stochastic:42", o);
  const auto c = codes_of(with_given(x, 1.0f, 0, o));
  double mean = 0;
  for (int v : c) mean += v;
  mean /= double(c.size());
  CHECK(mean == doctest::Approx(0.25).epsilon(0.02));  // 20000 draws: sd of the mean ~0.003
  QuantOptions other = o;
  parse_rounding("stochastic:43", other);
  CHECK(codes_of(with_given(x, 1.0f, 0, other)) != c);
}

TEST_CASE("dequantize is (q - z) x s in float32") {
  const std::vector<float> x = {-1.3f, 0.2f, 0.77f, 5.0f};
  const Quantized q = quantize_dynamic(view({4}, x), opts("int4"));
  const std::vector<float> y = dequantize(q);
  const auto c = codes_of(q);
  for (size_t i = 0; i < x.size(); ++i)
    CHECK(y[i] == (float(c[i]) - q.params.zero_point[0]) * q.params.scale[0]);
}

TEST_CASE("float zero-point domain (torch per_channel_affine_float_qparams)") {
  QuantOptions o = opts("uint4", Profile::pytorch);
  o.zero_point_domain = ZeroPointDomain::floating;
  const std::vector<float> x = {0.5f, 1.0f, 2.0f};
  const Quantized q = quantize_dynamic(view({3}, x), o);
  CHECK(q.params.float_zero_point);
  const float s = (2.0f - 0.5f) / 15.0f;
  CHECK(q.params.scale[0] == s);
  CHECK(q.params.zero_point[0] == -0.5f / s);
  // lrintf(x * (1/s) + zp)
  const auto c = codes_of(q);
  for (size_t i = 0; i < x.size(); ++i) CHECK(c[i] == int(std::nearbyint(x[i] * (1.0f / s) + q.params.zero_point[0])));
  const std::vector<float> y = dequantize(q);
  CHECK(y[0] == (float(c[0]) - q.params.zero_point[0]) * s);
}

// ---- granularity against a naive reference ------------------------------------------------------

namespace {

struct NaiveCase {
  Shape shape;
  Granularity g;
  int axis;
  int64_t size;  // group or block size
};

void check_against_naive(const NaiveCase& c, const std::vector<float>& x, Mode mode) {
  QuantOptions o = opts("int4", Profile::custom, mode);
  o.granularity = c.g;
  o.axis = c.axis;
  o.group_size = c.size;
  o.block_size = c.size;
  const TensorViewF32 v{c.shape, x};
  const GranularityPlan p = plan_granularity(c.shape, o);
  // Naive: decompose every flat index into (outer, d, inner) and compute the param index directly.
  const int rank = int(c.shape.size());
  const int axis = c.axis < 0 ? c.axis + rank : c.axis;
  int64_t inner = 1;
  for (int k = axis + 1; k < rank; ++k) inner *= c.shape[k];
  const int64_t dim = c.shape[axis];
  auto param_of = [&](int64_t e) -> int64_t {
    const int64_t i = e % inner, d = (e / inner) % dim, outer = e / (inner * dim);
    if (c.g == Granularity::channel) return d;
    if (c.g == Granularity::group) return d / c.size;
    const int64_t nb = (dim + c.size - 1) / c.size;
    return (outer * nb + d / c.size) * inner + i;
  };
  std::vector<float> lo(size_t(p.param_count), INFINITY), hi(size_t(p.param_count), -INFINITY);
  for (int64_t e = 0; e < int64_t(x.size()); ++e) {
    const size_t g = size_t(param_of(e));
    lo[g] = std::min(lo[g], x[size_t(e)]);
    hi[g] = std::max(hi[g], x[size_t(e)]);
  }
  const QuantParams expected = params_from_ranges(lo, hi, p.param_shape, o);
  const Quantized q = quantize_dynamic(v, o);
  REQUIRE(q.params.shape == p.param_shape);
  CHECK(q.params.scale == expected.scale);
  CHECK(q.params.zero_point == expected.zero_point);
  const auto codes = codes_of(q);
  const std::vector<float> y = dequantize(q);
  for (int64_t e = 0; e < int64_t(x.size()); ++e) {
    const size_t g = size_t(param_of(e));
    const float s = expected.scale[g], z = expected.zero_point[g];
    const float r = std::nearbyint(x[size_t(e)] / s) + z;
    const int want = int(std::min(std::max(r, -8.0f), 7.0f));
    if (codes[size_t(e)] != want) {
      FAIL("element " << e << " code " << codes[size_t(e)] << " expected " << want);
    }
    CHECK(y[size_t(e)] == (float(want) - z) * s);
  }
}

}  // namespace

TEST_CASE("every granularity on 1-D / 2-D / 3-D and 4-D tensors / every axis / partial groups and blocks") {
  std::mt19937 rng(1234);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const std::vector<Shape> shapes = {{7}, {4, 6}, {2, 3, 4, 5}, {3, 17, 2}, {2, 20, 33}, {5, 40}};
  int cases = 0;
  for (const Shape& shape : shapes) {
    std::vector<float> x(size_t(shape_elements(shape)));
    for (float& v : x) v = normal(rng);
    const int rank = int(shape.size());
    for (int axis = -rank; axis < rank; ++axis) {
      for (Mode mode : {Mode::asymmetric, Mode::symmetric}) {
        CAPTURE(shape_to_string(shape));
        CAPTURE(axis);
        check_against_naive({shape, Granularity::channel, axis, 1}, x, mode);
        for (int64_t g : {1, 2, 3, 64}) check_against_naive({shape, Granularity::group, axis, g}, x, mode);
        for (int64_t b : {1, 3, 4, 16, 32}) check_against_naive({shape, Granularity::block, axis, b}, x, mode);
        cases += 11;
      }
    }
  }
  CHECK(cases > 300);
}

TEST_CASE("granularity param shapes follow ONNX: blocked params keep the rank") {
  QuantOptions o = opts("int8");
  o.granularity = Granularity::block;
  o.axis = 1;
  o.block_size = 4;
  CHECK(plan_granularity({3, 10, 2}, o).param_shape == Shape{3, 3, 2});
  o.granularity = Granularity::group;
  o.group_size = 4;
  CHECK(plan_granularity({3, 10, 2}, o).param_shape == Shape{3});
  o.granularity = Granularity::channel;
  o.axis = -1;
  CHECK(plan_granularity({3, 10, 2}, o).param_shape == Shape{2});
  o.granularity = Granularity::tensor;
  CHECK(plan_granularity({3, 10, 2}, o).param_shape.empty());
}

TEST_CASE("granularity errors name the problem") {
  QuantOptions o = opts("int8");
  o.granularity = Granularity::channel;
  o.axis = 2;
  CHECK_THROWS_WITH_AS(plan_granularity({3, 4}, o), doctest::Contains("--axis 2 is out of range"), Error);
  o.axis = 0;
  CHECK_THROWS_WITH_AS(plan_granularity({}, o), doctest::Contains("scalar"), Error);
  o.granularity = Granularity::block;
  CHECK_THROWS_WITH_AS(plan_granularity({3, 4}, o), doctest::Contains("--block-size"), Error);
  o.granularity = Granularity::group;
  CHECK_THROWS_WITH_AS(plan_granularity({3, 4}, o), doctest::Contains("--group-size"), Error);
}

TEST_CASE("constant / all-zero / empty and scalar tensors") {
  const Quantized c = quantize_dynamic(view({4}, {2.5f, 2.5f, 2.5f, 2.5f}), opts("uint8"));
  const std::vector<float> y = dequantize(c);
  CHECK(y[0] == doctest::Approx(2.5f).epsilon(1e-6));  // [0, 2.5] -> s = 2.5/255: 2.5 is code 255
  const Quantized z = quantize_dynamic(view({3}, {0.0f, 0.0f, 0.0f}), opts("int8", Profile::custom, Mode::symmetric));
  CHECK(z.params.scale[0] == 1.0f);
  CHECK(codes_of(z) == std::vector<int>{0, 0, 0});
  const Quantized e = quantize_dynamic(view({0, 3}, {}), opts("int8"));
  CHECK(e.codes.elements() == 0);
  const Evaluation none = evaluate(view({0, 3}, {}), e, dequantize(e));
  CHECK(std::isnan(none.metrics.sqnr_db));  // undefined, not 0 dB
  CHECK(std::isnan(none.metrics.mse));
  const Quantized s = quantize_dynamic(view({}, {1.5f}), opts("int8"));
  CHECK(s.codes.elements() == 1);
  CHECK(dequantize(s)[0] == doctest::Approx(1.5f).epsilon(1e-6));
}

TEST_CASE("NaN and Inf are counted / excluded from ranges / and coded by the profile") {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {std::nanf(""), 1.0f, -inf, -1.0f, inf, 0.25f};
  const Quantized q = quantize_dynamic(view({6}, x), opts("int8", Profile::custom, Mode::symmetric));
  CHECK(q.params.scale[0] == 1.0f / 127.0f);  // the range comes from the finite values only
  CHECK(codes_of(q) == std::vector<int>{0, 127, -128, -127, 127, 32});
  const Evaluation ev = evaluate(view({6}, x), q, dequantize(q));
  CHECK(ev.metrics.nan == 1);
  CHECK(ev.metrics.pos_inf == 1);
  CHECK(ev.metrics.neg_inf == 1);
  CHECK(ev.metrics.finite == 3);
  CHECK(ev.metrics.saturated == 0);
}

TEST_CASE("given params: shapes / broadcast and validation") {
  QuantOptions o = opts("uint8");
  o.granularity = Granularity::channel;
  const GranularityPlan p = plan_granularity({2, 3}, o);
  GivenParams g;
  g.shape = {2};
  g.scale = {0.5f, 0.25f};
  g.zero_point = {10, 20};
  const QuantParams qp = given_params(g, p, o);
  const Quantized q = quantize(view({2, 3}, {1, 2, 3, 1, 2, 3}), qp, o);
  CHECK(codes_of(q) == std::vector<int>{12, 14, 16, 24, 28, 32});
  g.shape = {3};
  g.scale = {1, 1, 1};
  g.zero_point = {0, 0, 0};
  CHECK_THROWS_WITH_AS(given_params(g, p, o), doctest::Contains("needs (2,)"), Error);
  g.shape = {};
  g.scale = {-1};
  g.zero_point = {};
  CHECK_THROWS_WITH_AS(given_params(g, p, o), doctest::Contains("scale must be a finite number > 0"), Error);
  g.scale = {1};
  g.zero_point = {300};
  CHECK_THROWS_WITH_AS(given_params(g, p, o), doctest::Contains("code range [0, 255]"), Error);
  g.zero_point = {1.5f};
  CHECK_THROWS_WITH_AS(given_params(g, p, o), doctest::Contains("must be an integer"), Error);
}

TEST_CASE("calibration: running min-max equals the min-max of all batches / moving average follows torch") {
  const std::vector<float> a = {-1.0f, 0.5f, 2.0f}, b = {-3.0f, 0.0f, 1.0f};
  const std::vector<TensorViewF32> batches = {view({3}, a), view({3}, b)};
  const QuantOptions o = opts("uint8", Profile::pytorch);
  const QuantParams running = calibrate_params(batches, o, {});
  const std::vector<float> lo = {-3.0f}, hi = {2.0f};
  CHECK(running.scale == params_from_ranges(lo, hi, {}, o).scale);
  CalibrationOptions ma = parse_observer("moving-average:0.5");
  const QuantParams avg = calibrate_params(batches, o, ma);
  const std::vector<float> lo2 = {-1.0f + 0.5f * (-3.0f - -1.0f)}, hi2 = {2.0f + 0.5f * (1.0f - 2.0f)};
  CHECK(avg.scale == params_from_ranges(lo2, hi2, {}, o).scale);
  CHECK(avg.zero_point == params_from_ranges(lo2, hi2, {}, o).zero_point);
  QuantOptions ch = o;
  ch.granularity = Granularity::channel;
  const std::vector<TensorViewF32> mismatched = {view({3}, a), view({1, 3}, b)};
  CHECK_THROWS_WITH_AS(calibrate_params(mismatched, ch, {}), doctest::Contains("calibration tensor 2"), Error);
}

TEST_CASE("metrics: exact reconstruction / a known error / clip rate and bits per element") {
  // Codes that hit the grid exactly: zero error, infinite SQNR, cosine 1.
  const Quantized q = with_given({0.0f, 0.5f, 1.0f}, 0.5f, 0, opts("int8"));
  Evaluation ev = evaluate(view({3}, {0.0f, 0.5f, 1.0f}), q, dequantize(q));
  CHECK(ev.metrics.mse == 0.0);
  CHECK(std::isinf(ev.metrics.sqnr_db));
  CHECK(ev.metrics.cosine == doctest::Approx(1.0));
  // Saturation: 100 is beyond 127 * 0.5 = 63.5.
  const std::vector<float> x = {0.2f, 100.0f};
  const Quantized c = with_given(x, 0.5f, 0, opts("int8"));
  ev = evaluate(view({2}, x), c, dequantize(c));
  CHECK(ev.metrics.saturated == 1);
  CHECK(ev.metrics.clip_rate == 0.5);
  CHECK(ev.metrics.max_abs_error == doctest::Approx(100.0 - 63.5));
  const double e0 = double(0.2f) - 0.0, e1 = 100.0 - 63.5;
  CHECK(ev.metrics.mse == doctest::Approx((e0 * e0 + e1 * e1) / 2));
  // int8 asymmetric per tensor: 8 bits per code + (32 + 8) bits of params over 2 elements.
  CHECK(ev.metrics.bits_per_element == doctest::Approx(8.0 + 40.0 / 2));
  int64_t total = 0;
  for (uint64_t n : ev.original.counts) total += int64_t(n);
  CHECK(total == 2);
}

TEST_CASE("option spellings and profile conflicts give clear errors") {
  CHECK_THROWS_WITH_AS(parse_int_type("int9"), doctest::Contains("invalid value 'int9' for --dtype"), Error);
  CHECK(parse_int_type("uint3").bits == 3);
  CHECK(parse_int_type("int16").bits == 16);
  CHECK_THROWS_WITH_AS(parse_profile("tensorflow"), doctest::Contains("custom, seed, pytorch, onnx, ort-tool"), Error);
  QuantOptions o;
  o.profile = Profile::onnx;
  o.rounding = RoundingMode::half_away;
  ExplicitOptions set;
  set.rounding = true;
  CHECK_THROWS_WITH_AS(apply_profile(o, set), doctest::Contains("fixes --rounding to half-even"), Error);
  QuantOptions f;
  f.zero_point_domain = ZeroPointDomain::floating;
  f.mode = Mode::symmetric;
  CHECK_THROWS_WITH_AS(apply_profile(f, {}), doctest::Contains("needs --mode asymmetric"), Error);
  QuantOptions r;
  parse_range("percentile:99.9", r);
  CHECK(r.percentile == 99.9);
  CHECK(range_name(r) == "percentile:99.9");
  CHECK_THROWS_AS(parse_range("percentile:101", r), Error);
  QuantOptions one = opts("int1", Profile::custom, Mode::symmetric);
  CHECK_THROWS_WITH_AS(code_range(one), doctest::Contains("no positive code"), Error);
}
