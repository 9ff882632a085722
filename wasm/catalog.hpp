// What a UI builds its pickers from, read from the core's tables: the option table (qplay/request.hpp)
// and the format registry (qplay/registry.hpp). Nothing here lists an option or a format itself.
#pragma once

#include "convert.hpp"

namespace qplay::js {

// catalog() -> {ok, options: [{key, flag, kind, values, choices, min, max, default, doc}],
// formats: [{name, family, bits, option, summary, docs, maxNormal, codebook, ggml}]}: the option
// rows the API context accepts (JS keys), and every registry row (ggml geometry or null).
val catalog_js();

}  // namespace qplay::js
