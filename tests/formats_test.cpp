// .npy / .npz readers and writers, format sniffing and the export bundle. Fixtures come from
// scripts/make_fixtures.py (numpy-written bytes), so "equal to numpy" is checked byte for byte.
#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "formats_util.hpp"
#include "qplay/error.hpp"
#include "qplay/export.hpp"
#include "qplay/formats.hpp"

using namespace qplay;
using namespace qplay_test;

namespace {

// A .npy built by hand around a header dict (v1.0), for malformed-header cases.
std::vector<uint8_t> npy_with_header(const std::string& dict, size_t data_bytes) {
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  const std::string header = dict + "\n";
  out.push_back(uint8_t(header.size() & 0xff));
  out.push_back(uint8_t(header.size() >> 8));
  out.insert(out.end(), header.begin(), header.end());
  out.resize(out.size() + data_bytes, 0);
  return out;
}

// Offset of the first central-directory record ("PK\1\2") in a zip.
size_t central_record(const std::vector<uint8_t>& zip) {
  for (size_t i = 0; i + 4 <= zip.size(); ++i)
    if (zip[i] == 'P' && zip[i + 1] == 'K' && zip[i + 2] == 1 && zip[i + 3] == 2) return i;
  FAIL("no central directory record");
  return 0;
}

void put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int k = 0; k < 4; ++k) b[at + k] = uint8_t(v >> (8 * k));
}
uint32_t get32(const std::vector<uint8_t>& b, size_t at) {
  return uint32_t(b[at]) | uint32_t(b[at + 1]) << 8 | uint32_t(b[at + 2]) << 16 | uint32_t(b[at + 3]) << 24;
}

const std::vector<float> kKnown = {-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5};  // arange(12)*0.5-2

}  // namespace

TEST_CASE("crc32 of known data") {
  CHECK(crc32(bytes_of("123456789")) == 0xCBF43926u);
  CHECK(crc32(bytes_of("")) == 0u);
  CHECK(crc32(bytes_of("The quick brown fox jumps over the lazy dog")) == 0x414FA339u);
  // Continuing a CRC over a split buffer gives the CRC of the whole.
  CHECK(crc32(bytes_of("6789"), crc32(bytes_of("12345"))) == 0xCBF43926u);
}

TEST_CASE("npy round trip for every dtype and rank") {
  const DType all[] = {DType::f16, DType::f32, DType::f64, DType::i8,  DType::i16, DType::i32,
                       DType::i64, DType::u8,  DType::u16, DType::u32, DType::u64, DType::boolean};
  const Shape shapes[] = {{}, {0}, {5}, {2, 3}, {0, 3}, {2, 1, 3, 2}};
  for (DType d : all) {
    for (const Shape& shape : shapes) {
      CAPTURE(dtype_name(d));
      CAPTURE(shape_to_string(shape));
      Tensor t = make_tensor(d, shape);
      for (size_t i = 0; i < t.bytes.size(); ++i) t.bytes[i] = uint8_t(i * 37 + 11);
      if (d == DType::boolean)
        for (size_t i = 0; i < t.bytes.size(); ++i) t.bytes[i] = i % 3 == 0;
      const std::vector<uint8_t> file = write_npy(t);
      CHECK(file.size() % 64 == t.bytes.size() % 64);  // data starts on a 64-byte boundary
      const Tensor back = read_npy(file);
      CHECK(back.dtype == d);
      CHECK(back.shape == shape);
      CHECK(back.bytes == t.bytes);
    }
  }
}

TEST_CASE("write_npy is byte-identical to numpy.save") {
  const char* files[] = {"dtype_f2.npy", "dtype_f4.npy", "dtype_f8.npy", "dtype_i1.npy", "dtype_i2.npy",
                         "dtype_i4.npy", "dtype_i8.npy", "dtype_u1.npy", "dtype_u2.npy", "dtype_u4.npy",
                         "dtype_u8.npy", "dtype_b1.npy", "seed_example.npy", "vec17_f32.npy",
                         "mat4x6_f32.npy", "t2x3x4x5_f32.npy", "mat3x4_f64.npy", "mat3x4_f16.npy",
                         "vec9_i8.npy", "nan_inf_f32.npy", "constant_f32.npy", "zeros_f32.npy",
                         "scalar_0d_f32.npy", "empty_0x3_f32.npy", "calib_a.npy"};
  for (const char* name : files) {
    CAPTURE(name);
    const std::vector<uint8_t> numpy_bytes = fixture(name);
    CHECK(write_npy(read_npy(numpy_bytes)) == numpy_bytes);
  }
  // A header for a 0-d and a 1-d shape, spelled as Python does.
  const std::vector<uint8_t> scalar = write_npy(make_tensor(DType::f32, {}));
  CHECK(std::string(scalar.begin() + 10, scalar.begin() + 10 + 60) ==
        "{'descr': '<f4', 'fortran_order': False, 'shape': (), }     ");
  // 1-d: numpy adds 21 - len("5") spaces of growth room, then pads to 64.
  const std::vector<uint8_t> vec = write_npy(make_tensor(DType::u8, {5}));
  CHECK(std::string(vec.begin() + 10, vec.begin() + 10 + 77) ==
        "{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }" + std::string(20, ' '));
  CHECK(vec.size() == 128 + 5);
  CHECK(vec[127] == '\n');
}

TEST_CASE("npy values of every dtype fixture") {
  CHECK(values<uint16_t>(read_npy(fixture("dtype_f2.npy"))) ==
        std::vector<uint16_t>{0, 15360, 16384, 16896, 17408, 17664});
  CHECK(values<float>(read_npy(fixture("dtype_f4.npy"))) == std::vector<float>{0, 1, 2, 3, 4, 5});
  CHECK(values<double>(read_npy(fixture("dtype_f8.npy"))) == std::vector<double>{0, 1, 2, 3, 4, 5});
  CHECK(values<int8_t>(read_npy(fixture("dtype_i1.npy"))) == std::vector<int8_t>{-2, -1, 0, 1, 2, 3});
  CHECK(values<int16_t>(read_npy(fixture("dtype_i2.npy"))) == std::vector<int16_t>{-2, -1, 0, 1, 2, 3});
  CHECK(values<int32_t>(read_npy(fixture("dtype_i4.npy"))) == std::vector<int32_t>{-2, -1, 0, 1, 2, 3});
  CHECK(values<int64_t>(read_npy(fixture("dtype_i8.npy"))) == std::vector<int64_t>{-2, -1, 0, 1, 2, 3});
  CHECK(values<uint8_t>(read_npy(fixture("dtype_u1.npy"))) == std::vector<uint8_t>{0, 1, 2, 3, 4, 5});
  CHECK(values<uint16_t>(read_npy(fixture("dtype_u2.npy"))) == std::vector<uint16_t>{0, 1, 2, 3, 4, 5});
  CHECK(values<uint32_t>(read_npy(fixture("dtype_u4.npy"))) == std::vector<uint32_t>{0, 1, 2, 3, 4, 5});
  CHECK(values<uint64_t>(read_npy(fixture("dtype_u8.npy"))) == std::vector<uint64_t>{0, 1, 2, 3, 4, 5});
  const Tensor b = read_npy(fixture("dtype_b1.npy"));
  CHECK(b.dtype == DType::boolean);
  CHECK(values<uint8_t>(b) == std::vector<uint8_t>{1, 0, 1, 0, 1, 0});
  const Tensor seed = read_npy(fixture("seed_example.npy"));
  CHECK(seed.shape == Shape{5});
  CHECK(values<float>(seed) == std::vector<float>{-4.75f, -3.57f, 0.0f, 1.2f, 4.67f});
}

TEST_CASE("big-endian / Fortran-order and version 2/3 files read as little-endian C order") {
  for (const char* name : {"big_endian_f4.npy", "fortran_f4.npy", "fortran_big_endian_f4.npy",
                           "version2_f4.npy", "version3_f4.npy"}) {
    CAPTURE(name);
    const Tensor t = read_npy(fixture(name));
    CHECK(t.dtype == DType::f32);
    CHECK(t.shape == Shape{3, 4});
    CHECK(values<float>(t) == kKnown);
  }
  const Tensor i2 = read_npy(fixture("big_endian_i2.npy"));
  CHECK(i2.dtype == DType::i16);
  CHECK(values<int16_t>(i2) == std::vector<int16_t>{-2, -1, 0, 1, 258, 32767});
  CHECK(values<double>(read_npy(fixture("big_endian_f8.npy"))) == std::vector<double>{1.5, -2.25, 1e300});
  const Tensor cube = read_npy(fixture("fortran_3d_i2.npy"));
  CHECK(cube.shape == Shape{2, 3, 4});
  std::vector<int16_t> expect(24);
  for (int i = 0; i < 24; ++i) expect[i] = int16_t(i);
  CHECK(values<int16_t>(cube) == expect);
}

TEST_CASE("0-d and empty arrays") {
  const Tensor s = read_npy(fixture("scalar_0d_f32.npy"));
  CHECK(s.shape.empty());
  CHECK(values<float>(s) == std::vector<float>{3.5f});
  const Tensor e = read_npy(fixture("empty_0x3_f32.npy"));
  CHECK(e.shape == Shape{0, 3});
  CHECK(e.bytes.empty());
  // Empty arrays in Fortran order have nothing to transpose.
  const Tensor ef = read_npy(npy_with_header("{'descr': '<f4', 'fortran_order': True, 'shape': (3, 0), }", 0));
  CHECK(ef.shape == Shape{3, 0});
}

TEST_CASE("malformed npy fixtures give one-line errors naming the problem") {
  const std::pair<const char*, const char*> cases[] = {
      {"bad_magic.npy", "bad magic"},
      {"bad_version.npy", "unsupported format version 7.0"},
      {"truncated_data.npy", "(truncated)"},
      {"truncated_header.npy", "truncated header"},
      {"bad_dtype.npy", "unsupported dtype '<c8'"},
      {"bad_shape.npy", "negative dimension"},
      {"bad_header.npy", "'fortran_order' is not understood"},
      {"missing_key.npy", "lacks the key 'fortran_order'"},
  };
  for (const auto& c : cases) {  // no structured binding: CAPTURE's lambda cannot see one in clang 14
    const char* name = c.first;
    const char* expected = c.second;
    CAPTURE(name);
    const std::vector<uint8_t> file = fixture(name);
    const std::string message = error_of([&] { read_npy(file); });
    CHECK(message.find(expected) != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
    CHECK(message.rfind(".npy: ", 0) == 0);
  }
  CHECK(error_of([] { read_npy(fixture("truncated_data.npy")); }).find("48 data bytes, but the file has 43") !=
        std::string::npos);
}

TEST_CASE("malformed npy headers built by hand") {
  const auto err = [](const std::string& dict, size_t data = 0) {
    return error_of([&] { read_npy(npy_with_header(dict, data)); });
  };
  CHECK(err("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }")
            .find("more elements than fit in 64 bits") != std::string::npos);
  CHECK(err("{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,), }")
            .find("too large") != std::string::npos);
  CHECK(err("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }")
            .find("too large for 64 bits") != std::string::npos);
  CHECK(err("{'descr': '<f4', 'fortran_order': False, 'shape': (5), }").find("is not a tuple") != std::string::npos);
  CHECK(err("{'descr': '<f4', 'fortran_order': False, 'shape': [5], }").find("'shape' is not understood") !=
        std::string::npos);
  CHECK(err("{'descr': 'xyz', 'fortran_order': False, 'shape': (), }").find("unsupported dtype 'xyz'") !=
        std::string::npos);
  CHECK(err("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (), }").find("structured") !=
        std::string::npos);
  CHECK(err("{'descr': '<f4', 'fortran_order': 'no', 'shape': (), }", 4).find("True or False") !=
        std::string::npos);
  CHECK(err("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'extra': 1, }").find("'extra'") !=
        std::string::npos);
  CHECK(err("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (), }").find("repeats") !=
        std::string::npos);
  CHECK(err("{'descr': '<f4").find("unterminated string") != std::string::npos);
  CHECK(err("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)").find("header ends") != std::string::npos);
  CHECK(err("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } junk", 8).find("after the header") !=
        std::string::npos);
  // Old Python 2 files spell dims as longs; '=' and '|' are native order.
  CHECK(read_npy(npy_with_header("{'descr': '=i4', 'fortran_order': False, 'shape': (2L, 1L), }", 8)).shape ==
        Shape{2, 1});
  CHECK(error_of([] { read_npy(std::vector<uint8_t>{0x93, 'N', 'U', 'M', 'P', 'Y', 1}); }).find("truncated") !=
        std::string::npos);
  CHECK(error_of([] { read_npy(std::vector<uint8_t>{}); }).find("bad magic") != std::string::npos);
  CHECK(error_of([] { write_npy(make_tensor(DType::bf16, {2})); }).find("bfloat16") != std::string::npos);
}

TEST_CASE("zip stored round trip is deterministic") {
  std::vector<uint8_t> binary(1000);
  for (size_t i = 0; i < binary.size(); ++i) binary[i] = uint8_t(i * 131 + 7);
  const std::vector<ZipMember> members = {
      {"a.npy", write_npy(make_tensor(DType::f32, {2, 3}))},
      {"empty.bin", {}},
      {"binary.bin", binary},
      {"dir/name with spaces.txt", bytes_of("hello")},
  };
  const std::vector<uint8_t> zip = write_npz(members);
  CHECK(zip == write_npz(members));
  CHECK(zip[0] == 'P');
  CHECK(zip[1] == 'K');
  CHECK(zip[2] == 3);
  CHECK(zip[3] == 4);
  // Fixed DOS time 00:00 and date 1980-01-01 in the first local header.
  CHECK(zip[10] == 0);
  CHECK(zip[11] == 0);
  CHECK(zip[12] == 0x21);
  CHECK(zip[13] == 0);
  CHECK(get32(zip, 14) == crc32(members[0].second));
  CHECK(read_npz(zip) == members);
  CHECK(read_npz(write_npz({})).empty());
  CHECK(error_of([&] { write_npz({{"x", {}}, {"x", {}}}); }).find("duplicate member name 'x'") != std::string::npos);
}

TEST_CASE("zip64 end records when there are 65535 members or more") {
  std::vector<ZipMember> members;
  // (append, not "m" + to_string: g++ 12 warns falsely about that concatenation here, PR 105329)
  for (int i = 0; i < 70000; ++i) members.push_back({std::string("m").append(std::to_string(i)), {uint8_t(i), uint8_t(i >> 8)}});
  const std::vector<uint8_t> zip = write_npz(members);
  // The classic end record says "see zip64" (0xffff entries) and a zip64 locator precedes it.
  const size_t end = zip.size() - 22;
  CHECK(get32(zip, end) == 0x06054b50u);
  CHECK(zip[end + 10] == 0xff);
  CHECK(zip[end + 11] == 0xff);
  CHECK(get32(zip, end - 20) == 0x07064b50u);
  CHECK(read_npz(zip) == members);
}

TEST_CASE("npz fixtures written by numpy's zipfile") {
  const std::vector<uint8_t> multi = fixture("multi.npz");
  const std::vector<TensorInfo> infos = list_tensors(multi);
  REQUIRE(infos.size() == 3);
  CHECK(infos[0].name == "weight");
  CHECK(infos[0].dtype == DType::f32);
  CHECK(infos[0].shape == Shape{4, 6});
  CHECK(infos[1].name == "bias");
  CHECK(infos[1].shape == Shape{6});
  CHECK(infos[2].name == "steps");
  CHECK(infos[2].dtype == DType::i64);
  CHECK(values<int64_t>(load_tensor(multi, "steps")) == std::vector<int64_t>{1, 2, 3});
  CHECK(load_tensor(multi, "steps.npy").shape == Shape{3});
  CHECK(load_tensor(multi).bytes == read_npy(fixture("mat4x6_f32.npy")).bytes);
  const std::vector<float> vec = values<float>(read_npy(fixture("vec17_f32.npy")));
  CHECK(values<float>(load_tensor(multi, "bias")) == std::vector<float>(vec.begin(), vec.begin() + 6));
  CHECK(error_of([&] { load_tensor(multi, "nope"); }) ==
        "no tensor 'nope' in this .npz (it has: weight, bias, steps)");

  const std::vector<uint8_t> params = fixture("params_4x6_axis0.npz");
  const auto members = read_npz(params);
  REQUIRE(members.size() == 2);
  CHECK(members[0].first == "scale.npy");
  CHECK(read_npy(members[0].second).shape == Shape{4});
  CHECK(read_npy(members[1].second).dtype == DType::i32);

  const std::vector<uint8_t> deflated = fixture("multi_deflated.npz");
#ifndef __EMSCRIPTEN__
  CHECK(load_tensor(deflated, "weight").bytes == load_tensor(multi, "weight").bytes);
  CHECK(load_tensor(deflated, "bias").bytes == load_tensor(multi, "bias").bytes);
#else
  CHECK(error_of([&] { load_tensor(deflated); }).find("npz member 'weight.npy' is deflated") == 0);
#endif
}

TEST_CASE("npz guards and corrupt archives") {
  CHECK(error_of([] { read_npz(fixture("bad_crc.npz")); }) ==
        "npz: member 'x.npy' fails its CRC-32 check (corrupt file)");
  CHECK(error_of([] { read_npz(fixture("truncated.npz")); }).find("end-of-central-directory") != std::string::npos);
  CHECK(error_of([] { read_npz(bytes_of("PK")); }).find("too short") != std::string::npos);

  // A deflated member declaring more than deflate can produce is refused before allocation.
  std::vector<uint8_t> zip = write_npz({{"bomb.npy", std::vector<uint8_t>(64, 0)}});
  const size_t c = central_record(zip);
  zip[c + 10] = 8;                       // method: deflate
  put32(zip, c + 24, 3u << 30);          // 3 GiB uncompressed from 64 bytes
  CHECK(error_of([&] { read_npz(zip); }).find("beyond what deflate can produce") != std::string::npos);
  zip[c + 10] = 0;
  CHECK(error_of([&] { read_npz(zip); }).find("is stored but declares") != std::string::npos);
  put32(zip, c + 24, 64);
  zip[c + 10] = 99;
  CHECK(error_of([&] { read_npz(zip); }).find("compression method 99") != std::string::npos);
  zip[c + 10] = 0;
  put32(zip, c + 20, 1u << 20);          // more stored bytes than the file has
  put32(zip, c + 24, 1u << 20);
  CHECK(error_of([&] { read_npz(zip); }).find("(truncated)") != std::string::npos);

  // The total cap: two members each declaring about 2.1 GiB (within deflate's ratio) exceed 4 GiB.
  const std::vector<uint8_t> filler(5u << 19, 0);
  std::vector<uint8_t> big = write_npz({{"a", filler}, {"b", filler}});
  for (size_t at = 0, found = 0; found < 2; ++at) {
    if (big[at] == 'P' && big[at + 1] == 'K' && big[at + 2] == 1 && big[at + 3] == 2) {
      big[at + 10] = 8;
      put32(big, at + 24, uint32_t(2.1 * (1u << 30)));
      ++found;
    }
  }
  CHECK(error_of([&] { read_npz(big); }).find("more than 4 GiB uncompressed") != std::string::npos);

#ifndef __EMSCRIPTEN__
  // Deflated data that does not match its declared size.
  std::vector<uint8_t> deflated = fixture("multi_deflated.npz");
  const size_t d = central_record(deflated);
  const uint32_t usize = get32(deflated, d + 24);
  put32(deflated, d + 24, usize - 1);
  CHECK(error_of([&] { read_npz(deflated); }).find("inflates to more than its declared") != std::string::npos);
  put32(deflated, d + 24, usize + 1);
  CHECK(error_of([&] { read_npz(deflated); }).find("bytes, declared " + std::to_string(usize + 1)) !=
        std::string::npos);
#endif
}

TEST_CASE("format sniffing") {
  const std::vector<uint8_t> npy = fixture("mat4x6_f32.npy");
  const std::vector<TensorInfo> infos = list_tensors(npy);
  REQUIRE(infos.size() == 1);
  CHECK(infos[0].name == "array");
  CHECK(infos[0].shape == Shape{4, 6});
  CHECK(load_tensor(npy, "array").bytes == read_npy(npy).bytes);
  CHECK(error_of([&] { load_tensor(npy, "w"); }) ==
        "no tensor 'w' in this .npy (it holds one tensor, named 'array')");
  CHECK(error_of([] { list_tensors(fixture("not_a_tensor.txt")); }).find("unknown file format (supported: .npy") ==
        0);
  CHECK(error_of([] { list_tensors(std::vector<uint8_t>{}); }).find("empty file") == 0);
  CHECK(list_tensors(write_npz({})).empty());
  CHECK(error_of([] { load_tensor(write_npz({})); }) == "the .npz holds no .npy arrays");
  // Non-array members (params.json in our own exports) are not tensors.
  const std::vector<uint8_t> mixed =
      write_npz({{"params.json", bytes_of("{}")}, {"w.npy", write_npy(make_tensor(DType::i8, {3}))}});
  REQUIRE(list_tensors(mixed).size() == 1);
  CHECK(list_tensors(mixed)[0].name == "w");
  // A broken member names itself.
  const std::vector<uint8_t> broken = write_npz({{"bad.npy", bytes_of("nope")}});
  CHECK(error_of([&] { list_tensors(broken); }).find("npz member 'bad.npy': .npy: bad magic") == 0);
}

TEST_CASE("params.json and the export bundle") {
  Quantized q;
  q.codes = make_tensor(DType::u8, {2, 3});
  for (size_t i = 0; i < 6; ++i) q.codes.bytes[i] = uint8_t(i * 50);
  q.params.shape = {};
  q.params.scale = {0.036941178f};
  q.params.zero_point = {129};
  q.range = {0, 255};
  q.options.code = integer_code({8, false});
  q.options.profile = Profile::seed;
  Evaluation e;
  e.metrics.mse = 0.1;
  e.metrics.sqnr_db = std::numeric_limits<double>::infinity();
  e.metrics.cosine = std::numeric_limits<double>::quiet_NaN();
  e.metrics.elements = 6;
  e.metrics.nan = 2;
  RunInfo info;
  info.input_file = "dir/\"quoted\"\tname.npy";
  info.input_tensor = "array";
  info.input_shape = {2, 3};
  info.kernels = "scalar";

  const std::string json = params_json(q, e, info);
  CHECK(json == params_json(q, e, info));
  CHECK(json.find("\"file\": \"dir/\\\"quoted\\\"\\tname.npy\"") != std::string::npos);
  CHECK(json.find("\"kernels\": \"scalar\"") != std::string::npos);
  CHECK(json.find("\"version\": \"" QPLAY_VERSION "\"") != std::string::npos);
  CHECK(json.find("\"dtype\": \"uint8\",\n    \"bits\": 8,\n    \"signed\": false") != std::string::npos);
  CHECK(json.find("\"shape\": [2, 3]") != std::string::npos);
  CHECK(json.find("\"shape\": []") != std::string::npos);
  CHECK(json.find("\"scale\": [0.03694118]") != std::string::npos);
  CHECK(json.find("\"zero_point\": [129]") != std::string::npos);
  CHECK(json.find("\"mse\": 0.1,") != std::string::npos);
  CHECK(json.find("\"sqnr_db\": null") != std::string::npos);
  CHECK(json.find("\"cosine\": null") != std::string::npos);
  CHECK(json.find("\"nan\": 2") != std::string::npos);
  CHECK(json.find("\"profile\": \"seed\"") != std::string::npos);
  CHECK(json.find("\"observer\": null") != std::string::npos);
  CHECK(json.back() == '\n');

  std::vector<float> deq(6);
  for (size_t i = 0; i < 6; ++i) deq[i] = (float(q.codes.bytes[i]) - 129.0f) * 0.036941178f;
  const std::vector<uint8_t> npz = export_npz(q, deq, e, info);
  CHECK(npz == export_npz(q, deq, e, info));
  const auto members = read_npz(npz);
  REQUIRE(members.size() == 5);
  CHECK(members[0].first == "codes.npy");
  CHECK(members[1].first == "scale.npy");
  CHECK(members[2].first == "zero_point.npy");
  CHECK(members[3].first == "dequantized.npy");
  CHECK(members[4].first == "params.json");
  CHECK(read_npy(members[0].second).bytes == q.codes.bytes);
  const Tensor zp = read_npy(members[2].second);
  CHECK(zp.dtype == DType::i32);
  CHECK(zp.shape.empty());
  CHECK(values<int32_t>(zp) == std::vector<int32_t>{129});
  CHECK(values<float>(read_npy(members[3].second)) == deq);
  CHECK(std::string(members[4].second.begin(), members[4].second.end()) == json);

  q.params.float_zero_point = true;
  q.params.zero_point = {128.25f};
  CHECK(read_npy(read_npz(export_npz(q, deq, e, info))[2].second).dtype == DType::f32);
  CHECK(error_of([&] { export_npz(q, std::vector<float>(5), e, info); }).find("dequantized holds 5 values") !=
        std::string::npos);
}
