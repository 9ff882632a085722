// What every harness shares: a reader may reject its input only with qplay::Error; anything else
// escaping (std::length_error, std::bad_alloc from a size it trusted, ...) aborts and is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "qplay/error.hpp"

namespace qplay_fuzz {

template <class F> void expect_only_qplay_errors(F&& f) {
  try {
    f();
  } catch (const qplay::Error&) {
    // A clean rejection with a message: what malformed input must get.
  }
}

// A check that must hold for every accepted input (round trips); abort so libFuzzer keeps the case.
inline void require(bool ok) {
  if (!ok) std::abort();
}

}  // namespace qplay_fuzz
