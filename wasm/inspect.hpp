// The inspector's questions about a run (qplay/inspect.hpp) for the page's worker, which keeps the
// input values and the result: no plan, x/s, tie or rounding arithmetic is done in JS.
#pragma once

#include "convert.hpp"

namespace qplay::js {

// inspect(options, {values, shape}, params, indices) -> {ok, elements: [{index, group, x, scale,
// zeroPoint, scaled, integer, shifted, rounded, tie, clipped, code, dequantized}]}. `options` are the
// run's options object, `params` the result's params ({scale, zeroPoint, floatZeroPoint, ...}).
val inspect_js(val options, val input, val params, val indices);
// findElements(options, {values, shape}, params, query, dequantized) -> {ok, indices, total}; query
// {kind: 'ties'|'clipped'|'bin'|'maxError', lo, hi, last, group, after, limit}.
val find_elements_js(val options, val input, val params, val query, val dequantized);
// groupElements(options, shape, group) -> {ok, indices: Float64Array}: the elements of one param
// group; paramIndex(options, shape, flat) -> {ok, group}.
val group_elements_js(val options, val shape, val group);
val param_index_js(val options, val shape, val flat);

}  // namespace qplay::js
