// The spelling table of every option and the profiles' rules about which options they fix.
#include "qplay/options.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "qplay/error.hpp"
#include "qplay/numbers.hpp"
#include "qplay/registry.hpp"

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

// Option values spelled as every number of qplay is (0.01, not 0.01000000000000000021).
std::string format_number(double v) { return shortest_text(v); }

// "a, b, c:ARG (note)": the allowed list of an error message, from the spelling list.
template <class E> std::string allowed_list(std::span<const Spelling<E>> list) {
  std::string out;
  for (const Spelling<E>& s : list) {
    out += (out.empty() ? "" : ", ") + std::string(s.name) + std::string(s.arg);
    if (!s.note.empty()) out += " (" + std::string(s.note) + ")";
  }
  return out;
}

template <class E> E parse_spelling(std::span<const Spelling<E>> list, std::string_view option, std::string_view text) {
  for (const Spelling<E>& s : list)
    if (s.arg.empty() && s.name == text) return s.value;
  bad_value(option, text, allowed_list(list));
}

// A spelling with an argument ("stochastic:SEED") matches its bare name or "name:ARG"; `arg` is
// what follows the colon (checked by the caller).
template <class E>
E parse_with_arg(std::span<const Spelling<E>> list, std::string_view option, std::string_view text,
                 std::optional<std::string_view>& arg) {
  for (const Spelling<E>& s : list) {
    if (s.name == text) return s.value;
    if (!s.arg.empty() && text.size() > s.name.size() && text.starts_with(s.name) && text[s.name.size()] == ':') {
      arg = text.substr(s.name.size() + 1);
      return s.value;
    }
  }
  bad_value(option, text, allowed_list(list));
}

template <class E> std::string_view spelling_of(std::span<const Spelling<E>> list, E value) {
  for (const Spelling<E>& s : list)
    if (s.value == value) return s.name;
  return "?";
}

constexpr Spelling<Mode> kModes[] = {{Mode::asymmetric, "asymmetric"}, {Mode::symmetric, "symmetric"}};
constexpr Spelling<Granularity> kGranularities[] = {{Granularity::tensor, "tensor"},
                                                    {Granularity::channel, "channel"},
                                                    {Granularity::group, "group"},
                                                    {Granularity::block, "block"}};
constexpr Spelling<ZeroPointDomain> kZeroPointDomains[] = {{ZeroPointDomain::integer, "int"},
                                                           {ZeroPointDomain::floating, "float"}};
constexpr Spelling<ScaleRule> kScaleRules[] = {{ScaleRule::floor, "floor"}, {ScaleRule::rceil, "rceil"}};
constexpr Spelling<Profile> kProfiles[] = {{Profile::custom, "custom"}, {Profile::seed, "seed"},
                                           {Profile::pytorch, "pytorch"}, {Profile::onnx, "onnx"},
                                           {Profile::ort_tool, "ort-tool"}, {Profile::bnb, "bnb"},
                                           {Profile::mx, "mx"},         {Profile::ggml, "ggml"}};
constexpr Spelling<PackOrder> kPackOrders[] = {{PackOrder::low_first, "low-first"},
                                               {PackOrder::high_first, "high-first"},
                                               {PackOrder::gptq, "gptq"},
                                               {PackOrder::awq, "awq"},
                                               {PackOrder::ggml, "ggml"}};
constexpr Spelling<RoundingMode> kRoundings[] = {{RoundingMode::half_even, "half-even"},
                                                 {RoundingMode::half_away, "half-away"},
                                                 {RoundingMode::half_up, "half-up"},
                                                 {RoundingMode::stochastic, "stochastic", ":SEED"}};
constexpr Spelling<RangeMethod> kRanges[] = {{RangeMethod::minmax, "minmax"},
                                             {RangeMethod::percentile, "percentile", ":P", "0 < P <= 100"},
                                             {RangeMethod::mse, "mse"},
                                             {RangeMethod::kl, "kl"},
                                             {RangeMethod::aciq, "aciq"}};
constexpr Spelling<Observer> kObservers[] = {{Observer::minmax, "minmax"},
                                             {Observer::moving_average, "moving-average", ":C", "0 < C <= 1"}};

}  // namespace

std::span<const Spelling<Mode>> mode_spellings() { return kModes; }
std::span<const Spelling<Granularity>> granularity_spellings() { return kGranularities; }
std::span<const Spelling<ZeroPointDomain>> zero_point_domain_spellings() { return kZeroPointDomains; }
std::span<const Spelling<ScaleRule>> scale_rule_spellings() { return kScaleRules; }
std::span<const Spelling<Profile>> profile_spellings() { return kProfiles; }
std::span<const Spelling<PackOrder>> pack_spellings() { return kPackOrders; }
std::span<const Spelling<RoundingMode>> rounding_spellings() { return kRoundings; }
std::span<const Spelling<RangeMethod>> range_spellings() { return kRanges; }
std::span<const Spelling<Observer>> observer_spellings() { return kObservers; }

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

// The element names --dtype takes besides the integers, in the registry's order.
std::vector<std::string_view> element_names() {
  std::vector<std::string_view> out;
  for (const CodeFormat& row : code_formats())
    if (row.option == "--dtype" && row.family != Family::integer) out.push_back(row.name);
  return out;
}

CodeFormatChoice parse_dtype(std::string_view text) {
  // The element names come from the format registry (schemes/registry.cpp).
  const CodeFormat* row = find_code_format("--dtype", text);
  if (row && row->family != Family::integer) return code_of(*row);
  if (!text.starts_with("int") && !text.starts_with("uint")) bad_value("--dtype", text, format_names("--dtype"));
  return integer_code(parse_int_type(text));
}

CodeFormatChoice parse_format(std::string_view text) {
  // ggml writes the K-quants "q4_K": any case names the registry's row.
  std::string lower(text);
  for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  const CodeFormat* row = find_code_format("--format", lower);
  if (!row) bad_value("--format", text, format_names("--format"));
  return code_of(*row);
}

const CodeFormat* profile_default_format(Profile p) {
  // Looked up by name once; the registry test checks each is the row its profile accepts.
  static const CodeFormat* const nf4 = find_code_format("--dtype", "nf4");
  static const CodeFormat* const mxfp8 = find_code_format("--dtype", "mxfp8_e4m3");
  static const CodeFormat* const q8_0 = find_code_format("--format", "q8_0");
  switch (p) {
    case Profile::bnb: return nf4;
    case Profile::mx: return mxfp8;
    case Profile::ggml: return q8_0;
    default: return nullptr;
  }
}

PackOrder parse_pack(std::string_view text) { return parse_spelling<PackOrder>(kPackOrders, "--pack", text); }

std::string_view pack_order_name(PackOrder p) {
  return p == PackOrder::none ? "none" : spelling_of<PackOrder>(kPackOrders, p);
}

PackOrder effective_pack(const QuantOptions& o) {
  if (o.code.bits > 4) return PackOrder::none;
  if (o.pack != PackOrder::none) return o.pack;
  // ggml runs keep their real storage in blocks.npy: packed.npy only when asked for.
  return o.code.is(Family::integer) || o.code.is(Family::ggml) ? PackOrder::none : PackOrder::low_first;
}

Mode parse_mode(std::string_view text) { return parse_spelling<Mode>(kModes, "--mode", text); }
std::string_view mode_name(Mode m) { return spelling_of<Mode>(kModes, m); }

Granularity parse_granularity(std::string_view text) {
  return parse_spelling<Granularity>(kGranularities, "--granularity", text);
}
std::string_view granularity_name(Granularity g) { return spelling_of<Granularity>(kGranularities, g); }

void parse_range(std::string_view text, QuantOptions& into) {
  std::optional<std::string_view> arg;
  const RangeMethod m = parse_with_arg<RangeMethod>(kRanges, "--range", text, arg);
  double p = 99.99;
  if (m == RangeMethod::percentile && ((arg && !parse_double(*arg, p)) || !(p > 0 && p <= 100)))
    bad_value("--range", text, allowed_list<RangeMethod>(kRanges));
  into.range = m;
  if (m == RangeMethod::percentile) into.percentile = p;
}

std::string range_name(const QuantOptions& o) {
  const std::string base(spelling_of<RangeMethod>(kRanges, o.range));
  return o.range == RangeMethod::percentile ? base + ":" + format_number(o.percentile) : base;
}

void parse_rounding(std::string_view text, QuantOptions& into) {
  std::optional<std::string_view> arg;
  const RoundingMode m = parse_with_arg<RoundingMode>(kRoundings, "--rounding", text, arg);
  uint32_t seed = 0;
  if (arg && !parse_int(*arg, seed)) bad_value("--rounding", text, allowed_list<RoundingMode>(kRoundings));
  into.rounding = m;
  if (m == RoundingMode::stochastic) into.seed = seed;
}

std::string rounding_name(const QuantOptions& o) {
  const std::string base(spelling_of<RoundingMode>(kRoundings, o.rounding));
  return o.rounding == RoundingMode::stochastic ? base + ":" + std::to_string(o.seed) : base;
}

ZeroPointDomain parse_zero_point_domain(std::string_view text) {
  return parse_spelling<ZeroPointDomain>(kZeroPointDomains, "--zero-point-domain", text);
}
std::string_view zero_point_domain_name(ZeroPointDomain d) { return spelling_of<ZeroPointDomain>(kZeroPointDomains, d); }

ScaleRule parse_scale_rule(std::string_view text) { return parse_spelling<ScaleRule>(kScaleRules, "--scale-rule", text); }
std::string_view scale_rule_name(ScaleRule r) { return spelling_of<ScaleRule>(kScaleRules, r); }

Profile parse_profile(std::string_view text) { return parse_spelling<Profile>(kProfiles, "--profile", text); }
std::string_view profile_name(Profile p) { return spelling_of<Profile>(kProfiles, p); }

std::string_view division_name(DivisionMode d) {
  return d == DivisionMode::multiply_inverse ? "multiply-inverse" : "divide";
}

CalibrationOptions parse_observer(std::string_view text) {
  std::optional<std::string_view> arg;
  CalibrationOptions c;
  c.observer = parse_with_arg<Observer>(kObservers, "--observer", text, arg);
  if (c.observer == Observer::moving_average &&
      ((arg && !parse_double(*arg, c.averaging_constant)) || !(c.averaging_constant > 0 && c.averaging_constant <= 1)))
    bad_value("--observer", text, allowed_list<Observer>(kObservers));
  return c;
}

std::string observer_name(const CalibrationOptions& c) {
  const std::string base(spelling_of<Observer>(kObservers, c.observer));
  return c.observer == Observer::moving_average ? base + ":" + format_number(c.averaging_constant) : base;
}

namespace {

// Element kinds compute their own scales (docs/SCHEMES.md section 4): the affine options do not
// apply, so an explicit one is an error rather than silently ignored.
void check_element_options(QuantOptions& o, const ExplicitOptions& user) {
  const std::string dtype = "--dtype " + o.code.name();
  const auto reject = [&](bool set, const std::string& flag) {
    if (set) throw Error(dtype + " scales by the absolute maximum; " + flag + " applies to integer dtypes");
  };
  reject(user.mode && o.mode != Mode::symmetric, "--mode asymmetric");
  reject(o.narrow, "--narrow");
  reject(o.reduce_range, "--reduce-range");
  reject(user.range && o.range != RangeMethod::minmax, "--range " + range_name(o));
  reject(o.clip_ratio != 1.0f, "--clip-ratio " + shortest_text(o.clip_ratio));
  reject(o.zero_point_domain == ZeroPointDomain::floating, "--zero-point-domain float");
  const bool element_profile = o.profile != Profile::custom && o.code.format().element_profile == profile_name(o.profile);
  if (o.profile != Profile::custom && !element_profile)
    throw Error(dtype + " has no --profile " + std::string(profile_name(o.profile)) +
                " (seed, pytorch, onnx and ort-tool reproduce integer quantizers)");
  const bool half_away_ok = o.code.is(Family::minifloat) || o.code.is(Family::mx);
  if (o.rounding != RoundingMode::half_even &&
      !(half_away_ok && o.rounding == RoundingMode::half_away))
    throw Error(dtype + " rounds half-even" + std::string(half_away_ok ? " or half-away" : "") +
                " (got --rounding " + rounding_name(o) + ")");
  if ((o.code.is(Family::pow2) && (o.code.bits < 2 || o.code.bits > 8)) ||
      (o.code.is(Family::kmeans) && (o.code.bits < 1 || o.code.bits > 8)))
    throw Error(dtype + " takes --bits " + (o.code.is(Family::pow2) ? "2..8" : "1..8") + " (got " +
                std::to_string(o.code.bits) + ")");
  if (o.code.is(Family::mx)) {
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
  if (o.pack != PackOrder::none && o.code.bits > 4)
    throw Error("--pack packs codes of at most 4 bits (" + dtype + " has " + std::to_string(o.code.bits) + ")");
  o.mode = Mode::symmetric;
}

// A profile's fixed choice against an explicit option: one error naming both.
[[noreturn]] void conflict(Profile p, std::string_view fixes, const std::string& given) {
  throw Error("--profile " + std::string(profile_name(p)) + " " + std::string(fixes) + "; it conflicts with " + given);
}

bool is_bnb_blocksize(int64_t b) { return b >= 32 && b <= 4096 && (b & (b - 1)) == 0; }

// bitsandbytes quantize_4bit (default backend): NF4/FP4 codes, one absmax per block of the
// FLATTENED tensor, element 2i in the high nibble, ties to the lower code.
void apply_bnb(QuantOptions& o, const ExplicitOptions& user) {
  const Profile p = Profile::bnb;
  if (o.code.is(Family::integer) && !user.dtype) o.code = code_of(*profile_default_format(p));
  if (o.code.format().element_profile != profile_name(p))
    conflict(p, "quantizes --dtype nf4 or fp4 (bitsandbytes quantize_4bit)", "--dtype " + o.code.name());
  if (user.granularity && o.granularity != Granularity::block)
    conflict(p, "blocks the flattened tensor (--granularity block)",
             "--granularity " + std::string(granularity_name(o.granularity)));
  if (user.axis) conflict(p, "blocks the flattened tensor (no axis)", "--axis " + std::to_string(o.axis));
  if (o.group_size) conflict(p, "blocks the flattened tensor", "--group-size " + std::to_string(o.group_size));
  if (!o.block_size) o.block_size = 64;
  if (!is_bnb_blocksize(o.block_size))
    conflict(p, "takes --block-size 32, 64, 128, 256, 512, 1024, 2048 or 4096",
             "--block-size " + std::to_string(o.block_size));
  o.granularity = Granularity::block;
  o.axis = 0;
  if (o.pack != PackOrder::none && o.pack != PackOrder::high_first)
    conflict(p, "packs high-first (element 2i in the high nibble)", "--pack " + std::string(pack_order_name(o.pack)));
  o.pack = PackOrder::high_first;
  if (user.rounding && o.rounding != RoundingMode::half_even)
    conflict(p, "picks the nearest code with ties to the lower one", "--rounding " + rounding_name(o));
  if (user.mode && o.mode != Mode::symmetric) conflict(p, "scales by the block absmax", "--mode asymmetric");
  if (user.range && o.range != RangeMethod::minmax) conflict(p, "scales by the block absmax", "--range " + range_name(o));
  if (o.narrow) conflict(p, "uses the whole 16-value table", "--narrow");
  if (o.reduce_range) conflict(p, "uses the whole 16-value table", "--reduce-range");
  if (o.zero_point_domain == ZeroPointDomain::floating) conflict(p, "stores no zero points", "--zero-point-domain float");
}

// OCP MX v1.0: FLOOR shared exponent, elements rounded half-to-even and clamped to +-max normal,
// k = 32 (the block rule itself lives in check_element_options, shared with custom MX runs).
void apply_mx(QuantOptions& o, const ExplicitOptions& user) {
  const Profile p = Profile::mx;
  if (o.code.is(Family::integer) && !user.dtype) o.code = code_of(*profile_default_format(p));
  if (o.code.format().element_profile != profile_name(p))
    conflict(p, "quantizes an MX --dtype (" + format_names(Family::mx) + ")",
             "--dtype " + o.code.name());
  if (o.rounding != RoundingMode::half_even)
    conflict(p, "rounds elements half-to-even (OCP MX v1.0)", "--rounding " + rounding_name(o));
  if (o.scale_rule != ScaleRule::floor)
    conflict(p, "uses the FLOOR scale rule (OCP MX v1.0)", "--scale-rule " + std::string(scale_rule_name(o.scale_rule)));
  if (user.saturate && !o.saturate) conflict(p, "clamps elements to +-max normal (OCP MX v1.0)", "--no-saturate");
}

// Which group options go together (after a profile filled in its own).
void check_granularity_options(const QuantOptions& o) {
  if (o.granularity == Granularity::group && !o.group_size) throw Error("--granularity group needs --group-size");
  if (o.granularity == Granularity::block && !o.block_size) throw Error("--granularity block needs --block-size");
  if (o.group_size && o.granularity != Granularity::group) throw Error("--group-size needs --granularity group");
  if (o.block_size && o.granularity != Granularity::block) throw Error("--block-size needs --granularity block");
}

// --double-quant quantizes the float32 scales of a run with one scale per group.
void check_double_quant(const QuantOptions& o) {
  if (!o.double_quant) return;
  const std::string dq = "--double-quant";
  if (o.code.is(Family::mx))
    throw Error(dq + " quantizes float32 scales; --dtype " + o.code.name() + " scales are already 8-bit E8M0");
  if (o.code.is(Family::kmeans))
    throw Error(dq + " quantizes scales; --dtype kmeans stores a codebook per group instead of a scale");
  if (o.granularity == Granularity::tensor)
    throw Error(dq + " quantizes one scale per channel, group or block; --granularity tensor has a single scale");
}

// ggml's formats fix everything themselves (quantize_row_*_ref): rows along the last dim, their own
// block and sub-block scales and rounding. Any option that would change that is an error naming
// both, never silently ignored.
void check_ggml_options(QuantOptions& o, const ExplicitOptions& user) {
  const std::string format = "--format " + o.code.name();
  const auto reject = [&](bool set, const std::string& flag) {
    if (set)
      throw Error(format + " is ggml's own block quantizer (rows along the last dim, its own scales and rounding); it conflicts with " + flag);
  };
  if (o.profile != Profile::custom && o.profile != Profile::ggml)
    reject(true, "--profile " + std::string(profile_name(o.profile)));
  reject(user.mode, "--mode " + std::string(mode_name(o.mode)));
  reject(o.narrow, "--narrow");
  reject(o.reduce_range, "--reduce-range");
  reject(user.range, "--range " + range_name(o));
  reject(o.clip_ratio != 1.0f, "--clip-ratio " + shortest_text(o.clip_ratio));
  reject(user.rounding, "--rounding " + rounding_name(o));
  reject(user.zero_point_domain, "--zero-point-domain " + std::string(zero_point_domain_name(o.zero_point_domain)));
  reject(user.granularity, "--granularity " + std::string(granularity_name(o.granularity)));
  reject(user.block_size, "--block-size " + std::to_string(o.block_size));
  reject(user.group_size, "--group-size " + std::to_string(o.group_size));
  reject(user.axis && o.axis != -1, "--axis " + std::to_string(o.axis) + " (ggml rows run along the last dim, --axis -1)");
  reject(user.saturate, "--saturate/--no-saturate");
  reject(user.scale_rule, "--scale-rule");
  if (o.pack != PackOrder::none && o.code.bits > 4)
    throw Error("--pack packs codes of at most 4 bits (" + format + " has " + std::to_string(o.code.bits) + ")");
  // One scale per sub-block along the last dim: the granularity plan of the bundle's scale.npy.
  o.granularity = Granularity::block;
  o.axis = -1;
  o.block_size = int64_t(ggml_sub_block(o.code.ggml_type()));
  o.group_size = 0;
  o.mode = Mode::symmetric;
  o.rounding = RoundingMode::half_even;
  o.range = RangeMethod::minmax;
}

}  // namespace

void apply_profile(QuantOptions& o, const ExplicitOptions& user) {
  if (user.dtype && user.format)
    throw Error("--dtype and --format both choose what a code is; give one of them");
  if (o.profile == Profile::ggml && !o.code.is(Family::ggml)) {
    // --profile ggml alone means ggml's most common reference format, Q8_0.
    if (user.dtype)
      throw Error("--profile ggml quantizes with a ggml --format (q8_0 when none is given); it conflicts with --dtype " +
                  o.code.name());
    o.code = code_of(*profile_default_format(Profile::ggml));
  }
  if (o.code.is(Family::ggml)) {
    check_ggml_options(o, user);
    if (o.double_quant)
      throw Error("--double-quant quantizes float32 scales; --format " + o.code.name() + " stores its own scales in its blocks");
    o.division = DivisionMode::divide;
    if (o.histogram_bins < 1 || o.histogram_bins > (1 << 20))
      throw Error("--bins must be between 1 and 1048576 (got " + std::to_string(o.histogram_bins) + ")");
    return;
  }
  if (o.profile == Profile::bnb) apply_bnb(o, user);
  if (o.profile == Profile::mx) apply_mx(o, user);
  if (!o.code.is(Family::mx) && user.scale_rule)
    throw Error("--scale-rule picks the E8M0 exponent of MX dtypes (got --dtype " + o.code.name() + ")");
  if (!o.code.is(Family::integer)) {
    check_element_options(o, user);  // first: MX names its own block rule
    check_granularity_options(o);
    check_double_quant(o);
    o.division = DivisionMode::divide;
    if (o.histogram_bins < 1 || o.histogram_bins > (1 << 20))
      throw Error("--bins must be between 1 and 1048576 (got " + std::to_string(o.histogram_bins) + ")");
    return;
  }
  if (o.pack != PackOrder::none && o.code.bits > 4)
    throw Error("--pack packs codes of at most 4 bits (got --dtype " + o.code.name() + ")");
  check_granularity_options(o);
  check_double_quant(o);
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
    case Profile::bnb:  // apply_bnb / apply_mx already refused integer dtypes
    case Profile::mx:
    case Profile::ggml:  // a ggml run returned above
      break;
    case Profile::seed:
      fix_rounding();
      fix_int_zero_point();
      break;
    case Profile::pytorch:
      fix_rounding();
      o.division = DivisionMode::multiply_inverse;
      if (o.zero_point_domain == ZeroPointDomain::floating && o.code.int_type().is_signed)
        throw Error(profile + ": per_channel_affine_float_qparams takes unsigned codes (quint8, "
                    "quint4x2); use --dtype uint" + std::to_string(o.code.bits));
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
  // ggml's centred codes (q - 8, q - 32...) span the signed range of their width.
  if (o.code.is(Family::ggml) && ggml_codes_signed(o.code.ggml_type())) {
    const int b = o.code.bits;
    return {-(1 << (b - 1)), (1 << (b - 1)) - 1};
  }
  // Element codes are bit patterns or table indices: every value of the code width.
  if (!o.code.is(Family::integer)) return {0, (1 << o.code.bits) - 1};
  const int bits = o.code.bits;
  CodeRange r;
  if (o.code.int_type().is_signed) {
    r.qmin = -(1 << (bits - 1));
    r.qmax = (1 << (bits - 1)) - 1;
  } else {
    r.qmin = 0;
    r.qmax = (1 << bits) - 1;
  }
  const std::string type = o.code.name();
  if (o.profile == Profile::ort_tool) {
    // onnxruntime's quantization tool tables (quant_utils.py): symmetric drops one code, and
    // reduce_range has its own per-type ranges.
    if (o.reduce_range) {
      const IntType t = o.code.int_type();
      if (t == IntType{8, true}) return {-64, 64};
      if (t == IntType{8, false}) return {0, 127};
      if (t == IntType{4, true}) return {-4, 3};
      if (t == IntType{4, false}) return {0, 7};
      throw Error("--profile ort-tool defines --reduce-range for int8, uint8, int4 and uint4 only (got " + type + ")");
    }
    if (o.mode == Mode::symmetric && (bits == 8 || bits == 16)) {
      if (o.code.int_type().is_signed) ++r.qmin; else --r.qmax;
    }
    return r;
  }
  if (o.narrow) {
    if (o.code.int_type().is_signed) ++r.qmin; else --r.qmax;
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
  if (o.mode == Mode::symmetric && o.code.int_type().is_signed && r.qmax < 1)
    throw Error("symmetric " + type + " has no positive code; use --mode asymmetric or an unsigned type");
  return r;
}

}  // namespace qplay
