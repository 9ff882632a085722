// The option table and the request (core/src/request.cpp): set_option for each kind of option,
// every cross-check of validate with its message, describe for the profiles, and run against the
// quantizer's own entry points bit for bit.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "qplay/elements.hpp"
#include "qplay/error.hpp"
#include "qplay/ggml.hpp"
#include "qplay/request.hpp"
#include "test_util.hpp"

using namespace qplay;
using qplay_test::error_of;

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

Request with(const Pairs& options, RequestContext context = RequestContext::api) {
  Request r;
  for (const auto& [name, text] : options) set_option(r, name, text, context);
  return r;
}

Request validated(const Pairs& options, RequestContext context = RequestContext::api) {
  Request r = with(options, context);
  validate(r, context);
  return r;
}

// The message validate throws for these options in `context` ("INPUT" stands for a positional).
std::string validate_error(const Pairs& options, RequestContext context) {
  Request r;
  for (const auto& [name, text] : options) {
    if (name == "INPUT") r.positionals.push_back(text);
    else set_option(r, name, text, context);
  }
  try {
    validate(r, context);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// On the command line, INPUT and -o given unless the pairs say otherwise.
std::string cli_error(Pairs options, bool add_input_output = true) {
  if (add_input_output) {
    options.insert(options.begin(), {"-o", "out.npz"});
    options.insert(options.begin(), {"INPUT", "in.npy"});
  }
  return validate_error(options, RequestContext::single);
}

std::string rule_error(const Pairs& options) { return validate_error(options, RequestContext::whole_file_rule); }

std::string lock_of(const Description& d, std::string_view key) {
  for (const Lock& l : d.locked)
    if (l.key == key) return l.value + " (" + l.reason + ")";
  return "";
}

std::string effective_of(const Description& d, std::string_view key) {
  for (const auto& [k, v] : d.effective)
    if (k == key) return v;
  return "";
}

bool same_bytes(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

void check_same(const Quantized& a, const Quantized& b) {
  CHECK(a.codes.dtype == b.codes.dtype);
  CHECK(a.codes.shape == b.codes.shape);
  CHECK(a.codes.bytes == b.codes.bytes);
  CHECK(a.params.shape == b.params.shape);
  CHECK(same_bytes(a.params.scale, b.params.scale));
  CHECK(same_bytes(a.params.zero_point, b.params.zero_point));
  CHECK(a.range.qmin == b.range.qmin);
  CHECK(a.range.qmax == b.range.qmax);
}

std::vector<float> ramp(size_t n, float step, float start) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = start + step * float(i) + 0.01f * float(i % 7) * float(i % 3);
  return v;
}

}  // namespace

TEST_CASE("request: the table has one row per option, findable by key and flag") {
  std::set<std::string_view> keys, flags;
  for (const OptionSpec& s : option_table()) {
    CHECK(keys.insert(s.key).second);
    CHECK(flags.insert(s.flag).second);
    CHECK(bool(s.apply));
    CHECK(!s.doc.empty());
    CHECK(find_option(s.key) == &s);
    CHECK(find_option(s.flag) == &s);
  }
  CHECK(find_option("-o") == find_option("--output"));
  CHECK(find_option("--no-saturate") == find_option("saturate"));
  CHECK(find_option("--frobnicate") == nullptr);
  for (const char* flag : {"--dtype", "--format", "--bits", "--saturate", "--pack", "--scale-rule", "--double-quant",
                           "--mode", "--narrow", "--reduce-range", "--granularity", "--axis", "--group-size",
                           "--block-size", "--range", "--clip-ratio", "--rounding", "--zero-point-domain", "--profile", "--bins",
                           "--json", "--scale", "--zero-point", "--params", "--calibrate", "--observer", "--all",
                           "--override", "--report", "--tensor", "--output", "--raw-dtype", "--raw-shape",
                           "--raw-offset", "--raw-endian"})
    CHECK_MESSAGE(find_option(flag) != nullptr, flag);
}

TEST_CASE("request: choices come from the spelling lists") {
  CHECK(choices("mode") == std::vector<std::string>{"asymmetric", "symmetric"});
  CHECK(choices("--granularity") == std::vector<std::string>{"tensor", "channel", "group", "block"});
  CHECK(choices("range") == std::vector<std::string>{"minmax", "percentile:P", "mse", "kl", "aciq"});
  CHECK(choices("rounding") == std::vector<std::string>{"half-even", "half-away", "half-up", "stochastic:SEED"});
  CHECK(choices("profile") ==
        std::vector<std::string>{"custom", "seed", "pytorch", "onnx", "ort-tool", "bnb", "mx", "ggml"});
  CHECK(choices("pack") == std::vector<std::string>{"low-first", "high-first", "gptq", "awq", "ggml"});
  CHECK(choices("format").size() == std::size(kGgmlTypes));
  const std::vector<std::string> dtypes = choices("dtype");
  for (const char* d : {"int8", "uint3", "int16", "nf4", "mxfp4", "kmeans"})
    CHECK_MESSAGE(std::find(dtypes.begin(), dtypes.end(), d) != dtypes.end(), d);
  // Every listed dtype parses.
  for (const std::string& d : dtypes) {
    CHECK_NOTHROW(parse_dtype(d));
  }
  CHECK(choices("bits").empty());
}

TEST_CASE("request: set_option for each kind") {
  SUBCASE("flags and toggles") {
    Request r = with({{"narrow", "true"}, {"reduceRange", "false"}, {"saturate", "false"}});
    CHECK(r.options.narrow);
    CHECK(!r.options.reduce_range);
    CHECK(r.explicit_set.reduce_range);
    CHECK(!r.options.saturate);
    Request c;
    set_option(c, "--no-saturate", "", RequestContext::single);
    CHECK(!c.options.saturate);
    set_option(c, "--double-quant", "", RequestContext::single);
    CHECK(c.options.double_quant);
    CHECK_THROWS_WITH_AS(with({{"narrow", "yes"}}), "invalid value 'yes' for --narrow (expected true or false)", Error);
    CHECK_THROWS_WITH_AS(with({{"--saturate", ""}, {"--no-saturate", ""}}, RequestContext::single),
                         "--saturate given more than once", Error);
  }
  SUBCASE("integers and their bounds") {
    CHECK(with({{"bits", "3"}}).bits == 3);
    // --bits is the width of pow2 / kmeans, before or after --dtype.
    CHECK(validated({{"bits", "3"}, {"dtype", "pow2"}}).options.code.bits == 3);
    CHECK(validated({{"dtype", "kmeans"}, {"bits", "2"}}).options.code.bits == 2);
    CHECK(validated({{"dtype", "kmeans"}}).options.code.bits == kDefaultFittedBits);
    CHECK(with({{"axis", "-64"}}).options.axis == -64);
    CHECK(with({{"blockSize", "9007199254740991"}}).options.block_size == 9007199254740991);
    CHECK_THROWS_WITH_AS(with({{"bits", "9"}}), "--bits must be between 1 and 8 (got 9)", Error);
    CHECK_THROWS_WITH_AS(with({{"bits", "0"}}), "--bits must be between 1 and 8 (got 0)", Error);
    CHECK_THROWS_WITH_AS(with({{"bins", "1048577"}}), "--bins must be between 1 and 1048576 (got 1048577)", Error);
    CHECK_THROWS_WITH_AS(with({{"axis", "65"}}), "--axis 65 is out of range", Error);
    CHECK_THROWS_WITH_AS(with({{"blockSize", "0"}}), "--block-size must be at least 1", Error);
    CHECK_THROWS_WITH_AS(with({{"groupSize", "-2"}}), "--group-size must be at least 1", Error);
    CHECK_THROWS_WITH_AS(with({{"blockSize", "9007199254740992"}}),
                         "--block-size must be at most 9007199254740991 (got 9007199254740992)", Error);
    CHECK_THROWS_WITH_AS(with({{"--raw-offset", "-1"}}, RequestContext::single), "--raw-offset must not be negative",
                         Error);
    CHECK_THROWS_WITH_AS(with({{"bits", "4.5"}}), "invalid value '4.5' for --bits (expected an integer)", Error);
    CHECK_THROWS_WITH_AS(with({{"axis", ""}}), "invalid value '' for --axis (expected an integer)", Error);
    CHECK_THROWS_WITH_AS(with({{"blockSize", "99999999999999999999"}}),
                         "invalid value '99999999999999999999' for --block-size (expected an integer)", Error);
  }
  SUBCASE("numbers are float32 read from the text") {
    CHECK(*with({{"scale", "0.037"}}).params.scale == 0.037f);
    CHECK(*with({{"zeroPoint", "-3"}}).params.zero_point == -3.0f);
    CHECK(*with({{"scale", "1e-40"}}).params.scale == 1e-40f);  // subnormal: representable
    for (const char* bad : {"abc", "", "+1", " 1", "1e40", "1e-50", "inf", "nan", "0x10", "1e"})
      CHECK_THROWS_WITH_AS(with({{"scale", bad}}),
                           ("invalid value '" + std::string(bad) + "' for --scale (expected a finite number)").c_str(),
                           Error);
  }
  SUBCASE("choices, with today's messages") {
    Request r = with({{"mode", "symmetric"}, {"range", "percentile:99.9"}, {"rounding", "stochastic:7"},
                      {"profile", "ort-tool"}, {"pack", "awq"}, {"scaleRule", "rceil"}, {"zeroPointDomain", "float"},
                      {"granularity", "block"}, {"dtype", "uint4"}});
    CHECK(r.options.mode == Mode::symmetric);
    CHECK(r.options.range == RangeMethod::percentile);
    CHECK(r.options.percentile == doctest::Approx(99.9));
    CHECK(r.options.seed == 7);
    CHECK(r.options.profile == Profile::ort_tool);
    CHECK(r.options.pack == PackOrder::awq);
    CHECK(r.options.scale_rule == ScaleRule::rceil);
    CHECK(r.options.zero_point_domain == ZeroPointDomain::floating);
    CHECK(r.options.code == integer_code({4, false}));
    CHECK_THROWS_WITH_AS(with({{"mode", "x"}}), "invalid value 'x' for --mode (allowed: asymmetric, symmetric)", Error);
    CHECK_THROWS_WITH_AS(with({{"range", "percentile:0"}}),
                         "invalid value 'percentile:0' for --range (allowed: minmax, percentile:P (0 < P <= 100), mse, "
                         "kl, aciq)",
                         Error);
    CHECK_THROWS_WITH_AS(with({{"rounding", "up"}}),
                         "invalid value 'up' for --rounding (allowed: half-even, half-away, half-up, stochastic:SEED)",
                         Error);
    CHECK_THROWS_WITH_AS(with({{"pack", "none"}}),
                         "invalid value 'none' for --pack (allowed: low-first, high-first, gptq, awq, ggml)", Error);
    CHECK_THROWS_WITH_AS(with({{"profile", "tf"}}),
                         "invalid value 'tf' for --profile (allowed: custom, seed, pytorch, onnx, ort-tool, bnb, mx, ggml)",
                         Error);
    CHECK_THROWS_WITH_AS(with({{"--observer", "ema"}}, RequestContext::single),
                         "invalid value 'ema' for --observer (allowed: minmax, moving-average:C (0 < C <= 1))", Error);
    CHECK_THROWS_WITH_AS(with({{"--raw-endian", "middle"}}, RequestContext::single),
                         "invalid value 'middle' for --raw-endian (allowed: little, big)", Error);
  }
  SUBCASE("text, paths and the raw flags") {
    Request r = with({{"-o", "a.npz"}, {"--calibrate", "a.npy"}, {"--calibrate", "b.npy"}, {"--tensor", "w"},
                      {"--raw-dtype", "float16"}, {"--raw-shape", "2,-1"}},
                     RequestContext::single);
    CHECK(r.output == "a.npz");
    CHECK(r.params.calibration_files == std::vector<std::string>{"a.npy", "b.npy"});
    CHECK(r.tensor == "w");
    CHECK(r.raw_dtype == DType::f16);
    CHECK(r.raw_shape == Shape{2, -1});
    CHECK_THROWS_WITH_AS(with({{"-o", ""}}, RequestContext::single), "empty file name for -o", Error);
    CHECK_THROWS_WITH_AS(with({{"--report", ""}}, RequestContext::single), "empty file name for --report", Error);
    CHECK_THROWS_WITH_AS(with({{"--output", "a"}, {"-o", "b"}}, RequestContext::single),
                         "--output given more than once", Error);
    try {
      with({{"--raw-dtype", "f33"}}, RequestContext::single);
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(std::string(e.what()).ends_with(" for --raw-dtype"));
    }
  }
  SUBCASE("unknown options, worded for the context") {
    CHECK_THROWS_WITH_AS(with({{"--x", "1"}}, RequestContext::single), "unknown option '--x' for quantize (see qplay --help)",
                         Error);
    CHECK_THROWS_WITH_AS(with({{"--all", ""}}, RequestContext::whole_file_rule), "unknown option '--all' in an --override",
                         Error);
    CHECK_THROWS_WITH_AS(with({{"--dtype", "int8"}}, RequestContext::info),
                         "unknown option '--dtype' for info (see qplay --help)", Error);
    try {
      with({{"output", "a.npz"}});
      FAIL("no error");
    } catch (const Error& e) {
      const std::string m = e.what();
      CHECK(m.starts_with("unknown option 'output' (allowed: "));
      CHECK(m.find("blockSize") != std::string::npos);
      CHECK(m.find("rawDtype") == std::string::npos);
    }
    // The JS API names options by key only: a CLI flag, "-o", "--no-saturate" or "INPUT" is unknown there.
    for (const char* flag : {"--dtype", "-o", "--no-saturate", "INPUT", "--block-size"}) {
      CAPTURE(flag);
      const std::string expected = "unknown option '" + std::string(flag) + "' (allowed: ";
      CHECK(error_of([&] { with({{flag, "1"}}); }).starts_with(expected));
    }
    CHECK(with({{"blockSize", "4"}}).options.block_size == 4);
  }
}

TEST_CASE("request: params sources are spelled once") {
  for (ParamsKind k : {ParamsKind::dynamic, ParamsKind::given, ParamsKind::calibrated})
    CHECK(parse_params_source(params_kind_name(k)) == k);
  CHECK(params_kind_name(ParamsKind::calibrated) == "calibrated");
  CHECK(error_of([] { parse_params_source("static"); }) ==
        "invalid value 'static' for params.source (allowed: given, calibrated, dynamic)");
}

TEST_CASE("request: parse_arguments walks the command line") {
  Request r;
  const std::vector<std::string> words = {"in.npy", "--axis", "-1", "--granularity=channel", "--calibrate",
                                          "a.npy",  "b.npy",  "-o",  "out.npz",               "--",
                                          "-odd"};
  parse_arguments(r, words, RequestContext::single);
  CHECK(r.options.axis == -1);
  CHECK(r.options.granularity == Granularity::channel);
  CHECK(r.params.calibration_files == std::vector<std::string>{"a.npy", "b.npy"});
  CHECK(r.output == "out.npz");
  CHECK(r.positionals == std::vector<std::string>{"in.npy", "-odd"});
  const auto error = [](std::vector<std::string> w) {
    Request q;
    try {
      parse_arguments(q, w, RequestContext::single);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  CHECK(error({"--narrow=1"}) == "--narrow takes no value (got '1')");
  CHECK(error({"--dtype"}) == "missing value for --dtype");
  CHECK(error({"--dtype", "--mode", "symmetric"}) == "missing value for --dtype");
  CHECK(error({"--dtype", "int8", "--dtype"}) == "--dtype given more than once");
  Request h;
  parse_arguments(h, std::vector<std::string>{"--dtype", "int4", "-h", "--frob"}, RequestContext::single);
  CHECK(h.help);
}

TEST_CASE("request: validate, every cross-check with its message") {
  CHECK(cli_error({}) == "(no error)");
  CHECK(cli_error({{"-o", "x.npz"}}, false) == "quantize needs an INPUT file");
  CHECK(cli_error({{"-o", "x.npz"}, {"--calibrate", "a.npy"}}, false) ==
        "quantize needs an INPUT file (--calibrate takes every following file name; put INPUT first)");
  CHECK(cli_error({{"INPUT", "b.npy"}}) == "quantize takes one INPUT file, got 2: 'in.npy', 'b.npy'");
  CHECK(cli_error({{"INPUT", "b.npy"}, {"--calibrate", "c.npy"}}) ==
        "quantize takes one INPUT file, got 2: 'in.npy', 'b.npy' (use --calibrate A B ... for calibration files)");
  CHECK(cli_error({{"INPUT", "in.npy"}}, false) == "quantize needs -o OUT.npz (or -o OUT.safetensors)");
  CHECK(cli_error({{"--raw-shape", "4,6"}}) == "raw input needs --raw-dtype (the --raw-* flags describe a raw binary file)");
  CHECK(cli_error({{"--raw-dtype", "float32"}}) == "raw input needs --raw-shape (e.g. --raw-shape 4,6)");
  CHECK(cli_error({{"--scale", "1"}, {"--params", "p.npz"}}) == "conflicting params sources: --scale and --params (pick one)");
  CHECK(cli_error({{"--params", "p.npz"}, {"--calibrate", "a.npy"}}) ==
        "conflicting params sources: --params and --calibrate (pick one)");
  CHECK(cli_error({{"--zero-point", "1"}}) == "--zero-point needs --scale");
  CHECK(cli_error({{"--zero-point", "1"}, {"--params", "p.npz"}}) ==
        "--zero-point needs --scale (with --params the zero points come from P)");
  CHECK(cli_error({{"--observer", "minmax"}}) == "--observer needs --calibrate");
  CHECK(cli_error({{"--format", "q4_0"}, {"--scale", "1"}}) ==
        "--format q4_0 computes its own block scales from INPUT; --scale applies to integer dtypes");
  CHECK(cli_error({{"--dtype", "nf4"}, {"--params", "p.npz"}}) ==
        "--dtype nf4 computes its own scales from INPUT; --params applies to integer dtypes");
  CHECK(cli_error({{"--bits", "3"}}) == "--bits sets the width of --dtype pow2 or kmeans (--dtype int8 has its own)");
  CHECK(cli_error({{"--range", "kl"}, {"--scale", "1"}}) == "--range kl picks dynamic ranges; it has no effect with --scale");
  CHECK(cli_error({{"--range", "mse"}, {"--calibrate", "a.npy"}}) ==
        "--range mse picks dynamic ranges; it has no effect with --calibrate (use --observer)");
  CHECK(cli_error({{"--report", "r.csv"}}) == "--report needs --all (the per-tensor report of whole-file mode)");
  CHECK(cli_error({{"--override", "a:keep"}}) == "--override needs --all");
  CHECK(cli_error({{"--all", ""}, {"--tensor", "w"}}) == "--all quantizes every tensor; drop --tensor (or --override to pick)");
  CHECK(cli_error({{"--all", ""}, {"--scale", "1"}}) ==
        "--scale does not apply to --all (each tensor's params are computed from the tensor)");
  CHECK(cli_error({{"--profile", "onnx"}, {"--rounding", "half-up"}}) ==
        "--profile onnx fixes --rounding to half-even (got half-up)");
  CHECK(cli_error({{"--granularity", "block"}}) == "--granularity block needs --block-size");
  CHECK(cli_error({{"--dtype", "uint1"}, {"--narrow", ""}}) ==
        "the code range of uint1 with --narrow is [0, 0]: it needs at least two codes");
  CHECK(cli_error({{"INPUT", "in.npy"}, {"-o", "x.gguf"}}, false) ==
        "-o x.gguf writes a GGUF tensor in a ggml block format: add --format (q8_0, q4_k, ...) or --profile ggml, or "
        "write an .npz bundle");
  CHECK(cli_error({{"INPUT", "in.npy"}, {"-o", "x.safetensors"}, {"--format", "q8_0"}}, false) ==
        "--format q8_0 writes ggml blocks: use -o OUT.gguf (llama.cpp's file) or -o OUT.npz (the bundle with "
        "blocks.npy), not .safetensors");

  CHECK(rule_error({{"--dtype", "int4"}}) == "(no error)");
  CHECK(rule_error({{"INPUT", "x"}}) == "unexpected 'x' (an override takes options only)");
  CHECK(rule_error({{"-o", "y.npz"}}) == "an override takes quantization options only (not -o, --tensor or --json)");
  CHECK(rule_error({{"--calibrate", "a.npy"}}) ==
        "--calibrate does not apply to an --override (each tensor's params are computed from the tensor)");

  SUBCASE("the JS API: no INPUT or -o needed; arrays and calibrate() as params sources") {
    Request r = validated({{"profile", "bnb"}}, RequestContext::api);
    CHECK(r.options.code.name() == "nf4");  // the profile's default, applied
    Request given = with({{"zeroPoint", "1"}});
    given.params.arrays = GivenParams{{2}, {1.0f, 2.0f}, {}};
    CHECK_THROWS_WITH_AS(validate(given, RequestContext::api),
                         "--zero-point needs --scale (with --params the zero points come from P)", Error);
    Request calibrated = with({{"scale", "1"}});
    calibrated.params.calibrating = true;
    CHECK_THROWS_WITH_AS(validate(calibrated, RequestContext::api),
                         "conflicting params sources: --scale and --calibrate (pick one)", Error);
    Request from_calibration;
    from_calibration.params.arrays = GivenParams{{}, {0.5f}, {}};
    from_calibration.params.arrays_calibrated = true;
    validate(from_calibration, RequestContext::api);
    CHECK(from_calibration.params.kind == ParamsKind::calibrated);
  }
}

TEST_CASE("request: parse_override") {
  const TensorRule keep = parse_override("lm_head.*: keep");
  CHECK(keep.keep);
  CHECK(keep.pattern == "lm_head.*");
  const TensorRule rule = parse_override("*.weight:--dtype uint8\t--granularity channel");
  CHECK(!rule.keep);
  CHECK(rule.options.code == integer_code({8, false}));
  CHECK(rule.options.granularity == Granularity::channel);
  CHECK_THROWS_WITH_AS(parse_override("nocolon"),
                       "invalid --override 'nocolon' (expected 'PATTERN:keep' or 'PATTERN:--dtype int8 ...')", Error);
  CHECK_THROWS_WITH_AS(parse_override("a: "), "--override 'a: ' has no options (use 'PATTERN:keep' to keep tensors)",
                       Error);
  CHECK_THROWS_WITH_AS(parse_override("a:--all"), "--override 'a': unknown option '--all' in an --override", Error);
  CHECK_THROWS_WITH_AS(parse_override("a:--bits 3"),
                       "--override 'a': --bits sets the width of --dtype pow2 or kmeans (--dtype int8 has its own)", Error);
}

TEST_CASE("request: describe") {
  SUBCASE("custom int8") {
    const Description d = describe(validated({}));
    CHECK(d.family == "integer");
    CHECK(d.bits == 8);
    CHECK(d.range.qmin == -128);
    CHECK(d.range.qmax == 127);
    CHECK(d.locked.empty());
    CHECK(d.levels.empty());
    CHECK(d.division == "divide");
    CHECK(effective_of(d, "dtype") == "int8");
    CHECK(!d.double_quant_applies);
  }
  SUBCASE("pytorch") {
    const Description d = describe(validated({{"profile", "pytorch"}, {"granularity", "channel"}}));
    CHECK(lock_of(d, "rounding") == "half-even (profile)");
    CHECK(d.division == "multiply-inverse");
    CHECK(d.double_quant_applies);
  }
  SUBCASE("onnx and ort-tool") {
    const Description onnx = describe(validated({{"profile", "onnx"}, {"dtype", "uint8"}}));
    CHECK(lock_of(onnx, "zeroPointDomain") == "int (profile)");
    CHECK(lock_of(onnx, "reduceRange") == "false (profile)");
    const Description ort = describe(validated({{"profile", "ort-tool"}, {"mode", "symmetric"}}));
    CHECK(lock_of(ort, "narrow") == "false (profile)");
    CHECK(ort.range.qmin == -127);
  }
  SUBCASE("bnb fixes blockSize 64 by default, the flattened axis and high-first packing") {
    const Description d = describe(validated({{"profile", "bnb"}}));
    CHECK(effective_of(d, "dtype") == "nf4");
    CHECK(effective_of(d, "blockSize") == "64");
    CHECK(lock_of(d, "granularity") == "block (profile)");
    CHECK(lock_of(d, "axis") == "0 (profile)");
    CHECK(lock_of(d, "pack") == "high-first (profile)");
    CHECK(lock_of(d, "mode") == "symmetric (element)");
    CHECK(lock_of(d, "profile").empty());  // nf4 may take --profile bnb
    CHECK(d.profile_defaults == Pairs{{"dtype", "nf4"}, {"blockSize", "64"}});
    CHECK(d.family == "lut");
    QuantOptions nf4;
    nf4.code = parse_dtype("nf4");
    CHECK(d.levels == element_codebook(nf4).values());
  }
  SUBCASE("mx") {
    const Description d = describe(validated({{"profile", "mx"}}));
    CHECK(effective_of(d, "dtype") == "mxfp8_e4m3");
    CHECK(lock_of(d, "scaleRule") == "floor (profile)");
    CHECK(lock_of(d, "blockSize") == "32 (element)");
    CHECK(lock_of(d, "rounding") == "half-even (profile)");
    CHECK(d.levels.size() == 256);
    CHECK(d.levels[0x7e] == 448.0f);  // E4M3's largest normal
    CHECK(!d.double_quant_applies);
  }
  SUBCASE("ggml") {
    const Description q8 = describe(validated({{"profile", "ggml"}}));
    CHECK(effective_of(q8, "format") == "q8_0");
    CHECK(q8.family == "ggml");
    CHECK(lock_of(q8, "axis") == "-1 (element)");
    CHECK(lock_of(q8, "blockSize") == "32 (element)");
    CHECK(q8.levels.size() == 256);
    CHECK(q8.levels.front() == -128.0f);
    const Description q2 = describe(validated({{"format", "q2_k"}}));
    CHECK(lock_of(q2, "blockSize") == "16 (element)");
    CHECK(q2.levels == std::vector<float>{0, 1, 2, 3});
    const Description iq = describe(validated({{"format", "iq4_nl"}}));
    CHECK(iq.levels.size() == 16);
    CHECK(iq.levels[0] == float(ggml_codebook(GgmlType::iq4_nl)[0]));
  }
  SUBCASE("custom elements") {
    const Description fp8 = describe(validated({{"dtype", "fp8_e4m3fn"}, {"rounding", "half-away"}}));
    CHECK(lock_of(fp8, "rounding").empty());  // small floats round half-even or half-away
    CHECK(lock_of(fp8, "profile") == "custom (element)");
    CHECK(effective_of(fp8, "saturate") == "true");
    const Description pow2 = describe(validated({{"dtype", "pow2"}, {"bits", "3"}}));
    CHECK(pow2.levels.size() == 8);
    CHECK(describe(validated({{"dtype", "kmeans"}})).levels.empty());
  }
}

TEST_CASE("request: run matches the quantizer's entry points bit for bit") {
  const std::vector<float> values = ramp(24, 0.37f, -4.1f);
  const TensorViewF32 x{{4, 6}, values};
  RunInfo info;
  info.input_file = "x.npy";

  SUBCASE("dynamic") {
    for (const Pairs& options : {Pairs{}, Pairs{{"granularity", "channel"}, {"axis", "1"}, {"range", "mse"}},
                                 Pairs{{"dtype", "nf4"}, {"granularity", "block"}, {"blockSize", "3"}, {"axis", "-1"}},
                                 Pairs{{"dtype", "pow2"}, {"bits", "3"}}}) {
      const Request r = validated(options);
      const RunResult got = run(r, x, info);
      check_same(got.q, quantize_dynamic(x, r.options));
      CHECK(same_bytes(got.dequantized, dequantize(got.q)));
      CHECK(got.info.params_source == "dynamic");
    }
  }
  SUBCASE("given: a scalar and arrays") {
    const Request scalar = validated({{"scale", "0.037"}, {"zeroPoint", "3"}});
    const RunResult got = run(scalar, x, info);
    const GivenParams g{{}, {0.037f}, {3.0f}};
    check_same(got.q, quantize(x, given_params(g, plan_granularity(x.shape, scalar.options), scalar.options), scalar.options));
    CHECK(got.info.params_source == "given");

    Request arrays = with({{"granularity", "channel"}});
    arrays.params.arrays = GivenParams{{4}, {0.1f, 0.2f, 0.3f, 0.4f}, {1, 2, 3, 4}};
    validate(arrays, RequestContext::api);
    const RunResult a = run(arrays, x, info);
    check_same(a.q, quantize(x, given_params(*arrays.params.arrays, plan_granularity(x.shape, arrays.options), arrays.options),
                             arrays.options));
  }
  SUBCASE("calibrated") {
    const std::vector<float> c1 = ramp(24, 0.2f, -3.0f), c2 = ramp(24, 0.5f, -5.0f);
    const std::vector<TensorViewF32> views = {{{4, 6}, c1}, {{4, 6}, c2}};
    Request r = with({{"granularity", "channel"}});
    set_option(r, "--calibrate", "c1.npy", RequestContext::single);
    set_option(r, "--observer", "moving-average:0.5", RequestContext::single);
    validate(r, RequestContext::api);
    const RunResult got = run(r, x, info, views);
    CalibrationOptions calib;
    calib.observer = Observer::moving_average;
    calib.averaging_constant = 0.5;
    check_same(got.q, quantize(x, calibrate_params(views, r.options, calib), r.options));
    CHECK(got.info.params_source == "calibrated");
    CHECK(got.info.observer == "moving-average:0.5");

    const std::vector<float> other = ramp(6, 0.2f, -1.0f);
    const std::vector<TensorViewF32> wrong = {{{6}, other}};
    CHECK_THROWS_WITH_AS(run(r, x, info, wrong),
                         "calibration gives params of shape (6,), but x.npy of shape (4, 6) needs (4,) (calibrate with "
                         "tensors shaped like the input)",
                         Error);
  }
}

TEST_CASE("request: params_from_npz") {
  std::ifstream f(std::string(QPLAY_TEST_DATA) + "/params_4x6_axis0.npz", std::ios::binary);
  const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  REQUIRE(!bytes.empty());
  const GivenParams g = params_from_npz(bytes);
  CHECK(g.shape == Shape{4});
  CHECK(g.scale.size() == 4);
  CHECK(g.zero_point.size() == 4);
  CHECK_THROWS_WITH_AS(params_from_npz(std::vector<uint8_t>{1, 2, 3, 4}),
                       "--params needs an .npz holding scale.npy and zero_point.npy (this file is not a zip)", Error);
}

TEST_CASE("request: help and README tables list every command-line option") {
  const std::string help = options_help();
  const std::string table = options_markdown_table();
  for (const OptionSpec& s : option_table()) {
    if (!s.flag.starts_with("--")) continue;
    const std::string shown = s.flag == "--output" ? "-o, --output" : std::string(s.flag);
    CHECK_MESSAGE(help.find("\n  " + shown) != std::string::npos, s.flag);
    CHECK_MESSAGE(table.find(std::string(s.flag)) != std::string::npos, s.flag);
  }
  CHECK(help.find("--no-saturate") != std::string::npos);
  CHECK(help.find("  -o, --output") != std::string::npos);
}

TEST_CASE("request: README's option table is the generated one") {
  std::ifstream f(std::string(QPLAY_TEST_DATA) + "/../../README.md", std::ios::binary);
  const std::string readme{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  REQUIRE(!readme.empty());
  const size_t marker = readme.find("<!-- options:");
  REQUIRE(marker != std::string::npos);
  const size_t begin = readme.find("-->\n", marker);
  const size_t end = readme.find("<!-- /options -->", marker);
  REQUIRE(begin != std::string::npos);
  REQUIRE(end != std::string::npos);
  const std::string copy = readme.substr(begin + 4, end - begin - 4);
  // On failure: paste options_markdown_table() between the markers.
  CHECK(copy == options_markdown_table());
}
