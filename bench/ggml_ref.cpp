// Native timer of ggml's reference quantizers (quantize_row_<type>_ref from a local ggml checkout's
// src/ggml-quants.c, built by scripts/ggml_ref_bench.sh), on the wasm bench's tensor (data.hpp:
// 16 M float32 values). Nothing of ggml is copied here: ggml's code is compiled from the checkout
// into /tmp and linked through scripts/ggml_ref/ref.c.
//
// Two modes:
//   ggml_ref_bench serve        read GGUF type ids from stdin, one per line; for each, quantize the
//                               whole tensor once and print the wall and CPU milliseconds
//                               ("ready N" first).
//                               bench/ggml.mjs drives this so that every native timing sits next
//                               to the wasm timings of the same repetition.
//   ggml_ref_bench [REPS]       time every type REPS times (default 7) and print medians (GB/s).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <ctime>
#include <vector>

#include "../scripts/ggml_ref/ref.h"
#include "data.hpp"

namespace {

constexpr int64_t kRows = 4096, kCols = 4096;  // as bench.cpp
constexpr size_t kElements = size_t(kRows * kCols);

struct Type {
  const char* name;
  uint32_t id;
  size_t block_elems, block_bytes;
};
// GGUF ids and block geometry (ggml-common.h): the 13 types qplay implements.
constexpr Type kTypes[] = {
    {"q8_0", 8, 32, 34},    {"q8_1", 9, 32, 36},    {"q4_0", 2, 32, 18},    {"q4_1", 3, 32, 20},
    {"q5_0", 6, 32, 22},    {"q5_1", 7, 32, 24},    {"q2_k", 10, 256, 84},  {"q3_k", 11, 256, 110},
    {"q4_k", 12, 256, 144}, {"q5_k", 13, 256, 176}, {"q6_k", 14, 256, 210}, {"iq4_nl", 20, 32, 18},
    {"mxfp4", 39, 32, 17},
};

const Type* find(uint32_t id) {
  for (const Type& t : kTypes)
    if (t.id == id) return &t;
  return nullptr;
}

volatile uint32_t g_sink;

double cpu_ms() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) * 1e-6;
}

struct Timing {
  double wall_ms, cpu_ms;
};

// Wall time, and the process's CPU time (which leaves out time spent waiting for a core: on the
// shared machine the steadier of the two).
Timing time_once(const Type& t, const std::vector<float>& x, std::vector<uint8_t>& out) {
  const double cpu0 = cpu_ms();
  const auto start = std::chrono::steady_clock::now();
  ref_quantize(t.id, x.data(), out.data(), int64_t(x.size()));
  const auto stop = std::chrono::steady_clock::now();
  const double cpu1 = cpu_ms();
  g_sink = g_sink + out[out.size() / 2];
  return {std::chrono::duration<double, std::milli>(stop - start).count(), cpu1 - cpu0};
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const std::vector<float> x = qplay_bench::make_data(kRows, kCols);
  std::vector<uint8_t> out(kElements / 32 * 36);  // the largest row: Q8_1
  if (argc > 1 && std::strcmp(argv[1], "serve") == 0) {
    std::printf("ready %zu\n", kElements);
    char line[64];
    while (std::fgets(line, sizeof line, stdin)) {
      if (std::strncmp(line, "quit", 4) == 0) break;
      const Type* t = find(uint32_t(std::strtoul(line, nullptr, 10)));
      if (!t) {
        std::printf("error unknown type id %s", line);
        continue;
      }
      const Timing r = time_once(*t, x, out);
      std::printf("%.4f %.4f\n", r.wall_ms, r.cpu_ms);
    }
    return 0;
  }
  const int reps = argc > 1 ? std::atoi(argv[1]) : 7;
  if (reps < 1) {
    std::fprintf(stderr, "usage: %s [REPS] | serve\n", argv[0]);
    return 2;
  }
  std::printf("ggml quantize_row_*_ref, %zu float32 values, median of %d runs after 1 warm-up\n", kElements, reps);
  std::printf("%-7s %10s %8s\n", "type", "CPU ms", "GB/s");
  for (const Type& t : kTypes) {
    std::vector<double> ms;
    time_once(t, x, out);
    for (int r = 0; r < reps; ++r) ms.push_back(time_once(t, x, out).cpu_ms);
    std::sort(ms.begin(), ms.end());
    const double m = ms[ms.size() / 2];
    std::printf("%-7s %10.1f %8.3f\n", t.name, m, double(kElements) * 4 / (m / 1e3) / 1e9);
  }
  return 0;
}
