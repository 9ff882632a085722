#include "qplay/tensor.hpp"

#include "qplay/bits.hpp"
#include <cstring>
#include <limits>

#include "qplay/error.hpp"

namespace qplay {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::i8: case DType::u8: case DType::boolean: case DType::f8_e4m3: case DType::f8_e5m2: return 1;
    case DType::f16: case DType::bf16: case DType::i16: case DType::u16: return 2;
    case DType::f32: case DType::i32: case DType::u32: return 4;
    case DType::f64: case DType::i64: case DType::u64: return 8;
  }
  return 0;
}

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::f16: return "float16";
    case DType::bf16: return "bfloat16";
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::i8: return "int8";
    case DType::i16: return "int16";
    case DType::i32: return "int32";
    case DType::i64: return "int64";
    case DType::u8: return "uint8";
    case DType::u16: return "uint16";
    case DType::u32: return "uint32";
    case DType::u64: return "uint64";
    case DType::boolean: return "bool";
    case DType::f8_e4m3: return "float8_e4m3fn";
    case DType::f8_e5m2: return "float8_e5m2";
  }
  return "?";
}

DType dtype_from_name(std::string_view name) {
  static constexpr struct { std::string_view name; DType dtype; } kAliases[] = {
      {"f16", DType::f16}, {"half", DType::f16}, {"bf16", DType::bf16}, {"f32", DType::f32},
      {"float", DType::f32}, {"f64", DType::f64}, {"double", DType::f64}, {"i8", DType::i8},
      {"i16", DType::i16}, {"i32", DType::i32}, {"i64", DType::i64}, {"u8", DType::u8},
      {"u16", DType::u16}, {"u32", DType::u32}, {"u64", DType::u64}, {"e4m3", DType::f8_e4m3},
      {"float8_e4m3", DType::f8_e4m3}, {"e5m2", DType::f8_e5m2},
  };
  constexpr DType kAll[] = {DType::f16, DType::bf16, DType::f32, DType::f64, DType::i8, DType::i16,
                            DType::i32, DType::i64, DType::u8, DType::u16, DType::u32, DType::u64,
                            DType::boolean, DType::f8_e4m3, DType::f8_e5m2};
  std::string allowed;
  for (DType d : kAll) {
    if (name == dtype_name(d)) return d;
    allowed += (allowed.empty() ? "" : ", ") + std::string(dtype_name(d));
  }
  for (const auto& a : kAliases)
    if (name == a.name) return a.dtype;
  std::string shown;
  for (char c : name.substr(0, 40)) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
  throw Error("unknown dtype '" + shown + "' (allowed: " + allowed + "; or f16, bf16, f32, f64, i8..i64, u8..u64)");
}

int64_t shape_elements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw Error("shape " + shape_to_string(shape) + " has a negative dimension");
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d)
      throw Error("shape " + shape_to_string(shape) + " has more elements than fit in 64 bits");
    n *= d;
  }
  return n;
}

std::string shape_to_string(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

Tensor make_tensor(DType dtype, Shape shape) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.bytes.assign(static_cast<size_t>(shape_elements(t.shape)) * dtype_size(dtype), 0);
  return t;
}

Tensor tensor_from_f32(Shape shape, std::span<const float> values) {
  if (shape_elements(shape) != static_cast<int64_t>(values.size()))
    throw Error("shape " + shape_to_string(shape) + " does not match " +
                std::to_string(values.size()) + " values");
  Tensor t = make_tensor(DType::f32, std::move(shape));
  if (!values.empty()) std::memcpy(t.bytes.data(), values.data(), values.size_bytes());
  return t;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {  // subnormal half: normalize
    int shift = 0;
    while (!(mant & 0x400)) { mant <<= 1; ++shift; }
    bits = sign | uint32_t(113 - shift) << 23 | ((mant & 0x3ff) << 13);
  }
  return qplay::bit_cast<float>(bits);
}

float bfloat16_to_float(uint16_t h) { return qplay::bit_cast<float>(uint32_t(h) << 16); }

// The format spends its infinity encodings on range: 0x7E is 448, and only S.1111.111 is NaN.
float e4m3fn_to_float(uint8_t b) {
  const uint32_t sign = uint32_t(b & 0x80) << 24;
  const uint32_t exp = (b >> 3) & 0xf, mant = b & 0x7;
  if (exp == 0xf && mant == 0x7) return qplay::bit_cast<float>(sign | 0x7fc00000u);
  if (exp == 0) {  // subnormal or zero: mant * 2^-9 is exact in float
    const float magnitude = static_cast<float>(mant) * 0x1p-9f;
    return sign ? -magnitude : magnitude;
  }
  return qplay::bit_cast<float>(sign | (exp - 7 + 127) << 23 | mant << 20);
}

// Same bias 15 and the same inf/NaN encodings as binary16.
float e5m2_to_float(uint8_t b) { return half_to_float(uint16_t(b) << 8); }

namespace {

// Each stored value of type T (unaligned bytes) through `convert`.
template <class T, float (*convert)(T)> void widen_with(const Tensor& t, std::vector<float>& out) {
  const size_t n = out.size();
  for (size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, t.bytes.data() + i * sizeof(T), sizeof(T));
    out[i] = convert(v);
  }
}

template <class T> float cast_to_float(T v) { return static_cast<float>(v); }
template <class T> void widen(const Tensor& t, std::vector<float>& out) { widen_with<T, cast_to_float<T>>(t, out); }

}  // namespace

std::vector<float> to_f32(const Tensor& t) {
  const int64_t n = t.elements();
  if (t.bytes.size() != static_cast<size_t>(n) * dtype_size(t.dtype))
    throw Error("tensor of shape " + shape_to_string(t.shape) + " and dtype " +
                std::string(dtype_name(t.dtype)) + " holds " + std::to_string(t.bytes.size()) +
                " bytes, expected " + std::to_string(n * int64_t(dtype_size(t.dtype))));
  std::vector<float> out(static_cast<size_t>(n));
  switch (t.dtype) {
    case DType::f32: if (n) std::memcpy(out.data(), t.bytes.data(), out.size() * 4); break;
    case DType::f64: widen<double>(t, out); break;  // rounds to nearest even, as numpy astype
    case DType::f16: widen_with<uint16_t, half_to_float>(t, out); break;
    case DType::bf16: widen_with<uint16_t, bfloat16_to_float>(t, out); break;
    case DType::i8: widen<int8_t>(t, out); break;
    case DType::i16: widen<int16_t>(t, out); break;
    case DType::i32: widen<int32_t>(t, out); break;
    case DType::i64: widen<int64_t>(t, out); break;
    case DType::u8: widen<uint8_t>(t, out); break;
    case DType::u16: widen<uint16_t>(t, out); break;
    case DType::u32: widen<uint32_t>(t, out); break;
    case DType::u64: widen<uint64_t>(t, out); break;
    case DType::boolean:
      for (size_t i = 0; i < out.size(); ++i) out[i] = t.bytes[i] ? 1.0f : 0.0f;
      break;
    case DType::f8_e4m3: widen_with<uint8_t, e4m3fn_to_float>(t, out); break;
    case DType::f8_e5m2: widen_with<uint8_t, e5m2_to_float>(t, out); break;
  }
  return out;
}

}  // namespace qplay
