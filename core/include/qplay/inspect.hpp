// Element by element, what a run did and why (the playground's inspector and formula panel): the
// param group an element uses, x/s as the run divides, whether it is a tie, the code the kernels'
// own rule gives and whether the clamp moved it; and searches over a run for ties, clipped
// elements, values in a range or the largest error. Nothing here is a second copy of a rule: the
// plan is plan_granularity's, the per-element arithmetic the kernels' scalar rule.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "qplay/quantize.hpp"

namespace qplay {

// Param index of element `flat` (row-major over the input shape) under the plan.
int64_t param_index(const GranularityPlan& plan, int64_t flat);
// The elements of param group `group`, ascending. Throws for a group outside the plan.
std::vector<int64_t> group_elements(const GranularityPlan& plan, int64_t group);

struct InspectedElement {
  int64_t index = 0, group = 0;
  float x = 0, scale = 0, zero_point = 0;
  float scaled = 0;          // x/s, or x * (1/s) under multiply-inverse, in float32
  // Integer codes only (`integer` false for element formats, whose codes are table indices or bit
  // patterns: the fields below are then NaN / false / 0).
  bool integer = false;
  float shifted = 0;         // the value the rule rounds: scaled + the float zero point (int domain: scaled)
  float rounded = 0;         // after the rounding rule and the integer zero point, before the clamp
  bool tie = false;          // `shifted` exactly halfway between two integers
  bool clipped = false;      // a finite x whose rounded value the clamp moved (the kernels' saturated count)
  int32_t code = 0;          // the code the run stores
  float dequantized = 0;     // (code - z) * s in float32, as the dequantize kernel
};

// `o` must be the run's effective options (after apply_profile), `p` its params (the applied
// scales under --double-quant) and `plan` plan_granularity(x.shape, o). Throws for a flat index
// outside the tensor or params that do not fit the plan.
InspectedElement explain(const QuantOptions& o, const QuantParams& p, const GranularityPlan& plan,
                         const TensorViewF32& x, int64_t flat);

enum class FindKind {
  ties,         // shifted exactly halfway (integer codes)
  clipped,      // finite x the clamp moved (integer codes)
  value_range,  // lo <= x < hi (x <= hi with include_hi), optionally within one group
  max_error,    // the element with the largest |dequantized - x|
};
struct FindQuery {
  FindKind kind = FindKind::ties;
  float lo = 0, hi = 0;
  bool include_hi = false;
  int64_t group = -1;        // -1: every group
  int64_t after = -1;        // only elements with a larger index
  int64_t limit = 50;        // indices returned at most
};
struct FoundElements {
  std::vector<int64_t> indices;  // ascending, at most `limit`
  int64_t total = 0;             // how many match in all
};
// `dequantized` (the run's, one per element) serves max_error; when empty, integer codes are
// dequantized by the rule. Throws for ties / clipped on element formats (their codes follow no
// integer rule) and for max_error on them without `dequantized`.
FoundElements find_elements(const QuantOptions& o, const QuantParams& p, const GranularityPlan& plan,
                            const TensorViewF32& x, const FindQuery& q,
                            std::span<const float> dequantized = {});

}  // namespace qplay
