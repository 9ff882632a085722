// ggml block formats (qplay/ggml.hpp). Four kinds of checks:
//  - the hand-checkable vectors of shared/reference/semantics.md (C7-C10, C13, C17-C18) and each
//    format's rounding quirk, pinned byte for byte;
//  - the block layouts: any bytes decode as docs/GGML_FORMATS.md says, element by element;
//  - bytes produced by a real ggml build (tests/data/ggml/ref_vectors.bin, written by
//    scripts/make_ggml_vectors.sh from a ggml checkout): 2 rows stored whole, 384 rows per type as
//    digests of the rows tests/ggml_rows.h generates, with the SIMD kernels and with the scalar ones;
//  - the SIMD twins of the hot quantizers (Q8_0, Q4_0, MXFP4) against their scalar specs.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "ggml_rows.h"
#include "kernels/ggml_element.hpp"
#include "kernels/ggml_kernels.hpp"
#include "kernels/kernels.hpp"
#include "qplay/error.hpp"
#include "qplay/ggml.hpp"
#include "test_util.hpp"

using namespace qplay;
using namespace qplay_test;

namespace {

std::string hex_of(const std::vector<uint8_t>& b) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < b.size(); ++i) {
    if (i) s += ' ';
    s += digits[b[i] >> 4];
    s += digits[b[i] & 15];
  }
  return s;
}

// x_j = j - 16, the block of semantics.md C7-C9.
std::vector<float> ramp_block() {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[size_t(j)] = float(j - 16);
  return x;
}

std::vector<float> dequantized(GgmlType t, const std::vector<uint8_t>& blocks, size_t n) {
  std::vector<float> y(n);
  ggml_dequantize(t, blocks, y);
  return y;
}

uint16_t half_at(const std::vector<uint8_t>& b, size_t at) { return uint16_t(b[at] | (b[at + 1] << 8)); }

struct ScalarKernels {  // RAII: force the scalar twins for one scope
  explicit ScalarKernels(bool on) { kernels::force_scalar(on); }
  ~ScalarKernels() { kernels::force_scalar(false); }
};

// The sum of four uniforms in [-1, 1): a bell shape without libm.
float bell(Rng& rng) {
  float s = 0;
  for (int i = 0; i < 4; ++i) s += rng.uniform(-1.0f, 1.0f);
  return s;
}

}  // namespace

// ---- the type table -----------------------------------------------------------------------------

TEST_CASE("ggml type table: names / GGUF ids / block geometry (semantics C10)") {
  struct Row {
    GgmlType t;
    const char* name;
    uint32_t id;
    size_t elems, bytes;
  };
  const Row rows[] = {
      {GgmlType::q8_0, "q8_0", 8, 32, 34},     {GgmlType::q8_1, "q8_1", 9, 32, 36},
      {GgmlType::q4_0, "q4_0", 2, 32, 18},     {GgmlType::q4_1, "q4_1", 3, 32, 20},
      {GgmlType::q5_0, "q5_0", 6, 32, 22},     {GgmlType::q5_1, "q5_1", 7, 32, 24},
      {GgmlType::q2_k, "q2_k", 10, 256, 84},   {GgmlType::q3_k, "q3_k", 11, 256, 110},
      {GgmlType::q4_k, "q4_k", 12, 256, 144},  {GgmlType::q5_k, "q5_k", 13, 256, 176},
      {GgmlType::q6_k, "q6_k", 14, 256, 210},  {GgmlType::iq4_nl, "iq4_nl", 20, 32, 18},
      {GgmlType::mxfp4, "mxfp4", 39, 32, 17},
  };
  CHECK(std::size(rows) == kGgmlTypes.size());
  for (const Row& r : rows) {
    CAPTURE(r.name);
    CHECK(ggml_type_name(r.t) == r.name);
    CHECK(parse_ggml_type(r.name) == r.t);
    CHECK(ggml_type_id(r.t) == r.id);
    CHECK(ggml_type_from_id(r.id) == r.t);
    CHECK(ggml_block_elems(r.t) == r.elems);
    CHECK(ggml_block_bytes(r.t) == r.bytes);
    CHECK(ggml_row_bytes(r.t, 512) == 512 / r.elems * r.bytes);
  }
  // bits per weight of semantics.md C10
  CHECK(ggml_block_bytes(GgmlType::q4_0) * 8.0 / 32 == 4.5);
  CHECK(ggml_block_bytes(GgmlType::q8_0) * 8.0 / 32 == 8.5);
  CHECK(ggml_block_bytes(GgmlType::q4_k) * 8.0 / 256 == 4.5);
  CHECK(ggml_block_bytes(GgmlType::q6_k) * 8.0 / 256 == 6.5625);
  CHECK(ggml_block_bytes(GgmlType::mxfp4) * 8.0 / 32 == 4.25);
  // ggml's own spelling and upper case
  CHECK(parse_ggml_type("q4_K") == GgmlType::q4_k);
  CHECK(parse_ggml_type("Q6_K") == GgmlType::q6_k);
  CHECK(parse_ggml_type("MXFP4") == GgmlType::mxfp4);
  CHECK(!ggml_type_from_id(15).has_value());  // Q8_K: not a storage format we implement
  const std::string e = error_of([] { parse_ggml_type("q4_2"); });
  CHECK(e.find("unknown ggml type 'q4_2'") != std::string::npos);
  CHECK(e.find("q8_0, q8_1, q4_0") != std::string::npos);
  CHECK(e.find("mxfp4") != std::string::npos);
}

TEST_CASE("ggml rows must be whole blocks and values finite") {
  const std::vector<float> x300(300, 1.0f);
  const std::string e = error_of([&] { ggml_quantize(GgmlType::q4_k, x300); });
  CHECK(e == "ggml q4_k: a row of 300 elements is not a multiple of the block size 256");
  CHECK(error_of([&] { ggml_quantize(GgmlType::q8_0, std::span<const float>(x300).first(33)); }) ==
        "ggml q8_0: a row of 33 elements is not a multiple of the block size 32");
  CHECK(error_of([] { (void)ggml_row_bytes(GgmlType::mxfp4, 48); }).find("block size 32") != std::string::npos);
  CHECK(ggml_quantize(GgmlType::q8_0, {}).empty());

  std::vector<float> x(64, 0.5f);
  x[37] = std::numeric_limits<float>::quiet_NaN();
  CHECK(error_of([&] { ggml_quantize(GgmlType::q4_0, x); }) ==
        "ggml q4_0: element 37 is NaN; ggml block formats need finite values");
  x[37] = -std::numeric_limits<float>::infinity();
  CHECK(error_of([&] { ggml_quantize(GgmlType::q6_k, std::vector<float>(256, 0.0f)); }).empty());
  CHECK(error_of([&] { ggml_quantize(GgmlType::mxfp4, x); }) ==
        "ggml mxfp4: element 37 is -inf; ggml block formats need finite values");

  // long rows are checked and quantized in chunks: the index is the row's, the bytes are the same
  // as quantizing block by block
  std::vector<float> big(20480);
  Rng rng(5);
  for (auto& v : big) v = bell(rng);
  for (GgmlType t : kGgmlTypes) {
    CAPTURE(ggml_type_name(t));
    const std::vector<uint8_t> whole = ggml_quantize(t, big);
    std::vector<uint8_t> pieces;
    const size_t be = ggml_block_elems(t);
    for (size_t at = 0; at < big.size(); at += be) {
      const std::vector<uint8_t> b = ggml_quantize(t, std::span<const float>(big).subspan(at, be));
      pieces.insert(pieces.end(), b.begin(), b.end());
    }
    CHECK(whole == pieces);
  }
  for (GgmlType t : {GgmlType::q8_0, GgmlType::q4_0, GgmlType::mxfp4, GgmlType::q6_k}) {
    for (bool scalar : {false, true}) {
      ScalarKernels force(scalar);
      big[9000] = std::numeric_limits<float>::quiet_NaN();
      CHECK(error_of([&] { ggml_quantize(t, big); }).find("element 9000 is NaN") != std::string::npos);
      big[9000] = 0.0f;
    }
  }
  big[17001] = std::numeric_limits<float>::infinity();
  CHECK(error_of([&] { ggml_quantize(GgmlType::q8_0, big); }) ==
        "ggml q8_0: element 17001 is inf; ggml block formats need finite values");
  CHECK(error_of([&] { ggml_quantize(GgmlType::iq4_nl, big); }).find("element 17001 is inf") != std::string::npos);

  // into caller-owned memory: the same bytes, and the size must fit exactly
  const std::vector<float> r(64, 0.25f);
  std::vector<uint8_t> into(ggml_row_bytes(GgmlType::q4_k, 256) + 1);
  CHECK(error_of([&] { ggml_quantize_into(GgmlType::q4_k, std::vector<float>(256, 1.0f), into); }) ==
        "ggml q4_k: 256 elements quantize to 144 bytes, the output has 145");
  std::vector<uint8_t> into68(68);
  ggml_quantize_into(GgmlType::q8_0, r, into68);
  CHECK(into68 == ggml_quantize(GgmlType::q8_0, r));

  const std::vector<uint8_t> blocks(34);
  std::vector<float> y(64);
  CHECK(error_of([&] { ggml_dequantize(GgmlType::q8_0, blocks, y); }) ==
        "ggml q8_0: 64 elements need 68 bytes (2 blocks of 34), got 34");
  std::vector<float> y40(40);
  CHECK(error_of([&] { ggml_dequantize(GgmlType::q8_0, blocks, y40); }).find("not a multiple") != std::string::npos);
}

// ---- fp16 ---------------------------------------------------------------------------------------

TEST_CASE("ggml fp16: round to nearest even / overflow / NaN like ggml_compute_fp32_to_fp16") {
  CHECK(ggml_fp32_to_fp16(16.0f / 127.0f) == 0x3008);  // C7's d
  CHECK(ggml_fp32_to_fp16(1.0f) == 0x3C00);
  CHECK(ggml_fp32_to_fp16(-2.0f) == 0xC000);
  CHECK(ggml_fp32_to_fp16(-0.0f) == 0x8000);
  CHECK(ggml_fp32_to_fp16(1.0f + 0x1p-11f) == 0x3C00);        // tie -> even
  CHECK(ggml_fp32_to_fp16(1.0f + 3 * 0x1p-11f) == 0x3C02);    // tie -> even (up)
  CHECK(ggml_fp32_to_fp16(1.0f + 0x1p-11f + 0x1p-20f) == 0x3C01);
  CHECK(ggml_fp32_to_fp16(65504.0f) == 0x7BFF);
  CHECK(ggml_fp32_to_fp16(65519.996f) == 0x7BFF);
  CHECK(ggml_fp32_to_fp16(65520.0f) == 0x7C00);               // the midpoint ties up to 2^16 = inf
  CHECK(ggml_fp32_to_fp16(1e10f) == 0x7C00);
  CHECK(ggml_fp32_to_fp16(-std::numeric_limits<float>::infinity()) == 0xFC00);
  CHECK(ggml_fp32_to_fp16(std::numeric_limits<float>::quiet_NaN()) == 0x7E00);
  CHECK(ggml_fp32_to_fp16(float_from_bits(0xFF800001u)) == 0xFE00);  // any NaN: sign | 0x7E00
  CHECK(ggml_fp32_to_fp16(0x1p-14f) == 0x0400);                // smallest normal
  CHECK(ggml_fp32_to_fp16(0x1p-24f) == 0x0001);                // smallest subnormal
  CHECK(ggml_fp32_to_fp16(0x1p-25f) == 0x0000);                // tie -> even (0)
  CHECK(ggml_fp32_to_fp16(0x1.8p-24f) == 0x0002);              // tie -> even (2)
  CHECK(ggml_fp32_to_fp16(0x1.000002p-25f) == 0x0001);         // just above the tie
  CHECK(ggml_fp32_to_fp16(0x1.ff8p-15f) == 0x03FF);            // largest subnormal (1023 * 2^-24)
  CHECK(ggml_fp32_to_fp16(0x1.ffcp-15f) == 0x0400);            // tie -> even: up into the normals
  CHECK(ggml_fp32_to_fp16(0x1.ff4p-15f) == 0x03FE);            // tie -> even: down
  CHECK(ggml_fp32_to_fp16(0x1p-149f) == 0x0000);
  // half -> float is exact: every finite half survives the round trip, and the value is right
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = ggml_fp16_to_fp32(uint16_t(h));
    if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF)) {
      CHECK(f != f);
      CHECK(ggml_fp32_to_fp16(f) == ((h & 0x8000) | 0x7E00));
      continue;
    }
    REQUIRE(ggml_fp32_to_fp16(f) == h);
  }
  CHECK(ggml_fp16_to_fp32(0x0001) == 0x1p-24f);
  CHECK(ggml_fp16_to_fp32(0x3555) == 0x1.554p-2f);
  CHECK(bits_of(ggml_fp16_to_fp32(0x7C01)) == 0x7FC02000u);  // signalling NaN comes back quiet
}

// ---- Q8_0 / Q8_1 --------------------------------------------------------------------------------

TEST_CASE("ggml Q8_0: semantics C7 block bytes and dequantization") {
  for (bool scalar : {false, true}) {
    ScalarKernels force(scalar);
    const std::vector<uint8_t> b = ggml_quantize(GgmlType::q8_0, ramp_block());
    CHECK(hex_of(b) ==
          "08 30 81 89 91 99 a1 a9 b1 b9 c0 c8 d0 d8 e0 e8 f0 f8 00 08 10 18 20 28 30 38 40 47 4f 57 5f 67 6f 77");
    const int expected_q[32] = {-127, -119, -111, -103, -95, -87, -79, -71, -64, -56, -48,
                                -40,  -32,  -24,  -16,  -8,  0,   8,   16,  24,  32,  40,
                                48,   56,   64,   71,   79,  87,  95,  103, 111, 119};
    for (int j = 0; j < 32; ++j) CHECK(int8_t(b[size_t(2 + j)]) == expected_q[j]);
    const std::vector<float> y = dequantized(GgmlType::q8_0, b, 32);
    CHECK(y[0] == -15.9990234375f);
    CHECK(y[16] == 0.0f);
    CHECK(y[31] == 119 * 0.1259765625f);
  }
}

TEST_CASE("ggml Q8_0: roundf ties away from zero (not half-even)") {
  // amax 127 makes d = 1.0 exactly (fp16 0x3C00) and 1/d = 1, so x * id == x.
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;
  const float ties[] = {2.5f, -2.5f, 62.5f, 0.5f, -0.5f, 1.5f, -63.5f, 126.5f};
  const int away[] = {3, -3, 63, 1, -1, 2, -64, 127};  // half-even would give 2 -2 62 0 0 2 -64 126
  for (size_t i = 0; i < std::size(ties); ++i) x[1 + i] = ties[i];
  for (bool scalar : {false, true}) {
    ScalarKernels force(scalar);
    const std::vector<uint8_t> b = ggml_quantize(GgmlType::q8_0, x);
    CHECK(half_at(b, 0) == 0x3C00);
    CHECK(int8_t(b[2]) == 127);
    for (size_t i = 0; i < std::size(ties); ++i) {
      CAPTURE(ties[i]);
      CHECK(int8_t(b[3 + i]) == away[i]);
    }
    CHECK(int8_t(b[2 + 20]) == 0);
  }
  // C7's block: x = +-8 gives x * id = +-63.5 exactly (id = 1/d in fp32, 7.9375), -> +-64 under
  // either rule (64 is even).
  const std::vector<uint8_t> b = ggml_quantize(GgmlType::q8_0, ramp_block());
  CHECK(int8_t(b[2 + 24]) == 64);
  CHECK(int8_t(b[2 + 8]) == -64);
}

TEST_CASE("ggml Q8_0: tiny and zero blocks") {
  // an all-zero block: d = 0, every q = 0
  CHECK(hex_of(ggml_quantize(GgmlType::q8_0, std::vector<float>(32, 0.0f))) == hex_of(std::vector<uint8_t>(34, 0)));
  // amax 2^-140: d = amax / 127 is subnormal, 1/d overflows to inf, x * inf is +-inf or NaN and
  // ggml's (int8_t) cast is what x86-64 does with those: 0. d itself underflows fp16 to 0.
  std::vector<float> x(32, 0.0f);
  x[3] = 0x1p-140f;
  x[4] = -0x1p-141f;
  for (bool scalar : {false, true}) {
    ScalarKernels force(scalar);
    CHECK(hex_of(ggml_quantize(GgmlType::q8_0, x)) == hex_of(std::vector<uint8_t>(34, 0)));
  }
}

TEST_CASE("ggml Q8_1: the sum field s = fp16(d times the sum of q)") {
  const std::vector<uint8_t> b = ggml_quantize(GgmlType::q8_1, ramp_block());
  // same d and codes as Q8_0; the codes sum to -127 and -127 * 0.125984251 = -16.0
  CHECK(hex_of(b) ==
        "08 30 00 cc 81 89 91 99 a1 a9 b1 b9 c0 c8 d0 d8 e0 e8 f0 f8 00 08 10 18 20 28 30 38 40 47 4f 57 5f 67 6f 77");
  const std::vector<float> y = dequantized(GgmlType::q8_1, b, 32);
  CHECK(y[0] == -15.9990234375f);
}

// ---- Q4_0 / Q4_1 / Q5_0 / Q5_1 ------------------------------------------------------------------

TEST_CASE("ggml Q4_0: semantics C8 block bytes") {
  for (bool scalar : {false, true}) {
    ScalarKernels force(scalar);
    const std::vector<uint8_t> b = ggml_quantize(GgmlType::q4_0, ramp_block());
    // max = -16 (the first of largest |x|), d = -16 / -8 = 2 (0x4000); x = 15 -> 16 -> clamped 15
    CHECK(hex_of(b) == "00 40 80 91 91 a2 a2 b3 b3 c4 c4 d5 d5 e6 e6 f7 f7 f8");
    const std::vector<float> y = dequantized(GgmlType::q4_0, b, 32);
    CHECK(y[0] == -16.0f);
    CHECK(y[31] == 14.0f);
  }
}

TEST_CASE("ggml Q4_0: half up via (int8_t)(x id + 8.5f) / first max wins / zero block") {
  // max = -16 first, so d = 2 and id = 0.5
  std::vector<float> x(32, 0.0f);
  x[0] = -16.0f;
  x[1] = 16.0f;                      // the other sign of the extreme: 8 -> 16.5 -> 16 -> clamped 15
  const float xs[] = {-1.0f, 1.0f, -3.0f, 3.0f, 5.0f, -5.0f};
  const int q_minus_8[] = {0, 1, -1, 2, 3, -2};  // x * id = -0.5 0.5 -1.5 1.5 2.5 -2.5 -> half up
  for (size_t i = 0; i < std::size(xs); ++i) x[2 + i] = xs[i];
  x[8] = 0.99999994f;  // x * id = 0.49999997: + 8.5f rounds to 9.0f in float, so q - 8 = 1, not 0
  for (bool scalar : {false, true}) {
    ScalarKernels force(scalar);
    const std::vector<uint8_t> b = ggml_quantize(GgmlType::q4_0, x);
    auto code = [&](size_t j) { return j < 16 ? (b[2 + j] & 15) : (b[2 + j - 16] >> 4); };
    CHECK(half_at(b, 0) == 0x4000);
    CHECK(code(0) == 0);
    CHECK(code(1) == 15);
    for (size_t i = 0; i < std::size(xs); ++i) {
      CAPTURE(xs[i]);
      CHECK(int(code(2 + i)) - 8 == q_minus_8[i]);
    }
    CHECK(code(8) == 9);
    CHECK(code(20) == 8);
  }
  // first of equal magnitudes wins: +16 before -16 gives d = -2
  x[0] = 16.0f;
  x[1] = -16.0f;
  CHECK(half_at(ggml_quantize(GgmlType::q4_0, x), 0) == 0xC000);
  // all zero (even -0): max stays +0, d = +0 / -8 = -0 (fp16 0x8000), every code 8
  std::vector<float> z(32, 0.0f);
  z[5] = -0.0f;
  for (bool scalar : {false, true}) {
    ScalarKernels force(scalar);
    CHECK(hex_of(ggml_quantize(GgmlType::q4_0, z)) == "00 80 88 88 88 88 88 88 88 88 88 88 88 88 88 88 88 88");
  }
}

TEST_CASE("ggml Q4_1: semantics C9 block bytes and the half-up rule") {
  const std::vector<uint8_t> b = ggml_quantize(GgmlType::q4_1, ramp_block());
  // d = 31/15 = 2.0666666 -> fp16 0x4022, m = -16 -> 0xCC00, q = [0, 0, 1, 1, ..., 15, 15]
  CHECK(hex_of(b) == "22 40 00 cc 80 80 91 91 a2 a2 b3 b3 c4 c4 d5 d5 e6 e6 f7 f7");
  for (size_t j = 0; j < 32; ++j) {
    const int q = j < 16 ? (b[4 + j] & 15) : (b[4 + j - 16] >> 4);
    CHECK(q == int(j / 2));
  }
  // min 0, max 15: d = 1, id = 1, q = trunc(x + 0.5f)
  std::vector<float> x(32, 0.0f);
  x[1] = 15.0f;
  x[2] = 2.5f;         // -> 3 (half up; half-even would give 2)
  x[3] = 3.5f;         // -> 4
  x[4] = 0.49999997f;  // + 0.5f rounds to 1.0f in float -> 1
  x[5] = 0.4999999f;   // -> 0
  const std::vector<uint8_t> c = ggml_quantize(GgmlType::q4_1, x);
  CHECK(half_at(c, 0) == 0x3C00);
  CHECK(half_at(c, 2) == 0x0000);
  CHECK((c[4 + 1] & 15) == 15);
  CHECK((c[4 + 2] & 15) == 3);
  CHECK((c[4 + 3] & 15) == 4);
  CHECK((c[4 + 4] & 15) == 1);
  CHECK((c[4 + 5] & 15) == 0);
  const std::vector<float> y = dequantized(GgmlType::q4_1, c, 32);
  CHECK(y[2] == 3.0f);
}

TEST_CASE("ggml Q5_0 and Q5_1: fifth bits in the little-endian qh word") {
  // Q5_0: max -16 -> d = 1 (0x3C00), q = trunc(x + 16.5f) = j; low nibbles j | (j + 16) << 4 and the
  // fifth bit set exactly for elements 16..31 -> qh = 0xFFFF0000 -> bytes 00 00 ff ff
  CHECK(hex_of(ggml_quantize(GgmlType::q5_0, ramp_block())) ==
        "00 3c 00 00 ff ff 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff");
  // Q5_1: d = 31 / 31 = 1, m = -16, q = (uint8_t)(x + 16 + 0.5f) = j
  CHECK(hex_of(ggml_quantize(GgmlType::q5_1, ramp_block())) ==
        "00 3c 00 cc 00 00 ff ff 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff");
  const std::vector<float> y0 = dequantized(GgmlType::q5_0, ggml_quantize(GgmlType::q5_0, ramp_block()), 32);
  const std::vector<float> y1 = dequantized(GgmlType::q5_1, ggml_quantize(GgmlType::q5_1, ramp_block()), 32);
  CHECK(y0 == ramp_block());
  CHECK(y1 == ramp_block());
  // half up: max 16 first -> d = -1, id = -1: x = -2.5 -> 2.5 + 16.5 = 19 -> q - 16 = 3
  std::vector<float> x(32, 0.0f);
  x[0] = 16.0f;
  x[1] = -2.5f;
  x[2] = 2.5f;  // -> -2.5 + 16.5 = 14 -> q - 16 = -2
  const std::vector<uint8_t> b = ggml_quantize(GgmlType::q5_0, x);
  CHECK(half_at(b, 0) == 0xBC00);
  CHECK((b[6 + 1] & 15) == 3);   // 19 & 15, fifth bit in qh bit 1
  CHECK((b[2] >> 1 & 1) == 1);
  CHECK((b[6 + 2] & 15) == 14);  // 14: no fifth bit
  CHECK((b[2] >> 2 & 1) == 0);
}

// ---- K-quants -----------------------------------------------------------------------------------

TEST_CASE("ggml K-quants: nearest_int rounds half to even through the 1.5 x 2^23 trick") {
  using ggml_element::nearest_int;
  CHECK(nearest_int(0.5f) == 0);
  CHECK(nearest_int(1.5f) == 2);
  CHECK(nearest_int(2.5f) == 2);
  CHECK(nearest_int(-0.5f) == 0);
  CHECK(nearest_int(-1.5f) == -2);
  CHECK(nearest_int(-2.5f) == -2);
  CHECK(nearest_int(0.49999997f) == 0);
  CHECK(nearest_int(62.5f) == 62);
  CHECK(nearest_int(63.5f) == 64);
  CHECK(nearest_int(-31.7f) == -32);
  CHECK(nearest_int(4194303.0f) == 4194303);
  CHECK(nearest_int(-4194303.0f) == -4194303);
  // outside its range the formula is still what a release build computes
  CHECK(nearest_int(std::numeric_limits<float>::infinity()) == -4194304);
}

TEST_CASE("ggml K-quants: final codes are round-half-even of x over the decoded scales") {
  // Q6_K: y = d * sc * (q - 32); the code is nearest_int(x / (d * sc)) clamped to [-32, 31].
  // Q4_K: y = d * sc * q - dmin * m; the code is nearest_int((x + dmin * m) / (d * sc)) in [0, 15].
  // Both recomputed here from the stored bytes, with inputs on a grid that produces exact ties.
  Rng rng(7);
  int ties_q6 = 0, ties_q4 = 0;
  for (int row = 0; row < 64; ++row) {
    std::vector<float> x(256);
    for (auto& v : x) v = float(int(rng.next() % 257) - 128) * 0x1p-6f;
    x[size_t(rng.next() % 256)] = (row % 2 ? 2.0f : -2.0f);
    {
      const std::vector<uint8_t> b = ggml_quantize(GgmlType::q6_k, x);
      const float d = ggml_fp16_to_fp32(half_at(b, 208));
      for (size_t e = 0; e < 256; ++e) {
        const float ds = d * float(int8_t(b[192 + e / 16]));
        if (ds == 0.0f) continue;
        const size_t h = e / 128, r = e % 128, l = r % 32, g = r / 32;
        const int low = (g % 2 == 0 ? b[64 * h + l] : b[64 * h + 32 + l]);
        const int low4 = g < 2 ? (low & 15) : (low >> 4);
        const int q = (low4 | (((b[128 + 32 * h + l] >> (2 * g)) & 3) << 4)) - 32;
        const float t = x[e] / ds;
        if (t - std::floor(t) == 0.5f && std::fabs(t) < 31) ++ties_q6;
        const int expect = std::max(-32, std::min(31, int(std::nearbyint(t))));
        REQUIRE(q == expect);
      }
    }
    {
      const std::vector<uint8_t> b = ggml_quantize(GgmlType::q4_k, x);
      const float d = ggml_fp16_to_fp32(half_at(b, 0)), dmin = ggml_fp16_to_fp32(half_at(b, 2));
      const uint8_t* s = b.data() + 4;
      for (size_t e = 0; e < 256; ++e) {
        const size_t j = e / 32;
        const int sc = j < 4 ? (s[j] & 63) : ((s[j + 4] & 15) | ((s[j - 4] >> 6) << 4));
        const int m = j < 4 ? (s[j + 4] & 63) : ((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
        const float ds = d * float(sc);
        if (ds == 0.0f) continue;
        const uint8_t byte = b[16 + 32 * (e / 64) + e % 32];
        const int q = e % 64 < 32 ? (byte & 15) : (byte >> 4);
        const float t = (x[e] + dmin * float(m)) / ds;
        if (t - std::floor(t) == 0.5f && t > 0 && t < 15) ++ties_q4;
        REQUIRE(q == std::max(0, std::min(15, int(std::nearbyint(t)))));
      }
    }
  }
  MESSAGE("exact ties seen: Q6_K " << ties_q6 << ", Q4_K " << ties_q4);
}

TEST_CASE("ggml Q6_K: an exact tie in the final rounding goes to even") {
  // Every sub-block starts with -32c and holds multiples of c = 2^-4, so its least-squares scale is
  // exactly c, d = fp16(c / -128) and every sub-scale -128: d * sc == c. Sub-block 3 also holds
  // 2.5c, 1.5c and 3.5c; its own scale ends up a hair below c, so its sub-scale is still -128, and
  // the final x / (d * sc) is exactly 2.5, 1.5, 3.5: nearest_int gives 2, 2, 4 (half away: 3, 2, 4).
  const float c = 0x1p-4f;
  Rng rng(99);
  std::vector<float> x(256);
  for (size_t e = 0; e < 256; ++e) x[e] = e % 16 == 0 ? -32 * c : float(int(rng.next() % 64) - 32) * c;
  x[48 + 5] = 2.5f * c;
  x[48 + 6] = 1.5f * c;
  x[48 + 7] = 3.5f * c;
  const std::vector<uint8_t> b = ggml_quantize(GgmlType::q6_k, x);
  CHECK(half_at(b, 208) == ggml_fp32_to_fp16(-c / 128));
  for (size_t j = 0; j < 16; ++j) CHECK(int8_t(b[192 + j]) == -128);
  const std::vector<float> y = dequantized(GgmlType::q6_k, b, 256);
  CHECK(y[48 + 5] == 2 * c);
  CHECK(y[48 + 6] == 2 * c);
  CHECK(y[48 + 7] == 4 * c);
  for (size_t e = 0; e < 256; ++e) {
    if (e < 53 || e > 55) CHECK(y[e] == x[e]);
  }
}

TEST_CASE("ggml K-quants: zero super-blocks") {
  const std::vector<float> z(256, 0.0f);
  // Q6_K: every sub-scale below GROUP_MAX_EPS -> the whole block is zero bytes
  CHECK(hex_of(ggml_quantize(GgmlType::q6_k, z)) == hex_of(std::vector<uint8_t>(210, 0)));
  for (GgmlType t : {GgmlType::q2_k, GgmlType::q3_k, GgmlType::q4_k, GgmlType::q5_k, GgmlType::q6_k}) {
    CAPTURE(ggml_type_name(t));
    const std::vector<float> y = dequantized(t, ggml_quantize(t, z), 256);
    for (float v : y) REQUIRE(v == 0.0f);
  }
}

// ---- IQ4_NL -------------------------------------------------------------------------------------

TEST_CASE("ggml IQ4_NL: the table (semantics C13) and ties to the upper level") {
  const int table[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
  // d = 1 and nibbles 0..15 decode to the table itself
  std::vector<uint8_t> b(18, 0);
  b[1] = 0x3C;
  for (int j = 0; j < 16; ++j) b[size_t(2 + j)] = uint8_t(j | ((15 - j) << 4));
  const std::vector<float> y = dequantized(GgmlType::iq4_nl, b, 32);
  for (int j = 0; j < 16; ++j) {
    CHECK(y[size_t(j)] == float(table[j]));
    CHECK(y[size_t(16 + j)] == float(table[15 - j]));
  }
  // With the first max -127, d = -127 / -127 = 1 so x / d = x: a value exactly between two levels
  // goes to the upper one (best_index_int8's x - lower < upper - x is strict).
  std::vector<float> x(32, 1.0f);
  x[0] = -127.0f;
  for (int k = 0; k < 15; ++k) x[size_t(1 + k)] = (float(table[k]) + float(table[k + 1])) / 2;  // 15 midpoints
  x[16] = -115.4f;  // just above the first midpoint -> still upper
  x[17] = -115.6f;  // just below -> lower
  x[18] = 0.0f;  // nearest level is 1 (index 8)
  const std::vector<uint8_t> q = ggml_quantize(GgmlType::iq4_nl, x);
  auto code = [&](size_t j) { return j < 16 ? (q[2 + j] & 15) : (q[2 + j - 16] >> 4); };
  CHECK(code(0) == 0);
  for (int k = 0; k < 15; ++k) {
    CAPTURE(x[size_t(1 + k)]);
    CHECK(code(size_t(1 + k)) == k + 1);
  }
  CHECK(code(16) == 1);
  CHECK(code(17) == 0);
  CHECK(code(18) == 8);
}

TEST_CASE("ggml IQ4_NL: C7 block bytes / the refit scale / zero blocks") {
  // d = max / -127 picks the codes; the stored d is the weighted refit sum(x^2 q x) / sum(x^2 q^2)
  // (bytes from ggml's quantize_row_iq4_nl_ref).
  CHECK(hex_of(ggml_quantize(GgmlType::iq4_nl, ramp_block())) ==
        "fa 2f 80 90 91 a1 b1 b2 c2 c3 d3 d4 e4 e5 e5 f6 f7 f7");
  // An all-zero block: d = 0, and ggml packs codes it never wrote for that block (the previous
  // block's, or uninitialised memory for the first). We start from zero codes and carry over.
  std::vector<float> x(64, 0.0f);
  CHECK(hex_of(ggml_quantize(GgmlType::iq4_nl, x)) == hex_of(std::vector<uint8_t>(36, 0)));
  for (size_t j = 0; j < 32; ++j) x[j] = float(int(j) - 16);
  const std::vector<uint8_t> b = ggml_quantize(GgmlType::iq4_nl, x);
  CHECK(half_at(b, 18) == 0);
  CHECK(std::vector<uint8_t>(b.begin() + 20, b.end()) == std::vector<uint8_t>(b.begin() + 2, b.begin() + 18));
  const std::vector<float> y = dequantized(GgmlType::iq4_nl, b, 64);
  for (size_t j = 32; j < 64; ++j) CHECK(y[j] == 0.0f);
}

// ---- MXFP4 --------------------------------------------------------------------------------------

TEST_CASE("ggml MXFP4: FLOOR shared exponent (semantics C17) and glibc's log2f rounding") {
  auto exponent_of = [](float amax) {
    std::vector<float> x(32, 0.0f);
    x[9] = -amax;
    return int(ggml_quantize(GgmlType::mxfp4, x)[0]);
  };
  CHECK(exponent_of(6.0f) == 127);  // X = 1
  CHECK(exponent_of(7.0f) == 127);
  CHECK(exponent_of(8.0f) == 128);  // X = 2
  CHECK(exponent_of(0.3f) == 123);  // X = 2^-4
  CHECK(exponent_of(16.0f) == 129);
  CHECK(exponent_of(0.0f) == 0);    // all zero: e = 0
  // floorf(log2f(a)) with a correctly rounded log2f: just below 8 the log rounds up to 3.0
  CHECK(exponent_of(0x1.fffffep2f) == 128);  // 7.9999995: exact floor would give 127
  CHECK(exponent_of(0x1.fffffcp2f) == 127);  // two ulps lower: 2.99999983 stays below 3
  CHECK(exponent_of(0x1.fffffep0f) == 125);   // just below 2: log2 = 0.99999991 stays below 1
  CHECK(exponent_of(0x1.fffffep-1f) == 124);  // log2 = -8.6e-8 stays below 0
  CHECK(exponent_of(0x1.fffffep-5f) == 121);  // -4 - 8.6e-8 rounds to -4.0: exact floor gives 120
  CHECK(exponent_of(0x1p-125f) == 0);
  CHECK(exponent_of(0x1p-126f) == 255);  // floor - 2 + 127 = -1: the uint8 cast wraps (x86-64)
  CHECK(exponent_of(0x1p-149f) == 232);
  CHECK(exponent_of(0x1.fffffep127f) == 253);
  // 7 with X = 1 saturates to the largest code 6 (index 7)
  std::vector<float> x(32, 0.0f);
  x[0] = 7.0f;
  const std::vector<uint8_t> b = ggml_quantize(GgmlType::mxfp4, x);
  CHECK((b[1] & 15) == 7);
  CHECK(dequantized(GgmlType::mxfp4, b, 32)[0] == 6.0f);
  // C7's block: amax 16 -> e = 129 (X = 4)
  CHECK(hex_of(ggml_quantize(GgmlType::mxfp4, ramp_block())) ==
        "81 0e 0e 1d 1d 2d 2d 3c 3c 4c 4b 4b 5a 5a 59 59 60");
}

TEST_CASE("ggml MXFP4: ties go to the lower index (semantics C18)") {
  const float xs[] = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f, 6.5f, 7.0f, -0.75f, -5.0f, -0.25f, -0.0f};
  const float want[] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f, 6.0f, -0.5f, -4.0f, 0.0f, 0.0f};
  const int codes[] = {0, 1, 2, 3, 4, 5, 6, 7, 7, 9, 14, 0, 0};
  std::vector<float> x(32, 0.0f);
  x[31] = 6.0f;  // amax 7 and 6 both give X = 1 (e = 127, d = 0.5)
  for (size_t i = 0; i < std::size(xs); ++i) x[i] = xs[i];
  for (bool scalar : {false, true}) {
    ScalarKernels force(scalar);
    const std::vector<uint8_t> b = ggml_quantize(GgmlType::mxfp4, x);
    CHECK(b[0] == 127);
    const std::vector<float> y = dequantized(GgmlType::mxfp4, b, 32);
    for (size_t i = 0; i < std::size(xs); ++i) {
      CAPTURE(xs[i]);
      CHECK((i < 16 ? (b[1 + i] & 15) : (b[1 + i - 16] >> 4)) == codes[i]);
      CHECK(y[i] == want[i]);
    }
  }
}

// ---- layouts: any bytes decode as documented -----------------------------------------------------

namespace {

// Element e of a block, decoded straight from docs/GGML_FORMATS.md (independent of the library's
// loops). Float operations in ggml's order.
float doc_decode(GgmlType t, const uint8_t* b, size_t e) {
  auto h = [&](size_t at) { return ggml_fp16_to_fp32(uint16_t(b[at] | (b[at + 1] << 8))); };
  auto nib32 = [&](size_t at) { return e < 16 ? (b[at + e] & 15) : (b[at + e - 16] >> 4); };
  auto bit5 = [&](size_t at) {
    const uint32_t qh = uint32_t(b[at]) | uint32_t(b[at + 1]) << 8 | uint32_t(b[at + 2]) << 16 | uint32_t(b[at + 3]) << 24;
    return int((qh >> e) & 1) << 4;
  };
  auto k4 = [&](size_t j, int* sc, int* m) {
    const uint8_t* s = b + 4;
    *sc = j < 4 ? (s[j] & 63) : ((s[j + 4] & 15) | ((s[j - 4] >> 6) << 4));
    *m = j < 4 ? (s[j + 4] & 63) : ((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  };
  static const int8_t iq4[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
  static const int8_t fp4[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
  switch (t) {
    case GgmlType::q8_0: return float(int8_t(b[2 + e])) * h(0);
    case GgmlType::q8_1: return float(int8_t(b[4 + e])) * h(0);
    case GgmlType::q4_0: return float(nib32(2) - 8) * h(0);
    case GgmlType::q4_1: return float(nib32(4)) * h(0) + h(2);
    case GgmlType::q5_0: return float((nib32(6) | bit5(2)) - 16) * h(0);
    case GgmlType::q5_1: return float(nib32(8) | bit5(4)) * h(0) + h(2);
    case GgmlType::iq4_nl: return h(0) * float(iq4[nib32(2)]);
    case GgmlType::mxfp4: {
      const uint8_t x = b[0];
      const float d = float_from_bits(x < 2 ? (0x00200000u << x) : (uint32_t(x - 1) << 23));
      return float(fp4[nib32(1)]) * d;
    }
    case GgmlType::q2_k: {
      const int sc = b[e / 16];
      const int q = (b[16 + 32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
      return h(80) * float(sc & 15) * float(q) - h(82) * float(sc >> 4);
    }
    case GgmlType::q3_k: {
      const size_t j = e / 16;
      const uint8_t* s = b + 96;
      const int low = j < 8 ? (s[j] & 15) : (s[j - 8] >> 4);
      const int sc = (low | (((s[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32;
      const int q2 = (b[32 + 32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
      const int hi = (b[e % 32] >> (e / 32)) & 1;
      return h(108) * float(sc) * float(q2 + 4 * hi - 4);
    }
    case GgmlType::q4_k: {
      int sc, m;
      k4(e / 32, &sc, &m);
      const uint8_t byte = b[16 + 32 * (e / 64) + e % 32];
      return h(0) * float(sc) * float(e % 64 < 32 ? (byte & 15) : (byte >> 4)) - h(2) * float(m);
    }
    case GgmlType::q5_k: {
      int sc, m;
      k4(e / 32, &sc, &m);
      const uint8_t byte = b[48 + 32 * (e / 64) + e % 32];
      const int q = (e % 64 < 32 ? (byte & 15) : (byte >> 4)) + 16 * ((b[16 + e % 32] >> (e / 32)) & 1);
      return h(0) * float(sc) * float(q) - h(2) * float(m);
    }
    case GgmlType::q6_k: {
      const size_t hh = e / 128, r = e % 128, l = r % 32, g = r / 32;
      const int low = g % 2 == 0 ? b[64 * hh + l] : b[64 * hh + 32 + l];
      const int q = ((g < 2 ? (low & 15) : (low >> 4)) | (((b[128 + 32 * hh + l] >> (2 * g)) & 3) << 4)) - 32;
      return h(208) * float(int8_t(b[192 + e / 16])) * float(q);
    }
  }
  return 0;
}

}  // namespace

TEST_CASE("ggml layouts: random bytes decode element by element as documented") {
  for (GgmlType t : kGgmlTypes) {
    CAPTURE(ggml_type_name(t));
    const size_t be = ggml_block_elems(t), bb = ggml_block_bytes(t);
    for (uint32_t i = 0; i < 64; ++i) {
      std::vector<uint8_t> b(bb);
      qplay_ggml_random_bytes(0xB10C, i * 100 + uint32_t(ggml_type_id(t)), b.data(), bb);
      const std::vector<float> y = dequantized(t, b, be);
      for (size_t e = 0; e < be; ++e) {
        const float want = doc_decode(t, b.data(), e);
        if (want != want) {
          REQUIRE(y[e] != y[e]);
        } else {
          REQUIRE(bits_of(y[e]) == bits_of(want));
        }
      }
    }
  }
}

// ---- against ggml's own output --------------------------------------------------------------------

namespace {

struct RefFixture {
  std::string commit;
  uint32_t n_rows = 0, row_len = 0, bulk_rows = 0;
  uint64_t seed = 0, bytes_seed = 0;
  std::vector<float> rows;
  struct Type {
    uint32_t id = 0, row_bytes = 0;
    std::vector<uint8_t> blocks;  // n_rows * row_bytes
    uint64_t quant_digest = 0, dequant_digest = 0, random_digest = 0;
  };
  std::vector<Type> types;
};

RefFixture load_ref_fixture() {
  std::ifstream f(std::string(QPLAY_TEST_DATA) + "/ggml/ref_vectors.bin", std::ios::binary);
  REQUIRE_MESSAGE(f.good(), "missing tests/data/ggml/ref_vectors.bin (scripts/make_ggml_vectors.sh)");
  const std::vector<uint8_t> d{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  size_t at = 0;
  auto need = [&](size_t n) { REQUIRE(at + n <= d.size()); };
  auto u32 = [&] {
    need(4);
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t(d[at++]) << (8 * i);
    return v;
  };
  auto u64 = [&] {
    need(8);
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t(d[at++]) << (8 * i);
    return v;
  };
  RefFixture fx;
  need(48);
  REQUIRE(std::string(d.begin(), d.begin() + 8) == "QPGGMLV1");
  fx.commit.assign(d.begin() + 8, d.begin() + 48);
  at = 48;
  const uint32_t n_types = u32();
  fx.n_rows = u32();
  fx.row_len = u32();
  fx.bulk_rows = u32();
  fx.seed = u64();
  fx.bytes_seed = u64();
  REQUIRE(fx.row_len == QPLAY_GGML_ROW_LEN);
  for (size_t i = 0; i < size_t(fx.n_rows) * fx.row_len; ++i) fx.rows.push_back(float_from_bits(u32()));
  for (uint32_t t = 0; t < n_types; ++t) {
    RefFixture::Type ty;
    ty.id = u32();
    ty.row_bytes = u32();
    need(size_t(fx.n_rows) * ty.row_bytes);
    ty.blocks.assign(d.begin() + long(at), d.begin() + long(at + size_t(fx.n_rows) * ty.row_bytes));
    at += size_t(fx.n_rows) * ty.row_bytes;
    ty.quant_digest = u64();
    ty.dequant_digest = u64();
    ty.random_digest = u64();
    fx.types.push_back(ty);
  }
  REQUIRE(at == d.size());
  return fx;
}

}  // namespace

TEST_CASE("ggml bytes equal ggml's reference code (fixture from a real ggml build)") {
  const RefFixture fx = load_ref_fixture();
  MESSAGE("fixture made from ggml-org/ggml@" << fx.commit);
  REQUIRE(fx.types.size() == kGgmlTypes.size());
  // the generator header must reproduce the stored inputs bit for bit (C and C++ agree)
  std::vector<float> row(QPLAY_GGML_ROW_LEN);
  for (uint32_t i = 0; i < fx.n_rows; ++i) {
    qplay_ggml_row(fx.seed, i, row.data());
    for (size_t j = 0; j < row.size(); ++j) REQUIRE(bits_of(row[j]) == bits_of(fx.rows[i * fx.row_len + j]));
  }
  for (bool scalar : {false, true}) {
    ScalarKernels force(scalar);
    for (const RefFixture::Type& ty : fx.types) {
      const std::optional<GgmlType> t = ggml_type_from_id(ty.id);
      REQUIRE(t.has_value());
      CAPTURE(ggml_type_name(*t));
      CAPTURE(scalar);
      REQUIRE(ty.row_bytes == ggml_row_bytes(*t, fx.row_len));
      for (uint32_t i = 0; i < fx.n_rows; ++i) {
        const std::span<const float> in(fx.rows.data() + size_t(i) * fx.row_len, fx.row_len);
        const std::vector<uint8_t> want(ty.blocks.begin() + long(i * ty.row_bytes),
                                        ty.blocks.begin() + long((i + 1) * ty.row_bytes));
        CHECK(hex_of(ggml_quantize(*t, in)) == hex_of(want));
      }
      uint64_t hq = QPLAY_FNV1A_INIT, hd = QPLAY_FNV1A_INIT, hr = QPLAY_FNV1A_INIT;
      std::vector<float> y(fx.row_len);
      std::vector<uint8_t> rnd(ty.row_bytes);
      for (uint32_t i = 0; i < fx.bulk_rows; ++i) {
        qplay_ggml_row(fx.seed, i, row.data());
        const std::vector<uint8_t> b = ggml_quantize(*t, row);
        hq = qplay_fnv1a(hq, b.data(), b.size());
        ggml_dequantize(*t, b, y);
        hd = qplay_fnv1a_floats(hd, y.data(), y.size());
        qplay_ggml_random_bytes(fx.bytes_seed, i, rnd.data(), rnd.size());
        ggml_dequantize(*t, rnd, y);
        hr = qplay_fnv1a_floats(hr, y.data(), y.size());
      }
      CHECK(hq == ty.quant_digest);
      CHECK(hd == ty.dequant_digest);
      CHECK(hr == ty.random_digest);
    }
  }
}

// ---- round trips --------------------------------------------------------------------------------

TEST_CASE("ggml round trips: relative RMS error per type") {
  struct Bound {
    GgmlType t;
    double max_rel_rmse;  // RMS(x - y) / RMS(x) on bell-shaped rows
  };
  const Bound bounds[] = {
      {GgmlType::q8_0, 0.006}, {GgmlType::q8_1, 0.006}, {GgmlType::q4_0, 0.12}, {GgmlType::q4_1, 0.10},
      {GgmlType::q5_0, 0.06},  {GgmlType::q5_1, 0.05},  {GgmlType::q2_k, 0.45}, {GgmlType::q3_k, 0.22},
      {GgmlType::q4_k, 0.10},  {GgmlType::q5_k, 0.05},  {GgmlType::q6_k, 0.025}, {GgmlType::iq4_nl, 0.10},
      {GgmlType::mxfp4, 0.16},
  };
  Rng rng(2024);
  std::vector<float> x(4096);
  for (auto& v : x) v = bell(rng);
  for (const Bound& b : bounds) {
    CAPTURE(ggml_type_name(b.t));
    const std::vector<uint8_t> q = ggml_quantize(b.t, x);
    CHECK(q.size() == ggml_row_bytes(b.t, x.size()));
    const std::vector<float> y = dequantized(b.t, q, x.size());
    double se = 0, sx = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      se += double(x[i] - y[i]) * double(x[i] - y[i]);
      sx += double(x[i]) * double(x[i]);
    }
    const double rel = std::sqrt(se / sx);
    MESSAGE(ggml_type_name(b.t) << " relative RMSE " << rel);
    CHECK(rel < b.max_rel_rmse);
    CHECK(rel > 0);
  }
}

// ---- SIMD twins == scalar specs -----------------------------------------------------------------

#if QPLAY_HAVE_SIMD128
namespace {

using KernelFn = bool (*)(const float*, size_t, uint8_t*) noexcept;

// Blocks that stress each kernel: random, ties of every format, exact midpoints and their float
// neighbours at many exponents, zero blocks, tiny blocks (1/d overflows: the scalar fallback).
std::vector<float> stress_input(size_t nblocks, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> x(nblocks * 32);
  const float mids[] = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f, 7.0f};
  for (size_t b = 0; b < nblocks; ++b) {
    float* xb = x.data() + 32 * b;
    const int kind = int(rng.next() % 11);
    const int e = int(rng.next() % 60) - 30;
    const float scale = std::ldexp(1.0f, e);
    for (size_t j = 0; j < 32; ++j) {
      switch (kind) {
        case 0: xb[j] = bell(rng) * scale; break;
        case 1: xb[j] = float(int(rng.next() % 255) - 127) * 0.5f * scale; break;      // Q8_0 ties
        case 2: xb[j] = float(int(rng.next() % 33) - 16) * 0.5f * scale; break;       // Q4_0 ties
        case 3: {                                                                         // MXFP4 midpoints +-1 ulp
          float v = mids[rng.next() % 8] * scale;
          const int nudge = int(rng.next() % 3) - 1;
          if (nudge) v = std::nextafter(v, nudge > 0 ? 1e30f : 0.0f);
          xb[j] = rng.next() % 2 ? -v : v;
          break;
        }
        case 4: xb[j] = 0.0f; break;
        case 5: xb[j] = float(int(rng.next() % 2001) - 1000) * 0x1p-140f; break;       // subnormal
        case 6: {  // (one draw per statement: operands of * are unsequenced)
          const float k = float(int(rng.next() % 17) - 8);
          xb[j] = k * std::ldexp(1.0f, int(rng.next() % 250) - 140);
          break;
        }
        case 8: {  // one-signed blocks with zeros of both signs: the sign of a zero min / max
          const float v = float(int(rng.next() % 31)) * scale;
          xb[j] = rng.next() % 4 ? (e % 2 ? v : -v) : (rng.next() % 2 ? 0.0f : -0.0f);
          break;
        }
        case 9: {  // IQ4_NL: midpoints of its levels (and neighbours) times d = 127 / -127
          const size_t i = rng.next() % 15;
          const float mid = (float(ggml_element::kIq4nlValues[i]) + float(ggml_element::kIq4nlValues[i + 1])) * 0.5f;
          const int nudge = int(rng.next() % 3) - 1;
          float v = mid * scale;
          if (nudge) v = std::nextafter(v, nudge > 0 ? 1e30f : -1e30f);
          xb[j] = v;
          break;
        }
        case 10: xb[j] = float(int(rng.next() % 63) - 31) * 0.5f * scale; break;      // Q5 ties
        default: {
          const float u = rng.uniform(-1.0f, 1.0f);
          xb[j] = u * std::ldexp(1.0f, int(rng.next() % 200) - 100);
          break;
        }
      }
    }
    if (kind == 3) xb[rng.next() % 32] = (rng.next() % 2 ? 6.0f : -7.5f) * scale;  // X = scale
    if (kind == 1) xb[rng.next() % 32] = 127.0f * scale;                            // d = scale
    if (kind == 2) xb[rng.next() % 32] = -8.0f * scale;
    if (kind == 9) xb[rng.next() % 32] = -127.0f * scale;                           // d = scale
    if (kind == 10) xb[rng.next() % 32] = -16.0f * scale;
  }
  return x;
}

void check_twins(const char* name, KernelFn scalar_fn, KernelFn simd_fn, size_t block_bytes) {
  CAPTURE(name);
  for (size_t nblocks = 1; nblocks <= 33; ++nblocks) {
    for (size_t offset = 0; offset < 4; ++offset) {
      CAPTURE(nblocks);
      CAPTURE(offset);
      const std::vector<float> src = stress_input(nblocks, nblocks * 131 + offset);
      Guarded<float> in = guarded_copy(src, offset);  // misaligned start
      const size_t n_out = nblocks * block_bytes;
      Guarded<uint8_t> a(n_out, 0), b(n_out, 0);  // sentinels around the blocks
      const auto bytes = [](const Guarded<uint8_t>& g) { return std::vector<uint8_t>(g.data(), g.data() + g.size()); };
      REQUIRE(scalar_fn(in.data(), nblocks, a.data()));
      REQUIRE(simd_fn(in.data(), nblocks, b.data()));
      REQUIRE(hex_of(bytes(a)) == hex_of(bytes(b)));
      REQUIRE(a.guards_intact());
      REQUIRE(b.guards_intact());
      // a NaN or an inf anywhere: both twins say so (their bytes are then unspecified)
      for (float bad : {kNaN, kInf, -kInf}) {
        const size_t at = (nblocks * 7 + offset * 13) % src.size();
        const float keep = in[at];
        in[at] = bad;
        CHECK_FALSE(scalar_fn(in.data(), nblocks, a.data()));
        CHECK_FALSE(simd_fn(in.data(), nblocks, b.data()));
        REQUIRE(a.guards_intact());
        REQUIRE(b.guards_intact());
        in[at] = keep;
      }
    }
  }
}

}  // namespace

TEST_CASE("ggml simd128 == scalar: every 32-block quantize kernel over 1..33 blocks") {
  // Every kernel of the X-macro list, by name, with its block size from the public type table.
#define QPLAY_CHECK_TWINS(type)                                                                \
  check_twins(#type, &kernels::scalar::ggml_quantize_##type, &kernels::simd128::ggml_quantize_##type, \
              ggml_block_bytes(parse_ggml_type(#type)));
  QPLAY_GGML_KERNELS(QPLAY_CHECK_TWINS)
#undef QPLAY_CHECK_TWINS
}

TEST_CASE("ggml simd128 == scalar: MXFP4 thresholds equal the argmin at every exponent") {
  // For every shared exponent: each midpoint m * d and its float neighbours, both signs.
  const float mids[] = {0.5f, 1.5f, 2.5f, 3.5f, 5.0f, 7.0f, 10.0f, 12.0f, 14.0f};
  std::vector<float> x;
  for (int E = -125; E <= 127; ++E) {
    const float d = std::ldexp(1.0f, E - 3);
    std::vector<float> blk;
    blk.push_back(std::ldexp(1.0f, E) * 1.5f);  // amax sets floor(log2) = E
    for (float m : mids) {
      const float v = m * d;
      for (float w : {std::nextafter(v, 0.0f), v, std::nextafter(v, 1e38f)}) {
        if (std::fabs(w) < std::ldexp(1.0f, E + 1)) {
          blk.push_back(w);
          blk.push_back(-w);
        }
      }
    }
    blk.resize(((blk.size() + 31) / 32) * 32, 0.0f);
    for (size_t i = 32; i < blk.size(); i += 32) blk[i] = blk[0];  // every block keeps the amax
    x.insert(x.end(), blk.begin(), blk.end());
  }
  const size_t nblocks = x.size() / 32;
  std::vector<uint8_t> a(nblocks * 17), b(nblocks * 17);
  CHECK(kernels::scalar::ggml_quantize_mxfp4(x.data(), nblocks, a.data()));
  CHECK(kernels::simd128::ggml_quantize_mxfp4(x.data(), nblocks, b.data()));
  CHECK(hex_of(a) == hex_of(b));
}
#endif
