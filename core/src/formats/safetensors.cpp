// .safetensors (huggingface/safetensors README and its tensor.rs are the reference): an u64 LE
// header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end)}, optional
// "__metadata__": {str: str}}, then the data buffer. The reader enforces what the reference library
// does — header at most 100 MB, offsets relative to the buffer, every tensor's byte count equal to
// shape x dtype size, tensors neither overlapping nor leaving holes, the last one ending the file —
// and names the tensor at fault.
#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "formats/common.hpp"
#include "formats/json.hpp"
#include "qplay/error.hpp"
#include "qplay/formats.hpp"

namespace qplay {
namespace {

using formats::JsonValue;
using formats::shown;

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference library's MAX_HEADER_SIZE
constexpr size_t kMaxRank = 64;                    // bounds the work per tensor entry

// In the reference's enum order, which is also its order of increasing alignment: the writer sorts
// by descending rank so every tensor starts aligned to its element size.
struct StDtype {
  std::string_view name;
  DType dtype;
  int rank;
};
constexpr StDtype kDtypes[] = {
    {"BOOL", DType::boolean, 0}, {"U8", DType::u8, 1},    {"I8", DType::i8, 2},    {"F8_E5M2", DType::f8_e5m2, 3},
    {"F8_E4M3", DType::f8_e4m3, 4}, {"I16", DType::i16, 5}, {"U16", DType::u16, 6}, {"F16", DType::f16, 7},
    {"BF16", DType::bf16, 8},    {"I32", DType::i32, 9},  {"U32", DType::u32, 10}, {"F32", DType::f32, 11},
    {"F64", DType::f64, 12},     {"I64", DType::i64, 13}, {"U64", DType::u64, 14},
};

const StDtype& by_dtype(DType d) {
  for (const auto& e : kDtypes)
    if (e.dtype == d) return e;
  throw Error("safetensors: no dtype for " + std::string(dtype_name(d)));
}

[[noreturn]] void fail(const std::string& message) { throw Error("safetensors: " + message); }

struct Entry {
  std::string name;
  DType dtype;
  std::string_view stored;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

struct Parsed {
  uint64_t data_start = 0;  // 8 + N
  std::vector<Entry> tensors;  // in data order
  Metadata metadata;
};

Entry parse_entry(const std::string& name, const JsonValue& v, uint64_t data_size) {
  const std::string who = "tensor '" + shown(name) + "'";
  if (v.kind != JsonValue::object) fail(who + " is not a JSON object");
  const JsonValue* dtype = v.find("dtype");
  const JsonValue* shape = v.find("shape");
  const JsonValue* offsets = v.find("data_offsets");
  if (!dtype || !shape || !offsets) fail(who + " lacks " + (!dtype ? "dtype" : !shape ? "shape" : "data_offsets"));
  if (dtype->kind != JsonValue::string) fail(who + " dtype is not a string");
  Entry e;
  e.name = name;
  const StDtype* found = nullptr;
  for (const auto& d : kDtypes)
    if (dtype->text == d.name) found = &d;
  if (!found) {
    std::string all;
    for (const auto& d : kDtypes) all += (all.empty() ? "" : " ") + std::string(d.name);
    fail(who + " has unsupported dtype '" + shown(dtype->text, 20) + "' (supported: " + all + ")");
  }
  e.dtype = found->dtype;
  e.stored = found->name;
  if (shape->kind != JsonValue::array) fail(who + " shape is not an array");
  if (shape->items.size() > kMaxRank) fail(who + " has more than 64 dimensions");
  for (const JsonValue& d : shape->items) {
    const uint64_t n = formats::json_u64(d, who + " shape");
    if (n > uint64_t(INT64_MAX)) fail(who + " shape has a dimension too large for 64 bits");
    e.shape.push_back(static_cast<int64_t>(n));
  }
  if (offsets->kind != JsonValue::array || offsets->items.size() != 2)
    fail(who + " data_offsets must be [begin, end]");
  e.begin = formats::json_u64(offsets->items[0], who + " data_offsets");
  e.end = formats::json_u64(offsets->items[1], who + " data_offsets");
  if (e.end < e.begin)
    fail(who + " data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + ") end before they begin");
  const uint64_t bytes = formats::tensor_bytes(e.shape, dtype_size(e.dtype), "safetensors " + who + ": ");
  if (e.end - e.begin != bytes)
    fail(who + " is " + std::string(e.stored) + " " + shape_to_string(e.shape) + " = " + std::to_string(bytes) +
         " bytes, but data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + ") hold " +
         std::to_string(e.end - e.begin));
  if (e.end > data_size)
    fail(who + " data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
         ") lie outside the data buffer of " + std::to_string(data_size) + " bytes (truncated file?)");
  return e;
}

Parsed parse(const formats::FileHead& f) {
  if (!formats::have_bytes(f, 8)) fail("file too short for the 8-byte header length (truncated)");
  const uint64_t n = formats::le64(f.head.data());
  if (n > kMaxHeaderBytes)
    fail("header length " + std::to_string(n) + " exceeds the limit of 100000000 bytes (corrupt file?)");
  if (!formats::have_bytes(f, 8 + n))
    fail("header declares " + std::to_string(n) + " bytes, the file has " + std::to_string(f.size - 8) +
         " after the length (truncated)");
  const std::string_view text(reinterpret_cast<const char*>(f.head.data() + 8), static_cast<size_t>(n));
  if (text.empty() || text[0] != '{') fail("header does not start with '{'");
  const JsonValue root = formats::parse_json(text, "safetensors header");
  if (root.kind != JsonValue::object) fail("header is not a JSON object");

  Parsed p;
  p.data_start = 8 + n;
  const uint64_t data_size = f.size - p.data_start;
  for (const auto& m : root.members) {
    if (m.key == "__metadata__") {
      if (m.value.kind != JsonValue::object) fail("__metadata__ is not an object of strings");
      for (const auto& kv : m.value.members) {
        if (kv.value.kind != JsonValue::string)
          fail("__metadata__ value for '" + shown(kv.key) + "' is not a string");
        p.metadata.emplace_back(kv.key, kv.value.text);
      }
      continue;
    }
    p.tensors.push_back(parse_entry(m.key, m.value, data_size));
  }
  std::stable_sort(p.tensors.begin(), p.tensors.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  // The buffer is covered exactly: each tensor starts where the previous one ends.
  uint64_t at = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : p.tensors) {
    if (e.begin < at)
      fail("tensors '" + shown(previous->name) + "' [" + std::to_string(previous->begin) + ", " +
           std::to_string(previous->end) + ") and '" + shown(e.name) + "' [" + std::to_string(e.begin) + ", " +
           std::to_string(e.end) + ") overlap");
    if (e.begin > at)
      fail("bytes [" + std::to_string(at) + ", " + std::to_string(e.begin) + ") before tensor '" + shown(e.name) +
           "' belong to no tensor (the data buffer must have no holes)");
    at = e.end;
    previous = &e;
  }
  if (at != data_size)
    fail(std::to_string(data_size - at) + " bytes after the last tensor belong to no tensor (the data must end the file)");
  return p;
}

}  // namespace

SafetensorsLayout safetensors_layout(const std::vector<TensorSpec>& tensors, const Metadata& metadata) {
  std::vector<const TensorSpec*> order;
  std::set<std::string_view> names;
  for (const TensorSpec& t : tensors) {
    if (t.name.empty() || t.name == "__metadata__")
      throw Error("safetensors: invalid tensor name '" + shown(t.name) + "'");
    if (!names.insert(t.name).second) throw Error("safetensors: duplicate tensor name '" + shown(t.name) + "'");
    order.push_back(&t);
  }
  std::set<std::string_view> keys;
  for (const auto& kv : metadata)
    if (!keys.insert(kv.first).second) throw Error("safetensors: duplicate metadata key '" + shown(kv.first) + "'");
  std::stable_sort(order.begin(), order.end(), [](const TensorSpec* a, const TensorSpec* b) {
    const int ra = by_dtype(a->dtype).rank, rb = by_dtype(b->dtype).rank;
    return ra != rb ? ra > rb : a->name < b->name;
  });

  formats::JsonWriter json(formats::JsonWriter::Layout::compact);  // as the reference's serde_json
  json.begin_object();
  if (!metadata.empty()) {
    json.begin_object("__metadata__");
    for (const auto& [key, value] : metadata) json.field(key, value);
    json.end_object();
  }
  SafetensorsLayout layout;
  uint64_t offset = 0;
  for (const TensorSpec* t : order) {
    const uint64_t bytes = formats::tensor_bytes(t->shape, dtype_size(t->dtype), "safetensors: tensor '" + shown(t->name) + "': ");
    json.begin_object(t->name);
    json.field("dtype", by_dtype(t->dtype).name);
    json.int_array("shape", t->shape);
    json.begin_array("data_offsets").item(offset).item(offset + bytes).end_array();
    json.end_object();
    layout.slots.push_back({t->name, offset, bytes});
    offset += bytes;
  }
  json.end_object();
  std::string header = json.finish();
  header.append((8 - header.size() % 8) % 8, ' ');  // as the reference: the data starts 8-aligned

  layout.header.reserve(8 + header.size());
  for (int k = 0; k < 8; ++k) layout.header.push_back(uint8_t(uint64_t(header.size()) >> (8 * k)));
  layout.header.insert(layout.header.end(), header.begin(), header.end());
  for (auto& slot : layout.slots) slot.offset += layout.header.size();
  layout.size = layout.header.size() + offset;
  return layout;
}

std::vector<uint8_t> write_safetensors(const std::vector<NamedTensor>& tensors, const Metadata& metadata) {
  std::vector<TensorSpec> specs;
  for (const NamedTensor& t : tensors) {
    const uint64_t bytes = formats::tensor_bytes(t.tensor.shape, dtype_size(t.tensor.dtype), "safetensors: ");
    if (bytes != t.tensor.bytes.size())
      throw Error("safetensors: tensor '" + shown(t.name) + "' of shape " + shape_to_string(t.tensor.shape) +
                  " holds " + std::to_string(t.tensor.bytes.size()) + " bytes, expected " + std::to_string(bytes));
    specs.push_back({t.name, t.tensor.dtype, t.tensor.shape});
  }
  const SafetensorsLayout layout = safetensors_layout(specs, metadata);
  std::vector<uint8_t> out;
  out.reserve(static_cast<size_t>(layout.size));
  out.insert(out.end(), layout.header.begin(), layout.header.end());
  std::map<std::string_view, const Tensor*> by_name;
  for (const NamedTensor& t : tensors) by_name[t.name] = &t.tensor;
  for (const SafetensorsLayout::Slot& slot : layout.slots) {
    const Tensor& t = *by_name.at(slot.name);
    out.insert(out.end(), t.bytes.begin(), t.bytes.end());
  }
  return out;
}

namespace formats {

FileInfo describe_safetensors(const FileHead& file) {
  Parsed p = parse(file);
  FileInfo info;
  info.format = FileFormat::safetensors;
  for (const Entry& e : p.tensors) {
    TensorInfo t;
    t.name = e.name;
    t.dtype = e.dtype;
    t.shape = e.shape;
    t.stored_type = std::string(e.stored);
    t.data_offset = static_cast<int64_t>(p.data_start + e.begin);
    t.data_bytes = e.end - e.begin;
    info.tensors.push_back(std::move(t));
  }
  for (auto& kv : p.metadata) info.metadata.push_back({std::move(kv.first), "str", std::move(kv.second)});
  return info;
}

Tensor load_safetensors(std::span<const uint8_t> file, std::string_view name) {
  const Parsed p = parse(file);
  if (p.tensors.empty()) throw Error("the .safetensors holds no tensors");
  for (const Entry& e : p.tensors) {
    if (!name.empty() && e.name != name) continue;
    TensorInfo info;
    info.name = e.name;
    info.dtype = e.dtype;
    info.shape = e.shape;
    info.data_bytes = e.end - e.begin;
    return decode_stored(info, file.subspan(static_cast<size_t>(p.data_start + e.begin), static_cast<size_t>(info.data_bytes)));
  }
  std::string have;
  size_t listed = 0;
  for (const Entry& e : p.tensors) {
    if (listed++ == 20) {
      have += ", ... (" + std::to_string(p.tensors.size()) + " in all)";
      break;
    }
    have += (have.empty() ? "" : ", ") + shown(e.name);
  }
  throw Error("no tensor '" + shown(name) + "' in this .safetensors (it has: " + have + ")");
}

}  // namespace formats
}  // namespace qplay
