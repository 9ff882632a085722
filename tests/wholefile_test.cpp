// Whole-file mode: describing a file from its head, decoding one tensor from its stored bytes, the
// per-tensor plan and the streaming bundle writers (their bytes against the one-shot writers).
#include <doctest/doctest.h>

#include <algorithm>

#include "formats_util.hpp"
#include "qplay/export.hpp"
#include "qplay/formats.hpp"
#include "qplay/wholefile.hpp"

using namespace qplay;
using qplay_test::error_of;
using qplay_test::fixture;

namespace {

void check_same_info(const FileInfo& a, const FileInfo& b) {
  CHECK(a.format == b.format);
  CHECK(a.version == b.version);
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const TensorInfo &x = a.tensors[i], &y = b.tensors[i];
    CHECK(x.name == y.name);
    CHECK(x.dtype == y.dtype);
    CHECK(x.shape == y.shape);
    CHECK(x.stored_type == y.stored_type);
    CHECK(x.loadable == y.loadable);
    CHECK(x.data_offset == y.data_offset);
    CHECK(x.data_bytes == y.data_bytes);
    CHECK(x.big_endian == y.big_endian);
    CHECK(x.fortran_order == y.fortran_order);
  }
  REQUIRE(a.metadata.size() == b.metadata.size());
  for (size_t i = 0; i < a.metadata.size(); ++i) {
    CHECK(a.metadata[i].key == b.metadata[i].key);
    CHECK(a.metadata[i].value == b.metadata[i].value);
  }
}

// Grows the head as describe_head asks, from `start` bytes; counts the rounds.
FileInfo describe_growing(const std::vector<uint8_t>& file, size_t start, int* rounds = nullptr) {
  size_t have = std::min(start, file.size());
  for (int round = 1; round < 64; ++round) {
    const HeadInfo h = describe_head(std::span(file.data(), have), file.size());
    if (h.info) {
      if (rounds) *rounds = round;
      return *h.info;
    }
    REQUIRE(h.bytes_needed > have);
    REQUIRE(h.bytes_needed <= file.size());
    have = static_cast<size_t>(h.bytes_needed);
  }
  FAIL("describe_head never finished");
  return {};
}

TensorOutput run(const TensorPlan& p, const std::vector<uint8_t>& file) {
  return process_tensor(p, std::span(file).subspan(static_cast<size_t>(p.input.data_offset), p.input.data_bytes));
}

}  // namespace

TEST_CASE("describe_head from any head length equals describe_file") {
  for (const char* name : {"model_tiny.safetensors", "all_dtypes.safetensors", "tiny.gguf", "tiny_v2_align64.gguf",
                           "model_tiny.gguf", "fortran_big_endian_f4.npy", "version3_f4.npy", "scalar_0d_f32.npy",
                           "model_tiny.npz", "mat3x4.csv"}) {
    CAPTURE(name);
    const std::vector<uint8_t> file = fixture(name);
    const FileInfo whole = describe_file(file);
    for (size_t start : {size_t(0), size_t(1), size_t(9), size_t(20), size_t(100), file.size() - 1, file.size()})
      check_same_info(describe_growing(file, start), whole);
  }
}

TEST_CASE("describe_head asks for exactly the safetensors header and never for tensor data") {
  const std::vector<uint8_t> file = fixture("model_tiny.safetensors");
  const HeadInfo first = describe_head(std::span(file.data(), 16), file.size());
  REQUIRE_FALSE(first.info);
  const uint64_t header_end = 8 + (file[0] | file[1] << 8);
  CHECK(first.bytes_needed == header_end);
  CHECK(describe_head(std::span(file.data(), header_end), file.size()).info.has_value());
  // A head ending inside the data is enough too; the data is never looked at.
  std::vector<uint8_t> garbage = file;
  std::fill(garbage.begin() + header_end, garbage.end(), 0xAB);
  check_same_info(*describe_head(garbage, garbage.size()).info, describe_file(file));
}

TEST_CASE("describe_head reports a malformed file as describe_file does") {
  for (const char* name : {"st_outside.safetensors", "st_overlap.safetensors", "st_hole.safetensors",
                           "st_header_too_large.safetensors", "st_truncated_header.safetensors", "st_trailing.safetensors",
                           "gguf_outside.gguf", "gguf_overlap.gguf", "gguf_count_lie.gguf", "gguf_truncated.gguf",
                           "truncated_data.npy", "npy_header_too_long.npy"}) {
    CAPTURE(name);
    const std::vector<uint8_t> file = fixture(name);
    const std::string expected = error_of([&] { describe_file(file); });
    REQUIRE_FALSE(expected.empty());
    CHECK(error_of([&] { describe_growing(file, 16); }) == expected);
  }
  // A head longer than the file is a caller's mistake.
  const std::vector<uint8_t> file = fixture("mat4x6.safetensors");
  CHECK(error_of([&] { describe_head(file, file.size() - 1); }).find("describe_head") != std::string::npos);
}

TEST_CASE("describe_head of raw input needs no bytes") {
  RawSpec spec;
  spec.dtype = DType::f32;
  spec.shape = {-1, 6};
  spec.offset = 16;
  spec.big_endian = true;
  ReadOptions read;
  read.raw = spec;
  const std::vector<uint8_t> file = fixture("mat4x6_f32_be_offset16.bin");
  const HeadInfo h = describe_head({}, file.size(), read);
  REQUIRE(h.info);
  check_same_info(*h.info, describe_file(file, read));
  const TensorInfo& t = h.info->tensors[0];
  const Tensor decoded = decode_tensor(t, std::span(file).subspan(size_t(t.data_offset)));
  CHECK(decoded.bytes == load_tensor(file, {}, read).bytes);
}

TEST_CASE("decode_tensor of the stored bytes equals load_tensor") {
  for (const char* name : {"all_dtypes.safetensors", "tiny.gguf", "fortran_big_endian_f4.npy", "fortran_3d_i2.npy",
                           "big_endian_i2.npy", "dtype_b1.npy", "model_tiny.npz", "model_tiny.safetensors"}) {
    CAPTURE(name);
    const std::vector<uint8_t> file = fixture(name);
    for (const TensorInfo& t : list_tensors(file)) {
      CAPTURE(t.name);
      REQUIRE(t.loadable);
      const Tensor a = decode_tensor(t, std::span(file).subspan(size_t(t.data_offset), t.data_bytes));
      const Tensor b = load_tensor(file, t.name);
      CHECK(a.dtype == b.dtype);
      CHECK(a.shape == b.shape);
      CHECK(a.bytes == b.bytes);
    }
  }
#ifndef __EMSCRIPTEN__  // describing a deflated member inflates it: no zlib in wasm
  const std::vector<uint8_t> deflated = fixture("multi_deflated.npz");
  const TensorInfo t = list_tensors(deflated)[0];
  CHECK(error_of([&] { decode_tensor(t, {}); }).find("load_tensor") != std::string::npos);
#endif
}

TEST_CASE("glob_match matches whole names with star and question mark") {
  CHECK(glob_match("*", ""));
  CHECK(glob_match("*", "model.layers.0.mlp.up_proj.weight"));
  CHECK(glob_match("*.weight", "lm_head.weight"));
  CHECK_FALSE(glob_match("*.weight", "lm_head.weight.codes"));
  CHECK(glob_match("model.layers.?.mlp.*", "model.layers.3.mlp.up_proj.weight"));
  CHECK_FALSE(glob_match("model.layers.?.mlp.*", "model.layers.12.mlp.up_proj.weight"));
  CHECK(glob_match("*layers.*.mlp*", "model.layers.12.mlp.up_proj.weight"));
  CHECK(glob_match("a*b*c", "axxbyyc"));
  CHECK_FALSE(glob_match("a*b*c", "axxbyyd"));
  CHECK(glob_match("lm_head.weight", "lm_head.weight"));
  CHECK_FALSE(glob_match("lm_head", "lm_head.weight"));
  // No exponential blow-up on many stars.
  CHECK_FALSE(glob_match("*a*a*a*a*a*a*a*a*a*a*b", std::string(200, 'a')));
}

TEST_CASE("plan_whole_file quantizes float matrices and keeps vectors and integers") {
  const std::vector<uint8_t> file = fixture("model_tiny.safetensors");
  QuantOptions base;
  base.code = integer_code(parse_int_type("int4"));
  base.granularity = Granularity::channel;
  apply_profile(base, {});
  QuantOptions int8;
  apply_profile(int8, {});
  const TensorRule rules[] = {{"lm_head.*", true, {}}, {"*.up_proj.*", false, int8}, {"*norm*", false, int8}};
  const WholeFilePlan plan = plan_whole_file(describe_file(file), base, rules);
  std::map<std::string, const TensorPlan*> by;
  for (const TensorPlan& p : plan.tensors) by[p.input.name] = &p;
  CHECK(by.at("model.embed_tokens.weight")->quantize);
  CHECK(by.at("model.embed_tokens.weight")->why == "default");
  CHECK(by.at("model.embed_tokens.weight")->scheme == "int4 channel");
  CHECK(by.at("model.embed_tokens.weight")->param_shape == Shape{16});
  CHECK_FALSE(by.at("lm_head.weight")->quantize);
  CHECK(by.at("lm_head.weight")->why == "rule 'lm_head.*'");
  CHECK(by.at("model.layers.0.mlp.up_proj.weight")->scheme == "int8 tensor");
  CHECK(by.at("model.layers.0.mlp.up_proj.weight")->param_shape == Shape{});
  // A rule may quantize a 1-D float tensor; integers are always kept.
  CHECK(by.at("model.layers.0.input_layernorm.weight")->quantize);
  CHECK_FALSE(by.at("position_ids")->quantize);
  CHECK(by.at("position_ids")->why == "integer");
  // Without rules the norm vector is kept.
  const WholeFilePlan plain = plan_whole_file(describe_file(file), base);
  for (const TensorPlan& p : plain.tensors)
    if (p.input.name == "model.layers.0.input_layernorm.weight") CHECK(p.why == "1-D");
}

TEST_CASE("plan_whole_file names the tensor whose shape does not fit the options") {
  QuantOptions o;
  o.granularity = Granularity::channel;
  o.axis = 5;
  apply_profile(o, {});
  const std::string e = error_of([&] { plan_whole_file(describe_file(fixture("model_tiny.safetensors")), o); });
  CHECK(e == "tensor 'lm_head.weight': --axis 5 is out of range for shape (16, 8) (allowed -2..1)");
  // ggml block types decode to float32 and are quantized again (rank 2) or kept as float32 (1-D).
  const WholeFilePlan g = plan_whole_file(describe_file(fixture("tiny.gguf")), QuantOptions{});
  for (const TensorPlan& p : g.tensors) {
    if (p.input.name == "blk.0.q4_0") CHECK(p.quantize);
    if (p.input.name == "blk.0.q4_k") CHECK(p.why == "1-D");
  }
}

TEST_CASE("bundle formats by name and by output extension") {
  CHECK(parse_bundle_format("safetensors") == BundleFormat::safetensors);
  CHECK(parse_bundle_format("npz") == BundleFormat::npz);
  CHECK(parse_bundle_format("gguf") == BundleFormat::gguf);
  for (const char* name : {"safetensors", "npz", "gguf"})
    CHECK(parse_bundle_format(name) == bundle_format_for(std::string("out.") + name));
  CHECK(error_of([] { parse_bundle_format("zip"); }) == "bundle format 'zip' is not supported (supported: safetensors, npz, gguf)");
  CHECK(error_of([] { parse_bundle_format(".npz"); }) ==
        "bundle format '.npz' is not supported (supported: safetensors, npz, gguf)");
}

TEST_CASE("the streamed safetensors bundle equals export_safetensors_parts") {
  const std::vector<uint8_t> file = fixture("model_tiny.safetensors");
  QuantOptions o;
  o.code = integer_code(parse_int_type("int4"));
  o.granularity = Granularity::block;
  o.block_size = 4;
  o.axis = -1;
  apply_profile(o, {});
  const TensorRule all[] = {{"*", false, o}};
  // Every float tensor quantized (the norm by its rule), so the parts alone make the file.
  FileInfo info = describe_file(file);
  std::erase_if(info.tensors, [](const TensorInfo& t) { return t.dtype == DType::i64; });
  const WholeFilePlan plan = plan_whole_file(info, o, all);
  BundleWriter writer(BundleFormat::safetensors, plan);
  std::vector<uint8_t> streamed(static_cast<size_t>(*writer.total_size()), 0xEE);
  const OutputChunk head = writer.header();
  std::copy(head.bytes.begin(), head.bytes.end(), streamed.begin());
  std::vector<SafetensorsPart> parts;
  // Added in reverse order: the offsets, not the order, place the data.
  for (auto it = plan.tensors.rbegin(); it != plan.tensors.rend(); ++it) {
    const TensorOutput out = run(*it, file);
    CHECK(out.report.quantized);
    CHECK(out.report.bytes_after == out.codes.bytes.size() + out.scale.bytes.size() + out.zero_point.bytes.size());
    for (const OutputChunk& c : writer.add(it->input.name, out)) {
      REQUIRE(c.offset + c.bytes.size() <= streamed.size());
      std::copy(c.bytes.begin(), c.bytes.end(), streamed.begin() + c.offset);
    }
    parts.insert(parts.begin(), SafetensorsPart{it->input.name, out.codes, out.scale, out.zero_point, it->scheme_json});
  }
  CHECK(writer.finish().bytes.empty());
  CHECK(streamed == export_safetensors_parts(parts));
  // And the bundle reads back: codes of the embedding as int8 [16, 8].
  const Tensor codes = load_tensor(streamed, "model.embed_tokens.weight.codes");
  CHECK(codes.dtype == DType::i8);
  CHECK(codes.shape == Shape{16, 8});
}

TEST_CASE("the streamed bundles keep what the plan keeps and check what they are given") {
  const std::vector<uint8_t> file = fixture("model_tiny.safetensors");
  QuantOptions o;
  apply_profile(o, {});
  const WholeFilePlan plan = plan_whole_file(describe_file(file), o);
  for (BundleFormat format : {BundleFormat::safetensors, BundleFormat::npz}) {
    BundleWriter writer(format, plan);
    std::vector<uint8_t> out = writer.header().bytes;
    const auto place = [&](const OutputChunk& c) {
      if (out.size() < c.offset + c.bytes.size()) out.resize(static_cast<size_t>(c.offset + c.bytes.size()));
      std::copy(c.bytes.begin(), c.bytes.end(), out.begin() + c.offset);
    };
    std::vector<TensorReport> rows;
    for (const TensorPlan& p : plan.tensors) {
      const TensorOutput r = run(p, file);
      rows.push_back(r.report);
      for (const OutputChunk& c : writer.add(p.input.name, r)) place(c);
      CHECK(error_of([&] { writer.add(p.input.name, r); }).find("already written") != std::string::npos);
    }
    place(writer.finish());
    // Kept tensors come through unchanged, under their own name.
    CHECK(load_tensor(out, "position_ids").bytes == load_tensor(file, "position_ids").bytes);
    CHECK(load_tensor(out, "model.layers.0.input_layernorm.weight").bytes ==
          load_tensor(file, "model.layers.0.input_layernorm.weight").bytes);
    const Tensor codes = load_tensor(out, "lm_head.weight.codes");
    CHECK(codes.shape == Shape{16, 8});
    CHECK(codes.dtype == DType::i8);
    const std::string csv = report_csv_header() + report_csv_row(rows[0]);
    CHECK(csv.starts_with("name,shape,dtype,action,scheme,params,mse,sqnr_db,max_abs_error,bits_per_element,"));
    CHECK(report_json(rows).find("\"action\": \"kept\"") != std::string::npos);
  }
  BundleWriter writer(BundleFormat::npz, plan);
  CHECK(error_of([&] { writer.finish(); }).find("never written") != std::string::npos);
  const TensorPlan& head = *std::find_if(plan.tensors.begin(), plan.tensors.end(),
                                         [](const TensorPlan& p) { return p.input.name == "lm_head.weight"; });
  TensorOutput wrong = run(head, file);
  wrong.scale = tensor_from_f32({1}, std::vector<float>{1.0f});
  CHECK(error_of([&] { writer.add("lm_head.weight", wrong); }) ==
        "bundle: tensor 'lm_head.weight' part .scale is float32 (1,), the plan says float32 ()");
  CHECK(error_of([&] { writer.add("nope", wrong); }).find("not in the plan") != std::string::npos);
}

TEST_CASE("ZipStreamWriter gives write_npz's bytes") {
  const std::vector<ZipMember> members = {{"a.npy", {1, 2, 3}}, {"b/c.json", {}}, {"caf\xc3\xa9.npy", {9}}};
  ZipStreamWriter zip;
  std::vector<uint8_t> out;
  for (const auto& [name, data] : members) {
    const uint64_t before = zip.size();
    const std::vector<uint8_t> m = zip.add(name, data);
    CHECK(before == out.size());
    out.insert(out.end(), m.begin(), m.end());
  }
  const std::vector<uint8_t> end = zip.finish();
  out.insert(out.end(), end.begin(), end.end());
  CHECK(out == write_npz(members));
  CHECK(error_of([&] { zip.add("late", {}); }).find("after the central directory") != std::string::npos);
}

TEST_CASE("the streamed gguf equals write_gguf of the same tensors") {
  const std::vector<uint8_t> file = fixture("model_ggml.safetensors");
  QuantOptions o;
  o.code = parse_format("q4_0");
  ExplicitOptions x;
  x.format = true;
  apply_profile(o, x);
  const WholeFilePlan plan = plan_whole_file(describe_file(file), o);
  BundleWriter writer(BundleFormat::gguf, plan);
  std::vector<uint8_t> streamed(static_cast<size_t>(*writer.total_size()), 0xEE);
  const OutputChunk head = writer.header();
  std::copy(head.bytes.begin(), head.bytes.end(), streamed.begin());
  std::vector<GgufTensor> tensors;
  std::vector<GgufKv> kvs = {{"general.quantization_version", GgufValue{uint32_t{2}}}};
  for (auto it = plan.tensors.rbegin(); it != plan.tensors.rend(); ++it) {
    const TensorOutput out = run(*it, file);
    for (const OutputChunk& c : writer.add(it->input.name, out)) {
      REQUIRE(c.offset + c.bytes.size() <= streamed.size());
      std::copy(c.bytes.begin(), c.bytes.end(), streamed.begin() + c.offset);
    }
    GgufTensor t;
    t.desc.name = it->input.name;
    t.desc.shape = it->input.shape;
    t.desc.type = it->quantize ? ggml_type_id(GgmlType::q4_0) : gguf_type_of(it->input.dtype);
    t.data = it->quantize ? out.blocks : out.kept.bytes;
    t.desc.bytes = t.data.size();
    tensors.insert(tensors.begin(), t);
  }
  for (const TensorPlan& p : plan.tensors)
    if (p.quantize) kvs.push_back({"qplay.params." + p.input.name, GgufValue{p.scheme_json}});
  const OutputChunk last = writer.finish();
  CHECK(last.bytes.empty());
  CHECK(last.offset == streamed.size());
  CHECK(streamed == write_gguf(tensors, kvs));
  // It reads back: the blocks decode as the quantized tensor's dequantized values.
  const Tensor up = load_tensor(streamed, "blk.0.ffn_up.weight");
  CHECK(up.shape == Shape{2, 256});
  // A non-ggml scheme cannot go to a .gguf; a kept int64 has no GGUF type here.
  QuantOptions int8;
  apply_profile(int8, {});
  CHECK(error_of([&] { BundleWriter(BundleFormat::gguf, plan_whole_file(describe_file(file), int8)); }) ==
        "tensor 'blk.0.ffn_up.weight': a .gguf holds ggml block formats; quantize with --format (this tensor is "
        "--dtype int8)");
  CHECK(error_of([&] { BundleWriter(BundleFormat::gguf, plan_whole_file(describe_file(fixture("model_tiny.safetensors")), o)); })
            .starts_with("tensor 'position_ids': "));
}
