// The JS API of the wasm modules: the EMSCRIPTEN_BINDINGS block alone (the only place that includes
// <emscripten/bind.h>). web/lib/qplay.js wraps it; the functions live beside this file by role:
// convert (JS values), options, open_file (the open file and inputs), run (quantize, calibrate,
// exports), inspect (the inspector's per-element answers),
// wholefile (a file a tensor at a time). Rules at the boundary: convert.hpp.
#include <emscripten/bind.h>

#include <string>

#include "catalog.hpp"
#include "convert.hpp"
#include "inspect.hpp"
#include "open_file.hpp"
#include "options.hpp"
#include "qplay/build_info.hpp"
#include "run.hpp"
#include "wholefile.hpp"
#include "zip.hpp"

namespace {

using emscripten::val;
using namespace qplay;

// buildInfo() -> {version, simd, kernels}: simd says whether this module contains the SIMD kernels,
// kernels names the table dispatch picked ("simd128" or "scalar").
val build_info_js() {
  const BuildInfo b = build_info();
  val info = val::object();
  info.set("version", b.version);
  info.set("simd", b.simd);
  info.set("kernels", b.kernels);
  return info;
}

}  // namespace

// Options cross as plain objects of the user's spellings (options.hpp): no enum is registered here.
EMSCRIPTEN_BINDINGS(qplay) {
  using emscripten::function;

  function("buildInfo", &build_info_js);
  function("describe", &js::describe_js);
  function("catalog", &js::catalog_js);
  function("zipMembers", &js::zip_members_js);
  function("storedNpz", &js::stored_npz_js);
  function("openFile", &js::open_file);
  function("closeFile", &js::close_file);
  function("tensorValues", &js::tensor_values);
  function("quantize", &js::quantize_js);
  function("calibrate", &js::calibrate_js);
  function("exportNpz", &js::export_npz_js);
  function("exportSafetensors", &js::export_safetensors_js);
  function("exportGguf", &js::export_gguf_js);
  function("describeHead", &js::describe_head_js);
  function("planWholeFile", &js::plan_whole_file_js);
  function("quantizeTensorBytes", &js::quantize_tensor_bytes_js);
  function("bundleOpen", &js::bundle_open_js);
  function("bundleAdd", &js::bundle_add_js);
  function("bundleFinish", &js::bundle_finish_js);
  function("bundleClose", &js::bundle_close_js);
  function("reportText", &js::report_text_js);
  function("inspect", &js::inspect_js);
  function("findElements", &js::find_elements_js);
  function("groupElements", &js::group_elements_js);
  function("paramIndex", &js::param_index_js);
}
