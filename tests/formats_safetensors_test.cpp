// .safetensors: reading every dtype, the writer against the reference library's own byte vectors,
// the quantized bundle, and one malformed fixture per error class.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "formats_util.hpp"
#include "qplay/export.hpp"
#include "qplay/formats.hpp"

using namespace qplay;
using namespace qplay_test;

namespace {

Tensor f32(Shape shape, std::vector<float> v) { return tensor_from_f32(std::move(shape), v); }

std::string text_of(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }

}  // namespace

TEST_CASE("safetensors: every dtype reads with its values and the metadata is kept") {
  const std::vector<uint8_t> file = fixture("all_dtypes.safetensors");
  CHECK(sniff_format(file) == FileFormat::safetensors);
  const FileInfo info = describe_file(file);
  CHECK(info.format == FileFormat::safetensors);
  REQUIRE(info.metadata.size() == 2);
  CHECK(info.metadata[0].key == "format");
  CHECK(info.metadata[0].type == "str");
  CHECK(info.metadata[0].value == "pt");
  CHECK(info.metadata[1].value == "caf\xc3\xa9 \"quoted\"");
  REQUIRE(info.tensors.size() == 17);
  // Data order: the writer sorted by descending alignment, so 8-byte types come first.
  CHECK(info.tensors[0].name == "t_u64");
  CHECK(info.tensors[0].stored_type == "U64");
  CHECK(info.tensors.back().name == "t_bool");
  for (const TensorInfo& t : info.tensors) {
    CAPTURE(t.name);
    CHECK(t.loadable);
    REQUIRE(t.data_offset >= 8);
    const Tensor loaded = load_tensor(file, t.name);
    CHECK(loaded.dtype == t.dtype);
    CHECK(loaded.shape == t.shape);
    CHECK(loaded.bytes.size() == t.data_bytes);
    // data_offset points at the stored bytes (little-endian, as loaded).
    CHECK(std::vector<uint8_t>(file.begin() + t.data_offset, file.begin() + t.data_offset + t.data_bytes) ==
          loaded.bytes);
  }

  CHECK(values<uint8_t>(load_tensor(file, "t_bool")) == std::vector<uint8_t>{1, 0, 1});
  CHECK(values<uint8_t>(load_tensor(file, "t_u8")) == std::vector<uint8_t>{0, 1, 255});
  CHECK(values<int8_t>(load_tensor(file, "t_i8")) == std::vector<int8_t>{-128, -1, 127});
  CHECK(values<int16_t>(load_tensor(file, "t_i16")) == std::vector<int16_t>{-32768, 32767});
  CHECK(values<uint16_t>(load_tensor(file, "t_u16")) == std::vector<uint16_t>{0, 65535});
  CHECK(values<int32_t>(load_tensor(file, "t_i32")) == std::vector<int32_t>{INT32_MIN, INT32_MAX});
  CHECK(values<uint32_t>(load_tensor(file, "t_u32")) == std::vector<uint32_t>{0, UINT32_MAX});
  CHECK(values<int64_t>(load_tensor(file, "t_i64")) == std::vector<int64_t>{INT64_MIN, INT64_MAX});
  CHECK(values<uint64_t>(load_tensor(file, "t_u64")) == std::vector<uint64_t>{0, UINT64_MAX});
  CHECK(values<double>(load_tensor(file, "t_f64")) == std::vector<double>{1.5, -1e300});
  CHECK(to_f32(load_tensor(file, "t_f16")) == std::vector<float>{1.0f, -2.5f, 65504.0f});
  CHECK(to_f32(load_tensor(file, "t_bf16")) == std::vector<float>{1.0f, -2.5f, 3.140625f});
  CHECK(load_tensor(file, "t_f32").bytes == read_npy(fixture("mat4x6_f32.npy")).bytes);
  CHECK(load_tensor(file, "t_scalar").shape.empty());
  CHECK(to_f32(load_tensor(file, "t_scalar")) == std::vector<float>{2.5f});
  CHECK(load_tensor(file, "t_empty").shape == Shape{0, 3});
  CHECK(load_tensor(file, "t_empty").bytes.empty());

  const std::vector<float> e4m3 = to_f32(load_tensor(file, "t_f8_e4m3"));
  REQUIRE(e4m3.size() == 5);
  CHECK(e4m3[0] == 1.0f);
  CHECK(e4m3[1] == 448.0f);
  CHECK(e4m3[2] == 0x1p-9f);
  CHECK(e4m3[3] == -2.0f);
  CHECK(std::isnan(e4m3[4]));
  const std::vector<float> e5m2 = to_f32(load_tensor(file, "t_f8_e5m2"));
  REQUIRE(e5m2.size() == 6);
  CHECK(e5m2[0] == 1.0f);
  CHECK(e5m2[1] == 57344.0f);
  CHECK(e5m2[2] == 0x1p-16f);
  CHECK(e5m2[3] == std::numeric_limits<float>::infinity());
  CHECK(std::isnan(e5m2[4]));
  CHECK(e5m2[5] == -2.0f);

  // The first tensor in data order when no name is given; unknown names list what exists.
  CHECK(load_tensor(file).dtype == DType::u64);
  CHECK(says(error_of([&] { load_tensor(file, "nope"); }), "no tensor 'nope' in this .safetensors (it has: t_u64, t_i64"));
  CHECK(error_of([] { load_tensor(write_safetensors({})); }) == "the .safetensors holds no tensors");
}

TEST_CASE("safetensors: the writer gives the reference library's bytes") {
  // The serialization vectors of huggingface/safetensors' own tests (tensor.rs): the header length,
  // compact JSON and the space padding to 8 bytes, then the data.
  const Tensor t = f32({1, 2, 3}, {0, 1, 2, 3, 4, 5});
  const std::vector<uint8_t> out = write_safetensors({{"attn.0", t}});
  CHECK(out.size() == 8 + 64 + 24);
  CHECK(out[0] == 64);
  CHECK(text_of({out.begin() + 8, out.begin() + 72}) ==
        "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}");
  CHECK(std::vector<uint8_t>(out.begin() + 72, out.end()) == t.bytes);

  const std::vector<uint8_t> padded = write_safetensors({{"attn0", f32({1, 1, 2, 3}, {0, 1, 2, 3, 4, 5})}});
  CHECK(padded[0] == 72);
  CHECK(text_of({padded.begin() + 8, padded.begin() + 80}) ==
        "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ");

  const std::vector<uint8_t> empty = write_safetensors({});
  CHECK(empty == std::vector<uint8_t>{8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '});
  const std::vector<uint8_t> meta = write_safetensors({}, {{"framework", "pt"}});
  CHECK(meta[0] == 40);
  CHECK(text_of({meta.begin() + 8, meta.end()}) == "{\"__metadata__\":{\"framework\":\"pt\"}}     ");

  // Python's writer (scripts/make_fixtures.py, the same rules) and ours agree byte for byte.
  const std::vector<uint8_t> fixture_bytes = fixture("all_dtypes.safetensors");
  const FileInfo info = describe_file(fixture_bytes);
  std::vector<NamedTensor> tensors;
  for (const TensorInfo& ti : info.tensors) tensors.push_back({ti.name, load_tensor(fixture_bytes, ti.name)});
  std::reverse(tensors.begin(), tensors.end());  // input order does not matter
  CHECK(write_safetensors(tensors, {{"format", "pt"}, {"note", "caf\xc3\xa9 \"quoted\""}}) == fixture_bytes);
  CHECK(write_safetensors({{"weight", read_npy(fixture("mat4x6_f32.npy"))}}) == fixture("mat4x6.safetensors"));

  // Control characters are escaped as serde_json does.
  const std::vector<uint8_t> escaped = write_safetensors({}, {{"k", std::string("a\n\x01\"\\/", 6)}});
  CHECK(text_of({escaped.begin() + 8, escaped.end()}).find(R"("a\n\u0001\"\\/")") != std::string::npos);
  CHECK(describe_file(escaped).metadata[0].value == std::string("a\n\x01\"\\/", 6));
}

TEST_CASE("safetensors: the writer refuses what the format cannot hold") {
  const Tensor t = f32({2}, {1, 2});
  CHECK(says(error_of([&] { write_safetensors({{"a", t}, {"a", t}}); }), "duplicate tensor name 'a'"));
  CHECK(says(error_of([&] { write_safetensors({{"__metadata__", t}}); }), "invalid tensor name"));
  CHECK(says(error_of([&] { write_safetensors({{"", t}}); }), "invalid tensor name"));
  CHECK(says(error_of([&] { write_safetensors({}, {{"k", "1"}, {"k", "2"}}); }), "duplicate metadata key 'k'"));
  Tensor short_bytes = t;
  short_bytes.bytes.pop_back();
  CHECK(says(error_of([&] { write_safetensors({{"a", short_bytes}}); }), "holds 7 bytes, expected 8"));
}

TEST_CASE("safetensors: the quantized bundle holds codes scale zero_point and the params") {
  SafetensorsPart p;
  p.name = "layer.weight";
  p.codes = make_tensor(DType::i8, {2, 3});
  for (size_t i = 0; i < 6; ++i) p.codes.bytes[i] = uint8_t(i * 40);
  p.scale = f32({2}, {0.5f, 0.25f});
  p.zero_point = make_tensor(DType::i32, {2});
  p.params_json = "{\"x\": 1}\n";
  const std::vector<uint8_t> file = export_safetensors_parts({p});
  CHECK(file[0] % 8 == 0);  // header length (small here: one byte of the u64)
  const FileInfo info = describe_file(file);
  REQUIRE(info.tensors.size() == 3);
  // Sorted as the library sorts: float32 scale, int32 zero point, then the int8 codes.
  CHECK(info.tensors[0].name == "layer.weight.scale");
  CHECK(info.tensors[1].name == "layer.weight.zero_point");
  CHECK(info.tensors[2].name == "layer.weight.codes");
  CHECK(info.tensors[2].dtype == DType::i8);
  for (const TensorInfo& t : info.tensors) CHECK(t.data_offset % 8 == 0);  // header padded to 8
  REQUIRE(info.metadata.size() == 1);
  CHECK(info.metadata[0].key == "qplay.params.layer.weight");
  CHECK(info.metadata[0].value == p.params_json);
  CHECK(load_tensor(file, "layer.weight.codes").bytes == p.codes.bytes);
  CHECK(load_tensor(file, "layer.weight.scale").bytes == p.scale.bytes);

  SafetensorsPart bad = p;
  bad.codes = f32({1}, {1});
  CHECK(says(error_of([&] { export_safetensors_parts({bad}); }), "codes must be int8, uint8, int16 or uint16"));
  bad = p;
  bad.zero_point = make_tensor(DType::i32, {3});
  CHECK(says(error_of([&] { export_safetensors_parts({bad}); }), "zero_point must be int32 or float32 shaped like"));
  CHECK(says(error_of([&] { export_safetensors_parts({p, p}); }), "duplicate tensor name 'layer.weight.codes'"));
}

TEST_CASE("safetensors: malformed fixtures give one-line errors naming the problem") {
  const FixtureError cases[] = {
      {"st_header_too_large.safetensors", "safetensors: header length 100000001 exceeds the limit of 100000000"},
      {"st_truncated_header.safetensors", "safetensors: header declares 56 bytes, the file has 12 after the length (truncated)"},
      {"st_bad_json.safetensors", "safetensors header: expected a string key at byte 20"},
      {"st_deep_json.safetensors", "safetensors header: nesting deeper than 64 levels"},
      {"st_duplicate_key.safetensors", "safetensors header: duplicate key \"w\""},
      {"st_bad_dtype.safetensors", "safetensors: tensor 'w' has unsupported dtype 'C64' (supported: BOOL U8"},
      {"st_size_mismatch.safetensors", "tensor 'w' is F32 (3,) = 12 bytes, but data_offsets [0, 8) hold 8"},
      {"st_outside.safetensors", "tensor 'w' data_offsets [0, 16) lie outside the data buffer of 8 bytes"},
      {"st_overlap.safetensors", "tensors 'a' [0, 8) and 'b' [4, 8) overlap"},
      {"st_hole.safetensors", "bytes [0, 4) before tensor 'a' belong to no tensor"},
      {"st_trailing.safetensors", "4 bytes after the last tensor belong to no tensor"},
      {"st_dims_overflow.safetensors", "safetensors tensor 'w': shape (4294967296, 4294967296) has more elements than fit in 64 bits"},
#ifdef __EMSCRIPTEN__
      {"st_huge.safetensors", "needs 8589934592 bytes; too large for WebAssembly, which holds at most 4 GiB per tensor"},
#else
      {"st_huge.safetensors", "data_offsets [0, 8589934592) lie outside the data buffer of 8 bytes"},
#endif
  };
  check_fixture_errors(cases, [](const std::vector<uint8_t>& file) { list_tensors(file); });
  check_fixture_errors(cases, [](const std::vector<uint8_t>& file) { load_tensor(file); });
}
