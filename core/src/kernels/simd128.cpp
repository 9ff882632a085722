// The SIMD twin: the element rules of element.hpp lane-wise with wasm_simd128 intrinsics (natively
// through SIMDe, which reproduces the wasm semantics). Must equal scalar.cpp bit for bit; tails
// shorter than a vector step call the scalar element rule itself.
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#else
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/wasm/simd128.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "element.hpp"
#include "kernels.hpp"

namespace qplay::kernels::simd128 {
namespace {

// Per-element counters accumulate in i32 lanes (a true mask is -1, subtracted); they are flushed
// to 64 bits after at most this many elements, far below what could overflow a lane.
constexpr size_t kCountBlock = size_t(1) << 28;

// (SIMDe 0.7 lacks wasm_u32x4_extract_lane: lanes are read signed and reinterpreted.)
inline uint32_t u32_lane0(v128_t v) { return uint32_t(wasm_i32x4_extract_lane(v, 0)); }
inline uint32_t u32_lane1(v128_t v) { return uint32_t(wasm_i32x4_extract_lane(v, 1)); }
inline uint32_t u32_lane2(v128_t v) { return uint32_t(wasm_i32x4_extract_lane(v, 2)); }
inline uint32_t u32_lane3(v128_t v) { return uint32_t(wasm_i32x4_extract_lane(v, 3)); }

uint64_t lane_total(v128_t counts) {
  return uint64_t(u32_lane0(counts)) + uint64_t(u32_lane1(counts)) + uint64_t(u32_lane2(counts)) +
         uint64_t(u32_lane3(counts));
}

// Runs body(i) for i = 0, step, 2 * step, ... while a whole step fits, handing it a fresh i32x4
// counter per block and returning the counters' total. *done receives the elements covered.
template <size_t kStep, class Body>
uint64_t counted_loop(size_t n, size_t* done, Body&& body) {
  static_assert(kCountBlock % kStep == 0);
  uint64_t total = 0;
  size_t i = 0;
  const size_t whole = n - n % kStep;
  while (i < whole) {
    const size_t block_end = i + std::min(whole - i, kCountBlock);
    v128_t counts = wasm_i32x4_splat(0);
    for (; i < block_end; i += kStep) body(i, counts);
    total += lane_total(counts);
  }
  *done = whole;
  return total;
}

// ---- quantize -----------------------------------------------------------------------------------

// 1.5 * 2^23 and its bit pattern (see QuantizeConstants::magic).
constexpr float kMagic = 12582912.0f;
constexpr int32_t kMagicBits = 0x4B400000;

struct QuantizeConstants {
  v128_t qmin, qmax;
  v128_t half = wasm_f32x4_splat(0.5f);
  v128_t one = wasm_f32x4_splat(1.0f);
  v128_t sign_bit = wasm_i32x4_splat(int32_t(0x80000000u));
  // 1.5 * 2^23: adding it to an integral float in [-2^22, 2^22] is exact and leaves the integer
  // in the low mantissa bits, so one add and one integer subtract replace trunc_sat (several
  // instructions in V8) for the already clamped codes.
  v128_t magic = wasm_f32x4_splat(kMagic);
  v128_t magic_bits = wasm_i32x4_splat(kMagicBits);
  v128_t key;
  v128_t nan_to_qmin;  // all ones when spec.nan == qmin
  v128_t uniform_scale = wasm_f32x4_splat(0x1p-24f);
  v128_t lane_offsets = wasm_i32x4_make(0, 1, 2, 3);
  v128_t four = wasm_i32x4_splat(4);
  v128_t mix1 = wasm_i32x4_splat(int32_t(element::kMix1));
  v128_t mix2 = wasm_i32x4_splat(int32_t(element::kMix2));

  QuantizeConstants(element::Bounds b, const QuantizeSpec& spec)
      : qmin(wasm_f32x4_splat(b.qmin)),
        qmax(wasm_f32x4_splat(b.qmax)),
        key(wasm_i32x4_splat(int32_t(element::stream_key(spec.seed)))),
        nan_to_qmin(wasm_i32x4_splat(spec.nan == NanCode::qmin ? -1 : 0)) {}
};

// element::uniform in four lanes.
inline v128_t uniform_lanes(v128_t index, const QuantizeConstants& c) {
  v128_t h = wasm_v128_xor(index, c.key);
  h = wasm_v128_xor(h, wasm_u32x4_shr(h, 16));
  h = wasm_i32x4_mul(h, c.mix1);
  h = wasm_v128_xor(h, wasm_u32x4_shr(h, 15));
  h = wasm_i32x4_mul(h, c.mix2);
  h = wasm_v128_xor(h, wasm_u32x4_shr(h, 16));
  // < 2^24 after the shift: the signed conversion is exact.
  return wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_u32x4_shr(h, 8)), c.uniform_scale);
}

// element::round_with in four lanes, with the same operations in the same order.
template <Round R>
inline v128_t round_lanes(v128_t t, v128_t index, const QuantizeConstants& c) {
  if constexpr (R == Round::half_even) {
    return wasm_f32x4_nearest(t);
  } else if constexpr (R == Round::half_away) {
    const v128_t r = wasm_f32x4_trunc(t);
    const v128_t steps = wasm_f32x4_ge(wasm_f32x4_abs(wasm_f32x4_sub(t, r)), c.half);
    const v128_t signed_one = wasm_v128_or(wasm_v128_and(t, c.sign_bit), c.one);
    return wasm_f32x4_add(r, wasm_v128_and(signed_one, steps));
  } else if constexpr (R == Round::half_up) {
    const v128_t r = wasm_f32x4_floor(t);
    const v128_t steps = wasm_f32x4_ge(wasm_f32x4_sub(t, r), c.half);
    return wasm_f32x4_add(r, wasm_v128_and(c.one, steps));
  } else {
    return wasm_f32x4_floor(wasm_f32x4_add(t, uniform_lanes(index, c)));
  }
}

// element::quantize_one in four lanes; returns the codes as i32 lanes and counts saturations.
template <Round R, Div D>
inline v128_t quantize_lanes(v128_t x, v128_t scale_op, v128_t zf, v128_t zi, v128_t index,
                             const QuantizeConstants& c, v128_t& saturated) {
  // NaN x -> +0 unless NaN goes to qmin (nan_to_qmin is all ones then).
  const v128_t xs = wasm_v128_and(x, wasm_v128_or(wasm_f32x4_eq(x, x), c.nan_to_qmin));
  v128_t t = D == Div::divide ? wasm_f32x4_div(xs, scale_op) : wasm_f32x4_mul(xs, scale_op);
  t = wasm_f32x4_add(t, zf);
  const v128_t v = wasm_f32x4_add(round_lanes<R>(t, index, c), zi);
  const v128_t q = wasm_f32x4_pmin(c.qmax, wasm_f32x4_pmax(c.qmin, v));  // NaN -> qmin
  const v128_t t_if_counted = wasm_f32x4_add(t, wasm_f32x4_sub(x, x));
  saturated = wasm_i32x4_sub(
      saturated, wasm_v128_and(wasm_f32x4_eq(t_if_counted, t_if_counted), wasm_f32x4_ne(q, v)));
  return wasm_i32x4_sub(wasm_f32x4_add(q, c.magic), c.magic_bits);
}

// Parameter sources: one value for the whole run, or one per element.
struct SameParams {
  float scale_op, zf, zi;
  v128_t scale_v, zf_v, zi_v, zi_magic_v;
  SameParams(float s, float f, float i)
      : scale_op(s), zf(f), zi(i), scale_v(wasm_f32x4_splat(s)), zf_v(wasm_f32x4_splat(f)),
        zi_v(wasm_f32x4_splat(i)), zi_magic_v(wasm_f32x4_splat(i + kMagic)) {}
  v128_t scale_lanes(size_t) const { return scale_v; }
  v128_t zf_lanes(size_t) const { return zf_v; }
  v128_t zi_lanes(size_t) const { return zi_v; }
  v128_t zi_magic_lanes(size_t, v128_t) const { return zi_magic_v; }
  float scale(size_t) const { return scale_op; }
  float zero_f(size_t) const { return zf; }
  float zero_i(size_t) const { return zi; }
  // The checked path below needs an integral zi of at most 2^16 in magnitude (every code range
  // fits); the contract passes integer zero points in zi, this guards the run against any other.
  bool checked_path_ok() const { return std::fabs(zi) <= 65536.0f && std::nearbyint(zi) == zi; }
};
struct PerElementParams {
  const float *scale_op, *zf, *zi;
  v128_t scale_lanes(size_t i) const { return wasm_v128_load(scale_op + i); }
  v128_t zf_lanes(size_t i) const { return wasm_v128_load(zf + i); }
  v128_t zi_lanes(size_t i) const { return wasm_v128_load(zi + i); }
  v128_t zi_magic_lanes(size_t i, v128_t magic) const { return wasm_f32x4_add(wasm_v128_load(zi + i), magic); }
  float scale(size_t i) const { return scale_op[i]; }
  float zero_f(size_t i) const { return zf[i]; }
  float zero_i(size_t i) const { return zi[i]; }
  // Per element zi are integer zero points by the kernel contract (as the exact path assumes).
  bool checked_path_ok() const { return true; }
};

// Packs 16 / sizeof(T) codes held in i32 lanes (already in T's range) into one vector.
template <class T>
inline v128_t pack_codes(const v128_t* lanes) {
  if constexpr (std::is_same_v<T, int8_t>) {
    return wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(lanes[0], lanes[1]),
                                   wasm_i16x8_narrow_i32x4(lanes[2], lanes[3]));
  } else if constexpr (std::is_same_v<T, uint8_t>) {
    return wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(lanes[0], lanes[1]),
                                   wasm_i16x8_narrow_i32x4(lanes[2], lanes[3]));
  } else if constexpr (std::is_same_v<T, int16_t>) {
    return wasm_i16x8_narrow_i32x4(lanes[0], lanes[1]);
  } else {
    static_assert(std::is_same_v<T, uint16_t>);
    return wasm_u16x8_narrow_i32x4(lanes[0], lanes[1]);
  }
}

// ---- the checked path ---------------------------------------------------------------------------
// Most elements of a real tensor are finite and land inside [qmin, qmax]; for them the element
// rule reduces to code = round(t) + zi, with nothing to clamp, substitute or count. The checked
// path computes only that, as an i32 lane c, and keeps the running i32 min and max of c over a
// block of kCheckedBlock elements:
//
//   c = bits(round(t) + (zi + M)) - bits(M)      M = 1.5 * 2^23 (kMagic), zi integral, |zi| <= 2^16
//
// For a lane whose v = round(t) + zi is an integer in [qmin, qmax] (so |v| <= 2^16) both sums are
// exact and c == v: the packed code is the spec's code and the element is not saturated. Every
// other lane yields a c outside [qmin, qmax]: a NaN or infinite sum has an all-ones exponent (c
// is beyond +-2^29), and a finite v outside the range either stays exact (c == v, outside) or
// leaves the [2^23, 2^24) binade of M (c < -2^22 or c >= 2^22, wrapping negative floats far below
// qmin). round(t) is integral or non-finite and zi integral, so v is too. A block whose codes all
// lie in [qmin, qmax] is therefore bit-identical to the exact path with nothing saturated; any
// other block (NaN inputs, clipped outliers, unusable scales) is recomputed by the exact path,
// which overwrites its codes and counts.
//
// For half-to-even rounding the add of M does the rounding itself: t + M lies in [2^23, 2^24]
// for |t| <= 2^22, where float spacing is 1, so the sum is rounded half to even, and M being even
// keeps the tie parity: bits(t + M) - bits(M) == nearbyint(t). zi then enters as an integer:
// c = bits(t + M) - (bits(M) - zi). For |t| > 2^22 the same out-of-range argument applies.
//
// Dividing by s costs more than everything else in the loop (wasm has no reciprocal estimate), so
// for one scale the checked path multiplies instead, exactly: with r = 1/s rounded, r * s compared
// with 1 in double (exact: 48 bits) tells whether r is below or above 1/s; r and its neighbour
// then bracket 1/s, and because float rounding is monotone, x / s rounds to a float between
// x * r_lo and x * r_hi (likewise after adding zf and M). Where the two products give the same
// code the division gives it too; lanes where they differ (t within an ulp or two of a half) mark
// the block for the exact path. A power-of-two scale has r exact and needs one product.
constexpr size_t kCheckedBlock = 256;  // elements per range check (a multiple of every step)
// After a block needed the exact path, the next 1, 2, 4 ... 64 blocks take it directly, so inputs
// where most blocks clip do not pay for both paths; one clean checked block resets the backoff.
constexpr unsigned kMaxBackoff = 64;

// Runs the checked path over [0, whole) (whole steps) in blocks, falling back to exact_block.
// lanes(at, bad) returns c for x[at .. at + 4) and may set lanes of `bad` for elements it cannot
// decide.
template <class T, class Lanes, class ExactBlock>
uint64_t run_checked(size_t whole, element::Bounds b, T* out, Lanes&& lanes, ExactBlock&& exact_block) {
  constexpr size_t kStep = 16 / sizeof(T);  // elements per 16-byte store
  constexpr size_t kVectors = kStep / 4;
  static_assert(kCheckedBlock % kStep == 0);
  const v128_t qmin_i = wasm_i32x4_splat(int32_t(b.qmin)), qmax_i = wasm_i32x4_splat(int32_t(b.qmax));
  auto checked_block = [&](size_t begin, size_t end) {
    v128_t bad = wasm_i32x4_splat(0), out_of_range;
    if constexpr (kVectors == 4) {
      // 8-bit codes: the extremes are taken after the first (signed, saturating) narrowing to
      // i16, eight lanes per op. It keeps every c in [-32768, 32767] and moves every other c to
      // -32768 or 32767, all outside any 8-bit [qmin, qmax], so the test is unchanged.
      const v128_t qmin_h = wasm_i16x8_splat(int16_t(b.qmin)), qmax_h = wasm_i16x8_splat(int16_t(b.qmax));
      v128_t lo = qmax_h, hi = qmin_h;
      for (size_t i = begin; i < end; i += kStep) {
        const v128_t c0 = lanes(i, bad), c1 = lanes(i + 4, bad);
        const v128_t low = wasm_i16x8_narrow_i32x4(c0, c1);
        const v128_t c2 = lanes(i + 8, bad), c3 = lanes(i + 12, bad);
        const v128_t high = wasm_i16x8_narrow_i32x4(c2, c3);
        lo = wasm_i16x8_min(lo, wasm_i16x8_min(low, high));
        hi = wasm_i16x8_max(hi, wasm_i16x8_max(low, high));
        if constexpr (std::is_same_v<T, int8_t>) wasm_v128_store(out + i, wasm_i8x16_narrow_i16x8(low, high));
        else wasm_v128_store(out + i, wasm_u8x16_narrow_i16x8(low, high));
      }
      out_of_range = wasm_v128_or(wasm_i16x8_lt(lo, qmin_h), wasm_i16x8_gt(hi, qmax_h));
    } else {
      v128_t lo = qmax_i, hi = qmin_i;
      for (size_t i = begin; i < end; i += kStep) {
        const v128_t codes[2] = {lanes(i, bad), lanes(i + 4, bad)};
        lo = wasm_i32x4_min(lo, wasm_i32x4_min(codes[0], codes[1]));
        hi = wasm_i32x4_max(hi, wasm_i32x4_max(codes[0], codes[1]));
        wasm_v128_store(out + i, pack_codes<T>(codes));
      }
      out_of_range = wasm_v128_or(wasm_i32x4_lt(lo, qmin_i), wasm_i32x4_gt(hi, qmax_i));
    }
    return !wasm_v128_any_true(wasm_v128_or(bad, out_of_range));
  };
  uint64_t saturated = 0;
  unsigned backoff = 0, exact_blocks = 0;
  for (size_t i = 0; i < whole;) {
    const size_t end = i + std::min(whole - i, kCheckedBlock);
    if (exact_blocks == 0) {
      if (checked_block(i, end)) {
        backoff = 0;
        i = end;
        continue;
      }
      backoff = backoff == 0 ? 1 : std::min(2 * backoff, kMaxBackoff);
      exact_blocks = backoff;
    } else {
      --exact_blocks;
    }
    saturated += exact_block(i, end);
    i = end;
  }
  return saturated;
}

// How the half-to-even checked path gets t from x for one param set.
enum class ScaleOp : uint8_t {
  multiply,  // x * scale_op (multiply_inverse, or divide by a power of two)
  divide,    // x / scale_op (a scale whose reciprocal is unusable)
  bracket,   // x * r_lo and x * r_hi around 1 / scale_op
};

// The reciprocal bracket for Div::divide with one scale s; {0, 0} when the products could not
// stand in for the division (s not a positive normal float, or 1/s not normal).
struct Bracket {
  float lo = 0, hi = 0;
  bool exact = false;  // lo == hi == 1/s exactly
};
Bracket reciprocal_bracket(float s) {
  constexpr float kMinNormal = std::numeric_limits<float>::min();
  constexpr float kMax = std::numeric_limits<float>::max();
  if (!(s >= kMinNormal && s <= kMax)) return {};
  const float r = 1.0f / s;
  if (!(r >= kMinNormal && r < kMax)) return {};
  const double product = double(r) * double(s);  // exact: two 24-bit significands
  if (product == 1.0) return {r, r, true};
  // The neighbours of a positive normal float below kMax are one bit pattern away (no libm call:
  // this runs once per kernel call, and block granularities call the kernel per block).
  uint32_t bits;
  std::memcpy(&bits, &r, sizeof bits);
  const uint32_t neighbour = product < 1.0 ? bits + 1 : bits - 1;
  float other;
  std::memcpy(&other, &neighbour, sizeof other);
  return product < 1.0 ? Bracket{r, other, false} : Bracket{other, r, false};
}

// c lanes of the half-to-even checked path for one param set (see the comment above).
template <ScaleOp Op, bool kAddZf>
struct HalfEvenLanes {
  const float* x;
  v128_t scale_a, scale_b;  // scale_op, or r_lo and r_hi for the bracket
  v128_t zf, magic, magic_bits_minus_zi;
  v128_t operator()(size_t at, v128_t& bad) const {
    const v128_t xv = wasm_v128_load(x + at);
    v128_t t = Op == ScaleOp::divide ? wasm_f32x4_div(xv, scale_a) : wasm_f32x4_mul(xv, scale_a);
    if constexpr (kAddZf) t = wasm_f32x4_add(t, zf);
    const v128_t sum = wasm_f32x4_add(t, magic);
    if constexpr (Op == ScaleOp::bracket) {
      v128_t t_hi = wasm_f32x4_mul(xv, scale_b);
      if constexpr (kAddZf) t_hi = wasm_f32x4_add(t_hi, zf);
      bad = wasm_v128_or(bad, wasm_v128_xor(sum, wasm_f32x4_add(t_hi, magic)));
    }
    return wasm_i32x4_sub(sum, magic_bits_minus_zi);
  }
};

template <class T, ScaleOp Op, class ExactBlock>
uint64_t run_half_even(const float* x, size_t whole, element::Bounds b, T* out, v128_t scale_a, v128_t scale_b,
                       float zf, float zi, ExactBlock&& exact_block) {
  const v128_t zf_v = wasm_f32x4_splat(zf), magic = wasm_f32x4_splat(kMagic);
  const v128_t magic_bits_minus_zi = wasm_i32x4_splat(kMagicBits - int32_t(zi));
  // Adding zf = +-0 changes only t = -0 into +0, and -0 + M == +0 + M: skipping it is exact.
  if (zf == 0.0f)
    return run_checked(whole, b, out, HalfEvenLanes<Op, false>{x, scale_a, scale_b, zf_v, magic, magic_bits_minus_zi},
                       exact_block);
  return run_checked(whole, b, out, HalfEvenLanes<Op, true>{x, scale_a, scale_b, zf_v, magic, magic_bits_minus_zi},
                     exact_block);
}

template <Round R, Div D, class T, class Params>
uint64_t quantize_loop(const float* x, size_t n, const Params& p, const QuantizeSpec& spec,
                       uint32_t index0, T* out) {
  constexpr size_t kStep = 16 / sizeof(T);  // elements per 16-byte store
  constexpr size_t kVectors = kStep / 4;
  const element::Bounds b = element::code_bounds<T>(spec);
  const QuantizeConstants c(b, spec);
  const v128_t lane_index = wasm_i32x4_add(wasm_i32x4_splat(int32_t(index0)), c.lane_offsets);
  auto index_at = [&](size_t i) { return wasm_i32x4_add(lane_index, wasm_i32x4_splat(int32_t(uint32_t(i)))); };

  // The exact element rule over [begin, end) (whole steps), counting saturations.
  auto exact_block = [&](size_t begin, size_t end) {
    v128_t counts = wasm_i32x4_splat(0);
    v128_t index = index_at(begin);
    for (size_t i = begin; i < end; i += kStep) {
      v128_t codes[kVectors];
      for (size_t k = 0; k < kVectors; ++k) {
        const size_t at = i + 4 * k;
        codes[k] = quantize_lanes<R, D>(wasm_v128_load(x + at), p.scale_lanes(at), p.zf_lanes(at),
                                        p.zi_lanes(at), index, c, counts);
        if constexpr (R == Round::stochastic) index = wasm_i32x4_add(index, c.four);
      }
      wasm_v128_store(out + i, pack_codes<T>(codes));
    }
    return lane_total(counts);  // a block holds far fewer than 2^32 elements
  };

  const size_t whole = n - n % kStep;
  uint64_t saturated = 0;
  if (!p.checked_path_ok()) {
    saturated = exact_block(0, whole);
  } else if constexpr (R == Round::half_even && std::is_same_v<Params, SameParams>) {
    const v128_t none = wasm_f32x4_splat(0.0f);
    if constexpr (D == Div::multiply_inverse) {
      saturated = run_half_even<T, ScaleOp::multiply>(x, whole, b, out, p.scale_v, none, p.zf, p.zi, exact_block);
    } else {
      // Short runs (blocks of 32) divide: the bracket's own setup (a scalar division and a double
      // product) would cost more than the divisions it saves.
      const Bracket r = whole >= kCheckedBlock ? reciprocal_bracket(p.scale_op) : Bracket{};
      if (r.exact)
        saturated = run_half_even<T, ScaleOp::multiply>(x, whole, b, out, wasm_f32x4_splat(r.lo), none, p.zf, p.zi,
                                                        exact_block);
      else if (r.lo > 0)
        saturated = run_half_even<T, ScaleOp::bracket>(x, whole, b, out, wasm_f32x4_splat(r.lo),
                                                       wasm_f32x4_splat(r.hi), p.zf, p.zi, exact_block);
      else
        saturated = run_half_even<T, ScaleOp::divide>(x, whole, b, out, p.scale_v, none, p.zf, p.zi, exact_block);
    }
  } else {
    // Any rounding rule, params per element: c = bits(round(t) + (zi + M)) - bits(M).
    saturated = run_checked(whole, b, out, [&](size_t at, v128_t&) {
      const v128_t xv = wasm_v128_load(x + at);
      v128_t t = D == Div::divide ? wasm_f32x4_div(xv, p.scale_lanes(at)) : wasm_f32x4_mul(xv, p.scale_lanes(at));
      t = wasm_f32x4_add(t, p.zf_lanes(at));
      const v128_t index = R == Round::stochastic ? index_at(at) : lane_index;
      return wasm_i32x4_sub(wasm_f32x4_add(round_lanes<R>(t, index, c), p.zi_magic_lanes(at, c.magic)), c.magic_bits);
    }, exact_block);
  }
  const bool nan_to_qmin = spec.nan == NanCode::qmin;
  const uint32_t key = element::stream_key(spec.seed);
  for (size_t i = whole; i < n; ++i) {
    const element::Quantized e = element::quantize_one<R, D>(
        x[i], p.scale(i), p.zero_f(i), p.zero_i(i), nan_to_qmin, b, key, index0 + uint32_t(i));
    out[i] = element::to_code<T>(e.q);
    saturated += e.saturated ? 1 : 0;
  }
  return saturated;
}

template <Div D, class T, class Params>
uint64_t quantize_round(const float* x, size_t n, const Params& p, const QuantizeSpec& spec,
                        uint32_t index0, T* out) {
  switch (spec.round) {
    case Round::half_away: return quantize_loop<Round::half_away, D>(x, n, p, spec, index0, out);
    case Round::half_up: return quantize_loop<Round::half_up, D>(x, n, p, spec, index0, out);
    case Round::stochastic: return quantize_loop<Round::stochastic, D>(x, n, p, spec, index0, out);
    case Round::half_even: break;
  }
  return quantize_loop<Round::half_even, D>(x, n, p, spec, index0, out);
}

template <class T, class Params>
uint64_t quantize(const float* x, size_t n, const Params& p, const QuantizeSpec& spec, uint32_t index0,
                  T* out) {
  if (spec.div == Div::multiply_inverse)
    return quantize_round<Div::multiply_inverse>(x, n, p, spec, index0, out);
  return quantize_round<Div::divide>(x, n, p, spec, index0, out);
}

// ---- dequantize ---------------------------------------------------------------------------------

// Widens the 16 / sizeof(T) codes of one vector to floats (exact: at most 16 bits).
template <class T>
inline void widen_codes(v128_t v, v128_t* f) {
  if constexpr (std::is_same_v<T, int8_t>) {
    const v128_t lo = wasm_i16x8_extend_low_i8x16(v), hi = wasm_i16x8_extend_high_i8x16(v);
    f[0] = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_low_i16x8(lo));
    f[1] = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_high_i16x8(lo));
    f[2] = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_low_i16x8(hi));
    f[3] = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_high_i16x8(hi));
  } else if constexpr (std::is_same_v<T, uint8_t>) {
    const v128_t lo = wasm_u16x8_extend_low_u8x16(v), hi = wasm_u16x8_extend_high_u8x16(v);
    f[0] = wasm_f32x4_convert_i32x4(wasm_u32x4_extend_low_u16x8(lo));
    f[1] = wasm_f32x4_convert_i32x4(wasm_u32x4_extend_high_u16x8(lo));
    f[2] = wasm_f32x4_convert_i32x4(wasm_u32x4_extend_low_u16x8(hi));
    f[3] = wasm_f32x4_convert_i32x4(wasm_u32x4_extend_high_u16x8(hi));
  } else if constexpr (std::is_same_v<T, int16_t>) {
    f[0] = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_low_i16x8(v));
    f[1] = wasm_f32x4_convert_i32x4(wasm_i32x4_extend_high_i16x8(v));
  } else {
    static_assert(std::is_same_v<T, uint16_t>);
    f[0] = wasm_f32x4_convert_i32x4(wasm_u32x4_extend_low_u16x8(v));
    f[1] = wasm_f32x4_convert_i32x4(wasm_u32x4_extend_high_u16x8(v));
  }
}

template <class T>
void dequantize_run(const T* q, size_t n, float scale, float zero, float* y) {
  constexpr size_t kStep = 16 / sizeof(T);
  const v128_t scale_v = wasm_f32x4_splat(scale), zero_v = wasm_f32x4_splat(zero);
  size_t i = 0;
  for (; i + kStep <= n; i += kStep) {
    v128_t f[kStep / 4];
    widen_codes<T>(wasm_v128_load(q + i), f);
    for (size_t k = 0; k < kStep / 4; ++k)
      wasm_v128_store(y + i + 4 * k, wasm_f32x4_mul(wasm_f32x4_sub(f[k], zero_v), scale_v));
  }
  for (; i < n; ++i) y[i] = (float(q[i]) - zero) * scale;
}

template <class T>
void dequantize_vec(const T* q, size_t n, const float* scale, const float* zero, float* y) {
  constexpr size_t kStep = 16 / sizeof(T);
  size_t i = 0;
  for (; i + kStep <= n; i += kStep) {
    v128_t f[kStep / 4];
    widen_codes<T>(wasm_v128_load(q + i), f);
    for (size_t k = 0; k < kStep / 4; ++k) {
      const size_t at = i + 4 * k;
      wasm_v128_store(y + at, wasm_f32x4_mul(wasm_f32x4_sub(f[k], wasm_v128_load(zero + at)),
                                             wasm_v128_load(scale + at)));
    }
  }
  for (; i < n; ++i) y[i] = (float(q[i]) - zero[i]) * scale[i];
}

// ---- reductions ---------------------------------------------------------------------------------

inline float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// All ones in the lanes holding a finite value: v - v is +0 there and NaN for NaN and +-inf. Two
// single-instruction ops in V8, where abs(v) < inf needs a constant mask and a compare more.
inline v128_t finite_lanes(v128_t v) {
  const v128_t zero_if_finite = wasm_f32x4_sub(v, v);
  return wasm_f32x4_eq(zero_if_finite, zero_if_finite);
}

}  // namespace

#define QPLAY_SIMD_CODE_KERNELS(T, s)                                                                \
  QPLAY_QUANTIZE_RUN_DECL(T, s) {                                                                   \
    return quantize(x, n, SameParams(scale_op, zf, zi), spec, index0, out);                         \
  }                                                                                                 \
  QPLAY_QUANTIZE_VEC_DECL(T, s) {                                                                   \
    return quantize(x, n, PerElementParams{scale_op, zf, zi}, spec, index0, out);                   \
  }                                                                                                 \
  QPLAY_DEQUANTIZE_RUN_DECL(T, s) { dequantize_run<T>(q, n, scale, zero, y); }                      \
  QPLAY_DEQUANTIZE_VEC_DECL(T, s) { dequantize_vec<T>(q, n, scale, zero, y); }
QPLAY_FOR_EACH_CODE_TYPE(QPLAY_SIMD_CODE_KERNELS)
#undef QPLAY_SIMD_CODE_KERNELS

// minmax in blocks on the raw float bits, with no per-lane finite test: four integer extremes per
// block (signed and unsigned max and min) determine the float extremes in element::min_total /
// max_total order, -0 < +0 included:
//  - negative floats (sign bit set) are the largest as u32, ordered by magnitude, so the smallest
//    float is max_u when any negative is present, else min_u (the smallest non-negative);
//  - non-negative floats are >= 0 as i32 and ordered, so the largest float is max_s when any is
//    present, else min_s (all negative: the one nearest -0, which is INT32_MIN itself).
// +inf and NaN with the sign bit clear are >= 0x7F800000 as i32, and -inf and NaN with it set are
// >= 0xFF800000 as u32, so the same extremes reveal whether a block holds a non-finite value; such
// a block (rare) is folded by the exact element loop, which counts them. Four single-instruction
// ops per vector instead of the key transform, two selects and a count.
constexpr size_t kMinMaxBlock = 1024;

struct BitExtremes {
  v128_t max_s, min_s, max_u, min_u;
  BitExtremes()
      : max_s(wasm_i32x4_splat(INT32_MIN)), min_s(wasm_i32x4_splat(INT32_MAX)), max_u(wasm_i32x4_splat(0)),
        min_u(wasm_i32x4_splat(-1)) {}
  void add(const BitExtremes& o) {
    max_s = wasm_i32x4_max(max_s, o.max_s);
    min_s = wasm_i32x4_min(min_s, o.min_s);
    max_u = wasm_u32x4_max(max_u, o.max_u);
    min_u = wasm_u32x4_min(min_u, o.min_u);
  }
  bool all_finite() const {
    return !wasm_v128_any_true(wasm_v128_or(wasm_i32x4_ge(max_s, wasm_i32x4_splat(0x7F800000)),
                                            wasm_u32x4_ge(max_u, wasm_i32x4_splat(int32_t(0xFF800000u)))));
  }
};

QPLAY_MINMAX_DECL {
  BitExtremes run;
  uint64_t seen = 0;  // finite elements folded into `run`
  float mn = acc->min, mx = acc->max;
  uint64_t nonfinite = 0;
  size_t i = 0;
  const size_t whole = n - n % 16;
  while (i < whole) {
    const size_t end = i + std::min(whole - i, kMinMaxBlock);
    BitExtremes block;
    for (size_t j = i; j < end; j += 16) {
      const v128_t a = wasm_v128_load(x + j), b = wasm_v128_load(x + j + 4);
      const v128_t c = wasm_v128_load(x + j + 8), d = wasm_v128_load(x + j + 12);
      // Trees keep each accumulator's dependency chain one op long per 16 elements.
      block.max_s = wasm_i32x4_max(block.max_s, wasm_i32x4_max(wasm_i32x4_max(a, b), wasm_i32x4_max(c, d)));
      block.min_s = wasm_i32x4_min(block.min_s, wasm_i32x4_min(wasm_i32x4_min(a, b), wasm_i32x4_min(c, d)));
      block.max_u = wasm_u32x4_max(block.max_u, wasm_u32x4_max(wasm_u32x4_max(a, b), wasm_u32x4_max(c, d)));
      block.min_u = wasm_u32x4_min(block.min_u, wasm_u32x4_min(wasm_u32x4_min(a, b), wasm_u32x4_min(c, d)));
    }
    if (block.all_finite()) {
      run.add(block);
      seen += end - i;
    } else {
      for (size_t j = i; j < end; ++j) {
        if (element::is_finite(x[j])) {
          mn = element::min_total(mn, x[j]);
          mx = element::max_total(mx, x[j]);
        } else {
          ++nonfinite;
        }
      }
    }
    i = end;
  }
  if (seen > 0) {
    auto fold = [](v128_t v, auto op) {
      uint32_t r = u32_lane0(v);
      for (uint32_t lane : {u32_lane1(v), u32_lane2(v), u32_lane3(v)}) r = op(r, lane);
      return r;
    };
    const uint32_t max_s = fold(run.max_s, [](uint32_t a, uint32_t b) { return int32_t(a) < int32_t(b) ? b : a; });
    const uint32_t min_s = fold(run.min_s, [](uint32_t a, uint32_t b) { return int32_t(b) < int32_t(a) ? b : a; });
    const uint32_t max_u = fold(run.max_u, [](uint32_t a, uint32_t b) { return a < b ? b : a; });
    const uint32_t min_u = fold(run.min_u, [](uint32_t a, uint32_t b) { return b < a ? b : a; });
    const float block_min = bits_float(max_u >= 0x80000000u ? max_u : min_u);
    const float block_max = bits_float(int32_t(max_s) >= 0 ? max_s : min_s);
    mn = element::min_total(mn, block_min);
    mx = element::max_total(mx, block_max);
  }
  for (; i < n; ++i) {
    if (element::is_finite(x[i])) {
      mn = element::min_total(mn, x[i]);
      mx = element::max_total(mx, x[i]);
    } else {
      ++nonfinite;
    }
  }
  acc->min = mn;
  acc->max = mx;
  acc->nonfinite += nonfinite;
}

QPLAY_MINMAX_ROWS_DECL {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t v = wasm_v128_load(x + i), lo = wasm_v128_load(mn + i), hi = wasm_v128_load(mx + i);
    const v128_t is_finite = finite_lanes(v);
    // pmin/pmax decide unequal pairs; for equal pairs OR picks -0 and AND picks +0 (identical bits
    // otherwise), which is element::min_total / max_total.
    const v128_t new_lo = wasm_v128_bitselect(wasm_v128_or(lo, v), wasm_f32x4_pmin(lo, v), wasm_f32x4_eq(lo, v));
    const v128_t new_hi = wasm_v128_bitselect(wasm_v128_and(hi, v), wasm_f32x4_pmax(hi, v), wasm_f32x4_eq(hi, v));
    wasm_v128_store(mn + i, wasm_v128_bitselect(new_lo, lo, is_finite));
    wasm_v128_store(mx + i, wasm_v128_bitselect(new_hi, hi, is_finite));
  }
  for (; i < n; ++i) {
    if (!element::is_finite(x[i])) continue;
    mn[i] = element::min_total(mn[i], x[i]);
    mx[i] = element::max_total(mx[i], x[i]);
  }
}

QPLAY_ABSMAX_DECL {
  const v128_t inf = wasm_f32x4_splat(element::kInf);
  v128_t m = wasm_f32x4_splat(*acc);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t a = wasm_f32x4_abs(wasm_v128_load(x + i));
    // Non-finite lanes become +0, as in element::absmax_fold.
    m = wasm_f32x4_pmax(m, wasm_v128_and(a, wasm_f32x4_lt(a, inf)));
  }
  float r = wasm_f32x4_extract_lane(m, 0);
  for (float lane : {wasm_f32x4_extract_lane(m, 1), wasm_f32x4_extract_lane(m, 2),
                     wasm_f32x4_extract_lane(m, 3)})
    r = r < lane ? lane : r;
  for (; i < n; ++i) r = element::absmax_fold(r, x[i]);
  *acc = r;
}

QPLAY_ERROR_SUMS_DECL {
  // Each sum as two f64x2: `lo` holds lanes 0 and 1, `hi` lanes 2 and 3 (element i -> lane i % 4).
  struct Sums {
    v128_t sq_err = wasm_f64x2_splat(0), abs_err = wasm_f64x2_splat(0), sq_x = wasm_f64x2_splat(0),
           sq_y = wasm_f64x2_splat(0), xy = wasm_f64x2_splat(0), max_abs = wasm_f64x2_splat(0);
    void add(v128_t xd, v128_t yd) {
      const v128_t d = wasm_f64x2_sub(xd, yd);
      const v128_t abs_d = wasm_f64x2_abs(d);
      sq_err = wasm_f64x2_add(sq_err, wasm_f64x2_mul(d, d));
      abs_err = wasm_f64x2_add(abs_err, abs_d);
      sq_x = wasm_f64x2_add(sq_x, wasm_f64x2_mul(xd, xd));
      sq_y = wasm_f64x2_add(sq_y, wasm_f64x2_mul(yd, yd));
      xy = wasm_f64x2_add(xy, wasm_f64x2_mul(xd, yd));
      max_abs = wasm_f64x2_pmax(max_abs, abs_d);
    }
  } lo, hi;
  size_t done = 0;
  const uint64_t count = counted_loop<4>(n, &done, [&](size_t i, v128_t& counts) {
    const v128_t xv = wasm_v128_load(x + i), yv = wasm_v128_load(y + i);
    // (x - x) + (y - y) is +0 when both are finite, NaN otherwise.
    const v128_t zero_if_finite = wasm_f32x4_add(wasm_f32x4_sub(xv, xv), wasm_f32x4_sub(yv, yv));
    const v128_t both_finite = wasm_f32x4_eq(zero_if_finite, zero_if_finite);
    // Skipped pairs become (+0, +0): every term they add is +0, as in element::ErrorLanes::add.
    const v128_t xm = wasm_v128_and(xv, both_finite), ym = wasm_v128_and(yv, both_finite);
    lo.add(wasm_f64x2_promote_low_f32x4(xm), wasm_f64x2_promote_low_f32x4(ym));
    hi.add(wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(xm, xm, 2, 3, 2, 3)),
           wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(ym, ym, 2, 3, 2, 3)));
    counts = wasm_i32x4_sub(counts, both_finite);
  });
  element::ErrorLanes lanes;
  auto unpack = [](v128_t l, v128_t h, double (&lane)[4]) {
    lane[0] = wasm_f64x2_extract_lane(l, 0);
    lane[1] = wasm_f64x2_extract_lane(l, 1);
    lane[2] = wasm_f64x2_extract_lane(h, 0);
    lane[3] = wasm_f64x2_extract_lane(h, 1);
  };
  unpack(lo.sq_err, hi.sq_err, lanes.sq_err);
  unpack(lo.abs_err, hi.abs_err, lanes.abs_err);
  unpack(lo.sq_x, hi.sq_x, lanes.sq_x);
  unpack(lo.sq_y, hi.sq_y, lanes.sq_y);
  unpack(lo.xy, hi.xy, lanes.xy);
  double max_lanes[4];
  unpack(lo.max_abs, hi.max_abs, max_lanes);
  for (double m : max_lanes) lanes.max_abs = lanes.max_abs < m ? m : lanes.max_abs;
  lanes.count = count;
  for (size_t i = done; i < n; ++i) lanes.add(x[i], y[i], i % 4);
  *out = lanes.finish();
}

// Four private count tables, one per lane, plus a discard slot for non-finite values: runs of
// equal bins (the middle of a bell curve) then increment four different counters instead of
// chaining loads and stores through one, and no finite mask has to be unpacked per lane. Counts
// are integers, so the tables sum to exactly what one table would hold. Tables of u32 are
// flushed long before a lane could overflow; very many bins keep the single table.
constexpr uint32_t kPrivateHistogramBins = 1u << 16;
constexpr size_t kHistogramFlush = size_t(1) << 30;  // elements per flush: < 2^32 per lane

QPLAY_HISTOGRAM_DECL {
  if (bins == 0) return;
  const uint32_t last = bins - 1;
  const v128_t zero = wasm_f32x4_splat(0.0f);
  const v128_t lo_v = wasm_f32x4_splat(lo), inv_width_v = wasm_f32x4_splat(inv_width);
  const v128_t last_v = wasm_i32x4_splat(int32_t(last));
  auto bins_of = [&](v128_t v) {
    v128_t b = wasm_f32x4_floor(wasm_f32x4_mul(wasm_f32x4_sub(v, lo_v), inv_width_v));
    b = wasm_f32x4_pmax(zero, b);
    return wasm_u32x4_min(wasm_i32x4_trunc_sat_f32x4(b), last_v);
  };
  size_t i = 0;
  if (bins <= kPrivateHistogramBins) {
    const size_t stride = size_t(bins) + 1;  // slot `bins` takes the non-finite lanes
    std::vector<uint32_t> lanes(4 * stride, 0);
    const v128_t discard = wasm_i32x4_splat(int32_t(bins));
    uint32_t* const t0 = lanes.data();
    uint32_t* const t1 = t0 + stride;
    uint32_t* const t2 = t1 + stride;
    uint32_t* const t3 = t2 + stride;
    auto flush = [&] {
      for (uint32_t k = 0; k < bins; ++k) {
        counts[k] += uint64_t(t0[k]) + t1[k] + t2[k] + t3[k];
        t0[k] = t1[k] = t2[k] = t3[k] = 0;
      }
    };
    while (i + 4 <= n) {
      const size_t end = i + std::min((n - i) & ~size_t(3), kHistogramFlush);
      for (; i < end; i += 4) {
        const v128_t v = wasm_v128_load(x + i);
        const v128_t bin = wasm_v128_bitselect(bins_of(v), discard, finite_lanes(v));
        ++t0[u32_lane0(bin)];
        ++t1[u32_lane1(bin)];
        ++t2[u32_lane2(bin)];
        ++t3[u32_lane3(bin)];
      }
      flush();
    }
  } else {
    for (; i + 4 <= n; i += 4) {
      const v128_t v = wasm_v128_load(x + i);
      const uint32_t finite_bits = uint32_t(wasm_i32x4_bitmask(finite_lanes(v)));
      const v128_t bin = bins_of(v);
      // Non-finite lanes land in a valid bin (NaN -> 0, +-inf -> last or 0) and add 0 there.
      counts[u32_lane0(bin)] += finite_bits & 1;
      counts[u32_lane1(bin)] += (finite_bits >> 1) & 1;
      counts[u32_lane2(bin)] += (finite_bits >> 2) & 1;
      counts[u32_lane3(bin)] += (finite_bits >> 3) & 1;
    }
  }
  for (; i < n; ++i)
    if (element::is_finite(x[i])) ++counts[element::histogram_bin(x[i], lo, inv_width, last)];
}

}  // namespace qplay::kernels::simd128
