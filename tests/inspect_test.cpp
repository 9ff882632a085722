// The inspector's core answers (qplay/inspect.hpp): explain() gives, for every element of a run,
// the code the run stored (all four roundings, both divisions, both zero-point domains, NaN rules,
// clipping, every granularity), the plan queries agree with the quantizer's walk, and the searches
// find exactly the ties, clipped elements, values and largest error there are.
#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <string>

#include "qplay/error.hpp"
#include "qplay/inspect.hpp"
#include "test_util.hpp"

using namespace qplay;
using qplay_test::kInf;
using qplay_test::kNaN;

namespace {

struct Setting {
  const char* dtype;
  Profile profile;
  Mode mode;
  RoundingMode rounding;
  Granularity granularity;
  int axis;
  bool float_zero_point;
  bool given;  // small given params, so many elements clip
};

QuantOptions options_of(const Setting& s) {
  QuantOptions o;
  o.code = integer_code(parse_int_type(s.dtype));
  o.profile = s.profile;
  o.mode = s.mode;
  o.rounding = s.rounding;
  o.seed = 11;
  o.granularity = s.granularity;
  o.axis = s.axis;
  if (s.granularity == Granularity::group) o.group_size = 3;
  if (s.granularity == Granularity::block) o.block_size = 4;
  if (s.float_zero_point) o.zero_point_domain = ZeroPointDomain::floating;
  ExplicitOptions x;
  x.granularity = s.granularity != Granularity::tensor;
  x.rounding = s.rounding != RoundingMode::half_even;
  apply_profile(o, x);
  return o;
}

// Values with exact ties at s = 0.25 (k / 8), NaN and infinities among them.
std::vector<float> inputs(size_t n) {
  qplay_test::Rng rng{7};
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = i % 5 == 0 ? float(int(i % 41) - 20) / 8.0f : rng.uniform(-3.0f, 3.0f);
  x[3] = kNaN;
  x[17] = kInf;
  x[29] = -kInf;
  return x;
}

int code_at(const Quantized& q, int64_t i) {
  switch (q.codes.dtype) {
    case DType::i8: return q.codes.data<int8_t>()[i];
    case DType::u8: return q.codes.data<uint8_t>()[i];
    case DType::i16: return q.codes.data<int16_t>()[i];
    default: return q.codes.data<uint16_t>()[i];
  }
}

bool same_float(float a, float b) { return a == b || (std::isnan(a) && std::isnan(b)); }

Quantized run(const Setting& s, const QuantOptions& o, const TensorViewF32& x) {
  if (!s.given) return quantize_dynamic(x, o);
  GivenParams g;
  g.scale = {0.25f};
  g.zero_point = {s.float_zero_point ? 0.5f : (s.mode == Mode::symmetric || s.dtype[0] == 'i' ? 0.0f : 8.0f)};
  return quantize(x, given_params(g, plan_granularity(x.shape, o), o), o);
}

const Setting kSettings[] = {
    {"uint8", Profile::custom, Mode::asymmetric, RoundingMode::half_even, Granularity::tensor, 0, false, false},
    {"int4", Profile::custom, Mode::symmetric, RoundingMode::half_away, Granularity::channel, 1, false, true},
    {"uint4", Profile::custom, Mode::asymmetric, RoundingMode::half_up, Granularity::group, 1, false, true},
    {"int8", Profile::custom, Mode::asymmetric, RoundingMode::stochastic, Granularity::block, 0, false, true},
    {"uint4", Profile::custom, Mode::asymmetric, RoundingMode::half_even, Granularity::block, 1, true, true},
    {"uint8", Profile::pytorch, Mode::asymmetric, RoundingMode::half_even, Granularity::channel, 0, false, false},
    {"int8", Profile::onnx, Mode::symmetric, RoundingMode::half_even, Granularity::tensor, 0, false, true},
    {"uint4", Profile::custom, Mode::asymmetric, RoundingMode::stochastic, Granularity::tensor, 0, true, true},
    {"int16", Profile::custom, Mode::symmetric, RoundingMode::half_up, Granularity::channel, 0, false, false},
};

}  // namespace

TEST_CASE("explain gives every element the code, clip and dequantized value the run produced") {
  const Shape shape{6, 10};
  const std::vector<float> values = inputs(60);
  const TensorViewF32 x{shape, values};
  for (const Setting& s : kSettings) {
    const QuantOptions o = options_of(s);
    CAPTURE(std::string(s.dtype));
    CAPTURE(int(s.rounding));
    CAPTURE(int(s.granularity));
    CAPTURE(profile_name(s.profile));
    const Quantized q = run(s, o, x);
    const std::vector<float> y = dequantize(q);
    uint64_t clipped = 0;
    int64_t ties = 0;
    for (int64_t i = 0; i < int64_t(values.size()); ++i) {
      CAPTURE(i);
      const InspectedElement e = explain(q.options, q.params, q.plan, x, i);
      CHECK(e.integer);
      CHECK(e.code == code_at(q, i));
      CHECK(same_float(e.dequantized, y[size_t(i)]));
      CHECK(e.scale == q.params.scale[size_t(e.group)]);
      if (std::isfinite(values[size_t(i)]) && !e.clipped) CHECK(e.rounded == float(e.code));
      clipped += e.clipped ? 1 : 0;
      ties += e.tie ? 1 : 0;
    }
    CHECK(clipped == q.saturated);
    if (s.given) {
      // 4-bit codes at s = 0.25 hold |x| <= 2 at most: the inputs reach 3.
      if (std::string(s.dtype).back() == '4') CHECK(clipped > 0);
      if (!s.float_zero_point) CHECK(ties > 0);
    }
  }
}

TEST_CASE("a tie rounds by the run's rule: 2.5 under each deterministic rounding") {
  const std::vector<float> values = {0.625f, -0.625f, 0.375f};  // t = 2.5, -2.5, 1.5 at s = 0.25
  const TensorViewF32 x{{3}, values};
  const struct { RoundingMode r; float pos, neg, odd; } rules[] = {
      {RoundingMode::half_even, 2, -2, 2}, {RoundingMode::half_away, 3, -3, 2}, {RoundingMode::half_up, 3, -2, 2}};
  for (const auto& rule : rules) {
    Setting s{"int8", Profile::custom, Mode::symmetric, rule.r, Granularity::tensor, 0, false, true};
    const QuantOptions o = options_of(s);
    const Quantized q = run(s, o, x);
    const InspectedElement a = explain(q.options, q.params, q.plan, x, 0);
    const InspectedElement b = explain(q.options, q.params, q.plan, x, 1);
    const InspectedElement c = explain(q.options, q.params, q.plan, x, 2);
    CHECK(a.tie);
    CHECK(a.scaled == 2.5f);
    CHECK(a.rounded == rule.pos);
    CHECK(b.rounded == rule.neg);
    CHECK(c.rounded == rule.odd);
    CHECK_FALSE(a.clipped);
  }
}

TEST_CASE("param_index and group_elements partition the tensor as the quantizer walks it") {
  const Shape shape{3, 5, 4};
  for (Granularity g : {Granularity::tensor, Granularity::channel, Granularity::group, Granularity::block})
    for (int axis : {0, 1, 2, -1}) {
      CAPTURE(int(g));
      CAPTURE(axis);
      QuantOptions o;
      o.granularity = g;
      o.axis = axis;
      o.group_size = 2;
      o.block_size = 3;
      const GranularityPlan plan = plan_granularity(shape, o);
      std::vector<int64_t> seen(60, -1);
      for (int64_t group = 0; group < plan.param_count; ++group)
        for (int64_t i : group_elements(plan, group)) {
          CHECK(seen[size_t(i)] == -1);
          seen[size_t(i)] = group;
          CHECK(param_index(plan, i) == group);
        }
      for (int64_t v : seen) CHECK(v >= 0);
      CHECK_THROWS_AS(group_elements(plan, plan.param_count), Error);
    }
}

TEST_CASE("find_elements finds ties, clipped elements, values in a range and the largest error") {
  const Shape shape{6, 10};
  const std::vector<float> values = inputs(60);
  const TensorViewF32 x{shape, values};
  Setting s{"int4", Profile::custom, Mode::symmetric, RoundingMode::half_even, Granularity::channel, 1, false, true};
  const QuantOptions o = options_of(s);
  const Quantized q = run(s, o, x);
  const std::vector<float> y = dequantize(q);

  std::set<int64_t> ties, clipped;
  int64_t worst = -1;
  double worst_error = -1;
  for (int64_t i = 0; i < 60; ++i) {
    const InspectedElement e = explain(q.options, q.params, q.plan, x, i);
    if (std::isfinite(values[size_t(i)]) && e.tie) ties.insert(i);
    if (e.clipped) clipped.insert(i);
    const double err = std::fabs(double(y[size_t(i)]) - double(values[size_t(i)]));
    if (err > worst_error) worst_error = err, worst = i;
  }
  FindQuery f;
  f.kind = FindKind::ties;
  FoundElements found = find_elements(q.options, q.params, q.plan, x, f);
  CHECK(found.total == int64_t(ties.size()));
  CHECK(std::set<int64_t>(found.indices.begin(), found.indices.end()) == ties);

  f.kind = FindKind::clipped;
  f.limit = 3;
  found = find_elements(q.options, q.params, q.plan, x, f);
  CHECK(found.total == int64_t(q.saturated));
  REQUIRE(found.indices.size() == 3);
  CHECK(found.indices[0] == *clipped.begin());
  f.after = found.indices[2];
  const FoundElements next = find_elements(q.options, q.params, q.plan, x, f);
  CHECK(next.indices.front() > found.indices[2]);

  f = {};
  f.kind = FindKind::max_error;
  found = find_elements(q.options, q.params, q.plan, x, f);
  REQUIRE(found.indices.size() == 1);
  CHECK(found.indices[0] == worst);
  CHECK(find_elements(q.options, q.params, q.plan, x, f, y).indices == found.indices);

  f = {};
  f.kind = FindKind::value_range;
  f.lo = 0.0f;
  f.hi = 1.0f;
  f.group = 2;  // channel 2 of axis 1: elements 2, 12, ..., 52
  found = find_elements(q.options, q.params, q.plan, x, f);
  int64_t want = 0;
  for (int64_t i = 2; i < 60; i += 10) want += values[size_t(i)] >= 0.0f && values[size_t(i)] < 1.0f;
  CHECK(found.total == want);
  for (int64_t i : found.indices) CHECK(i % 10 == 2);
  f.hi = 0.0f;
  f.include_hi = true;
  f.group = -1;
  found = find_elements(q.options, q.params, q.plan, x, f);
  int64_t zeros = 0;
  for (float v : values) zeros += v == 0.0f;
  CHECK(found.total == zeros);
}

TEST_CASE("element formats: explain gives the group and scale, the integer rule is not available") {
  const std::vector<float> values = inputs(64);
  const TensorViewF32 x{{64}, values};
  QuantOptions o;
  o.code = parse_dtype("nf4");
  o.granularity = Granularity::block;
  o.block_size = 32;
  ExplicitOptions set;
  set.granularity = true;
  apply_profile(o, set);
  const Quantized q = quantize_dynamic(x, o);
  const InspectedElement e = explain(q.options, q.params, q.plan, x, 40);
  CHECK_FALSE(e.integer);
  CHECK(e.group == 1);
  CHECK(e.scale == q.params.scale[1]);
  CHECK(std::isnan(e.rounded));
  FindQuery f;
  f.kind = FindKind::ties;
  CHECK_THROWS_WITH_AS(find_elements(q.options, q.params, q.plan, x, f),
                       doctest::Contains("integer codes only"), Error);
  f.kind = FindKind::max_error;
  CHECK_THROWS_AS(find_elements(q.options, q.params, q.plan, x, f), Error);
  const std::vector<float> y = dequantize(q);
  CHECK(find_elements(q.options, q.params, q.plan, x, f, y).indices.size() == 1);
  CHECK_THROWS_WITH_AS(explain(q.options, q.params, q.plan, x, 64), doctest::Contains("out of range"), Error);
}
