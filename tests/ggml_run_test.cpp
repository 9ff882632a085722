// --format runs (Family::ggml): the bundle's codes / scale / offset reproduce ggml's
// dequantization exactly for every format, the blocks are ggml's own bytes row by row, the
// metrics count ggml's storage, shape / value / option errors name the problem, --profile ggml,
// --pack ggml, and the .npz / .gguf exports.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "formats_util.hpp"
#include "qplay/elements.hpp"
#include "qplay/export.hpp"
#include "qplay/formats.hpp"
#include "qplay/ggml.hpp"
#include "qplay/options.hpp"
#include "qplay/quantize.hpp"

using namespace qplay;
using namespace qplay_test;

namespace {

QuantOptions format_options(std::string_view name, ExplicitOptions user = {}) {
  QuantOptions o;
  o.code = parse_format(name);
  user.format = true;
  apply_profile(o, user);
  return o;
}

// Deterministic values with a spread of magnitudes, signs, ties and a zero block.
std::vector<float> sample(size_t n, uint64_t seed) {
  std::vector<float> x(n);
  uint64_t s = seed;
  for (size_t i = 0; i < n; ++i) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    const float u = float(s >> 40) * 0x1p-24f - 0.5f;
    x[i] = (i / 32) % 7 == 3 ? 0.0f : u * (1.0f + float((i / 64) % 5) * 3.0f);
  }
  return x;
}

bool same_float(float a, float b) {
  uint32_t ua, ub;
  std::memcpy(&ua, &a, 4);
  std::memcpy(&ub, &b, 4);
  return ua == ub || (a != a && b != b);
}

float value_of(const Quantized& q, size_t i) {
  const uint8_t c = q.codes.bytes[i];
  if (!q.codebook.empty()) return q.codebook[c];
  return q.codes.dtype == DType::i8 ? float(int8_t(c)) : float(c);
}

// dequantized = scale * value(code) [+ offset], bit for bit.
size_t identity_mismatches(const Quantized& q, const std::vector<float>& y) {
  const size_t sub = ggml_sub_block(q.options.code.ggml_type());
  size_t bad = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    const size_t g = i / sub;  // sub-blocks never straddle rows: the last dim is whole blocks
    const float r = q.offset.empty() ? q.params.scale[g] * value_of(q, i) : q.params.scale[g] * value_of(q, i) + q.offset[g];
    if (!same_float(r, y[i])) ++bad;
  }
  return bad;
}

}  // namespace

TEST_CASE("ggml run: codes scale and offset give ggml's dequantization exactly for every format") {
  const Shape shape{3, 512};
  const std::vector<float> x = sample(3 * 512, 7);
  const TensorViewF32 view{shape, x};
  for (GgmlType t : kGgmlTypes) {
    const std::string name(ggml_type_name(t));
    CAPTURE(name);
    const QuantOptions o = format_options(name);
    const Quantized q = quantize_dynamic(view, o);
    // The blocks: ggml's bytes for each row.
    std::vector<uint8_t> rows;
    for (size_t r = 0; r < 3; ++r) {
      const std::vector<uint8_t> b = ggml_quantize(t, std::span<const float>(x).subspan(r * 512, 512));
      rows.insert(rows.end(), b.begin(), b.end());
    }
    CHECK(q.blocks == rows);
    const std::vector<float> y = dequantize(q);
    std::vector<float> want(x.size());
    ggml_dequantize(t, rows, want);
    CHECK(std::memcmp(y.data(), want.data(), 4 * y.size()) == 0);
    CHECK(identity_mismatches(q, y) == 0);
    CHECK(q.codes.dtype == (ggml_codes_signed(t) ? DType::i8 : DType::u8));
    CHECK(q.params.shape == Shape{3, int64_t(512 / ggml_sub_block(t))});
    CHECK(q.offset.size() == (ggml_has_offset(t) ? q.params.scale.size() : 0));
    CHECK(q.codebook.size() == ((t == GgmlType::iq4_nl || t == GgmlType::mxfp4) ? 16u : 0u));
    // Codes inside the documented range.
    const CodeRange r = q.range;
    size_t outside = 0;
    for (size_t i = 0; i < y.size(); ++i) {
      const int c = q.codes.dtype == DType::i8 ? int(int8_t(q.codes.bytes[i])) : int(q.codes.bytes[i]);
      outside += c < r.qmin || c > r.qmax;
    }
    CHECK(outside == 0);
    const Evaluation e = evaluate(view, q, y);
    CHECK(e.metrics.bits_per_element == double(ggml_block_bytes(t) * 8) / double(ggml_block_elems(t)));
    CHECK(e.metrics.bytes_after == rows.size());
    CHECK(e.metrics.mse > 0);
    CHECK(e.metrics.sqnr_db > 5);
  }
}

TEST_CASE("ggml run: the identity also holds over random block bytes") {
  uint64_t s = 99;
  for (GgmlType t : kGgmlTypes) {
    CAPTURE(ggml_type_name(t));
    const size_t n = 512;
    std::vector<uint8_t> blocks(ggml_row_bytes(t, n));
    for (uint8_t& b : blocks) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      b = uint8_t(s >> 56);
    }
    const GgmlDecomposed d = ggml_decompose(t, blocks, n);
    std::vector<float> y(n);
    ggml_dequantize(t, blocks, y);
    const std::span<const int8_t> book = ggml_codebook(t);
    size_t bad = 0;
    for (size_t i = 0; i < n; ++i) {
      const size_t g = i / ggml_sub_block(t);
      const float v = !book.empty() ? float(book[d.codes[i]])
                      : ggml_codes_signed(t) ? float(int8_t(d.codes[i])) : float(d.codes[i]);
      const float r = ggml_has_offset(t) ? d.scale[g] * v + d.offset[g] : d.scale[g] * v;
      if (!same_float(r, y[i])) ++bad;
    }
    CHECK(bad == 0);
  }
}

TEST_CASE("ggml run: shape and value errors name the shape and the block") {
  const std::vector<float> x(300, 1.0f);
  CHECK(error_of([&] { quantize_dynamic({{3, 100}, x}, format_options("q4_0")); }) ==
        "--format q4_0 quantizes rows along the last dim in blocks of 32: shape (3, 100) has rows of 100 "
        "(pad or reshape so the last dim is a multiple of 32)");
  const std::vector<float> y(512, 1.0f);
  CHECK(says(error_of([&] { quantize_dynamic({{16, 32}, y}, format_options("q4_k")); }),
             "--format q4_k quantizes rows along the last dim in blocks of 256: shape (16, 32) has rows of 32"));
  const std::vector<float> one{1.0f};
  CHECK(says(error_of([&] { quantize_dynamic({{}, one}, format_options("q8_0")); }), "shape () has no last dim"));
  std::vector<float> z(64, 0.5f);
  z[40] = std::nanf("");
  CHECK(error_of([&] { quantize_dynamic({{2, 32}, z}, format_options("q5_1")); }) ==
        "--format q5_1: element 40 of shape (2, 32) is NaN; ggml block formats need finite values");
  z[40] = -INFINITY;
  CHECK(says(error_of([&] { quantize_dynamic({{64}, z}, format_options("iq4_nl")); }), "element 40 of shape (64,) is -inf"));
}

TEST_CASE("ggml run: options that do not apply are errors naming both") {
  const auto err = [](auto set) {
    QuantOptions o;
    ExplicitOptions u;
    o.code = parse_format("q4_k");
    u.format = true;
    set(o, u);
    return error_of([&] { apply_profile(o, u); });
  };
  const std::string head = "--format q4_k is ggml's own block quantizer (rows along the last dim, its own scales and rounding); it conflicts with ";
  CHECK(err([](QuantOptions& o, ExplicitOptions& u) { o.mode = Mode::asymmetric; u.mode = true; }) == head + "--mode asymmetric");
  CHECK(err([](QuantOptions& o, ExplicitOptions& u) { parse_rounding("half-away", o); u.rounding = true; }) ==
        head + "--rounding half-away");
  CHECK(err([](QuantOptions& o, ExplicitOptions& u) { parse_range("mse", o); u.range = true; }) == head + "--range mse");
  CHECK(err([](QuantOptions& o, ExplicitOptions& u) { o.granularity = Granularity::channel; u.granularity = true; }) ==
        head + "--granularity channel");
  CHECK(err([](QuantOptions& o, ExplicitOptions&) { o.profile = Profile::onnx; }) == head + "--profile onnx");
  CHECK(err([](QuantOptions& o, ExplicitOptions& u) { o.axis = 0; u.axis = true; }) ==
        head + "--axis 0 (ggml rows run along the last dim, --axis -1)");
  CHECK(err([](QuantOptions& o, ExplicitOptions& u) { o.zero_point_domain = ZeroPointDomain::floating; u.zero_point_domain = true; }) ==
        head + "--zero-point-domain float");
  CHECK(err([](QuantOptions& o, ExplicitOptions&) { o.narrow = true; }) == head + "--narrow");
  CHECK(err([](QuantOptions&, ExplicitOptions& u) { u.dtype = true; }) ==
        "--dtype and --format both choose what a code is; give one of them");
  CHECK(err([](QuantOptions& o, ExplicitOptions& u) { o.axis = -1; u.axis = true; }).empty());
  CHECK(err([](QuantOptions& o, ExplicitOptions&) { o.profile = Profile::ggml; }).empty());
  QuantOptions six;
  six.code = parse_format("q6_k");
  six.pack = PackOrder::ggml;
  CHECK(error_of([&] { apply_profile(six, {}); }) == "--pack packs codes of at most 4 bits (--format q6_k has 6)");
  CHECK(says(error_of([] { QuantOptions o; o.code = parse_format("q4_x"); }),
             "invalid value 'q4_x' for --format (allowed: q8_0, q8_1, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k, iq4_nl, mxfp4)"));
  QuantOptions upper;
  upper.code = parse_format("Q4_K");  // ggml's own spelling
  CHECK(upper.code.ggml_type() == GgmlType::q4_k);
  CHECK(upper.code.name() == "q4_k");
}

TEST_CASE("ggml run: --profile ggml implies q8_0 and refuses another dtype") {
  QuantOptions o;
  o.profile = Profile::ggml;
  apply_profile(o, {});
  CHECK(o.code.is(Family::ggml));
  CHECK(o.code.ggml_type() == GgmlType::q8_0);
  CHECK(o.granularity == Granularity::block);
  CHECK(o.block_size == 32);
  QuantOptions d;
  d.profile = Profile::ggml;
  d.code = parse_dtype("int4");
  ExplicitOptions u;
  u.dtype = true;
  CHECK(error_of([&] { apply_profile(d, u); }) ==
        "--profile ggml quantizes with a ggml --format (q8_0 when none is given); it conflicts with --dtype int4");
  QuantOptions f;
  f.profile = Profile::ggml;
  f.code = parse_format("q6_k");
  apply_profile(f, {});
  CHECK(f.code.ggml_type() == GgmlType::q6_k);
  CHECK(f.block_size == 16);
}

TEST_CASE("ggml pack order: split halves per 32 codes with a zero-padded tail") {
  Tensor codes = make_tensor(DType::u8, {40});
  for (int i = 0; i < 40; ++i) codes.bytes[size_t(i)] = uint8_t(i & 15);
  const std::vector<uint8_t> p = pack_nibbles(codes, PackOrder::ggml);
  REQUIRE(p.size() == 32);
  for (size_t j = 0; j < 16; ++j) CHECK(p[j] == uint8_t((j & 15) | (((j + 16) & 15) << 4)));
  for (size_t j = 0; j < 8; ++j) CHECK(p[16 + j] == uint8_t((32 + j) & 15));  // high nibble: padding 0
  for (size_t j = 8; j < 16; ++j) CHECK(p[16 + j] == 0);
  // Packing IQ4_NL's codes in ggml order gives ggml's qs bytes exactly.
  const std::vector<float> x = sample(64, 3);
  const Quantized q = quantize_dynamic({{64}, x}, format_options("iq4_nl"));
  const std::vector<uint8_t> packed = pack_nibbles(q.codes, PackOrder::ggml);
  for (size_t b = 0; b < 2; ++b)
    CHECK(std::equal(packed.begin() + 16 * b, packed.begin() + 16 * b + 16, q.blocks.begin() + 18 * b + 2));
}

TEST_CASE("ggml run: the .npz bundle and the .gguf file") {
  const std::vector<float> x = sample(2 * 256, 5);
  const TensorViewF32 view{{2, 256}, x};
  const Quantized q = quantize_dynamic(view, format_options("q4_k"));
  const std::vector<float> y = dequantize(q);
  const Evaluation e = evaluate(view, q, y);
  RunInfo info;
  info.input_file = "w.npy";
  info.input_tensor = "blk.0.w";
  info.input_shape = {2, 256};
  const std::string json = params_json(q, e, info);
  CHECK(json.find("\"format\": \"q4_K\"") != std::string::npos);
  CHECK(json.find("\"ggml_type_id\": 12") != std::string::npos);
  CHECK(json.find("\"bits_per_element\": 4.5") != std::string::npos);
  CHECK(json.find("\"formula\": \"dequantized = scale * codes + offset") != std::string::npos);

  const std::vector<uint8_t> npz = export_npz(q, y, e, info);
  const FileInfo listed = describe_file(npz);
  std::vector<std::string> names;
  for (const TensorInfo& t : listed.tensors) names.push_back(t.name);
  CHECK(names == std::vector<std::string>{"codes", "scale", "zero_point", "dequantized", "offset", "blocks"});
  const Tensor blocks = load_tensor(npz, "blocks");
  CHECK(blocks.shape == Shape{2, 144});
  CHECK(blocks.bytes == q.blocks);
  CHECK(load_tensor(npz, "offset").shape == Shape{2, 8});
  CHECK(load_tensor(npz, "codes").dtype == DType::u8);

  const std::vector<uint8_t> gguf = export_gguf(q, e, info);
  const FileInfo g = describe_file(gguf);
  REQUIRE(g.tensors.size() == 1);
  CHECK(g.tensors[0].name == "blk.0.w");
  CHECK(g.tensors[0].stored_type == "Q4_K");
  CHECK(g.tensors[0].shape == Shape{2, 256});
  CHECK(std::equal(q.blocks.begin(), q.blocks.end(), gguf.begin() + g.tensors[0].data_offset));
  const Tensor back = load_tensor(gguf);
  CHECK(std::memcmp(back.bytes.data(), y.data(), 4 * y.size()) == 0);
  REQUIRE(g.metadata.size() == 3);
  CHECK(g.metadata[1].key == "general.quantization_version");
  CHECK(g.metadata[2].key == "qplay.params");
  CHECK(g.metadata[2].value == json);

  const Quantized integer = quantize_dynamic(view, QuantOptions{});
  CHECK(error_of([&] { export_gguf(integer, e, info); }) ==
        "export: a .gguf holds ggml block formats; this run is --dtype int8 (use --format)");
}
