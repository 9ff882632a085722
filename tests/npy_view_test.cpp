// npy_f32_view: the in-place read the wasm API uses for float32 .npy files, and the cases where it
// must step aside for read_npy (byte order, Fortran order, other dtypes, misaligned data, not a .npy).
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "formats_util.hpp"
#include "qplay/error.hpp"
#include "qplay/formats.hpp"
#include "qplay/tensor.hpp"

using namespace qplay;
using qplay_test::error_of;
using qplay_test::fixture;

namespace {

// A float32 .npy (v1.0) around a header dict, its data starting `pad` bytes after numpy's alignment.
std::vector<uint8_t> npy_f32(const std::string& dict, const std::vector<float>& values, size_t pad) {
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
  std::string header = dict;
  while ((out.size() + header.size() + 1) % 64 != 0) header += ' ';
  header.append(pad, ' ');
  header += '\n';
  out[8] = uint8_t(header.size() & 0xff);
  out[9] = uint8_t(header.size() >> 8);
  out.insert(out.end(), header.begin(), header.end());
  const size_t at = out.size();
  out.resize(at + values.size() * 4);
  if (!values.empty()) std::memcpy(out.data() + at, values.data(), values.size() * 4);
  return out;
}

}  // namespace

TEST_CASE("npy_f32_view reads a little-endian C-order float32 npy in place") {
  const std::vector<uint8_t> bytes = fixture("mat4x6_f32.npy");
  const auto view = npy_f32_view(bytes);
  REQUIRE(view.has_value());
  CHECK(view->shape == Shape{4, 6});
  CHECK(reinterpret_cast<const uint8_t*>(view->values.data()) >= bytes.data());
  CHECK(reinterpret_cast<const uint8_t*>(view->values.data() + view->values.size()) == bytes.data() + bytes.size());
  const std::vector<float> expected = to_f32(read_npy(bytes));
  REQUIRE(view->values.size() == expected.size());
  CHECK(std::memcmp(view->values.data(), expected.data(), expected.size() * 4) == 0);
}

TEST_CASE("npy_f32_view covers 0-d, empty and one-dim Fortran-order arrays") {
  const auto scalar = fixture("scalar_0d_f32.npy");
  const auto s = npy_f32_view(scalar);
  REQUIRE(s.has_value());
  CHECK(s->shape.empty());
  CHECK(s->values.size() == 1);
  const auto empty = fixture("empty_0x3_f32.npy");
  const auto e = npy_f32_view(empty);
  REQUIRE(e.has_value());
  CHECK(e->shape == Shape{0, 3});
  CHECK(e->values.empty());
  // Fortran order with at most one dim above 1 is the same layout as C order.
  const std::vector<float> v = {1, 2, 3};
  const auto one = npy_f32({"{'descr': '<f4', 'fortran_order': True, 'shape': (1, 3), }"}, v, 0);
  const auto f = npy_f32_view(one);
  REQUIRE(f.has_value());
  CHECK(f->values[2] == 3.0f);
}

TEST_CASE("npy_f32_view steps aside when the data needs read_npy") {
  for (const char* name : {"big_endian_f4.npy", "fortran_f4.npy", "fortran_big_endian_f4.npy", "mat3x4_f64.npy",
                           "mat3x4_f16.npy", "vec9_i8.npy", "multi.npz", "not_a_tensor.txt"}) {
    CAPTURE(name);
    CHECK_FALSE(npy_f32_view(fixture(name)).has_value());
  }
  CHECK_FALSE(npy_f32_view(std::vector<uint8_t>{}).has_value());
  // Data at an offset that is not a multiple of 4 is not viewed as float32.
  const auto odd = npy_f32("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", {1, 2}, 1);
  CHECK_FALSE(npy_f32_view(odd).has_value());
  CHECK(to_f32(read_npy(odd)) == std::vector<float>{1, 2});
}

TEST_CASE("npy_f32_view rejects a malformed npy as read_npy_header does") {
  for (const char* name : {"truncated_data.npy", "bad_header.npy", "bad_shape.npy", "truncated_header.npy"}) {
    CAPTURE(name);
    const auto bytes = fixture(name);
    const std::string expected = error_of([&] { read_npy_header(bytes); });
    const std::string got = error_of([&] { (void)npy_f32_view(bytes); });
    CHECK(!expected.empty());
    CHECK(got == expected);
  }
}
