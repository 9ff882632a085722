// The .gguf writer (gguf_layout / write_gguf): a tiny file checked byte for byte against a header
// built by hand from docs/gguf.md, every tensor type and metadata type read back by our reader,
// ggml's layout rules (contiguous offsets padded to 32, names < 64 bytes, at most 4 dims) and the
// reader's decoding of the quantized types, with unsupported ones still refused.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "formats_util.hpp"
#include "qplay/formats.hpp"
#include "qplay/ggml.hpp"

using namespace qplay;
using namespace qplay_test;

namespace {

// Little-endian pieces of a hand-built header (independent of the writer's own encoder).
struct Hand {
  std::vector<uint8_t> b;
  Hand& raw(std::string_view s) { b.insert(b.end(), s.begin(), s.end()); return *this; }
  Hand& u32(uint32_t v) { for (int i = 0; i < 4; ++i) b.push_back(uint8_t(v >> (8 * i))); return *this; }
  Hand& u64(uint64_t v) { for (int i = 0; i < 8; ++i) b.push_back(uint8_t(v >> (8 * i))); return *this; }
  Hand& str(std::string_view s) { return u64(s.size()).raw(s); }
};

std::vector<float> wave(size_t n, float amp) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = amp * std::sin(0.37f * float(i)) + 0.01f * float(i % 7);
  return x;
}

}  // namespace

TEST_CASE("gguf writer: a tiny file equals the header built by hand from the spec") {
  GgufTensor w;
  w.desc = {"w", {2, 3}, kGgufF32, 24};
  for (int i = 0; i < 6; ++i) {
    const float f = float(i) - 2.5f;
    uint8_t b[4];
    std::memcpy(b, &f, 4);
    w.data.insert(w.data.end(), b, b + 4);
  }
  const std::vector<uint8_t> file = write_gguf({w}, {{"a.b", GgufValue{std::string("hi")}}});

  Hand h;
  h.raw("GGUF").u32(3).u64(1).u64(2);                       // magic, version 3, 1 tensor, 2 KVs
  h.str("general.alignment").u32(4).u32(32);               // u32 (type 4) = 32
  h.str("a.b").u32(8).str("hi");                           // string (type 8)
  h.str("w").u32(2).u64(3).u64(2).u32(0).u64(0);           // ne = [3, 2] (numpy (2, 3)), F32, offset 0
  REQUIRE(h.b.size() == 123);
  h.b.resize(128, 0);                                      // padded to the alignment
  h.b.insert(h.b.end(), w.data.begin(), w.data.end());     // 24 data bytes
  h.b.resize(160, 0);                                      // and the tensor padded to 32
  CHECK(file == h.b);

  const GgufLayout layout = gguf_layout({w.desc}, {{"a.b", GgufValue{std::string("hi")}}});
  CHECK(layout.header == std::vector<uint8_t>(h.b.begin(), h.b.begin() + 128));
  CHECK(layout.offsets == std::vector<uint64_t>{0});
  CHECK(layout.file_bytes == 160);
  CHECK(load_tensor(file, "w").bytes == w.data);
}

TEST_CASE("gguf writer: every type and metadata type round-trips through the reader") {
  std::vector<GgufTensor> tensors;
  const std::vector<float> x = wave(2 * 512, 3.0f);
  for (GgmlType t : kGgmlTypes) {
    GgufTensor g;
    g.desc.name = "blk." + std::string(ggml_type_name(t));
    g.desc.shape = {2, 512};
    g.desc.type = ggml_type_id(t);
    g.data = ggml_quantize(t, x);
    g.desc.bytes = g.data.size();
    tensors.push_back(std::move(g));
  }
  const Tensor f16 = [&] {
    Tensor t = make_tensor(DType::f16, {5});
    for (size_t i = 0; i < 5; ++i) {
      const uint16_t h = ggml_fp32_to_fp16(float(i) * 0.5f);
      std::memcpy(t.bytes.data() + 2 * i, &h, 2);
    }
    return t;
  }();
  tensors.push_back({{"half", {5}, gguf_type_of(DType::f16), 10}, f16.bytes});
  tensors.push_back({{"brain", {1, 1, 1, 3}, gguf_type_of(DType::bf16), 6}, {0x80, 0x3f, 0x20, 0xc0, 0x49, 0x40}});
  tensors.push_back({{"scalar", {}, kGgufF32, 4}, {0, 0, 0x80, 0x3f}});
  const std::vector<GgufKv> kvs = {
      {"t.u32", GgufValue{uint32_t{4000000000u}}}, {"t.i32", GgufValue{int32_t{-7}}},
      {"t.u64", GgufValue{uint64_t{1} << 40}},     {"t.f32", GgufValue{0.1f}},
      {"t.bool", GgufValue{true}},                 {"t.str", GgufValue{std::string("line\none")}},
  };
  const std::vector<uint8_t> file = write_gguf(tensors, kvs);
  CHECK(file.size() % 32 == 0);

  const FileInfo info = describe_file(file);
  CHECK(info.version == "3");
  REQUIRE(info.metadata.size() == 7);
  CHECK(info.metadata[0].key == "general.alignment");
  CHECK(info.metadata[0].value == "32");
  CHECK(info.metadata[1].type == "u32");
  CHECK(info.metadata[1].value == "4000000000");
  CHECK(info.metadata[2].value == "-7");
  CHECK(info.metadata[3].type == "u64");
  CHECK(info.metadata[3].value == "1099511627776");
  CHECK(info.metadata[4].value == "0.1");
  CHECK(info.metadata[5].value == "true");
  CHECK(info.metadata[6].value == "line\none");

  REQUIRE(info.tensors.size() == tensors.size());
  // ggml's reader wants each offset to be the previous one plus its size padded to 32.
  int64_t expected = info.tensors[0].data_offset;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorInfo& t = info.tensors[i];
    CAPTURE(t.name);
    CHECK(t.name == tensors[i].desc.name);
    CHECK(t.shape == tensors[i].desc.shape);
    CHECK(t.loadable);
    CHECK(t.data_offset == expected);
    CHECK(t.data_bytes == tensors[i].data.size());
    CHECK(std::equal(tensors[i].data.begin(), tensors[i].data.end(), file.begin() + t.data_offset));
    expected += int64_t(t.data_bytes + gguf_padding(t.data_bytes));
  }
  for (size_t k = 0; k < kGgmlTypes.size(); ++k) {
    const GgmlType t = kGgmlTypes[k];
    CAPTURE(ggml_type_name(t));
    const Tensor loaded = load_tensor(file, tensors[k].desc.name);
    std::vector<float> want(x.size());
    ggml_dequantize(t, tensors[k].data, want);
    CHECK(loaded.dtype == DType::f32);
    CHECK(loaded.shape == Shape{2, 512});
    CHECK(std::memcmp(loaded.bytes.data(), want.data(), want.size() * 4) == 0);
  }
  CHECK(to_f32(load_tensor(file, "half")) == std::vector<float>{0, 0.5f, 1, 1.5f, 2});
  CHECK(to_f32(load_tensor(file, "brain")) == std::vector<float>{1.0f, -2.5f, 3.140625f});
  CHECK(to_f32(load_tensor(file, "scalar")) == std::vector<float>{1.0f});
}

TEST_CASE("gguf writer: ggml's reader rules are checked with clear errors") {
  const auto one = [](GgufTensorDesc d) { return error_of([&] { gguf_layout({d}); }); };
  CHECK(one({"w", {3, 100}, ggml_type_id(GgmlType::q4_0), 0}) ==
        "gguf: shape (3, 100) cannot be stored as Q4_0: the last dim 100 (ggml's ne[0]) must be a multiple of its block size 32");
  CHECK(one({"w", {1, 32}, ggml_type_id(GgmlType::q4_k), 18}) ==
        "gguf: shape (1, 32) cannot be stored as Q4_K: the last dim 32 (ggml's ne[0]) must be a multiple of its block size 256");
  CHECK(one({"w", {1, 32}, ggml_type_id(GgmlType::q4_0), 17}) ==
        "gguf: tensor 'w': 17 bytes given, its type and shape (1, 32) take 18");
  CHECK(one({std::string(64, 'n'), {1}, kGgufF32, 4}) ==
        "gguf: tensor '" + std::string(64, 'n') + "': the name has 64 bytes (ggml allows at most 63)");
  CHECK(one({"w", {1, 1, 1, 1, 1}, kGgufF32, 4}) == "gguf: tensor 'w' has shape (1, 1, 1, 1, 1): ggml tensors have at most 4 dims");
  CHECK(one({"w", {256}, 23, 136}) == "gguf: the writer stores F32, F16, BF16 and the ggml types q8_0 ... mxfp4, not IQ4_XS");
  CHECK(one({"w", {4}, 99, 4}) == "gguf: the writer stores F32, F16, BF16 and the ggml types q8_0 ... mxfp4, not type id 99");
  CHECK(one({"", {1}, kGgufF32, 4}) == "gguf: a tensor name is empty");
  CHECK(error_of([] { gguf_layout({{"w", {1}, kGgufF32, 4}, {"w", {1}, kGgufF32, 4}}); }) ==
        "gguf: duplicate tensor name 'w'");
  CHECK(error_of([] { gguf_layout({}, {{"general.alignment", GgufValue{uint32_t{64}}}}); }) ==
        "gguf: general.alignment is written by the writer (always 32)");
  CHECK(error_of([] { gguf_layout({}, {{"k", GgufValue{true}}, {"k", GgufValue{false}}}); }) ==
        "gguf: duplicate metadata key 'k'");
  CHECK(error_of([] { write_gguf({{{"w", {2}, kGgufF32, 8}, {0, 0, 0}}}); }) ==
        "gguf: tensor 'w' holds 3 bytes, its descriptor says 8");
  CHECK(error_of([] { gguf_type_of(DType::i8); }) ==
        "gguf: the writer stores float32, float16 and bfloat16 tensors (got int8)");
}

TEST_CASE("gguf reader: a quantized type qplay cannot decode is listed and refused by name") {
  // A Q2_K tensor (84 bytes) relabelled IQ1_S (type 19, 50 bytes per 256): still inside the file.
  GgufTensor g{{"w", {256}, ggml_type_id(GgmlType::q2_k), 84}, std::vector<uint8_t>(84, 1)};
  std::vector<uint8_t> file = write_gguf({g});
  const GgufLayout layout = gguf_layout({g.desc});
  // The type id is the u32 before the tensor's u64 offset, at the end of the header's infos.
  const size_t infos_end = 4 + 4 + 8 + 8 + (8 + 17 + 4 + 4) + (8 + 1 + 4 + 8 + 4 + 8);
  REQUIRE(layout.header.size() == 96);
  REQUIRE(file[infos_end - 12] == 10);
  file[infos_end - 12] = 19;
  const FileInfo info = describe_file(file);
  CHECK(info.tensors[0].stored_type == "IQ1_S");
  CHECK(!info.tensors[0].loadable);
  CHECK(says(error_of([&] { load_tensor(file, "w"); }),
             "gguf tensor 'w' has type IQ1_S, which qplay cannot decode (it decodes F32, F16, BF16, F64, I8..I64 and "
             "Q8_0, Q8_1, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, MXFP4)"));
}
