// The JS API of the wasm modules (the only file that includes <emscripten/bind.h>); web/lib/qplay.js
// wraps it. Rules at this boundary:
//  - options cross as the QuantOptions value object with enums, parsed from the user's spellings by
//    parseOptions with the core's spelling table (so messages are the CLI's);
//  - every call returns {ok: true, ...} or {ok: false, error}: no C++ exception crosses;
//  - input bytes are copied into the heap once; outputs are copied into JS-owned typed arrays before
//    the C++ buffers die, so nothing handed to JS views the heap (it moves when memory grows).
#include <emscripten/bind.h>

#include <algorithm>
#include <cmath>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/kernels.hpp"
#include "qplay/error.hpp"
#include "qplay/export.hpp"
#include "qplay/formats.hpp"
#include "qplay/options.hpp"
#include "qplay/quantize.hpp"
#include "qplay/tensor.hpp"
#include "qplay/wholefile.hpp"

namespace {

using emscripten::val;
using namespace qplay;

// ---- {ok, error} ---------------------------------------------------------------------------------

val success() {
  val r = val::object();
  r.set("ok", true);
  return r;
}

val failure(const std::string& message) {
  val r = val::object();
  r.set("ok", false);
  r.set("error", message);
  return r;
}

// Runs a binding body; any C++ exception becomes {ok: false, error}.
template <class F> val guarded(F&& body) {
  try {
    return body();
  } catch (const Error& e) {
    return failure(e.what());
  } catch (const std::bad_alloc&) {
    return failure("out of memory (the wasm heap holds at most 4 GiB; try a smaller tensor)");
  } catch (const std::exception& e) {
    return failure(std::string("internal error: ") + e.what());
  }
}

// Errors about one file name it, as the CLI does ("x.npy: .npy: bad magic ...").
template <class F> auto about_file(const std::string& file, F&& body) {
  try {
    return body();
  } catch (const Error& e) {
    const std::string m = e.what();
    if (file.empty() || m.find("'" + file + "'") != std::string::npos) throw;
    throw Error(file + ": " + m);
  }
}

// ---- JS values -----------------------------------------------------------------------------------

std::string js_text(const val& v) { return val::global("String")(v).as<std::string>(); }

// "a Float32Array", "an Array", "a number": what a value is, for messages.
std::string js_kind(const val& v) {
  if (v.isNull()) return "null";
  if (v.isUndefined()) return "undefined";
  const std::string type = v.typeOf().as<std::string>();
  if (type != "object") return "a " + type;
  std::string tag = val::global("Object")["prototype"]["toString"].call<std::string>("call", v);
  tag = tag.substr(8, tag.size() - 9);  // "[object Float32Array]" -> "Float32Array"
  const bool vowel = !tag.empty() && std::strchr("AEIOU", tag[0]);
  return (vowel ? "an " : "a ") + tag;
}

bool absent(const val& v) { return v.isUndefined() || v.isNull(); }

bool is_instance(const val& v, const char* ctor) {
  return v.typeOf().as<std::string>() == "object" && v.instanceof(val::global(ctor));
}

// Copies a typed array's bytes into heap memory. The view over the heap lives for this one call, and
// nothing allocates between making and using it, so it cannot be detached by memory growth.
void copy_from_js(const val& typed, uint8_t* dst, size_t n) {
  if (n == 0) return;
  const val src = val::global("Uint8Array").new_(typed["buffer"], typed["byteOffset"], typed["byteLength"]);
  val(emscripten::typed_memory_view(n, dst)).call<void>("set", src);
}

// A new JS-owned typed array (`ctor`) holding a copy of `bytes`.
val copy_to_js(const char* ctor, std::span<const uint8_t> bytes, size_t element_size) {
  val out = val::global(ctor).new_(bytes.size() / element_size);
  if (!bytes.empty())
    val::global("Uint8Array")
        .new_(out["buffer"])
        .call<void>("set", val(emscripten::typed_memory_view(bytes.size(), bytes.data())));
  return out;
}

template <class T> val copy_to_js(const char* ctor, std::span<const T> values) {
  return copy_to_js(ctor, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(values.data()), values.size_bytes()),
                    sizeof(T));
}

val f32_to_js(std::span<const float> v) { return copy_to_js("Float32Array", v); }

val f64_to_js(std::span<const double> v) { return copy_to_js("Float64Array", v); }

val u64_to_js(std::span<const uint64_t> v) {
  std::vector<double> d(v.begin(), v.end());  // counts stay exact below 2^53
  return f64_to_js(d);
}

val shape_to_js(const Shape& shape) {
  val a = val::array();
  for (int64_t d : shape) a.call<void>("push", double(d));
  return a;
}

// The codes (or any tensor) as the matching JS typed array.
val tensor_to_js(const Tensor& t) {
  const char* ctor = nullptr;
  switch (t.dtype) {
    case DType::i8: ctor = "Int8Array"; break;
    case DType::u8: ctor = "Uint8Array"; break;
    case DType::i16: ctor = "Int16Array"; break;
    case DType::u16: ctor = "Uint16Array"; break;
    case DType::i32: ctor = "Int32Array"; break;
    case DType::u32: ctor = "Uint32Array"; break;
    case DType::f32: ctor = "Float32Array"; break;
    case DType::f64: ctor = "Float64Array"; break;
    default: throw Error("a " + std::string(dtype_name(t.dtype)) + " tensor has no JS typed array");
  }
  return copy_to_js(ctor, t.bytes, dtype_size(t.dtype));
}

// An array of non-negative integers (a shape).
Shape shape_from_js(const val& v, const std::string& what) {
  if (!v.isArray()) throw Error(what + " must be an array of non-negative integers (got " + js_kind(v) + ")");
  Shape shape;
  const int n = v["length"].as<int>();
  for (int i = 0; i < n; ++i) {
    const val d = v[i];
    const double x = d.isNumber() ? d.as<double>() : -1;
    if (!(x >= 0 && x == std::floor(x) && x <= 9007199254740991.0))
      throw Error(what + " must be an array of non-negative integers (got " + js_text(d) + " at index " +
                  std::to_string(i) + ")");
    shape.push_back(static_cast<int64_t>(x));
  }
  return shape;
}

// A Float32Array or any array of numbers, as float32 values (a Float32Array is copied bit for bit).
std::vector<float> floats_from_js(const val& v, const std::string& what) {
  if (is_instance(v, "Float32Array")) {
    std::vector<float> out(v["length"].as<size_t>());
    copy_from_js(v, reinterpret_cast<uint8_t*>(out.data()), out.size() * sizeof(float));
    return out;
  }
  if (!v.isArray() && !(v.typeOf().as<std::string>() == "object" && val::global("ArrayBuffer").call<bool>("isView", v)))
    throw Error(what + " must be a Float32Array or an array of numbers (got " + js_kind(v) + ")");
  return floats_from_js(val::global("Float32Array").new_(v), what);
}

// ---- options ---------------------------------------------------------------------------------------

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

// Object.keys(v), after checking v is a plain object.
std::vector<std::string> keys_of(const val& v, const std::string& what) {
  if (v.typeOf().as<std::string>() != "object" || v.isNull() || v.isArray())
    throw Error(what + " must be an object (got " + js_kind(v) + ")");
  const val keys = val::global("Object").call<val>("keys", v);
  std::vector<std::string> out;
  const int n = keys["length"].as<int>();
  for (int i = 0; i < n; ++i) out.push_back(keys[i].as<std::string>());
  return out;
}

std::string string_option(const val& v, const char* flag) {
  if (!v.isString())
    throw Error("invalid value '" + js_text(v) + "' for " + flag + " (expected a string, got " + js_kind(v) + ")");
  return v.as<std::string>();
}

bool bool_option(const val& v, const char* flag) {
  if (v.isTrue()) return true;
  if (v.isFalse()) return false;
  throw Error("invalid value '" + js_text(v) + "' for " + flag + " (expected true or false)");
}

// An integer given as a JS number or as the CLI's text.
int64_t integer_option(const val& v, const char* flag) {
  const std::string bad = "invalid value '" + js_text(v) + "' for " + flag + " (expected an integer)";
  if (v.isNumber()) {
    const double x = v.as<double>();
    if (!(std::isfinite(x) && x == std::floor(x) && std::fabs(x) <= 9007199254740991.0)) throw Error(bad);
    return static_cast<int64_t>(x);
  }
  if (!v.isString()) throw Error(bad);
  const std::string text = v.as<std::string>();
  int64_t out = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) throw Error(bad);
  return out;
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

// Where the params of a quantize come from: none (dynamic), given or calibrated arrays.
struct ParamsSource {
  std::string kind = "dynamic";  // "dynamic" | "given" | "calibrated"
  std::string flag;              // --scale, --params or --calibrate (for messages)
  GivenParams given;
  std::string observer;
  std::vector<std::string> files;
};

val string_array(const std::vector<std::string>& v) {
  val a = val::array();
  for (const auto& s : v) a.call<void>("push", s);
  return a;
}

std::vector<std::string> strings_from_js(const val& v, const std::string& what) {
  if (!v.isArray()) throw Error(what + " must be an array of strings (got " + js_kind(v) + ")");
  std::vector<std::string> out;
  const int n = v["length"].as<int>();
  for (int i = 0; i < n; ++i) {
    if (!v[i].isString()) throw Error(what + " must be an array of strings (got " + js_kind(v[i]) + " at index " + std::to_string(i) + ")");
    out.push_back(v[i].as<std::string>());
  }
  return out;
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

std::optional<RawSpec> raw_from_js(const val& v);  // whole-file section

// ---- the open file ---------------------------------------------------------------------------------

// The file of the last openFile, kept in the heap until closeFile or the next openFile; tensors read
// from it in place where the format allows (npy_f32_view).
struct OpenFile {
  std::unique_ptr<uint8_t[]> bytes;
  size_t size = 0;
  std::string name;
  std::vector<TensorInfo> tensors;
  ReadOptions read;  // raw input: how to read the bytes
  std::span<const uint8_t> span() const { return {bytes.get(), size}; }
};
OpenFile g_open;

// One copy of a JS byte array into a new heap buffer (not zero-filled first).
std::unique_ptr<uint8_t[]> heap_copy(const val& bytes, size_t& size) {
  if (!is_instance(bytes, "Uint8Array"))
    throw Error("file bytes must be a Uint8Array (got " + js_kind(bytes) + ")");
  const double n = bytes["length"].as<double>();
  if (n > double(std::numeric_limits<size_t>::max() / 2))
    throw Error("a file of " + std::to_string(uint64_t(n)) + " bytes does not fit in the wasm heap (at most 4 GiB)");
  size = static_cast<size_t>(n);
  std::unique_ptr<uint8_t[]> buf(new (std::nothrow) uint8_t[size ? size : 1]);
  if (!buf)
    throw Error("out of memory: a file of " + std::to_string(size) +
                " bytes does not fit in the wasm heap (at most 4 GiB in total)");
  copy_from_js(bytes, buf.get(), size);
  return buf;
}

void close_file() { g_open = OpenFile{}; }

val tensor_infos_to_js(const std::vector<TensorInfo>& infos) {
  val list = val::array();
  for (const auto& t : infos) {
    val e = val::object();
    e.set("name", t.name);
    e.set("dtype", std::string(dtype_name(t.dtype)));
    e.set("shape", shape_to_js(t.shape));
    list.call<void>("push", e);
  }
  return list;
}

// openFile(bytes, fileName, raw) -> {ok, tensors: [{name, dtype, shape}]}; raw {dtype, shape, offset,
// endian} reads the bytes as raw binary (the CLI's --raw-* flags).
val open_file(val bytes, std::string name, val raw) {
  return guarded([&] {
    close_file();  // release the previous file before the next one is allocated
    OpenFile f;
    f.name = std::move(name);
    f.read.raw = raw_from_js(raw);
    f.bytes = heap_copy(bytes, f.size);
    f.tensors = about_file(f.name, [&] { return list_tensors(f.span(), f.read); });
    g_open = std::move(f);
    val r = success();
    r.set("tensors", tensor_infos_to_js(g_open.tensors));
    return r;
  });
}

// ---- inputs ----------------------------------------------------------------------------------------

// A float32 tensor for the core and what RunInfo records about it. `view` points into the open file
// or a calibration file's heap copy (read in place), into `tensor` (decoded float32) or `converted`.
struct Input {
  std::string name;
  DType dtype = DType::f32;
  Shape shape;
  Tensor tensor;
  std::vector<float> converted;
  std::unique_ptr<uint8_t[]> file;  // a calibration file's bytes, while views point into them
  TensorViewF32 view;
};

// A tensor of a file as the CLI's load() picks it: `wanted` or the first tensor; `any_single`: a file
// with one tensor gives it whatever `wanted` says (calibration files).
void load_from_file(Input& in, std::span<const uint8_t> file, const std::vector<TensorInfo>& infos,
                    const std::string& wanted, bool any_single, const ReadOptions& read = {}) {
  if (infos.empty()) throw Error("holds no tensors");
  const bool pick_only = any_single && infos.size() == 1;
  in.name = wanted.empty() || pick_only ? infos[0].name : wanted;
  const std::string want = pick_only ? std::string() : wanted;
  if ((want.empty() || want == "array") && !read.raw) {
    if (const std::optional<TensorViewF32> v = npy_f32_view(file)) {
      in.view = *v;
      in.shape = v->shape;
      return;
    }
  }
  in.tensor = load_tensor(file, want, read);
  in.dtype = in.tensor.dtype;
  in.shape = in.tensor.shape;
  if (in.tensor.dtype == DType::f32) {
    in.view = {in.shape, {in.tensor.data<float>(), in.tensor.bytes.size() / sizeof(float)}};
  } else {
    in.converted = to_f32(in.tensor);
    in.tensor = Tensor{};
    in.view = {in.shape, in.converted};
  }
}

// A source spec from the JS layer: {tensor} (a tensor of the open file), {values, shape, name} or
// {bytes} (a whole file, for calibration). `file_name` names the file in messages.
void load_input(Input& in, const val& spec, const std::string& wanted, bool any_single, const std::string& file_name) {
  if (!absent(spec["values"])) {
    const val values = spec["values"];
    if (!is_instance(values, "Float32Array"))
      throw Error("values must be a Float32Array (got " + js_kind(values) + ")");
    in.converted.resize(values["length"].as<size_t>());
    copy_from_js(values, reinterpret_cast<uint8_t*>(in.converted.data()), in.converted.size() * sizeof(float));
    in.shape = absent(spec["shape"]) ? Shape{static_cast<int64_t>(in.converted.size())}
                                     : shape_from_js(spec["shape"], "shape");
    if (shape_elements(in.shape) != static_cast<int64_t>(in.converted.size()))
      throw Error("shape " + shape_to_string(in.shape) + " does not match " + std::to_string(in.converted.size()) +
                  " values");
    in.name = absent(spec["name"]) ? "array" : string_option(spec["name"], "name");
    in.view = {in.shape, in.converted};
    return;
  }
  if (!absent(spec["bytes"])) {
    size_t size = 0;
    in.file = heap_copy(spec["bytes"], size);
    const std::span<const uint8_t> file(in.file.get(), size);
    about_file(file_name, [&] { load_from_file(in, file, list_tensors(file), wanted, any_single); });
    return;
  }
  if (!g_open.bytes) throw Error("no file is open: call open(bytes) first, or pass {values, shape}");
  about_file(file_name, [&] { load_from_file(in, g_open.span(), g_open.tensors, wanted, any_single, g_open.read); });
}

// tensorValues(name, fileName) -> {ok, values: Float32Array}: a tensor of the open file as float32.
val tensor_values(std::string name, std::string file_name) {
  return guarded([&] {
    Input in;
    val spec = val::object();
    spec.set("tensor", name);
    load_input(in, spec, name, false, file_name);
    val r = success();
    r.set("values", f32_to_js(in.view.values));
    return r;
  });
}

// ---- quantize ----------------------------------------------------------------------------------------

val histogram_to_js(const Histogram& h) {
  val v = val::object();
  v.set("lo", h.lo);
  v.set("hi", h.hi);
  v.set("counts", u64_to_js(h.counts));
  return v;
}

val metrics_to_js(const Metrics& m) {
  val v = val::object();
  v.set("mse", m.mse);
  v.set("rmse", m.rmse);
  v.set("sqnrDb", m.sqnr_db);
  v.set("maxAbsError", m.max_abs_error);
  v.set("meanAbsError", m.mean_abs_error);
  v.set("cosine", m.cosine);
  v.set("clipRate", m.clip_rate);
  v.set("bitsPerElement", m.bits_per_element);
  v.set("elements", double(m.elements));
  v.set("finite", double(m.finite));
  v.set("nan", double(m.nan));
  v.set("posInf", double(m.pos_inf));
  v.set("negInf", double(m.neg_inf));
  v.set("saturated", double(m.saturated));
  v.set("bytesBefore", double(m.bytes_before));
  v.set("bytesAfter", double(m.bytes_after));
  return v;
}

// The params section of a result or of calibrate: the arrays and where they came from.
val params_to_js(const QuantParams& p, const RunInfo& info, const CodeRange& range, int axis) {
  val v = val::object();
  v.set("source", info.params_source);
  v.set("observer", info.observer.empty() ? val::null() : val(info.observer));
  v.set("files", string_array(info.params_files));
  v.set("shape", shape_to_js(p.shape));
  v.set("scale", f32_to_js(p.scale));
  v.set("zeroPoint", tensor_to_js(zero_point_tensor(p)));
  v.set("floatZeroPoint", p.float_zero_point);
  v.set("qmin", range.qmin);
  v.set("qmax", range.qmax);
  v.set("axis", axis);
  return v;
}

// quantize(source, options, params, fileName): source {tensor} | {values, shape, name}; params from
// parseOptions (null = dynamic). The whole run of the CLI's `quantize`, returned as JS arrays.
val quantize_js(val source, QuantOptions o, val params_js, std::string file_name) {
  return guarded([&] {
    apply_profile(o, ExplicitOptions{});  // idempotent on parsed options; normalizes hand-built ones
    const ParamsSource ps = params_source_from_js(params_js);

    Input in;
    load_input(in, source, source["tensor"].isString() ? source["tensor"].as<std::string>() : std::string(), false,
               file_name);
    const TensorViewF32& x = in.view;

    RunInfo info;
    info.input_file = file_name;
    info.input_tensor = in.name;
    info.input_shape = in.shape;
    info.input_dtype = in.dtype;
    info.params_source = ps.kind;
    info.observer = ps.observer;
    info.params_files = ps.files;

    // Dynamic: quantize_dynamic also keeps each group's range (the page's heatmaps).
    Quantized q;
    if (ps.kind == "dynamic") {
      q = quantize_dynamic(x, o);
    } else {
      const GranularityPlan plan = plan_granularity(x.shape, o);
      if (ps.kind == "calibrated" && ps.given.shape != plan.param_shape)
        throw Error("calibration gives params of shape " + shape_to_string(ps.given.shape) + ", but " + file_name +
                    " of shape " + shape_to_string(x.shape) + " needs " + shape_to_string(plan.param_shape) +
                    " (calibrate with tensors shaped like the input)");
      q = quantize(x, given_params(ps.given, plan, o), o);
    }

    const std::vector<float> deq = dequantize(q);
    const Evaluation e = evaluate(x, q, deq);

    val r = success();
    r.set("shape", shape_to_js(q.codes.shape));
    r.set("codes", tensor_to_js(q.codes));
    r.set("codesDtype", std::string(dtype_name(q.codes.dtype)));
    const val p = params_to_js(q.params, info, q.range, q.plan.axis);
    r.set("scale", p["scale"]);
    r.set("zeroPoint", p["zeroPoint"]);
    r.set("dequantized", f32_to_js(deq));
    r.set("params", p);
    r.set("metrics", metrics_to_js(e.metrics));
    val h = val::object();
    h.set("original", histogram_to_js(e.original));
    h.set("dequantized", histogram_to_js(e.dequantized));
    h.set("error", histogram_to_js(e.error));
    r.set("histograms", h);
    r.set("groupMse", f64_to_js(e.group_mse));
    if (q.group_stats.min.empty()) {
      r.set("groupStats", val::null());
    } else {
      val g = val::object();
      g.set("min", f32_to_js(q.group_stats.min));
      g.set("max", f32_to_js(q.group_stats.max));
      r.set("groupStats", g);
    }
    r.set("options", options_to_js(q.options));
    r.set("division", std::string(division_name(q.options.division)));
    val input = val::object();
    input.set("file", info.input_file);
    input.set("tensor", info.input_tensor);
    input.set("dtype", std::string(dtype_name(info.input_dtype)));
    input.set("shape", shape_to_js(info.input_shape));
    r.set("input", input);
    r.set("kernels", std::string(kernel_table_name()));
    r.set("paramsJson", params_json(q, e, info));
    // What the .npz adds for element dtypes and --pack (extra_members): the same arrays, by name.
    for (const NpzMember& m : extra_members(q)) {
      if (m.name == "codebook.npy") {
        r.set("codebook", tensor_to_js(m.tensor));
        r.set("codebookShape", shape_to_js(m.tensor.shape));
      } else if (m.name == "packed.npy") {
        r.set("packed", tensor_to_js(m.tensor));
      } else if (m.name == "scale_e8m0.npy") {
        r.set("scaleE8m0", tensor_to_js(m.tensor));
      } else if (m.name == "scale_codes.npy") {
        r.set("scaleCodes", tensor_to_js(m.tensor));
      } else if (m.name == "scale_super.npy") {
        r.set("scaleSuper", tensor_to_js(m.tensor));
      } else if (m.name == "scale_codebook.npy") {
        r.set("scaleCodebook", tensor_to_js(m.tensor));
      } else if (m.name == "offset.npy") {
        r.set("offset", tensor_to_js(m.tensor));
      } else if (m.name == "blocks.npy") {
        r.set("blocks", tensor_to_js(m.tensor));
        r.set("blocksShape", shape_to_js(m.tensor.shape));
      }
    }
    return r;
  });
}

// calibrate(specs, options, observer, tensor) -> {ok, params}: the CLI's --calibrate. Each spec is
// {tensor} | {values, shape} | {bytes}, with fileName (may be empty) for messages and params.files.
val calibrate_js(val specs, QuantOptions o, CalibrationOptions c, std::string wanted) {
  return guarded([&] {
    apply_profile(o, ExplicitOptions{});
    if (!specs.isArray()) throw Error("calibrate needs an array of tensors (got " + js_kind(specs) + ")");
    const int n = specs["length"].as<int>();
    std::vector<Input> inputs(static_cast<size_t>(n));
    std::vector<std::string> files;
    for (int i = 0; i < n; ++i) {
      const val spec = specs[i];
      const std::string file = spec["fileName"].isString() ? spec["fileName"].as<std::string>() : std::string();
      const bool from_open_file = spec["tensor"].isString();
      load_input(inputs[i], spec, from_open_file ? spec["tensor"].as<std::string>() : wanted, !from_open_file, file);
      if (!file.empty()) files.push_back(file);
    }
    std::vector<TensorViewF32> views;
    for (const Input& in : inputs) views.push_back(in.view);
    const QuantParams p = calibrate_params(views, o, c);
    RunInfo info;
    info.params_source = "calibrated";
    info.observer = observer_name(c);
    info.params_files = files;
    val r = success();
    r.set("params", params_to_js(p, info, code_range(o), plan_granularity(views[0].shape, o).axis));
    return r;
  });
}

// ---- export ------------------------------------------------------------------------------------------

// A JS typed array (one of `allowed`) as a tensor of `shape`, copied into the heap.
Tensor tensor_from_js(const val& v, const Shape& shape, const std::string& what,
                      std::initializer_list<std::pair<const char*, DType>> allowed) {
  std::string names;
  for (const auto& [ctor, dtype] : allowed) {
    if (is_instance(v, ctor)) {
      Tensor t = make_tensor(dtype, shape);
      const size_t length = v["length"].as<size_t>();
      if (static_cast<int64_t>(length) != t.elements())
        throw Error("export: " + what + " holds " + std::to_string(length) + " values for shape " +
                    shape_to_string(shape));
      copy_from_js(v, t.bytes.data(), t.bytes.size());
      return t;
    }
    names += (names.empty() ? "" : " or ") + std::string(ctor);
  }
  throw Error("export: " + what + " must be " + names + " (got " + js_kind(v) + ")");
}

// exportNpz({codes, shape, scale, zeroPoint, paramShape, dequantized, paramsJson}) -> {ok, bytes}
val export_npz_js(val parts) {
  return guarded([&] {
    const Shape shape = shape_from_js(parts["shape"], "export: shape");
    const Shape param_shape = shape_from_js(parts["paramShape"], "export: params.shape");
    const Tensor codes = tensor_from_js(parts["codes"], shape, "codes",
                                        {{"Int8Array", DType::i8}, {"Uint8Array", DType::u8},
                                         {"Int16Array", DType::i16}, {"Uint16Array", DType::u16}});
    const Tensor scale = tensor_from_js(parts["scale"], param_shape, "scale", {{"Float32Array", DType::f32}});
    const Tensor zero = tensor_from_js(parts["zeroPoint"], param_shape, "zeroPoint",
                                       {{"Int32Array", DType::i32}, {"Float32Array", DType::f32}});
    const Tensor deq = tensor_from_js(parts["dequantized"], shape, "dequantized", {{"Float32Array", DType::f32}});
    if (!parts["paramsJson"].isString()) throw Error("export: paramsJson must be the result's params.json text");
    // Optional members, in extra_members' order: codebook (float32, codebookShape), packed (uint8
    // bytes), offset (float32, the param shape) and blocks (uint8, blocksShape) of ggml runs,
    // scaleE8m0 (uint8, the param shape); --double-quant: scaleCodes (uint8, the param shape),
    // scaleSuper (float32), scaleCodebook (float32, bnb).
    std::vector<NpzMember> extra;
    if (!absent(parts["codebook"]))
      extra.push_back({"codebook.npy", tensor_from_js(parts["codebook"], shape_from_js(parts["codebookShape"], "export: codebookShape"),
                                                      "codebook", {{"Float32Array", DType::f32}})});
    if (!absent(parts["packed"]))
      extra.push_back({"packed.npy", tensor_from_js(parts["packed"], {int64_t(parts["packed"]["length"].as<double>())},
                                                    "packed", {{"Uint8Array", DType::u8}})});
    if (!absent(parts["offset"]))
      extra.push_back({"offset.npy", tensor_from_js(parts["offset"], param_shape, "offset", {{"Float32Array", DType::f32}})});
    if (!absent(parts["blocks"]))
      extra.push_back({"blocks.npy", tensor_from_js(parts["blocks"], shape_from_js(parts["blocksShape"], "export: blocksShape"),
                                                    "blocks", {{"Uint8Array", DType::u8}})});
    if (!absent(parts["scaleE8m0"]))
      extra.push_back({"scale_e8m0.npy", tensor_from_js(parts["scaleE8m0"], param_shape, "scaleE8m0",
                                                        {{"Uint8Array", DType::u8}})});
    const auto vector_part = [&](const char* key, const char* file) {
      if (!absent(parts[key]))
        extra.push_back({file, tensor_from_js(parts[key], {int64_t(parts[key]["length"].as<double>())}, key,
                                              {{"Float32Array", DType::f32}})});
    };
    if (!absent(parts["scaleCodes"]))
      extra.push_back({"scale_codes.npy", tensor_from_js(parts["scaleCodes"], param_shape, "scaleCodes",
                                                         {{"Uint8Array", DType::u8}})});
    vector_part("scaleSuper", "scale_super.npy");
    vector_part("scaleCodebook", "scale_codebook.npy");
    const std::vector<uint8_t> bytes =
        export_npz_parts(codes, scale, zero, deq, parts["paramsJson"].as<std::string>(), extra);
    val r = success();
    r.set("bytes", copy_to_js("Uint8Array", std::span<const uint8_t>(bytes), 1));
    return r;
  });
}

// ---- whole-file mode ------------------------------------------------------------------------------------
// Files larger than the heap, a tensor at a time: describeHead reads the head the page sliced from
// its File, planWholeFile says what happens to each tensor, quantizeTensorBytes takes one tensor's
// stored bytes (File.slice(dataOffset, dataOffset + dataBytes)), and a bundle writer turns results
// into output chunks with their offsets. Plans and results are plain JS objects, so the page can
// hand them between workers; only the writer keeps state here (by id).

// {dtype, shape, offset, endian} -> RawSpec (the CLI's --raw-* flags).
std::optional<RawSpec> raw_from_js(const val& v) {
  if (absent(v)) return std::nullopt;
  for (const auto& key : keys_of(v, "raw"))
    if (key != "dtype" && key != "shape" && key != "offset" && key != "endian")
      throw Error("unknown key '" + key + "' in raw (allowed: dtype, shape, offset, endian)");
  if (absent(v["dtype"])) throw Error("raw input needs dtype (the --raw-dtype of the CLI)");
  if (absent(v["shape"])) throw Error("raw input needs shape (e.g. [4, 6] or \"4,6\"; one -1 is inferred)");
  RawSpec spec;
  spec.dtype = dtype_from_name(string_option(v["dtype"], "--raw-dtype"));
  if (v["shape"].isString()) {
    spec.shape = parse_shape(v["shape"].as<std::string>());
  } else {
    if (!v["shape"].isArray()) throw Error("raw shape must be an array or a string such as \"4,6\"");
    const int n = v["shape"]["length"].as<int>();
    for (int i = 0; i < n; ++i) spec.shape.push_back(integer_option(v["shape"][i], "--raw-shape"));
  }
  if (!absent(v["offset"])) {
    const int64_t o = integer_option(v["offset"], "--raw-offset");
    if (o < 0) throw Error("--raw-offset must not be negative");
    spec.offset = static_cast<uint64_t>(o);
  }
  if (!absent(v["endian"])) {
    const std::string e = string_option(v["endian"], "--raw-endian");
    if (e != "little" && e != "big") throw Error("invalid value '" + e + "' for --raw-endian (allowed: little, big)");
    spec.big_endian = e == "big";
  }
  return spec;
}

val tensor_info_to_js(const TensorInfo& t) {
  val e = val::object();
  e.set("name", t.name);
  e.set("dtype", std::string(dtype_name(t.dtype)));
  e.set("shape", shape_to_js(t.shape));
  e.set("storedType", t.stored_type);
  e.set("loadable", t.loadable);
  e.set("dataOffset", double(t.data_offset));  // exact below 2^53 (8 PiB)
  e.set("dataBytes", double(t.data_bytes));
  e.set("bigEndian", t.big_endian);
  e.set("fortranOrder", t.fortran_order);
  return e;
}

uint64_t u64_from_js(const val& v, const std::string& what) {
  const double x = v.isNumber() ? v.as<double>() : -1;
  if (!(x >= 0 && x == std::floor(x) && x <= 9007199254740991.0))
    throw Error(what + " must be a non-negative integer (got " + js_text(v) + ")");
  return static_cast<uint64_t>(x);
}

bool flag_from_js(const val& v) { return v.isTrue(); }

TensorInfo tensor_info_from_js(const val& v) {
  if (absent(v) || v.typeOf().as<std::string>() != "object")
    throw Error("a tensor entry must be an object from describeHead or planWholeFile (got " + js_kind(v) + ")");
  TensorInfo t;
  t.name = string_option(v["name"], "name");
  t.dtype = dtype_from_name(string_option(v["dtype"], "dtype"));
  t.shape = shape_from_js(v["shape"], "tensor '" + t.name + "' shape");
  t.stored_type = v["storedType"].isString() ? v["storedType"].as<std::string>() : std::string(dtype_name(t.dtype));
  t.loadable = absent(v["loadable"]) || v["loadable"].isTrue();
  const double offset = v["dataOffset"].isNumber() ? v["dataOffset"].as<double>() : -1;
  t.data_offset = offset >= 0 ? static_cast<int64_t>(offset) : -1;
  t.data_bytes = u64_from_js(v["dataBytes"], "tensor '" + t.name + "' dataBytes");
  t.big_endian = flag_from_js(v["bigEndian"]);
  t.fortran_order = flag_from_js(v["fortranOrder"]);
  return t;
}

val file_info_to_js(const FileInfo& f) {
  val info = val::object();
  info.set("format", std::string(format_name(f.format)));
  info.set("version", f.version);
  val tensors = val::array();
  for (const TensorInfo& t : f.tensors) tensors.call<void>("push", tensor_info_to_js(t));
  info.set("tensors", tensors);
  val metadata = val::array();
  for (const MetadataEntry& m : f.metadata) {
    val e = val::object();
    e.set("key", m.key);
    e.set("type", m.type);
    e.set("value", m.value);
    metadata.call<void>("push", e);
  }
  info.set("metadata", metadata);
  return info;
}

// describeHead(head, fileSize, raw) -> {ok, info} | {ok, bytesNeeded}
val describe_head_js(val head, double file_size, val raw) {
  return guarded([&] {
    if (!(file_size >= 0 && file_size == std::floor(file_size) && file_size <= 9007199254740991.0))
      throw Error("describeHead: fileSize must be a non-negative integer");
    ReadOptions read;
    read.raw = raw_from_js(raw);
    size_t size = 0;
    const std::unique_ptr<uint8_t[]> bytes = heap_copy(head, size);
    const HeadInfo h = describe_head({bytes.get(), size}, static_cast<uint64_t>(file_size), read);
    val r = success();
    if (h.info) r.set("info", file_info_to_js(*h.info));
    else r.set("bytesNeeded", double(h.bytes_needed));
    return r;
  });
}

val plan_entry_to_js(const TensorPlan& p) {
  val e = tensor_info_to_js(p.input);
  e.set("quantize", p.quantize);
  e.set("why", p.why);
  e.set("scheme", p.scheme);
  if (p.quantize) {
    // In the user's spelling, not the QuantOptions value object: Embind enums do not survive
    // structuredClone, and plan entries travel to workers.
    e.set("options", options_to_js(p.options));
    e.set("codesDtype", std::string(dtype_name(p.codes_dtype)));
    e.set("paramShape", shape_to_js(p.param_shape));
    e.set("zeroPointDtype", std::string(dtype_name(p.zero_point_dtype)));
    e.set("schemeJson", p.scheme_json);
  }
  return e;
}

// A plan entry back from JS: the prediction is recomputed, never trusted.
TensorPlan plan_entry_from_js(const val& v) {
  const TensorInfo t = tensor_info_from_js(v);
  const std::string why = v["why"].isString() ? v["why"].as<std::string>() : std::string();
  if (!v["quantize"].isTrue()) return plan_tensor(t, nullptr, why);
  const val parsed = parse_options(v["options"], false);
  if (!parsed["ok"].isTrue()) throw Error("tensor '" + t.name + "' options: " + parsed["error"].as<std::string>());
  const QuantOptions o = parsed["options"].as<QuantOptions>();
  return plan_tensor(t, &o, why);
}

WholeFilePlan plan_from_js(const val& entries) {
  if (!entries.isArray()) throw Error("a whole-file plan must be the array planWholeFile returns (got " + js_kind(entries) + ")");
  WholeFilePlan plan;
  const int n = entries["length"].as<int>();
  for (int i = 0; i < n; ++i) plan.tensors.push_back(plan_entry_from_js(entries[i]));
  return plan;
}

// planWholeFile(info, options, overrides) -> {ok, plan}: overrides [{pattern, keep} | {pattern,
// options}] with options already parsed by parseOptions.
val plan_whole_file_js(val info, QuantOptions base, val overrides) {
  return guarded([&] {
    apply_profile(base, ExplicitOptions{});
    FileInfo file;
    if (absent(info) || !info["tensors"].isArray()) throw Error("planWholeFile needs the info describeHead returns");
    const int n = info["tensors"]["length"].as<int>();
    for (int i = 0; i < n; ++i) file.tensors.push_back(tensor_info_from_js(info["tensors"][i]));
    std::vector<TensorRule> rules;
    if (!absent(overrides)) {
      if (!overrides.isArray()) throw Error("overrides must be an array of {pattern, keep} or {pattern, options}");
      const int m = overrides["length"].as<int>();
      for (int i = 0; i < m; ++i) {
        const val o = overrides[i];
        TensorRule r;
        r.pattern = string_option(o["pattern"], "override pattern");
        r.keep = o["keep"].isTrue();
        if (!r.keep) {
          r.options = o["options"].as<QuantOptions>();
          apply_profile(r.options, ExplicitOptions{});
        }
        rules.push_back(std::move(r));
      }
    }
    const WholeFilePlan plan = plan_whole_file(file, base, rules);
    val list = val::array();
    for (const TensorPlan& p : plan.tensors) list.call<void>("push", plan_entry_to_js(p));
    val r = success();
    r.set("plan", list);
    return r;
  });
}

val report_to_js(const TensorReport& t) {
  val v = val::object();
  v.set("name", t.name);
  v.set("shape", shape_to_js(t.shape));
  v.set("dtype", std::string(dtype_name(t.dtype)));
  v.set("quantized", t.quantized);
  v.set("scheme", t.scheme);
  v.set("params", double(t.params));
  v.set("mse", t.mse);
  v.set("sqnrDb", t.sqnr_db);
  v.set("maxAbsError", t.max_abs_error);
  v.set("bitsPerElement", t.bits_per_element);
  v.set("bytesBefore", double(t.bytes_before));
  v.set("bytesAfter", double(t.bytes_after));
  return v;
}

double number_from_js(const val& v) { return v.isNumber() ? v.as<double>() : std::nan(""); }

TensorReport report_from_js(const val& v) {
  TensorReport t;
  t.name = string_option(v["name"], "report name");
  t.shape = shape_from_js(v["shape"], "report shape");
  t.dtype = dtype_from_name(string_option(v["dtype"], "report dtype"));
  t.quantized = v["quantized"].isTrue();
  t.scheme = string_option(v["scheme"], "report scheme");
  t.params = static_cast<int64_t>(u64_from_js(v["params"], "report params"));
  t.mse = number_from_js(v["mse"]);
  t.sqnr_db = number_from_js(v["sqnrDb"]);
  t.max_abs_error = number_from_js(v["maxAbsError"]);
  t.bits_per_element = number_from_js(v["bitsPerElement"]);
  t.bytes_before = u64_from_js(v["bytesBefore"], "report bytesBefore");
  t.bytes_after = u64_from_js(v["bytesAfter"], "report bytesAfter");
  return t;
}

// Any tensor's bytes as a Uint8Array (kept tensors of any dtype: bool, f16, bf16, int64...).
val raw_tensor_to_js(const Tensor& t) {
  val v = val::object();
  v.set("dtype", std::string(dtype_name(t.dtype)));
  v.set("shape", shape_to_js(t.shape));
  v.set("bytes", copy_to_js("Uint8Array", std::span<const uint8_t>(t.bytes), 1));
  return v;
}

// quantizeTensorBytes(entry, bytes) -> {ok, name, report, codes, scale, zeroPoint} | {ok, name, report, kept}
val quantize_tensor_bytes_js(val entry, val bytes) {
  return guarded([&] {
    const TensorPlan plan = plan_entry_from_js(entry);
    TensorOutput out;
    {
      size_t size = 0;
      const std::unique_ptr<uint8_t[]> stored = heap_copy(bytes, size);  // freed before the result is copied
      out = process_tensor(plan, std::span<const uint8_t>(stored.get(), size));
    }
    val r = success();
    r.set("name", plan.input.name);
    r.set("report", report_to_js(out.report));
    if (plan.quantize && plan.options.element == ElementKind::ggml) {
      r.set("blocks", copy_to_js("Uint8Array", std::span<const uint8_t>(out.blocks), 1));
    } else if (plan.quantize) {
      r.set("codes", tensor_to_js(out.codes));
      r.set("scale", tensor_to_js(out.scale));
      r.set("zeroPoint", tensor_to_js(out.zero_point));
    } else {
      r.set("kept", raw_tensor_to_js(out.kept));
    }
    return r;
  });
}

// The typed array of a part, checked against the plan's dtype and shape.
Tensor part_from_js(const val& v, DType dtype, const Shape& shape, const std::string& what) {
  if (!absent(v) && val::global("ArrayBuffer").call<bool>("isView", v)) {
    Tensor t = make_tensor(dtype, shape);
    const size_t n = v["byteLength"].as<size_t>();
    if (n != t.bytes.size())
      throw Error("bundle: " + what + " holds " + std::to_string(n) + " bytes, the plan says " +
                  std::string(dtype_name(dtype)) + " " + shape_to_string(shape) + " = " + std::to_string(t.bytes.size()));
    copy_from_js(v, t.bytes.data(), n);
    return t;
  }
  throw Error("bundle: " + what + " must be a typed array (got " + js_kind(v) + ")");
}

struct WriterSession {
  std::unique_ptr<BundleWriter> writer;
  std::map<std::string, TensorPlan> plans;
};
std::map<int, WriterSession> g_writers;
int g_next_writer = 1;

WriterSession& writer_of(int id) {
  const auto it = g_writers.find(id);
  if (it == g_writers.end()) throw Error("bundle writer " + std::to_string(id) + " is closed or was never opened");
  return it->second;
}

val chunk_to_js(const OutputChunk& c) {
  val v = val::object();
  v.set("offset", double(c.offset));
  v.set("bytes", copy_to_js("Uint8Array", std::span<const uint8_t>(c.bytes), 1));
  return v;
}

// bundleOpen(plan, format) -> {ok, id, header: {offset, bytes}, totalSize | null}
val bundle_open_js(val plan_js, std::string format) {
  return guarded([&] {
    if (format != "safetensors" && format != "npz" && format != "gguf")
      throw Error("bundle format '" + format + "' is not supported (supported: safetensors, npz, gguf)");
    const WholeFilePlan plan = plan_from_js(plan_js);
    WriterSession s;
    s.writer = std::make_unique<BundleWriter>(bundle_format_for("." + format), plan);
    for (const TensorPlan& p : plan.tensors) s.plans.emplace(p.input.name, p);
    const int id = g_next_writer++;
    val r = success();
    r.set("id", id);
    r.set("header", chunk_to_js(s.writer->header()));
    const std::optional<uint64_t> total = s.writer->total_size();
    r.set("totalSize", total ? val(double(*total)) : val::null());
    g_writers.emplace(id, std::move(s));
    return r;
  });
}

// bundleAdd(id, result) -> {ok, chunks: [{offset, bytes}]}: a result of quantizeTensorBytes.
val bundle_add_js(int id, val result) {
  return guarded([&] {
    WriterSession& s = writer_of(id);
    const std::string name = string_option(result["name"], "result name");
    const auto it = s.plans.find(name);
    if (it == s.plans.end()) throw Error("bundle: tensor '" + name + "' is not in the plan");
    const TensorPlan& p = it->second;
    TensorOutput out;
    if (p.quantize && p.options.element == ElementKind::ggml) {
      const val blocks = result["blocks"];
      if (!is_instance(blocks, "Uint8Array")) throw Error("bundle: tensor '" + name + "' blocks must be a Uint8Array");
      out.blocks.resize(blocks["length"].as<size_t>());
      copy_from_js(blocks, out.blocks.data(), out.blocks.size());
    } else if (p.quantize) {
      out.codes = part_from_js(result["codes"], p.codes_dtype, p.input.shape, "tensor '" + name + "' codes");
      out.scale = part_from_js(result["scale"], DType::f32, p.param_shape, "tensor '" + name + "' scale");
      out.zero_point = part_from_js(result["zeroPoint"], p.zero_point_dtype, p.param_shape, "tensor '" + name + "' zeroPoint");
    } else {
      const val kept = result["kept"];
      if (absent(kept)) throw Error("bundle: tensor '" + name + "' is kept; its result needs `kept`");
      out.kept = part_from_js(kept["bytes"], p.input.dtype, p.input.shape, "tensor '" + name + "' kept bytes");
    }
    const std::vector<OutputChunk> chunks = s.writer->add(name, out);
    val list = val::array();
    for (const OutputChunk& c : chunks) list.call<void>("push", chunk_to_js(c));
    val r = success();
    r.set("chunks", list);
    return r;
  });
}

// bundleFinish(id) -> {ok, chunk}: the .npz central directory (empty for safetensors); closes it.
val bundle_finish_js(int id) {
  return guarded([&] {
    WriterSession& s = writer_of(id);
    const OutputChunk c = s.writer->finish();
    g_writers.erase(id);
    val r = success();
    r.set("chunk", chunk_to_js(c));
    return r;
  });
}

void bundle_close_js(int id) { g_writers.erase(id); }

// reportText(rows, format) -> {ok, text}: the CLI's --report CSV or --json text.
val report_text_js(val rows, std::string format) {
  return guarded([&] {
    if (!rows.isArray()) throw Error("report rows must be an array (got " + js_kind(rows) + ")");
    std::vector<TensorReport> reports;
    const int n = rows["length"].as<int>();
    for (int i = 0; i < n; ++i) reports.push_back(report_from_js(rows[i]));
    std::string text;
    if (format == "csv") {
      text = report_csv_header();
      for (const TensorReport& t : reports) text += report_csv_row(t);
    } else if (format == "json") {
      text = report_json(reports);
    } else {
      throw Error("report format '" + format + "' is not supported (supported: csv, json)");
    }
    val r = success();
    r.set("text", text);
    return r;
  });
}

// exportSafetensors({name, codes, shape, scale, zeroPoint, paramShape, paramsJson}) -> {ok, bytes}:
// the CLI's `-o OUT.safetensors` bundle of one run.
val export_safetensors_js(val parts) {
  return guarded([&] {
    const Shape shape = shape_from_js(parts["shape"], "export: shape");
    const Shape param_shape = shape_from_js(parts["paramShape"], "export: params.shape");
    SafetensorsPart part;
    part.name = parts["name"].isString() && !parts["name"].as<std::string>().empty() ? parts["name"].as<std::string>()
                                                                                     : std::string("array");
    part.codes = tensor_from_js(parts["codes"], shape, "codes",
                                {{"Int8Array", DType::i8}, {"Uint8Array", DType::u8},
                                 {"Int16Array", DType::i16}, {"Uint16Array", DType::u16}});
    part.scale = tensor_from_js(parts["scale"], param_shape, "scale", {{"Float32Array", DType::f32}});
    part.zero_point = tensor_from_js(parts["zeroPoint"], param_shape, "zeroPoint",
                                     {{"Int32Array", DType::i32}, {"Float32Array", DType::f32}});
    if (!parts["paramsJson"].isString()) throw Error("export: paramsJson must be the result's params.json text");
    part.params_json = parts["paramsJson"].as<std::string>();
    const std::vector<uint8_t> bytes = export_safetensors_parts({part});
    val r = success();
    r.set("bytes", copy_to_js("Uint8Array", std::span<const uint8_t>(bytes), 1));
    return r;
  });
}

// exportGguf({name, shape, format, blocks, paramsJson}) -> {ok, bytes}: the CLI's -o X.gguf.
val export_gguf_js(val parts) {
  return guarded([&] {
    const Shape shape = shape_from_js(parts["shape"], "export: shape");
    if (!parts["format"].isString()) throw Error("export: a .gguf needs a result of a --format run");
    const GgmlType type = parse_ggml_type(parts["format"].as<std::string>());
    const Shape blocks_shape = shape_from_js(parts["blocksShape"], "export: blocksShape");
    const Tensor blocks = tensor_from_js(parts["blocks"], blocks_shape, "blocks", {{"Uint8Array", DType::u8}});
    if (!parts["paramsJson"].isString()) throw Error("export: paramsJson must be the result's params.json text");
    const std::string name = parts["name"].isString() ? parts["name"].as<std::string>() : std::string();
    const std::vector<uint8_t> bytes = export_gguf_parts(name, shape, type, blocks.bytes, parts["paramsJson"].as<std::string>());
    val r = success();
    r.set("bytes", copy_to_js("Uint8Array", std::span<const uint8_t>(bytes), 1));
    return r;
  });
}

// ---- build info ----------------------------------------------------------------------------------------

// {version, simd, kernels}: simd says whether this module contains the SIMD kernels, kernels names
// the table dispatch picked ("simd128" or "scalar").
val build_info() {
  val info = val::object();
  info.set("version", std::string(QPLAY_VERSION));
  info.set("simd", qplay::kernels::simd128_table() != nullptr);
  info.set("kernels", std::string(qplay::kernels::table().name));
  return info;
}

// value_object fields for the int64 sizes: JS numbers (exact up to 2^53) without BigInt.
double get_group_size(const QuantOptions& o) { return double(o.group_size); }
void set_group_size(QuantOptions& o, double v) { o.group_size = static_cast<int64_t>(v); }
double get_block_size(const QuantOptions& o) { return double(o.block_size); }
void set_block_size(QuantOptions& o, double v) { o.block_size = static_cast<int64_t>(v); }

}  // namespace

EMSCRIPTEN_BINDINGS(qplay) {
  using emscripten::enum_;
  using emscripten::function;
  using emscripten::value_object;

  enum_<Mode>("Mode").value("asymmetric", Mode::asymmetric).value("symmetric", Mode::symmetric);
  enum_<Granularity>("Granularity")
      .value("tensor", Granularity::tensor)
      .value("channel", Granularity::channel)
      .value("group", Granularity::group)
      .value("block", Granularity::block);
  enum_<RoundingMode>("RoundingMode")
      .value("half_even", RoundingMode::half_even)
      .value("half_away", RoundingMode::half_away)
      .value("half_up", RoundingMode::half_up)
      .value("stochastic", RoundingMode::stochastic);
  enum_<DivisionMode>("DivisionMode")
      .value("divide", DivisionMode::divide)
      .value("multiply_inverse", DivisionMode::multiply_inverse);
  enum_<ZeroPointDomain>("ZeroPointDomain")
      .value("integer", ZeroPointDomain::integer)
      .value("floating", ZeroPointDomain::floating);
  enum_<RangeMethod>("RangeMethod")
      .value("minmax", RangeMethod::minmax)
      .value("percentile", RangeMethod::percentile)
      .value("mse", RangeMethod::mse)
      .value("kl", RangeMethod::kl)
      .value("aciq", RangeMethod::aciq);
  enum_<Observer>("Observer").value("minmax", Observer::minmax).value("moving_average", Observer::moving_average);
  enum_<Profile>("Profile")
      .value("custom", Profile::custom)
      .value("seed", Profile::seed)
      .value("pytorch", Profile::pytorch)
      .value("onnx", Profile::onnx)
      .value("ort_tool", Profile::ort_tool)
      .value("bnb", Profile::bnb)
      .value("mx", Profile::mx)
      .value("ggml", Profile::ggml);
  enum_<ScaleRule>("ScaleRule").value("floor", ScaleRule::floor).value("rceil", ScaleRule::rceil);

  enum_<ElementKind>("ElementKind")
      .value("integer", ElementKind::integer)
      .value("minifloat", ElementKind::minifloat)
      .value("lut", ElementKind::lut)
      .value("mx", ElementKind::mx)
      .value("pow2", ElementKind::pow2)
      .value("kmeans", ElementKind::kmeans)
      .value("ggml", ElementKind::ggml);
  enum_<PackOrder>("PackOrder")
      .value("none", PackOrder::none)
      .value("low_first", PackOrder::low_first)
      .value("high_first", PackOrder::high_first)
      .value("gptq", PackOrder::gptq)
      .value("awq", PackOrder::awq)
      .value("ggml", PackOrder::ggml);
  enum_<GgmlType>("GgmlType")
      .value("q8_0", GgmlType::q8_0)
      .value("q8_1", GgmlType::q8_1)
      .value("q4_0", GgmlType::q4_0)
      .value("q4_1", GgmlType::q4_1)
      .value("q5_0", GgmlType::q5_0)
      .value("q5_1", GgmlType::q5_1)
      .value("q2_k", GgmlType::q2_k)
      .value("q3_k", GgmlType::q3_k)
      .value("q4_k", GgmlType::q4_k)
      .value("q5_k", GgmlType::q5_k)
      .value("q6_k", GgmlType::q6_k)
      .value("iq4_nl", GgmlType::iq4_nl)
      .value("mxfp4", GgmlType::mxfp4);

  value_object<IntType>("IntType").field("bits", &IntType::bits).field("signed", &IntType::is_signed);
  value_object<QuantOptions>("QuantOptions")
      .field("dtype", &QuantOptions::dtype)
      .field("mode", &QuantOptions::mode)
      .field("narrow", &QuantOptions::narrow)
      .field("reduceRange", &QuantOptions::reduce_range)
      .field("granularity", &QuantOptions::granularity)
      .field("axis", &QuantOptions::axis)
      .field("groupSize", &get_group_size, &set_group_size)
      .field("blockSize", &get_block_size, &set_block_size)
      .field("range", &QuantOptions::range)
      .field("percentile", &QuantOptions::percentile)
      .field("rounding", &QuantOptions::rounding)
      .field("seed", &QuantOptions::seed)
      .field("zeroPointDomain", &QuantOptions::zero_point_domain)
      .field("profile", &QuantOptions::profile)
      .field("bins", &QuantOptions::histogram_bins)
      .field("division", &QuantOptions::division)
      .field("element", &QuantOptions::element)
      .field("elementName", &QuantOptions::element_name)
      .field("saturate", &QuantOptions::saturate)
      .field("elementBits", &QuantOptions::element_bits)
      .field("pack", &QuantOptions::pack)
      .field("scaleRule", &QuantOptions::scale_rule)
      .field("doubleQuant", &QuantOptions::double_quant)
      .field("ggmlType", &QuantOptions::ggml_type);
  value_object<CalibrationOptions>("CalibrationOptions")
      .field("observer", &CalibrationOptions::observer)
      .field("averagingConstant", &CalibrationOptions::averaging_constant);

  function("buildInfo", &build_info);
  function("parseOptions", &parse_options);
  function("parseObserver", &parse_observer_js);
  function("openFile", &open_file);
  function("closeFile", &close_file);
  function("tensorValues", &tensor_values);
  function("quantize", &quantize_js);
  function("calibrate", &calibrate_js);
  function("exportNpz", &export_npz_js);
  function("exportSafetensors", &export_safetensors_js);
  function("describeHead", &describe_head_js);
  function("planWholeFile", &plan_whole_file_js);
  function("quantizeTensorBytes", &quantize_tensor_bytes_js);
  function("bundleOpen", &bundle_open_js);
  function("bundleAdd", &bundle_add_js);
  function("bundleFinish", &bundle_finish_js);
  function("bundleClose", &bundle_close_js);
  function("reportText", &report_text_js);
  function("exportGguf", &export_gguf_js);
}
