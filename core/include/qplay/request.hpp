// THE option table and the request built from it: every option of `qplay quantize` is one row
// (CLI flag, JS key, kind, bounds, default, doc), parsed from the user's own text by set_option and
// checked once by validate. The CLI, the wasm binding and the page hand the core (key, text) pairs;
// none of them spells an option, a bound or a cross-check again.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qplay/export.hpp"
#include "qplay/formats.hpp"
#include "qplay/options.hpp"
#include "qplay/quantize.hpp"
#include "qplay/wholefile.hpp"

namespace qplay {

struct Request;

enum class OptionKind : uint8_t {
  flag,     // no value (JS: true/false)
  toggle,   // --saturate / --no-saturate (JS key "saturate": true/false)
  integer,  // bounded by OptionSpec::min/max
  number,   // a finite float32, read from text as the CLI always has (from_chars<float>)
  choice,   // one of an enum's spellings, some with ":ARG" (percentile:P, stochastic:SEED)
  text,     // free text (a tensor name, a shape)
  path,     // one file name
  paths,    // file names: --calibrate A B ... (repeatable)
};

// Where an option is accepted. Options outside a context are unknown there; options inside one
// may still be refused by validate with a message saying why (e.g. "--scale does not apply to
// an --override").
enum class OptionScope : uint8_t {
  scheme,       // what a code is and how params are found: everywhere, also in --override rules
  params,       // a params source: single tensor and JS (--calibrate, --observer: the command line;
                // in rules they are refused by validate)
  selection,    // the input and its tensor (--tensor, INPUT): single tensor and JS (--tensor also
                // in rules, refused there by validate)
  output,       // -o and --json: the command line, also in rules (refused there by validate)
  whole_file,   // --all, --report, --override: the command line only, not in rules
  raw,          // --raw-*: how raw binary input is read (command line)
};

// How an integer out of [min, max] is reported (the messages users and scripts already know).
enum class BoundStyle : uint8_t {
  between,       // "--bits must be between 1 and 8 (got 9)"
  at_least,      // "--block-size must be at least 1" (above max: "must be at most M (got V)")
  out_of_range,  // "--axis 65 is out of range"
  not_negative,  // "--raw-offset must not be negative"
};

struct OptionSpec {
  std::string_view key;           // the JS key ("blockSize"); "" for command-line-only options
  std::string_view flag;          // the CLI flag ("--block-size")
  OptionKind kind;
  OptionScope scope;
  std::string_view metavar;       // "B" in "--block-size B"; "" when the value is a choice
  std::string_view values;        // allowed spellings (choices), for help and docs
  int64_t min = 0, max = 0;       // integers only
  BoundStyle bounds = BoundStyle::between;
  std::string_view default_text;  // "" = no default
  std::string_view doc;           // one line, for --help and README
  // Parses the text into the request (name: as the user spelled it, "--no-saturate" or "-o").
  void (*apply)(Request& r, const OptionSpec& spec, std::string_view name, std::string_view text) = nullptr;
  bool repeatable = false;        // --calibrate, --override
};

std::span<const OptionSpec> option_table();
// A row by JS key, CLI flag ("--block-size"), "--no-saturate" or "-o"; nullptr if none.
const OptionSpec* find_option(std::string_view key_or_flag);
// The allowed spellings of a choice option, by key or flag ("mode" -> asymmetric, symmetric;
// "range" -> minmax, percentile:P, ...). Empty for other kinds.
std::vector<std::string> choices(std::string_view key_or_flag);

// Where a request comes from: the command line for one tensor, one --override rule of a
// whole-file run, the JS API (no INPUT needed, no -o, no raw or whole-file options), or
// `qplay info` (only how a file is read: the --raw-* options).
enum class RequestContext : uint8_t { single, whole_file_rule, api, info };

enum class ParamsKind : uint8_t { dynamic, given, calibrated };
// "dynamic", "given", "calibrated": RunInfo::params_source, params.json's "source".
std::string_view params_kind_name(ParamsKind k);
// The JS params object's `source`; qplay::Error "invalid value 'x' for params.source (allowed: given,
// calibrated, dynamic)" for anything else.
ParamsKind parse_params_source(std::string_view text);

// Where the params of a run come from: at most one source (validate checks).
struct ParamsRequest {
  ParamsKind kind = ParamsKind::dynamic;  // set by validate
  std::optional<float> scale, zero_point;              // --scale S [--zero-point Z]
  std::string file;                                    // --params P.npz
  std::optional<GivenParams> arrays;                   // arrays already read (JS params, or the --params file)
  bool arrays_calibrated = false;                      // those arrays came from a calibration (JS)
  bool calibrating = false;                            // JS: the request is for calibrate()
  std::vector<std::string> calibration_files;          // --calibrate A B ...
  std::optional<CalibrationOptions> observer;          // --observer
  // The scalar --scale/--zero-point as GivenParams (after validate, for a given run).
  std::optional<GivenParams> scalar() const;
};

struct Request {
  QuantOptions options;          // effective after validate (profile applied)
  ExplicitOptions explicit_set;  // what the user set, so a profile can tell a conflict from a default
  // --bits, applied to the code format by validate (so it may come before or after --dtype).
  std::optional<int> bits;
  ParamsRequest params;
  std::string tensor;                     // --tensor
  std::vector<std::string> positionals;   // INPUT (the command line's free arguments, or fileName)
  std::string input;                      // positionals[0] after validate
  std::string output;                     // -o
  bool json = false;
  bool all = false;
  std::string report;                     // --report
  std::vector<std::string> overrides;     // --override specs, parsed by parse_override
  // --raw-*
  std::optional<DType> raw_dtype;
  std::optional<Shape> raw_shape;
  std::optional<uint64_t> raw_offset;
  std::optional<bool> raw_big_endian;
  std::optional<RawSpec> raw;             // set by validate from the --raw-* flags
  bool help = false;                      // --help / -h on the command line (parse_arguments stops)
  std::vector<std::string> given;         // canonical flags seen, for "given more than once"
};

// The row for `name` in `context`, or throws "unknown option '...'" worded for the context. The
// command line finds a row by flag or key; the JS API (RequestContext::api) by its JS key only.
const OptionSpec& option_for(std::string_view name, RequestContext context);
// Throws "<flag> given more than once" for a second single-valued option.
void check_once(const Request& r, const OptionSpec& spec);
// Sets one option from the user's text: name is a JS key or a CLI flag (also "--no-saturate",
// "-o"); text is the value ("" for a flag given on the command line; JS booleans arrive as "true"
// or "false"). Throws qplay::Error with the messages the CLI has always printed.
void set_option(Request& r, std::string_view name, std::string_view text,
                RequestContext context = RequestContext::single);
// Every cross-check (params sources, --bits, --range with static params, whole-file options, the
// profile, the code range, the output name), in the CLI's order and with its messages. After it
// the options are effective and params.kind, input and raw are set.
void validate(Request& r, RequestContext context);

// The RawSpec the --raw-* options describe (nullopt without any); throws when one is missing.
std::optional<RawSpec> raw_spec(const Request& r);

// The command line's words after "quantize" (or an --override's FLAGS): --flag value,
// --flag=value, flags, "--calibrate A B ...", "--" and positionals, through set_option. Stops at
// --help / -h (sets r.help). Does not validate.
void parse_arguments(Request& r, std::span<const std::string> words, RequestContext context);

// 'PATTERN:keep' or 'PATTERN:--dtype int8 --granularity channel': the rule's options parsed and
// validated as on the command line (they replace the base options).
TensorRule parse_override(std::string_view spec);

// A params .npz (a qplay bundle works): scale.npy and, if present, zero_point.npy.
GivenParams params_from_npz(std::span<const uint8_t> bytes, std::span<const ZipMember> inflated = {});

// ---- what a UI draws -----------------------------------------------------------------------------

// An option the setting fixes: its JS key, the value, and why ("profile" or "element").
struct Lock {
  std::string key, value, reason;
};

struct Description {
  std::vector<std::pair<std::string, std::string>> effective;  // JS key -> spelling, after the profile
  std::vector<Lock> locked;                                    // what the profile / format fixes
  std::vector<std::pair<std::string, std::string>> profile_defaults;  // picked when not given (bnb: blockSize 64)
  CodeRange range;
  std::string family;      // element_kind_name: integer, minifloat, lut, mx, pow2, kmeans, ggml
  int bits = 8;            // bits of one code
  std::string division;    // division_name
  // The value each code stands for before scaling, in code order (element and ggml formats with
  // fixed levels); empty for integer grids (qmin..qmax) and data-dependent codebooks (kmeans).
  std::vector<float> levels;
  bool double_quant_applies = false;
};
Description describe(const Request& validated);

// ---- running ---------------------------------------------------------------------------------------

struct RunResult {
  Quantized q;
  std::vector<float> dequantized;
  Evaluation eval;
  RunInfo info;
};
// One tensor, params dynamic / given / calibrated as validated: `calibration` are the calibration
// tensors (--calibrate), `given` the params arrays (--params, or a calibration done earlier);
// a scalar --scale needs neither. info.params_source / observer are filled in.
RunResult run(const Request& validated, const TensorViewF32& x, RunInfo info,
              std::span<const TensorViewF32> calibration = {}, const GivenParams* given = nullptr);

// ---- docs ------------------------------------------------------------------------------------------

// The option section of `qplay --help`, generated from the table.
std::string options_help();
// README's option table (markdown), generated from the table.
std::string options_markdown_table();

}  // namespace qplay
