// The scalar twins of the hot ggml quantizers: the specification ggml_simd128.cpp is tested against
// bit for bit. Each loop states ggml's quantize_row_<type>_ref for one 32-element block
// (ggml-org/ggml@d99724f2:src/ggml-quants.c), in the same float operations and order.
#include <cfloat>
#include <cmath>
#include <cstring>

#include "ggml_element.hpp"
#include "ggml_kernels.hpp"
#include "kernels.hpp"

namespace qplay::kernels::scalar {

using namespace qplay::ggml_element;

// Q8_0: d = amax / 127 (stored as fp16), q = roundf(x * (1/d)) -- C roundf, ties away from zero.
// q is computed with the fp32 1/d, not the fp16 d the decoder will use.
bool ggml_quantize_q8_0(const float* x, size_t nblocks, uint8_t* out) noexcept {
  bool finite = true;
  for (size_t b = 0; b < nblocks; ++b, x += kQK, out += kQ8_0Bytes) {
    float amax = 0.0f;
    for (size_t j = 0; j < kQK; ++j) {
      const float a = std::fabs(x[j]);
      finite &= a <= FLT_MAX;  // false for NaN and inf
      amax = amax > a ? amax : a;
    }
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_fp16(out, d);
    for (size_t j = 0; j < kQK; ++j) out[2 + j] = uint8_t(trunc_i32_x86(std::round(x[j] * id)));
  }
  return finite;
}

// Q8_1: Q8_0 plus s = fp16(d * sum(q)) (ggml uses it for dot products); the sum is of the stored
// int8 codes.
bool ggml_quantize_q8_1(const float* x, size_t nblocks, uint8_t* out) noexcept {
  bool finite = true;
  for (size_t b = 0; b < nblocks; ++b, x += kQK, out += kQ8_1Bytes) {
    float amax = 0.0f;
    for (size_t j = 0; j < kQK; ++j) {
      const float a = std::fabs(x[j]);
      finite &= a <= FLT_MAX;
      amax = amax > a ? amax : a;
    }
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_fp16(out, d);
    int sum = 0;
    for (size_t j = 0; j < kQK; ++j) {
      const int8_t q = int8_t(trunc_i32_x86(std::round(x[j] * id)));
      out[4 + j] = uint8_t(q);
      sum += q;
    }
    store_fp16(out + 2, float(sum) * d);
  }
  return finite;
}

// Q4_0: max = the signed value of largest magnitude (the first one on ties), d = max / -8, and
// q = min(15, (int8_t)(x * (1/d) + 8.5f)): truncation after adding 8.5 in float, i.e. round half up
// of x/d, where the float add itself may round (0.49999997f + 8.5f == 9.0f). The extreme element
// gets q = 0; its negation would get 16 and is clamped to 15. Nibbles: element j low, j + 16 high.
// An all-zero block has max = +0, so d = -0.0 (fp16 0x8000) and every q = 8.
bool ggml_quantize_q4_0(const float* x, size_t nblocks, uint8_t* out) noexcept {
  bool finite = true;
  for (size_t b = 0; b < nblocks; ++b, x += kQK, out += kQ4_0Bytes) {
    float amax = 0.0f, max = 0.0f;
    for (size_t j = 0; j < kQK; ++j) {
      const float a = std::fabs(x[j]);
      finite &= a <= FLT_MAX;
      if (amax < a) {
        amax = a;
        max = x[j];
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_fp16(out, d);
    for (size_t j = 0; j < kQK / 2; ++j) {
      const int8_t v0 = int8_t(trunc_i32_x86(x[j] * id + 8.5f));
      const int8_t v1 = int8_t(trunc_i32_x86(x[j + kQK / 2] * id + 8.5f));
      const uint8_t q0 = uint8_t(v0 < 15 ? v0 : 15);
      const uint8_t q1 = uint8_t(v1 < 15 ? v1 : 15);
      out[2 + j] = uint8_t(q0 | (q1 << 4));
    }
  }
  return finite;
}

namespace {

// min and max of a block, ggml's way: strict comparisons from +-FLT_MAX (so of a +0 and a -0 the
// first one seen is kept). Also whether every x is finite.
bool block_min_max(const float* x, float* mn, float* mx) {
  float lo = FLT_MAX, hi = -FLT_MAX;
  bool finite = true;
  for (size_t j = 0; j < kQK; ++j) {
    finite &= std::fabs(x[j]) <= FLT_MAX;
    if (x[j] < lo) lo = x[j];
    if (x[j] > hi) hi = x[j];
  }
  *mn = lo;
  *mx = hi;
  return finite;
}

// The signed value of largest magnitude, the first on ties; +0 when every |x| is 0.
float block_signed_max(const float* x, bool* finite) {
  float amax = 0.0f, max = 0.0f;
  for (size_t j = 0; j < kQK; ++j) {
    const float a = std::fabs(x[j]);
    *finite &= a <= FLT_MAX;
    if (amax < a) {
      amax = a;
      max = x[j];
    }
  }
  return max;
}

// (int8_t)(t) clamped above by `top`, stored as uint8_t: ggml's MIN(top, (int8_t)(t)).
uint8_t clamp_top_i8(float t, int top) {
  const int v = int8_t(trunc_i32_x86(t));
  return uint8_t(v < top ? v : top);
}

// The Q4_1 / Q5_1 header: d = (max - min) / steps and m = min, as fp16 at out; returns 1/d (0 for
// d = 0) and the min, and clears *finite when some x is NaN or inf.
float min_scale_header(const float* x, float steps, uint8_t* out, float* mn, bool* finite) {
  float mx;
  *finite &= block_min_max(x, mn, &mx);
  const float d = (mx - *mn) / steps;
  store_fp16(out, d);
  store_fp16(out + 2, *mn);
  return d != 0.0f ? 1.0f / d : 0.0f;
}

// Q5_x: the low nibbles as Q4_0 packs them at qs, bit 4 of element j to bit j of the qh word.
void store_q5(const uint8_t* q, uint8_t* qh_at, uint8_t* qs) {
  uint32_t qh = 0;
  for (size_t j = 0; j < kQK / 2; ++j) {
    qs[j] = uint8_t((q[j] & 0x0F) | ((q[j + kQK / 2] & 0x0F) << 4));
    qh |= uint32_t((q[j] & 0x10u) >> 4) << j;
    qh |= uint32_t((q[j + kQK / 2] & 0x10u) >> 4) << (j + kQK / 2);
  }
  store_u32le(qh_at, qh);
}

// ggml's best_index_int8 over the 16 IQ4_NL levels: the nearest level, a tie going to the UPPER
// one (x - lower < upper - x is strict), values outside the table to its ends.
uint8_t iq4nl_best_index(float x) {
  if (x <= kIq4nlLevels[0]) return 0;
  if (x >= kIq4nlLevels[15]) return 15;
  int ml = 0, mu = 15;  // bisect to kIq4nlLevels[mu - 1] <= x < kIq4nlLevels[mu]
  while (mu - ml > 1) {
    const int mid = (ml + mu) / 2;
    if (x < kIq4nlLevels[mid]) {
      mu = mid;
    } else {
      ml = mid;
    }
  }
  return uint8_t(x - kIq4nlLevels[mu - 1] < kIq4nlLevels[mu] - x ? mu - 1 : mu);
}

}  // namespace

// Q4_1: d = (max - min) / 15, m = min, q = min(15, (int8_t)((x - min) * (1/d) + 0.5f)): round half
// up of the shifted value (with the float add's own rounding); x = q * d + m.
bool ggml_quantize_q4_1(const float* x, size_t nblocks, uint8_t* out) noexcept {
  bool finite = true;
  for (size_t b = 0; b < nblocks; ++b, x += kQK, out += kQ4_1Bytes) {
    float mn;
    const float id = min_scale_header(x, 15.0f, out, &mn, &finite);
    for (size_t j = 0; j < kQK / 2; ++j) {
      const uint8_t q0 = clamp_top_i8((x[j] - mn) * id + 0.5f, 15);
      const uint8_t q1 = clamp_top_i8((x[j + kQK / 2] - mn) * id + 0.5f, 15);
      out[4 + j] = uint8_t(q0 | (q1 << 4));
    }
  }
  return finite;
}

// Q5_0: like Q4_0 with 5 bits: d = max / -16, q = min(31, (int8_t)(x * (1/d) + 16.5f)).
bool ggml_quantize_q5_0(const float* x, size_t nblocks, uint8_t* out) noexcept {
  bool finite = true;
  for (size_t b = 0; b < nblocks; ++b, x += kQK, out += kQ5_0Bytes) {
    const float max = block_signed_max(x, &finite);
    const float d = max / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_fp16(out, d);
    uint8_t q[kQK];
    for (size_t j = 0; j < kQK; ++j) q[j] = clamp_top_i8(x[j] * id + 16.5f, 31);
    store_q5(q, out + 2, out + 6);
  }
  return finite;
}

// Q5_1: d = (max - min) / 31, m = min, q = (uint8_t)((x - min) * (1/d) + 0.5f) -- no clamp in ggml.
bool ggml_quantize_q5_1(const float* x, size_t nblocks, uint8_t* out) noexcept {
  bool finite = true;
  for (size_t b = 0; b < nblocks; ++b, x += kQK, out += kQ5_1Bytes) {
    float mn;
    const float id = min_scale_header(x, 31.0f, out, &mn, &finite);
    uint8_t q[kQK];
    for (size_t j = 0; j < kQK; ++j) q[j] = uint8_t(trunc_i32_x86((x[j] - mn) * id + 0.5f));
    store_q5(q, out + 4, out + 8);
  }
  return finite;
}

// IQ4_NL: quantize_row_iq4_nl_ref = quantize_row_iq4_nl_impl(32, 32, ..., no weights, ntry = -1):
// weights x^2; with max = the signed value of largest magnitude (first on ties), d = max / -127 and
// codes best_index(x / d); the stored scale is the weighted least-squares refit
// sum(w q x) / sum(w q^2) (as fp16, the sums in element order), while the codes stay those of the
// unrefitted d. (llama-quantize's quantize_iq4_nl uses ntry = 7, a further scale search: different
// bytes.)
//
// A block whose max |x| is below GROUP_MAX_EPS gets d = 0 and ggml packs codes from a buffer it did
// not write for that block: whatever the previous block of the same call left there (uninitialised
// memory for the first block). We reproduce the carry-over within a call and start from zero codes.
bool ggml_quantize_iq4_nl(const float* x, size_t nblocks, uint8_t* out) noexcept {
  bool finite = true;
  uint8_t L[kQK] = {};
  for (size_t b = 0; b < nblocks; ++b, x += kQK, out += kIq4nlBytes) {
    const float max = block_signed_max(x, &finite);
    const float amax = std::fabs(max);
    float d = 0.0f;
    if (!(amax < kGroupMaxEps)) {
      d = max / kIq4nlLevels[0];
      const float id = 1 / d;
      float sumqx = 0, sumq2 = 0;
      for (size_t j = 0; j < kQK; ++j) {
        const uint8_t l = iq4nl_best_index(id * x[j]);
        L[j] = l;
        const float q = kIq4nlLevels[l];
        const float w = x[j] * x[j];
        sumqx += w * q * x[j];
        sumq2 += w * q * q;
      }
      d = sumq2 > 0 ? sumqx / sumq2 : 0.0f;
    }
    store_fp16(out, d);
    for (size_t j = 0; j < kQK / 2; ++j) out[2 + j] = uint8_t(L[j] | (L[j + kQK / 2] << 4));
  }
  return finite;
}

// MXFP4: e = floor(log2(amax)) - 2 + 127 (OCP's rule for E2M1, emax 2), d = 2^(e-127) / 2, and
// each element the index of the nearest kvalue * d, ties to the lower index.
bool ggml_quantize_mxfp4(const float* x, size_t nblocks, uint8_t* out) noexcept {
  bool finite = true;
  for (size_t b = 0; b < nblocks; ++b, x += kQK, out += kMxfp4Bytes) {
    float amax = 0.0f;
    for (size_t j = 0; j < kQK; ++j) {
      const float a = std::fabs(x[j]);
      finite &= a <= FLT_MAX;
      if (amax < a) amax = a;
    }
    const uint8_t e = mxfp4_exponent(amax);
    const float d = e8m0_to_fp32_half(e);
    out[0] = e;
    for (size_t j = 0; j < kQK / 2; ++j) {
      out[1 + j] = uint8_t(mxfp4_best_index(x[j], d) | (mxfp4_best_index(x[j + kQK / 2], d) << 4));
    }
  }
  return finite;
}

}  // namespace qplay::kernels::scalar

namespace qplay::kernels {
namespace {

#define QPLAY_GGML_TABLE_ENTRY(type) .ggml_quantize_##type = &NS::ggml_quantize_##type,
#define NS scalar
constexpr GgmlTable kGgmlScalar{QPLAY_GGML_KERNELS(QPLAY_GGML_TABLE_ENTRY).name = "scalar"};
#undef NS
#if QPLAY_HAVE_SIMD128
#define NS simd128
constexpr GgmlTable kGgmlSimd128{QPLAY_GGML_KERNELS(QPLAY_GGML_TABLE_ENTRY).name = "simd128"};
#undef NS
#endif
#undef QPLAY_GGML_TABLE_ENTRY

}  // namespace

const GgmlTable& ggml_scalar_table() { return kGgmlScalar; }

const GgmlTable* ggml_simd128_table() {
#if QPLAY_HAVE_SIMD128
  return &kGgmlSimd128;
#else
  return nullptr;
#endif
}

const GgmlTable& ggml_table() { return same_twin_as_table(kGgmlScalar, ggml_simd128_table()); }

}  // namespace qplay::kernels
