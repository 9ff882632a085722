// The command line -> the core's Request. The core walks the words and checks every option; here
// its errors become usage errors (exit code 2).
#include <string>
#include <vector>

#include "cli.hpp"

namespace qplay::cli {
namespace {

std::vector<std::string> words_of(int argc, char** argv) { return {argv + 2, argv + argc}; }

}  // namespace

Request parse_quantize(int argc, char** argv) {
  return as_usage([&] {
    Request r;
    parse_arguments(r, words_of(argc, argv), RequestContext::single);
    if (!r.help) validate(r, RequestContext::single);
    return r;
  });
}

Request parse_info(int argc, char** argv) {
  return as_usage([&] {
    Request r;
    parse_arguments(r, words_of(argc, argv), RequestContext::info);
    if (r.help) return r;
    if (r.positionals.size() != 1)
      throw Error(r.positionals.empty() ? "info needs a FILE"
                                        : "info takes one FILE, got " + std::to_string(r.positionals.size()));
    r.raw = raw_spec(r);
    return r;
  });
}

}  // namespace qplay::cli
