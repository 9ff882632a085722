// Range (clipping) methods for dynamic params: each picks [lo, hi] for one param group from that
// group's finite values. Formulas are in docs/SCHEMES.md.
#pragma once

#include <functional>
#include <span>

#include "qplay/options.hpp"

namespace qplay {

struct Range {
  float lo = 0, hi = 0;
};

struct RangeRequest {
  RangeMethod method = RangeMethod::minmax;
  double percentile = 99.99;   // percentile: keep this share of |x| (symmetric) or of each tail's mass
  int bits = 8;                // code width (KL target levels, ACIQ alpha table)
  bool symmetric = false;      // symmetric methods return [-t, t]
  bool is_signed = true;
  // MSE of quantizing the group's values with clip range [lo, hi] under the run's own quantizer
  // (scale formula, rounding, code range); supplied by the driver, used by RangeMethod::mse.
  std::function<double(float lo, float hi)> error_of;
};

// values: the group's finite values, any order, may be empty (returns {0, 0}).
// The result never lies outside [min(values), max(values)].
Range compute_range(std::span<const float> values, const RangeRequest& request);

}  // namespace qplay
