// ggml's K-quants: 256-element super-blocks of 16- or 32-element sub-blocks whose scales are
// themselves quantized ("double quantization"): Q2_K, Q3_K, Q4_K, Q5_K, Q6_K.
// Source read: ggml-org/ggml@d99724f2:src/ggml-quants.c (make_qkx2_quants, make_qx_quants,
// make_q3_quants, quantize_row_q*_K_ref, dequantize_row_q*_K), src/ggml-common.h (layouts).
//
// The searches are restated with ggml's float operations in ggml's order (C evaluates a*b*c as
// (a*b)*c, ints convert to float before mixing, sums run left to right); all rounding to integers
// is nearest_int (round half to even). Nothing is fused (the build has -ffp-contract=off, and ggml's
// reference on x86-64 is compiled without FMA).
#include <cmath>
#include <cstring>

#include "ggml_schemes.hpp"
#include "kernels/ggml_element.hpp"

namespace qplay::ggml_detail {

using namespace qplay::ggml_element;

namespace {

constexpr float kGroupMaxEps = 1e-15f;  // ggml's GROUP_MAX_EPS: below it a group counts as zero

constexpr size_t kQ2_KBytes = 84;   // scales[16], qs[64], d:f16, dmin:f16
constexpr size_t kQ3_KBytes = 110;  // hmask[32], qs[64], scales[12], d:f16
constexpr size_t kQ4_KBytes = 144;  // d:f16, dmin:f16, scales[12], qs[128]
constexpr size_t kQ5_KBytes = 176;  // d:f16, dmin:f16, scales[12], qh[32], qs[128]
constexpr size_t kQ6_KBytes = 210;  // ql[128], qh[64], scales:int8[16], d:f16

inline int clamp_int(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// ---- the sub-block searches ---------------------------------------------------------------------

// make_qkx2_quants: an asymmetric scale and min for n values with codes 0..nmax. Start from the
// min/max grid (min clamped to <= 0), then try nstep + 1 inverse scales (rmin + rdelta * is + nmax) /
// (max - min), each refit by weighted least squares for (scale, min) (min again clamped to <= 0,
// refitting the scale alone), keeping the one with the smallest weighted error (|diff| when use_mad,
// diff^2 otherwise). Returns the scale, *the_min = -min (>= 0) and the codes in L.
// (n and nmax are template parameters so each use compiles to fixed-size loops the compiler can
// vectorise, as ggml's static functions get constant-propagated; the float operations are unchanged.)
template <int n, int nmax>
float make_qkx2_quants(const float* x, const float* weights, uint8_t* L, float* the_min,
                       uint8_t* Laux, float rmin, float rdelta, int nstep, bool use_mad) {
  float min = x[0], max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    const float w = weights[i];
    sum_w += w;
    sum_x += w * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    *the_min = -min;
    return 0.0f;
  }
  float iscale = float(nmax) / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    const int l = nearest_int(iscale * (x[i] - min));
    L[i] = uint8_t(clamp_int(l, 0, nmax));
    float diff = scale * float(L[i]) + min - x[i];
    diff = use_mad ? std::fabs(diff) : diff * diff;
    best_error += weights[i] * diff;
  }
  if (nstep < 1) {
    *the_min = -min;
    return scale;
  }
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * float(is) + float(nmax)) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = clamp_int(nearest_int(iscale * (x[i] - min)), 0, nmax);
      Laux[i] = uint8_t(l);
      const float w = weights[i];
      const float fl = float(l);
      sum_l += w * fl;
      sum_l2 += w * fl * fl;
      sum_xl += w * fl * x[i];
    }
    const float D = sum_w * sum_l2 - sum_l * sum_l;
    if (D > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float cur_error = 0;
      for (int i = 0; i < n; ++i) {
        float diff = this_scale * float(Laux[i]) + this_min - x[i];
        diff = use_mad ? std::fabs(diff) : diff * diff;
        cur_error += weights[i] * diff;
      }
      if (cur_error < best_error) {
        for (int i = 0; i < n; ++i) L[i] = Laux[i];
        best_error = cur_error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *the_min = -min;
  return scale;
}

// make_qx_quants with rmse_type 1 and no importance weights (the only use in the _ref path, Q6_K):
// a symmetric scale for codes -nmax..nmax-1 (stored + nmax), weights x^2. Start at -nmax / max
// (max = the signed value of largest magnitude), refit by least squares, then try 18 more inverse
// scales -(nmax + 0.1 * is) / max, is = -9..9 without 0, keeping the best sum(w x l)^2 / sum(w l^2).
// An all-(near-)zero group gives codes 0 (not nmax) and scale 0.
template <int n, int nmax>
float make_qx_quants_rmse1(const float* x, int8_t* L) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.0f;
  }
  float w[n], wx[n];  // the weights x^2 and w * x, the same values ggml recomputes per candidate
  for (int i = 0; i < n; ++i) {
    w[i] = x[i] * x[i];
    wx[i] = w[i] * x[i];
  }
  // The codes of one candidate scale, then the two sums in ggml's order (a separate loop so the
  // code computation vectorises; the sums stay sequential).
  int l[n];
  auto codes = [&](float iscale) {
    for (int i = 0; i < n; ++i) l[i] = clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1);
  };
  auto sums = [&](float* sumlx, float* suml2) {
    float slx = 0, sl2 = 0;
    for (int i = 0; i < n; ++i) {
      const float fl = float(l[i]);
      slx += wx[i] * fl;
      sl2 += w[i] * fl * fl;
    }
    *sumlx = slx;
    *suml2 = sl2;
  };
  float iscale = float(-nmax) / max;
  float sumlx, suml2;
  codes(iscale);
  for (int i = 0; i < n; ++i) L[i] = int8_t(l[i] + nmax);
  sums(&sumlx, &suml2);
  float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(float(nmax) + 0.1f * float(is)) / max;
    codes(iscale);
    sums(&sumlx, &suml2);
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) L[i] = int8_t(l[i] + nmax);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// make_q3_quants with do_rmse (Q3_K): symmetric codes -nmax..nmax-1 from -nmax / max, then up to 5
// passes of coordinate descent moving single codes while sum(w x l)^2 / sum(w l^2) improves
// (weights x^2). Codes are returned + nmax; all-(near-)zero groups give codes 0 and scale 0.
template <int n, int nmax>
float make_q3_quants_rmse(const float* x, int8_t* L) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.0f;
  }
  const float iscale = float(-nmax) / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1);
    L[i] = int8_t(l);
    const float w = x[i] * x[i];
    const float fl = float(l);
    sumlx += w * x[i] * fl;
    suml2 += w * fl * fl;
  }
  for (int itry = 0; itry < 5; ++itry) {
    int n_changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      const float li = float(L[i]);
      float slx = sumlx - w * x[i] * li;
      if (slx > 0) {
        float sl2 = suml2 - w * li * li;
        const int new_l = clamp_int(nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
        if (new_l != L[i]) {
          const float fl = float(new_l);
          slx += w * x[i] * fl;
          sl2 += w * fl * fl;
          if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
            L[i] = int8_t(new_l);
            sumlx = slx;
            suml2 = sl2;
            ++n_changed;
          }
        }
      }
    }
    if (!n_changed) break;
  }
  for (int i = 0; i < n; ++i) L[i] = int8_t(L[i] + nmax);
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

// ---- 6-bit scale/min packing shared by Q4_K and Q5_K --------------------------------------------
// 8 sub-blocks, a 6-bit scale and a 6-bit min each, in 12 bytes: for j < 4, scale j is the low 6 bits
// of byte j and min j of byte j + 4; for j >= 4, byte j + 4 holds scale j's low nibble (bits 0-3) and
// min j's low nibble (bits 4-7), and their top 2 bits sit in bits 6-7 of bytes j - 4 and j.
void pack_scale_min_k4(const uint8_t* ls, const uint8_t* lm, uint8_t* s) {
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      s[j] = ls[j];
      s[j + 4] = lm[j];
    } else {
      s[j + 4] = uint8_t((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
      s[j - 4] = uint8_t(s[j - 4] | ((ls[j] >> 4) << 6));
      s[j] = uint8_t(s[j] | ((lm[j] >> 4) << 6));
    }
  }
}
void unpack_scale_min_k4(int j, const uint8_t* s, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = uint8_t((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4));
    *m = uint8_t((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  }
}

// The first half of Q4_K / Q5_K: per 32-element sub-block weights sqrt(mean x^2) + |x|, the
// make_qkx2_quants search, then scales and mins quantized to 6 bits against their maxima, d and dmin
// stored as fp16; finally every value re-quantized with the decoded d * sc and dmin * m:
// l = nearest_int((x + dmin * m) / (d * sc)) clamped to [0, nmax]. Writes d, dmin and the 12 scale
// bytes at out[0..16) and the codes in L.
template <int nmax>
void quantize_k4_scales_and_codes(const float* x, float rmin, int nstep, uint8_t* out, uint8_t* L) {
  uint8_t Laux[32];
  float weights[32];
  float mins[8], scales[8];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < 8; ++j) {
    const float* xs = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / 32.0f);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xs[l]);
    scales[j] = make_qkx2_quants<32, nmax>(xs, weights, L + 32 * j, &mins[j], Laux, rmin, 0.1f,
                                           nstep, false);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
  uint8_t ls[8], lm[8];
  for (int j = 0; j < 8; ++j) {
    // uint8_t ls = nearest_int(...) in ggml: the int is narrowed to 8 bits before MIN(63, .).
    const uint8_t s = uint8_t(nearest_int(inv_scale * scales[j]));
    const uint8_t m = uint8_t(nearest_int(inv_min * mins[j]));
    ls[j] = s < 63 ? s : 63;
    lm[j] = m < 63 ? m : 63;
  }
  uint8_t* sb = out + 4;
  std::memset(sb, 0, 12);
  pack_scale_min_k4(ls, lm, sb);
  store_fp16(out, max_scale / 63.0f);
  store_fp16(out + 2, max_min / 63.0f);
  const float d_all = load_fp16(out);
  const float dmin_all = load_fp16(out + 2);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    unpack_scale_min_k4(j, sb, &sc, &m);
    const float d = d_all * float(sc);
    if (d == 0.0f) continue;  // codes stay as the search left them
    const float dm = dmin_all * float(m);
    for (int ii = 0; ii < 32; ++ii) {
      L[32 * j + ii] = uint8_t(clamp_int(nearest_int((x[32 * j + ii] + dm) / d), 0, nmax));
    }
  }
}

// Q2_K / Q3_K code packing: 2 bits per value, in each 128-value half byte l holds values l, l + 32,
// l + 64, l + 96 in bits 0-1, 2-3, 4-5, 6-7.
template <class T>
void pack_2bit(const T* L, uint8_t* qs) {
  for (int j = 0; j < 256; j += 128) {
    for (int l = 0; l < 32; ++l) {
      qs[j / 4 + l] = uint8_t(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
    }
  }
}

}  // namespace

// ---- Q2_K ---------------------------------------------------------------------------------------
// 16 sub-blocks of 16, codes 0..3. make_qkx2_quants(nmax 3, weights |x|, rmin -0.5, 15 steps, MAD);
// 4-bit sub-scales and sub-mins against their maxima (d = max_scale / 15, dmin = max_min / 15), then
// re-quantized as l = nearest_int((x + dmin * m) / (d * sc)). scales[j] = sc | m << 4.
bool quantize_q2_k(const float* x, size_t nblocks, uint8_t* out) {
  for (size_t b = 0; b < nblocks; ++b, x += kQK_K, out += kQ2_KBytes) {
    uint8_t L[256], Laux[16];
    float weights[16], mins[16], scales[16];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 16; ++j) {
      for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
      scales[j] = make_qkx2_quants<16, 3>(x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f,
                                          0.1f, 15, true);
      if (scales[j] > max_scale) max_scale = scales[j];
      if (mins[j] > max_min) max_min = mins[j];
    }
    uint8_t* sb = out;
    uint8_t* qs = out + 16;
    uint8_t* dh = out + 80;
    if (max_scale > 0) {
      const float iscale = 15.0f / max_scale;
      for (int j = 0; j < 16; ++j) sb[j] = uint8_t(nearest_int(iscale * scales[j]));
      store_fp16(dh, max_scale / 15.0f);
    } else {
      for (int j = 0; j < 16; ++j) sb[j] = 0;
      store_fp16(dh, 0.0f);
    }
    if (max_min > 0) {
      const float iscale = 15.0f / max_min;
      for (int j = 0; j < 16; ++j) sb[j] = uint8_t(sb[j] | (uint32_t(nearest_int(iscale * mins[j])) << 4));
      store_fp16(dh + 2, max_min / 15.0f);
    } else {
      store_fp16(dh + 2, 0.0f);
    }
    const float d_all = load_fp16(dh);
    const float dmin_all = load_fp16(dh + 2);
    for (int j = 0; j < 16; ++j) {
      const float d = d_all * float(sb[j] & 0xF);
      if (d == 0.0f) continue;
      const float dm = dmin_all * float(sb[j] >> 4);
      for (int ii = 0; ii < 16; ++ii) {
        L[16 * j + ii] = uint8_t(clamp_int(nearest_int((x[16 * j + ii] + dm) / d), 0, 3));
      }
    }
    pack_2bit(L, qs);
  }
  return true;
}

void dequantize_q2_k(const uint8_t* in, size_t nblocks, float* y) {
  for (size_t b = 0; b < nblocks; ++b, in += kQ2_KBytes, y += kQK_K) {
    const uint8_t* sb = in;
    const uint8_t* qs = in + 16;
    const float d = load_fp16(in + 80);
    const float dmin = load_fp16(in + 82);
    for (int e = 0; e < 256; ++e) {
      const int s = e / 16;                              // sub-block
      const int q = (qs[(e / 128) * 32 + e % 32] >> (2 * ((e % 128) / 32))) & 3;
      const float dl = d * float(sb[s] & 0xF);
      const float ml = dmin * float(sb[s] >> 4);
      y[e] = dl * float(q) - ml;
    }
  }
}

// 16 sub-blocks of 16: scale d * sc, offset -(dmin * m), codes 0..3.
void decompose_q2_k(const uint8_t* in, size_t nblocks, uint8_t* codes, float* scale, float* offset) {
  for (size_t b = 0; b < nblocks; ++b, in += kQ2_KBytes, codes += kQK_K, scale += 16, offset += 16) {
    const uint8_t* sb = in;
    const uint8_t* qs = in + 16;
    const float d = load_fp16(in + 80);
    const float dmin = load_fp16(in + 82);
    for (int s = 0; s < 16; ++s) {
      scale[s] = d * float(sb[s] & 0xF);
      offset[s] = -(dmin * float(sb[s] >> 4));
    }
    for (int e = 0; e < 256; ++e) codes[e] = uint8_t((qs[(e / 128) * 32 + e % 32] >> (2 * ((e % 128) / 32))) & 3);
  }
}

// ---- Q3_K ---------------------------------------------------------------------------------------
// 16 sub-blocks of 16, codes -4..3. make_q3_quants per sub-block; signed 6-bit sub-scales against
// the scale of largest magnitude (iscale = -32 / max_scale, d = 1 / iscale), l = nearest_int(x /
// (d * sc)). Storage: low 2 bits as Q2_K, the third bit in hmask (value j: byte j % 32, bit j / 32),
// sub-scale + 32 as 4 low bits (scales[0..7], low then high nibble) and 2 high bits (scales[8..11]).
bool quantize_q3_k(const float* x, size_t nblocks, uint8_t* out) {
  for (size_t b = 0; b < nblocks; ++b, x += kQK_K, out += kQ3_KBytes) {
    int8_t L[256];
    float scales[16];
    float max_scale = 0, amax = 0;
    for (int j = 0; j < 16; ++j) {
      scales[j] = make_q3_quants_rmse<16, 4>(x + 16 * j, L + 16 * j);
      const float scale = std::fabs(scales[j]);
      if (scale > amax) {
        amax = scale;
        max_scale = scales[j];
      }
    }
    uint8_t* hmask = out;
    uint8_t* qs = out + 32;
    uint8_t* sb = out + 96;
    uint8_t* dh = out + 108;
    std::memset(sb, 0, 12);
    if (max_scale != 0.0f) {
      const float iscale = -32.0f / max_scale;
      for (int j = 0; j < 16; ++j) {
        int8_t l = int8_t(nearest_int(iscale * scales[j]));  // narrowed to int8 first, as in ggml
        l = int8_t(clamp_int(l, -32, 31) + 32);
        if (j < 8) {
          sb[j] = uint8_t(l & 0xF);
        } else {
          sb[j - 8] = uint8_t(sb[j - 8] | ((l & 0xF) << 4));
        }
        l = int8_t(l >> 4);
        sb[j % 4 + 8] = uint8_t(sb[j % 4 + 8] | (l << (2 * (j / 4))));
      }
      store_fp16(dh, 1 / iscale);
    } else {
      store_fp16(dh, 0.0f);
    }
    const float d_all = load_fp16(dh);
    for (int j = 0; j < 16; ++j) {
      const int low = j < 8 ? (sb[j] & 0xF) : (sb[j - 8] >> 4);
      const int8_t sc = int8_t((low | (((sb[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32);
      const float d = d_all * float(sc);
      if (d == 0.0f) continue;
      for (int ii = 0; ii < 16; ++ii) {
        L[16 * j + ii] = int8_t(clamp_int(nearest_int(x[16 * j + ii] / d), -4, 3) + 4);
      }
    }
    std::memset(hmask, 0, 32);
    for (int j = 0; j < 256; ++j) {
      if (L[j] > 3) {
        hmask[j % 32] = uint8_t(hmask[j % 32] | (1u << (j / 32)));
        L[j] = int8_t(L[j] - 4);
      }
    }
    pack_2bit(L, qs);
  }
  return true;
}

void dequantize_q3_k(const uint8_t* in, size_t nblocks, float* y) {
  for (size_t b = 0; b < nblocks; ++b, in += kQ3_KBytes, y += kQK_K) {
    const uint8_t* hmask = in;
    const uint8_t* qs = in + 32;
    const uint8_t* sb = in + 96;
    const float d_all = load_fp16(in + 108);
    for (int e = 0; e < 256; ++e) {
      const int j = e / 16;
      const int low = j < 8 ? (sb[j] & 0xF) : (sb[j - 8] >> 4);
      const int sc = int8_t((low | (((sb[8 + j % 4] >> (2 * (j / 4))) & 3) << 4))) - 32;
      const float dl = d_all * float(sc);
      const int q2 = (qs[(e / 128) * 32 + e % 32] >> (2 * ((e % 128) / 32))) & 3;
      const int high = (hmask[e % 32] >> (e / 32)) & 1;
      y[e] = dl * float(q2 - (high ? 0 : 4));
    }
  }
}

// 16 sub-blocks of 16: scale d * (sc - 32), codes q2 - 4 * (hmask bit clear) as int8 (-4..3).
void decompose_q3_k(const uint8_t* in, size_t nblocks, uint8_t* codes, float* scale, float* offset) {
  for (size_t b = 0; b < nblocks; ++b, in += kQ3_KBytes, codes += kQK_K, scale += 16, offset += 16) {
    const uint8_t* hmask = in;
    const uint8_t* qs = in + 32;
    const uint8_t* sb = in + 96;
    const float d_all = load_fp16(in + 108);
    for (int j = 0; j < 16; ++j) {
      const int low = j < 8 ? (sb[j] & 0xF) : (sb[j - 8] >> 4);
      const int sc = int8_t((low | (((sb[8 + j % 4] >> (2 * (j / 4))) & 3) << 4))) - 32;
      scale[j] = d_all * float(sc);
      offset[j] = 0.0f;
    }
    for (int e = 0; e < 256; ++e) {
      const int q2 = (qs[(e / 128) * 32 + e % 32] >> (2 * ((e % 128) / 32))) & 3;
      const int high = (hmask[e % 32] >> (e / 32)) & 1;
      codes[e] = uint8_t(q2 - (high ? 0 : 4));
    }
  }
}

// ---- Q4_K ---------------------------------------------------------------------------------------
// 8 sub-blocks of 32, codes 0..15: make_qkx2_quants(nmax 15, rmin -1, 20 steps, squared error).
// Codes: in each 64-value chunk byte l holds value l (low nibble) and l + 32 (high nibble).
bool quantize_q4_k(const float* x, size_t nblocks, uint8_t* out) {
  for (size_t b = 0; b < nblocks; ++b, x += kQK_K, out += kQ4_KBytes) {
    uint8_t L[256];
    quantize_k4_scales_and_codes<15>(x, -1.0f, 20, out, L);
    uint8_t* qs = out + 16;
    for (int j = 0; j < 256; j += 64) {
      for (int l = 0; l < 32; ++l) qs[j / 2 + l] = uint8_t(L[j + l] | (L[j + l + 32] << 4));
    }
  }
  return true;
}

void dequantize_q4_k(const uint8_t* in, size_t nblocks, float* y) {
  for (size_t b = 0; b < nblocks; ++b, in += kQ4_KBytes, y += kQK_K) {
    const float d = load_fp16(in);
    const float dmin = load_fp16(in + 2);
    const uint8_t* sb = in + 4;
    const uint8_t* qs = in + 16;
    for (int c = 0; c < 4; ++c) {
      uint8_t sc, m;
      unpack_scale_min_k4(2 * c, sb, &sc, &m);
      const float d1 = d * float(sc), m1 = dmin * float(m);
      unpack_scale_min_k4(2 * c + 1, sb, &sc, &m);
      const float d2 = d * float(sc), m2 = dmin * float(m);
      for (int l = 0; l < 32; ++l) {
        y[64 * c + l] = d1 * float(qs[32 * c + l] & 0xF) - m1;
        y[64 * c + 32 + l] = d2 * float(qs[32 * c + l] >> 4) - m2;
      }
    }
  }
}

namespace {
// Q4_K / Q5_K sub-block j: scale d * sc, offset -(dmin * m), as their dequantizers compute them.
void k4_scale_offset(const uint8_t* in, float* scale, float* offset) {
  const float d = load_fp16(in);
  const float dmin = load_fp16(in + 2);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    unpack_scale_min_k4(j, in + 4, &sc, &m);
    scale[j] = d * float(sc);
    offset[j] = -(dmin * float(m));
  }
}
}  // namespace

// 8 sub-blocks of 32: scale d * sc, offset -(dmin * m), codes 0..15.
void decompose_q4_k(const uint8_t* in, size_t nblocks, uint8_t* codes, float* scale, float* offset) {
  for (size_t b = 0; b < nblocks; ++b, in += kQ4_KBytes, codes += kQK_K, scale += 8, offset += 8) {
    k4_scale_offset(in, scale, offset);
    const uint8_t* qs = in + 16;
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l) {
        codes[64 * c + l] = uint8_t(qs[32 * c + l] & 0xF);
        codes[64 * c + 32 + l] = uint8_t(qs[32 * c + l] >> 4);
      }
  }
}

// ---- Q5_K ---------------------------------------------------------------------------------------
// As Q4_K with codes 0..31 (nmax 31, rmin -0.5, 15 steps); the fifth bit of value 64c + l goes to
// qh[l] bit 2c, of value 64c + 32 + l to qh[l] bit 2c + 1.
bool quantize_q5_k(const float* x, size_t nblocks, uint8_t* out) {
  for (size_t b = 0; b < nblocks; ++b, x += kQK_K, out += kQ5_KBytes) {
    uint8_t L[256];
    quantize_k4_scales_and_codes<31>(x, -0.5f, 15, out, L);
    uint8_t* qh = out + 16;
    uint8_t* ql = out + 48;
    std::memset(qh, 0, 32);
    for (int c = 0; c < 4; ++c) {
      for (int j = 0; j < 32; ++j) {
        int l1 = L[64 * c + j];
        if (l1 > 15) {
          l1 -= 16;
          qh[j] = uint8_t(qh[j] | (1u << (2 * c)));
        }
        int l2 = L[64 * c + j + 32];
        if (l2 > 15) {
          l2 -= 16;
          qh[j] = uint8_t(qh[j] | (2u << (2 * c)));
        }
        ql[32 * c + j] = uint8_t(l1 | (l2 << 4));
      }
    }
  }
  return true;
}

void dequantize_q5_k(const uint8_t* in, size_t nblocks, float* y) {
  for (size_t b = 0; b < nblocks; ++b, in += kQ5_KBytes, y += kQK_K) {
    const float d = load_fp16(in);
    const float dmin = load_fp16(in + 2);
    const uint8_t* sb = in + 4;
    const uint8_t* qh = in + 16;
    const uint8_t* ql = in + 48;
    for (int c = 0; c < 4; ++c) {
      uint8_t sc, m;
      unpack_scale_min_k4(2 * c, sb, &sc, &m);
      const float d1 = d * float(sc), m1 = dmin * float(m);
      unpack_scale_min_k4(2 * c + 1, sb, &sc, &m);
      const float d2 = d * float(sc), m2 = dmin * float(m);
      for (int l = 0; l < 32; ++l) {
        const int h1 = (qh[l] >> (2 * c)) & 1, h2 = (qh[l] >> (2 * c + 1)) & 1;
        y[64 * c + l] = d1 * float((ql[32 * c + l] & 0xF) + 16 * h1) - m1;
        y[64 * c + 32 + l] = d2 * float((ql[32 * c + l] >> 4) + 16 * h2) - m2;
      }
    }
  }
}

// As Q4_K with codes 0..31.
void decompose_q5_k(const uint8_t* in, size_t nblocks, uint8_t* codes, float* scale, float* offset) {
  for (size_t b = 0; b < nblocks; ++b, in += kQ5_KBytes, codes += kQK_K, scale += 8, offset += 8) {
    k4_scale_offset(in, scale, offset);
    const uint8_t* qh = in + 16;
    const uint8_t* ql = in + 48;
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l) {
        codes[64 * c + l] = uint8_t((ql[32 * c + l] & 0xF) + 16 * ((qh[l] >> (2 * c)) & 1));
        codes[64 * c + 32 + l] = uint8_t((ql[32 * c + l] >> 4) + 16 * ((qh[l] >> (2 * c + 1)) & 1));
      }
  }
}

// ---- Q6_K ---------------------------------------------------------------------------------------
// 16 sub-blocks of 16, codes -32..31 (stored + 32): make_qx_quants(nmax 32, weights x^2); int8
// sub-scales against the scale of largest magnitude (iscale = -128 / max_scale, d = 1 / iscale,
// sc = min(127, nearest_int(iscale * scale))), then l = nearest_int(x / (d * sc)). A super-block whose
// sub-scales are all below GROUP_MAX_EPS is all zero bytes. Storage per 128-value half: ql byte l
// holds values l (low) and l + 64 (high), byte l + 32 values l + 32 and l + 96; qh byte l holds the
// top 2 bits of values l, l + 32, l + 64, l + 96 in bits 0-1, 2-3, 4-5, 6-7.
bool quantize_q6_k(const float* x, size_t nblocks, uint8_t* out) {
  for (size_t b = 0; b < nblocks; ++b, x += kQK_K, out += kQ6_KBytes) {
    int8_t L[256];
    float scales[16];
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < 16; ++ib) {
      const float scale = make_qx_quants_rmse1<16, 32>(x + 16 * ib, L + 16 * ib);
      scales[ib] = scale;
      const float abs_scale = std::fabs(scale);
      if (abs_scale > max_abs_scale) {
        max_abs_scale = abs_scale;
        max_scale = scale;
      }
    }
    uint8_t* ql = out;
    uint8_t* qh = out + 128;
    int8_t sc[16];
    uint8_t* dh = out + 208;
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(out, 0, kQ6_KBytes);
      continue;
    }
    const float iscale = -128.0f / max_scale;
    store_fp16(dh, 1 / iscale);
    for (int ib = 0; ib < 16; ++ib) {
      const int v = nearest_int(iscale * scales[ib]);
      sc[ib] = int8_t(v < 127 ? v : 127);
      out[192 + ib] = uint8_t(sc[ib]);
    }
    const float d_all = load_fp16(dh);
    for (int j = 0; j < 16; ++j) {
      const float d = d_all * float(sc[j]);
      if (d == 0.0f) continue;
      for (int ii = 0; ii < 16; ++ii) {
        L[16 * j + ii] = int8_t(clamp_int(nearest_int(x[16 * j + ii] / d), -32, 31) + 32);
      }
    }
    for (int h = 0; h < 2; ++h) {
      const int8_t* Lh = L + 128 * h;
      uint8_t* qlh = ql + 64 * h;
      uint8_t* qhh = qh + 32 * h;
      for (int l = 0; l < 32; ++l) {
        const int q1 = Lh[l], q2 = Lh[l + 32], q3 = Lh[l + 64], q4 = Lh[l + 96];
        qlh[l] = uint8_t((q1 & 0xF) | ((q3 & 0xF) << 4));
        qlh[l + 32] = uint8_t((q2 & 0xF) | ((q4 & 0xF) << 4));
        qhh[l] = uint8_t((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
      }
    }
  }
  return true;
}

void dequantize_q6_k(const uint8_t* in, size_t nblocks, float* y) {
  for (size_t b = 0; b < nblocks; ++b, in += kQ6_KBytes, y += kQK_K) {
    const float d = load_fp16(in + 208);
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = in + 64 * h;
      const uint8_t* qh = in + 128 + 32 * h;
      const int8_t* sc = reinterpret_cast<const int8_t*>(in + 192) + 8 * h;
      float* yh = y + 128 * h;
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        yh[l] = d * float(sc[is]) * float(q1);
        yh[l + 32] = d * float(sc[is + 2]) * float(q2);
        yh[l + 64] = d * float(sc[is + 4]) * float(q3);
        yh[l + 96] = d * float(sc[is + 6]) * float(q4);
      }
    }
  }
}

// 16 sub-blocks of 16: scale d * sc (ggml evaluates d * sc * q as (d * sc) * q), codes q - 32 as
// int8 (-32..31).
void decompose_q6_k(const uint8_t* in, size_t nblocks, uint8_t* codes, float* scale, float* offset) {
  for (size_t b = 0; b < nblocks; ++b, in += kQ6_KBytes, codes += kQK_K, scale += 16, offset += 16) {
    const float d = load_fp16(in + 208);
    const int8_t* sc = reinterpret_cast<const int8_t*>(in + 192);
    for (int j = 0; j < 16; ++j) {
      scale[j] = d * float(sc[j]);
      offset[j] = 0.0f;
    }
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = in + 64 * h;
      const uint8_t* qh = in + 128 + 32 * h;
      uint8_t* ch = codes + 128 * h;
      for (int l = 0; l < 32; ++l) {
        ch[l] = uint8_t(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
        ch[l + 32] = uint8_t(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
        ch[l + 64] = uint8_t(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        ch[l + 96] = uint8_t(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
    }
  }
}

}  // namespace qplay::ggml_detail
