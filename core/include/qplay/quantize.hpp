// The uniform-integer quantizer: granularity plan -> params (given, calibrated, dynamic) -> codes ->
// dequantized values -> metrics and histograms.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "qplay/options.hpp"
#include "qplay/tensor.hpp"

namespace qplay {

// Which elements share a param set. The tensor is viewed as [outer, D, inner] around the axis.
// Param index of element (o, d, i):
//   tensor  -> 0                         param shape ()
//   channel -> d                         param shape (D)
//   group   -> d / G                     param shape (ceil(D / G))
//   block   -> (o * nb + d / B) * inner + i   param shape = input shape with dim[axis] = nb = ceil(D / B)
struct GranularityPlan {
  Granularity granularity = Granularity::tensor;
  int axis = 0;             // normalized, 0..rank-1 (0 for tensor)
  int64_t outer = 1, dim = 1, inner = 1;
  int64_t group = 1;        // channels per group (channel: 1; group: G)
  int64_t block = 0;        // block: B
  int64_t param_count = 1;
  Shape param_shape;
  int64_t param_index(int64_t o, int64_t d, int64_t i) const;
};
// Throws qplay::Error for a bad axis, group or block size (names the value and the shape).
GranularityPlan plan_granularity(const Shape& shape, const QuantOptions& o);

struct QuantParams {
  Shape shape;                       // the plan's param shape
  std::vector<float> scale;          // float32
  std::vector<float> zero_point;     // integer-valued unless the float zero-point domain is used
  bool float_zero_point = false;
};

// Per param group: the finite range seen (for the report and the heatmaps).
struct GroupStats {
  std::vector<float> min, max;       // +inf / -inf when a group has no finite value
};

// Dynamic params: computed from the tensor itself with the options' range method and profile.
QuantParams compute_params(const TensorViewF32& x, const QuantOptions& o);
// Params from given ranges (one [lo, hi] per group): the profile's scale / zero-point formula.
QuantParams params_from_ranges(std::span<const float> lo, std::span<const float> hi,
                               const Shape& param_shape, const QuantOptions& o);
// Static, given: validates the shape against the plan (scalar broadcasts), range of zero points.
QuantParams given_params(const GivenParams& g, const GranularityPlan& plan, const QuantOptions& o);
// Static, calibrated: observers over several tensors (each must fit the plan of the first).
QuantParams calibrate_params(std::span<const TensorViewF32> calibration, const QuantOptions& o,
                             const CalibrationOptions& c);

struct Histogram {
  float lo = 0, hi = 0;              // bin edges: lo + k * (hi - lo) / bins
  std::vector<uint64_t> counts;
};

struct Metrics {
  double mse = 0, rmse = 0, sqnr_db = 0, max_abs_error = 0, mean_abs_error = 0, cosine = 0;
  double clip_rate = 0;              // saturated finite elements / finite elements
  double bits_per_element = 0;       // code bits + parameter overhead
  uint64_t elements = 0, finite = 0, nan = 0, pos_inf = 0, neg_inf = 0, saturated = 0;
  uint64_t bytes_before = 0, bytes_after = 0;
};

// --double-quant: the float32 scales of a run quantized to 8-bit codes (docs/SCHEMES.md section 6).
// Generic scheme ("uint8"): scales in super-blocks of 256 consecutive params (param order),
// super = max(s) / 255 in float32, code = round-half-even(s / super) clamped to [0, 255] (a positive
// scale never gets code 0), applied scale = code * super. bitsandbytes ("bnb-dynamic"): QLoRA's
// compress_statistics, codes of the 8-bit dynamic map over absmax - offset, applied =
// map[code] * super + offset.
struct ScaleQuant {
  std::string scheme;                // "" = none, "uint8", "bnb-dynamic"
  int64_t super_block = 256;         // scales per super-block
  std::vector<uint8_t> codes;        // one per scale (param order)
  std::vector<float> super;          // one float32 per super-block
  float offset = 0.0f;               // bnb-dynamic: mean(absmax)
  std::vector<float> codebook;       // bnb-dynamic: the 256 values of the dynamic map
};
// The generic scheme on `scales` (finite, >= 0; throws qplay::Error otherwise): returns the codes
// and replaces each scale by its applied value.
ScaleQuant double_quantize_scales(std::vector<float>& scales);

struct Quantized {
  Tensor codes;                      // int8/uint8 (<= 8 bits) or int16/uint16, input shape
  QuantParams params;
  GroupStats group_stats;            // empty for given params
  CodeRange range;
  GranularityPlan plan;
  QuantOptions options;              // after the profile was applied
  uint64_t saturated = 0;            // finite elements the clamp moved (clip rate numerator)
  // Non-integer elements (options.code not integer; docs/SCHEMES.md section 4). codes are then
  // uint8 bit patterns (minifloat, MX) or table indices (lut, pow2, kmeans); params.scale holds
  // each group's float32 multiplier and params.zero_point zeros.
  std::vector<float> codebook;       // the values a code stands for before scaling: lut / pow2
                                     // levels, or the k-means centroids of every group
  Shape codebook_shape;              // [K] shared by all groups, [groups, K] for kmeans; empty when
                                     // the code is a float bit pattern (minifloat, MX)
  std::vector<uint8_t> scale_codes;  // MX: the E8M0 code of each block's scale (params.scale is
                                     // its decoded power of two; NaN for a block with NaN/Inf)
  ScaleQuant scale_quant;            // --double-quant; params.scale then holds the applied scales
  std::vector<uint8_t> packed;       // --profile bnb: bitsandbytes' own packed bytes (odd n padded
                                     // with the code of 0.0); empty = packed.npy from pack_nibbles
  // ggml runs (options.code.is(Family::ggml): --format): codes are ggml's stored codes (int8 where ggml
  // centres them), params.scale each sub-block's multiplier, `offset` its additive member (empty
  // for formats without one) and `codebook` the iq4_nl / mxfp4 table, such that the dequantized
  // value is exactly scale * value(code) + offset. `blocks` are ggml's bytes: one row of
  // ggml_row_bytes(type, last dim) per row of the tensor.
  std::vector<uint8_t> blocks;
  std::vector<float> offset;
};

// Quantizes with the params (codes only). Throws when the params do not fit the plan.
Quantized quantize(const TensorViewF32& x, const QuantParams& params, const QuantOptions& o);
// Dynamic convenience: compute_params + quantize; element kinds go to quantize_elements.
Quantized quantize_dynamic(const TensorViewF32& x, const QuantOptions& o);
// Non-integer elements, per param group of the plan: minifloat s = amax / max_value, lut
// s = absmax, MX blocks of 32 with E8M0 scales, pow2 s = amax, k-means with its own codebook per
// group. Options must have gone through apply_profile. docs/SCHEMES.md section 4.
Quantized quantize_elements(const TensorViewF32& x, const QuantOptions& o);
std::vector<float> dequantize_elements(const Quantized& q);
std::vector<float> dequantize(const Quantized& q);

struct Evaluation {
  Metrics metrics;
  Histogram original, dequantized, error;
  std::vector<double> group_mse;     // one per param group (heatmaps)
};
Evaluation evaluate(const TensorViewF32& x, const Quantized& q, std::span<const float> dequantized);

}  // namespace qplay
