#include "options.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string_view>

namespace qplay::js {

namespace {

// JS option name -> the CLI flag whose spelling and messages it shares.
struct OptionName {
  const char* js;
  const char* flag;
};
constexpr OptionName kOptions[] = {
    {"dtype", "--dtype"},           {"mode", "--mode"},
    {"narrow", "--narrow"},         {"reduceRange", "--reduce-range"},
    {"granularity", "--granularity"}, {"axis", "--axis"},
    {"groupSize", "--group-size"},  {"blockSize", "--block-size"},
    {"range", "--range"},           {"scale", "--scale"},
    {"zeroPoint", "--zero-point"},  {"params", "--params"},
    {"rounding", "--rounding"},     {"zeroPointDomain", "--zero-point-domain"},
    {"profile", "--profile"},       {"bins", "--bins"},
    {"tensor", "--tensor"},         {"fileName", "INPUT"},
    {"saturate", "--saturate"},     {"bits", "--bits"},
    {"pack", "--pack"},             {"scaleRule", "--scale-rule"},
    {"doubleQuant", "--double-quant"},
    {"format", "--format"},
};

std::string option_list() {
  std::string s;
  for (const auto& o : kOptions) s += (s.empty() ? "" : ", ") + std::string(o.js);
  return s;
}

// The text std::from_chars accepts for a float: [-]digits[.digits][e[+-]digits] (no '+', space or hex).
bool decimal_text(std::string_view s) {
  size_t i = s.starts_with('-') ? 1 : 0;
  const auto digits = [&] {
    const size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  size_t mantissa = digits();
  if (i < s.size() && s[i] == '.') {
    ++i;
    mantissa += digits();
  }
  if (mantissa == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// A finite float32 given as a JS number (rounded to float32) or as the CLI's text (read directly as
// float32, like the CLI, so "0.037" gives the same scale bits in both).
float float_option(const val& v, const char* flag) {
  const std::string bad = "invalid value '" + js_text(v) + "' for " + flag + " (expected a finite number)";
  float f = 0;
  if (v.isNumber()) {
    f = static_cast<float>(v.as<double>());
  } else if (v.isString()) {
    const std::string text = v.as<std::string>();
    if (!decimal_text(text)) throw Error(bad);
    f = std::strtof(text.c_str(), nullptr);  // correctly rounded, as from_chars
    // from_chars reports a nonzero value that underflows to 0 as out of range; so does the CLI.
    const std::string mantissa = text.substr(0, text.find_first_of("eE"));
    if (f == 0 && mantissa.find_first_of("123456789") != std::string::npos) throw Error(bad);
  } else {
    throw Error(bad);
  }
  if (!std::isfinite(f)) throw Error(bad);
  return f;
}

// The `params` option: {scale, zeroPoint?, shape?, source?, observer?, files?} — the params of a
// calibrate call or of an earlier result (their informational keys are accepted and not used).
ParamsSource params_from_js(const val& p) {
  static const char* const kKeys[] = {"scale", "zeroPoint", "shape", "source", "observer", "files",
                                      "floatZeroPoint", "qmin", "qmax", "axis"};
  for (const auto& key : keys_of(p, "params")) {
    if (std::none_of(std::begin(kKeys), std::end(kKeys), [&](const char* k) { return key == k; }))
      throw Error("unknown key '" + key + "' in params (allowed: scale, zeroPoint, shape, source, observer, files; " +
                  "floatZeroPoint, qmin, qmax and axis are accepted and ignored)");
  }
  ParamsSource s;
  s.kind = "given";
  s.flag = "--params";
  if (absent(p["scale"])) throw Error("params needs scale (a Float32Array shaped for the granularity)");
  s.given.scale = floats_from_js(p["scale"], "params.scale");
  if (!absent(p["zeroPoint"])) s.given.zero_point = floats_from_js(p["zeroPoint"], "params.zeroPoint");
  if (!absent(p["shape"])) {
    s.given.shape = shape_from_js(p["shape"], "params.shape");
  } else if (s.given.scale.size() != 1) {
    s.given.shape = {static_cast<int64_t>(s.given.scale.size())};
  }
  if (!absent(p["source"])) {
    const std::string source = string_option(p["source"], "params.source");
    if (source == "calibrated") {
      s.kind = "calibrated";
      s.flag = "--calibrate";
    } else if (source != "given" && source != "dynamic") {
      throw Error("invalid value '" + source + "' for params.source (allowed: given, calibrated, dynamic)");
    }
  }
  if (s.kind == "calibrated" && !absent(p["observer"])) s.observer = string_option(p["observer"], "params.observer");
  if (!absent(p["files"])) s.files = strings_from_js(p["files"], "params.files");
  return s;
}

val params_source_to_js(const ParamsSource& s) {
  if (s.kind == "dynamic") return val::null();
  val p = val::object();
  p.set("source", s.kind);
  p.set("observer", s.observer.empty() ? val::null() : val(s.observer));
  p.set("files", string_array(s.files));
  p.set("shape", shape_to_js(s.given.shape));
  p.set("scale", f32_to_js(s.given.scale));
  p.set("zeroPoint", s.given.zero_point.empty() ? val::null() : f32_to_js(s.given.zero_point));
  return p;
}

}  // namespace

ParamsSource params_source_from_js(const val& p) {
  ParamsSource s;
  if (absent(p)) return s;
  s.kind = p["source"].as<std::string>();
  s.flag = s.kind == "calibrated" ? "--calibrate" : "--params";
  if (!p["observer"].isNull()) s.observer = p["observer"].as<std::string>();
  s.files = strings_from_js(p["files"], "params.files");
  s.given.shape = shape_from_js(p["shape"], "params.shape");
  s.given.scale = floats_from_js(p["scale"], "params.scale");
  if (!p["zeroPoint"].isNull()) s.given.zero_point = floats_from_js(p["zeroPoint"], "params.zeroPoint");
  return s;
}

// parseOptions(options, calibrating): the user's option object -> {ok, options (QuantOptions), params,
// tensor, fileName}. Checks what the CLI checks, in its order and with its messages; `calibrating`
// stands for --calibrate being on the command line.
val parse_options(val js, bool calibrating) {
  return guarded([&] {
    QuantOptions o;
    ExplicitOptions x;
    std::optional<float> scale, zero_point;
    std::optional<ParamsSource> given_arrays;
    std::string tensor, file_name;
    bool have_file_name = false;
    bool bits_given = false;

    const std::vector<std::string> keys = absent(js) ? std::vector<std::string>{} : keys_of(js, "options");
    for (const auto& key : keys)
      if (std::none_of(std::begin(kOptions), std::end(kOptions), [&](const OptionName& n) { return key == n.js; }))
        throw Error("unknown option '" + key + "' (allowed: " + option_list() + ")");

    for (const auto& name : kOptions) {
      if (absent(js)) break;
      const val v = js[name.js];
      if (absent(v)) continue;
      const std::string key = name.js;
      const char* flag = name.flag;
      if (key == "dtype") {
        parse_dtype(string_option(v, flag), o);
        x.dtype = true;
      } else if (key == "format") {
        parse_format(string_option(v, flag), o);
        x.format = true;
      } else if (key == "mode") {
        o.mode = parse_mode(string_option(v, flag));
        x.mode = true;
      } else if (key == "narrow") {
        o.narrow = bool_option(v, flag);
        x.narrow = true;
      } else if (key == "reduceRange") {
        o.reduce_range = bool_option(v, flag);
        x.reduce_range = true;
      } else if (key == "granularity") {
        o.granularity = parse_granularity(string_option(v, flag));
        x.granularity = true;
      } else if (key == "saturate") {
        o.saturate = bool_option(v, flag);
        x.saturate = true;
      } else if (key == "scaleRule") {
        o.scale_rule = parse_scale_rule(string_option(v, flag));
        x.scale_rule = true;
      } else if (key == "doubleQuant") {
        o.double_quant = bool_option(v, flag);
      } else if (key == "bits") {
        const int64_t b = integer_option(v, flag);
        if (b < 1 || b > 8) throw Error("--bits must be between 1 and 8 (got " + std::to_string(b) + ")");
        o.element_bits = static_cast<int>(b);
        bits_given = true;
      } else if (key == "pack") {
        o.pack = parse_pack(string_option(v, flag));
        x.pack = true;
      } else if (key == "axis") {
        const int64_t a = integer_option(v, flag);
        if (a < -64 || a > 64) throw Error("--axis " + std::to_string(a) + " is out of range");
        o.axis = static_cast<int>(a);
        x.axis = true;
      } else if (key == "groupSize") {
        o.group_size = integer_option(v, flag);
        if (o.group_size < 1) throw Error("--group-size must be at least 1");
        x.group_size = true;
      } else if (key == "blockSize") {
        o.block_size = integer_option(v, flag);
        if (o.block_size < 1) throw Error("--block-size must be at least 1");
        x.block_size = true;
      } else if (key == "range") {
        parse_range(string_option(v, flag), o);
        x.range = true;
      } else if (key == "scale") {
        scale = float_option(v, flag);
      } else if (key == "zeroPoint") {
        zero_point = float_option(v, flag);
      } else if (key == "params") {
        given_arrays = params_from_js(v);
      } else if (key == "rounding") {
        parse_rounding(string_option(v, flag), o);
        x.rounding = true;
      } else if (key == "zeroPointDomain") {
        o.zero_point_domain = parse_zero_point_domain(string_option(v, flag));
        x.zero_point_domain = true;
      } else if (key == "profile") {
        o.profile = parse_profile(string_option(v, flag));
      } else if (key == "bins") {
        const int64_t b = integer_option(v, flag);
        if (b < 1 || b > (1 << 20))
          throw Error("--bins must be between 1 and 1048576 (got " + std::to_string(b) + ")");
        o.histogram_bins = static_cast<int>(b);
      } else if (key == "tensor") {
        tensor = string_option(v, flag);
      } else if (key == "fileName") {
        file_name = string_option(v, "fileName");
        have_file_name = true;
      }
    }

    // At most one params source (the CLI's order: --scale, --params, --calibrate).
    std::vector<std::string> sources;
    if (scale) sources.push_back("--scale");
    if (given_arrays) sources.push_back(given_arrays->flag);
    if (calibrating) sources.push_back("--calibrate");
    if (sources.size() > 1)
      throw Error("conflicting params sources: " + sources[0] + " and " + sources[1] + " (pick one)");
    if (zero_point && !scale)
      throw Error(!given_arrays || given_arrays->kind == "calibrated"
                      ? "--zero-point needs --scale"
                      : "--zero-point needs --scale (with --params the zero points come from P)");
    if (o.element == ElementKind::ggml && !sources.empty())
      throw Error("--format " + o.element_name + " computes its own block scales from INPUT; " + sources[0] +
                  " applies to integer dtypes");
    if (o.element != ElementKind::integer && !sources.empty())
      throw Error("--dtype " + o.element_name + " computes its own scales from INPUT; " + sources[0] +
                  " applies to integer dtypes");
    if (bits_given && o.element != ElementKind::pow2 && o.element != ElementKind::kmeans)
      throw Error("--bits sets the width of --dtype pow2 or kmeans (--dtype " + dtype_spelling(o) + " has its own)");
    if (x.range && o.range != RangeMethod::minmax && !sources.empty())
      throw Error("--range " + range_name(o) + " picks dynamic ranges; it has no effect with " + sources[0] +
                  (sources[0] == "--calibrate" ? " (use --observer)" : ""));
    apply_profile(o, x);  // also checks which granularity options go together
    (void)code_range(o);

    ParamsSource source;
    if (scale) {
      source.kind = "given";
      source.flag = "--scale";
      source.given.scale = {*scale};
      if (zero_point) source.given.zero_point = {*zero_point};
    } else if (given_arrays) {
      source = std::move(*given_arrays);
    }

    val r = success();
    r.set("options", o);
    r.set("params", params_source_to_js(source));
    r.set("tensor", tensor);
    r.set("fileName", have_file_name ? val(file_name) : val::undefined());
    return r;
  });
}

val parse_observer_js(val text) {
  return guarded([&] {
    val r = success();
    r.set("observer", parse_observer(string_option(text, "--observer")));
    return r;
  });
}

// The options in the user's spelling (what the result reports; valid input to a later quantize).
val options_to_js(const QuantOptions& o) {
  val v = val::object();
  // A ggml run is named by --format (its name is no --dtype).
  if (o.element == ElementKind::ggml) v.set("format", o.element_name);
  else v.set("dtype", dtype_spelling(o));
  v.set("mode", std::string(mode_name(o.mode)));
  v.set("narrow", o.narrow);
  v.set("reduceRange", o.reduce_range);
  v.set("granularity", std::string(granularity_name(o.granularity)));
  v.set("axis", o.axis);
  if (o.group_size) v.set("groupSize", double(o.group_size));
  if (o.block_size) v.set("blockSize", double(o.block_size));
  v.set("range", range_name(o));
  v.set("rounding", rounding_name(o));
  v.set("zeroPointDomain", std::string(zero_point_domain_name(o.zero_point_domain)));
  v.set("profile", std::string(profile_name(o.profile)));
  v.set("bins", o.histogram_bins);
  // Element and packing options only where they apply, so integer results keep their shape.
  if (o.element == ElementKind::minifloat) v.set("saturate", o.saturate);
  if (o.element == ElementKind::pow2 || o.element == ElementKind::kmeans) v.set("bits", o.element_bits);
  if (o.pack != PackOrder::none) v.set("pack", std::string(pack_order_name(o.pack)));
  if (o.element == ElementKind::mx) v.set("scaleRule", std::string(scale_rule_name(o.scale_rule)));
  if (o.double_quant) v.set("doubleQuant", true);
  return v;
}

}  // namespace qplay::js
