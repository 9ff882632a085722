// The user's option objects, through the core's option table (qplay/request.hpp): each value becomes
// the text the CLI would have been given, set_option parses it and validate checks the whole, so
// every spelling, bound and cross-check (and its message) is the core's. What is JS-specific lives
// here: JS types, the params object, and values handed back in JS types.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "convert.hpp"
#include "qplay/formats.hpp"
#include "qplay/options.hpp"
#include "qplay/request.hpp"

namespace qplay::js {

// A validated request from an options object, and what the params object adds for RunInfo.
struct JsRequest {
  Request request;
  bool file_name_given = false;    // the fileName option, even when empty
  std::string observer;            // params.observer of calibrated params
  std::vector<std::string> files;  // params.files
};

// A JS value as the text of the option (the CLI's text): strings as they are, booleans "true" /
// "false", integers as JS's String(n), numbers for float options as the shortest text of the float32
// they round to; a value of the wrong JS type is an error naming the option.
std::string option_text(const val& v, const OptionSpec& spec);

// The options object (undefined/null: none) set option by option and validated in the API context;
// `calibrating` stands for --calibrate being on the command line (calibrate()).
JsRequest request_from_js(const val& options, bool calibrating);

// The scheme options of a whole-file run: params sources and the input selection are refused with
// "<what>: '<key>' does not apply to whole-file mode ..."; with `name_errors` every other error is
// prefixed by "<what>: " too (an override's options).
QuantOptions whole_file_options(const val& options, const std::string& what, bool name_errors);

// The options in the user's spelling and JS types (what a result reports; valid input to a later
// quantize): describe()'s effective options.
val options_to_js(const QuantOptions& o);

// The raw object {dtype, shape, offset, endian} (the CLI's --raw-dtype, --raw-shape, --raw-offset,
// --raw-endian: the table's rawDtype... rows) as a RawSpec; nullopt when absent.
std::optional<RawSpec> raw_from_js(const val& v);

// describe(options) -> {ok, effective, locked, profileDefaults, range, family, bits, division, levels,
// doubleQuantApplies}: what a UI draws for these options.
val describe_js(val options);

}  // namespace qplay::js
