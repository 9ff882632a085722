// The option table, set_option / validate, and what the CLI and the JS API share around them
// (argument walking, --override rules, params files, describe, run, generated docs).
#include "qplay/request.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <limits>

#include "qplay/elements.hpp"
#include "qplay/error.hpp"
#include "qplay/ggml.hpp"
#include "qplay/minifloat.hpp"
#include "qplay/mx.hpp"
#include "qplay/numbers.hpp"
#include "qplay/pow2.hpp"

namespace qplay {
namespace {

// Block and group sizes: far above any tensor, low enough that sizes computed from them
// (ceil(D / B) * B) stay exact in int64 and in a JS number.
constexpr int64_t kMaxSize = (int64_t(1) << 53) - 1;

// Strings the table points into, built once (lists generated from the spelling tables).
std::string_view keep(std::string s) {
  static std::deque<std::string> store;
  store.push_back(std::move(s));
  return store.back();
}

template <class E> std::string spelled(std::span<const Spelling<E>> list) {
  std::string out;
  for (const Spelling<E>& s : list) out += (out.empty() ? "" : ", ") + std::string(s.name) + std::string(s.arg);
  return out;
}

[[noreturn]] void invalid(std::string_view text, std::string_view flag, std::string_view expected) {
  throw Error("invalid value '" + std::string(text) + "' for " + std::string(flag) + " (" + std::string(expected) + ")");
}

int64_t integer_value(const OptionSpec& spec, std::string_view text) {
  int64_t v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) invalid(text, spec.flag, "expected an integer");
  if (v >= spec.min && v <= spec.max) return v;
  const std::string flag(spec.flag);
  switch (spec.bounds) {
    case BoundStyle::between:
      throw Error(flag + " must be between " + std::to_string(spec.min) + " and " + std::to_string(spec.max) +
                  " (got " + std::to_string(v) + ")");
    case BoundStyle::at_least:
      if (v < spec.min) throw Error(flag + " must be at least " + std::to_string(spec.min));
      throw Error(flag + " must be at most " + std::to_string(spec.max) + " (got " + std::to_string(v) + ")");
    case BoundStyle::out_of_range: throw Error(flag + " " + std::to_string(v) + " is out of range");
    case BoundStyle::not_negative: throw Error(flag + " must not be negative");
  }
  return v;
}

// A finite float32 read straight from the text (so "0.037" gives the same bits everywhere).
float number_value(const OptionSpec& spec, std::string_view text) {
  float v = 0;
  if (!read_float32(text, v)) invalid(text, spec.flag, "expected a finite number");
  return v;
}

bool flag_value(const OptionSpec& spec, std::string_view text) {
  if (text.empty() || text == "true") return true;
  if (text == "false") return false;
  invalid(text, spec.flag, "expected true or false");
}

void no_file_name(std::string_view value, std::string_view name) {
  if (value.empty()) throw Error("empty file name for " + std::string(name));
}

std::vector<OptionSpec> build_table() {
  using K = OptionKind;
  using S = OptionScope;
  // What --dtype and --format take: the registry's rows (the lists their error messages name).
  const std::string_view dtype_values = keep(format_names("--dtype")), format_values = keep(format_names("--format"));
  // One row per option, in the order help and README list them.
  return {
      {"output", "--output", K::path, S::output, "OUT", "", 0, 0, BoundStyle::between, "",
       "the bundle to write: OUT.npz (codes.npy, scale.npy, zero_point.npy, dequantized.npy, params.json), "
       "OUT.safetensors (NAME.codes, NAME.scale, NAME.zero_point, params in __metadata__) or OUT.gguf (needs --format)",
       [](Request& r, const OptionSpec&, std::string_view name, std::string_view text) {
         no_file_name(text, name);
         r.output = std::string(text);
       }},
      {"tensor", "--tensor", K::text, S::selection, "NAME", "", 0, 0, BoundStyle::between, "",
       "the tensor to quantize in a multi-tensor file (default: the first)",
       [](Request& r, const OptionSpec&, std::string_view, std::string_view text) { r.tensor = std::string(text); }},
      {"fileName", "INPUT", K::path, S::selection, "INPUT", "", 0, 0, BoundStyle::between, "",
       "the input file (a positional argument on the command line)",
       [](Request& r, const OptionSpec&, std::string_view, std::string_view text) { r.positionals.push_back(std::string(text)); }},
      {"dtype", "--dtype", K::choice, S::scheme, "T", dtype_values, 0, 0, BoundStyle::between, "int8",
       "code type: an integer type or an element format (docs/SCHEMES.md section 4; mx* share a scale per 32 along --axis)",
       [](Request& r, const OptionSpec&, std::string_view, std::string_view text) {
         r.options.code = parse_dtype(text);
         r.explicit_set.dtype = true;
       }},
      {"format", "--format", K::choice, S::scheme, "F", format_values, 0, 0, BoundStyle::between, "",
       "a ggml / llama.cpp block format, bit-exact with quantize_row_*_ref; rows along the last dim, which "
       "must be whole blocks (32; 256 for the K-quants); no other scheme option applies",
       [](Request& r, const OptionSpec&, std::string_view, std::string_view text) {
         r.options.code = parse_format(text);
         r.explicit_set.format = true;
       }},
      {"bits", "--bits", K::integer, S::scheme, "N", "", 1, 8, BoundStyle::between,
       keep(std::to_string(kDefaultFittedBits)),
       "code width of --dtype pow2 and kmeans (k = 2^N levels)",
       [](Request& r, const OptionSpec& spec, std::string_view, std::string_view text) {
         r.bits = static_cast<int>(integer_value(spec, text));
       }},
      {"saturate", "--saturate", K::toggle, S::scheme, "", "", 0, 0, BoundStyle::between, "--saturate",
       "FP8 overflow goes to +-max (--saturate) or to Inf/NaN as ONNX saturate=0 (--no-saturate)",
       [](Request& r, const OptionSpec& spec, std::string_view name, std::string_view text) {
         r.options.saturate = name == "--no-saturate" ? false : name == "--saturate" ? true : flag_value(spec, text);
         r.explicit_set.saturate = true;
       }},
      {"pack", "--pack", K::choice, S::scheme, "P", keep(spelled(pack_spellings())), 0, 0, BoundStyle::between, "",
       "also write packed.npy, codes of at most 4 bits two per byte: low-first (default for elements), high-first "
       "(bitsandbytes), gptq, awq, ggml (per 32 codes byte j = code j | code j+16 << 4)",
       [](Request& r, const OptionSpec&, std::string_view, std::string_view text) {
         r.options.pack = parse_pack(text);
         r.explicit_set.pack = true;
       }},
      {"scaleRule", "--scale-rule", K::choice, S::scheme, "R", keep(spelled(scale_rule_spellings())), 0, 0,
       BoundStyle::between, "floor", "MX shared exponent: OCP MX v1.0 FLOOR, or torchao/cuBLAS RCEIL (never saturates)",
       [](Request& r, const OptionSpec&, std::string_view, std::string_view text) {
         r.options.scale_rule = parse_scale_rule(text);
         r.explicit_set.scale_rule = true;
       }},
      {"doubleQuant", "--double-quant", K::flag, S::scheme, "", "", 0, 0, BoundStyle::between, "",
       "quantize the per-channel/group/block scales to 8 bits: uint8 codes, a float32 per 256 scales "
       "(bnb: QLoRA's compress_statistics)",
       [](Request& r, const OptionSpec& spec, std::string_view, std::string_view text) { r.options.double_quant = flag_value(spec, text); }},
      {"mode", "--mode", K::choice, S::scheme, "M", keep(spelled(mode_spellings())), 0, 0, BoundStyle::between,
       "asymmetric", "affine with a zero point, or symmetric around 0",
       [](Request& r, const OptionSpec&, std::string_view, std::string_view text) {
         r.options.mode = parse_mode(text);
         r.explicit_set.mode = true;
       }},
      {"narrow", "--narrow", K::flag, S::scheme, "", "", 0, 0, BoundStyle::between, "",
       "drop the most negative code (int8 -> [-127, 127]; uint8 -> [0, 254])",
       [](Request& r, const OptionSpec& spec, std::string_view, std::string_view text) {
         r.options.narrow = flag_value(spec, text);
         r.explicit_set.narrow = true;
       }},
      {"reduceRange", "--reduce-range", K::flag, S::scheme, "", "", 0, 0, BoundStyle::between, "",
       "halve the code range as PyTorch reduce_range (int8 -> [-64, 63])",
       [](Request& r, const OptionSpec& spec, std::string_view, std::string_view text) {
         r.options.reduce_range = flag_value(spec, text);
         r.explicit_set.reduce_range = true;
       }},
      {"granularity", "--granularity", K::choice, S::scheme, "G", keep(spelled(granularity_spellings())), 0, 0,
       BoundStyle::between, "tensor", "which elements share params",
       [](Request& r, const OptionSpec&, std::string_view, std::string_view text) {
         r.options.granularity = parse_granularity(text);
         r.explicit_set.granularity = true;
       }},
      {"axis", "--axis", K::integer, S::scheme, "A", "", -64, 64, BoundStyle::out_of_range, "0",
       "channel axis (negative counts from the end)",
       [](Request& r, const OptionSpec& spec, std::string_view, std::string_view text) {
         r.options.axis = static_cast<int>(integer_value(spec, text));
         r.explicit_set.axis = true;
       }},
      {"groupSize", "--group-size", K::integer, S::scheme, "G", "", 1, kMaxSize, BoundStyle::at_least, "",
       "channels per group (--granularity group)",
       [](Request& r, const OptionSpec& spec, std::string_view, std::string_view text) {
         r.options.group_size = integer_value(spec, text);
         r.explicit_set.group_size = true;
       }},
      {"blockSize", "--block-size", K::integer, S::scheme, "B", "", 1, kMaxSize, BoundStyle::at_least, "",
       "elements per block along the axis (--granularity block)",
       [](Request& r, const OptionSpec& spec, std::string_view, std::string_view text) {
         r.options.block_size = integer_value(spec, text);
         r.explicit_set.block_size = true;
       }},
      {"range", "--range", K::choice, S::scheme, "R", keep(spelled(range_spellings())), 0, 0, BoundStyle::between,
       "minmax", "how dynamic params pick the range",
       [](Request& r, const OptionSpec&, std::string_view, std::string_view text) {
         parse_range(text, r.options);
         r.explicit_set.range = true;
       }},
      {"clipRatio", "--clip-ratio", K::number, S::scheme, "R", "", 0, 0, BoundStyle::between, "1",
       "shrink each dynamic range [lo, hi] to [R lo, R hi] before the params are computed (0 < R <= 1): "
       "weight clipping, trading clipped outliers for a finer grid",
       [](Request& r, const OptionSpec& spec, std::string_view, std::string_view text) {
         const float ratio = number_value(spec, text);
         if (!(ratio > 0.0f && ratio <= 1.0f))
           throw Error("--clip-ratio must be greater than 0 and at most 1 (got " + std::string(text) + ")");
         r.options.clip_ratio = ratio;
       }},
      {"rounding", "--rounding", K::choice, S::scheme, "R", keep(spelled(rounding_spellings())), 0, 0,
       BoundStyle::between, "half-even", "rounding of x/s",
       [](Request& r, const OptionSpec&, std::string_view, std::string_view text) {
         parse_rounding(text, r.options);
         r.explicit_set.rounding = true;
       }},
      {"zeroPointDomain", "--zero-point-domain", K::choice, S::scheme, "D", keep(spelled(zero_point_domain_spellings())),
       0, 0, BoundStyle::between, "int", "integer zero points, or float ones (torch float_qparams, HQQ)",
       [](Request& r, const OptionSpec&, std::string_view, std::string_view text) {
         r.options.zero_point_domain = parse_zero_point_domain(text);
         r.explicit_set.zero_point_domain = true;
       }},
      {"profile", "--profile", K::choice, S::scheme, "P", keep(spelled(profile_spellings())), 0, 0, BoundStyle::between,
       "custom",
       "reproduce a peer bit for bit: seed, pytorch, onnx, ort-tool (integer dtypes); bnb: bitsandbytes "
       "quantize_4bit, --dtype nf4 (default) or fp4, --block-size 64 (default; 32..4096) over the flattened "
       "tensor, high-first packing; mx: OCP MX v1.0, --dtype mxfp8_e4m3 (default) or another mx*; ggml: "
       "llama.cpp's reference quantizers, --format (q8_0 when none is given)",
       [](Request& r, const OptionSpec&, std::string_view, std::string_view text) { r.options.profile = parse_profile(text); }},
      {"bins", "--bins", K::integer, S::scheme, "N", "", 1, 1 << 20, BoundStyle::between, "64", "histogram bins",
       [](Request& r, const OptionSpec& spec, std::string_view, std::string_view text) {
         r.options.histogram_bins = static_cast<int>(integer_value(spec, text));
       }},
      {"json", "--json", K::flag, S::output, "", "", 0, 0, BoundStyle::between, "",
       "print params and metrics (with --all: the per-tensor report) as JSON instead of the summary",
       [](Request& r, const OptionSpec& spec, std::string_view, std::string_view text) { r.json = flag_value(spec, text); }},
      {"scale", "--scale", K::number, S::params, "S", "", 0, 0, BoundStyle::between, "",
       "static params, given: the scale (a scalar)",
       [](Request& r, const OptionSpec& spec, std::string_view, std::string_view text) { r.params.scale = number_value(spec, text); }},
      {"zeroPoint", "--zero-point", K::number, S::params, "Z", "", 0, 0, BoundStyle::between, "",
       "static params, given: the zero point with --scale",
       [](Request& r, const OptionSpec& spec, std::string_view, std::string_view text) { r.params.zero_point = number_value(spec, text); }},
      {"params", "--params", K::path, S::params, "P.npz", "", 0, 0, BoundStyle::between, "",
       "static params, given: P holds scale.npy (and zero_point.npy) shaped for the granularity (a qplay bundle works)",
       [](Request& r, const OptionSpec&, std::string_view, std::string_view text) { r.params.file = std::string(text); }},
      {"calibrate", "--calibrate", K::paths, S::params, "A [B ...]", "", 0, 0, BoundStyle::between, "",
       "static params, calibrated on tensors shaped like INPUT; takes every following argument up to the "
       "next option (put INPUT first)",
       [](Request& r, const OptionSpec&, std::string_view, std::string_view text) { r.params.calibration_files.push_back(std::string(text)); },
       true},
      {"observer", "--observer", K::choice, S::params, "O", keep(spelled(observer_spellings())), 0, 0,
       BoundStyle::between, "minmax", "calibration observer (C defaults to 0.01)",
       [](Request& r, const OptionSpec&, std::string_view, std::string_view text) { r.params.observer = parse_observer(text); }},
      {"all", "--all", K::flag, S::whole_file, "", "", 0, 0, BoundStyle::between, "",
       "whole-file mode: quantize every floating-point tensor of rank >= 2 of a .safetensors, .gguf, .npz or "
       ".npy; others are copied unchanged",
       [](Request& r, const OptionSpec& spec, std::string_view, std::string_view text) { r.all = flag_value(spec, text); }},
      {"override", "--override", K::text, S::whole_file, "'PAT:keep|FLAGS'", "", 0, 0, BoundStyle::between, "",
       "with --all: keep the tensors whose name matches the glob PAT (* and ?), or quantize them with FLAGS "
       "(e.g. 'lm_head.*:--dtype int8'), which replace the base options; repeatable, first match wins",
       [](Request& r, const OptionSpec&, std::string_view, std::string_view text) { r.overrides.push_back(std::string(text)); },
       true},
      {"report", "--report", K::path, S::whole_file, "R.csv", "", 0, 0, BoundStyle::between, "",
       "with --all: one CSV row per tensor (name, shape, dtype, action, scheme, params, mse, sqnr_db, "
       "max_abs_error, bits_per_element, bytes_before, bytes_after)",
       [](Request& r, const OptionSpec& spec, std::string_view, std::string_view text) {
         no_file_name(text, spec.flag);
         r.report = std::string(text);
       }},
      {"rawDtype", "--raw-dtype", K::text, S::raw, "T", "", 0, 0, BoundStyle::between, "",
       "read INPUT as raw binary of this dtype: float32, float16, bfloat16, float64, int8..int64, "
       "uint8..uint64, bool, float8_e4m3fn, float8_e5m2",
       [](Request& r, const OptionSpec&, std::string_view, std::string_view text) {
         try {
           r.raw_dtype = dtype_from_name(text);
         } catch (const Error& e) {
           throw Error(std::string(e.what()) + " for --raw-dtype");
         }
       }},
      {"rawShape", "--raw-shape", K::text, S::raw, "S", "", 0, 0, BoundStyle::between, "",
       "the raw input's shape, e.g. 4,6 (one dim may be -1: inferred from the file size)",
       [](Request& r, const OptionSpec&, std::string_view, std::string_view text) {
         try {
           r.raw_shape = parse_shape(text);
         } catch (const Error& e) {
           throw Error(std::string(e.what()) + " for --raw-shape");
         }
       }},
      {"rawOffset", "--raw-offset", K::integer, S::raw, "N", "", 0, std::numeric_limits<int64_t>::max(),
       BoundStyle::not_negative, "0", "bytes of the raw input to skip first",
       [](Request& r, const OptionSpec& spec, std::string_view, std::string_view text) { r.raw_offset = static_cast<uint64_t>(integer_value(spec, text)); }},
      {"rawEndian", "--raw-endian", K::choice, S::raw, "E", "little, big", 0, 0, BoundStyle::between, "little",
       "byte order of the raw input (big swaps)",
       [](Request& r, const OptionSpec& spec, std::string_view, std::string_view text) {
         if (text != "little" && text != "big") invalid(text, spec.flag, "allowed: little, big");
         r.raw_big_endian = text == "big";
       }},
  };
}

bool in_context(const OptionSpec& spec, RequestContext context) {
  switch (context) {
    case RequestContext::single: return spec.flag != "INPUT";
    // Rules refuse -o, --tensor, --json and the params sources in validate, with a reason.
    case RequestContext::whole_file_rule: return spec.scope != OptionScope::whole_file && spec.flag != "INPUT";
    case RequestContext::info: return spec.scope == OptionScope::raw;
    case RequestContext::api:
      return (spec.scope == OptionScope::scheme || spec.scope == OptionScope::params ||
              spec.scope == OptionScope::selection) &&
             spec.kind != OptionKind::paths && spec.flag != "--observer";
  }
  return false;
}

}  // namespace

std::span<const OptionSpec> option_table() {
  static const std::vector<OptionSpec> table = build_table();
  return table;
}

const OptionSpec* find_option(std::string_view name) {
  if (name == "-o") name = "--output";
  if (name == "--no-saturate") name = "--saturate";
  for (const OptionSpec& s : option_table())
    if (s.flag == name || s.key == name) return &s;
  return nullptr;
}

std::vector<std::string> choices(std::string_view name) {
  const OptionSpec* spec = find_option(name);
  std::vector<std::string> out;
  if (!spec || spec->kind != OptionKind::choice) return out;
  if (spec->flag == "--dtype") {
    // Integer types are a family: their spellings, then the element names.
    for (const char* t : {"int8", "uint8", "int4", "uint4", "int2", "uint2", "int16", "uint16"}) out.emplace_back(t);
    for (int bits : {1, 3, 5, 6, 7})
      for (const char* sign : {"int", "uint"}) out.push_back(sign + std::to_string(bits));
    for (std::string_view e : element_names()) out.emplace_back(e);
    return out;
  }
  std::string_view v = spec->values;
  while (!v.empty()) {
    const size_t comma = v.find(", ");
    out.emplace_back(v.substr(0, comma));
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 2);
  }
  return out;
}

namespace {
// In the order the JS params.source error lists them.
constexpr Spelling<ParamsKind> kParamsSources[] = {
    {ParamsKind::given, "given"}, {ParamsKind::calibrated, "calibrated"}, {ParamsKind::dynamic, "dynamic"}};
}  // namespace

std::string_view params_kind_name(ParamsKind k) {
  for (const Spelling<ParamsKind>& s : kParamsSources)
    if (s.value == k) return s.name;
  return "?";
}

ParamsKind parse_params_source(std::string_view text) {
  for (const Spelling<ParamsKind>& s : kParamsSources)
    if (s.name == text) return s.value;
  throw Error("invalid value '" + std::string(text) + "' for params.source (allowed: " +
              spelled(std::span<const Spelling<ParamsKind>>(kParamsSources)) + ")");
}

std::optional<GivenParams> ParamsRequest::scalar() const {
  if (!scale) return std::nullopt;
  GivenParams g;
  g.scale = {*scale};
  if (zero_point) g.zero_point = {*zero_point};
  return g;
}

const OptionSpec& option_for(std::string_view name, RequestContext context) {
  // The JS API names options by their keys only: "--dtype", "-o" or "INPUT" are unknown there.
  const OptionSpec* spec = find_option(name);
  if (spec && context == RequestContext::api && spec->key != name) spec = nullptr;
  if (spec && in_context(*spec, context)) return *spec;
  const std::string n(name);
  switch (context) {
    case RequestContext::single: throw Error("unknown option '" + n + "' for quantize (see qplay --help)");
    case RequestContext::whole_file_rule: throw Error("unknown option '" + n + "' in an --override");
    case RequestContext::info: throw Error("unknown option '" + n + "' for info (see qplay --help)");
    case RequestContext::api: break;
  }
  std::string allowed;
  for (const OptionSpec& s : option_table())
    if (in_context(s, RequestContext::api)) allowed += (allowed.empty() ? "" : ", ") + std::string(s.key);
  throw Error("unknown option '" + n + "' (allowed: " + allowed + ")");
}

void check_once(const Request& r, const OptionSpec& spec) {
  // A repeated single-valued option is almost always a mistake in a script; say so.
  if (spec.repeatable || spec.flag == "INPUT") return;
  if (std::find(r.given.begin(), r.given.end(), spec.flag) != r.given.end())
    throw Error(std::string(spec.flag) + " given more than once");
}

void set_option(Request& r, std::string_view name, std::string_view text, RequestContext context) {
  const OptionSpec& spec = option_for(name, context);
  check_once(r, spec);
  spec.apply(r, spec, name, text);
  if (!spec.repeatable && spec.flag != "INPUT") r.given.emplace_back(spec.flag);
}

std::optional<RawSpec> raw_spec(const Request& r) {
  if (!r.raw_dtype && !r.raw_shape && !r.raw_offset && !r.raw_big_endian) return std::nullopt;
  if (!r.raw_dtype) throw Error("raw input needs --raw-dtype (the --raw-* flags describe a raw binary file)");
  if (!r.raw_shape) throw Error("raw input needs --raw-shape (e.g. --raw-shape 4,6)");
  RawSpec spec;
  spec.dtype = *r.raw_dtype;
  spec.shape = *r.raw_shape;
  spec.offset = r.raw_offset.value_or(0);
  spec.big_endian = r.raw_big_endian.value_or(false);
  return spec;
}

void validate(Request& r, RequestContext context) {
  const bool rule = context == RequestContext::whole_file_rule;
  const bool single = context == RequestContext::single;
  QuantOptions& o = r.options;
  ParamsRequest& p = r.params;

  if (rule) {
    if (!r.positionals.empty())
      throw Error("unexpected '" + r.positionals[0] + "' (an override takes options only)");
    if (!r.output.empty() || !r.tensor.empty() || r.json)
      throw Error("an override takes quantization options only (not -o, --tensor or --json)");
  } else if (single && r.positionals.empty()) {
    throw Error(p.calibration_files.empty()
                    ? "quantize needs an INPUT file"
                    : "quantize needs an INPUT file (--calibrate takes every following file name; put INPUT first)");
  }
  if (r.positionals.size() > 1)
    throw Error("quantize takes one INPUT file, got " + std::to_string(r.positionals.size()) + ": '" +
                r.positionals[0] + "', '" + r.positionals[1] + "'" +
                (p.calibration_files.empty() ? "" : " (use --calibrate A B ... for calibration files)"));
  if (!rule && !r.positionals.empty()) r.input = r.positionals[0];
  if (single && r.output.empty()) throw Error("quantize needs -o OUT.npz (or -o OUT.safetensors)");

  r.raw = raw_spec(r);

  // At most one params source (in this order: --scale, --params, --calibrate).
  const bool given_arrays = !p.file.empty() || (p.arrays && !p.arrays_calibrated);
  const bool calibrated = !p.calibration_files.empty() || p.calibrating || (p.arrays && p.arrays_calibrated);
  std::vector<std::string> sources;
  if (p.scale) sources.push_back("--scale");
  if (given_arrays) sources.push_back("--params");
  if (p.arrays && p.arrays_calibrated) sources.push_back("--calibrate");
  if (!p.calibration_files.empty() || p.calibrating) sources.push_back("--calibrate");
  if (sources.size() > 1)
    throw Error("conflicting params sources: " + sources[0] + " and " + sources[1] + " (pick one)");
  if (p.zero_point && !p.scale)
    throw Error(given_arrays ? "--zero-point needs --scale (with --params the zero points come from P)"
                             : "--zero-point needs --scale");
  if (p.observer && p.calibration_files.empty() && !p.calibrating) throw Error("--observer needs --calibrate");
  if (o.code.is(Family::ggml) && !sources.empty())
    throw Error("--format " + o.code.name() + " computes its own block scales from INPUT; " + sources[0] +
                " applies to integer dtypes");
  if (!o.code.is(Family::integer) && !sources.empty())
    throw Error("--dtype " + o.code.name() + " computes its own scales from INPUT; " + sources[0] +
                " applies to integer dtypes");
  if (r.bits && !o.code.is(Family::pow2) && !o.code.is(Family::kmeans))
    throw Error("--bits sets the width of --dtype pow2 or kmeans (--dtype " + o.code.name() + " has its own)");
  if (r.bits) o.code.bits = *r.bits;
  if (r.explicit_set.range && o.range != RangeMethod::minmax && !sources.empty())
    throw Error("--range " + range_name(o) + " picks dynamic ranges; it has no effect with " + sources[0] +
                (sources[0] == "--calibrate" ? " (use --observer)" : ""));
  if (o.clip_ratio != 1.0f && !sources.empty())
    throw Error("--clip-ratio shrinks dynamic ranges; it has no effect with " + sources[0]);
  if (!r.all && !r.report.empty()) throw Error("--report needs --all (the per-tensor report of whole-file mode)");
  if (!r.all && !r.overrides.empty()) throw Error("--override needs --all");
  if (r.all && !r.tensor.empty()) throw Error("--all quantizes every tensor; drop --tensor (or --override to pick)");
  if ((r.all || rule) && !sources.empty())
    throw Error(sources[0] + " does not apply to " + (rule ? "an --override" : "--all") +
                " (each tensor's params are computed from the tensor)");

  apply_profile(o, r.explicit_set);
  (void)code_range(o);  // a type too narrow for the options is a problem of the request
  if (r.output.ends_with(".gguf") && !o.code.is(Family::ggml))
    throw Error("-o " + r.output + " writes a GGUF tensor in a ggml block format: add --format (q8_0, q4_k, ...) or "
                "--profile ggml, or write an .npz bundle");
  if (r.output.ends_with(".safetensors") && o.code.is(Family::ggml))
    throw Error("--format " + o.code.name() + " writes ggml blocks: use -o OUT.gguf (llama.cpp's file) or -o OUT.npz "
                "(the bundle with blocks.npy), not .safetensors");
  p.kind = p.scale || given_arrays ? ParamsKind::given : calibrated ? ParamsKind::calibrated : ParamsKind::dynamic;
}

void parse_arguments(Request& r, std::span<const std::string> words, RequestContext context) {
  bool only_positionals = false;
  const auto is_option = [&](const std::string& w) { return w.size() > 1 && w[0] == '-' && !only_positionals; };
  for (size_t i = 0; i < words.size();) {
    const std::string& word = words[i++];
    if (!is_option(word)) {
      if (!word.empty()) r.positionals.push_back(word);  // an empty argument names no file
      continue;
    }
    if (word == "--") {
      only_positionals = true;
      continue;
    }
    const size_t eq = word.find('=');
    const std::string name = word.substr(0, eq);
    const std::optional<std::string> attached =
        eq == std::string::npos ? std::nullopt : std::optional<std::string>(word.substr(eq + 1));
    if (context != RequestContext::whole_file_rule && (name == "--help" || name == "-h")) {
      r.help = true;
      return;
    }
    const OptionSpec& spec = option_for(name, context);
    check_once(r, spec);
    if (spec.kind == OptionKind::flag || spec.kind == OptionKind::toggle) {
      if (attached) throw Error(name + " takes no value (got '" + *attached + "')");
      set_option(r, name, "", context);
      continue;
    }
    // The value: after '=' or the next word (which may start with '-' as in "--axis -1", but not
    // with "--": that is a forgotten value).
    if (!attached && (i >= words.size() || words[i].starts_with("--"))) throw Error("missing value for " + name);
    set_option(r, name, attached ? *attached : words[i++], context);
    // --calibrate A B ...: every following word up to the next option.
    if (spec.kind == OptionKind::paths && !attached)
      while (i < words.size() && !(words[i].size() > 1 && words[i][0] == '-')) set_option(r, name, words[i++], context);
  }
}

TensorRule parse_override(std::string_view spec) {
  const size_t colon = spec.find(':');
  if (colon == std::string_view::npos || colon == 0)
    throw Error("invalid --override '" + std::string(spec) + "' (expected 'PATTERN:keep' or 'PATTERN:--dtype int8 ...')");
  TensorRule rule;
  rule.pattern = std::string(spec.substr(0, colon));
  const std::string_view rest = spec.substr(colon + 1);
  std::vector<std::string> words;
  for (size_t i = 0; i < rest.size();) {
    const size_t j = rest.find_first_of(" \t", i);
    std::string_view w = rest.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i);
    if (!w.empty()) words.emplace_back(w);
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  if (words.size() == 1 && words[0] == "keep") {
    rule.keep = true;
    return rule;
  }
  if (words.empty())
    throw Error("--override '" + std::string(spec) + "' has no options (use 'PATTERN:keep' to keep tensors)");
  try {
    Request r;
    parse_arguments(r, words, RequestContext::whole_file_rule);
    validate(r, RequestContext::whole_file_rule);
    rule.options = r.options;
  } catch (const Error& e) {
    throw Error("--override '" + rule.pattern + "': " + e.what());
  }
  return rule;
}

GivenParams params_from_npz(std::span<const uint8_t> bytes, std::span<const ZipMember> inflated) {
  if (bytes.size() < 4 || bytes[0] != 'P' || bytes[1] != 'K')
    throw Error("--params needs an .npz holding scale.npy and zero_point.npy (this file is not a zip)");
  std::optional<Tensor> scale, zero;
  for (const auto& [name, member] : read_npz(bytes, inflated)) {
    if (name == "scale.npy") scale = read_npy(member);
    if (name == "zero_point.npy") zero = read_npy(member);
  }
  if (!scale) throw Error("--params file has no scale.npy member (it needs scale.npy and zero_point.npy)");
  GivenParams g;
  g.shape = scale->shape;
  g.scale = to_f32(*scale);
  if (zero) {
    if (zero->shape != scale->shape)
      throw Error("zero_point.npy has shape " + shape_to_string(zero->shape) + ", scale.npy " +
                  shape_to_string(scale->shape) + "; they must match");
    g.zero_point = to_f32(*zero);
  }
  return g;
}

// ---- describe ------------------------------------------------------------------------------------

namespace {

std::string bool_text(bool b) { return b ? "true" : "false"; }

// The values codes stand for before scaling, for formats whose levels are fixed.
std::vector<float> fixed_levels(const QuantOptions& o, const CodeRange& range) {
  std::vector<float> out;
  const int count = 1 << o.code.bits;
  switch (o.code.family()) {
    case Family::integer:
    case Family::kmeans: break;
    case Family::lut: out = element_codebook(o).values(); break;
    case Family::minifloat: {
      const minifloat::Format* f = element_float_format(o);
      for (int c = 0; c < count; ++c) out.push_back(minifloat::decode(uint8_t(c), *f));
      break;
    }
    case Family::mx: {
      const mx::Element e = element_mx(o);
      for (int c = 0; c < count; ++c) out.push_back(mx::decode_element(uint8_t(c), e));
      break;
    }
    case Family::pow2: {
      pow2::Options po;
      po.bits = o.code.bits;
      for (int c = 0; c < count; ++c) out.push_back(pow2::decode(uint8_t(c), po));
      break;
    }
    case Family::ggml: {
      const std::span<const int8_t> table = ggml_codebook(o.code.ggml_type());
      for (int32_t c = range.qmin; c <= range.qmax; ++c)
        out.push_back(table.empty() ? float(c) : float(table[size_t(c)]));
      break;
    }
  }
  return out;
}

}  // namespace

Description describe(const Request& validated) {
  const QuantOptions& o = validated.options;
  Description d;
  d.range = code_range(o);
  d.family = std::string(family_name(o.code.family()));
  d.bits = o.code.bits;
  d.division = std::string(division_name(o.division));
  d.levels = fixed_levels(o, d.range);
  d.double_quant_applies = o.granularity != Granularity::tensor && !o.code.is(Family::mx) &&
                           !o.code.is(Family::kmeans) && !o.code.is(Family::ggml);

  // The options in the user's spelling (as the JS API reports them): element and packing options
  // only where they apply.
  auto& e = d.effective;
  if (o.code.is(Family::ggml)) e.emplace_back("format", o.code.name());
  else e.emplace_back("dtype", o.code.name());
  e.emplace_back("mode", std::string(mode_name(o.mode)));
  e.emplace_back("narrow", bool_text(o.narrow));
  e.emplace_back("reduceRange", bool_text(o.reduce_range));
  e.emplace_back("granularity", std::string(granularity_name(o.granularity)));
  e.emplace_back("axis", std::to_string(o.axis));
  if (o.group_size) e.emplace_back("groupSize", std::to_string(o.group_size));
  if (o.block_size) e.emplace_back("blockSize", std::to_string(o.block_size));
  e.emplace_back("range", range_name(o));
  if (o.clip_ratio != 1.0f) e.emplace_back("clipRatio", shortest_text(o.clip_ratio));
  e.emplace_back("rounding", rounding_name(o));
  e.emplace_back("zeroPointDomain", std::string(zero_point_domain_name(o.zero_point_domain)));
  e.emplace_back("profile", std::string(profile_name(o.profile)));
  e.emplace_back("bins", std::to_string(o.histogram_bins));
  if (o.code.is(Family::minifloat)) e.emplace_back("saturate", bool_text(o.saturate));
  if (o.code.is(Family::pow2) || o.code.is(Family::kmeans)) e.emplace_back("bits", std::to_string(o.code.bits));
  if (o.pack != PackOrder::none) e.emplace_back("pack", std::string(pack_order_name(o.pack)));
  if (o.code.is(Family::mx)) e.emplace_back("scaleRule", std::string(scale_rule_name(o.scale_rule)));
  if (o.double_quant) e.emplace_back("doubleQuant", "true");

  // What the profile fixes (the page's profileLocks), then what the element format fixes.
  auto lock = [&](std::string key, std::string value, const char* reason) {
    for (Lock& l : d.locked)
      if (l.key == key) {
        l = {std::move(key), std::move(value), reason};
        return;
      }
    d.locked.push_back({std::move(key), std::move(value), reason});
  };
  // The profile's own format, as (key, name): ("dtype", "nf4"), ("format", "q8_0").
  const auto default_code = [&] {
    const CodeFormat& f = *profile_default_format(o.profile);
    return std::pair<std::string, std::string>(f.option.substr(2), f.name);
  };
  switch (o.profile) {
    case Profile::seed: lock("rounding", "half-even", "profile"), lock("zeroPointDomain", "int", "profile"); break;
    case Profile::pytorch: lock("rounding", "half-even", "profile"); break;
    case Profile::onnx:
      lock("rounding", "half-even", "profile"), lock("zeroPointDomain", "int", "profile");
      lock("reduceRange", "false", "profile");
      break;
    case Profile::ort_tool:
      lock("rounding", "half-even", "profile"), lock("zeroPointDomain", "int", "profile");
      lock("narrow", "false", "profile");
      break;
    case Profile::bnb:
      // bitsandbytes blocks the flattened tensor (axis 0 of the 1-D view) and packs high-first.
      lock("rounding", "half-even", "profile"), lock("granularity", "block", "profile");
      lock("axis", "0", "profile"), lock("pack", "high-first", "profile");
      d.profile_defaults = {default_code(), {"blockSize", "64"}};
      break;
    case Profile::mx:
      lock("rounding", "half-even", "profile"), lock("scaleRule", "floor", "profile");
      d.profile_defaults = {default_code()};
      break;
    case Profile::ggml: d.profile_defaults = {default_code()}; break;
    case Profile::custom: break;
  }
  if (!o.code.is(Family::integer)) {
    for (const char* k : {"mode:symmetric", "narrow:false", "reduceRange:false", "range:minmax", "clipRatio:1", "zeroPointDomain:int",
                          "params:dynamic"}) {
      const std::string_view kv = k;
      lock(std::string(kv.substr(0, kv.find(':'))), std::string(kv.substr(kv.find(':') + 1)), "element");
    }
    // nf4/fp4 may take profile bnb and MX dtypes profile mx; the other elements have no profile.
    if (o.code.format().element_profile.empty()) lock("profile", "custom", "element");
    if (!o.code.is(Family::minifloat) && !o.code.is(Family::mx)) lock("rounding", "half-even", "element");
    if (o.code.is(Family::mx)) lock("granularity", "block", "element"), lock("blockSize", "32", "element");
    if (o.code.is(Family::ggml)) {
      // Rows along the last dim, one scale per sub-block; nothing else applies.
      lock("granularity", "block", "element");
      lock("blockSize", std::to_string(ggml_sub_block(o.code.ggml_type())), "element");
      lock("axis", "-1", "element");
      lock("rounding", "half-even", "element");
    }
  }
  return d;
}

// ---- run -------------------------------------------------------------------------------------------

RunResult run(const Request& validated, const TensorViewF32& x, RunInfo info,
              std::span<const TensorViewF32> calibration, const GivenParams* given) {
  const QuantOptions& o = validated.options;
  const ParamsRequest& p = validated.params;
  RunResult out;
  const auto check_calibrated_shape = [&](const Shape& params_shape, const GranularityPlan& plan) {
    if (params_shape != plan.param_shape)
      throw Error("calibration gives params of shape " + shape_to_string(params_shape) + ", but " + info.input_file +
                  " of shape " + shape_to_string(x.shape) + " needs " + shape_to_string(plan.param_shape) +
                  " (calibrate with tensors shaped like the input)");
  };
  switch (p.kind) {
    case ParamsKind::dynamic:
      info.params_source = params_kind_name(ParamsKind::dynamic);
      // Also keeps each group's range (the page's heatmaps); element kinds pick their own scales.
      out.q = quantize_dynamic(x, o);
      break;
    case ParamsKind::given: {
      info.params_source = params_kind_name(ParamsKind::given);
      const std::optional<GivenParams> scalar = p.scalar();
      const GivenParams* g = scalar ? &*scalar : given ? given : p.arrays ? &*p.arrays : nullptr;
      if (!g) throw Error("given params need --scale or a --params file");
      out.q = quantize(x, given_params(*g, plan_granularity(x.shape, o), o), o);
      break;
    }
    case ParamsKind::calibrated: {
      info.params_source = params_kind_name(ParamsKind::calibrated);
      const GranularityPlan plan = plan_granularity(x.shape, o);
      if (!calibration.empty()) {
        const CalibrationOptions calib = p.observer.value_or(CalibrationOptions{});
        info.observer = observer_name(calib);
        const QuantParams params = calibrate_params(calibration, o, calib);
        check_calibrated_shape(params.shape, plan);
        out.q = quantize(x, params, o);
      } else {
        const GivenParams* g = given ? given : p.arrays ? &*p.arrays : nullptr;
        if (!g) throw Error("calibrated params need the calibration tensors or their params");
        check_calibrated_shape(g->shape, plan);
        out.q = quantize(x, given_params(*g, plan, o), o);
      }
      break;
    }
  }
  out.dequantized = dequantize(out.q);
  out.eval = evaluate(x, out.q, out.dequantized);
  out.info = std::move(info);
  return out;
}

// ---- docs ------------------------------------------------------------------------------------------

namespace {

std::string flag_with_metavar(const OptionSpec& s) {
  if (s.kind == OptionKind::toggle) return std::string(s.flag) + ", --no-" + std::string(s.flag.substr(2));
  std::string out = s.flag == "--output" ? "-o, --output" : std::string(s.flag);
  if (s.kind != OptionKind::flag) out += " " + std::string(s.metavar);
  return out;
}

// Words of `text` filled into lines of at most `width` characters, each after `indent`.
std::string wrap(std::string_view text, size_t first_column, size_t indent, size_t width) {
  std::string out;
  size_t column = first_column;
  bool line_start = true;
  while (!text.empty()) {
    const size_t space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view{} : text.substr(space + 1);
    if (!line_start && column + 1 + word.size() > width) {
      out += "\n" + std::string(indent, ' ');
      column = indent;
      line_start = true;
    }
    if (!line_start) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    line_start = false;
  }
  return out;
}

std::string help_line(const OptionSpec& s) {
  constexpr size_t kColumn = 28, kWidth = 100;
  std::string head = "  " + flag_with_metavar(s);
  std::string doc(s.doc);
  if (!s.values.empty() && s.flag != "--profile" && s.flag != "--pack") doc += ": " + std::string(s.values);
  if (!s.default_text.empty()) doc += " (default " + std::string(s.default_text) + ")";
  if (head.size() + 1 > kColumn) return head + "\n" + std::string(kColumn, ' ') + wrap(doc, kColumn, kColumn, kWidth) + "\n";
  head.resize(kColumn, ' ');
  return head + wrap(doc, kColumn, kColumn, kWidth) + "\n";
}

// A '|' inside a markdown table cell (also inside `code`) must be written \|.
std::string escape_pipes(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string options_help() {
  struct Section {
    OptionScope scope;
    const char* title;
  };
  const Section sections[] = {
      {OptionScope::output, "output (both --flag value and --flag=value work):"},
      {OptionScope::selection, "input:"},
      {OptionScope::scheme, "scheme (also allowed in an --override rule):"},
      {OptionScope::params, "params source (default: dynamic, computed from INPUT itself; at most one):"},
      {OptionScope::whole_file, "whole-file mode (MODEL is .safetensors, .gguf, .npz or .npy; a tensor at a time):"},
      {OptionScope::raw, "raw binary input (INPUT or FILE is raw bytes described by these flags):"},
  };
  std::string out;
  for (const Section& section : sections) {
    std::string lines;
    for (const OptionSpec& s : option_table())
      if (s.scope == section.scope && s.flag.starts_with("-")) lines += help_line(s);
    if (lines.empty()) continue;
    if (!out.empty()) out += '\n';
    out.append(section.title).append("\n").append(lines);
  }
  return out;
}

std::string options_markdown_table() {
  std::string out = "| option | JS key | values | default | meaning |\n|---|---|---|---|---|\n";
  const auto code = [](std::string_view s) {
    std::string quoted;
    if (!s.empty()) quoted.append("`").append(s).append("`");
    return quoted;
  };
  for (const OptionSpec& s : option_table()) {
    if (!s.flag.starts_with("-")) continue;
    std::string values;
    if (!s.values.empty()) {
      std::string_view v = s.values;
      while (!v.empty()) {
        const size_t comma = v.find(", ");
        values += (values.empty() ? "" : ", ") + code(v.substr(0, comma));
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 2);
      }
    } else if (s.kind == OptionKind::integer) {
      values = s.bounds == BoundStyle::at_least || s.bounds == BoundStyle::not_negative
                   ? "integer ≥ " + std::to_string(s.min)
                   : "integer " + std::to_string(s.min) + ".." + std::to_string(s.max);
    } else if (s.kind == OptionKind::number) {
      values = "finite number";
    }
    // Only options the JS API takes have a JS key there.
    const std::string_view key = in_context(s, RequestContext::api) ? s.key : std::string_view{};
    out += "| `" + escape_pipes(flag_with_metavar(s)) + "` | " + code(key) + " | " + values + " | " +
           code(s.default_text) + " | " + escape_pipes(std::string(s.doc)) + " |\n";
  }
  return out;
}

}  // namespace qplay
