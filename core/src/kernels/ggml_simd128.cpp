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

// max |x| of the block. f32x4.max propagates NaN, so a NaN anywhere gives NaN and an inf gives inf
// (the kernels' finiteness check); for finite |x| >= +0 the lane-wise max cannot differ from the
// scalar loop's.
inline float block_amax(const Block& blk) {
  v128_t m = blk.a[0];
  for (size_t k = 1; k < kVecs; ++k) m = wasm_f32x4_max(m, blk.a[k]);
  m = wasm_f32x4_max(m, wasm_i32x4_shuffle(m, m, 2, 3, 0, 1));
  m = wasm_f32x4_max(m, wasm_i32x4_shuffle(m, m, 1, 0, 3, 2));
  return wasm_f32x4_extract_lane(m, 0);
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

}  // namespace

bool ggml_quantize_q8_0(const float* x, size_t nblocks, uint8_t* out) noexcept {
  bool finite = true;
  const v128_t half = wasm_f32x4_splat(0.5f);
  const v128_t one = wasm_f32x4_splat(1.0f);
  const v128_t sign_bit = wasm_i32x4_splat(int32_t(0x80000000u));
  for (size_t b = 0; b < nblocks; ++b, x += kQK, out += kQ8_0Bytes) {
    Block blk;
    load_block(x, &blk);
    const float amax = block_amax(blk);
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    // |x * id| <= amax * id: when that is below 127.5 every code is within [-127, 127], where the
    // saturating narrowing below equals the scalar cast. Otherwise (id overflowed, or a NaN / inf
    // made amax non-finite) the scalar twin does the block and the finiteness check.
    if (!(amax * id < 127.5f)) {
      finite &= scalar::ggml_quantize_q8_0(x, 1, out);
      continue;
    }
    store_fp16(out, d);
    const v128_t vid = wasm_f32x4_splat(id);
    v128_t q[kVecs];
    for (size_t k = 0; k < kVecs; ++k) {
      // roundf: truncate, then step away from zero when the dropped fraction is >= 0.5 (t - trunc(t)
      // is exact). f32x4.nearest would round ties to even.
      const v128_t t = wasm_f32x4_mul(blk.x[k], vid);
      const v128_t r = wasm_f32x4_trunc(t);
      const v128_t frac = wasm_f32x4_abs(wasm_f32x4_sub(t, r));
      const v128_t away = wasm_v128_or(one, wasm_v128_and(t, sign_bit));
      const v128_t step = wasm_v128_and(wasm_f32x4_ge(frac, half), away);
      q[k] = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_add(r, step));
    }
    for (size_t h = 0; h < 2; ++h) {
      const v128_t* qh = q + 4 * h;
      const v128_t bytes = wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(qh[0], qh[1]),
                                                   wasm_i16x8_narrow_i32x4(qh[2], qh[3]));
      wasm_v128_store(out + 2 + 16 * h, bytes);
    }
  }
  return finite;
}

bool ggml_quantize_q4_0(const float* x, size_t nblocks, uint8_t* out) noexcept {
  bool finite = true;
  const v128_t eight_half = wasm_f32x4_splat(8.5f);
  const v128_t fifteen = wasm_i32x4_splat(15);
  for (size_t b = 0; b < nblocks; ++b, x += kQK, out += kQ4_0Bytes) {
    Block blk;
    load_block(x, &blk);
    const float amax = block_amax(blk);
    // The signed max: the first element whose |x| is the block's max (+0 for an all-zero block).
    // (One 32-bit mask of the lanes equal to amax, then its lowest bit: no data-dependent branch.)
    float max = 0.0f;
    if (amax > 0.0f && amax <= FLT_MAX) {
      const v128_t vamax = wasm_f32x4_splat(amax);
      uint32_t hits = 0;
      for (size_t k = 0; k < kVecs; ++k) {
        hits |= uint32_t(wasm_i32x4_bitmask(wasm_f32x4_eq(blk.a[k], vamax))) << (4 * k);
      }
      max = x[__builtin_ctz(hits)];  // hits != 0: amax is one of the |x|
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    // With |x * id| <= 9, x * id + 8.5 lies in [-0.5, 17.5]: truncation gives 0..17 both ways and
    // min(., 15) is the scalar's MIN on the int8. Otherwise (id overflowed, or amax is not finite)
    // the scalar twin does the block and the finiteness check.
    if (!(amax * std::fabs(id) <= 9.0f) || !(amax <= FLT_MAX)) {
      finite &= scalar::ggml_quantize_q4_0(x, 1, out);
      continue;
    }
    store_fp16(out, d);
    const v128_t vid = wasm_f32x4_splat(id);
    v128_t q[kVecs];
    for (size_t k = 0; k < kVecs; ++k) {
      const v128_t t = wasm_f32x4_add(wasm_f32x4_mul(blk.x[k], vid), eight_half);
      q[k] = wasm_i32x4_min(wasm_i32x4_trunc_sat_f32x4(t), fifteen);
    }
    store_nibbles(q, out + 2);
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
