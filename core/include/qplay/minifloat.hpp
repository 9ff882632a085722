// Small floating-point element formats: FP8 (E4M3FN, E5M2, E4M3FNUZ, E5M2FNUZ), FP6 (E2M3, E3M2),
// FP4 (E2M1) and the E8M0 scale format. One parameterized encoder/decoder covers the sign-exponent-
// mantissa formats; the presets below pin each one. Exact rules and their sources: docs/FLOAT_FORMATS.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace qplay::minifloat {

// How a format spends its top codes.
enum class Specials : uint8_t {
  ieee,    // exponent all ones: mantissa 0 is +-Inf, anything else NaN (E5M2)
  fn,      // no Inf; only S.1..1.1..1 is NaN (E4M3FN)
  fnuz,    // no Inf, no -0: 1.0..0.0..0 (0x80) is the single NaN (E4M3FNUZ, E5M2FNUZ)
  finite,  // every code is a finite number (OCP FP6 E2M3/E3M2, FP4 E2M1)
};

// Rounding of a value that falls between two representable magnitudes.
enum class Rounding : uint8_t {
  half_even,  // IEEE roundTiesToEven: ONNX Cast/QuantizeLinear, the OCP MX spec
  half_away,  // ties to the larger magnitude: microxcaling's round='nearest'
};

// What a saturating conversion does with +-Inf on an FNUZ format. ONNX's float8.md table says NaN;
// ONNX's own reference code (helper.float32_to_float8e4m3 up to 1.18, numpy_helper.saturate_cast
// after it) clamps +-Inf to +-max. Both are offered; the table is the default.
enum class FnuzInf : uint8_t { nan, max };

// Layout: 1 sign bit, exp_bits exponent bits (biased by `bias`), man_bits mantissa bits; exponent
// field 0 holds the subnormals (no implicit one, exponent 1 - bias).
struct Format {
  std::string_view name;
  uint8_t exp_bits;
  uint8_t man_bits;
  int16_t bias;
  Specials specials;

  constexpr int bits() const { return 1 + exp_bits + man_bits; }
  constexpr uint8_t sign_mask() const { return uint8_t(1u << (exp_bits + man_bits)); }
  // The largest magnitude code that is a finite number.
  constexpr uint8_t max_code() const {
    const unsigned all = (1u << (exp_bits + man_bits)) - 1;
    switch (specials) {
      case Specials::ieee: return uint8_t(all - (1u << man_bits));  // top exponent is Inf/NaN
      case Specials::fn: return uint8_t(all - 1);                     // S.1..1.1..1 is NaN
      case Specials::fnuz:
      case Specials::finite: return uint8_t(all);
    }
    return 0;
  }
  // Smallest (subnormal) exponent: 1 - bias.
  constexpr int min_exponent() const { return 1 - bias; }
};

inline constexpr Format e4m3fn{"e4m3fn", 4, 3, 7, Specials::fn};
inline constexpr Format e5m2{"e5m2", 5, 2, 15, Specials::ieee};
inline constexpr Format e4m3fnuz{"e4m3fnuz", 4, 3, 8, Specials::fnuz};
inline constexpr Format e5m2fnuz{"e5m2fnuz", 5, 2, 16, Specials::fnuz};
inline constexpr Format e2m3{"e2m3", 2, 3, 1, Specials::finite};
inline constexpr Format e3m2{"e3m2", 3, 2, 3, Specials::finite};
inline constexpr Format e2m1{"e2m1", 2, 1, 1, Specials::finite};

// Every preset, in the order above.
inline constexpr Format kPresets[] = {e4m3fn, e5m2, e4m3fnuz, e5m2fnuz, e2m3, e3m2, e2m1};
// The preset with this name, or nullptr.
const Format* find_format(std::string_view name) noexcept;

struct EncodeOptions {
  // ONNX `saturate` (float8 targets). Finite formats (FP6, FP4) have nowhere to overflow to and
  // always saturate.
  bool saturate = true;
  Rounding rounding = Rounding::half_even;
  FnuzInf fnuz_inf = FnuzInf::nan;
};

// float32 -> code (in the low bits() bits). The rule, in order:
//   NaN:  ieee/fn -> S.1..1 (all exponent and mantissa bits set, sign kept); fnuz -> 0x80;
//         finite -> +max (ONNX float4.md: NaN -> 6).
//   Inf:  saturate: ieee/fn/finite -> +-max; fnuz -> per FnuzInf.
//         no saturate: ieee -> +-Inf; fn -> S.1..1 (NaN); fnuz -> 0x80.
//   finite x: [x] = x rounded to the format's grid extended above max (same spacing as the top
//         binade, one binade more), per Rounding. |[x]| > max: saturate -> +-max; otherwise
//         ieee -> +-Inf, fn -> S.1..1 (NaN), fnuz -> 0x80. A zero result keeps x's sign except on
//         fnuz (which has no -0).
uint8_t encode(float x, const Format& f, const EncodeOptions& o = {}) noexcept;
// code -> float32, exact. NaN codes give a quiet NaN carrying the code's sign bit (0x7FC00000 or
// 0xFFC00000; fnuz NaN is positive); Inf codes give +-Inf.
float decode(uint8_t code, const Format& f) noexcept;
bool is_nan_code(uint8_t code, const Format& f) noexcept;
// Largest finite value (448, 57344, 240, 57344, 7.5, 28, 6) and smallest subnormal.
float max_value(const Format& f) noexcept;
float min_subnormal(const Format& f) noexcept;

// Batch forms. E4M3FN, E5M2 (half-even) and E2M1 (half-even, saturating) run through the SIMD
// kernels when the build has them; every other combination loops over encode()/decode().
void encode(const float* x, size_t n, uint8_t* out, const Format& f, const EncodeOptions& o = {});
void decode(const uint8_t* codes, size_t n, float* out, const Format& f);

// ---- E8M0 (the MX scale format): 8 exponent bits, bias 127, no sign, no zero, NaN = 0xFF -------
// ONNX Cast round_mode (numpy_helper.to_float8e8m0): the sign bit of x is ignored; NaN and +-Inf
// -> 0xFF; otherwise the float32 exponent field E (0..254) is the result, adjusted on the float32
// mantissa bits M:
//   up:      E + 1 when M != 0
//   down:    E
//   nearest: E + 1 when bit 22 of M is set and (E > 0 or bits 0..21 of M are nonzero): ties
//            (M = 0x400000) round up for normal x; for subnormal x (E = 0) the reference's
//            "lsb" term is E > 0, so its tie stays down
// With saturate an increment past 254 is dropped (0xFE = 2^127); without it E = 254 may roll into
// 0xFF (NaN). Subnormal float32 inputs (E = 0) follow the same bit rule, as the reference does.
enum class E8m0Round : uint8_t { up, down, nearest };
uint8_t encode_e8m0(float x, E8m0Round mode = E8m0Round::up, bool saturate = true) noexcept;
// 0xFF -> NaN; otherwise 2^(code - 127) (code 0 = 2^-127, a float32 subnormal, exact).
float decode_e8m0(uint8_t code) noexcept;

// ---- 4-bit packing ------------------------------------------------------------------------------
// Two 4-bit codes per byte. low_first: element 2i in bits 0..3 (ONNX int4/float4, PyTorch quint4x2);
// high_first: element 2i in bits 4..7 (bitsandbytes). An odd count pads the last byte with 0.
enum class NibbleOrder : uint8_t { low_first, high_first };
inline constexpr size_t packed_size(size_t n) { return n / 2 + n % 2; }
void pack_nibbles(const uint8_t* codes, size_t n, NibbleOrder order, uint8_t* out) noexcept;
void unpack_nibbles(const uint8_t* packed, size_t n, NibbleOrder order, uint8_t* codes) noexcept;

}  // namespace qplay::minifloat
