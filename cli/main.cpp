// qplay: the native command-line tool over the core. Errors print one line "qplay: error: ..." on
// stderr; exit code 2 for a bad command line, 1 for a file or data problem, 0 on success.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "qplay/error.hpp"
#include "qplay/export.hpp"
#include "qplay/formats.hpp"
#include "qplay/options.hpp"
#include "qplay/quantize.hpp"
#include "qplay/tensor.hpp"
#include "qplay/wholefile.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using namespace qplay;

// A problem with the command line itself (exit code 2); qplay::Error after parsing means a file or
// data problem (exit code 1).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr const char* kHelp = R"(qplay - quantization playground, command-line tool

usage:
  qplay quantize INPUT -o OUT.npz [options]
  qplay quantize INPUT -o OUT.safetensors [options]
  qplay quantize INPUT --format F -o OUT.gguf [options]
  qplay quantize MODEL --all -o OUT.safetensors|OUT.npz|OUT.gguf [--report R.csv] [--override ...] [options]
  qplay info FILE [raw options]
  qplay help | --help
  qplay --version

INPUT and FILE are .npy, .npz, .safetensors, .gguf (F32/F16/BF16 and the --format types, decoded
to float32) or text tables of
numbers (CSV, TSV, whitespace); the format is read from the bytes, not the name. A .npy, raw or
text file holds one tensor, named "array". info also lists safetensors metadata and gguf types.

raw binary input (INPUT or FILE is raw bytes described by these flags):
  --raw-dtype T             float32, float16, bfloat16, float64, int8..int64, uint8..uint64, bool,
                            float8_e4m3fn, float8_e5m2 (required for raw input)
  --raw-shape S             e.g. 4,6 (one dim may be -1: inferred from the file size; required)
  --raw-offset N            bytes to skip first (default 0)
  --raw-endian E            little (default) | big

quantize options (both --flag value and --flag=value work):
  -o, --output OUT          the bundle to write (required). OUT.safetensors: NAME.codes,
                            NAME.scale, NAME.zero_point and the params in __metadata__;
                            OUT.gguf (needs --format): one GGUF v3 tensor named after the input
                            tensor, params.json under the key qplay.params;
                            any other name: an .npz with codes.npy, scale.npy, zero_point.npy,
                            dequantized.npy, params.json (ggml runs add blocks.npy, offset.npy)
  --tensor NAME             the tensor to quantize in a multi-tensor file (default: the first)
  --dtype T                 int8 (default), uint8, int4, uint4, int2, uint2, intN, uintN
                            (N = 1..8), int16, uint16; or an element format: nf4, fp4, iq4_nl,
                            fp8_e4m3fn, fp8_e5m2, fp8_e4m3fnuz, fp8_e5m2fnuz, fp6_e2m3, fp6_e3m2,
                            fp4_e2m1, mxfp8_e4m3, mxfp8_e5m2, mxfp6_e2m3, mxfp6_e3m2, mxfp4,
                            mxint8 (blocks of 32 along --axis), pow2, kmeans
  --format F                a ggml / llama.cpp block format, bit-exact with quantize_row_*_ref:
                            q8_0, q8_1, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k,
                            iq4_nl, mxfp4. Rows along the last dim, which must be a multiple of
                            the block (32; 256 for the K-quants); no other scheme option applies
  --bits N                  pow2 / kmeans code width (default 4)
  --saturate, --no-saturate FP8 overflow to +-max (default) or to Inf/NaN as ONNX saturate=0
  --pack P                  packed.npy for codes of at most 4 bits: low-first (default for
                            elements), high-first (bitsandbytes), gptq, awq, ggml (per 32
                            codes byte j = code j | code j+16 << 4; tail padded with 0)
  --scale-rule R            MX shared exponent: floor (OCP MX v1.0, default) | rceil (torchao,
                            cuBLAS: ceil(log2(amax / max)), never saturates)
  --double-quant            quantize the per-channel/group/block scales to 8 bits: uint8 codes
                            with one float32 scale per 256 scales (bnb profile: bitsandbytes'
                            compress_statistics); the codes use the scales so rounded
  --mode M                  asymmetric (default) | symmetric
  --narrow                  drop the most negative code (int8 -> [-127, 127])
  --reduce-range            halve the code range (PyTorch reduce_range)
  --granularity G           tensor (default) | channel | group | block
  --axis A                  channel axis (negative counts from the end; default 0)
  --group-size G            channels per group (--granularity group)
  --block-size B            elements per block along the axis (--granularity block)
  --range R                 dynamic range method: minmax (default), percentile:P, mse, kl, aciq
  --rounding R              half-even (default), half-away, half-up, stochastic:SEED
  --zero-point-domain D     int (default) | float
  --profile P               custom (default), seed, pytorch, onnx, ort-tool (integer dtypes);
                            bnb: bitsandbytes quantize_4bit, --dtype nf4 (default) or fp4,
                            --block-size 64 (default; 32..4096) over the flattened tensor,
                            high-first packing; mx: OCP MX v1.0, --dtype mxfp8_e4m3 (default)
                            or another mx*, FLOOR scales, elements half-to-even
                            ggml: llama.cpp's reference quantizers, --format (q8_0 when none
                            is given)
  --bins N                  histogram bins (default 64)
  --json                    print params and metrics as JSON instead of the summary

params source (default: dynamic, computed from INPUT itself):
  --scale S [--zero-point Z]        static, given scalar params
  --params P.npz                    static, given arrays: P holds scale.npy (and zero_point.npy)
                                    shaped for the granularity (a qplay output bundle works)
  --calibrate A [B ...] [--observer minmax|moving-average:C]
                                    static, calibrated on tensors shaped like INPUT; takes every
                                    following argument up to the next option (put INPUT first)

whole-file mode (MODEL is .safetensors, .gguf, .npz or .npy; read a tensor at a time, memory
bounded by the largest tensor):
  --all                     quantize every floating-point tensor of rank >= 2 with the options;
                            1-D/0-d tensors (norms, biases) and integer/bool tensors are copied
                            unchanged. OUT.safetensors: NAME.codes, NAME.scale, NAME.zero_point per
                            quantized tensor (scheme in __metadata__ qplay.params.NAME), kept tensors
                            under their own name; any other name: an .npz with NAME.codes.npy,
                            NAME.scale.npy, NAME.zero_point.npy, NAME.params.json, NAME.npy (kept);
                            OUT.gguf (with --format, e.g. --format q4_k): each tensor's ggml blocks
                            under its own name, kept tensors as F32/F16/BF16
  --override 'PAT:keep'     keep the tensors whose name matches the glob PAT (* and ?), or
  --override 'PAT:FLAGS'    quantize them with FLAGS (e.g. 'lm_head.*:--dtype int8 --granularity
                            channel'), which replace the base options; repeatable, first match wins
  --report R.csv            one CSV row per tensor: name, shape, dtype, action, scheme, params,
                            mse, sqnr_db, max_abs_error, bits_per_element, bytes_before, bytes_after
  --json                    print that report as JSON instead of the summary
  A progress line goes to stderr when it is a terminal.

exit codes: 0 ok, 1 file or data error, 2 bad command line
)";

// ---- files ------------------------------------------------------------------------------------

std::vector<uint8_t> read_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw Error("cannot read '" + path + "': " + std::strerror(errno));
  std::vector<uint8_t> bytes;
  // Chunked so pipes and files whose size changes are read correctly too.
  constexpr size_t kChunk = size_t(1) << 20;
  for (;;) {
    const size_t old = bytes.size();
    bytes.resize(old + kChunk);
    const size_t got = std::fread(bytes.data() + old, 1, kChunk, f);
    bytes.resize(old + got);
    if (got < kChunk) break;
  }
  const bool failed = std::ferror(f);
  const int err = errno;
  std::fclose(f);
  if (failed) throw Error("cannot read '" + path + "': " + std::strerror(err));
  return bytes;
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw Error("cannot write '" + path + "': " + std::strerror(errno));
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const int err = errno;
  if (std::fclose(f) != 0 || !ok) {
    const std::string why = std::strerror(ok ? errno : err);
    // No half-written bundle left behind (disk full); never unlink a device such as /dev/full.
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec)) std::filesystem::remove(path, ec);
    throw Error("cannot write '" + path + "': " + why);
  }
}

// Errors about one file name it.
template <class F> auto about_file(const std::string& path, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    const std::string m = e.what();
    if (m.find("'" + path + "'") != std::string::npos) throw;
    throw Error(path + ": " + m);
  }
}

// ---- command-line parsing -----------------------------------------------------------------------

struct Arg {
  std::string name;                  // "--dtype" (short -o is reported as -o)
  std::optional<std::string> value;  // from --flag=value
};

int64_t parse_integer(std::string_view option, std::string_view text) {
  int64_t v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty())
    throw UsageError("invalid value '" + std::string(text) + "' for " + std::string(option) + " (expected an integer)");
  return v;
}

float parse_float(std::string_view option, std::string_view text) {
  float v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty() || !std::isfinite(v))
    throw UsageError("invalid value '" + std::string(text) + "' for " + std::string(option) +
                     " (expected a finite number)");
  return v;
}

// --raw-* flags, shared by quantize and info.
struct RawFlags {
  std::optional<DType> dtype;
  std::optional<Shape> shape;
  std::optional<uint64_t> offset;
  std::optional<bool> big_endian;
};

struct QuantizeCommand {
  std::string input, output, tensor;
  std::optional<RawSpec> raw;
  QuantOptions options;
  ExplicitOptions explicit_set;
  bool json = false;
  bool bits_given = false;            // --bits (pow2 and kmeans only)
  std::optional<float> scale, zero_point;
  std::string params_file;
  std::vector<std::string> calibration_files;
  std::optional<CalibrationOptions> observer;
  std::string observer_text;
  // ---- whole-file mode (--all) ----
  bool all = false;
  std::string report;                   // --report FILE.csv
  std::vector<std::string> overrides;   // --override 'PATTERN:keep' | 'PATTERN:--flag value ...'
};

// Walks argv: options with values (separate or after '='), flags, and positionals.
class ArgReader {
 public:
  ArgReader(int argc, char** argv, int first) : args_(argv + first, argv + argc) {}

  bool done() const { return i_ >= args_.size(); }
  // The next argument as an option (if it is one) or a positional.
  bool next_option(Arg& out, std::string& positional) {
    const std::string a = args_[i_++];
    if (a.size() > 1 && a[0] == '-' && !only_positionals_) {
      if (a == "--") {
        only_positionals_ = true;
        return next_after_separator(out, positional);
      }
      const size_t eq = a.find('=');
      out.name = a.substr(0, eq);
      out.value.reset();
      if (eq != std::string::npos) out.value = a.substr(eq + 1);
      return true;
    }
    positional = a;
    return false;
  }
  // The value of option `arg`: after '=' or the next argument (which may start with '-' as in
  // "--axis -1", but not with "--": that is a forgotten value).
  std::string value(const Arg& arg) {
    if (arg.value) return *arg.value;
    if (done() || args_[i_].starts_with("--"))
      throw UsageError("missing value for " + arg.name);
    return args_[i_++];
  }
  // Following arguments up to the next option (for --calibrate A B ...).
  std::vector<std::string> more_values() {
    std::vector<std::string> out;
    while (!done() && !(args_[i_].size() > 1 && args_[i_][0] == '-')) out.push_back(args_[i_++]);
    return out;
  }

 private:
  bool next_after_separator(Arg& out, std::string& positional) {
    if (done()) {
      positional.clear();
      return false;
    }
    return next_option(out, positional);
  }

  std::vector<std::string> args_;
  size_t i_ = 0;
  bool only_positionals_ = false;
};

void no_value(const Arg& arg) {
  if (arg.value) throw UsageError(arg.name + " takes no value (got '" + *arg.value + "')");
}

// Consumes a --raw-* option (true) or leaves the argument alone (false).
bool parse_raw_flag(const Arg& arg, ArgReader& r, RawFlags& f) {
  const std::string& n = arg.name;
  const auto twice = [&](bool given) {
    if (given) throw UsageError(n + " given more than once");
  };
  try {
    if (n == "--raw-dtype") {
      twice(f.dtype.has_value());
      f.dtype = dtype_from_name(r.value(arg));
    } else if (n == "--raw-shape") {
      twice(f.shape.has_value());
      f.shape = parse_shape(r.value(arg));
    } else if (n == "--raw-offset") {
      twice(f.offset.has_value());
      const int64_t o = parse_integer(n, r.value(arg));
      if (o < 0) throw UsageError("--raw-offset must not be negative");
      f.offset = static_cast<uint64_t>(o);
    } else if (n == "--raw-endian") {
      twice(f.big_endian.has_value());
      const std::string e = r.value(arg);
      if (e != "little" && e != "big") throw UsageError("invalid value '" + e + "' for --raw-endian (allowed: little, big)");
      f.big_endian = e == "big";
    } else {
      return false;
    }
  } catch (const Error& e) {
    throw UsageError(std::string(e.what()) + " for " + n);
  }
  return true;
}

std::optional<RawSpec> raw_spec(const RawFlags& f) {
  if (!f.dtype && !f.shape && !f.offset && !f.big_endian) return std::nullopt;
  if (!f.dtype) throw UsageError("raw input needs --raw-dtype (the --raw-* flags describe a raw binary file)");
  if (!f.shape) throw UsageError("raw input needs --raw-shape (e.g. --raw-shape 4,6)");
  RawSpec spec;
  spec.dtype = *f.dtype;
  spec.shape = *f.shape;
  spec.offset = f.offset.value_or(0);
  spec.big_endian = f.big_endian.value_or(false);
  return spec;
}

// `rule`: the options of an --override (no INPUT, no -o, no whole-file or params-source flags).
QuantizeCommand parse_quantize(int argc, char** argv, bool rule = false) {
  QuantizeCommand c;
  QuantOptions& o = c.options;
  ExplicitOptions& x = c.explicit_set;
  std::vector<std::string> positionals;
  std::vector<std::string> seen;
  // A repeated single-valued option is almost always a mistake in a script; say so.
  const auto once = [&](const std::string& name) {
    for (const auto& s : seen)
      if (s == name) throw UsageError(name + " given more than once");
    seen.push_back(name);
  };

  RawFlags raw;
  ArgReader r(argc, argv, 2);
  while (!r.done()) {
    Arg arg;
    std::string positional;
    if (!r.next_option(arg, positional)) {
      if (!positional.empty()) positionals.push_back(positional);
      continue;
    }
    const std::string& n = arg.name;
    if (parse_raw_flag(arg, r, raw)) continue;
    try {
      if (n == "-o" || n == "--output") {
        once("--output");
        c.output = r.value(arg);
        if (c.output.empty()) throw UsageError("empty file name for " + n);
      } else if (n == "--tensor") {
        once(n);
        c.tensor = r.value(arg);
      } else if (n == "--dtype") {
        once(n);
        parse_dtype(r.value(arg), o);
        x.dtype = true;
      } else if (n == "--format") {
        once(n);
        parse_format(r.value(arg), o);
        x.format = true;
      } else if (n == "--mode") {
        once(n);
        o.mode = parse_mode(r.value(arg));
        x.mode = true;
      } else if (n == "--narrow") {
        once(n);
        no_value(arg);
        o.narrow = x.narrow = true;
      } else if (n == "--reduce-range") {
        once(n);
        no_value(arg);
        o.reduce_range = x.reduce_range = true;
      } else if (n == "--granularity") {
        once(n);
        o.granularity = parse_granularity(r.value(arg));
        x.granularity = true;
      } else if (n == "--bits") {
        once(n);
        const int64_t b = parse_integer(n, r.value(arg));
        if (b < 1 || b > 8) throw UsageError("--bits must be between 1 and 8 (got " + std::to_string(b) + ")");
        o.element_bits = static_cast<int>(b);
        c.bits_given = true;
      } else if (n == "--saturate" || n == "--no-saturate") {
        once("--saturate");
        no_value(arg);
        o.saturate = n == "--saturate";
        x.saturate = true;
      } else if (n == "--scale-rule") {
        once(n);
        o.scale_rule = parse_scale_rule(r.value(arg));
        x.scale_rule = true;
      } else if (n == "--double-quant") {
        once(n);
        no_value(arg);
        o.double_quant = true;
      } else if (n == "--pack") {
        once(n);
        o.pack = parse_pack(r.value(arg));
        x.pack = true;
      } else if (n == "--axis") {
        once(n);
        const int64_t a = parse_integer(n, r.value(arg));
        if (a < -64 || a > 64) throw UsageError("--axis " + std::to_string(a) + " is out of range");
        o.axis = static_cast<int>(a);
        x.axis = true;
      } else if (n == "--group-size") {
        once(n);
        o.group_size = parse_integer(n, r.value(arg));
        if (o.group_size < 1) throw UsageError("--group-size must be at least 1");
        x.group_size = true;
      } else if (n == "--block-size") {
        once(n);
        o.block_size = parse_integer(n, r.value(arg));
        if (o.block_size < 1) throw UsageError("--block-size must be at least 1");
        x.block_size = true;
      } else if (n == "--range") {
        once(n);
        parse_range(r.value(arg), o);
        x.range = true;
      } else if (n == "--rounding") {
        once(n);
        parse_rounding(r.value(arg), o);
        x.rounding = true;
      } else if (n == "--zero-point-domain") {
        once(n);
        o.zero_point_domain = parse_zero_point_domain(r.value(arg));
        x.zero_point_domain = true;
      } else if (n == "--profile") {
        once(n);
        o.profile = parse_profile(r.value(arg));
      } else if (n == "--bins") {
        once(n);
        const int64_t b = parse_integer(n, r.value(arg));
        if (b < 1 || b > (1 << 20)) throw UsageError("--bins must be between 1 and 1048576 (got " + std::to_string(b) + ")");
        o.histogram_bins = static_cast<int>(b);
      } else if (n == "--json") {
        once(n);
        no_value(arg);
        c.json = true;
      } else if (n == "--scale") {
        once(n);
        c.scale = parse_float(n, r.value(arg));
      } else if (n == "--zero-point") {
        once(n);
        c.zero_point = parse_float(n, r.value(arg));
      } else if (n == "--params") {
        once(n);
        c.params_file = r.value(arg);
      } else if (n == "--calibrate") {
        c.calibration_files.push_back(r.value(arg));
        if (!arg.value)
          for (auto& f : r.more_values()) c.calibration_files.push_back(std::move(f));
      } else if (n == "--observer") {
        once(n);
        c.observer_text = r.value(arg);
        c.observer = parse_observer(c.observer_text);
      } else if (n == "--all" && !rule) {  // ---- whole-file mode ----
        once(n);
        no_value(arg);
        c.all = true;
      } else if (n == "--report" && !rule) {
        once(n);
        c.report = r.value(arg);
        if (c.report.empty()) throw UsageError("empty file name for --report");
      } else if (n == "--override" && !rule) {
        c.overrides.push_back(r.value(arg));
      } else if (n == "--help" || n == "-h") {
        std::fputs(kHelp, stdout);
        std::exit(0);
      } else {
        throw UsageError("unknown option '" + n + (rule ? "' in an --override" : "' for quantize (see qplay --help)"));
      }
    } catch (const Error& e) {
      throw UsageError(e.what());  // the spelling table's "invalid value ... (allowed: ...)"
    }
  }

  if (rule) {
    if (!positionals.empty()) throw UsageError("unexpected '" + positionals[0] + "' (an override takes options only)");
    if (!c.output.empty() || !c.tensor.empty() || c.json)
      throw UsageError("an override takes quantization options only (not -o, --tensor or --json)");
  } else if (positionals.empty())
    throw UsageError(c.calibration_files.empty()
                         ? "quantize needs an INPUT file"
                         : "quantize needs an INPUT file (--calibrate takes every following file name; put INPUT first)");
  if (positionals.size() > 1)
    throw UsageError("quantize takes one INPUT file, got " + std::to_string(positionals.size()) + ": '" +
                     positionals[0] + "', '" + positionals[1] + "'" +
                     (c.calibration_files.empty() ? "" : " (use --calibrate A B ... for calibration files)"));
  if (!rule) c.input = positionals[0];
  if (!rule && c.output.empty()) throw UsageError("quantize needs -o OUT.npz (or -o OUT.safetensors)");
  c.raw = raw_spec(raw);

  // At most one params source.
  std::vector<std::string> sources;
  if (c.scale) sources.push_back("--scale");
  if (!c.params_file.empty()) sources.push_back("--params");
  if (!c.calibration_files.empty()) sources.push_back("--calibrate");
  if (sources.size() > 1)
    throw UsageError("conflicting params sources: " + sources[0] + " and " + sources[1] + " (pick one)");
  if (c.zero_point && !c.scale)
    throw UsageError(c.params_file.empty() ? "--zero-point needs --scale"
                                           : "--zero-point needs --scale (with --params the zero points come from P)");
  if (c.observer && c.calibration_files.empty()) throw UsageError("--observer needs --calibrate");
  if (o.element == ElementKind::ggml && !sources.empty())
    throw UsageError("--format " + o.element_name + " computes its own block scales from INPUT; " + sources[0] +
                     " applies to integer dtypes");
  if (o.element != ElementKind::integer && !sources.empty())
    throw UsageError("--dtype " + o.element_name + " computes its own scales from INPUT; " + sources[0] +
                     " applies to integer dtypes");
  if (c.bits_given && o.element != ElementKind::pow2 && o.element != ElementKind::kmeans)
    throw UsageError("--bits sets the width of --dtype pow2 or kmeans (--dtype " + dtype_spelling(o) +
                     " has its own)");
  if (x.range && o.range != RangeMethod::minmax && !sources.empty())
    throw UsageError("--range " + range_name(o) + " picks dynamic ranges; it has no effect with " + sources[0] +
                     (sources[0] == "--calibrate" ? " (use --observer)" : ""));
  if (!c.all && !c.report.empty()) throw UsageError("--report needs --all (the per-tensor report of whole-file mode)");
  if (!c.all && !c.overrides.empty()) throw UsageError("--override needs --all");
  if (c.all && !c.tensor.empty()) throw UsageError("--all quantizes every tensor; drop --tensor (or --override to pick)");
  if ((c.all || rule) && !sources.empty())
    throw UsageError(sources[0] + " does not apply to " + (rule ? "an --override" : "--all") +
                     " (each tensor's params are computed from the tensor)");

  try {
    apply_profile(o, x);
    (void)code_range(o);  // a type too narrow for the options is a command-line problem
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  if (c.output.ends_with(".gguf") && o.element != ElementKind::ggml)
    throw UsageError("-o " + c.output + " writes a GGUF tensor in a ggml block format: add --format (q8_0, q4_k, ...) or "
                     "--profile ggml, or write an .npz bundle");
  if (c.output.ends_with(".safetensors") && o.element == ElementKind::ggml)
    throw UsageError("--format " + o.element_name + " writes ggml blocks: use -o OUT.gguf (llama.cpp's file) or -o OUT.npz "
                     "(the bundle with blocks.npy), not .safetensors");
  return c;
}

// ---- quantize -------------------------------------------------------------------------------------

struct Loaded {
  Tensor tensor;
  std::string name;
  std::vector<float> values;
};

// `any_single`: a single-tensor file gives its tensor whatever `wanted` says (calibration files are
// often .npy while the input is one tensor of an .npz).
Loaded load(const std::string& path, const std::string& wanted, bool any_single, const ReadOptions& read = {}) {
  const std::vector<uint8_t> bytes = read_file(path);
  return about_file(path, [&] {
    Loaded l;
    const std::vector<TensorInfo> infos = list_tensors(bytes, read);
    if (infos.empty()) throw Error("holds no tensors");
    const bool pick_only = any_single && infos.size() == 1;
    l.name = wanted.empty() || pick_only ? infos[0].name : wanted;
    l.tensor = load_tensor(bytes, pick_only ? std::string_view{} : std::string_view(wanted), read);
    l.values = to_f32(l.tensor);
    return l;
  });
}

GivenParams params_from_file(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file(path);
  return about_file(path, [&] {
    if (bytes.size() < 4 || bytes[0] != 'P' || bytes[1] != 'K')
      throw Error("--params needs an .npz holding scale.npy and zero_point.npy (this file is not a zip)");
    std::optional<Tensor> scale, zero;
    for (const auto& [name, member] : read_npz(bytes)) {
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
  });
}

std::string fmt(double v, const char* spec = "%.6g") {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, spec, v);
  return buf;
}

// The shortest spelling that reads back to the same float32 (as params.json writes it).
std::string shortest(float v) {
  if (!std::isfinite(v)) return fmt(v);
  char buf[40];
  for (int p = 1; p <= 9; ++p) {
    std::snprintf(buf, sizeof buf, "%.*g", p, double(v));
    if (std::strtof(buf, nullptr) == v) break;
  }
  return buf;
}

std::string range_of(const std::vector<float>& v) {
  if (v.empty()) return "-";
  float lo = v[0], hi = v[0];
  for (float f : v) lo = std::min(lo, f), hi = std::max(hi, f);
  return lo == hi ? shortest(lo) : shortest(lo) + " .. " + shortest(hi);
}

void print_summary(const QuantizeCommand& c, const RunInfo& info, const Quantized& q, const Evaluation& e,
                   size_t out_bytes) {
  const QuantOptions& o = q.options;
  const Metrics& m = e.metrics;
  std::string granularity = std::string(granularity_name(o.granularity));
  if (o.profile == Profile::bnb) granularity += " of " + std::to_string(o.block_size) + " (flattened tensor)";
  else if (o.granularity != Granularity::tensor) granularity += " (axis " + std::to_string(q.plan.axis) + ")";
  std::string element_extra;
  if (o.element == ElementKind::minifloat) element_extra = o.saturate ? ", saturate" : ", no saturate";
  if (o.element == ElementKind::mx) element_extra = ", scale rule " + std::string(scale_rule_name(o.scale_rule));
  std::string element_tail;
  if (effective_pack(o) != PackOrder::none) element_tail = ", pack " + std::string(pack_order_name(effective_pack(o)));
  if (o.profile != Profile::custom) element_tail += ", profile " + std::string(profile_name(o.profile));
  std::printf("input      %s [%s] %s %s\n", c.input.c_str(), info.input_tensor.c_str(),
              std::string(dtype_name(info.input_dtype)).c_str(), shape_to_string(info.input_shape).c_str());
  if (o.element == ElementKind::ggml) {
    std::printf("scheme     ggml %s (%d-bit codes, blocks of %zu, a scale per %zu along the last dim)%s\n",
                o.element_name.c_str(), code_bits(o), ggml_block_elems(o.ggml_type), ggml_sub_block(o.ggml_type),
                effective_pack(o) == PackOrder::none ? ""
                                                     : (", pack " + std::string(pack_order_name(effective_pack(o)))).c_str());
  } else if (o.element != ElementKind::integer) {
    std::printf("scheme     %s (%s, %d-bit codes%s), per %s, rounding %s%s\n", o.element_name.c_str(),
                std::string(element_kind_name(o.element)).c_str(), code_bits(o), element_extra.c_str(),
                granularity.c_str(), rounding_name(o).c_str(), element_tail.c_str());
  } else
  std::printf("scheme     %s %s%s%s, per %s, range %s, rounding %s, profile %s\n", int_type_name(o.dtype).c_str(),
              std::string(mode_name(o.mode)).c_str(), o.narrow ? ", narrow" : "", o.reduce_range ? ", reduce-range" : "",
              granularity.c_str(), range_name(o).c_str(), rounding_name(o).c_str(),
              std::string(profile_name(o.profile)).c_str());
  std::string source = info.params_source;
  if (!info.observer.empty()) source += " (" + info.observer + ")";
  std::printf("params     %s, %zu group%s, shape %s\n", source.c_str(), q.params.scale.size(),
              q.params.scale.size() == 1 ? "" : "s", shape_to_string(q.params.shape).c_str());
  std::printf("scale      %s\n", range_of(q.params.scale).c_str());
  if (o.element == ElementKind::ggml) {
    if (!q.offset.empty()) std::printf("offset     %s\n", range_of(q.offset).c_str());
  } else {
    std::printf("zero point %s%s\n", range_of(q.params.zero_point).c_str(), q.params.float_zero_point ? " (float)" : "");
  }
  if (const ScaleQuant& dq = q.scale_quant; !dq.scheme.empty())
    std::printf("scale dq   %s: %zu uint8 codes, %zu float32 super-scale%s per %lld%s\n", dq.scheme.c_str(),
                dq.codes.size(), dq.super.size(), dq.super.size() == 1 ? "" : "s",
                static_cast<long long>(dq.super_block),
                dq.scheme == "bnb-dynamic" ? (", offset " + shortest(dq.offset)).c_str() : "");
  std::printf("codes      %s in [%d, %d]\n", std::string(dtype_name(q.codes.dtype)).c_str(), q.range.qmin, q.range.qmax);
  std::printf("MSE        %s (RMSE %s)\n", fmt(m.mse).c_str(), fmt(m.rmse).c_str());
  std::printf("SQNR       %s dB\n", fmt(m.sqnr_db, "%.2f").c_str());
  std::printf("max error  %s\n", fmt(m.max_abs_error).c_str());
  std::printf("clip rate  %s %% (%llu of %llu finite)\n", fmt(100.0 * m.clip_rate, "%.2f").c_str(),
              static_cast<unsigned long long>(m.saturated), static_cast<unsigned long long>(m.finite));
  std::printf("bits/elem  %s\n", fmt(m.bits_per_element, "%.4f").c_str());
  if (m.nan || m.pos_inf || m.neg_inf)
    std::printf("non-finite %llu NaN, %llu +inf, %llu -inf\n", static_cast<unsigned long long>(m.nan),
                static_cast<unsigned long long>(m.pos_inf), static_cast<unsigned long long>(m.neg_inf));
  std::printf("wrote      %s (%zu bytes)\n", c.output.c_str(), out_bytes);
}

// ---- whole-file mode (quantize --all) ------------------------------------------------------------
// Every tensor of a model file, one at a time: the input is described from its head and each tensor
// read with pread, the output written with pwrite at offsets the plan fixes in advance, so memory
// is bounded by the largest tensor and its outputs, never the file (docs/FORMATS.md).

// A file opened for reading with pread; closed on every path.
class InputFile {
 public:
  explicit InputFile(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw Error("cannot read '" + path + "': " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd_);
      throw Error("cannot read '" + path + "': --all needs a regular file (it reads tensors at their offsets)");
    }
    size_ = static_cast<uint64_t>(st.st_size);
  }
  ~InputFile() {
    if (map_) ::munmap(map_, static_cast<size_t>(size_));
    ::close(fd_);
  }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  uint64_t size() const { return size_; }

  std::vector<uint8_t> read(uint64_t offset, uint64_t n) const {
    std::vector<uint8_t> out(static_cast<size_t>(n));
    size_t done = 0;
    while (done < out.size()) {
      const ssize_t got = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) throw Error("cannot read '" + path_ + "': " + (got < 0 ? std::strerror(errno) : "file shrank while reading"));
      done += static_cast<size_t>(got);
    }
    return out;
  }
  // The whole file mapped (formats read whole: .npz's directory is at the end); only the pages
  // touched count against memory.
  std::span<const uint8_t> mapped() {
    if (!map_ && size_) {
      void* m = ::mmap(nullptr, static_cast<size_t>(size_), PROT_READ, MAP_PRIVATE, fd_, 0);
      if (m == MAP_FAILED) throw Error("cannot map '" + path_ + "': " + std::strerror(errno));
      map_ = m;
    }
    return {static_cast<const uint8_t*>(map_), static_cast<size_t>(size_)};
  }

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  void* map_ = nullptr;
};

// The output, written at offsets; removed again if the run fails (never a device such as /dev/full).
class OutputFile {
 public:
  explicit OutputFile(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd_ < 0) throw Error("cannot write '" + path + "': " + std::strerror(errno));
  }
  ~OutputFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!kept_) {
      std::error_code ec;
      if (std::filesystem::is_regular_file(path_, ec)) std::filesystem::remove(path_, ec);
    }
  }
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  void write(const OutputChunk& c) {
    size_t done = 0;
    while (done < c.bytes.size()) {
      const ssize_t n = ::pwrite(fd_, c.bytes.data() + done, c.bytes.size() - done, static_cast<off_t>(c.offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw Error("cannot write '" + path_ + "': " + std::strerror(n < 0 ? errno : ENOSPC));
      done += static_cast<size_t>(n);
    }
  }
  void commit() {
    const int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) throw Error("cannot write '" + path_ + "': " + std::strerror(errno));
    kept_ = true;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool kept_ = false;
};

// 'PATTERN:keep' or 'PATTERN:--dtype int8 --granularity channel' (the quantize flags, parsed and
// checked as on the command line; they replace the base options).
TensorRule parse_override(const std::string& spec) {
  const size_t colon = spec.find(':');
  if (colon == std::string::npos || colon == 0)
    throw UsageError("invalid --override '" + spec + "' (expected 'PATTERN:keep' or 'PATTERN:--dtype int8 ...')");
  TensorRule rule;
  rule.pattern = spec.substr(0, colon);
  const std::string rest = spec.substr(colon + 1);
  std::vector<std::string> words = {"qplay", "quantize"};
  for (size_t i = 0; i < rest.size();) {
    const size_t j = rest.find_first_of(" \t", i);
    const std::string w = rest.substr(i, j == std::string::npos ? std::string::npos : j - i);
    if (!w.empty()) words.push_back(w);
    if (j == std::string::npos) break;
    i = j + 1;
  }
  if (words.size() == 3 && words[2] == "keep") {
    rule.keep = true;
    return rule;
  }
  if (words.size() == 2) throw UsageError("--override '" + spec + "' has no options (use 'PATTERN:keep' to keep tensors)");
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  try {
    rule.options = parse_quantize(static_cast<int>(argv.size()), argv.data(), true).options;
  } catch (const UsageError& e) {
    throw UsageError("--override '" + rule.pattern + "': " + e.what());
  }
  return rule;
}

std::string human_bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = double(n);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  return u == 0 ? std::to_string(n) + " B" : fmt(v, "%.1f") + " " + units[u];
}

int run_whole_file(const QuantizeCommand& c) {
  std::vector<TensorRule> rules;
  for (const std::string& spec : c.overrides) rules.push_back(parse_override(spec));
  ReadOptions read;
  read.raw = c.raw;
  InputFile in(c.input);

  FileInfo info = about_file(c.input, [&] {
    // The head grows as describe_head asks; formats read whole are mapped, not copied.
    std::vector<uint8_t> head = in.read(0, std::min<uint64_t>(in.size(), 64 * 1024));
    for (;;) {
      const HeadInfo h = describe_head(head, in.size(), read);
      if (h.info) return *h.info;
      if (h.bytes_needed >= in.size()) return describe_file(in.mapped(), read);
      head = in.read(0, h.bytes_needed);
    }
  });
  const WholeFilePlan plan = about_file(c.input, [&] { return plan_whole_file(info, c.options, rules); });
  if (plan.tensors.empty()) throw Error(c.input + ": holds no tensors");

  BundleWriter writer(bundle_format_for(c.output), plan);
  OutputFile out(c.output);
  out.write(writer.header());

  const bool progress = ::isatty(STDERR_FILENO);
  uint64_t total = 0, done = 0, before = 0, after = writer.header().bytes.size();
  for (const TensorPlan& p : plan.tensors) total += p.input.data_bytes;
  std::vector<TensorReport> rows;
  size_t quantized = 0;
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    const TensorPlan& p = plan.tensors[i];
    if (progress)
      std::fprintf(stderr, "\r\033[K[%zu/%zu] %s %d%%", i + 1, plan.tensors.size(), p.input.name.c_str(),
                   total ? int(100 * done / total) : 100);
    const TensorOutput result = about_file(c.input, [&] {
      if (p.input.data_offset < 0)  // a deflated .npz member: inflated from the mapping
        return process_tensor(p, load_tensor(in.mapped(), p.input.name, read));
      // Decoded before quantizing, so the stored bytes are freed first (peak memory).
      Tensor decoded = decode_planned(p, in.read(static_cast<uint64_t>(p.input.data_offset), p.input.data_bytes));
      return process_tensor(p, std::move(decoded));
    });
    for (const OutputChunk& chunk : writer.add(p.input.name, result)) {
      out.write(chunk);
      after += chunk.bytes.size();
    }
    done += p.input.data_bytes;
    before += result.report.bytes_before;
    quantized += result.report.quantized;
    rows.push_back(result.report);
  }
  if (progress) std::fputs("\r\033[K", stderr);
  const OutputChunk last = writer.finish();
  out.write(last);
  after += last.bytes.size();
  out.commit();

  if (!c.report.empty()) {
    std::string csv = report_csv_header();
    for (const TensorReport& r : rows) csv += report_csv_row(r);
    write_file(c.report, std::vector<uint8_t>(csv.begin(), csv.end()));
  }
  if (c.json) {
    std::fputs(report_json(rows).c_str(), stdout);
    return 0;
  }
  // The summary: the worst tensors first catch the eye of whoever tunes overrides.
  std::vector<const TensorReport*> worst;
  for (const TensorReport& r : rows)
    if (r.quantized) worst.push_back(&r);
  std::sort(worst.begin(), worst.end(), [](const TensorReport* a, const TensorReport* b) { return a->sqnr_db < b->sqnr_db; });
  std::printf("input      %s (%s, %zu tensors)\n", c.input.c_str(), std::string(format_name(info.format)).c_str(),
              plan.tensors.size());
  std::printf("tensors    %zu quantized, %zu kept\n", quantized, plan.tensors.size() - quantized);
  for (size_t k = 0; k < std::min<size_t>(3, worst.size()); ++k)
    std::printf("%s %s: SQNR %s dB, MSE %s (%s)\n", k == 0 ? "lowest    " : "          ", worst[k]->name.c_str(),
                fmt(worst[k]->sqnr_db, "%.2f").c_str(), fmt(worst[k]->mse).c_str(), worst[k]->scheme.c_str());
  std::printf("size       %s of tensors in, %s written (%s)\n", human_bytes(before).c_str(), human_bytes(after).c_str(),
              before ? (fmt(100.0 * double(after) / double(before), "%.1f") + " %").c_str() : "-");
  if (!c.report.empty()) std::printf("report     %s\n", c.report.c_str());
  std::printf("wrote      %s (%llu bytes)\n", c.output.c_str(), static_cast<unsigned long long>(after));
  return 0;
}

int run_quantize(int argc, char** argv) {
  QuantizeCommand c = parse_quantize(argc, argv);
  if (c.all) return run_whole_file(c);
  const QuantOptions& o = c.options;

  ReadOptions read;
  read.raw = c.raw;
  const Loaded input = load(c.input, c.tensor, false, read);
  const TensorViewF32 x{input.tensor.shape, input.values};

  RunInfo info;
  info.input_file = c.input;
  info.input_tensor = input.name;
  info.input_shape = input.tensor.shape;
  info.input_dtype = input.tensor.dtype;

  QuantParams params;
  if (c.scale || !c.params_file.empty()) {
    info.params_source = "given";
    GivenParams g;
    if (c.scale) {
      g.scale = {*c.scale};
      if (c.zero_point) g.zero_point = {*c.zero_point};
    } else {
      g = params_from_file(c.params_file);
      info.params_files = {c.params_file};
    }
    params = given_params(g, plan_granularity(x.shape, o), o);
  } else if (!c.calibration_files.empty()) {
    info.params_source = "calibrated";
    const CalibrationOptions calib = c.observer.value_or(CalibrationOptions{});
    info.observer = observer_name(calib);
    info.params_files = c.calibration_files;
    std::vector<Loaded> loaded;
    loaded.reserve(c.calibration_files.size());
    for (const auto& f : c.calibration_files) loaded.push_back(load(f, c.tensor, true));
    std::vector<TensorViewF32> views;
    for (const auto& l : loaded) views.push_back({l.tensor.shape, l.values});
    params = calibrate_params(views, o, calib);
    const GranularityPlan plan = plan_granularity(x.shape, o);
    if (params.shape != plan.param_shape)
      throw Error("calibration gives params of shape " + shape_to_string(params.shape) + ", but " + c.input +
                  " of shape " + shape_to_string(x.shape) + " needs " + shape_to_string(plan.param_shape) +
                  " (calibrate with tensors shaped like the input)");
  } else if (o.element == ElementKind::integer) {
    params = compute_params(x, o);
  }

  // Element kinds pick their own scales (or codebooks) from INPUT: the dynamic path only.
  const Quantized q = o.element == ElementKind::integer ? quantize(x, params, o) : quantize_dynamic(x, o);
  const std::vector<float> deq = dequantize(q);
  const Evaluation e = evaluate(x, q, deq);
  // The output's name picks the writer (the one place a name decides a format: it is ours to write).
  const bool safetensors = c.output.ends_with(".safetensors");
  const bool gguf = c.output.ends_with(".gguf");
  const std::vector<uint8_t> bundle = safetensors ? export_safetensors(q, e, info)
                                      : gguf      ? export_gguf(q, e, info)
                                                  : export_npz(q, deq, e, info);
  write_file(c.output, bundle);

  if (c.json) std::fputs(params_json(q, e, info).c_str(), stdout);
  else print_summary(c, info, q, e, bundle.size());
  return 0;
}

// ---- info -----------------------------------------------------------------------------------------

// A metadata value on one line: control characters shown as escapes, long values cut (a gguf chat
// template or tokenizer list would otherwise fill the screen).
std::string one_line(std::string_view v, size_t max = 100) {
  std::string out;
  for (unsigned char ch : v) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    if (ch == '\n') out += "\\n";
    else if (ch == '\t') out += "\\t";
    else if (ch < 0x20 || ch == 0x7f) out += '?';
    else out += static_cast<char>(ch);
  }
  return out;
}

int run_info(int argc, char** argv) {
  std::vector<std::string> files;
  RawFlags raw;
  ArgReader r(argc, argv, 2);
  while (!r.done()) {
    Arg arg;
    std::string positional;
    if (!r.next_option(arg, positional)) {
      if (!positional.empty()) files.push_back(positional);
      continue;
    }
    if (arg.name == "--help" || arg.name == "-h") {
      std::fputs(kHelp, stdout);
      return 0;
    }
    if (parse_raw_flag(arg, r, raw)) continue;
    throw UsageError("unknown option '" + arg.name + "' for info (see qplay --help)");
  }
  if (files.size() != 1)
    throw UsageError(files.empty() ? "info needs a FILE" : "info takes one FILE, got " + std::to_string(files.size()));
  ReadOptions read;
  read.raw = raw_spec(raw);
  const std::vector<uint8_t> bytes = read_file(files[0]);
  const FileInfo file = about_file(files[0], [&] { return describe_file(bytes, read); });
  // Quantized gguf tensors show their ggml type (Q4_K...) and, when qplay decodes them, what they
  // load as ("Q4_K -> float32"); others show the dtype they load as.
  const auto type_of = [&](const TensorInfo& t) {
    // Stored in blocks: fewer stored bytes than the decoded elements take.
    const bool quantized = file.format == FileFormat::gguf &&
                           t.data_bytes != uint64_t(shape_elements(t.shape)) * dtype_size(t.dtype);
    if (!t.loadable) return t.stored_type;
    return quantized ? t.stored_type + " -> " + std::string(dtype_name(t.dtype)) : std::string(dtype_name(t.dtype));
  };
  size_t name_width = 4, dtype_width = 5;
  for (const auto& t : file.tensors) {
    name_width = std::max(name_width, t.name.size());
    dtype_width = std::max(dtype_width, type_of(t).size());
  }
  std::printf("%-*s  %-*s  %s\n", int(name_width), "name", int(dtype_width), "dtype", "shape");
  for (const auto& t : file.tensors)
    std::printf("%-*s  %-*s  %s\n", int(name_width), t.name.c_str(), int(dtype_width), type_of(t).c_str(),
                shape_to_string(t.shape).c_str());
  if (!file.metadata.empty()) {
    size_t key_width = 3, type_width = 4;
    for (const auto& m : file.metadata) {
      key_width = std::max(key_width, std::min<size_t>(m.key.size(), 48));
      type_width = std::max(type_width, m.type.size());
    }
    std::printf("\n%s metadata (%zu)\n", std::string(format_name(file.format)).c_str(), file.metadata.size());
    std::printf("%-*s  %-*s  %s\n", int(key_width), "key", int(type_width), "type", "value");
    for (const auto& m : file.metadata)
      std::printf("%-*s  %-*s  %s\n", int(key_width), one_line(m.key, 48).c_str(), int(type_width), m.type.c_str(),
                  one_line(m.value).c_str());
  }
  return 0;
}

int run(int argc, char** argv) {
  if (argc < 2) throw UsageError("missing command (try qplay --help)");
  const std::string_view cmd = argv[1];
  if (cmd == "quantize") return run_quantize(argc, argv);
  if (cmd == "info") return run_info(argc, argv);
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (cmd == "--version" || cmd == "version") {
    std::printf("qplay %s\n", QPLAY_VERSION);
    return 0;
  }
  if (cmd.starts_with("-")) throw UsageError("unknown option '" + std::string(cmd) + "' (commands: quantize, info, help)");
  throw UsageError("unknown command '" + std::string(cmd) + "' (commands: quantize, info, help)");
}

int fail(const std::string& message, int code) {
  std::string line = message;
  for (char& ch : line)
    if (ch == '\n' || ch == '\r') ch = ' ';  // the contract: exactly one line
  std::fprintf(stderr, "qplay: error: %s\n", line.c_str());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const int rc = run(argc, argv);
    if (std::fflush(stdout) != 0) return fail(std::string("cannot write to stdout: ") + std::strerror(errno), 1);
    return rc;
  } catch (const UsageError& e) {
    return fail(e.what(), 2);
  } catch (const Error& e) {
    return fail(e.what(), 1);
  } catch (const std::bad_alloc&) {
    return fail("out of memory (the tensor is too large for this machine)", 1);
  } catch (const std::exception& e) {
    return fail(std::string("internal error: ") + e.what(), 1);
  }
}
