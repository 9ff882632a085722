// --clip-ratio R: the dynamic range of each param group shrinks to [R lo, R hi] before the profile's
// formula turns it into a scale and zero point. Values outside the shrunk range clip; R = 1 is the
// plain run, bit for bit.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "qplay/error.hpp"
#include "qplay/export.hpp"
#include "qplay/request.hpp"

using namespace qplay;

namespace {

Request request(const std::vector<std::pair<std::string, std::string>>& options) {
  Request r;
  for (const auto& [key, text] : options) set_option(r, key, text, RequestContext::api);
  validate(r, RequestContext::api);
  return r;
}

std::string error_of(const std::vector<std::pair<std::string, std::string>>& options) {
  try {
    request(options);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::vector<float> values() {
  std::vector<float> v(24);
  for (size_t i = 0; i < v.size(); ++i) v[i] = -3.1f + 0.29f * float(i) + (i == 7 ? 6.0f : 0.0f);
  return v;
}

}  // namespace

TEST_CASE("clip ratio: parsed from text, bounded, refused where it cannot apply") {
  CHECK(request({{"clipRatio", "0.9"}}).options.clip_ratio == 0.9f);
  CHECK(request({}).options.clip_ratio == 1.0f);
  CHECK(error_of({{"clipRatio", "0"}}) == "--clip-ratio must be greater than 0 and at most 1 (got 0)");
  CHECK(error_of({{"clipRatio", "1.5"}}) == "--clip-ratio must be greater than 0 and at most 1 (got 1.5)");
  CHECK(error_of({{"clipRatio", "x"}}) == "invalid value 'x' for --clip-ratio (expected a finite number)");
  CHECK(error_of({{"clipRatio", "0.9"}, {"scale", "0.1"}}) ==
        "--clip-ratio shrinks dynamic ranges; it has no effect with --scale");
  CHECK(error_of({{"clipRatio", "0.9"}, {"dtype", "nf4"}}) ==
        "--dtype nf4 scales by the absolute maximum; --clip-ratio 0.9 applies to integer dtypes");
  CHECK(error_of({{"clipRatio", "0.5"}, {"format", "q8_0"}}).find("it conflicts with --clip-ratio 0.5") !=
        std::string::npos);
}

TEST_CASE("clip ratio: the range shrinks before the formula, for every range method and granularity") {
  const std::vector<float> v = values();
  const TensorViewF32 x{{4, 6}, v};
  for (const char* range : {"minmax", "mse", "percentile:99"}) {
    for (const char* granularity : {"tensor", "channel"}) {
      CAPTURE(range);
      CAPTURE(granularity);
      const Request plain = request({{"range", range}, {"granularity", granularity}});
      const Request clipped = request({{"range", range}, {"granularity", granularity}, {"clipRatio", "0.75"}});
      const QuantParams p = compute_params(x, plain.options);
      const QuantParams c = compute_params(x, clipped.options);
      REQUIRE(p.scale.size() == c.scale.size());
      for (size_t g = 0; g < p.scale.size(); ++g) CHECK(c.scale[g] < p.scale[g]);
    }
  }
  // minmax: exactly the profile's formula on [R lo, R hi] in float32.
  const Request r = request({{"clipRatio", "0.75"}, {"dtype", "uint8"}});
  float lo = v[0], hi = v[0];
  for (float f : v) lo = std::fmin(lo, f), hi = std::fmax(hi, f);
  const std::vector<float> clipped_lo{lo * 0.75f}, clipped_hi{hi * 0.75f};
  const QuantParams want = params_from_ranges(clipped_lo, clipped_hi, {}, r.options);
  const QuantParams got = compute_params(x, r.options);
  CHECK(got.scale[0] == want.scale[0]);
  CHECK(got.zero_point[0] == want.zero_point[0]);
}

TEST_CASE("clip ratio: values past the shrunk range clip, R = 1 is the plain run, params.json records R") {
  const std::vector<float> v = values();
  const TensorViewF32 x{{4, 6}, v};
  RunInfo info;
  const RunResult plain = run(request({}), x, info);
  const RunResult one = run(request({{"clipRatio", "1"}}), x, info);
  CHECK(one.q.codes.bytes == plain.q.codes.bytes);
  CHECK(params_json(one.q, one.eval, one.info) == params_json(plain.q, plain.eval, plain.info));
  CHECK(params_json(plain.q, plain.eval, plain.info).find("clip_ratio") == std::string::npos);

  const RunResult half = run(request({{"clipRatio", "0.5"}}), x, info);
  CHECK(half.eval.metrics.saturated > plain.eval.metrics.saturated);
  CHECK(params_json(half.q, half.eval, half.info).find("\"clip_ratio\": 0.5,") != std::string::npos);
  const Description d = describe(request({{"clipRatio", "0.5"}}));
  bool reported = false;
  for (const auto& [key, value] : d.effective) reported |= key == "clipRatio" && value == "0.5";
  CHECK(reported);
}
