// What this build of the core is, for "about" lines and for loaders that check they got the build
// they asked for (web/lib/qplay.js refuses a baseline .wasm where the SIMD one was to be loaded).
#pragma once

#include <string>

namespace qplay {

struct BuildInfo {
  std::string version;  // QPLAY_VERSION, "0.1.0"
  bool simd = false;    // the build contains the SIMD kernels
  std::string kernels;  // the kernel table dispatch picked: "simd128" or "scalar"
};

BuildInfo build_info();

}  // namespace qplay
