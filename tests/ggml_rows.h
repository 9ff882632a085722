/* Deterministic test rows for the ggml block formats, shared by the fixture generator
 * (scripts/ggml_ref/make_vectors.c, compiled as C against a ggml checkout) and tests/ggml_test.cpp
 * (C++), so both see the same inputs without storing them. Only exact float operations are used
 * (integer -> float conversions and products with powers of two), so every platform and compiler
 * produces the same bits.
 *
 * Each row has 256 values (one K-quant super-block, eight 32-blocks) and a kind = index % 12 that
 * aims at a different corner: uniform, bell-shaped, outliers, the tie patterns of Q8_0 / Q4_0 /
 * MXFP4 / IQ4_NL, zero and near-zero sub-blocks, subnormal blocks, heavy tails, small integers,
 * one-signed rows. The first 32-block of a row is never all (near-)zero: ggml leaves an IQ4_NL
 * all-zero first block's codes uninitialised (see docs/GGML_FORMATS.md). */
#ifndef QPLAY_TESTS_GGML_ROWS_H
#define QPLAY_TESTS_GGML_ROWS_H

#include <stdint.h>
#include <string.h>

#define QPLAY_GGML_ROW_LEN 256
#define QPLAY_GGML_ROW_KINDS 12

typedef struct {
  uint64_t state;
} qplay_rng;

/* splitmix64 */
static inline uint64_t qplay_rng_next(qplay_rng* r) {
  uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
/* uniform integer in [lo, hi] */
static inline int32_t qplay_rng_int(qplay_rng* r, int32_t lo, int32_t hi) {
  return lo + (int32_t)(qplay_rng_next(r) % (uint64_t)(hi - lo + 1));
}
/* 2^e as a float, exact for -149 <= e <= 127 */
static inline float qplay_pow2(int e) {
  uint32_t u;
  float f;
  if (e >= -126) {
    u = (uint32_t)(e + 127) << 23;
  } else {
    u = 1u << (e + 149);
  }
  memcpy(&f, &u, sizeof f);
  return f;
}
/* k * 2^e for |k| < 2^24: exact unless it underflows below 2^-149 (then rounded, same everywhere) */
static inline float qplay_scaled(int32_t k, int e) {
  /* split the power so neither factor over- or underflows on its own */
  if (e < -126) return (float)k * qplay_pow2(-126) * qplay_pow2(e + 126);
  return (float)k * qplay_pow2(e);
}

/* One 32-element block of the given pattern into x[0..32). */
static inline void qplay_ggml_block(qplay_rng* r, int kind, int first_block, float* x) {
  int j, at; /* one random draw per statement: C leaves the order of operands unspecified */
  const int s = qplay_rng_int(r, -12, 12); /* the block's scale exponent */
  switch (kind) {
    case 0: /* uniform in [-2^s, 2^s) */
      for (j = 0; j < 32; ++j) x[j] = qplay_scaled(qplay_rng_int(r, -(1 << 23), (1 << 23) - 1), s - 23);
      break;
    case 1: /* bell-shaped: sum of four uniforms */
      for (j = 0; j < 32; ++j) {
        int32_t k = 0, t;
        for (t = 0; t < 4; ++t) k += qplay_rng_int(r, -(1 << 20), 1 << 20);
        x[j] = qplay_scaled(k, s - 21);
      }
      break;
    case 2: /* bell-shaped with a few large outliers */
      for (j = 0; j < 32; ++j) {
        int32_t k = qplay_rng_int(r, -(1 << 20), 1 << 20);
        k += qplay_rng_int(r, -(1 << 20), 1 << 20);
        x[j] = qplay_scaled(k, s - 20);
        if (qplay_rng_int(r, 0, 15) == 0) x[j] = qplay_scaled(k, s - 20 + qplay_rng_int(r, 3, 7));
      }
      break;
    case 3: /* Q8_0 ties: amax 127 * 2^s (d = 2^s exactly), others (k + 1/2) * 2^s */
      for (j = 0; j < 32; ++j) x[j] = qplay_scaled(2 * qplay_rng_int(r, -127, 126) + 1, s - 1);
      at = qplay_rng_int(r, 0, 31);
      x[at] = qplay_scaled(qplay_rng_int(r, 0, 1) ? 127 : -127, s);
      break;
    case 4: /* Q4_0 / Q5_0 ties: first extreme -8 * 2^s or 16 * 2^s, others k/2 * 2^s */
      for (j = 0; j < 32; ++j) x[j] = qplay_scaled(qplay_rng_int(r, -16, 16), s - 1);
      at = qplay_rng_int(r, 0, 31);
      x[at] = qplay_scaled(qplay_rng_int(r, 0, 1) ? -8 : 16, s);
      break;
    case 5: /* MXFP4 ties: amax 6 * 2^s, others multiples of 2^(s-2) (every E2M1 midpoint) */
      for (j = 0; j < 32; ++j) x[j] = qplay_scaled(qplay_rng_int(r, -28, 28), s - 2);
      at = qplay_rng_int(r, 0, 31);
      x[at] = qplay_scaled(qplay_rng_int(r, 0, 1) ? 6 : -6, s);
      break;
    case 6: /* IQ4_NL ties: first max -127 * 2^s (d = 2^s), others half-integers * 2^s */
      for (j = 0; j < 32; ++j) x[j] = qplay_scaled(qplay_rng_int(r, -253, 253), s - 1);
      x[0] = qplay_scaled(-127, s);
      break;
    case 7: /* zero, constant, near-zero (below GROUP_MAX_EPS) or mixed-zero sub-blocks */
      switch (first_block ? 3 : qplay_rng_int(r, 0, 4)) {
        case 0:
          for (j = 0; j < 32; ++j) x[j] = 0.0f;
          break;
        case 1:
          for (j = 0; j < 32; ++j) x[j] = qplay_scaled(qplay_rng_int(r, 1, 100), s);
          break;
        case 2:
          for (j = 0; j < 32; ++j) x[j] = qplay_scaled(qplay_rng_int(r, -1000, 1000), -70);
          break;
        case 3:
          for (j = 0; j < 32; ++j) x[j] = j < 16 ? 0.0f : qplay_scaled(qplay_rng_int(r, -1000, 1000), s - 10);
          break;
        default:
          for (j = 0; j < 32; ++j) x[j] = qplay_rng_int(r, 0, 1) ? qplay_scaled(qplay_rng_int(r, -99, 99), s) : -0.0f;
          x[5] = qplay_scaled(1, s);
          break;
      }
      break;
    case 8: /* subnormal and tiny blocks: 1/d overflows, E8M0 exponents wrap */
      for (j = 0; j < 32; ++j) {
        const int32_t k = qplay_rng_int(r, -(1 << 12), 1 << 12);
        x[j] = qplay_scaled(k, qplay_rng_int(r, -150, -118));
      }
      at = qplay_rng_int(r, 1, 1000);
      x[3] = qplay_scaled(at, qplay_rng_int(r, -140, -118));
      break;
    case 9: /* heavy tail: k^3 */
      for (j = 0; j < 32; ++j) {
        const int32_t k = qplay_rng_int(r, -128, 128);
        x[j] = qplay_scaled(k * k * k, s - 21);
      }
      break;
    case 10: /* small integers j - 16 + offset, some zeros */
      {
        const int32_t off = qplay_rng_int(r, -20, 20);
        for (j = 0; j < 32; ++j) x[j] = qplay_rng_int(r, 0, 7) == 0 ? 0.0f : qplay_scaled(j - 16 + off, s);
      }
      break;
    default: /* one-signed blocks (min > 0 or max < 0), large magnitudes */
      {
        const int32_t sign = qplay_rng_int(r, 0, 1) ? 1 : -1;
        for (j = 0; j < 32; ++j) x[j] = qplay_scaled(sign * qplay_rng_int(r, 1 << 10, 1 << 16), s + 10);
      }
      break;
  }
}

/* Row `index` of the stream `seed`: 256 values. Most rows use their own kind in every 32-block;
 * every third row mixes kinds per block so the K-quant sub-blocks see neighbours of other kinds. */
static inline void qplay_ggml_row(uint64_t seed, uint32_t index, float* x) {
  qplay_rng r;
  int b;
  r.state = seed ^ (0xD1B54A32D192ED03ull * (uint64_t)(index + 1));
  for (b = 0; b < QPLAY_GGML_ROW_LEN / 32; ++b) {
    int kind = (int)(index % QPLAY_GGML_ROW_KINDS);
    if (index % 3 == 2) kind = qplay_rng_int(&r, 0, QPLAY_GGML_ROW_KINDS - 1);
    qplay_ggml_block(&r, kind, b == 0, x + 32 * b);
  }
  /* keep the first block away from IQ4_NL's uninitialised all-zero case */
  {
    int j, nonzero = 0;
    for (j = 0; j < 32; ++j) nonzero |= (x[j] > 1e-15f || x[j] < -1e-15f);
    if (!nonzero) x[7] = 1.0f;
  }
}

/* FNV-1a 64 over bytes; a digest of many rows' block bytes fits in the fixture. */
static inline uint64_t qplay_fnv1a(uint64_t h, const void* data, size_t n) {
  const unsigned char* p = (const unsigned char*)data;
  size_t i;
  for (i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001B3ull;
  }
  return h;
}
#define QPLAY_FNV1A_INIT 0xCBF29CE484222325ull

/* Digest of floats by bit pattern, every NaN counted as 0x7FC00000 (NaN payloads and signs from
 * arithmetic are platform-specific; which elements are NaN is not). */
static inline uint64_t qplay_fnv1a_floats(uint64_t h, const float* y, size_t n) {
  size_t i;
  for (i = 0; i < n; ++i) {
    uint32_t u;
    memcpy(&u, &y[i], sizeof u);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) u = 0x7FC00000u;
    h = qplay_fnv1a(h, &u, sizeof u);
  }
  return h;
}

/* Random block bytes for the dequantize checks (any bytes must decode identically). */
static inline void qplay_ggml_random_bytes(uint64_t seed, uint32_t index, unsigned char* out, size_t n) {
  qplay_rng r;
  size_t i;
  r.state = seed ^ (0x9E6C63D0676A9A99ull * (uint64_t)(index + 1));
  for (i = 0; i < n; ++i) out[i] = (unsigned char)(qplay_rng_next(&r) >> 56);
}

#endif /* QPLAY_TESTS_GGML_ROWS_H */
