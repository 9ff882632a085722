// The user's option objects: parsed with the core's spelling table (so messages are the CLI's) into
// the QuantOptions value object, and written back in the user's spelling.
#pragma once

#include <string>
#include <vector>

#include "convert.hpp"
#include "qplay/options.hpp"
#include "qplay/quantize.hpp"

namespace qplay::js {

// Where the params of a quantize come from: none (dynamic), given or calibrated arrays.
struct ParamsSource {
  std::string kind = "dynamic";  // "dynamic" | "given" | "calibrated"
  std::string flag;              // --scale, --params or --calibrate (for messages)
  GivenParams given;
  std::string observer;
  std::vector<std::string> files;
};

// parseOptions(options, calibrating): the user's option object -> {ok, options (QuantOptions), params,
// tensor, fileName}. `calibrating` stands for --calibrate being on the command line.
val parse_options(val js, bool calibrating);
// parseObserver(text) -> {ok, observer (CalibrationOptions)}: the CLI's --observer.
val parse_observer_js(val text);
// The params parse_options returns (null for dynamic) back as a ParamsSource.
ParamsSource params_source_from_js(const val& p);
// The options in the user's spelling (what a result reports; valid input to a later quantize).
val options_to_js(const QuantOptions& o);

}  // namespace qplay::js
