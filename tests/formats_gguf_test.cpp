// .gguf: typed metadata of every value type, tensor infos with ne[] reversed into numpy order,
// alignment, unquantized loads, quantized types listed by name, one malformed fixture per error.
#include <string>
#include <vector>

#include "formats_util.hpp"
#include "qplay/formats.hpp"
#include "qplay/ggml.hpp"

using namespace qplay;
using namespace qplay_test;

TEST_CASE("gguf: tensors metadata and types of a v3 file") {
  const std::vector<uint8_t> file = fixture("tiny.gguf");
  CHECK(sniff_format(file) == FileFormat::gguf);
  const FileInfo info = describe_file(file);
  CHECK(info.format == FileFormat::gguf);
  CHECK(info.version == "3");

  REQUIRE(info.metadata.size() == 16);
  const auto meta = [&](const std::string& key) -> const MetadataEntry& {
    for (const auto& m : info.metadata)
      if (m.key == key) return m;
    FAIL("no metadata key " << key);
    return info.metadata[0];
  };
  CHECK(meta("general.architecture").type == "str");
  CHECK(meta("general.architecture").value == "llama");
  CHECK(meta("general.name").value == "tiny \"test\"\nmodel");
  CHECK(meta("test.u8").value == "200");
  CHECK(meta("test.i8").value == "-100");
  CHECK(meta("test.u16").value == "60000");
  CHECK(meta("test.i16").value == "-30000");
  CHECK(meta("test.u32").value == "4000000000");
  CHECK(meta("test.i32").value == "-2000000000");
  CHECK(meta("test.f32").type == "f32");
  CHECK(meta("test.f32").value == "0.1");  // float32(0.1), shortest spelling
  CHECK(meta("test.bool").value == "true");
  CHECK(meta("test.u64").value == "18446744073709551615");
  CHECK(meta("test.i64").value == "-9223372036854775808");
  CHECK(meta("test.f64").value == "0.1");
  CHECK(meta("test.arr_i32").type == "arr[i32]");
  CHECK(meta("test.arr_i32").value == "[1, -2, 3]");
  CHECK(meta("test.arr_str").type == "arr[str]");
  CHECK(meta("test.arr_str").value == "[\"<unk>\", \"<s>\", \"</s>\", \"a\", \"b\", \"c\", \"d\", \"e\", ... (10 items)]");
  CHECK(meta("test.nested").type == "arr[arr[u8]]");
  CHECK(meta("test.nested").value == "[[1, 2], [3]]");

  REQUIRE(info.tensors.size() == 6);
  const TensorInfo& w = info.tensors[0];
  CHECK(w.name == "weight");
  CHECK(w.shape == Shape{4, 6});  // stored as ne = [6, 4]
  CHECK(w.stored_type == "F32");
  CHECK(w.loadable);
  CHECK(w.data_offset % 32 == 0);
  CHECK(info.tensors[1].stored_type == "F16");
  CHECK(info.tensors[2].dtype == DType::bf16);
  CHECK(info.tensors[3].shape == Shape{2, 2});
  const TensorInfo& q4_0 = info.tensors[4];
  CHECK(q4_0.name == "blk.0.q4_0");
  CHECK(q4_0.stored_type == "Q4_0");
  CHECK(q4_0.loadable);  // decoded to float32 by ggml_dequantize
  CHECK(q4_0.dtype == DType::f32);
  CHECK(q4_0.shape == Shape{1, 32});
  CHECK(q4_0.data_bytes == 18);
  CHECK(info.tensors[5].stored_type == "Q4_K");
  CHECK(info.tensors[5].data_bytes == 144);
  CHECK(file[static_cast<size_t>(q4_0.data_offset) + 5] == 5);  // the fixture's block bytes are 0, 1, 2...
}

TEST_CASE("gguf: unquantized tensors load and quantized ones decode") {
  const std::vector<uint8_t> file = fixture("tiny.gguf");
  CHECK(load_tensor(file, "weight").bytes == read_npy(fixture("mat4x6_f32.npy")).bytes);
  CHECK(load_tensor(file).shape == Shape{4, 6});
  CHECK(to_f32(load_tensor(file, "half")) == std::vector<float>{1.0f, -2.0f, 0.5f, 65504.0f});
  CHECK(to_f32(load_tensor(file, "brain")) == std::vector<float>{1.0f, -2.5f, 3.140625f});
  CHECK(values<int32_t>(load_tensor(file, "ints")) == std::vector<int32_t>{1, -2, 3, -4});
  // The fixture's quantized blocks (scripts/make_fixtures.py) decode as ggml_dequantize says.
  std::vector<uint8_t> q4_0(18), q4_k(144);
  for (size_t i = 0; i < q4_0.size(); ++i) q4_0[i] = uint8_t(i);
  for (size_t i = 0; i < q4_k.size(); ++i) q4_k[i] = uint8_t(i * 7 % 256);
  std::vector<float> want_q4_0(32), want_q4_k(256);
  ggml_dequantize(GgmlType::q4_0, q4_0, want_q4_0);
  ggml_dequantize(GgmlType::q4_k, q4_k, want_q4_k);
  const Tensor t0 = load_tensor(file, "blk.0.q4_0");
  CHECK(t0.dtype == DType::f32);
  CHECK(t0.shape == Shape{1, 32});
  CHECK(values<float>(t0) == want_q4_0);
  const Tensor tk = load_tensor(file, "blk.0.q4_k");
  CHECK(tk.shape == Shape{256});
  CHECK(values<float>(tk) == want_q4_k);
  CHECK(says(error_of([&] { load_tensor(file, "x"); }), "no tensor 'x' in this .gguf (it has: weight, half, brain"));

  const std::vector<uint8_t> v2 = fixture("tiny_v2_align64.gguf");
  const FileInfo info = describe_file(v2);
  CHECK(info.version == "2");
  REQUIRE(info.tensors.size() == 2);
  CHECK(info.tensors[0].data_offset % 64 == 0);
  CHECK(info.tensors[1].data_offset % 64 == 0);
  CHECK(info.metadata[0].key == "general.alignment");
  CHECK(info.metadata[0].value == "64");
  CHECK(load_tensor(v2, "weight").bytes == read_npy(fixture("mat4x6_f32.npy")).bytes);
  CHECK(to_f32(load_tensor(v2, "half"))[3] == 65504.0f);
}

TEST_CASE("gguf: malformed fixtures give one-line errors naming the problem") {
  const FixtureError cases[] = {
      {"gguf_v1.gguf", "gguf: version 1 (32-bit counts, 2023) is not supported (supported: 2, 3)"},
      {"gguf_truncated.gguf", "gguf: file ends inside a metadata string at byte 48 (truncated)"},
      {"gguf_count_lie.gguf", "gguf: header declares 1099511627776 tensors, more than the file can describe"},
      {"gguf_bad_type.gguf", "gguf: tensor 'w' has unknown ggml type id 77"},
      {"gguf_deep_array.gguf", "gguf: metadata 'test.deep' nests arrays deeper than 8 levels"},
      {"gguf_bad_alignment.gguf", "gguf: general.alignment 24 is not a power of two"},
      {"gguf_outside.gguf", "gguf: tensor 'w' data [0, +8) lies outside the file"},
      {"gguf_overlap.gguf", "gguf: tensors 'w' and 'v' overlap in the data section"},
      {"gguf_misaligned.gguf", "gguf: tensor 'v' offset 4 is not a multiple of the alignment 32"},
      {"gguf_dims_overflow.gguf", "gguf: tensor 'w' shape (4294967296, 4294967296) has more elements than fit in 64 bits"},
      {"gguf_bad_bool.gguf", "gguf: metadata 'test.bool' has bool byte 2 (must be 0 or 1)"},
      {"gguf_duplicate_key.gguf", "gguf: duplicate metadata key 'a.b'"},
  };
  check_fixture_errors(cases, [](const std::vector<uint8_t>& file) { list_tensors(file); });
  // Big-endian files announce themselves by a byte-swapped version.
  std::vector<uint8_t> be = fixture("tiny_v2_align64.gguf");
  be[4] = 0, be[7] = 3;
  CHECK(says(error_of([&] { list_tensors(be); }), "big-endian files are not supported"));
}
