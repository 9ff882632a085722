// Every user-facing choice of a quantization run. The CLI flags, the wasm API and the page use these
// names one to one (see parse_* / *_name below: the single spelling table).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qplay/ggml.hpp"
#include "qplay/registry.hpp"

namespace qplay {

enum class Mode : uint8_t { asymmetric, symmetric };
enum class Granularity : uint8_t { tensor, channel, group, block };
enum class RoundingMode : uint8_t { half_even, half_away, half_up, stochastic };
enum class DivisionMode : uint8_t { divide, multiply_inverse };
enum class ZeroPointDomain : uint8_t { integer, floating };
enum class RangeMethod : uint8_t { minmax, percentile, mse, kl, aciq };
enum class Observer : uint8_t { minmax, moving_average };

// A profile fixes every detail one peer fixes; `custom` (the default) leaves them to the options.
// bnb = bitsandbytes quantize_4bit (NF4/FP4 blocks over the flattened tensor); mx = OCP MX v1.0
// (FLOOR scale rule, elements rounded half-to-even). docs/SCHEMES.md section 5. ggml = llama.cpp's
// quantize_row_*_ref, i.e. --format (q8_0 when no --format is given), section 7.
enum class Profile : uint8_t { custom, seed, pytorch, onnx, ort_tool, bnb, mx, ggml };

// How an MX block's shared E8M0 exponent follows from its amax (--scale-rule): floor = OCP MX v1.0
// floor(log2(amax)) - emax; rceil = torchao/cuBLAS ceil(log2(amax / max_normal)).
enum class ScaleRule : uint8_t { floor, rceil };

// How sub-byte codes are packed into packed.npy. `none` = the user gave no --pack: element kinds
// with 4-bit codes then pack low_first, integer runs write no packed.npy (their bundles keep their
// bytes). low_first: element 2i in bits 0..3 (ONNX); high_first: bits 4..7 (bitsandbytes);
// gptq: 8 nibbles per int32 LSB-first, bytes little-endian; awq: int32 nibble slots in the order
// [0, 4, 1, 5, 2, 6, 3, 7] (AutoAWQ's AWQ_ORDER); ggml: ggml's split halves, per 32 codes 16 bytes,
// byte j holding code j in bits 0..3 and code j + 16 in bits 4..7 (a tail of fewer than 32 codes
// is padded with code 0 to a whole 32).
enum class PackOrder : uint8_t { none, low_first, high_first, gptq, awq, ggml };

struct QuantOptions {
  // --dtype / --format: what a code is (int8 by default), with its width (--bits for pow2 / kmeans).
  CodeFormatChoice code = integer_code({});
  Mode mode = Mode::asymmetric;        // --mode
  bool narrow = false;                 // --narrow: drop the most negative code (int8 -> [-127, 127])
  bool reduce_range = false;           // --reduce-range: torch's halved range
  Granularity granularity = Granularity::tensor;
  int axis = 0;                        // --axis (negative counts from the end)
  int64_t group_size = 0;              // --group-size (channels per group)
  int64_t block_size = 0;              // --block-size (elements per block along the axis)
  RangeMethod range = RangeMethod::minmax;
  double percentile = 99.99;           // --range percentile:P
  float clip_ratio = 1.0f;             // --clip-ratio: dynamic ranges shrink to [R lo, R hi]
  RoundingMode rounding = RoundingMode::half_even;
  uint32_t seed = 0;                   // --rounding stochastic:SEED
  ZeroPointDomain zero_point_domain = ZeroPointDomain::integer;
  Profile profile = Profile::custom;
  int histogram_bins = 64;             // --bins
  bool saturate = true;                // --saturate / --no-saturate: FP8 overflow -> +-max, else Inf/NaN
  PackOrder pack = PackOrder::none;    // --pack
  ScaleRule scale_rule = ScaleRule::floor;  // --scale-rule (MX elements)
  // --double-quant: the per-group scales are themselves quantized to 8 bits (docs/SCHEMES.md
  // section 6); with --profile bnb it is bitsandbytes' compress_statistics.
  bool double_quant = false;
  // Set by the driver from the profile (not a flag): how x is divided by s.
  DivisionMode division = DivisionMode::divide;
};

// Static params given by the user: a scalar, or arrays shaped for the granularity.
struct GivenParams {
  std::vector<int64_t> shape;          // empty = scalar
  std::vector<float> scale;
  std::vector<float> zero_point;       // empty = zeros; float domain keeps fractions
};

struct CalibrationOptions {
  Observer observer = Observer::minmax;
  double averaging_constant = 0.01;    // moving-average:C
};

// One enum's spellings: {value, "spelling"} in the order help and error messages list them; `arg`
// is the text after the base name a value may carry (":P" in "percentile:P"), `note` its bounds.
template <class E> struct Spelling {
  E value;
  std::string_view name;
  std::string_view arg = {};
  std::string_view note = {};
};
std::span<const Spelling<Mode>> mode_spellings();
std::span<const Spelling<Granularity>> granularity_spellings();
std::span<const Spelling<ZeroPointDomain>> zero_point_domain_spellings();
std::span<const Spelling<ScaleRule>> scale_rule_spellings();
std::span<const Spelling<Profile>> profile_spellings();
std::span<const Spelling<PackOrder>> pack_spellings();  // without `none` (not a spelling)
std::span<const Spelling<RoundingMode>> rounding_spellings();
std::span<const Spelling<RangeMethod>> range_spellings();
std::span<const Spelling<Observer>> observer_spellings();
// The --dtype element names (nf4, fp8_e4m3fn, ..., pow2, kmeans), in help order.
std::vector<std::string_view> element_names();

// Spelling table: parse throws qplay::Error naming the option and the allowed values.
IntType parse_int_type(std::string_view text);  // int8, uint4, int16, intN, uintN
std::string int_type_name(IntType t);
// --dtype: an integer type or an element name (nf4, fp4, iq4_nl, fp8_*, fp6_*, fp4_e2m1, mx*, pow2,
// kmeans), as its registry row.
CodeFormatChoice parse_dtype(std::string_view text);
// --format: one of ggml's block formats: q8_0, q8_1, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k,
// q6_k, iq4_nl, mxfp4 (ggml's own "q4_K" spelling is accepted too).
CodeFormatChoice parse_format(std::string_view text);
// The format a profile picks when the user names none (bnb: nf4, mx: mxfp8_e4m3, ggml: q8_0), or
// nullptr for the profiles of integer quantizers.
const CodeFormat* profile_default_format(Profile p);
PackOrder parse_pack(std::string_view text);  // low-first, high-first, gptq, awq, ggml
std::string_view pack_order_name(PackOrder p);  // "none" for PackOrder::none
// The order packed.npy uses for this run, or none when the run writes no packed.npy.
PackOrder effective_pack(const QuantOptions& o);
Mode parse_mode(std::string_view text);
std::string_view mode_name(Mode m);
Granularity parse_granularity(std::string_view text);
std::string_view granularity_name(Granularity g);
// "minmax", "percentile:P", "mse", "kl", "aciq"
void parse_range(std::string_view text, QuantOptions& into);
std::string range_name(const QuantOptions& o);
// "half-even", "half-away", "half-up", "stochastic:SEED"
void parse_rounding(std::string_view text, QuantOptions& into);
std::string rounding_name(const QuantOptions& o);
ZeroPointDomain parse_zero_point_domain(std::string_view text);
std::string_view zero_point_domain_name(ZeroPointDomain d);
ScaleRule parse_scale_rule(std::string_view text);  // floor, rceil
std::string_view scale_rule_name(ScaleRule r);
Profile parse_profile(std::string_view text);
std::string_view profile_name(Profile p);
std::string_view division_name(DivisionMode d);
// "minmax", "moving-average:C"
CalibrationOptions parse_observer(std::string_view text);
std::string observer_name(const CalibrationOptions& c);

// What the user set explicitly, so a profile can tell a conflict from a default.
struct ExplicitOptions {
  bool mode = false, narrow = false, reduce_range = false, range = false, rounding = false,
       zero_point_domain = false, granularity = false, block_size = false, dtype = false, pack = false,
       axis = false, group_size = false, saturate = false, scale_rule = false, format = false;
};

// Applies the profile to `o`: sets what it fixes, and throws qplay::Error when an explicitly set
// option contradicts it (e.g. "--profile onnx fixes --rounding to half-even").
void apply_profile(QuantOptions& o, const ExplicitOptions& set_by_user);

// The code range [qmin, qmax] after narrow / reduce_range and the profile's rules.
struct CodeRange {
  int32_t qmin = 0, qmax = 255;
};
CodeRange code_range(const QuantOptions& o);

}  // namespace qplay
