// Lookup tables and bitsandbytes blockwise quantization: the tables of semantics.md C11/C12, the
// tie rule, the dynamic map rebuilt from its definition, and whole-tensor digests against values
// computed by bitsandbytes' default-backend arithmetic in torch (scripts/reference/bnb_vectors.py).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/float_kernels.hpp"
#include "qplay/error.hpp"
#include "qplay/lut.hpp"
#include "test_util.hpp"

using namespace qplay::lut;
using namespace qplay_test;

namespace {

// The input of scripts/reference/bnb_vectors.py test_input().
std::vector<float> make_input() {
  const size_t n = 64 * 300 + 37;
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = float(int64_t(i * 7919 % 2001) - 1000) / 997.0f;
  std::fill(x.begin() + 320, x.begin() + 384, 0.0f);
  x[448] = 1.0f;
  for (int k = 0; k < 15; ++k) {
    const float mid = (kNf4[k] + kNf4[k + 1]) / 2.0f;
    x[449 + k] = mid;
    x[464 + k] = -mid;
  }
  return x;
}

uint8_t nf4(float s) { return nf4_codebook().nearest(s); }

}  // namespace

TEST_CASE("lut: NF4 table with its thresholds and vectors (semantics C11)") {
  const double want[16] = {-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
                           -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
                           0.07958029955625534, 0.16093020141124725, 0.24611230194568634,
                           0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
                           0.7229568362236023, 1.0};
  // The CUDA dQuantizeNF4 tree constants (csrc/kernels.cu), as float32.
  const double cuda[15] = {-0.8480964004993439, -0.6106329262256622, -0.4599952697753906,
                           -0.33967943489551544, -0.23460740596055984, -0.13791173323988914,
                           -0.045525018125772476, 0.03979014977812767, 0.1202552504837513,
                           0.2035212516784668, 0.2920137718319893, 0.3893125355243683,
                           0.5016634166240692, 0.6427869200706482, 0.8614784181118011};
  for (int i = 0; i < 16; ++i) CHECK(double(kNf4[i]) == want[i]);
  const Codebook& c = nf4_codebook();
  for (int i = 0; i < 15; ++i) {
    CHECK(bits_of(c.midpoints()[size_t(i)]) == bits_of(qplay::kernels::kNf4Thresholds[i]));
    CHECK(bits_of(c.midpoints()[size_t(i)]) == bits_of(float(cuda[i])));
    // A value exactly on a midpoint takes the lower code; one ulp above, the upper.
    CHECK(nf4(c.midpoints()[size_t(i)]) == i);
    CHECK(nf4(std::nextafter(c.midpoints()[size_t(i)], kInf)) == i + 1);
  }
  CHECK(nf4(0.5f) == 12);
  CHECK(nf4(0.51f) == 13);
  CHECK(nf4(-0.5f) == 2);
  CHECK(nf4(0.03f) == 7);
  CHECK(nf4(0.04f) == 8);
  CHECK(nf4(-0.05f) == 6);
  CHECK(nf4(kNaN) == 15);  // torch.bucketize puts NaN past the last boundary
  CHECK(nf4(-2.0f) == 0);
  CHECK(nf4_codebook().nearest(c.midpoints()[3], Tie::upper) == 4);
}

TEST_CASE("lut: bitsandbytes FP4 table and its two tie rules (semantics C12)") {
  const float* t = bnb_fp4_table();
  const double want[16] = {0, 0.0052083, 0.6667, 1.0, 0.3333, 0.5, 0.1667, 0.25,
                           -0.0, -0.0052083, -0.6667, -1.0, -0.3333, -0.5, -0.1667, -0.25};
  for (int i = 0; i < 16; ++i) CHECK(double(t[i]) == doctest::Approx(want[i]).epsilon(1e-4));
  CHECK(std::signbit(t[8]));
  const Codebook& c = bnb_fp4_codebook();
  CHECK(c.nearest(1.0f) == 3);
  CHECK(c.nearest(-1.0f) == 11);
  CHECK(c.nearest(0.0f) == 0);
  CHECK(c.nearest(-0.001f) == 0);   // sort order puts +0 (code 0) before -0 (code 8)
  CHECK(c.nearest(0.001f) == 8);
  CHECK(c.nearest(0.3f) == 4);
  // Ties: the midpoint of 0.25 and 1/3 goes to the lower value, on both sides of zero.
  const float mid = (t[7] + t[4]) / 2.0f;
  CHECK(c.nearest(mid) == 7);
  CHECK(c.nearest(-mid) == 12);  // -1/3: lower value, larger magnitude

  // The CUDA rule: same codes except ties on the negative side and the sign of zero.
  // 0.0859375 is the one FP4 threshold where CUDA's literal equals the float32 midpoint; at 1/3
  // vs 1/4 CUDA's literal 0.29166667f lies below the midpoint, so the midpoint itself goes up.
  std::vector<float> x = {0.0859375f, -0.0859375f, 0.001f, -0.001f, 0.9f, -0.9f, 0.0f, -0.0f, mid, -mid};
  qplay::lut::Bnb4Options o;
  o.type = Bnb4Type::fp4;
  o.blocksize = 32;
  x.resize(32, 0.0f);
  x[31] = 1.0f;  // absmax 1: scaled values are the inputs
  o.fp4_rule = BnbFp4Rule::cuda;
  const Bnb4Quantized qc = bnb_quantize_4bit(x.data(), x.size(), o);
  o.fp4_rule = BnbFp4Rule::bucketize;
  const Bnb4Quantized qb = bnb_quantize_4bit(x.data(), x.size(), o);
  const uint8_t want_cuda[10] = {1, 9, 0, 8, 3, 11, 0, 0, 4, 12};
  const uint8_t want_bucket[10] = {1, 14, 8, 0, 3, 11, 0, 0, 7, 12};
  for (int i = 0; i < 10; ++i) {
    CHECK(qc.codes[size_t(i)] == want_cuda[i]);
    CHECK(qb.codes[size_t(i)] == want_bucket[i]);
  }
}

TEST_CASE("lut: the 8-bit dynamic map as stored and as rebuilt from its definition") {
  const float* m = bnb_dynamic_map();
  CHECK(fnv1a(m, 256 * sizeof(float)) == 0x52084853a0e35a1cull);  // torch's create_dynamic_map()
  CHECK(std::is_sorted(m, m + 256));
  CHECK(m[127] == 0.0f);
  CHECK(m[255] == 1.0f);
  CHECK(m[0] == -0.992968738079071f);
  CHECK(m[128] == 5.500000384017767e-07f);

  // create_dynamic_map with torch.linspace as its CPU kernel evaluates in float32: 16 elements at
  // a time as two 8-lane vectors whose base (start + step * idx, or end - step * (steps - idx - 1)
  // from the halfway point on) is one fused multiply-add and whose lanes add k * step to it; the
  // rest one fused multiply-add each.
  auto linspace = [](int steps) {
    const float start = 0.1f, end = 1.0f;
    const float step = (end - start) / float(steps - 1);
    const int half = steps / 2;
    auto one = [&](int idx) {
      return idx < half ? std::fmaf(step, float(idx), start) : std::fmaf(-step, float(steps - idx - 1), end);
    };
    std::vector<float> v;
    int idx = 0;
    for (; idx + 16 <= steps; idx += 16)
      for (int vec = 0; vec < 2; ++vec) {
        const float base = one(idx + 8 * vec);
        for (int k = 0; k < 8; ++k) {
          const float lane = float(k) * step;
          v.push_back(base + lane);
        }
      }
    for (; idx < steps; ++idx) v.push_back(one(idx));
    return v;
  };
  std::vector<float> data;
  for (int i = 0; i < 7; ++i) {
    const std::vector<float> b = linspace((1 << i) + 1);
    const float scale = float(std::pow(10.0, double(i - 6)));
    for (bool negative : {false, true})
      for (size_t k = 0; k + 1 < b.size(); ++k) {
        const float mean = (b[k] + b[k + 1]) / 2.0f;
        data.push_back((negative ? -scale : scale) * mean);
      }
  }
  data.push_back(0.0f);
  data.push_back(1.0f);
  std::sort(data.begin(), data.end());
  REQUIRE(data.size() == 256);
  int differ = 0;
  for (size_t i = 0; i < 256; ++i) differ += bits_of(data[i]) != bits_of(m[i]);
  CHECK(differ == 0);
}

TEST_CASE("lut: nearest_sorted agrees with Codebook in both tie rules") {
  const float t[5] = {-2.0f, -0.5f, 0.0f, 0.5f, 3.0f};
  const Codebook c(t, 5);
  for (float x : {-3.0f, -2.0f, -1.25f, -1.0f, -0.25f, 0.0f, 0.25f, 1.75f, 2.0f, 5.0f, kNaN, -kInf, kInf})
    for (Tie tie : {Tie::lower, Tie::upper}) CHECK(nearest_sorted(t, 5, x, tie) == c.nearest(x, tie));
  CHECK(c.nearest(-1.25f, Tie::lower) == 0);
  CHECK(c.nearest(-1.25f, Tie::upper) == 1);
  CHECK(c.nearest(kNaN) == 4);
  CHECK_THROWS_AS(Codebook(t, 0), qplay::Error);
}

TEST_CASE("lut: bitsandbytes 4-bit blockwise against the torch reference digests") {
  const std::vector<float> x = make_input();
  for (Bnb4Type type : {Bnb4Type::nf4, Bnb4Type::fp4}) {
    Bnb4Options o;
    o.type = type;
    o.double_quant = true;
    const Bnb4Quantized q = bnb_quantize_4bit(x.data(), x.size(), o);
    const bool is_nf4 = type == Bnb4Type::nf4;
    INFO((is_nf4 ? "nf4" : "fp4"));
    CHECK(q.absmax.size() == 301);
    CHECK(q.packed.size() == (x.size() + 1) / 2);
    CHECK(fnv1a(q.codes) == (is_nf4 ? 0xbe6e747c31fe5300ull : 0x6b0d686c61e7365full));
    CHECK(fnv1a(q.packed) == (is_nf4 ? 0x15084da74649d430ull : 0xe08c50976700c317ull));
    CHECK(fnv1a(q.absmax) == 0x716f6c9205b114f0ull);
    // torch's float32 cascade mean is 0x1.fb3a6p-1; the double-accumulated mean is one ulp below.
    CHECK(q.offset == 0x1.fb3a5ep-1f);
    // With torch's offset the rest of the double quantization matches it bit for bit.
    const DoubleQuant dq = bnb_double_quantize(q.absmax, 0x1.fb3a6p-1f);
    CHECK(fnv1a(dq.q.codes) == 0x9cfa8198e1953339ull);
    CHECK(fnv1a(dq.q.absmax) == 0x7a7ecffef45d9efbull);
    CHECK(fnv1a(dq.used) == 0xf208bc42b419649dull);
    CHECK(q.absmax_used.size() == q.absmax.size());
  }
  // Block 7 holds 1.0 and then every NF4 midpoint exactly: each takes the lower code.
  Bnb4Options o;
  const Bnb4Quantized q = bnb_quantize_4bit(x.data(), x.size(), o);
  CHECK(q.codes[448] == 15);
  for (int k = 0; k < 15; ++k) CHECK(q.codes[size_t(449 + k)] == k);
  // The all-zero block: absmax 0 (stored unclamped), every code 7 (the NF4 zero).
  CHECK(q.absmax[5] == 0.0f);
  for (size_t i = 320; i < 384; ++i) CHECK(q.codes[i] == 7);
}

TEST_CASE("lut: bitsandbytes packing with the tail block and dequantization and errors") {
  // 70 elements, blocksize 64: a tail of 6 with its own (clamped, divided-by) absmax.
  std::vector<float> x(70);
  for (size_t i = 0; i < 64; ++i) x[i] = float(int(i) - 32) / 8.0f;
  for (size_t i = 64; i < 70; ++i) x[i] = 0.0f;
  Bnb4Options o;
  const Bnb4Quantized q = bnb_quantize_4bit(x.data(), x.size(), o);
  REQUIRE(q.absmax.size() == 2);
  CHECK(q.absmax[0] == 4.0f);
  CHECK(q.absmax[1] == 1e-38f);  // the tail stores max(absmax, 1e-38)
  CHECK(q.packed.size() == 35);
  CHECK(q.packed[0] == uint8_t(q.codes[0] << 4 | q.codes[1]));  // first element in the high nibble
  CHECK(q.codes[0] == 0);                                        // -4 / 4 = -1
  std::vector<float> y(x.size());
  bnb_dequantize_4bit(q, y.data());
  for (size_t i = 0; i < x.size(); ++i) CHECK(y[i] == kNf4[q.codes[i]] * q.absmax[i / 64]);
  CHECK(y[0] == -4.0f);

  // Odd count: the pad nibble is the code of 0.0 (7 for NF4, 0 for FP4).
  const float odd[3] = {1.0f, -1.0f, 0.5f};
  o.blocksize = 32;
  const Bnb4Quantized qo = bnb_quantize_4bit(odd, 3, o);
  CHECK(qo.packed.size() == 2);
  CHECK(qo.packed[1] == uint8_t(qo.codes[2] << 4 | 7));
  o.type = Bnb4Type::fp4;
  const Bnb4Quantized qf = bnb_quantize_4bit(odd, 3, o);
  CHECK(qf.packed[1] == uint8_t(qf.codes[2] << 4 | 0));

  // NaN makes its block's absmax NaN (torch.max), and every code of the block 15 (bucketize).
  std::vector<float> nan_block(64, 0.5f);
  nan_block[10] = kNaN;
  o.type = Bnb4Type::nf4;
  o.blocksize = 64;
  const Bnb4Quantized qn = bnb_quantize_4bit(nan_block.data(), nan_block.size(), o);
  CHECK(std::isnan(qn.absmax[0]));
  for (uint8_t c : qn.codes) CHECK(c == 15);

  o.blocksize = 48;
  CHECK_THROWS_AS(bnb_quantize_4bit(x.data(), x.size(), o), qplay::Error);
  o.blocksize = 8192;
  CHECK_THROWS_AS(bnb_quantize_4bit(x.data(), x.size(), o), qplay::Error);
  CHECK_THROWS_AS(bnb_quantize_blockwise(x.data(), x.size(), 0, bnb_dynamic_codebook()), qplay::Error);
}

TEST_CASE("lut: 8-bit blockwise with the dynamic map") {
  std::vector<float> x = {0.0f, 1.0f, -1.0f, 0.5f, -0.25f, 3e-7f, 2.0f};
  const Blockwise8 q = bnb_quantize_blockwise(x.data(), x.size(), 4, bnb_dynamic_codebook());
  REQUIRE(q.absmax.size() == 2);
  CHECK(q.absmax[0] == 1.0f);
  CHECK(q.absmax[1] == 2.0f);
  CHECK(q.codes[0] == 127);  // 0.0
  CHECK(q.codes[1] == 255);  // 1.0
  CHECK(q.codes[2] == 0);    // -1.0 -> the most negative code, -0.99297
  std::vector<float> y(x.size());
  bnb_dequantize_blockwise(q, bnb_dynamic_codebook(), y.data());
  for (size_t i = 0; i < x.size(); ++i) CHECK(y[i] == bnb_dynamic_map()[q.codes[i]] * q.absmax[i / 4]);
  CHECK(y[6] == 2.0f);
}
