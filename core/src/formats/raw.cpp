// Raw binary: bytes whose dtype, shape, byte order and offset the user states (a RawSpec). Nothing
// in the file can be checked except its size, so the size must match exactly: a wrong dtype or
// shape is then an error rather than a tensor of garbage.
#include <string>

#include "formats/common.hpp"
#include "qplay/error.hpp"
#include "qplay/formats.hpp"

namespace qplay {
namespace {

[[noreturn]] void fail(const std::string& message) { throw Error("raw: " + message); }

// The spec's shape with a -1 resolved from the bytes after the offset.
Shape resolve_shape(const RawSpec& spec, uint64_t available) {
  Shape shape = spec.shape;
  size_t unknown = shape.size();
  uint64_t known = dtype_size(spec.dtype);
  for (size_t k = 0; k < shape.size(); ++k) {
    if (shape[k] == -1) {
      if (unknown != shape.size()) fail("shape " + shape_to_string(spec.shape) + " has more than one -1");
      unknown = k;
    } else if (shape[k] < 0) {
      fail("shape " + shape_to_string(spec.shape) + " has a negative dimension");
    } else if (__builtin_mul_overflow(known, static_cast<uint64_t>(shape[k]), &known)) {
      fail("shape " + shape_to_string(spec.shape) + " has more elements than fit in 64 bits");
    }
  }
  if (unknown == shape.size()) return shape;
  if (known == 0) fail("shape " + shape_to_string(spec.shape) + " cannot infer its -1: the other dims hold no elements");
  if (available % known != 0)
    fail(std::to_string(available) + " bytes after offset " + std::to_string(spec.offset) + " are not a whole number of " +
         std::string(dtype_name(spec.dtype)) + " " + shape_to_string(spec.shape) + " slices of " + std::to_string(known) +
         " bytes");
  shape[unknown] = static_cast<int64_t>(available / known);
  return shape;
}

}  // namespace

Shape parse_shape(std::string_view text) {
  Shape shape;
  std::string_view s = text;
  while (!s.empty() && (s.front() == ' ' || s.front() == '(' || s.front() == '[')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == ')' || s.back() == ']')) s.remove_suffix(1);
  const auto bad = [&] {
    return Error("invalid shape '" + formats::shown(text, 60) + "' (expected dims such as 4,6 or 4x6; -1 once to infer one)");
  };
  if (s.empty()) return shape;
  size_t i = 0;
  for (;;) {
    while (i < s.size() && s[i] == ' ') ++i;
    bool negative = false;
    if (i < s.size() && s[i] == '-') negative = true, ++i;
    if (i >= s.size() || s[i] < '0' || s[i] > '9') throw bad();
    int64_t n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (n > (INT64_MAX - (s[i] - '0')) / 10) throw bad();
      n = n * 10 + (s[i++] - '0');
    }
    if (negative && n != 1) throw bad();
    shape.push_back(negative ? -1 : n);
    if (shape.size() > 64) throw bad();
    while (i < s.size() && s[i] == ' ') ++i;
    if (i == s.size()) break;
    if (s[i] != ',' && s[i] != 'x' && s[i] != 'X') throw bad();
    ++i;
    if (i == s.size() && shape.size() == 1 && s[i - 1] == ',') break;  // "(5,)" as Python spells it
  }
  return shape;
}

namespace formats {

FileInfo describe_raw(uint64_t file_size, const RawSpec& spec) {
  if (spec.offset > file_size)
    fail("offset " + std::to_string(spec.offset) + " is beyond the end of the file (" + std::to_string(file_size) +
         " bytes)");
  const uint64_t available = file_size - spec.offset;
  const Shape shape = resolve_shape(spec, available);
  const uint64_t bytes = tensor_bytes(shape, dtype_size(spec.dtype), "raw: ");
  if (bytes != available)
    fail(std::string(dtype_name(spec.dtype)) + " " + shape_to_string(shape) + " needs " + std::to_string(bytes) +
         " bytes after offset " + std::to_string(spec.offset) + ", the file has " + std::to_string(available) +
         " (wrong dtype, shape or offset?)");
  FileInfo info;
  info.format = FileFormat::raw;
  TensorInfo t;
  t.name = "array";
  t.dtype = spec.dtype;
  t.shape = shape;
  t.stored_type = std::string(dtype_name(spec.dtype)) + (spec.big_endian && dtype_size(spec.dtype) > 1 ? " big-endian" : "");
  t.data_offset = static_cast<int64_t>(spec.offset);
  t.data_bytes = bytes;
  t.big_endian = spec.big_endian;
  info.tensors.push_back(std::move(t));
  return info;
}

Tensor load_raw(std::span<const uint8_t> file, const RawSpec& spec) {
  const TensorInfo t = describe_raw(file.size(), spec).tensors[0];
  return decode_stored(t, file.subspan(spec.offset, static_cast<size_t>(t.data_bytes)));
}

}  // namespace formats
}  // namespace qplay
