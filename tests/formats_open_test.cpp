// Format sniffing and describe_file across formats, the strict JSON parser, fp8 widening, zip
// members inflated by the caller (the wasm path) and the npz/npy limits.
#include <cmath>
#include <string>
#include <vector>

#include "formats/json.hpp"
#include "formats_util.hpp"
#include "qplay/formats.hpp"

using namespace qplay;
using namespace qplay_test;

TEST_CASE("sniffing reads the bytes and never the name") {
  CHECK(sniff_format(fixture("mat4x6_f32.npy")) == FileFormat::npy);
  CHECK(sniff_format(fixture("multi.npz")) == FileFormat::npz);
  CHECK(sniff_format(write_npz({})) == FileFormat::npz);
  CHECK(sniff_format(fixture("tiny.gguf")) == FileFormat::gguf);
  CHECK(sniff_format(fixture("mat4x6.safetensors")) == FileFormat::safetensors);
  CHECK(sniff_format(fixture("ws2x3.txt")) == FileFormat::text);
  CHECK(format_name(FileFormat::safetensors) == "safetensors");
  CHECK(format_name(FileFormat::text) == "text");
  // Raw bytes are never guessed: without a RawSpec a float32 file is an unknown format.
  CHECK(says(error_of([] { sniff_format(fixture("mat4x6_f32.bin")); }), "raw binary needs its dtype and shape given"));
  CHECK(error_of([] { sniff_format(std::vector<uint8_t>{}); }).rfind("empty file", 0) == 0);

  // describe_file carries the format, the npy version and where each tensor's bytes are.
  const std::vector<uint8_t> npy = fixture("version2_f4.npy");
  const FileInfo info = describe_file(npy);
  CHECK(info.format == FileFormat::npy);
  CHECK(info.version == "2.0");
  REQUIRE(info.tensors.size() == 1);
  CHECK(info.tensors[0].stored_type == "<f4");
  CHECK(info.tensors[0].data_offset % 64 == 0);
  CHECK(info.tensors[0].data_bytes == 48);
  CHECK(describe_file(fixture("big_endian_f4.npy")).tensors[0].stored_type == ">f4");

  // Stored .npz members lie in the file as-is; their offsets point into it.
  const std::vector<uint8_t> multi = fixture("multi.npz");
  for (const TensorInfo& t : list_tensors(multi)) {
    CAPTURE(t.name);
    REQUIRE(t.data_offset > 0);
    CHECK(std::vector<uint8_t>(multi.begin() + t.data_offset, multi.begin() + t.data_offset + t.data_bytes) ==
          load_tensor(multi, t.name).bytes);
  }
}

TEST_CASE("zip members inflated by the caller load in every build") {
  // What the page does: list the members, inflate the deflated ones (DecompressionStream
  // 'deflate-raw' there; here the same bytes come from the stored twin), pass them back.
  const std::vector<uint8_t> deflated = fixture("multi_deflated.npz");
  const std::vector<ZipMemberInfo> members = list_zip_members(deflated);
  REQUIRE(members.size() == 2);
  CHECK(members[0].name == "weight.npy");
  CHECK(members[0].method == 8);
  CHECK(members[0].compressed_size < members[0].uncompressed_size);
  CHECK(members[0].data_offset >= 30 + members[0].name.size());  // after its local header
  CHECK(members[0].data_offset + members[0].compressed_size <= deflated.size());

  std::vector<ZipMember> inflated;
  for (const ZipMember& m : read_npz(fixture("multi.npz")))
    if (m.first == "weight.npy" || m.first == "bias.npy") inflated.push_back(m);
  ReadOptions o;
  o.inflated = inflated;
  CHECK(load_tensor(deflated, "weight", o).bytes == read_npy(fixture("mat4x6_f32.npy")).bytes);
  const std::vector<TensorInfo> infos = list_tensors(deflated, o);
  REQUIRE(infos.size() == 2);
  CHECK(infos[1].name == "bias");
  CHECK(infos[1].data_offset == -1);  // deflated: not in the file as-is
  CHECK(read_npz(deflated, inflated).size() == 2);

  // Whoever inflated them, the bytes must have the declared size and CRC.
  std::vector<ZipMember> wrong = inflated;
  wrong[0].second.back() ^= 1;
  CHECK(says(error_of([&] { read_npz(deflated, wrong); }), "member 'weight.npy' fails its CRC-32 check"));
  wrong[0].second.pop_back();
  CHECK(says(error_of([&] { read_npz(deflated, wrong); }), "member 'weight.npy' was inflated to"));
}

TEST_CASE("npz and npy limits: bombs and oversized headers are refused before reading") {
  const std::vector<uint8_t> bomb = fixture("bomb_ratio.npz");
  CHECK(says(error_of([&] { list_zip_members(bomb); }), "declares 3221225472 bytes from"));
  CHECK(says(error_of([&] { list_tensors(bomb); }), "beyond what deflate can produce (a zip bomb?)"));
  CHECK(says(error_of([] { list_tensors(fixture("npy_header_too_long.npy")); }),
             ".npy: header of 20000 bytes is longer than numpy's limit of 10000"));
}

TEST_CASE("fp8 widening is exact for all 256 codes of both formats") {
  for (int code = 0; code < 256; ++code) {
    CAPTURE(code);
    const int sign = code >> 7;
    Tensor t = make_tensor(DType::f8_e4m3, {1});
    t.bytes[0] = uint8_t(code);
    const float e4m3 = to_f32(t)[0];
    // E4M3FN: bias 7, subnormals at exponent 0, only S.1111.111 is NaN (no infinities).
    const int e = (code >> 3) & 15, m = code & 7;
    if (e == 15 && m == 7) {
      CHECK(std::isnan(e4m3));
    } else {
      const double mag = e == 0 ? std::ldexp(m / 8.0, -6) : std::ldexp(1 + m / 8.0, e - 7);
      CHECK(e4m3 == static_cast<float>(sign ? -mag : mag));
      CHECK(std::signbit(e4m3) == bool(sign));
    }
    t.dtype = DType::f8_e5m2;
    const float e5m2 = to_f32(t)[0];
    // E5M2: bias 15, exponent 31 is inf (mantissa 0) or NaN.
    const int e5 = (code >> 2) & 31, m5 = code & 3;
    if (e5 == 31) {
      CHECK((m5 == 0 ? std::isinf(e5m2) : std::isnan(e5m2)));
    } else {
      const double mag = e5 == 0 ? std::ldexp(m5 / 4.0, -14) : std::ldexp(1 + m5 / 4.0, e5 - 15);
      CHECK(e5m2 == static_cast<float>(sign ? -mag : mag));
    }
  }
  // The reference vectors (E4M3FN max 448 = 0x7E, E5M2 max 57344 = 0x7B).
  Tensor v = make_tensor(DType::f8_e4m3, {4});
  v.bytes = {0x38, 0x1D, 0x7E, 0x01};
  CHECK(to_f32(v) == std::vector<float>{1.0f, 0.1015625f, 448.0f, 0x1p-9f});
  v.dtype = DType::f8_e5m2;
  v.bytes = {0x3C, 0x2E, 0x7B, 0x01};
  CHECK(to_f32(v) == std::vector<float>{1.0f, 0.09375f, 57344.0f, 0x1p-16f});
  CHECK(dtype_size(DType::f8_e4m3) == 1);
  CHECK(dtype_name(DType::f8_e5m2) == "float8_e5m2");
  CHECK(says(error_of([] { write_npy(make_tensor(DType::f8_e4m3, {1})); }), "float8_e4m3fn has no numpy dtype"));
}

TEST_CASE("the JSON parser is strict and bounded") {
  using formats::JsonValue;
  using formats::parse_json;
  const JsonValue v = parse_json(R"( {"a": [1, -2.5e3, true, false, null], "b": "x\u00e9\ud83d\ude00\n", "c": {}} )", "t");
  REQUIRE(v.kind == JsonValue::object);
  REQUIRE(v.members.size() == 3);
  CHECK(v.find("a")->items.size() == 5);
  CHECK(v.find("a")->items[1].text == "-2.5e3");
  CHECK(v.find("a")->items[2].flag);
  CHECK(v.find("a")->items[4].kind == JsonValue::null);
  CHECK(v.find("b")->text == "x\xc3\xa9\xf0\x9f\x98\x80\n");
  CHECK(v.find("c")->kind == JsonValue::object);
  CHECK(v.find("zz") == nullptr);
  CHECK(formats::json_u64(parse_json("18446744073709551615", "t"), "n") == UINT64_MAX);

  const auto err = [](const char* text) { return error_of([&] { parse_json(text, "t"); }); };
  CHECK(err("{\"a\":1,}") == "t: expected a string key at byte 7");
  CHECK(says(err("[1,]"), "unexpected character ']'"));
  CHECK(says(err("{\"a\":1,\"a\":2}"), "duplicate key \"a\""));
  CHECK(says(err("\"\\x\""), "invalid escape"));
  CHECK(says(err("\"\\ud800\""), "high surrogate without its low half"));
  CHECK(says(err("\"\\udc00\""), "lone low surrogate"));
  CHECK(says(err("\"a\tb\""), "control character in a string"));
  CHECK(says(err("\"\xc3\x28\""), "invalid UTF-8"));
  CHECK(says(err("\"\xed\xa0\x80\""), "invalid UTF-8"));  // an encoded surrogate
  CHECK(says(err("01"), "unexpected text after the JSON value"));
  CHECK(says(err("1."), "invalid number"));
  CHECK(says(err("tru"), "invalid literal"));
  CHECK(says(err("{\"a\" 1}"), "expected ':'"));
  CHECK(says(err("[1 2]"), "expected ',' or ']'"));
  CHECK(says(err("\"abc"), "unterminated string"));
  CHECK(says(err(""), "unexpected end of JSON"));
  CHECK(err(std::string(64, '[').append(64, ']').c_str()).empty());  // 64 levels are fine
  CHECK(says(err(std::string(65, '[').append(65, ']').c_str()), "nesting deeper than 64 levels"));
  CHECK(says(error_of([] { formats::json_u64(parse_json("1.0", "t"), "n"); }), "n must be a non-negative integer"));
  CHECK(says(error_of([] { formats::json_u64(parse_json("-1", "t"), "n"); }), "non-negative integer"));
  CHECK(says(error_of([] { formats::json_u64(parse_json("18446744073709551616", "t"), "n"); }), "does not fit in 64 bits"));
}
