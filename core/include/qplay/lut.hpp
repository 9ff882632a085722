// Lookup-table (codebook) formats: nearest-code search in a table, the bitsandbytes tables (NF4,
// its own FP4, the 8-bit dynamic map) and bitsandbytes' 4-bit blockwise quantization with the QLoRA
// double quantization of the block scales. Definitions and sources: docs/FLOAT_FORMATS.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace qplay::lut {

// bitsandbytes NF4 (functional.py get_4bit_type("nf4")): sorted, index = code.
inline constexpr float kNf4[16] = {
    -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
    -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
    0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
    0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};

// bitsandbytes FP4 (get_4bit_type("fp4")), NOT OCP E2M1: in bit-pattern order (bit 3 = sign),
// the raw values {0, 0.0625, 8, 12, 4, 6, 2, 3} divided by 12 in float32.
inline constexpr float kBnbFp4[16] = {
    0.0f / 12.0f,  0.0625f / 12.0f,  8.0f / 12.0f,  12.0f / 12.0f,  4.0f / 12.0f,  6.0f / 12.0f,
    2.0f / 12.0f,  3.0f / 12.0f,     -0.0f / 12.0f, -0.0625f / 12.0f, -8.0f / 12.0f, -12.0f / 12.0f,
    -4.0f / 12.0f, -6.0f / 12.0f,    -2.0f / 12.0f, -3.0f / 12.0f};
const float* bnb_fp4_table() noexcept;  // kBnbFp4
// bitsandbytes create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): 256 sorted
// values (the 8-bit code of quantize_blockwise and of the double quantization).
const float* bnb_dynamic_map() noexcept;

// Which code a value exactly on a midpoint gets.
enum class Tie : uint8_t {
  lower,  // torch.bucketize(right=False), bitsandbytes: the code of the smaller value
  upper,  // torch.bucketize(right=True): the code of the larger value
};

// Nearest code in a table given in any order. Search works like bitsandbytes' default backend:
// the values sorted (stable, so equal values keep code order: +0 before -0 in the FP4 table),
// float32 midpoints (v[i] + v[i+1]) / 2, position p = the number of midpoints below x (Tie::lower)
// or at or below x (Tie::upper), code = the code at sorted position p. NaN takes the last
// position, as torch.bucketize does.
class Codebook {
 public:
  Codebook(const float* values, size_t n);  // 1 <= n <= 256
  size_t size() const { return values_.size(); }
  float value(size_t code) const { return values_[code]; }
  const std::vector<float>& values() const { return values_; }
  const std::vector<float>& sorted() const { return sorted_; }
  const std::vector<float>& midpoints() const { return midpoints_; }
  uint8_t nearest(float x, Tie tie = Tie::lower) const noexcept;

 private:
  std::vector<float> values_, sorted_, midpoints_;
  std::vector<uint8_t> order_;  // sorted position -> code
};

// Position of the nearest value in an ascending table of n values (same rule as Codebook).
size_t nearest_sorted(const float* sorted, size_t n, float x, Tie tie = Tie::lower) noexcept;

const Codebook& nf4_codebook();
const Codebook& bnb_fp4_codebook();
const Codebook& bnb_dynamic_codebook();

// ---- bitsandbytes blockwise quantization ----------------------------------------------------------
// The default (torch) backend's arithmetic, in float32 (backends/default/ops.py):
//   full blocks:  absmax = max |x| (NaN propagates); s = clamp(x * (1 / max(absmax, 1e-38)), -1, 1)
//   tail block:   am = max(max |x_tail|, 1e-38), stored clamped; s = clamp(x / am, -1, 1)
//   code = Codebook::nearest(s) with ties to the lower code; dequant = code_value * absmax.

// 8-bit blockwise with a 256-value code (quantize_blockwise); used by the double quantization.
struct Blockwise8 {
  size_t blocksize = 0;
  std::vector<uint8_t> codes;  // one per element
  std::vector<float> absmax;   // one per block (tail included)
};
Blockwise8 bnb_quantize_blockwise(const float* x, size_t n, size_t blocksize, const Codebook& code);
void bnb_dequantize_blockwise(const Blockwise8& q, const Codebook& code, float* out);

enum class Bnb4Type : uint8_t { nf4, fp4 };
// How FP4 picks a code. NF4 is the same either way (the CUDA tree's thresholds are the float32
// midpoints and it also sends ties to the lower code).
enum class BnbFp4Rule : uint8_t {
  bucketize,  // default backend: nearest in the sorted table, ties to the lower VALUE; a value in
              // (0, 0.0026] gets code 8 (-0) and one in (-0.0026, 0] code 0, by the sort order
  cuda,       // csrc/kernels.cu dQuantizeFP4: sign = (s < 0), then |s| against the positive
              // thresholds with ties to the smaller MAGNITUDE
};

struct Bnb4Options {
  Bnb4Type type = Bnb4Type::nf4;
  size_t blocksize = 64;       // 32, 64, ..., 4096
  bool double_quant = false;   // QLoRA compress_statistics
  BnbFp4Rule fp4_rule = BnbFp4Rule::bucketize;
};

struct Bnb4Quantized {
  Bnb4Options options;
  size_t n = 0;
  std::vector<uint8_t> codes;   // one 4-bit code per element (display)
  std::vector<uint8_t> packed;  // ceil(n / 2) bytes: element 2i in the HIGH nibble, odd n padded
                                // with the code of 0.0
  std::vector<float> absmax;    // per block, as computed
  // Double quantization: offset = mean(absmax); absmax - offset quantized 8-bit in blocks of 256
  // with the dynamic map; the dequantizer uses absmax_used = code2 * absmax2 + offset.
  float offset = 0.0f;
  Blockwise8 absmax_q;
  std::vector<float> absmax_used;  // the scale the dequantizer applies per block
};

// The QLoRA double quantization of per-block scales with a given offset: absmax - offset
// quantized 8-bit in blocks of 256 with the dynamic map; used[i] = code2 * absmax2 + offset.
// bnb_quantize_4bit calls it with offset = the mean of absmax; a caller reproducing a checkpoint
// passes the offset stored there.
struct DoubleQuant {
  float offset = 0.0f;
  Blockwise8 q;
  std::vector<float> used;
};
DoubleQuant bnb_double_quantize(const std::vector<float>& absmax, float offset);
// mean(absmax) as bitsandbytes' offset: summed in double, divided, rounded once to float32.
// torch sums float32 in float32 with a cascade that depends on the build's vector width, so its
// mean can differ from this one in the last bit.
float bnb_offset(const std::vector<float>& absmax);

// Throws qplay::Error for an invalid blocksize.
Bnb4Quantized bnb_quantize_4bit(const float* x, size_t n, const Bnb4Options& options = {});
// out[i] = table[code] * absmax_used[block], float32.
void bnb_dequantize_4bit(const Bnb4Quantized& q, float* out);

}  // namespace qplay::lut
