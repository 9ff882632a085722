// Small float formats: the pinned vectors of shared/reference/semantics.md (C14-C16), ONNX's own
// test vectors, and sweeps of every float16 bit pattern plus random and tie-adjacent float32 values
// against an oracle that knows nothing of the encoder: the nearest value among all codes by
// exhaustive search (ties to the even code, or to the larger magnitude), then the saturation rules.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "qplay/minifloat.hpp"
#include "qplay/tensor.hpp"
#include "test_util.hpp"

using namespace qplay::minifloat;
using namespace qplay_test;
using qplay::half_to_float;

namespace {

// ---- the oracle ---------------------------------------------------------------------------------

// Magnitude of code k (no sign, no specials), written from the format definition alone.
double magnitude(const Format& f, unsigned k) {
  const unsigned e = k >> f.man_bits;
  const unsigned m = k & ((1u << f.man_bits) - 1);
  if (e == 0) return std::ldexp(double(m), 1 - f.bias - f.man_bits);
  return std::ldexp(double((1u << f.man_bits) + m), int(e) - f.bias - f.man_bits);
}

uint8_t all_ones(const Format& f) { return uint8_t((1u << (f.exp_bits + f.man_bits)) - 1); }

// mags[k] = magnitude(f, k) for k = 0 .. max_code + 1.
std::vector<double> magnitudes(const Format& f) {
  std::vector<double> m;
  for (unsigned k = 0; k <= unsigned(f.max_code()) + 1; ++k) m.push_back(magnitude(f, k));
  return m;
}

uint8_t oracle(float x, const Format& f, const EncodeOptions& o, const std::vector<double>& mags) {
  const uint8_t s = std::signbit(x) ? f.sign_mask() : 0;
  const bool sat = o.saturate || f.specials == Specials::finite;
  const uint8_t maxc = f.max_code();
  auto overflow = [&]() -> uint8_t {
    switch (f.specials) {
      case Specials::ieee: return uint8_t(s | (maxc + 1));
      case Specials::fn: return uint8_t(s | all_ones(f));
      case Specials::fnuz: return 0x80;
      case Specials::finite: return uint8_t(s | maxc);
    }
    return 0;
  };
  if (std::isnan(x)) {
    if (f.specials == Specials::fnuz) return 0x80;
    if (f.specials == Specials::finite) return maxc;
    return uint8_t(s | all_ones(f));
  }
  if (std::isinf(x)) {
    if (!sat) return overflow();
    if (f.specials == Specials::fnuz && o.fnuz_inf == FnuzInf::nan) return 0x80;
    return uint8_t(s | maxc);
  }
  // Exhaustive: every magnitude code up to max, plus the first one past max (the extended grid).
  const double a = std::fabs(double(x));
  // At or past the first value beyond max the answer is that value (an overflow); checked first
  // because |a - v| in double loses the candidates' differences once a is huge.
  if (a >= mags[unsigned(maxc) + 1]) return sat ? uint8_t(s | maxc) : overflow();
  unsigned best = 0;
  double best_d = a;
  for (unsigned k = 1; k <= unsigned(maxc) + 1; ++k) {
    const double d = std::fabs(a - mags[k]);
    const bool tie = d == best_d;
    const bool take = d < best_d ||
                      (tie && (o.rounding == Rounding::half_away ? true : (k % 2 == 0)));
    if (take) {
      best = k;
      best_d = d;
    }
  }
  if (best == unsigned(maxc) + 1) return sat ? uint8_t(s | maxc) : overflow();
  if (best == 0 && f.specials == Specials::fnuz) return 0;
  return uint8_t(s | best);
}

std::vector<EncodeOptions> all_options(const Format& f) {
  std::vector<EncodeOptions> v;
  for (bool sat : {true, false})
    for (Rounding r : {Rounding::half_even, Rounding::half_away})
      for (FnuzInf fi : {FnuzInf::nan, FnuzInf::max}) {
        if (fi == FnuzInf::max && f.specials != Specials::fnuz) continue;
        v.push_back(EncodeOptions{sat, r, fi});
      }
  return v;
}

std::string describe(const Format& f, const EncodeOptions& o, float x) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s sat=%d away=%d fnuz_inf_max=%d x=%a (bits %08x)",
                std::string(f.name).c_str(), int(o.saturate), int(o.rounding == Rounding::half_away),
                int(o.fnuz_inf == FnuzInf::max), double(x), unsigned(bits_of(x)));
  return buf;
}

// Checks every value; reports only the first few mismatches so a broken encoder stays readable.
void check_against_oracle(const Format& f, const std::vector<float>& xs) {
  const std::vector<double> mags = magnitudes(f);
  for (const EncodeOptions& o : all_options(f)) {
    int failures = 0;
    for (float x : xs) {
      const uint8_t got = encode(x, f, o);
      const uint8_t want = oracle(x, f, o, mags);
      if (got != want && failures++ < 5) {
        INFO(describe(f, o, x));
        CHECK(int(got) == int(want));
      }
    }
    CHECK(failures == 0);
  }
}

uint8_t e4(float x, bool sat = true) { return encode(x, e4m3fn, EncodeOptions{sat}); }
uint8_t e5(float x, bool sat = true) { return encode(x, e5m2, EncodeOptions{sat}); }

}  // namespace

TEST_CASE("minifloat: format constants") {
  CHECK(max_value(e4m3fn) == 448.0f);
  CHECK(max_value(e5m2) == 57344.0f);
  CHECK(max_value(e4m3fnuz) == 240.0f);
  CHECK(max_value(e5m2fnuz) == 57344.0f);
  CHECK(max_value(e2m3) == 7.5f);
  CHECK(max_value(e3m2) == 28.0f);
  CHECK(max_value(e2m1) == 6.0f);
  CHECK(min_subnormal(e4m3fn) == std::ldexp(1.0f, -9));
  CHECK(min_subnormal(e5m2) == std::ldexp(1.0f, -16));
  CHECK(min_subnormal(e4m3fnuz) == std::ldexp(1.0f, -10));
  CHECK(min_subnormal(e5m2fnuz) == std::ldexp(1.0f, -17));
  CHECK(min_subnormal(e2m1) == 0.5f);
  CHECK(e4m3fn.max_code() == 0x7E);
  CHECK(e5m2.max_code() == 0x7B);
  CHECK(find_format("e5m2fnuz") == &kPresets[3]);
  CHECK(find_format("e4m3") == nullptr);
}

TEST_CASE("minifloat: E4M3FN vectors (semantics C14)") {
  CHECK(e4(1.0f) == 0x38);
  CHECK(e4(0.1f) == 0x1D);
  CHECK(decode(0x1D, e4m3fn) == 0.1015625f);
  CHECK(e4(1.0f / 3.0f) == 0x2B);
  CHECK(decode(0x2B, e4m3fn) == 0.34375f);
  CHECK(e4(300.0f) == 0x79);
  CHECK(decode(0x79, e4m3fn) == 288.0f);
  CHECK(e4(464.0f) == 0x7E);  // tie between 448 and (NaN-coded) 480 -> even mantissa 448
  CHECK(e4(464.0f, false) == 0x7E);
  CHECK(e4(465.0f, false) == 0x7F);  // rounds past max: NaN without saturation
  CHECK(e4(500.0f) == 0x7E);
  CHECK(e4(500.0f, false) == 0x7F);
  CHECK(e4(-500.0f, false) == 0xFF);
  CHECK(e4(std::ldexp(1.0f, -10)) == 0x00);  // half the smallest subnormal: tie to even 0
  CHECK(e4(-std::ldexp(1.0f, -10)) == 0x80);
  CHECK(e4(3 * std::ldexp(1.0f, -10)) == 0x02);
  CHECK(decode(0x02, e4m3fn) == 0.00390625f);
  CHECK(e4(-2.0f) == 0xC0);
  CHECK(e4(448.0f) == 0x7E);
  CHECK(e4(std::ldexp(1.0f, -9)) == 0x01);
  CHECK(e4(kInf) == 0x7E);
  CHECK(e4(-kInf) == 0xFE);
  CHECK(e4(kInf, false) == 0x7F);
  CHECK(e4(-kInf, false) == 0xFF);
  CHECK(e4(kNaN) == 0x7F);
  CHECK(e4(-kNaN) == 0xFF);
  CHECK(std::isnan(decode(0x7F, e4m3fn)));
  CHECK(std::isnan(decode(0xFF, e4m3fn)));
  CHECK(bits_of(decode(0x80, e4m3fn)) == 0x80000000u);
}

TEST_CASE("minifloat: E5M2 and FNUZ vectors (semantics C15)") {
  CHECK(e5(1.0f) == 0x3C);
  CHECK(e5(0.1f) == 0x2E);
  CHECK(decode(0x2E, e5m2) == 0.09375f);
  CHECK(e5(57344.0f) == 0x7B);
  CHECK(e5(61440.0f) == 0x7B);
  CHECK(e5(1e5f) == 0x7B);
  CHECK(e5(61440.0f, false) == 0x7C);  // the tie rounds to 65536 (even), past max: +Inf
  CHECK(e5(61439.0f, false) == 0x7B);
  CHECK(e5(1e5f, false) == 0x7C);
  CHECK(e5(-1e5f, false) == 0xFC);
  CHECK(e5(kInf) == 0x7B);
  CHECK(e5(kInf, false) == 0x7C);
  CHECK(e5(-kInf, false) == 0xFC);
  CHECK(e5(kNaN) == 0x7F);
  CHECK(std::isnan(decode(0x7D, e5m2)));
  CHECK(std::isnan(decode(0x7E, e5m2)));
  CHECK(std::isnan(decode(0xFF, e5m2)));
  CHECK(decode(0x7C, e5m2) == kInf);
  CHECK(decode(0xFC, e5m2) == -kInf);
  CHECK(e5(std::ldexp(1.0f, -16)) == 0x01);
  CHECK(e5(std::ldexp(1.0f, -17)) == 0x00);

  const EncodeOptions sat{}, nosat{false};
  const EncodeOptions sat_inf_max{true, Rounding::half_even, FnuzInf::max};
  CHECK(encode(240.0f, e4m3fnuz) == 0x7F);
  CHECK(encode(1.0f, e4m3fnuz) == 0x40);
  CHECK(encode(1e4f, e4m3fnuz) == 0x7F);
  CHECK(encode(-1e4f, e4m3fnuz) == 0xFF);
  CHECK(encode(1e4f, e4m3fnuz, nosat) == 0x80);
  CHECK(encode(-0.0f, e4m3fnuz) == 0x00);
  CHECK(encode(-1e-10f, e4m3fnuz) == 0x00);  // rounds to zero: there is no -0 to keep the sign
  CHECK(encode(kNaN, e4m3fnuz) == 0x80);
  CHECK(encode(kInf, e4m3fnuz, sat) == 0x80);  // float8.md table
  CHECK(encode(-kInf, e4m3fnuz, sat_inf_max) == 0xFF);  // the reference code's clamp
  CHECK(encode(kInf, e4m3fnuz, nosat) == 0x80);
  CHECK(std::isnan(decode(0x80, e4m3fnuz)));
  CHECK(encode(std::ldexp(1.0f, -10), e4m3fnuz) == 0x01);
  CHECK(encode(57344.0f, e5m2fnuz) == 0x7F);
  CHECK(encode(1.0f, e5m2fnuz) == 0x40);
  CHECK(encode(std::ldexp(1.0f, -17), e5m2fnuz) == 0x01);
  CHECK(std::isnan(decode(0x80, e5m2fnuz)));
}

TEST_CASE("minifloat: FP4 E2M1 and FP6 (semantics C16 and the ONNX float4 tests)") {
  const float mags[8] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
  for (unsigned c = 0; c < 8; ++c) {
    CHECK(decode(uint8_t(c), e2m1) == mags[c]);
    CHECK(decode(uint8_t(c | 8), e2m1) == -mags[c]);
    CHECK(encode(mags[c], e2m1) == c);
  }
  CHECK(encode(kNaN, e2m1) == 0x7);  // NaN -> +6
  CHECK(encode(-kNaN, e2m1) == 0x7);
  CHECK(encode(kInf, e2m1) == 0x7);
  CHECK(encode(-kInf, e2m1) == 0xF);
  CHECK(encode(7.0f, e2m1, EncodeOptions{false}) == 0x7);  // no saturate switch for FP4
  CHECK(encode(-0.0f, e2m1) == 0x8);
  CHECK(encode(-0.1f, e2m1) == 0x8);
  CHECK(encode(0.25f, e2m1) == 0x0);
  CHECK(encode(0.75f, e2m1) == 0x2);  // tie 0.5 / 1.0 -> even mantissa 1.0
  CHECK(encode(0.75f, e2m1, EncodeOptions{true, Rounding::half_away}) == 0x2);
  CHECK(encode(0.25f, e2m1, EncodeOptions{true, Rounding::half_away}) == 0x1);
  CHECK(encode(2.5f, e2m1) == 0x4);
  CHECK(encode(2.5f, e2m1, EncodeOptions{true, Rounding::half_away}) == 0x5);
  CHECK(encode(5.0f, e2m1) == 0x6);

  // onnx/backend/test/case/node/quantizelinear.py export_float4e2m1: x / scale per row.
  const float x[12] = {0.0f, 2.5f, 4.8f, 8.6f, -30, -20, 6, 9, -0.0f, -2.5f, -4.8f, -8.6f};
  const float scale[3] = {2, 3, 4};
  const float want[12] = {0, 1, 2, 4, -6, -6, 2, 3, 0, -0.5f, -1, -2};
  for (int i = 0; i < 12; ++i) CHECK(decode(encode(x[i] / scale[i / 4], e2m1), e2m1) == want[i]);
  // ONNX reference: signed zero survives QuantizeLinear to float4 (test_quantize_linear_float4e2m1_signed_zero).
  CHECK(std::signbit(decode(encode(-0.0f, e2m1), e2m1)));

  CHECK(encode(7.5f, e2m3) == 0x1F);
  CHECK(encode(100.0f, e2m3) == 0x1F);
  CHECK(encode(-kInf, e2m3) == 0x3F);
  CHECK(encode(kNaN, e2m3) == 0x1F);
  CHECK(encode(28.0f, e3m2) == 0x1F);
  CHECK(encode(30.0f, e3m2) == 0x1F);
  CHECK(decode(0x01, e3m2) == 0.0625f);  // 2^-2 * 1/4
  CHECK(decode(0x01, e2m3) == 0.125f);   // 2^0 * 1/8
}

TEST_CASE("minifloat: every float16 bit pattern against the exhaustive oracle") {
  std::vector<float> xs;
  xs.reserve(65536);
  for (uint32_t h = 0; h < 65536; ++h) xs.push_back(half_to_float(uint16_t(h)));
  for (const Format& f : kPresets) {
    INFO(std::string(f.name));
    check_against_oracle(f, xs);
  }
}

TEST_CASE("minifloat: random float32 and the neighbours of every tie against the oracle") {
  for (const Format& f : kPresets) {
    INFO(std::string(f.name));
    std::vector<float> xs;
    Rng rng(0x51DEC0DEull + f.bias);
    const double top = 2.5 * double(max_value(f));
    for (int i = 0; i < 2000; ++i) {
      const uint64_t r = rng.next();
      xs.push_back(float_from_bits(uint32_t(r)));  // any bit pattern: NaN, Inf, subnormal, huge
      const double u = double(r >> 11) * 0x1p-53;
      xs.push_back(float((2 * u - 1) * top));                   // across the whole range
      xs.push_back(float(std::ldexp(2 * u - 1, -int(rng.next() % 24))));  // small magnitudes
    }
    // Each midpoint between neighbouring magnitudes (and the one above max), one float ulp each
    // side: the places where a rounding rule shows.
    for (unsigned k = 0; k <= f.max_code(); ++k) {
      const float mid = float((magnitude(f, k) + magnitude(f, k + 1)) / 2);
      for (float m : {mid, -mid}) {
        xs.push_back(m);
        xs.push_back(std::nextafter(m, kInf));
        xs.push_back(std::nextafter(m, -kInf));
      }
    }
    check_against_oracle(f, xs);
  }
}

TEST_CASE("minifloat: decode then encode is the identity on every non-NaN code") {
  for (const Format& f : kPresets) {
    INFO(std::string(f.name));
    const unsigned codes = 1u << f.bits();
    float prev = -kInf;
    for (unsigned c = 0; c < codes; ++c) {
      if (is_nan_code(uint8_t(c), f)) continue;
      const float v = decode(uint8_t(c), f);
      EncodeOptions o;
      o.saturate = false;  // Inf codes must come back as Inf
      CHECK(encode(v, f, o) == c);
      // Positive codes increase in value.
      if (c < f.sign_mask()) {
        CHECK(v > prev);
        prev = v;
      }
    }
  }
}

TEST_CASE("minifloat: batch encode and decode equal the element rule") {
  std::vector<float> xs;
  for (uint32_t h = 0; h < 65536; h += 7) xs.push_back(half_to_float(uint16_t(h)));
  std::vector<uint8_t> got(xs.size());
  for (const Format& f : kPresets)
    for (const EncodeOptions& o : all_options(f)) {
      encode(xs.data(), xs.size(), got.data(), f, o);
      int bad = 0;
      for (size_t i = 0; i < xs.size(); ++i) bad += got[i] != encode(xs[i], f, o);
      INFO(std::string(f.name));
      CHECK(bad == 0);
    }
  std::vector<uint8_t> codes(256);
  for (unsigned c = 0; c < 256; ++c) codes[c] = uint8_t(c);
  std::vector<float> out(256);
  for (const Format& f : {e4m3fn, e5m2, e4m3fnuz, e5m2fnuz}) {
    decode(codes.data(), codes.size(), out.data(), f);
    for (unsigned c = 0; c < 256; ++c) CHECK(bits_of(out[c]) == bits_of(decode(uint8_t(c), f)));
  }
}

TEST_CASE("minifloat: E8M0 encode (ONNX Cast round_mode) and decode") {
  // onnx tests/python/numpy_helper_test.py test_to_float8e8m0_round_modes
  const float x[6] = {1.0f, 1.125f, 1.25f, 1.375f, 1.5f, 1.75f};
  const uint8_t up[6] = {127, 128, 128, 128, 128, 128};
  const uint8_t nearest[6] = {127, 127, 127, 127, 128, 128};
  for (int i = 0; i < 6; ++i) {
    CHECK(encode_e8m0(x[i], E8m0Round::up) == up[i]);
    CHECK(encode_e8m0(x[i], E8m0Round::down) == 127);
    CHECK(encode_e8m0(x[i], E8m0Round::nearest) == nearest[i]);
  }
  // test_to_float8e8m0_extreme_values
  for (E8m0Round m : {E8m0Round::up, E8m0Round::down, E8m0Round::nearest})
    for (bool sat : {true, false}) {
      CHECK(encode_e8m0(kNaN, m, sat) == 0xFF);
      CHECK(encode_e8m0(kInf, m, sat) == 0xFF);
      CHECK(encode_e8m0(-kInf, m, sat) == 0xFF);
    }
  const float near_max = 1.5f * std::ldexp(1.0f, 127);
  CHECK(encode_e8m0(near_max, E8m0Round::up, true) == 0xFE);
  CHECK(encode_e8m0(near_max, E8m0Round::up, false) == 0xFF);
  // onnx/backend/test/case/node/cast.py export_e8m0 inputs with the default round_mode up.
  const float cast_in[8] = {0.0f, 0.124f, 0.25f, 0.5f, 1.1f, 2.0f, 4.0f, 8.0f};
  const uint8_t cast_out[8] = {0, 124, 125, 126, 128, 128, 129, 130};
  for (int i = 0; i < 8; ++i) CHECK(encode_e8m0(cast_in[i]) == cast_out[i]);
  CHECK(encode_e8m0(-4.0f) == 129);  // the sign bit is ignored
  // Subnormal float32: the bit rule of the reference (2^-127 is exactly code 0).
  CHECK(encode_e8m0(std::ldexp(1.0f, -127), E8m0Round::down) == 0);
  CHECK(encode_e8m0(std::ldexp(1.0f, -127), E8m0Round::nearest) == 0);
  CHECK(encode_e8m0(std::ldexp(1.0f, -127), E8m0Round::up) == 1);

  CHECK(std::isnan(decode_e8m0(0xFF)));
  CHECK(decode_e8m0(127) == 1.0f);
  CHECK(decode_e8m0(0) == std::ldexp(1.0f, -127));
  CHECK(decode_e8m0(254) == std::ldexp(1.0f, 127));
  for (unsigned c = 0; c < 255; ++c) CHECK(encode_e8m0(decode_e8m0(uint8_t(c)), E8m0Round::down) == c);
}

TEST_CASE("minifloat: nibble packing in both orders with an odd tail") {
  const uint8_t codes[5] = {0x1, 0x2, 0x3, 0xF, 0x7};
  uint8_t low[3], high[3];
  pack_nibbles(codes, 5, NibbleOrder::low_first, low);
  pack_nibbles(codes, 5, NibbleOrder::high_first, high);
  CHECK(low[0] == 0x21);  // ONNX: pack(x, y) = y << 4 | x
  CHECK(low[1] == 0xF3);
  CHECK(low[2] == 0x07);
  CHECK(high[0] == 0x12);  // bitsandbytes: (q[0::2] << 4) | q[1::2]
  CHECK(high[1] == 0x3F);
  CHECK(high[2] == 0x70);
  CHECK(packed_size(5) == 3);
  CHECK(packed_size(0) == 0);
  uint8_t back[5];
  unpack_nibbles(low, 5, NibbleOrder::low_first, back);
  CHECK(std::memcmp(back, codes, 5) == 0);
  unpack_nibbles(high, 5, NibbleOrder::high_first, back);
  CHECK(std::memcmp(back, codes, 5) == 0);
}
