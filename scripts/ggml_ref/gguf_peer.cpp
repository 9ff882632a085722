// Peer check of qplay's GGUF writer against ggml's own gguf reader (scripts/gguf_peercheck.sh).
// Writes one file with qplay's write_gguf: every ggml type qplay writes (3 x 768 each), F32 with 4
// dims, F16, BF16, one KV of each type qplay writes; then opens it with ggml's
// gguf_init_from_file (which loads the data too) and checks what ggml sees against what qplay
// wrote: counts, keys, value types and values, tensor names, types, ne[], offsets, the stored bytes,
// and ggml's to_float of every tensor against qplay's load_tensor (bit for bit; Q8_1 has no
// to_float in ggml and is compared by bytes only). Prints one line per failure, then PASS or FAIL.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "ggml.h"
#include "gguf.h"
#include "qplay/formats.hpp"
#include "qplay/ggml.hpp"

using namespace qplay;

static int failures = 0;
static void expect(bool ok, const std::string& what) {
  if (!ok) {
    std::printf("FAIL %s\n", what.c_str());
    ++failures;
  }
}

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "peer.gguf";
  std::vector<GgufTensor> ts;
  std::vector<float> x(3 * 768);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.1f * float(i)) * float(1 + i % 5) + 0.001f * float(i % 13);
  for (GgmlType t : kGgmlTypes) {
    GgufTensor g;
    g.desc = {"blk." + std::string(ggml_type_name(t)) + ".weight", {3, 768}, ggml_type_id(t), 0};
    g.data = ggml_quantize(t, x);
    g.desc.bytes = g.data.size();
    ts.push_back(g);
  }
  std::vector<uint8_t> f32(120);
  for (size_t i = 0; i < f32.size(); ++i) f32[i] = uint8_t(i * 37 % 251 & 0x3f);  // finite floats
  ts.push_back({{"f32", {2, 3, 1, 5}, kGgufF32, 120}, f32});
  ts.push_back({{"f16", {7}, kGgufF16, 14}, {0, 0x3c, 0, 0xc0, 0xff, 0x7b, 1, 0, 0, 0x80, 0x55, 0x35, 0, 0x38}});
  ts.push_back({{"bf16", {3}, kGgufBF16, 6}, {0x80, 0x3f, 0x20, 0xc0, 0x49, 0x40}});
  const std::vector<GgufKv> kv = {{"general.architecture", GgufValue{std::string("llama")}},
                                  {"t.u32", GgufValue{uint32_t{4000000000u}}},
                                  {"t.i32", GgufValue{int32_t{-7}}},
                                  {"t.u64", GgufValue{uint64_t{1} << 40}},
                                  {"t.f32", GgufValue{0.1f}},
                                  {"t.bool", GgufValue{true}},
                                  {"t.str", GgufValue{std::string("h\xc3\xa9llo")}}};
  const std::vector<uint8_t> file = write_gguf(ts, kv);
  std::FILE* out = std::fopen(path.c_str(), "wb");
  if (!out || std::fwrite(file.data(), 1, file.size(), out) != file.size() || std::fclose(out) != 0) {
    std::printf("FAIL cannot write %s\n", path.c_str());
    return 1;
  }

  ggml_context* ctx = nullptr;
  gguf_init_params params = {false, &ctx};
  gguf_context* g = gguf_init_from_file(path.c_str(), params);
  if (!g) {
    std::printf("FAIL ggml's gguf_init_from_file rejected %s\nFAIL\n", path.c_str());
    return 1;
  }
  expect(gguf_get_version(g) == 3, "version");
  expect(gguf_get_alignment(g) == 32, "alignment");
  expect(gguf_get_n_kv(g) == int64_t(kv.size() + 1), "KV count");
  expect(gguf_get_n_tensors(g) == int64_t(ts.size()), "tensor count");
  expect(std::string(gguf_get_key(g, 0)) == "general.alignment", "first key general.alignment");
  expect(std::string(gguf_get_val_str(g, gguf_find_key(g, "general.architecture"))) == "llama", "str value");
  expect(gguf_get_val_u32(g, gguf_find_key(g, "t.u32")) == 4000000000u, "u32 value");
  expect(gguf_get_val_i32(g, gguf_find_key(g, "t.i32")) == -7, "i32 value");
  expect(gguf_get_val_u64(g, gguf_find_key(g, "t.u64")) == uint64_t(1) << 40, "u64 value");
  expect(gguf_get_val_f32(g, gguf_find_key(g, "t.f32")) == 0.1f, "f32 value");
  expect(gguf_get_val_bool(g, gguf_find_key(g, "t.bool")), "bool value");
  expect(std::string(gguf_get_val_str(g, gguf_find_key(g, "t.str"))) == "h\xc3\xa9llo", "UTF-8 str value");

  const FileInfo ours = describe_file(file);
  for (size_t i = 0; i < ts.size(); ++i) {
    const std::string& name = ts[i].desc.name;
    const int64_t id = gguf_find_tensor(g, name.c_str());
    expect(id == int64_t(i), name + ": index");
    if (id < 0) continue;
    ggml_tensor* t = ggml_get_tensor(ctx, name.c_str());
    expect(uint32_t(t->type) == ts[i].desc.type, name + ": type");
    const Shape& s = ts[i].desc.shape;
    for (size_t k = 0; k < 4; ++k)
      expect(t->ne[k] == (k < s.size() ? s[s.size() - 1 - k] : 1), name + ": ne[" + std::to_string(k) + "]");
    expect(gguf_get_data_offset(g) + gguf_get_tensor_offset(g, id) == size_t(ours.tensors[i].data_offset), name + ": offset");
    expect(ggml_nbytes(t) == ts[i].data.size() && std::memcmp(t->data, ts[i].data.data(), ts[i].data.size()) == 0,
           name + ": stored bytes");
    const auto* traits = ggml_get_type_traits(t->type);
    if (t->type == GGML_TYPE_F32 || !traits->to_float) continue;
    std::vector<float> theirs(size_t(ggml_nelements(t)));
    traits->to_float(t->data, theirs.data(), ggml_nelements(t));
    const std::vector<float> mine = to_f32(load_tensor(file, name));
    expect(mine.size() == theirs.size() && std::memcmp(mine.data(), theirs.data(), 4 * mine.size()) == 0,
           name + ": ggml's to_float == qplay's load_tensor, bit for bit");
  }
  gguf_free(g);
  ggml_free(ctx);
  std::printf("%s (%zu tensors, %zu bytes)\n", failures ? "FAIL" : "PASS", ts.size(), file.size());
  return failures ? 1 : 0;
}
