// Tensors as the core sees them: a dtype, an int64 shape and contiguous little-endian C-order bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace qplay {

// f8_e4m3 is OCP E4M3FN (bias 7, no infinities, NaN = S.1111.111) and f8_e5m2 is OCP E5M2 (bias
// 15, IEEE-style inf and NaN): safetensors' F8_E4M3 / F8_E5M2, torch.float8_e4m3fn / float8_e5m2.
enum class DType : uint8_t {
  f16, bf16, f32, f64,
  i8, i16, i32, i64,
  u8, u16, u32, u64,
  boolean,
  f8_e4m3, f8_e5m2,
};

size_t dtype_size(DType t);
// "float32", "int8", ... (numpy names; ml_dtypes' "bfloat16", "float8_e4m3fn", "float8_e5m2").
std::string_view dtype_name(DType t);
// The inverse of dtype_name, also accepting the short spellings f16 bf16 f32 f64 i8..i64 u8..u64
// (and "e4m3", "e5m2"); an unknown name is a qplay::Error listing the accepted ones.
DType dtype_from_name(std::string_view name);

using Shape = std::vector<int64_t>;

// Element count of a shape; throws qplay::Error when a dim is negative or the product overflows.
int64_t shape_elements(const Shape& shape);
// Python's repr of the shape tuple: "()", "(5,)", "(2, 3)". Messages use it, and .npy headers
// store it, so it must stay exactly that.
std::string shape_to_string(const Shape& shape);

struct Tensor {
  DType dtype = DType::f32;
  Shape shape;
  std::vector<uint8_t> bytes;  // shape_elements(shape) * dtype_size(dtype) bytes

  int64_t elements() const { return shape_elements(shape); }
  template <class T> T* data() { return reinterpret_cast<T*>(bytes.data()); }
  template <class T> const T* data() const { return reinterpret_cast<const T*>(bytes.data()); }
};

// A float32 tensor the quantizer reads; the span does not own its values.
struct TensorViewF32 {
  Shape shape;
  std::span<const float> values;
};

Tensor make_tensor(DType dtype, Shape shape);  // zero-filled
Tensor tensor_from_f32(Shape shape, std::span<const float> values);

// The small float dtypes widened to float32, exactly (each of their values is a float32); what
// to_f32 uses, public for anything else holding such bits. NaN payloads are kept as they are (no
// quiet bit is set, unlike ggml_fp16_to_fp32 in ggml.hpp, which follows ggml's own rule).
float half_to_float(uint16_t h);      // IEEE binary16
float bfloat16_to_float(uint16_t h);  // the upper half of a float32
float e4m3fn_to_float(uint8_t b);     // OCP E4M3FN: bias 7, no infinities, S.1111.111 is NaN
float e5m2_to_float(uint8_t b);       // OCP E5M2: the upper byte of a binary16

// Converts any numeric dtype to float32 (the single place where inputs are widened or narrowed).
// f16, bf16, both fp8 formats, bool and integers up to 16 bits are exact; float64 and wider
// integers round to nearest even, as numpy's astype(np.float32).
std::vector<float> to_f32(const Tensor& t);

}  // namespace qplay
