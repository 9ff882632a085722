#include "options.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "qplay/numbers.hpp"

namespace qplay::js {

namespace {

// The name an option's messages use: its CLI flag, or its JS key when it has none (fileName).
std::string option_name(const OptionSpec& spec) {
  return std::string(spec.flag.starts_with("-") ? spec.flag : spec.key);
}

[[noreturn]] void wrong_type(const val& v, const std::string& name, const char* expected) {
  throw Error("invalid value '" + js_text(v) + "' for " + name + " (" + expected + ")");
}

}  // namespace

// JS types are checked here; the text is the core's to parse (a number that is no integer fails there
// with the CLI's message).
std::string option_text(const val& v, const OptionSpec& spec) {
  const std::string name = option_name(spec);
  switch (spec.kind) {
    case OptionKind::flag:
    case OptionKind::toggle:
      if (!v.isTrue() && !v.isFalse()) wrong_type(v, name, "expected true or false");
      return v.isTrue() ? "true" : "false";
    case OptionKind::integer:
      if (!v.isNumber() && !v.isString()) wrong_type(v, name, "expected an integer");
      return js_text(v);
    case OptionKind::number: {
      if (!v.isNumber() && !v.isString()) wrong_type(v, name, "expected a finite number");
      if (!v.isNumber()) return v.as<std::string>();
      const float f = static_cast<float>(v.as<double>());
      return std::isfinite(f) ? shortest_text(f) : js_text(v);  // the core refuses what is not finite
    }
    case OptionKind::choice:
    case OptionKind::text:
    case OptionKind::path:
    case OptionKind::paths: break;
  }
  return string_option(v, name.c_str());
}

namespace {

// The text of a describe() value in the JS type of its option: booleans, numbers, or the spelling.
val typed_value(const std::string& key, const std::string& text) {
  const OptionSpec* spec = find_option(key);
  if (spec && (spec->kind == OptionKind::flag || spec->kind == OptionKind::toggle)) return val(text == "true");
  if (spec && spec->kind == OptionKind::integer) {
    int64_t n = 0;
    std::from_chars(text.data(), text.data() + text.size(), n);
    return val(double(n));  // sizes are below 2^53 (the table's bound)
  }
  return val(text);
}

val pairs_to_js(const std::vector<std::pair<std::string, std::string>>& pairs) {
  val out = val::object();
  for (const auto& [key, text] : pairs) out.set(key, typed_value(key, text));
  return out;
}

// The `params` option: {scale, zeroPoint?, shape?, source?, observer?, files?} — the params of a
// calibrate call or of an earlier result (their informational keys are accepted and not used).
void params_from_js(const val& p, JsRequest& js) {
  static const char* const kKeys[] = {"scale", "zeroPoint", "shape", "source", "observer", "files",
                                      "floatZeroPoint", "qmin", "qmax", "axis"};
  for (const auto& key : keys_of(p, "params")) {
    if (std::none_of(std::begin(kKeys), std::end(kKeys), [&](const char* k) { return key == k; }))
      throw Error("unknown key '" + key + "' in params (allowed: scale, zeroPoint, shape, source, observer, files; " +
                  "floatZeroPoint, qmin, qmax and axis are accepted and ignored)");
  }
  GivenParams g;
  if (absent(p["scale"])) throw Error("params needs scale (a Float32Array shaped for the granularity)");
  g.scale = floats_from_js(p["scale"], "params.scale");
  if (!absent(p["zeroPoint"])) g.zero_point = floats_from_js(p["zeroPoint"], "params.zeroPoint");
  if (!absent(p["shape"])) {
    g.shape = shape_from_js(p["shape"], "params.shape");
  } else if (g.scale.size() != 1) {
    g.shape = {static_cast<int64_t>(g.scale.size())};
  }
  bool calibrated = false;
  if (!absent(p["source"])) {
    // "dynamic" (a dynamic result's params) reads as given arrays.
    const std::string source = string_option(p["source"], "params.source");
    calibrated = parse_params_source(source) == ParamsKind::calibrated;
  }
  if (calibrated && !absent(p["observer"])) js.observer = string_option(p["observer"], "params.observer");
  if (!absent(p["files"])) js.files = strings_from_js(p["files"], "params.files");
  js.request.params.arrays = std::move(g);
  js.request.params.arrays_calibrated = calibrated;
}

}  // namespace

JsRequest request_from_js(const val& options, bool calibrating) {
  JsRequest js;
  Request& r = js.request;
  r.params.calibrating = calibrating;
  const std::vector<std::string> keys = absent(options) ? std::vector<std::string>{} : keys_of(options, "options");
  for (const std::string& key : keys) (void)option_for(key, RequestContext::api);  // unknown keys first
  // Then the values in the table's order, whatever the object's key order.
  for (const OptionSpec& spec : option_table()) {
    if (spec.key.empty() || std::find(keys.begin(), keys.end(), spec.key) == keys.end()) continue;
    const val v = options[std::string(spec.key)];
    if (absent(v)) continue;
    if (spec.key == "params") {
      params_from_js(v, js);  // arrays, not the --params file name
      continue;
    }
    if (spec.key == "fileName") js.file_name_given = true;
    set_option(r, spec.key, option_text(v, spec), RequestContext::api);
  }
  validate(r, RequestContext::api);
  return js;
}

QuantOptions whole_file_options(const val& options, const std::string& what, bool name_errors) {
  try {
    if (!absent(options) && options.typeOf().as<std::string>() == "object") {
      for (const std::string& key : keys_of(options, "options")) {
        const OptionSpec* spec = find_option(key);
        if (spec && spec->key == key && (spec->scope == OptionScope::params || spec->scope == OptionScope::selection))
          throw Error(what + ": '" + key + "' does not apply to whole-file mode (each tensor's params come from the tensor)");
      }
    }
    return request_from_js(options, false).request.options;
  } catch (const Error& e) {
    const std::string m = e.what();
    if (!name_errors || m.starts_with(what + ": ")) throw;
    throw Error(what + ": " + m);
  }
}

std::optional<RawSpec> raw_from_js(const val& v) {
  if (absent(v)) return std::nullopt;
  // The raw object's keys are the rows' keys without "raw": rawDtype -> dtype.
  struct RawKey {
    std::string key;
    const OptionSpec* spec;
  };
  std::vector<RawKey> rows;
  std::string allowed;
  for (const OptionSpec& s : option_table()) {
    if (s.scope != OptionScope::raw || !s.key.starts_with("raw")) continue;
    std::string key(s.key.substr(3));
    key[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(key[0])));
    allowed += (allowed.empty() ? "" : ", ") + key;
    rows.push_back({key, &s});
  }
  for (const auto& key : keys_of(v, "raw"))
    if (std::none_of(rows.begin(), rows.end(), [&](const RawKey& r) { return r.key == key; }))
      throw Error("unknown key '" + key + "' in raw (allowed: " + allowed + ")");
  if (absent(v["dtype"])) throw Error("raw input needs dtype (the --raw-dtype of the CLI)");
  if (absent(v["shape"])) throw Error("raw input needs shape (e.g. [4, 6] or \"4,6\"; one -1 is inferred)");
  Request r;
  for (const RawKey& row : rows) {
    const val value = v[row.key];
    if (absent(value)) continue;
    std::string text;
    if (row.key == "shape" && !value.isString()) {
      // [4, 6] is the CLI's "4,6".
      if (!value.isArray()) throw Error("raw shape must be an array or a string such as \"4,6\"");
      const int n = value["length"].as<int>();
      for (int i = 0; i < n; ++i)
        text += (i ? "," : "") + std::to_string(integer_option(value[i], std::string(row.spec->flag).c_str()));
    } else {
      text = option_text(value, *row.spec);
    }
    set_option(r, row.spec->key, text, RequestContext::info);
  }
  return raw_spec(r);
}

val options_to_js(const QuantOptions& o) {
  Request r;
  r.options = o;
  return pairs_to_js(describe(r).effective);
}

val describe_js(val options) {
  return guarded([&] {
    const Description d = describe(request_from_js(options, false).request);
    val r = success();
    r.set("effective", pairs_to_js(d.effective));
    val locked = val::array();
    for (const Lock& l : d.locked) {
      val e = val::object();
      e.set("key", l.key);
      e.set("value", typed_value(l.key, l.value));
      e.set("reason", l.reason);
      locked.call<void>("push", e);
    }
    r.set("locked", locked);
    r.set("profileDefaults", pairs_to_js(d.profile_defaults));
    val range = val::object();
    range.set("qmin", d.range.qmin);
    range.set("qmax", d.range.qmax);
    r.set("range", range);
    r.set("family", d.family);
    r.set("bits", d.bits);
    r.set("division", d.division);
    r.set("levels", f32_to_js(d.levels));
    r.set("doubleQuantApplies", d.double_quant_applies);
    return r;
  });
}

}  // namespace qplay::js
