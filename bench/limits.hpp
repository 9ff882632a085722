// Memory-traffic limits measured beside the core (see limits.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

namespace qplay_bench {

// Reads n float32, writes n bytes (no arithmetic). Returns a byte of the output.
uint32_t stream_pass(const float* x, size_t n, uint8_t* out);
// Reads n float32. Returns a fold of their bits.
uint32_t read_pass(const float* x, size_t n);

}  // namespace qplay_bench
