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
#include <cstring>
#include <type_traits>

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

struct QuantizeConstants {
  v128_t qmin, qmax;
  v128_t half = wasm_f32x4_splat(0.5f);
  v128_t one = wasm_f32x4_splat(1.0f);
  v128_t sign_bit = wasm_i32x4_splat(int32_t(0x80000000u));
  // 1.5 * 2^23: adding it to an integral float in [-2^22, 2^22] is exact and leaves the integer
  // in the low mantissa bits, so one add and one integer subtract replace trunc_sat (several
  // instructions in V8) for the already clamped codes.
  v128_t magic = wasm_f32x4_splat(12582912.0f);
  v128_t magic_bits = wasm_i32x4_splat(0x4B400000);
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
  v128_t scale_v, zf_v, zi_v;
  SameParams(float s, float f, float i)
      : scale_op(s), zf(f), zi(i), scale_v(wasm_f32x4_splat(s)), zf_v(wasm_f32x4_splat(f)), zi_v(wasm_f32x4_splat(i)) {}
  v128_t scale_lanes(size_t) const { return scale_v; }
  v128_t zf_lanes(size_t) const { return zf_v; }
  v128_t zi_lanes(size_t) const { return zi_v; }
  float scale(size_t) const { return scale_op; }
  float zero_f(size_t) const { return zf; }
  float zero_i(size_t) const { return zi; }
};
struct PerElementParams {
  const float *scale_op, *zf, *zi;
  v128_t scale_lanes(size_t i) const { return wasm_v128_load(scale_op + i); }
  v128_t zf_lanes(size_t i) const { return wasm_v128_load(zf + i); }
  v128_t zi_lanes(size_t i) const { return wasm_v128_load(zi + i); }
  float scale(size_t i) const { return scale_op[i]; }
  float zero_f(size_t i) const { return zf[i]; }
  float zero_i(size_t i) const { return zi[i]; }
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

template <Round R, Div D, class T, class Params>
uint64_t quantize_loop(const float* x, size_t n, const Params& p, const QuantizeSpec& spec,
                       uint32_t index0, T* out) {
  constexpr size_t kStep = 16 / sizeof(T);  // elements per 16-byte store
  constexpr size_t kVectors = kStep / 4;
  const element::Bounds b = element::code_bounds<T>(spec);
  const QuantizeConstants c(b, spec);
  v128_t index = wasm_i32x4_add(wasm_i32x4_splat(int32_t(index0)), c.lane_offsets);
  size_t done = 0;
  uint64_t saturated = counted_loop<kStep>(n, &done, [&](size_t i, v128_t& counts) {
    v128_t codes[kVectors];
    for (size_t k = 0; k < kVectors; ++k) {
      const size_t at = i + 4 * k;
      codes[k] = quantize_lanes<R, D>(wasm_v128_load(x + at), p.scale_lanes(at), p.zf_lanes(at),
                                      p.zi_lanes(at), index, c, counts);
      if constexpr (R == Round::stochastic) index = wasm_i32x4_add(index, c.four);
    }
    wasm_v128_store(out + i, pack_codes<T>(codes));
  });
  const bool nan_to_qmin = spec.nan == NanCode::qmin;
  const uint32_t key = element::stream_key(spec.seed);
  for (size_t i = done; i < n; ++i) {
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

// Maps float bits to signed integers ordered like element::min_total / max_total (-0 < +0): the
// magnitude bits of negative values are flipped. The map is its own inverse.
inline uint32_t order_key(uint32_t bits) { return bits ^ (uint32_t(int32_t(bits) >> 31) >> 1); }
inline v128_t order_key_lanes(v128_t bits) {
  return wasm_v128_xor(bits, wasm_u32x4_shr(wasm_i32x4_shr(bits, 31), 1));
}
inline uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
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

QPLAY_MINMAX_DECL {
  const v128_t key_max = wasm_i32x4_splat(INT32_MAX), key_min = wasm_i32x4_splat(INT32_MIN);
  v128_t lo = wasm_i32x4_splat(int32_t(order_key(float_bits(acc->min))));
  v128_t hi = wasm_i32x4_splat(int32_t(order_key(float_bits(acc->max))));
  size_t done = 0;
  // Counts finite lanes; non-finite lanes are neutralised to the extreme keys.
  const uint64_t finite = counted_loop<4>(n, &done, [&](size_t i, v128_t& counts) {
    const v128_t v = wasm_v128_load(x + i);
    const v128_t is_finite = finite_lanes(v);
    const v128_t key = order_key_lanes(v);
    lo = wasm_i32x4_min(lo, wasm_v128_bitselect(key, key_max, is_finite));
    hi = wasm_i32x4_max(hi, wasm_v128_bitselect(key, key_min, is_finite));
    counts = wasm_i32x4_sub(counts, is_finite);
  });
  int32_t lo_key = wasm_i32x4_extract_lane(lo, 0), hi_key = wasm_i32x4_extract_lane(hi, 0);
  lo_key = std::min({lo_key, wasm_i32x4_extract_lane(lo, 1), wasm_i32x4_extract_lane(lo, 2),
                     wasm_i32x4_extract_lane(lo, 3)});
  hi_key = std::max({hi_key, wasm_i32x4_extract_lane(hi, 1), wasm_i32x4_extract_lane(hi, 2),
                     wasm_i32x4_extract_lane(hi, 3)});
  float mn = bits_float(order_key(uint32_t(lo_key))), mx = bits_float(order_key(uint32_t(hi_key)));
  uint64_t nonfinite = done - finite;
  for (size_t i = done; i < n; ++i) {
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

QPLAY_HISTOGRAM_DECL {
  if (bins == 0) return;
  const uint32_t last = bins - 1;
  const v128_t zero = wasm_f32x4_splat(0.0f);
  const v128_t lo_v = wasm_f32x4_splat(lo), inv_width_v = wasm_f32x4_splat(inv_width);
  const v128_t last_v = wasm_i32x4_splat(int32_t(last));
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t v = wasm_v128_load(x + i);
    const uint32_t finite_bits = uint32_t(wasm_i32x4_bitmask(finite_lanes(v)));
    v128_t b = wasm_f32x4_floor(wasm_f32x4_mul(wasm_f32x4_sub(v, lo_v), inv_width_v));
    b = wasm_f32x4_pmax(zero, b);
    const v128_t bin = wasm_u32x4_min(wasm_i32x4_trunc_sat_f32x4(b), last_v);
    // Non-finite lanes land in a valid bin (NaN -> 0, +-inf -> last or 0) and add 0 there.
    counts[u32_lane0(bin)] += finite_bits & 1;
    counts[u32_lane1(bin)] += (finite_bits >> 1) & 1;
    counts[u32_lane2(bin)] += (finite_bits >> 2) & 1;
    counts[u32_lane3(bin)] += (finite_bits >> 3) & 1;
  }
  for (; i < n; ++i)
    if (element::is_finite(x[i])) ++counts[element::histogram_bin(x[i], lo, inv_width, last)];
}

}  // namespace qplay::kernels::simd128
