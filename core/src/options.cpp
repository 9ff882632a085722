// The spelling table of every option and the profiles' rules about which options they fix.
#include "qplay/options.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "qplay/error.hpp"

namespace qplay {
namespace {

[[noreturn]] void bad_value(std::string_view option, std::string_view value, std::string_view allowed) {
  throw Error("invalid value '" + std::string(value) + "' for " + std::string(option) +
              " (allowed: " + std::string(allowed) + ")");
}

bool parse_double(std::string_view text, double& out) {
  // from_chars for double is missing from Emscripten 3.1.6's libc++: strtod on a copy.
  std::string s(text);
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(out);
}

template <class Int> bool parse_int(std::string_view text, Int& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size();
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  // Prefer the shortest spelling that reads back the same (0.01, not 0.01000000000000000021).
  for (int precision = 1; precision <= 17; ++precision) {
    char shortest[32];
    std::snprintf(shortest, sizeof shortest, "%.*g", precision, v);
    if (std::strtod(shortest, nullptr) == v) return shortest;
  }
  return buf;
}

}  // namespace

IntType parse_int_type(std::string_view text) {
  constexpr std::string_view allowed =
      "int8, uint8, int4, uint4, int2, uint2, intN, uintN with N = 1..8, int16, uint16";
  IntType t;
  std::string_view digits;
  if (text.starts_with("uint")) {
    t.is_signed = false;
    digits = text.substr(4);
  } else if (text.starts_with("int")) {
    t.is_signed = true;
    digits = text.substr(3);
  } else {
    bad_value("--dtype", text, allowed);
  }
  if (!parse_int(digits, t.bits) || !((t.bits >= 1 && t.bits <= 8) || t.bits == 16))
    bad_value("--dtype", text, allowed);
  return t;
}

std::string int_type_name(IntType t) {
  return (t.is_signed ? "int" : "uint") + std::to_string(t.bits);
}

namespace {

// The element names --dtype takes besides the integers, with their kind and code width (0 = from
// --bits). The formats behind each name live in schemes/elements.cpp.
struct ElementSpelling {
  std::string_view name;
  ElementKind kind;
  int bits;
};
constexpr ElementSpelling kElements[] = {
    {"nf4", ElementKind::lut, 4},          {"fp4", ElementKind::lut, 4},
    {"iq4_nl", ElementKind::lut, 4},       {"fp8_e4m3fn", ElementKind::minifloat, 8},
    {"fp8_e5m2", ElementKind::minifloat, 8}, {"fp8_e4m3fnuz", ElementKind::minifloat, 8},
    {"fp8_e5m2fnuz", ElementKind::minifloat, 8}, {"fp6_e2m3", ElementKind::minifloat, 6},
    {"fp6_e3m2", ElementKind::minifloat, 6}, {"fp4_e2m1", ElementKind::minifloat, 4},
    {"mxfp8_e4m3", ElementKind::mx, 8},    {"mxfp8_e5m2", ElementKind::mx, 8},
    {"mxfp6_e2m3", ElementKind::mx, 6},    {"mxfp6_e3m2", ElementKind::mx, 6},
    {"mxfp4", ElementKind::mx, 4},         {"mxint8", ElementKind::mx, 8},
    {"pow2", ElementKind::pow2, 0},        {"kmeans", ElementKind::kmeans, 0},
};

const ElementSpelling* find_element(std::string_view name) {
  for (const ElementSpelling& e : kElements)
    if (e.name == name) return &e;
  return nullptr;
}

}  // namespace

void parse_dtype(std::string_view text, QuantOptions& into) {
  if (const ElementSpelling* e = find_element(text)) {
    into.element = e->kind;
    into.element_name = std::string(e->name);
    return;
  }
  if (!text.starts_with("int") && !text.starts_with("uint")) {
    std::string allowed = "int8, uint8, int4, uint4, int2, uint2, intN, uintN with N = 1..8, int16, uint16";
    for (const ElementSpelling& e : kElements) allowed += ", " + std::string(e.name);
    bad_value("--dtype", text, allowed);
  }
  into.dtype = parse_int_type(text);
  into.element = ElementKind::integer;
  into.element_name.clear();
}

std::string dtype_spelling(const QuantOptions& o) {
  return o.element == ElementKind::integer ? int_type_name(o.dtype) : o.element_name;
}

std::string_view element_kind_name(ElementKind k) {
  switch (k) {
    case ElementKind::integer: return "integer";
    case ElementKind::minifloat: return "minifloat";
    case ElementKind::lut: return "lut";
    case ElementKind::mx: return "mx";
    case ElementKind::pow2: return "pow2";
    case ElementKind::kmeans: return "kmeans";
  }
  return "?";
}

int code_bits(const QuantOptions& o) {
  if (o.element == ElementKind::integer) return o.dtype.bits;
  const ElementSpelling* e = find_element(o.element_name);
  if (!e) throw Error("unknown element format '" + o.element_name + "'");
  return e->bits ? e->bits : o.element_bits;
}

PackOrder parse_pack(std::string_view text) {
  if (text == "low-first") return PackOrder::low_first;
  if (text == "high-first") return PackOrder::high_first;
  if (text == "gptq") return PackOrder::gptq;
  if (text == "awq") return PackOrder::awq;
  bad_value("--pack", text, "low-first, high-first, gptq, awq");
}

std::string_view pack_order_name(PackOrder p) {
  switch (p) {
    case PackOrder::none: return "none";
    case PackOrder::low_first: return "low-first";
    case PackOrder::high_first: return "high-first";
    case PackOrder::gptq: return "gptq";
    case PackOrder::awq: return "awq";
  }
  return "?";
}

PackOrder effective_pack(const QuantOptions& o) {
  if (code_bits(o) > 4) return PackOrder::none;
  if (o.pack != PackOrder::none) return o.pack;
  return o.element == ElementKind::integer ? PackOrder::none : PackOrder::low_first;
}

Mode parse_mode(std::string_view text) {
  if (text == "asymmetric") return Mode::asymmetric;
  if (text == "symmetric") return Mode::symmetric;
  bad_value("--mode", text, "asymmetric, symmetric");
}
std::string_view mode_name(Mode m) { return m == Mode::symmetric ? "symmetric" : "asymmetric"; }

Granularity parse_granularity(std::string_view text) {
  if (text == "tensor") return Granularity::tensor;
  if (text == "channel") return Granularity::channel;
  if (text == "group") return Granularity::group;
  if (text == "block") return Granularity::block;
  bad_value("--granularity", text, "tensor, channel, group, block");
}
std::string_view granularity_name(Granularity g) {
  switch (g) {
    case Granularity::tensor: return "tensor";
    case Granularity::channel: return "channel";
    case Granularity::group: return "group";
    case Granularity::block: return "block";
  }
  return "?";
}

void parse_range(std::string_view text, QuantOptions& into) {
  constexpr std::string_view allowed = "minmax, percentile:P (0 < P <= 100), mse, kl, aciq";
  if (text == "minmax") {
    into.range = RangeMethod::minmax;
  } else if (text == "mse") {
    into.range = RangeMethod::mse;
  } else if (text == "kl") {
    into.range = RangeMethod::kl;
  } else if (text == "aciq") {
    into.range = RangeMethod::aciq;
  } else if (text.starts_with("percentile")) {
    double p = 99.99;
    if (text != "percentile") {
      if (text[10] != ':' || !parse_double(text.substr(11), p)) bad_value("--range", text, allowed);
    }
    if (!(p > 0 && p <= 100)) bad_value("--range", text, allowed);
    into.range = RangeMethod::percentile;
    into.percentile = p;
  } else {
    bad_value("--range", text, allowed);
  }
}

std::string range_name(const QuantOptions& o) {
  switch (o.range) {
    case RangeMethod::minmax: return "minmax";
    case RangeMethod::percentile: return "percentile:" + format_number(o.percentile);
    case RangeMethod::mse: return "mse";
    case RangeMethod::kl: return "kl";
    case RangeMethod::aciq: return "aciq";
  }
  return "?";
}

void parse_rounding(std::string_view text, QuantOptions& into) {
  constexpr std::string_view allowed = "half-even, half-away, half-up, stochastic:SEED";
  if (text == "half-even") {
    into.rounding = RoundingMode::half_even;
  } else if (text == "half-away") {
    into.rounding = RoundingMode::half_away;
  } else if (text == "half-up") {
    into.rounding = RoundingMode::half_up;
  } else if (text.starts_with("stochastic")) {
    uint32_t seed = 0;
    if (text != "stochastic" && (text[10] != ':' || !parse_int(text.substr(11), seed)))
      bad_value("--rounding", text, allowed);
    into.rounding = RoundingMode::stochastic;
    into.seed = seed;
  } else {
    bad_value("--rounding", text, allowed);
  }
}

std::string rounding_name(const QuantOptions& o) {
  switch (o.rounding) {
    case RoundingMode::half_even: return "half-even";
    case RoundingMode::half_away: return "half-away";
    case RoundingMode::half_up: return "half-up";
    case RoundingMode::stochastic: return "stochastic:" + std::to_string(o.seed);
  }
  return "?";
}

ZeroPointDomain parse_zero_point_domain(std::string_view text) {
  if (text == "int") return ZeroPointDomain::integer;
  if (text == "float") return ZeroPointDomain::floating;
  bad_value("--zero-point-domain", text, "int, float");
}
std::string_view zero_point_domain_name(ZeroPointDomain d) {
  return d == ZeroPointDomain::floating ? "float" : "int";
}

Profile parse_profile(std::string_view text) {
  if (text == "custom") return Profile::custom;
  if (text == "seed") return Profile::seed;
  if (text == "pytorch") return Profile::pytorch;
  if (text == "onnx") return Profile::onnx;
  if (text == "ort-tool") return Profile::ort_tool;
  bad_value("--profile", text, "custom, seed, pytorch, onnx, ort-tool");
}
std::string_view profile_name(Profile p) {
  switch (p) {
    case Profile::custom: return "custom";
    case Profile::seed: return "seed";
    case Profile::pytorch: return "pytorch";
    case Profile::onnx: return "onnx";
    case Profile::ort_tool: return "ort-tool";
  }
  return "?";
}

std::string_view division_name(DivisionMode d) {
  return d == DivisionMode::multiply_inverse ? "multiply-inverse" : "divide";
}

CalibrationOptions parse_observer(std::string_view text) {
  constexpr std::string_view allowed = "minmax, moving-average:C (0 < C <= 1)";
  CalibrationOptions c;
  if (text == "minmax") return c;
  if (text.starts_with("moving-average")) {
    c.observer = Observer::moving_average;
    if (text != "moving-average" &&
        (text[14] != ':' || !parse_double(text.substr(15), c.averaging_constant)))
      bad_value("--observer", text, allowed);
    if (!(c.averaging_constant > 0 && c.averaging_constant <= 1)) bad_value("--observer", text, allowed);
    return c;
  }
  bad_value("--observer", text, allowed);
}

std::string observer_name(const CalibrationOptions& c) {
  if (c.observer == Observer::minmax) return "minmax";
  return "moving-average:" + format_number(c.averaging_constant);
}

namespace {

// Element kinds compute their own scales (docs/SCHEMES.md section 4): the affine options do not
// apply, so an explicit one is an error rather than silently ignored.
void check_element_options(QuantOptions& o, const ExplicitOptions& user) {
  const std::string dtype = "--dtype " + o.element_name;
  const auto reject = [&](bool set, const std::string& flag) {
    if (set) throw Error(dtype + " scales by the absolute maximum; " + flag + " applies to integer dtypes");
  };
  reject(user.mode && o.mode != Mode::symmetric, "--mode asymmetric");
  reject(o.narrow, "--narrow");
  reject(o.reduce_range, "--reduce-range");
  reject(user.range && o.range != RangeMethod::minmax, "--range " + range_name(o));
  reject(o.zero_point_domain == ZeroPointDomain::floating, "--zero-point-domain float");
  if (o.profile != Profile::custom)
    throw Error(dtype + " has no --profile " + std::string(profile_name(o.profile)) +
                " (profiles reproduce integer quantizers)");
  const bool half_away_ok = o.element == ElementKind::minifloat || o.element == ElementKind::mx;
  if (o.rounding != RoundingMode::half_even &&
      !(half_away_ok && o.rounding == RoundingMode::half_away))
    throw Error(dtype + " rounds half-even" + std::string(half_away_ok ? " or half-away" : "") +
                " (got --rounding " + rounding_name(o) + ")");
  if ((o.element == ElementKind::pow2 && (o.element_bits < 2 || o.element_bits > 8)) ||
      (o.element == ElementKind::kmeans && (o.element_bits < 1 || o.element_bits > 8)))
    throw Error(dtype + " takes --bits " + (o.element == ElementKind::pow2 ? "2..8" : "1..8") + " (got " +
                std::to_string(o.element_bits) + ")");
  if (o.element == ElementKind::mx) {
    // OCP MX shares one E8M0 scale per k = 32 consecutive elements: the granularity is fixed.
    if (o.granularity == Granularity::tensor && !user.granularity) {
      o.granularity = Granularity::block;
      o.block_size = 32;
    }
    if (o.granularity != Granularity::block || o.block_size != 32)
      throw Error(dtype + " shares one scale per 32 elements along --axis (OCP MX k = 32); it conflicts with --granularity " +
                  std::string(granularity_name(o.granularity)) +
                  (o.granularity == Granularity::block ? " --block-size " + std::to_string(o.block_size) : ""));
  }
  if (o.pack != PackOrder::none && code_bits(o) > 4)
    throw Error("--pack packs codes of at most 4 bits (" + dtype + " has " + std::to_string(code_bits(o)) + ")");
  o.mode = Mode::symmetric;
}

}  // namespace

void apply_profile(QuantOptions& o, const ExplicitOptions& user) {
  if (o.element != ElementKind::integer) {
    check_element_options(o, user);
    o.division = DivisionMode::divide;
    if (o.histogram_bins < 1 || o.histogram_bins > (1 << 20))
      throw Error("--bins must be between 1 and 1048576 (got " + std::to_string(o.histogram_bins) + ")");
    return;
  }
  if (o.pack != PackOrder::none && o.dtype.bits > 4)
    throw Error("--pack packs codes of at most 4 bits (got --dtype " + int_type_name(o.dtype) + ")");
  const std::string profile = "--profile " + std::string(profile_name(o.profile));
  auto fix_rounding = [&] {
    if (user.rounding && o.rounding != RoundingMode::half_even)
      throw Error(profile + " fixes --rounding to half-even (got " + rounding_name(o) + ")");
    o.rounding = RoundingMode::half_even;
  };
  auto fix_int_zero_point = [&] {
    if (o.zero_point_domain == ZeroPointDomain::floating)
      throw Error(profile + " uses integer zero points (--zero-point-domain int)");
  };
  o.division = DivisionMode::divide;
  switch (o.profile) {
    case Profile::custom:
      break;
    case Profile::seed:
      fix_rounding();
      fix_int_zero_point();
      break;
    case Profile::pytorch:
      fix_rounding();
      o.division = DivisionMode::multiply_inverse;
      if (o.zero_point_domain == ZeroPointDomain::floating && o.dtype.is_signed)
        throw Error(profile + ": per_channel_affine_float_qparams takes unsigned codes (quint8, "
                    "quint4x2); use --dtype uint" + std::to_string(o.dtype.bits));
      break;
    case Profile::onnx:
      fix_rounding();
      fix_int_zero_point();
      if (o.reduce_range) throw Error(profile + " has no --reduce-range (QuantizeLinear saturates to the full type range)");
      break;
    case Profile::ort_tool:
      fix_rounding();
      fix_int_zero_point();
      if (user.narrow && o.narrow)
        throw Error(profile + " fixes the code range itself (symmetric uses the narrow range); drop --narrow");
      break;
  }
  if (o.zero_point_domain == ZeroPointDomain::floating && o.mode == Mode::symmetric)
    throw Error("--zero-point-domain float needs --mode asymmetric (a symmetric zero point is fixed)");
  if (o.histogram_bins < 1 || o.histogram_bins > (1 << 20))
    throw Error("--bins must be between 1 and 1048576 (got " + std::to_string(o.histogram_bins) + ")");
}

CodeRange code_range(const QuantOptions& o) {
  // Element codes are bit patterns or table indices: every value of the code width.
  if (o.element != ElementKind::integer) return {0, (1 << code_bits(o)) - 1};
  const int bits = o.dtype.bits;
  CodeRange r;
  if (o.dtype.is_signed) {
    r.qmin = -(1 << (bits - 1));
    r.qmax = (1 << (bits - 1)) - 1;
  } else {
    r.qmin = 0;
    r.qmax = (1 << bits) - 1;
  }
  const std::string type = int_type_name(o.dtype);
  if (o.profile == Profile::ort_tool) {
    // onnxruntime's quantization tool tables (quant_utils.py): symmetric drops one code, and
    // reduce_range has its own per-type ranges.
    if (o.reduce_range) {
      if (type == "int8") return {-64, 64};
      if (type == "uint8") return {0, 127};
      if (type == "int4") return {-4, 3};
      if (type == "uint4") return {0, 7};
      throw Error("--profile ort-tool defines --reduce-range for int8, uint8, int4 and uint4 only (got " + type + ")");
    }
    if (o.mode == Mode::symmetric && (bits == 8 || bits == 16)) {
      if (o.dtype.is_signed) ++r.qmin; else --r.qmax;
    }
    return r;
  }
  if (o.narrow) {
    if (o.dtype.is_signed) ++r.qmin; else --r.qmax;
  }
  if (o.reduce_range) {
    // torch halves the range with Python floor division: [-128, 127] -> [-64, 63].
    auto floor_half = [](int32_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); };
    r.qmin = floor_half(r.qmin);
    r.qmax = floor_half(r.qmax);
  }
  if (r.qmin >= r.qmax)
    throw Error("the code range of " + type + (o.narrow ? " with --narrow" : "") +
                (o.reduce_range ? " with --reduce-range" : "") + " is [" + std::to_string(r.qmin) +
                ", " + std::to_string(r.qmax) + "]: it needs at least two codes");
  if (o.mode == Mode::symmetric && o.dtype.is_signed && r.qmax < 1)
    throw Error("symmetric " + type + " has no positive code; use --mode asymmetric or an unsigned type");
  return r;
}

}  // namespace qplay
