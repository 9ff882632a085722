// Whole-file mode through the JS API: describe a file from its head, plan every tensor, quantize one
// tensor's stored bytes at a time, and write the bundle as chunks with their offsets.
#pragma once

#include <string>

#include "convert.hpp"

namespace qplay::js {

// describeHead(head, fileSize, raw) -> {ok, info} | {ok, bytesNeeded}
val describe_head_js(val head, double file_size, val raw);
// planWholeFile(info, options, overrides) -> {ok, plan}
val plan_whole_file_js(val info, val options, val overrides);
// quantizeTensorBytes(entry, bytes) -> {ok, name, report, codes, scale, zeroPoint | blocks | kept}
val quantize_tensor_bytes_js(val entry, val bytes);
// bundleOpen(plan, format) -> {ok, id, header, totalSize}; bundleAdd(id, result) -> {ok, chunks};
// bundleFinish(id) -> {ok, chunk}; bundleClose(id).
val bundle_open_js(val plan_js, std::string format);
val bundle_add_js(int id, val result);
val bundle_finish_js(int id);
void bundle_close_js(int id);
// reportText(rows, format) -> {ok, text}: the CLI's --report CSV or --json text.
val report_text_js(val rows, std::string format);

}  // namespace qplay::js
