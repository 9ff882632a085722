// Which elements share a param set: the tensor seen as [outer, D, inner] around the axis.
#include <string>

#include "qplay/error.hpp"
#include "qplay/quantize.hpp"

namespace qplay {

int64_t GranularityPlan::param_index(int64_t o, int64_t d, int64_t i) const {
  switch (granularity) {
    case Granularity::tensor: return 0;
    case Granularity::channel: return d;
    case Granularity::group: return d / group;
    case Granularity::block: return (o * ((dim + block - 1) / block) + d / block) * inner + i;
  }
  return 0;
}

GranularityPlan plan_granularity(const Shape& shape, const QuantOptions& o) {
  GranularityPlan p;
  p.granularity = o.granularity;
  const int64_t elements = shape_elements(shape);
  if (o.granularity == Granularity::tensor) {
    p.dim = elements;
    p.param_count = 1;
    return p;  // param shape () : a scalar
  }
  const int rank = static_cast<int>(shape.size());
  const std::string name = "--granularity " + std::string(granularity_name(o.granularity));
  if (rank == 0)
    throw Error(name + " needs a tensor with at least one dimension (the input is a scalar)");
  if (o.axis < -rank || o.axis >= rank)
    throw Error("--axis " + std::to_string(o.axis) + " is out of range for shape " +
                shape_to_string(shape) + " (allowed " + std::to_string(-rank) + ".." +
                std::to_string(rank - 1) + ")");
  p.axis = o.axis < 0 ? o.axis + rank : o.axis;
  for (int k = 0; k < p.axis; ++k) p.outer *= shape[k];
  p.dim = shape[p.axis];
  for (int k = p.axis + 1; k < rank; ++k) p.inner *= shape[k];

  switch (o.granularity) {
    case Granularity::tensor:
      break;
    case Granularity::channel:
      p.param_count = p.dim;
      p.param_shape = {p.dim};
      break;
    case Granularity::group: {
      if (o.group_size < 1)
        throw Error(name + " needs --group-size G >= 1 (channels per group; got " +
                    std::to_string(o.group_size) + ")");
      p.group = o.group_size;
      p.param_count = (p.dim + p.group - 1) / p.group;  // the last group may be partial
      p.param_shape = {p.param_count};
      break;
    }
    case Granularity::block: {
      if (o.block_size < 1)
        throw Error(name + " needs --block-size B >= 1 (elements per block along the axis; got " +
                    std::to_string(o.block_size) + ")");
      p.block = o.block_size;
      const int64_t blocks = (p.dim + p.block - 1) / p.block;  // the last block may be partial
      p.param_shape = shape;
      p.param_shape[p.axis] = blocks;
      p.param_count = p.outer * blocks * p.inner;
      break;
    }
  }
  return p;
}

}  // namespace qplay
