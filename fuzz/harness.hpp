// What every harness shares: a reader may reject its input only with qplay::Error; anything else
// escaping (std::length_error, std::bad_alloc from a size it trusted, ...) aborts and is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <span>

#include "qplay/error.hpp"
#include "qplay/formats.hpp"

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

// describe_head over growing prefixes of an accepted file must end in what describe_file gives for
// the whole file: each request asks for more bytes than it had and no more than the file has (the
// page and the CLI's --all read large files this way, so a head that loops or disagrees is a bug).
inline void require_head_agrees(std::span<const uint8_t> file, const qplay::FileInfo& whole) {
  uint64_t have = std::min<uint64_t>(16, file.size());
  for (;;) {
    const qplay::HeadInfo h = qplay::describe_head(file.first(have), file.size());
    if (h.info) {
      require(h.info->format == whole.format && h.info->tensors.size() == whole.tensors.size());
      for (size_t i = 0; i < whole.tensors.size(); ++i) {
        const qplay::TensorInfo &a = h.info->tensors[i], &b = whole.tensors[i];
        require(a.name == b.name && a.shape == b.shape && a.dtype == b.dtype && a.data_offset == b.data_offset &&
                a.data_bytes == b.data_bytes && a.loadable == b.loadable);
      }
      return;
    }
    require(h.bytes_needed > have && h.bytes_needed <= file.size());
    have = h.bytes_needed;
  }
}

}  // namespace qplay_fuzz
