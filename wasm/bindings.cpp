// The JS API of the wasm modules (the only file that includes <emscripten/bind.h>).
// Values cross as plain JS objects built here; nothing returned points into the wasm heap.
#include <emscripten/bind.h>

#include <string>

#include "kernels/kernels.hpp"

namespace {

using emscripten::val;

// {version, simd, kernels}: simd says whether this module contains the SIMD kernels, kernels names
// the table dispatch picked ("simd128" or "scalar").
val build_info() {
  val info = val::object();
  info.set("version", std::string(QPLAY_VERSION));
  info.set("simd", qplay::kernels::simd128_table() != nullptr);
  info.set("kernels", std::string(qplay::kernels::table().name));
  return info;
}

}  // namespace

EMSCRIPTEN_BINDINGS(qplay) {
  emscripten::function("buildInfo", &build_info);
}
