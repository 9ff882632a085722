// Codebooks and bitsandbytes' blockwise 4-bit / 8-bit quantization (default torch backend
// arithmetic, float32 throughout; see lut.hpp for the rules).
#include "qplay/lut.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "kernels/float_kernels.hpp"
#include "kernels/kernels.hpp"
#include "qplay/error.hpp"
#include "qplay/minifloat.hpp"

namespace qplay::lut {
namespace {

// create_dynamic_map() as torch computes it: linspace(0.1, 1, 2^i + 1) in float32, the means of
// neighbours scaled by 10^(i - 6) (both signs), plus 0 and 1, sorted. The values are torch's own
// output (CPU kernel, AVX2 path); docs/FLOAT_FORMATS.md explains why they are stored rather than
// recomputed and which entries a different torch build can move by one ulp.
constexpr float kDynamicMap[256] = {
    -0x1.fc6666p-1f, -0x1.f53332p-1f, -0x1.eep-1f, -0x1.e6ccccp-1f, -0x1.df9998p-1f, -0x1.d86666p-1f, -0x1.d13334p-1f, -0x1.cap-1f,
    -0x1.c2ccccp-1f, -0x1.bb9998p-1f, -0x1.b46666p-1f, -0x1.ad3332p-1f, -0x1.a6p-1f, -0x1.9eccccp-1f, -0x1.979998p-1f, -0x1.906666p-1f,
    -0x1.893334p-1f, -0x1.82p-1f, -0x1.7acccep-1f, -0x1.73999ap-1f, -0x1.6c6668p-1f, -0x1.653334p-1f, -0x1.5ep-1f, -0x1.56cccep-1f,
    -0x1.4f999ap-1f, -0x1.486666p-1f, -0x1.413334p-1f, -0x1.3ap-1f, -0x1.32ccccp-1f, -0x1.2b999ap-1f, -0x1.246668p-1f, -0x1.1d3334p-1f,
    -0x1.16p-1f, -0x1.0eccccp-1f, -0x1.07999ap-1f, -0x1.006666p-1f, -0x1.f26668p-2f, -0x1.e4p-2f, -0x1.d59998p-2f, -0x1.c73334p-2f,
    -0x1.b8ccccp-2f, -0x1.aa6664p-2f, -0x1.9cp-2f, -0x1.8d9998p-2f, -0x1.7f3334p-2f, -0x1.70ccccp-2f, -0x1.626664p-2f, -0x1.54p-2f,
    -0x1.459998p-2f, -0x1.373334p-2f, -0x1.28ccccp-2f, -0x1.1a6668p-2f, -0x1.0cp-2f, -0x1.fb3334p-3f, -0x1.de6668p-3f, -0x1.c1999ap-3f,
    -0x1.a4ccccp-3f, -0x1.88p-3f, -0x1.6b3332p-3f, -0x1.4e6666p-3f, -0x1.31999ap-3f, -0x1.14ccccp-3f, -0x1.fp-4f, -0x1.b66668p-4f,
    -0x1.93d70ap-4f, -0x1.8851eap-4f, -0x1.7ccccep-4f, -0x1.7147aep-4f, -0x1.65c29p-4f, -0x1.5a3d7p-4f, -0x1.4eb85p-4f, -0x1.433334p-4f,
    -0x1.37ae14p-4f, -0x1.2c28f6p-4f, -0x1.20a3d6p-4f, -0x1.151ebap-4f, -0x1.09999ap-4f, -0x1.fc28f4p-5f, -0x1.e51ebap-5f, -0x1.ce147ap-5f,
    -0x1.b70a3ep-5f, -0x1.ap-5f, -0x1.88f5c2p-5f, -0x1.71eb86p-5f, -0x1.5ae146p-5f, -0x1.43d70ap-5f, -0x1.2ccccep-5f, -0x1.15c28ep-5f,
    -0x1.fd70a4p-6f, -0x1.cf5c26p-6f, -0x1.a147aep-6f, -0x1.733334p-6f, -0x1.451eb8p-6f, -0x1.170a3ep-6f, -0x1.d1eb86p-7f, -0x1.75c29p-7f,
    -0x1.3e76c8p-7f, -0x1.2c083p-7f, -0x1.19999ap-7f, -0x1.072b02p-7f, -0x1.e978d4p-8f, -0x1.c49ba6p-8f, -0x1.9fbe76p-8f, -0x1.7ae148p-8f,
    -0x1.56041ap-8f, -0x1.3126e8p-8f, -0x1.0c49bap-8f, -0x1.ced914p-9f, -0x1.851eb8p-9f, -0x1.3b645ap-9f, -0x1.e353f8p-10f, -0x1.4fdf3ap-10f,
    -0x1.eecbfep-11f, -0x1.b3d07cp-11f, -0x1.78d5p-11f, -0x1.3dd982p-11f, -0x1.02de02p-11f, -0x1.8fc506p-12f, -0x1.19ce0ap-12f, -0x1.47ae16p-13f,
    -0x1.743e96p-14f, -0x1.15df66p-14f, -0x1.6f0068p-15f, -0x1.64840cp-16f, -0x1.040bfep-17f, -0x1.b43528p-19f, -0x1.27476ep-21f, 0.0f,
    0x1.27476ep-21f, 0x1.b43528p-19f, 0x1.040bfep-17f, 0x1.64840cp-16f, 0x1.6f0068p-15f, 0x1.15df66p-14f, 0x1.743e96p-14f, 0x1.47ae16p-13f,
    0x1.19ce0ap-12f, 0x1.8fc506p-12f, 0x1.02de02p-11f, 0x1.3dd982p-11f, 0x1.78d5p-11f, 0x1.b3d07cp-11f, 0x1.eecbfep-11f, 0x1.4fdf3ap-10f,
    0x1.e353f8p-10f, 0x1.3b645ap-9f, 0x1.851eb8p-9f, 0x1.ced914p-9f, 0x1.0c49bap-8f, 0x1.3126e8p-8f, 0x1.56041ap-8f, 0x1.7ae148p-8f,
    0x1.9fbe76p-8f, 0x1.c49ba6p-8f, 0x1.e978d4p-8f, 0x1.072b02p-7f, 0x1.19999ap-7f, 0x1.2c083p-7f, 0x1.3e76c8p-7f, 0x1.75c29p-7f,
    0x1.d1eb86p-7f, 0x1.170a3ep-6f, 0x1.451eb8p-6f, 0x1.733334p-6f, 0x1.a147aep-6f, 0x1.cf5c26p-6f, 0x1.fd70a4p-6f, 0x1.15c28ep-5f,
    0x1.2ccccep-5f, 0x1.43d70ap-5f, 0x1.5ae146p-5f, 0x1.71eb86p-5f, 0x1.88f5c2p-5f, 0x1.ap-5f, 0x1.b70a3ep-5f, 0x1.ce147ap-5f,
    0x1.e51ebap-5f, 0x1.fc28f4p-5f, 0x1.09999ap-4f, 0x1.151ebap-4f, 0x1.20a3d6p-4f, 0x1.2c28f6p-4f, 0x1.37ae14p-4f, 0x1.433334p-4f,
    0x1.4eb85p-4f, 0x1.5a3d7p-4f, 0x1.65c29p-4f, 0x1.7147aep-4f, 0x1.7ccccep-4f, 0x1.8851eap-4f, 0x1.93d70ap-4f, 0x1.b66668p-4f,
    0x1.fp-4f, 0x1.14ccccp-3f, 0x1.31999ap-3f, 0x1.4e6666p-3f, 0x1.6b3332p-3f, 0x1.88p-3f, 0x1.a4ccccp-3f, 0x1.c1999ap-3f,
    0x1.de6668p-3f, 0x1.fb3334p-3f, 0x1.0cp-2f, 0x1.1a6668p-2f, 0x1.28ccccp-2f, 0x1.373334p-2f, 0x1.459998p-2f, 0x1.54p-2f,
    0x1.626664p-2f, 0x1.70ccccp-2f, 0x1.7f3334p-2f, 0x1.8d9998p-2f, 0x1.9cp-2f, 0x1.aa6664p-2f, 0x1.b8ccccp-2f, 0x1.c73334p-2f,
    0x1.d59998p-2f, 0x1.e4p-2f, 0x1.f26668p-2f, 0x1.006666p-1f, 0x1.07999ap-1f, 0x1.0eccccp-1f, 0x1.16p-1f, 0x1.1d3334p-1f,
    0x1.246668p-1f, 0x1.2b999ap-1f, 0x1.32ccccp-1f, 0x1.3ap-1f, 0x1.413334p-1f, 0x1.486666p-1f, 0x1.4f999ap-1f, 0x1.56cccep-1f,
    0x1.5ep-1f, 0x1.653334p-1f, 0x1.6c6668p-1f, 0x1.73999ap-1f, 0x1.7acccep-1f, 0x1.82p-1f, 0x1.893334p-1f, 0x1.906666p-1f,
    0x1.979998p-1f, 0x1.9eccccp-1f, 0x1.a6p-1f, 0x1.ad3332p-1f, 0x1.b46666p-1f, 0x1.bb9998p-1f, 0x1.c2ccccp-1f, 0x1.cap-1f,
    0x1.d13334p-1f, 0x1.d86666p-1f, 0x1.df9998p-1f, 0x1.e6ccccp-1f, 0x1.eep-1f, 0x1.f53332p-1f, 0x1.fc6666p-1f, 0x1.0p+0f,
};

// max |x| over a block with torch.max semantics: a NaN anywhere makes the result NaN. The min/max
// kernel finds max |x| = max(|min|, |max|) of an all-finite block; the scalar loop below handles a
// block with NaN or inf (and is the rule).
float absmax_nan(const float* x, size_t n) {
  kernels::MinMax mm;
  kernels::table().minmax_f32(x, n, &mm);
  if (mm.nonfinite == 0) return n ? std::max(std::fabs(mm.min), std::fabs(mm.max)) : 0.0f;
  float m = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    if (a != a) return a;
    if (a > m) m = a;
  }
  return m;
}

// torch.clamp(v, min=lo): NaN stays NaN.
float clamp_min(float v, float lo) { return v < lo ? lo : v; }
// torch.clamp(v, -1, 1): NaN stays NaN.
float clamp_unit(float v) { return v < -1.0f ? -1.0f : v > 1.0f ? 1.0f : v; }

constexpr float kAbsmaxFloor = 1e-38f;

// dQuantizeFP4 of csrc/kernels.cu: sign first, then a tree over |s| whose comparisons are x > t,
// so a tie goes to the smaller magnitude. The thresholds are the kernel's float literals.
uint8_t cuda_fp4(float s) {
  const uint8_t sign = s < 0.0f ? 0x8 : 0x0;
  const float a = std::fabs(s);
  if (a > 0.29166667f) {
    if (a > 0.583333f) return uint8_t((a > 0.8333333f ? 0x3 : 0x2) | sign);
    return uint8_t((a > 0.4166667f ? 0x5 : 0x4) | sign);
  }
  if (a > 0.0859375f) return uint8_t((a > 0.20833333f ? 0x7 : 0x6) | sign);
  return uint8_t((a > 0.00260417f ? 0x1 : 0x0) | sign);
}

bool valid_4bit_blocksize(size_t b) {
  for (size_t v = 32; v <= 4096; v *= 2)
    if (b == v) return true;
  return false;
}

// Walks x in blocks: fn(block index, first element, length, is_tail).
template <class Fn>
void for_each_block(size_t n, size_t blocksize, Fn fn) {
  const size_t full = n / blocksize;
  for (size_t b = 0; b < full; ++b) fn(b, b * blocksize, blocksize, false);
  if (n % blocksize) fn(full, full * blocksize, n % blocksize, true);
}

}  // namespace

const float* bnb_fp4_table() noexcept { return kBnbFp4; }

const float* bnb_dynamic_map() noexcept { return kDynamicMap; }

Codebook::Codebook(const float* values, size_t n) : values_(values, values + n) {
  if (n == 0 || n > 256) throw Error("a codebook needs 1 to 256 values, got " + std::to_string(n));
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), size_t(0));
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return values_[a] < values_[b]; });
  for (size_t i : idx) {
    order_.push_back(uint8_t(i));
    sorted_.push_back(values_[i]);
  }
  for (size_t i = 0; i + 1 < n; ++i) midpoints_.push_back((sorted_[i] + sorted_[i + 1]) / 2.0f);
}

uint8_t Codebook::nearest(float x, Tie tie) const noexcept {
  if (x != x) return order_.back();
  const auto pos = tie == Tie::lower
                       ? std::lower_bound(midpoints_.begin(), midpoints_.end(), x)
                       : std::upper_bound(midpoints_.begin(), midpoints_.end(), x);
  return order_[size_t(pos - midpoints_.begin())];
}

size_t nearest_sorted(const float* sorted, size_t n, float x, Tie tie) noexcept {
  if (n == 0) return 0;
  if (x != x) return n - 1;
  // Binary search over the midpoints without materializing them.
  size_t lo = 0, hi = n - 1;  // answer in [lo, hi]
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    const float m = (sorted[mid] + sorted[mid + 1]) / 2.0f;
    const bool right = tie == Tie::lower ? m < x : m <= x;
    if (right) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const Codebook& nf4_codebook() {
  static const Codebook c(kNf4, 16);
  return c;
}
const Codebook& bnb_fp4_codebook() {
  static const Codebook c(bnb_fp4_table(), 16);
  return c;
}
const Codebook& bnb_dynamic_codebook() {
  static const Codebook c(kDynamicMap, 256);
  return c;
}

Blockwise8 bnb_quantize_blockwise(const float* x, size_t n, size_t blocksize, const Codebook& code) {
  if (blocksize == 0) throw Error("bitsandbytes blockwise: blocksize must be positive");
  Blockwise8 q;
  q.blocksize = blocksize;
  q.codes.resize(n);
  for_each_block(n, blocksize, [&](size_t, size_t first, size_t len, bool tail) {
    const float am = absmax_nan(x + first, len);
    if (!tail) {
      q.absmax.push_back(am);
      const float inv = 1.0f / clamp_min(am, kAbsmaxFloor);
      for (size_t i = first; i < first + len; ++i) q.codes[i] = code.nearest(clamp_unit(x[i] * inv));
    } else {
      const float amc = clamp_min(am, kAbsmaxFloor);
      q.absmax.push_back(amc);
      for (size_t i = first; i < first + len; ++i) q.codes[i] = code.nearest(clamp_unit(x[i] / amc));
    }
  });
  return q;
}

void bnb_dequantize_blockwise(const Blockwise8& q, const Codebook& code, float* out) {
  for (size_t i = 0; i < q.codes.size(); ++i) out[i] = code.value(q.codes[i]) * q.absmax[i / q.blocksize];
}

float bnb_offset(const std::vector<float>& absmax) {
  if (absmax.empty()) return 0.0f;
  double sum = 0.0;
  for (float a : absmax) sum += double(a);
  return float(sum / double(absmax.size()));
}

DoubleQuant bnb_double_quantize(const std::vector<float>& absmax, float offset) {
  DoubleQuant dq;
  dq.offset = offset;
  std::vector<float> centered(absmax.size());
  for (size_t i = 0; i < centered.size(); ++i) centered[i] = absmax[i] - offset;
  dq.q = bnb_quantize_blockwise(centered.data(), centered.size(), 256, bnb_dynamic_codebook());
  dq.used.resize(centered.size());
  bnb_dequantize_blockwise(dq.q, bnb_dynamic_codebook(), dq.used.data());
  for (float& a : dq.used) a += offset;
  return dq;
}

Bnb4Quantized bnb_quantize_4bit(const float* x, size_t n, const Bnb4Options& options) {
  if (!valid_4bit_blocksize(options.blocksize))
    throw Error("bitsandbytes 4-bit: blocksize must be one of 32, 64, 128, 256, 512, 1024, 2048, 4096; got " +
                std::to_string(options.blocksize));
  Bnb4Quantized q;
  q.options = options;
  q.n = n;
  q.codes.resize(n);
  const bool nf4 = options.type == Bnb4Type::nf4;
  const Codebook& fp4 = bnb_fp4_codebook();
  const bool cuda = options.fp4_rule == BnbFp4Rule::cuda;
  auto fp4_code = [&](float s) { return cuda ? cuda_fp4(s) : fp4.nearest(s); };
  std::vector<float> scaled;
  for_each_block(n, options.blocksize, [&](size_t, size_t first, size_t len, bool tail) {
    const float am = absmax_nan(x + first, len);
    const float* xb = x + first;
    uint8_t* cb = q.codes.data() + first;
    if (!tail) {
      q.absmax.push_back(am);
      const float inv = 1.0f / clamp_min(am, kAbsmaxFloor);
      if (nf4) {
        kernels::float_table().encode_nf4_f32(xb, len, inv, cb);
      } else {
        for (size_t i = 0; i < len; ++i) cb[i] = fp4_code(clamp_unit(xb[i] * inv));
      }
    } else {
      const float amc = clamp_min(am, kAbsmaxFloor);
      q.absmax.push_back(amc);
      scaled.resize(len);
      for (size_t i = 0; i < len; ++i) scaled[i] = xb[i] / amc;
      if (nf4) {
        kernels::float_table().encode_nf4_f32(scaled.data(), len, 1.0f, cb);
      } else {
        for (size_t i = 0; i < len; ++i) cb[i] = fp4_code(clamp_unit(scaled[i]));
      }
    }
  });

  // Odd counts: the pad element is 0.0, whose code is 7 (NF4) or 0 (FP4, either rule).
  q.packed.resize(minifloat::packed_size(n));
  const size_t even = n - n % 2;
  minifloat::pack_nibbles(q.codes.data(), even, minifloat::NibbleOrder::high_first, q.packed.data());
  if (n % 2) {
    const uint8_t last[2] = {q.codes[n - 1], nf4 ? uint8_t(7) : uint8_t(0)};
    minifloat::pack_nibbles(last, 2, minifloat::NibbleOrder::high_first, q.packed.data() + even / 2);
  }

  if (options.double_quant && !q.absmax.empty()) {
    DoubleQuant dq = bnb_double_quantize(q.absmax, bnb_offset(q.absmax));
    q.offset = dq.offset;
    q.absmax_q = std::move(dq.q);
    q.absmax_used = std::move(dq.used);
  } else {
    q.absmax_used = q.absmax;
  }
  return q;
}

void bnb_dequantize_4bit(const Bnb4Quantized& q, float* out) {
  const float* table = q.options.type == Bnb4Type::nf4 ? kNf4 : bnb_fp4_table();
  const size_t bs = q.options.blocksize;
  for (size_t i = 0; i < q.n; ++i) out[i] = table[q.codes[i]] * q.absmax_used[i / bs];
}

}  // namespace qplay::lut
