#include "qplay/build_info.hpp"

#include "kernels/kernels.hpp"

namespace qplay {

BuildInfo build_info() {
  BuildInfo info;
  info.version = QPLAY_VERSION;
  info.simd = kernels::simd128_table() != nullptr;
  info.kernels = kernels::table().name;
  return info;
}

}  // namespace qplay
