// Float-format kernels: the SIMD twins must equal the scalar specifications bit for bit over sizes
// around the vector steps, misaligned starts, inputs full of specials, ties and subnormals, and must
// not write past the end (sentinel guards). Also: the scalar twins equal the element rules.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "kernels/float_kernels.hpp"
#include "kernels/kernels.hpp"
#include "qplay/minifloat.hpp"
#include "test_util.hpp"

using namespace qplay::kernels;
using namespace qplay_test;

namespace {

// Inputs that reach every path of the float encoders: specials, signed zeros, subnormals of
// float32 and of each format, exact ties of E4M3/E5M2/E2M1/NF4, and random values across scales.
std::vector<float> stress_inputs(size_t n, uint64_t seed) {
  static const float specials[] = {
      kNaN, -kNaN, float_from_bits(0x7F800001u), kInf, -kInf, 0.0f, -0.0f, 3.4e38f, -3.4e38f, 1e-40f,
      -1e-45f, 448.0f, 464.0f, 465.0f, 480.0f, -500.0f, 57344.0f, 61440.0f, -61440.0f, 1e5f,
      0x1p-10f, 0x3p-10f, 0x1p-17f, 0x3p-17f, 0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f, 6.0f,
      6.5f, -0.75f, 7.0f, 0.0397901498f, -0.8480964f, 1.0f, -1.0f, 0.5f, 0.1f};
  Rng rng(seed);
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t r = rng.next();
    switch (r % 5) {
      case 0: v[i] = specials[(r >> 8) % (sizeof specials / sizeof specials[0])]; break;
      case 1: v[i] = float_from_bits(uint32_t(r >> 16)); break;
      case 2: v[i] = std::ldexp(float(int32_t(r >> 40) % 2048) / 16.0f, int((r >> 8) % 40) - 24); break;
      default: v[i] = (float((r >> 40) & 0xFFFFFF) * 0x1p-23f - 1.0f) * std::ldexp(1.0f, int((r >> 8) % 24) - 8);
    }
  }
  return v;
}

#if QPLAY_HAVE_SIMD128
std::string where(const char* op, size_t n, size_t off) {
  return std::string(op) + " n=" + std::to_string(n) + " offset=" + std::to_string(off);
}

// Runs op on the scalar and the SIMD table over guarded copies of one input; compares outputs.
template <class In, class Out, class Run>
void compare(Report& rep, const char* op, const std::vector<In>& input, size_t out_n, size_t off, Run run) {
  const Guarded<In> in = guarded_copy(input, off);
  Guarded<Out> a(out_n, off), b(out_n, off);
  run(float_scalar_table(), in.data(), a.data());
  run(*float_simd128_table(), in.data(), b.data());
  ++rep.cases;
  if (!a.same_bytes(b)) rep.fail(where(op, input.size(), off) + ": outputs differ");
  if (!a.guards_intact() || !b.guards_intact() || !in.guards_intact())
    rep.fail(where(op, input.size(), off) + ": wrote outside the buffer");
}

#endif

}  // namespace

TEST_CASE("float kernels: scalar twins follow the element rules") {
  const std::vector<float> x = stress_inputs(4096, 7);
  std::vector<uint8_t> out(x.size());
  for (bool sat : {true, false}) {
    float_scalar_table().encode_e4m3fn_f32(x.data(), x.size(), sat, out.data());
    for (size_t i = 0; i < x.size(); ++i)
      CHECK(out[i] == qplay::minifloat::encode(x[i], qplay::minifloat::e4m3fn, {sat}));
    float_scalar_table().encode_e5m2_f32(x.data(), x.size(), sat, out.data());
    for (size_t i = 0; i < x.size(); ++i)
      CHECK(out[i] == qplay::minifloat::encode(x[i], qplay::minifloat::e5m2, {sat}));
  }
  float_scalar_table().encode_e2m1_f32(x.data(), x.size(), out.data());
  for (size_t i = 0; i < x.size(); ++i) CHECK(out[i] == qplay::minifloat::encode(x[i], qplay::minifloat::e2m1));
  // NF4 by thresholds: ties go to the lower code, NaN to 15.
  const float s[6] = {-1.0f, kNf4Thresholds[0], std::nextafter(kNf4Thresholds[0], 1.0f), 0.0f, 1.0f, kNaN};
  const uint8_t want[6] = {0, 0, 1, 7, 15, 15};
  uint8_t codes[6];
  float_scalar_table().encode_nf4_f32(s, 6, 1.0f, codes);
  for (int i = 0; i < 6; ++i) CHECK(codes[i] == want[i]);
}

TEST_CASE("float kernels: dispatch follows force_scalar") {
  force_scalar(true);
  CHECK(&float_table() == &float_scalar_table());
  force_scalar(false);
  if (simd_available()) CHECK(&float_table() == float_simd128_table());
  else CHECK(&float_table() == &float_scalar_table());
}

#if QPLAY_HAVE_SIMD128
TEST_CASE("float kernels: simd128 equals scalar for the FP8 and FP4 encoders") {
  Report rep;
  for (size_t n : kSizes)
    for (size_t off : kOffsets) {
      const std::vector<float> x = stress_inputs(n, 1000 + n * 7 + off);
      for (bool sat : {true, false}) {
        compare<float, uint8_t>(rep, sat ? "encode_e4m3fn sat" : "encode_e4m3fn", x, n, off,
                                [&](const FloatTable& t, const float* in, uint8_t* out) {
                                  t.encode_e4m3fn_f32(in, n, sat, out);
                                });
        compare<float, uint8_t>(rep, sat ? "encode_e5m2 sat" : "encode_e5m2", x, n, off,
                                [&](const FloatTable& t, const float* in, uint8_t* out) {
                                  t.encode_e5m2_f32(in, n, sat, out);
                                });
      }
      compare<float, uint8_t>(rep, "encode_e2m1", x, n, off,
                              [&](const FloatTable& t, const float* in, uint8_t* out) {
                                t.encode_e2m1_f32(in, n, out);
                              });
    }
  check_report(rep, 0);
}

TEST_CASE("float kernels: simd128 equals scalar for the FP8 decoders") {
  Report rep;
  for (size_t n : kSizes)
    for (size_t off : kOffsets) {
      std::vector<uint8_t> codes(n);
      for (size_t i = 0; i < n; ++i) codes[i] = uint8_t(i * 37 + off);  // every byte value over 1023
      compare<uint8_t, float>(rep, "decode_e4m3fn", codes, n, off,
                              [&](const FloatTable& t, const uint8_t* in, float* out) {
                                t.decode_e4m3fn_f32(in, n, out);
                              });
      compare<uint8_t, float>(rep, "decode_e5m2", codes, n, off,
                              [&](const FloatTable& t, const uint8_t* in, float* out) {
                                t.decode_e5m2_f32(in, n, out);
                              });
    }
  check_report(rep, 0);
}

TEST_CASE("float kernels: simd128 equals scalar for NF4 thresholds") {
  Report rep;
  for (size_t n : kSizes)
    for (size_t off : kOffsets) {
      std::vector<float> x = stress_inputs(n, 2000 + n + off);
      // Exact thresholds (the ties) and their neighbours.
      for (size_t i = 0; i < n; i += 3) {
        const float t = kNf4Thresholds[i % 15];
        x[i] = i % 2 ? t : std::nextafter(t, i % 4 ? kInf : -kInf);
      }
      for (float mul : {1.0f, 0.37f, 1e-38f})
        compare<float, uint8_t>(rep, "encode_nf4", x, n, off,
                                [&](const FloatTable& t, const float* in, uint8_t* out) {
                                  t.encode_nf4_f32(in, n, mul, out);
                                });
    }
  check_report(rep, 0);
}

TEST_CASE("float kernels: simd128 equals scalar for MXFP4 and MXFP8 blocks") {
  using MxFn = void (*FloatTable::*)(const float*, size_t, bool, uint8_t*, uint8_t*) noexcept;
  const std::pair<const char*, MxFn> kernels[] = {{"encode_mxfp4", &FloatTable::encode_mxfp4_f32},
                                                  {"encode_mxfp8_e4m3", &FloatTable::encode_mxfp8_e4m3_f32},
                                                  {"encode_mxfp8_e5m2", &FloatTable::encode_mxfp8_e5m2_f32}};
  Report rep;
  for (const auto& [name, fn] : kernels)
  for (size_t blocks : {size_t(0), size_t(1), size_t(2), size_t(3), size_t(5), size_t(33)})
    for (size_t off : kOffsets) {
      const size_t n = blocks * 32;
      std::vector<float> x = stress_inputs(n, 3000 + blocks * 5 + off);
      Rng rng(blocks + off);
      // Most blocks finite (the stress inputs carry NaN/Inf often): keep every third as it is.
      for (size_t b = 0; b < blocks; ++b) {
        if (b % 3 == 2) continue;
        const float scale = std::ldexp(1.0f, int(rng.next() % 60) - 30);
        for (size_t j = 0; j < 32; ++j) {
          float& v = x[b * 32 + j];
          // E2M1 ties on the 0.25 grid; E4M3 / E5M2 ties on the finer grid (12 significant bits).
          if (!std::isfinite(v) || std::fabs(v) > 1e30f)
            v = j % 2 ? float(int(rng.next() % 29) - 14) * 0.25f : float(int(rng.next() % 4097) - 2048) * 0x1p-9f;
          v *= scale;
        }
        if (b % 3 == 1) for (size_t j = 0; j < 32; ++j) x[b * 32 + j] = 0.0f;  // all-zero block
      }
      for (bool away : {false, true}) {
        const Guarded<float> in = guarded_copy(x, off);
        Guarded<uint8_t> sa(blocks, off), sb(blocks, off), ca(n, off), cb(n, off);
        (float_scalar_table().*fn)(in.data(), blocks, away, sa.data(), ca.data());
        (float_simd128_table()->*fn)(in.data(), blocks, away, sb.data(), cb.data());
        ++rep.cases;
        if (!sa.same_bytes(sb) || !ca.same_bytes(cb)) rep.fail(where(name, n, off) + ": outputs differ");
        if (!sa.guards_intact() || !sb.guards_intact() || !ca.guards_intact() || !cb.guards_intact())
          rep.fail(where(name, n, off) + ": wrote outside the buffer");
      }
    }
  check_report(rep, 0);
}
#endif
