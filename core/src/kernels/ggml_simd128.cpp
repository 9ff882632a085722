// The SIMD twins of the hot ggml quantizers (wasm_simd128 intrinsics; natively through SIMDe, which
// reproduces the wasm semantics). They must equal ggml_scalar.cpp bit for bit: the block's scale is
// computed by the same scalar expressions, and only the per-element work is vectorised. A block whose
// scale would push the vector conversion outside the range where it agrees with C's cast (a tiny
// block whose 1/d overflowed) is handed to the scalar twin whole.
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#else
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/wasm/simd128.h>
#endif

#include <cfloat>
#include <cmath>

#include "ggml_element.hpp"
#include "ggml_kernels.hpp"

namespace qplay::kernels::simd128 {

using namespace qplay::ggml_element;

namespace {

constexpr size_t kVecs = kQK / 4;  // 8 vectors of 4 floats per block

struct Block {
  v128_t x[kVecs];
  v128_t a[kVecs];  // |x|
};

inline void load_block(const float* x, Block* blk) {
  for (size_t k = 0; k < kVecs; ++k) {
    blk->x[k] = wasm_v128_load(x + 4 * k);
    blk->a[k] = wasm_f32x4_abs(blk->x[k]);
  }
}

// max |x| of the block, as an integer max of the |x| bit patterns: for non-negative floats the
// patterns order like the values, and inf and NaN patterns sit above every finite one, so a NaN or
// inf anywhere gives a non-finite amax (the kernels' finiteness check). One i32x4.max per vector,
// where f32x4.max costs V8 about eight x86 instructions for its NaN and signed-zero rules.
inline float block_amax(const Block& blk) {
  v128_t m = blk.a[0];
  for (size_t k = 1; k < kVecs; ++k) m = wasm_i32x4_max(m, blk.a[k]);
  m = wasm_i32x4_max(m, wasm_i32x4_shuffle(m, m, 2, 3, 0, 1));
  m = wasm_i32x4_max(m, wasm_i32x4_shuffle(m, m, 1, 0, 3, 2));
  return float_of(uint32_t(wasm_i32x4_extract_lane(m, 0)));
}

// The signed value of largest magnitude (the first one on ties; +0 for an all-zero block), given
// the block's amax: one 32-bit mask of the lanes equal to amax, then its lowest bit (no
// data-dependent branch per element).
inline float block_signed_max(const Block& blk, const float* x, float amax) {
  if (!(amax > 0.0f && amax <= FLT_MAX)) return 0.0f;
  const v128_t vamax = wasm_f32x4_splat(amax);
  uint32_t hits = 0;
  for (size_t k = 0; k < kVecs; ++k) {
    hits |= uint32_t(wasm_i32x4_bitmask(wasm_f32x4_eq(blk.a[k], vamax))) << (4 * k);
  }
  return x[__builtin_ctz(hits)];  // hits != 0: amax is one of the |x|
}

// The first element equal to v (v is one of the block's values), so that of +0 and -0 the sign
// the scalar twin's strict-comparison scan keeps comes out.
inline float first_equal(const Block& blk, const float* x, float v) {
  const v128_t vv = wasm_f32x4_splat(v);
  uint32_t hits = 0;
  for (size_t k = 0; k < kVecs; ++k) hits |= uint32_t(wasm_i32x4_bitmask(wasm_f32x4_eq(blk.x[k], vv))) << (4 * k);
  return x[__builtin_ctz(hits)];
}

// Float bits -> an int32 that orders like the float (-0 just below +0; -NaN below -inf, +NaN above
// +inf); the map is its own inverse.
inline v128_t ordered(v128_t bits) {
  return wasm_v128_xor(bits, wasm_u32x4_shr(wasm_i32x4_shr(bits, 31), 1));
}

// min and max of a finite block as the scalar twin's strict scan finds them, by integer min/max
// of the ordered bits. They give the same values except for the sign of a zero result (-0 orders
// below +0, the scan keeps the first zero it meets); a zero result is therefore looked up. Returns
// false when some x is NaN or inf (they order beyond +-FLT_MAX).
inline bool block_min_max(const Block& blk, const float* x, float* mn, float* mx) {
  v128_t lo = ordered(blk.x[0]), hi = lo;
  for (size_t k = 1; k < kVecs; ++k) {
    const v128_t o = ordered(blk.x[k]);
    lo = wasm_i32x4_min(lo, o);
    hi = wasm_i32x4_max(hi, o);
  }
  lo = wasm_i32x4_min(lo, wasm_i32x4_shuffle(lo, lo, 2, 3, 0, 1));
  lo = wasm_i32x4_min(lo, wasm_i32x4_shuffle(lo, lo, 1, 0, 3, 2));
  hi = wasm_i32x4_max(hi, wasm_i32x4_shuffle(hi, hi, 2, 3, 0, 1));
  hi = wasm_i32x4_max(hi, wasm_i32x4_shuffle(hi, hi, 1, 0, 3, 2));
  *mn = float_of(uint32_t(wasm_i32x4_extract_lane(ordered(lo), 0)));
  *mx = float_of(uint32_t(wasm_i32x4_extract_lane(ordered(hi), 0)));
  if (!(std::fabs(*mn) <= FLT_MAX && std::fabs(*mx) <= FLT_MAX)) return false;
  if (*mn == 0.0f) *mn = first_equal(blk, x, 0.0f);
  if (*mx == 0.0f) *mx = first_equal(blk, x, 0.0f);
  return true;
}

// C's roundf on four floats, as int32: trunc(t + copysign(0.5f - 2^-25, t)). The largest float
// below 0.5 (not 0.5) keeps values just under a .5 from being pushed over it by the add's own
// rounding: for |t| < 2^23 the sum rounds up to the next integer exactly when |t|'s fraction is
// >= 0.5 (ties away from zero, like roundf; f32x4.nearest would round them to even), and larger
// |t| are integers already (checked against roundf over every float of magnitude up to 130, more
// than the callers' 127.5). The callers keep |t| where the int32 conversion is exact.
inline v128_t round_away_i32(v128_t t) {
  const v128_t half_down = wasm_f32x4_splat(0.49999997f);
  const v128_t sign = wasm_v128_and(t, wasm_i32x4_splat(int32_t(0x80000000u)));
  return wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_add(t, wasm_v128_or(half_down, sign)));
}

// floor(t) as int32 for 0 <= t < 2^23: f32x4.floor, then the 2^23 magic-number conversion (exact
// for integers below 2^23). Three instructions where i32x4.trunc_sat_f32x4 costs V8 about seven;
// equal to C's truncation for the non-negative t the callers guarantee.
inline v128_t floor_small_i32(v128_t t) {
  const v128_t magic = wasm_f32x4_splat(8388608.0f);
  return wasm_i32x4_sub(wasm_f32x4_add(wasm_f32x4_floor(t), magic), magic);
}

// 16 i32 lanes (q[0..3]) holding 0..255 -> 16 bytes.
inline v128_t narrow_u8(const v128_t* q) {
  return wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(q[0], q[1]),
                                 wasm_i16x8_narrow_i32x4(q[2], q[3]));
}

// Nibble packing of ggml's 32-blocks: byte j = code[j] | code[j + 16] << 4 (codes 0..15).
inline void store_nibbles(const v128_t* codes, uint8_t* out) {
  const v128_t lo = narrow_u8(codes);
  const v128_t hi = narrow_u8(codes + 4);
  wasm_v128_store(out, wasm_v128_or(lo, wasm_i8x16_shl(hi, 4)));
}

// Q5_x: codes 0..32 -> the low nibbles packed as Q4_0's at qs (element j low, j + 16 high), and
// bit 4 of element j as bit j of the little-endian qh word (i8x16.bitmask after moving bit 4 to the
// sign bit).
inline void store_q5(const v128_t* codes, uint8_t* qh_at, uint8_t* qs) {
  const v128_t lo = narrow_u8(codes), hi = narrow_u8(codes + 4);
  const v128_t nib = wasm_i8x16_splat(0x0F);
  wasm_v128_store(qs, wasm_v128_or(wasm_v128_and(lo, nib), wasm_i8x16_shl(wasm_v128_and(hi, nib), 4)));
  const uint32_t qh = uint32_t(wasm_i8x16_bitmask(wasm_i8x16_shl(lo, 3))) |
                      uint32_t(wasm_i8x16_bitmask(wasm_i8x16_shl(hi, 3))) << 16;
  store_u32le(qh_at, qh);
}

// Q8_0's codes of a block: roundf(x * id), saturated to int8 (the callers make sure that no code
// leaves [-127, 127], where this equals the scalar cast).
inline void q8_codes(const Block& blk, float id, v128_t* q) {
  const v128_t vid = wasm_f32x4_splat(id);
  for (size_t k = 0; k < kVecs; ++k) q[k] = round_away_i32(wasm_f32x4_mul(blk.x[k], vid));
}

inline void store_i8(const v128_t* q, uint8_t* out) {
  for (size_t h = 0; h < 2; ++h) {
    const v128_t* qh = q + 4 * h;
    wasm_v128_store(out + 16 * h, wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(qh[0], qh[1]),
                                                          wasm_i16x8_narrow_i32x4(qh[2], qh[3])));
  }
}

}  // namespace

bool ggml_quantize_q8_0(const float* x, size_t nblocks, uint8_t* out) noexcept {
  bool finite = true;
  for (size_t b = 0; b < nblocks; ++b, x += kQK, out += kQ8_0Bytes) {
    Block blk;
    load_block(x, &blk);
    const float amax = block_amax(blk);
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    // |x * id| <= amax * id: when that is below 127.5 every code is within [-127, 127], where the
    // saturating narrowing equals the scalar cast. Otherwise (id overflowed, or a NaN / inf made
    // amax non-finite) the scalar twin does the block and the finiteness check.
    if (!(amax * id < 127.5f)) {
      finite &= scalar::ggml_quantize_q8_0(x, 1, out);
      continue;
    }
    store_fp16(out, d);
    v128_t q[kVecs];
    q8_codes(blk, id, q);
    store_i8(q, out + 2);
  }
  return finite;
}

// Q8_1: Q8_0's codes, and s = fp16(d * their sum) (an exact integer sum, so any order).
bool ggml_quantize_q8_1(const float* x, size_t nblocks, uint8_t* out) noexcept {
  bool finite = true;
  for (size_t b = 0; b < nblocks; ++b, x += kQK, out += kQ8_1Bytes) {
    Block blk;
    load_block(x, &blk);
    const float amax = block_amax(blk);
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    if (!(amax * id < 127.5f)) {  // as in Q8_0
      finite &= scalar::ggml_quantize_q8_1(x, 1, out);
      continue;
    }
    v128_t q[kVecs];
    q8_codes(blk, id, q);
    store_i8(q, out + 4);
    v128_t sum = q[0];
    for (size_t k = 1; k < kVecs; ++k) sum = wasm_i32x4_add(sum, q[k]);
    sum = wasm_i32x4_add(sum, wasm_i32x4_shuffle(sum, sum, 2, 3, 0, 1));
    sum = wasm_i32x4_add(sum, wasm_i32x4_shuffle(sum, sum, 1, 0, 3, 2));
    store_fp16(out, d);
    store_fp16(out + 2, float(wasm_i32x4_extract_lane(sum, 0)) * d);
  }
  return finite;
}

namespace {

// Q4_0 and Q5_0 (kHalf = 8 or 16 levels per side): d = max / -kHalf for the signed max, codes
// min(kHalf * 2 - 1, (int8_t)(x * id + kHalf + 0.5f)). With |x * id| <= kHalf + 0.25 (it is kHalf
// up to rounding), x * id + kHalf + 0.5 lies in [0.25, 2 * kHalf + 0.75]: floor equals the scalar's
// truncation there and the min is its MIN on the int8. Otherwise (id overflowed, or amax is not finite) the scalar
// twin does the block and the finiteness check. store(codes, block) packs the codes.
template <int kHalf, size_t kBytes, class Store>
bool quantize_symmetric(const float* x, size_t nblocks, uint8_t* out,
                        bool (*scalar_fn)(const float*, size_t, uint8_t*) noexcept, Store store) {
  bool finite = true;
  const v128_t offset = wasm_f32x4_splat(float(kHalf) + 0.5f);
  const v128_t top = wasm_i32x4_splat(2 * kHalf - 1);
  for (size_t b = 0; b < nblocks; ++b, x += kQK, out += kBytes) {
    Block blk;
    load_block(x, &blk);
    const float amax = block_amax(blk);
    const float max = block_signed_max(blk, x, amax);
    const float d = max / -float(kHalf);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    if (!(amax * std::fabs(id) <= float(kHalf) + 0.25f) || !(amax <= FLT_MAX)) {
      finite &= scalar_fn(x, 1, out);
      continue;
    }
    store_fp16(out, d);
    const v128_t vid = wasm_f32x4_splat(id);
    v128_t q[kVecs];
    for (size_t k = 0; k < kVecs; ++k) {
      const v128_t t = wasm_f32x4_add(wasm_f32x4_mul(blk.x[k], vid), offset);
      q[k] = wasm_i32x4_min(floor_small_i32(t), top);
    }
    store(q, out);
  }
  return finite;
}

// Q4_1 and Q5_1 (kSteps = 15 or 31): with m = the block min, d = (max - m) / kSteps, and
// (x - m) * id in [0, (max - m) * id]; when that bound is at most kSteps + 1, (x - m) * id + 0.5
// truncates to 0..kSteps + 1 both ways. Codes are clamped to kTop: 15 for Q4_1 (ggml's MIN), 32 for
// Q5_1 (no clamp in ggml; 32 is out of reach, and the packing keeps bits 0..4 either way).
template <int kSteps, int kTop, size_t kBytes, class Store>
bool quantize_min_max(const float* x, size_t nblocks, uint8_t* out,
                      bool (*scalar_fn)(const float*, size_t, uint8_t*) noexcept, Store store) {
  bool finite = true;
  const v128_t half = wasm_f32x4_splat(0.5f);
  const v128_t top = wasm_i32x4_splat(kTop);
  for (size_t b = 0; b < nblocks; ++b, x += kQK, out += kBytes) {
    Block blk;
    load_block(x, &blk);
    float mn, mx;
    const bool ok = block_min_max(blk, x, &mn, &mx);
    const float d = (mx - mn) / float(kSteps);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    if (!ok || !((mx - mn) * id <= float(kSteps + 1))) {
      finite &= scalar_fn(x, 1, out);
      continue;
    }
    store_fp16(out, d);
    store_fp16(out + 2, mn);
    const v128_t vid = wasm_f32x4_splat(id), vmn = wasm_f32x4_splat(mn);
    v128_t q[kVecs];
    for (size_t k = 0; k < kVecs; ++k) {
      const v128_t t = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_sub(blk.x[k], vmn), vid), half);
      q[k] = wasm_i32x4_min(floor_small_i32(t), top);  // t >= 0.5: x - m >= 0
    }
    store(q, out);
  }
  return finite;
}

}  // namespace

bool ggml_quantize_q4_0(const float* x, size_t nblocks, uint8_t* out) noexcept {
  return quantize_symmetric<8, kQ4_0Bytes>(x, nblocks, out, &scalar::ggml_quantize_q4_0,
                                           [](const v128_t* q, uint8_t* o) { store_nibbles(q, o + 2); });
}

bool ggml_quantize_q5_0(const float* x, size_t nblocks, uint8_t* out) noexcept {
  return quantize_symmetric<16, kQ5_0Bytes>(x, nblocks, out, &scalar::ggml_quantize_q5_0,
                                            [](const v128_t* q, uint8_t* o) { store_q5(q, o + 2, o + 6); });
}

bool ggml_quantize_q4_1(const float* x, size_t nblocks, uint8_t* out) noexcept {
  return quantize_min_max<15, 15, kQ4_1Bytes>(x, nblocks, out, &scalar::ggml_quantize_q4_1,
                                              [](const v128_t* q, uint8_t* o) { store_nibbles(q, o + 4); });
}

bool ggml_quantize_q5_1(const float* x, size_t nblocks, uint8_t* out) noexcept {
  return quantize_min_max<31, 32, kQ5_1Bytes>(x, nblocks, out, &scalar::ggml_quantize_q5_1,
                                              [](const v128_t* q, uint8_t* o) { store_q5(q, o + 4, o + 8); });
}

// IQ4_NL. Codes: with c = the number of levels L[1..15] at or below t = id * x, L[c] <= t < L[c + 1]
// (c = 15 for t >= L[15]: code 15), which is the interval the scalar's bisection ends in; the code
// is c when t - L[c] < L[c + 1] - t (the same float expressions, L fetched by a byte swizzle), else
// c + 1. For t <= L[0], c = 0 and the comparison picks 0, the scalar's early return. The products
// w * q * x and w * q * q are the scalar's (elementwise IEEE); their sums are taken in element order,
// scalar, as the refit must be (float addition does not reassociate).
namespace {

constexpr int8_t kIq4nlNext[16] = {-104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113, 113};

// Codes (i32) and levels (f32) of 16 values t[0..3].
inline void iq4nl_codes16(const v128_t* t, v128_t* code, v128_t* level) {
  v128_t c[4];
  for (size_t v = 0; v < 4; ++v) {
    c[v] = wasm_i32x4_splat(0);
    for (size_t k = 1; k < 16; ++k) c[v] = wasm_i32x4_sub(c[v], wasm_f32x4_le(wasm_f32x4_splat(kIq4nlLevels[k]), t[v]));
  }
  const v128_t idx = narrow_u8(c);
  const v128_t lo8 = wasm_i8x16_swizzle(wasm_v128_load(kIq4nlValues), idx);
  const v128_t hi8 = wasm_i8x16_swizzle(wasm_v128_load(kIq4nlNext), idx);
  const v128_t lo16[2] = {wasm_i16x8_extend_low_i8x16(lo8), wasm_i16x8_extend_high_i8x16(lo8)};
  const v128_t hi16[2] = {wasm_i16x8_extend_low_i8x16(hi8), wasm_i16x8_extend_high_i8x16(hi8)};
  for (size_t v = 0; v < 4; ++v) {
    const v128_t lo = wasm_f32x4_convert_i32x4(v % 2 ? wasm_i32x4_extend_high_i16x8(lo16[v / 2]) : wasm_i32x4_extend_low_i16x8(lo16[v / 2]));
    const v128_t hi = wasm_f32x4_convert_i32x4(v % 2 ? wasm_i32x4_extend_high_i16x8(hi16[v / 2]) : wasm_i32x4_extend_low_i16x8(hi16[v / 2]));
    // c + 1 unless t - lo < hi - t (or c = 15 already).
    const v128_t up = wasm_v128_andnot(wasm_i32x4_lt(c[v], wasm_i32x4_splat(15)),
                                       wasm_f32x4_lt(wasm_f32x4_sub(t[v], lo), wasm_f32x4_sub(hi, t[v])));
    code[v] = wasm_i32x4_sub(c[v], up);
    level[v] = wasm_v128_bitselect(hi, lo, up);
  }
}

}  // namespace

bool ggml_quantize_iq4_nl(const float* x, size_t nblocks, uint8_t* out) noexcept {
  bool finite = true;
  v128_t packed = wasm_i32x4_splat(0);  // the codes of the last block that had any (ggml's carry-over)
  for (size_t b = 0; b < nblocks; ++b, x += kQK, out += kIq4nlBytes) {
    Block blk;
    load_block(x, &blk);
    const float amax = block_amax(blk);
    if (!(amax <= FLT_MAX)) {  // NaN or inf: the bytes are unspecified, the caller reports it
      finite = false;
      continue;
    }
    float d = 0.0f;
    if (!(amax < kGroupMaxEps)) {
      const float max = block_signed_max(blk, x, amax);
      d = max / kIq4nlLevels[0];
      const v128_t vid = wasm_f32x4_splat(1 / d);
      v128_t t[kVecs], code[kVecs], level[kVecs];
      for (size_t k = 0; k < kVecs; ++k) t[k] = wasm_f32x4_mul(vid, blk.x[k]);
      iq4nl_codes16(t, code, level);
      iq4nl_codes16(t + 4, code + 4, level + 4);
      alignas(16) float qx[kQK], q2[kQK];
      for (size_t k = 0; k < kVecs; ++k) {
        const v128_t wq = wasm_f32x4_mul(wasm_f32x4_mul(blk.x[k], blk.x[k]), level[k]);
        wasm_v128_store(qx + 4 * k, wasm_f32x4_mul(wq, blk.x[k]));
        wasm_v128_store(q2 + 4 * k, wasm_f32x4_mul(wq, level[k]));
      }
      float sumqx = 0, sumq2 = 0;
      for (size_t j = 0; j < kQK; ++j) {
        sumqx += qx[j];
        sumq2 += q2[j];
      }
      d = sumq2 > 0 ? sumqx / sumq2 : 0.0f;
      packed = wasm_v128_or(narrow_u8(code), wasm_i8x16_shl(narrow_u8(code + 4), 4));
    }
    store_fp16(out, d);
    wasm_v128_store(out + 2, packed);
  }
  return finite;
}

// MXFP4 elements by thresholds instead of the 16-way argmin: the code's magnitude index is the
// number of midpoints {0.5, 1.5, 2.5, 3.5, 5, 7, 10} * d strictly below |x| (a tie stays on the
// smaller magnitude = the lower index), and negative x with a nonzero magnitude takes index + 8.
// Equal to the argmin because the two levels around x are within a factor of 2 of each other, so
// ggml's |kvalue * d - x| is exact for them (Sterbenz) and rounding cannot promote a farther level;
// m * d is exact (d is a power of two, >= 2^-128). The equivalence tests check it at every tie.
bool ggml_quantize_mxfp4(const float* x, size_t nblocks, uint8_t* out) noexcept {
  bool finite = true;
  static constexpr float kMidpoints[7] = {0.5f, 1.5f, 2.5f, 3.5f, 5.0f, 7.0f, 10.0f};
  const v128_t zero = wasm_f32x4_splat(0.0f);
  const v128_t izero = wasm_i32x4_splat(0);
  const v128_t eight = wasm_i32x4_splat(8);
  for (size_t b = 0; b < nblocks; ++b, x += kQK, out += kMxfp4Bytes) {
    Block blk;
    load_block(x, &blk);
    const float amax = block_amax(blk);
    finite &= amax <= FLT_MAX;
    const uint8_t e = mxfp4_exponent(amax);
    const float d = e8m0_to_fp32_half(e);
    out[0] = e;
    v128_t thresholds[7];
    for (size_t m = 0; m < 7; ++m) thresholds[m] = wasm_f32x4_splat(kMidpoints[m] * d);
    v128_t q[kVecs];
    for (size_t k = 0; k < kVecs; ++k) {
      v128_t c = izero;
      for (size_t m = 0; m < 7; ++m) c = wasm_i32x4_sub(c, wasm_f32x4_gt(blk.a[k], thresholds[m]));
      const v128_t neg = wasm_v128_and(wasm_f32x4_lt(blk.x[k], zero), wasm_i32x4_ne(c, izero));
      q[k] = wasm_v128_or(c, wasm_v128_and(neg, eight));
    }
    store_nibbles(q, out + 1);
  }
  return finite;
}

}  // namespace qplay::kernels::simd128
