// Bulk cross-check and benchmark of qplay's ggml formats against a real ggml build's reference code
// (not part of the test suite: it needs a ggml checkout). Built and run by
// scripts/ggml_crosscheck.sh. For every type: rows of tests/ggml_rows.h plus Gaussian rows, quantized
// by both, compared byte for byte; both dequantizers over the bytes and over random bytes, compared
// bit for bit (NaN as NaN); qplay with the SIMD kernels and with force_scalar. Then fp32 -> fp16 over
// all 2^32 floats and fp16 -> fp32 over all halves. Then quantize throughput (GB/s of f32 input).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <span>
#include <vector>

#include "../../tests/ggml_rows.h"
#include "kernels/ggml_kernels.hpp"
#include "kernels/kernels.hpp"
#include "qplay/ggml.hpp"
#include "ref.h"

namespace {

bool same_float(float a, float b) {
  uint32_t ua, ub;
  std::memcpy(&ua, &a, 4);
  std::memcpy(&ub, &b, 4);
  return ua == ub || (a != a && b != b);
}

struct Stats {
  uint64_t rows = 0, bad_quant = 0, bad_dequant = 0, bad_random = 0;
};

void check_row(qplay::GgmlType t, const std::vector<float>& row, Stats* st, uint64_t seed) {
  const uint32_t id = qplay::ggml_type_id(t);
  const size_t n = row.size();
  std::vector<uint8_t> ref(qplay::ggml_row_bytes(t, n));
  ref_quantize(id, row.data(), ref.data(), int64_t(n));
  const std::vector<uint8_t> ours = qplay::ggml_quantize(t, row);
  ++st->rows;
  if (ours != ref) {
    if (st->bad_quant++ < 3) {
      const size_t bb = qplay::ggml_block_bytes(t);
      size_t k = 0;
      while (ours[k] == ref[k]) ++k;
      std::printf("  %s: quant mismatch, row seed %llu, block %zu byte %zu: ours %02x ggml %02x\n",
                  std::string(qplay::ggml_type_name(t)).c_str(), (unsigned long long)seed, k / bb,
                  k % bb, ours[k], ref[k]);
    }
  }
  std::vector<float> ya(n), yb(n);
  ref_dequantize(id, ref.data(), ya.data(), int64_t(n));
  qplay::ggml_dequantize(t, ref, yb);
  for (size_t k = 0; k < n; ++k) {
    if (!same_float(ya[k], yb[k])) {
      ++st->bad_dequant;
      break;
    }
  }
  std::mt19937_64 rng(seed * 7919 + id);
  for (auto& b : ref) b = uint8_t(rng() >> 56);
  ref_dequantize(id, ref.data(), ya.data(), int64_t(n));
  qplay::ggml_dequantize(t, ref, yb);
  for (size_t k = 0; k < n; ++k) {
    if (!same_float(ya[k], yb[k])) {
      if (st->bad_random++ < 3) std::printf("  random dequant mismatch elem %zu: %a vs %a\n", k, ya[k], yb[k]);
      break;
    }
  }
}

int crosscheck(uint64_t rows_per_type) {
  int failures = 0;
  for (int pass = 0; pass < 2; ++pass) {
    qplay::kernels::force_scalar(pass == 1);
    std::printf("pass: %s kernels\n", pass == 0 ? qplay::kernels::table().name : "scalar");
    for (qplay::GgmlType t : qplay::kGgmlTypes) {
      Stats st;
      std::vector<float> row(QPLAY_GGML_ROW_LEN);
      std::mt19937_64 rng(12345);
      for (uint64_t i = 0; i < rows_per_type; ++i) {
        if (i % 2 == 0) {
          qplay_ggml_row(0xC0FFEEull + pass, uint32_t(i / 2), row.data());
        } else {
          std::normal_distribution<float> g(0.0f, 1.0f);
          const float scale = std::ldexp(1.0f, int(rng() % 41) - 20);
          for (auto& v : row) v = g(rng) * scale;
        }
        check_row(t, row, &st, i);
      }
      std::printf("  %-7s rows %llu  quant mismatches %llu  dequant mismatches %llu  random-bytes dequant mismatches %llu\n",
                  std::string(qplay::ggml_type_name(t)).c_str(), (unsigned long long)st.rows,
                  (unsigned long long)st.bad_quant, (unsigned long long)st.bad_dequant,
                  (unsigned long long)st.bad_random);
      failures += st.bad_quant + st.bad_dequant + st.bad_random != 0;
    }
  }
  qplay::kernels::force_scalar(false);
  return failures;
}

int check_fp16() {
  uint64_t bad = 0;
  for (uint64_t u = 0; u <= 0xFFFFFFFFull; ++u) {
    float f;
    const uint32_t v = uint32_t(u);
    std::memcpy(&f, &v, 4);
    if (qplay::ggml_fp32_to_fp16(f) != ref_fp32_to_fp16(f) && bad++ < 5) {
      std::printf("  fp32->fp16 %08x: ours %04x ggml %04x\n", v, qplay::ggml_fp32_to_fp16(f), ref_fp32_to_fp16(f));
    }
  }
  uint64_t bad_back = 0;
  for (uint32_t h = 0; h <= 0xFFFF; ++h) {
    if (!same_float(qplay::ggml_fp16_to_fp32(uint16_t(h)), ref_fp16_to_fp32(uint16_t(h)))) ++bad_back;
    const float a = qplay::ggml_fp16_to_fp32(uint16_t(h)), b = ref_fp16_to_fp32(uint16_t(h));
    uint32_t ua, ub;
    std::memcpy(&ua, &a, 4);
    std::memcpy(&ub, &b, 4);
    if (ua != ub && a == a) ++bad_back;
  }
  std::printf("fp32->fp16 over all 2^32 floats: %llu mismatches; fp16->fp32 over all 65536 halves: %llu\n",
              (unsigned long long)bad, (unsigned long long)bad_back);
  return bad + bad_back != 0;
}

double seconds_now() {  // steady clock, in seconds
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Quantize throughput: ggml's _ref, qplay with the SIMD kernels and qplay forced scalar, timed in
// turn within each repetition (so a change in machine load hits all three alike); medians.
// qplay is timed through ggml_quantize_into (into a buffer, as ggml's _ref writes), which adds the
// finiteness check to the kernels; "simd kernel" is the SIMD kernel alone.
void bench(size_t n, int reps) {
  std::vector<float> x(n);
  std::mt19937_64 rng(1);
  std::normal_distribution<float> g(0.0f, 1.0f);
  for (auto& v : x) v = g(rng);
  std::printf("\nquantize throughput, %zu f32 (%.0f MiB) per call, median of %d interleaved runs, GB/s of f32 input\n",
              n, double(n) * 4 / 1048576, reps);
  std::printf("%-7s %10s %12s %13s %13s %10s %12s %12s\n", "type", "ggml _ref", "qplay simd", "qplay scalar",
              "simd kernel", "simd/ggml", "scalar/ggml", "kernel/ggml");
  const qplay::GgmlType types[] = {qplay::GgmlType::q8_0, qplay::GgmlType::q4_0, qplay::GgmlType::mxfp4,
                                   qplay::GgmlType::q4_k, qplay::GgmlType::q6_k, qplay::GgmlType::iq4_nl};
  for (qplay::GgmlType t : types) {
    std::vector<uint8_t> out(qplay::ggml_row_bytes(t, n));
    const uint32_t id = qplay::ggml_type_id(t);
    // The SIMD kernel alone (no checks, no allocation), for the types that have one.
    bool (*kernel)(const float*, size_t, uint8_t*) noexcept = nullptr;
#if QPLAY_HAVE_SIMD128
    if (t == qplay::GgmlType::q8_0) kernel = &qplay::kernels::simd128::ggml_quantize_q8_0;
    if (t == qplay::GgmlType::q4_0) kernel = &qplay::kernels::simd128::ggml_quantize_q4_0;
    if (t == qplay::GgmlType::mxfp4) kernel = &qplay::kernels::simd128::ggml_quantize_mxfp4;
#endif
    std::vector<double> tr, ts, tc, tk;
    for (int r = 0; r < reps; ++r) {
      if (kernel) {
        const double a = seconds_now();
        kernel(x.data(), n / 32, out.data());
        tk.push_back(seconds_now() - a);
      }
      double a = seconds_now();
      ref_quantize(id, x.data(), out.data(), int64_t(n));
      tr.push_back(seconds_now() - a);
      qplay::kernels::force_scalar(false);
      a = seconds_now();
      qplay::ggml_quantize_into(t, x, out);
      ts.push_back(seconds_now() - a);
      qplay::kernels::force_scalar(true);
      a = seconds_now();
      qplay::ggml_quantize_into(t, x, out);
      tc.push_back(seconds_now() - a);
      qplay::kernels::force_scalar(false);
    }
    for (auto* v : {&tr, &ts, &tc, &tk}) std::sort(v->begin(), v->end());
    const double bytes = double(n) * 4, gr = bytes / tr[tr.size() / 2] / 1e9,
                 gs = bytes / ts[ts.size() / 2] / 1e9, gc = bytes / tc[tc.size() / 2] / 1e9;
    if (kernel) {
      const double gk = bytes / tk[tk.size() / 2] / 1e9;
      std::printf("%-7s %10.3f %12.3f %13.3f %13.3f %10.2f %12.2f %12.2f\n",
                  std::string(qplay::ggml_type_name(t)).c_str(), gr, gs, gc, gk, gs / gr, gc / gr, gk / gr);
    } else {
      std::printf("%-7s %10.3f %12.3f %13.3f %13s %10.2f %12.2f %12s\n", std::string(qplay::ggml_type_name(t)).c_str(),
                  gr, gs, gc, "-", gs / gr, gc / gr, "-");
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const uint64_t rows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20000;
  bool fp16 = true, run_bench = true;
  for (int a = 2; a < argc; ++a) {
    if (std::strcmp(argv[a], "nofp16") == 0) fp16 = false;
    if (std::strcmp(argv[a], "nobench") == 0) run_bench = false;
  }
  int failures = crosscheck(rows);
  if (fp16) failures += check_fp16();
  if (run_bench) bench(size_t(1) << 22, 21);
  std::printf("\n%s\n", failures ? "MISMATCHES FOUND" : "all identical");
  return failures ? 1 : 0;
}
