// The memory limits the drivers are measured against, written as plain loops in the bench module:
//  - the stream pass reads float32 and writes one byte per element with no arithmetic: a quantizer
//    to 8-bit codes has to do at least this much memory traffic, so it is the ceiling;
//  - the read pass only reads float32 (a dynamic quantizer's min/max scan cannot beat it).
// The SIMD bench module compiles this file with -msimd128 (16-byte loads and stores, the same
// narrowing the quantize kernels pack codes with); the baseline module compiles it without, so it
// shows what the scalar build's memory ceiling looks like.
#include "limits.hpp"

#include <cstring>

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

namespace qplay_bench {

uint32_t stream_pass(const float* x, size_t n, uint8_t* out) {
  size_t i = 0;
#if defined(__wasm_simd128__)
  for (; i + 16 <= n; i += 16) {
    // Reinterpreting the float bits and narrowing with saturation is data movement only: no
    // float op, yet every input byte is read and one code byte per element is written.
    const v128_t a = wasm_v128_load(x + i), b = wasm_v128_load(x + i + 4);
    const v128_t c = wasm_v128_load(x + i + 8), d = wasm_v128_load(x + i + 12);
    wasm_v128_store(out + i, wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(a, b),
                                                      wasm_i16x8_narrow_i32x4(c, d)));
  }
#endif
  for (; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    out[i] = uint8_t(bits);
  }
  // The caller folds this into a sink so the stores cannot be dropped.
  return n ? out[n / 2] : 0;
}

uint32_t read_pass(const float* x, size_t n) {
  size_t i = 0;
  uint32_t folded = 0;
#if defined(__wasm_simd128__)
  // Four independent accumulators so the loop is bound by loads, not by one dependency chain.
  v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
  for (; i + 16 <= n; i += 16) {
    a0 = wasm_v128_xor(a0, wasm_v128_load(x + i));
    a1 = wasm_v128_xor(a1, wasm_v128_load(x + i + 4));
    a2 = wasm_v128_xor(a2, wasm_v128_load(x + i + 8));
    a3 = wasm_v128_xor(a3, wasm_v128_load(x + i + 12));
  }
  const v128_t all = wasm_v128_xor(wasm_v128_xor(a0, a1), wasm_v128_xor(a2, a3));
  folded = uint32_t(wasm_i32x4_extract_lane(all, 0) ^ wasm_i32x4_extract_lane(all, 1) ^
                    wasm_i32x4_extract_lane(all, 2) ^ wasm_i32x4_extract_lane(all, 3));
#endif
  for (; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    folded ^= bits;
  }
  return folded;
}

}  // namespace qplay_bench
