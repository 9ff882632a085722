// Every user-facing choice of a quantization run. The CLI flags, the wasm API and the page use these
// names one to one (see parse_* / *_name below: the single spelling table).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qplay {

enum class Mode : uint8_t { asymmetric, symmetric };
enum class Granularity : uint8_t { tensor, channel, group, block };
enum class RoundingMode : uint8_t { half_even, half_away, half_up, stochastic };
enum class DivisionMode : uint8_t { divide, multiply_inverse };
enum class ZeroPointDomain : uint8_t { integer, floating };
enum class RangeMethod : uint8_t { minmax, percentile, mse, kl, aciq };
enum class Observer : uint8_t { minmax, moving_average };

// A profile fixes every detail one peer fixes; `custom` (the default) leaves them to the options.
enum class Profile : uint8_t { custom, seed, pytorch, onnx, ort_tool };

// The integer code type: bits 1..8 or 16, signed or unsigned.
struct IntType {
  int bits = 8;
  bool is_signed = true;
  bool operator==(const IntType&) const = default;
};

struct QuantOptions {
  IntType dtype;                       // --dtype int8
  Mode mode = Mode::asymmetric;        // --mode
  bool narrow = false;                 // --narrow: drop the most negative code (int8 -> [-127, 127])
  bool reduce_range = false;           // --reduce-range: torch's halved range
  Granularity granularity = Granularity::tensor;
  int axis = 0;                        // --axis (negative counts from the end)
  int64_t group_size = 0;              // --group-size (channels per group)
  int64_t block_size = 0;              // --block-size (elements per block along the axis)
  RangeMethod range = RangeMethod::minmax;
  double percentile = 99.99;           // --range percentile:P
  RoundingMode rounding = RoundingMode::half_even;
  uint32_t seed = 0;                   // --rounding stochastic:SEED
  ZeroPointDomain zero_point_domain = ZeroPointDomain::integer;
  Profile profile = Profile::custom;
  int histogram_bins = 64;             // --bins
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

// Spelling table: parse throws qplay::Error naming the option and the allowed values.
IntType parse_int_type(std::string_view text);  // int8, uint4, int16, intN, uintN
std::string int_type_name(IntType t);
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
Profile parse_profile(std::string_view text);
std::string_view profile_name(Profile p);
std::string_view division_name(DivisionMode d);
// "minmax", "moving-average:C"
CalibrationOptions parse_observer(std::string_view text);
std::string observer_name(const CalibrationOptions& c);

// What the user set explicitly, so a profile can tell a conflict from a default.
struct ExplicitOptions {
  bool mode = false, narrow = false, reduce_range = false, range = false, rounding = false,
       zero_point_domain = false;
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
