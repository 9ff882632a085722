// One run of the CLI's `quantize` through the JS API, and the exports of its result.
#pragma once

#include <string>

#include "convert.hpp"

namespace qplay::js {

// quantize(source, options, fileName) -> {ok, codes, params, metrics, members, ...}.
val quantize_js(val source, val options, std::string file_name);
// calibrate(specs, options, observer) -> {ok, params}.
val calibrate_js(val specs, val options, val observer);
// exportNpz / exportSafetensors / exportGguf(parts) -> {ok, bytes}: the CLI's -o files.
val export_npz_js(val parts);
val export_safetensors_js(val parts);
val export_gguf_js(val parts);

}  // namespace qplay::js
