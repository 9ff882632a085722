// The benchmark tensor, shared by the wasm bench module (bench.cpp) and the native ggml _ref timer
// (bench/ggml_ref.cpp), so both time the same numbers: per row a Gaussian with its own spread (so
// per-channel params differ), plus rare outliers 8x out (so the clipping range methods have
// something to clip). Deterministic: xorshift64* and Box-Muller in double. (libm's log/cos may
// differ in the last bit between emscripten's musl and glibc; that moves no timing.)
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace qplay_bench {

inline std::vector<float> make_data(int64_t rows, int64_t cols) {
  uint64_t state = 0x243F6A8885A308D3ull;
  auto next = [&state] {  // xorshift64*
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1Dull;
  };
  auto uniform = [&next] { return (double(next() >> 11) + 0.5) * 0x1p-53; };  // (0, 1)
  std::vector<float> x(size_t(rows * cols));
  for (int64_t r = 0; r < rows; ++r) {
    const double sigma = 0.02 * (0.25 + 1.75 * uniform());
    const double mean = 0.002 * (uniform() - 0.5);
    for (int64_t c = 0; c < cols; c += 2) {
      // Box-Muller: two normals per pair of uniforms.
      const double radius = std::sqrt(-2.0 * std::log(uniform()));
      const double angle = 6.283185307179586 * uniform();
      double a = radius * std::cos(angle), b = radius * std::sin(angle);
      if (uniform() < 1e-4) a *= 8.0;
      if (uniform() < 1e-4) b *= 8.0;
      x[size_t(r * cols + c)] = float(mean + sigma * a);
      x[size_t(r * cols + c + 1)] = float(mean + sigma * b);
    }
  }
  return x;
}

}  // namespace qplay_bench
