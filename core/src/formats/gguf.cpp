// .gguf v2/v3 (ggml docs/gguf.md is the reference): magic "GGUF", u32 version, u64 tensor and KV
// counts, typed KV metadata, tensor infos (name, dims with ne[0] innermost, ggml type, offset into
// the data section), padding to general.alignment (default 32), the data section. Every count and
// length is checked against the bytes left before anything is reserved, so a lying header costs
// nothing. Unquantized tensors load; quantized ones are listed with their ggml type name.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <type_traits>
#include <variant>

#include "formats/common.hpp"
#include "formats/json.hpp"
#include "qplay/bits.hpp"
#include "qplay/error.hpp"
#include "qplay/formats.hpp"
#include "qplay/ggml.hpp"
#include "qplay/registry.hpp"

namespace qplay {
namespace {

using formats::shown;

constexpr uint32_t kDefaultAlignment = 32;
constexpr int kMaxArrayDepth = 8;         // nested KV arrays; real files use one level
constexpr uint32_t kMaxRank = 8;          // ggml has 4 (GGML_MAX_DIMS); the spec allows growth
constexpr uint64_t kMaxKeyBytes = 65535;  // the spec's limit for a KV key
constexpr size_t kShownItems = 8;         // array values in FileInfo: the first items and the count

[[noreturn]] void fail(const std::string& message) { throw Error("gguf: " + message); }

// ggml_type: id, name, elements per block, bytes per block (ggml-common.h's static_asserts). The
// block types qplay implements read their geometry from the format registry instead (block_elems /
// block_bytes below): their rows hold kFromRegistry.
constexpr uint32_t kFromRegistry = 0;
struct TypeRow {
  uint32_t id;
  std::string_view name;
  uint32_t block;
  uint32_t size;
  bool plain;    // stored as plain elements the core has a dtype for
  DType dtype;   // that dtype (float32 for quantized: what a decoder will give)
};
constexpr TypeRow kTypes[] = {
    {0, "F32", 1, 4, true, DType::f32},          {1, "F16", 1, 2, true, DType::f16},
    {2, "Q4_0", kFromRegistry, kFromRegistry, false, DType::f32},
    {3, "Q4_1", kFromRegistry, kFromRegistry, false, DType::f32},
    {6, "Q5_0", kFromRegistry, kFromRegistry, false, DType::f32},
    {7, "Q5_1", kFromRegistry, kFromRegistry, false, DType::f32},
    {8, "Q8_0", kFromRegistry, kFromRegistry, false, DType::f32},
    {9, "Q8_1", kFromRegistry, kFromRegistry, false, DType::f32},
    {10, "Q2_K", kFromRegistry, kFromRegistry, false, DType::f32},
    {11, "Q3_K", kFromRegistry, kFromRegistry, false, DType::f32},
    {12, "Q4_K", kFromRegistry, kFromRegistry, false, DType::f32},
    {13, "Q5_K", kFromRegistry, kFromRegistry, false, DType::f32},
    {14, "Q6_K", kFromRegistry, kFromRegistry, false, DType::f32},
    {15, "Q8_K", 256, 292, false, DType::f32},   {16, "IQ2_XXS", 256, 66, false, DType::f32},
    {17, "IQ2_XS", 256, 74, false, DType::f32},  {18, "IQ3_XXS", 256, 98, false, DType::f32},
    {19, "IQ1_S", 256, 50, false, DType::f32},
    {20, "IQ4_NL", kFromRegistry, kFromRegistry, false, DType::f32},
    {21, "IQ3_S", 256, 110, false, DType::f32},  {22, "IQ2_S", 256, 82, false, DType::f32},
    {23, "IQ4_XS", 256, 136, false, DType::f32}, {24, "I8", 1, 1, true, DType::i8},
    {25, "I16", 1, 2, true, DType::i16},         {26, "I32", 1, 4, true, DType::i32},
    {27, "I64", 1, 8, true, DType::i64},         {28, "F64", 1, 8, true, DType::f64},
    {29, "IQ1_M", 256, 56, false, DType::f32},   {30, "BF16", 1, 2, true, DType::bf16},
    {34, "TQ1_0", 256, 54, false, DType::f32},   {35, "TQ2_0", 256, 66, false, DType::f32},
    {39, "MXFP4", kFromRegistry, kFromRegistry, false, DType::f32},
};

const TypeRow* find_type(uint32_t id) {
  for (const auto& t : kTypes)
    if (t.id == id) return &t;
  return nullptr;
}

uint64_t block_elems(const TypeRow& t) {
  const CodeFormat* f = ggml_code_format_by_id(t.id);
  return f ? f->ggml->block_elems : t.block;
}
uint64_t block_bytes(const TypeRow& t) {
  const CodeFormat* f = ggml_code_format_by_id(t.id);
  return f ? f->ggml->block_bytes : t.size;
}

// ggml's spelling of one of qplay's ggml types ("Q4_K").
std::string_view spelling(GgmlType g) { return ggml_code_format(g).ggml->ggml_name; }

// Whether load_tensor returns this type: plain elements, or a ggml block type qplay decodes.
bool decodable(const TypeRow& t) { return t.plain || ggml_type_from_id(t.id).has_value(); }

// gguf_metadata_value_type
enum ValueType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};

std::string_view value_type_name(uint32_t t) {
  static constexpr std::string_view names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32",
                                               "bool", "str", "arr", "u64", "i64", "f64"};
  return t < std::size(names) ? names[t] : "?";
}

// The fewest bytes one value of type t can take (bounds an array's count by the bytes left).
uint64_t min_value_bytes(uint32_t t) {
  switch (t) {
    case kU8: case kI8: case kBool: return 1;
    case kU16: case kI16: return 2;
    case kU32: case kI32: case kF32: return 4;
    case kString: case kU64: case kI64: case kF64: return 8;
    case kArray: return 12;  // element type + count
  }
  return 1;
}

// Reads the header from the file's first bytes. Running past the head of a larger file asks for
// more (twice the head, so a caller growing its head needs few rounds); past the file, it is
// truncated. left() counts the whole file, so count checks judge the file, not the head.
class Cursor {
 public:
  explicit Cursor(const formats::FileHead& f) : b_(f.head), size_(f.size) {}
  size_t at() const { return at_; }
  uint64_t left() const { return size_ - at_; }

  const uint8_t* take(uint64_t n, const char* what) {
    if (n > left())
      fail("file ends inside " + std::string(what) + " at byte " + std::to_string(at_) + " (truncated)");
    if (n > b_.size() - at_) throw formats::NeedMoreBytes{std::min(size_, std::max<uint64_t>(at_ + n, 2 * b_.size()))};
    const uint8_t* p = b_.data() + at_;
    at_ += static_cast<size_t>(n);
    return p;
  }
  uint8_t u8(const char* what) { return *take(1, what); }
  uint16_t u16(const char* what) { return formats::le16(take(2, what)); }
  uint32_t u32(const char* what) { return formats::le32(take(4, what)); }
  uint64_t u64(const char* what) { return formats::le64(take(8, what)); }
  std::string_view str(const char* what) {
    const uint64_t n = u64(what);
    const uint8_t* p = take(n, what);
    return {reinterpret_cast<const char*>(p), static_cast<size_t>(n)};
  }

 private:
  std::span<const uint8_t> b_;
  uint64_t size_;
  size_t at_ = 0;
};

struct Kv {
  std::string key, type, text;
  uint32_t value_type = 0;
  uint64_t as_u64 = 0;  // unsigned integer values, for general.alignment
};

// Reads one value of type t, rendering it as text; arrays show their first items and the count.
std::string read_value(Cursor& c, uint32_t t, const std::string& key, int depth, std::string& type_name,
                       uint64_t* as_u64 = nullptr) {
  char buf[32];
  switch (t) {
    case kU8: { const uint64_t v = c.u8("a metadata value"); if (as_u64) *as_u64 = v; return std::to_string(v); }
    case kI8: return std::to_string(static_cast<int8_t>(c.u8("a metadata value")));
    case kU16: { const uint64_t v = c.u16("a metadata value"); if (as_u64) *as_u64 = v; return std::to_string(v); }
    case kI16: return std::to_string(static_cast<int16_t>(c.u16("a metadata value")));
    case kU32: { const uint64_t v = c.u32("a metadata value"); if (as_u64) *as_u64 = v; return std::to_string(v); }
    case kI32: return std::to_string(static_cast<int32_t>(c.u32("a metadata value")));
    case kU64: { const uint64_t v = c.u64("a metadata value"); if (as_u64) *as_u64 = v; return std::to_string(v); }
    case kI64: return std::to_string(static_cast<int64_t>(c.u64("a metadata value")));
    case kF32: return shortest_text(bit_cast<float>(c.u32("a metadata value")));
    case kF64: return shortest_text(bit_cast<double>(c.u64("a metadata value")));
    case kBool: {
      const uint8_t v = c.u8("a metadata value");
      if (v > 1) fail("metadata '" + shown(key) + "' has bool byte " + std::to_string(v) + " (must be 0 or 1)");
      return v ? "true" : "false";
    }
    case kString: return std::string(c.str("a metadata string"));
    case kArray: {
      if (depth >= kMaxArrayDepth)
        fail("metadata '" + shown(key) + "' nests arrays deeper than " + std::to_string(kMaxArrayDepth) + " levels");
      const uint32_t et = c.u32("a metadata array");
      if (et > kF64) fail("metadata '" + shown(key) + "' has an array of unknown value type " + std::to_string(et));
      const uint64_t n = c.u64("a metadata array");
      if (n > c.left() / min_value_bytes(et))
        fail("metadata '" + shown(key) + "' declares " + std::to_string(n) + " array items, more than the " +
             std::to_string(c.left()) + " bytes left can hold (corrupt or truncated file)");
      std::string inner = std::string(value_type_name(et));
      std::string out = "[";
      for (uint64_t i = 0; i < n; ++i) {
        std::string item_type;
        std::string item = read_value(c, et, key, depth + 1, item_type);
        if (et == kArray) inner = item_type;
        if (i < kShownItems) out += (i ? ", " : "") + (et == kString ? formats::json_quote(item) : item);
      }
      if (n > kShownItems) out += ", ... (" + std::to_string(n) + " items)";
      type_name = "arr[" + inner + "]";
      return out + "]";
    }
    default:
      std::snprintf(buf, sizeof buf, "%u", t);
      fail("metadata '" + shown(key) + "' has unknown value type " + buf);
  }
}

struct Entry {
  std::string name;
  const TypeRow* type = nullptr;
  Shape shape;        // numpy order
  uint64_t elements = 0, bytes = 0;
  uint64_t offset = 0;  // into the data section
};

struct Parsed {
  uint32_t version = 0;
  std::vector<Kv> kvs;
  std::vector<Entry> tensors;  // file order
  uint64_t data_start = 0;
};

Parsed parse(const formats::FileHead& file) {
  Cursor c(file);
  const uint8_t* magic = c.take(4, "the magic");
  if (std::memcmp(magic, "GGUF", 4) != 0) fail("bad magic (a .gguf starts with GGUF)");
  Parsed p;
  p.version = c.u32("the version");
  if (p.version == 1) fail("version 1 (32-bit counts, 2023) is not supported (supported: 2, 3)");
  if (p.version != 2 && p.version != 3) {
    if ((p.version & 0xffff) == 0) fail("big-endian files are not supported (version field " + std::to_string(p.version) + ")");
    fail("unsupported version " + std::to_string(p.version) + " (supported: 2, 3)");
  }
  const uint64_t n_tensors = c.u64("the tensor count");
  const uint64_t n_kv = c.u64("the metadata count");
  // Each tensor info takes at least 24 bytes (name length, rank, type, offset), each KV 13.
  if (n_tensors > c.left() / 24)
    fail("header declares " + std::to_string(n_tensors) + " tensors, more than the file can describe (corrupt?)");
  if (n_kv > c.left() / 13)
    fail("header declares " + std::to_string(n_kv) + " metadata pairs, more than the file can hold (corrupt?)");

  uint32_t alignment = kDefaultAlignment;
  std::set<std::string> keys;
  for (uint64_t i = 0; i < n_kv; ++i) {
    Kv kv;
    const std::string_view key = c.str("a metadata key");
    if (key.size() > kMaxKeyBytes) fail("metadata key of " + std::to_string(key.size()) + " bytes (the limit is 65535)");
    kv.key = std::string(key);
    if (!keys.insert(kv.key).second) fail("duplicate metadata key '" + shown(kv.key) + "'");
    kv.value_type = c.u32("a metadata type");
    kv.type = std::string(value_type_name(kv.value_type));
    kv.text = read_value(c, kv.value_type, kv.key, 0, kv.type, &kv.as_u64);
    if (kv.key == "general.alignment") {
      if (kv.value_type != kU32) fail("general.alignment must be a u32, not " + kv.type);
      if (kv.as_u64 == 0 || (kv.as_u64 & (kv.as_u64 - 1)) != 0)
        fail("general.alignment " + kv.text + " is not a power of two");
      alignment = static_cast<uint32_t>(kv.as_u64);
    }
    p.kvs.push_back(std::move(kv));
  }

  std::set<std::string> names;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    Entry e;
    e.name = std::string(c.str("a tensor name"));
    const std::string who = "tensor '" + shown(e.name) + "'";
    if (!names.insert(e.name).second) fail("duplicate " + who);
    const uint32_t rank = c.u32("a tensor rank");
    if (rank > kMaxRank) fail(who + " has " + std::to_string(rank) + " dimensions (the limit is 8)");
    std::vector<uint64_t> ne(rank);
    for (auto& d : ne) {
      d = c.u64("tensor dimensions");
      if (d > uint64_t(INT64_MAX)) fail(who + " has a dimension too large for 64 bits");
    }
    const uint32_t type_id = c.u32("a tensor type");
    e.type = find_type(type_id);
    if (!e.type) fail(who + " has unknown ggml type id " + std::to_string(type_id));
    e.offset = c.u64("a tensor offset");
    for (size_t k = rank; k-- > 0;) e.shape.push_back(static_cast<int64_t>(ne[k]));
    // Elements first (no byte cap: a quantized tensor's stored size is what must fit), then bytes.
    e.elements = 1;
    for (uint64_t d : ne)
      if (__builtin_mul_overflow(e.elements, d, &e.elements) || e.elements > uint64_t(INT64_MAX))
        fail(who + " shape " + shape_to_string(e.shape) + " has more elements than fit in 64 bits");
    if (rank > 0 && ne[0] % block_elems(*e.type) != 0)
      fail(who + " has ne[0] = " + std::to_string(ne[0]) + ", not a multiple of " + std::string(e.type->name) +
           "'s block of " + std::to_string(block_elems(*e.type)));
    e.bytes = e.elements / block_elems(*e.type) * block_bytes(*e.type);
    if (e.type->plain) formats::tensor_bytes(e.shape, e.type->size, "gguf " + who + ": ");
    if (e.offset % alignment != 0)
      fail(who + " offset " + std::to_string(e.offset) + " is not a multiple of the alignment " + std::to_string(alignment));
    p.tensors.push_back(std::move(e));
  }

  p.data_start = c.at() + (alignment - c.at() % alignment) % alignment;
  const uint64_t size = file.size;
  for (const Entry& e : p.tensors) {
    if (p.data_start > size || e.offset > size - p.data_start || e.bytes > size - p.data_start - e.offset)
      fail("tensor '" + shown(e.name) + "' data [" + std::to_string(e.offset) + ", +" + std::to_string(e.bytes) +
           ") lies outside the file (data section at byte " + std::to_string(p.data_start) + " of " +
           std::to_string(size) + "; truncated?)");
  }
  std::vector<const Entry*> by_offset;
  for (const Entry& e : p.tensors) by_offset.push_back(&e);
  std::stable_sort(by_offset.begin(), by_offset.end(), [](const Entry* a, const Entry* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const Entry& a = *by_offset[i - 1];
    const Entry& b = *by_offset[i];
    if (b.offset < a.offset + a.bytes)
      fail("tensors '" + shown(a.name) + "' and '" + shown(b.name) + "' overlap in the data section");
  }
  return p;
}

}  // namespace

namespace formats {

FileInfo describe_gguf(const FileHead& file) {
  Parsed p = parse(file);
  FileInfo info;
  info.format = FileFormat::gguf;
  info.version = std::to_string(p.version);
  for (Kv& kv : p.kvs) info.metadata.push_back({std::move(kv.key), std::move(kv.type), std::move(kv.text)});
  for (const Entry& e : p.tensors) {
    TensorInfo t;
    t.name = e.name;
    t.dtype = e.type->dtype;
    t.shape = e.shape;
    t.stored_type = std::string(e.type->name);
    t.loadable = decodable(*e.type);
    t.data_offset = static_cast<int64_t>(p.data_start + e.offset);
    t.data_bytes = e.bytes;
    info.tensors.push_back(std::move(t));
  }
  return info;
}

Tensor decode_gguf_blocks(const TensorInfo& t, std::span<const uint8_t> stored) {
  const TypeRow* type = nullptr;
  for (const auto& k : kTypes)
    if (k.name == t.stored_type) type = &k;
  if (!type || type->plain) throw Error("gguf tensor '" + shown(t.name) + "': '" + shown(t.stored_type) + "' is not a ggml block type");
  const std::optional<GgmlType> g = ggml_type_from_id(type->id);
  if (!g) {
    std::string known;
    for (GgmlType k : kGgmlTypes) known += (known.empty() ? "" : ", ") + std::string(spelling(k));
    throw Error("gguf tensor '" + shown(t.name) + "' has type " + std::string(type->name) +
                ", which qplay cannot decode (it decodes F32, F16, BF16, F64, I8..I64 and " + known + ")");
  }
  // Decoded to float32: check the decoded size as any float32 tensor of that shape.
  formats::tensor_bytes(t.shape, 4, "gguf tensor '" + shown(t.name) + "': ");
  const uint64_t elements = static_cast<uint64_t>(shape_elements(t.shape));
  if (elements % block_elems(*type) != 0 || stored.size() != elements / block_elems(*type) * block_bytes(*type))
    throw Error("gguf tensor '" + shown(t.name) + "': " + std::to_string(stored.size()) + " stored bytes for " +
                std::string(type->name) + " " + shape_to_string(t.shape));
  Tensor out = make_tensor(DType::f32, t.shape);
  ggml_dequantize(*g, stored, {out.data<float>(), static_cast<size_t>(out.elements())});
  return out;
}

bool is_gguf_block_type(std::string_view stored_type) {
  for (const auto& k : kTypes)
    if (k.name == stored_type) return !k.plain;
  return false;
}

Tensor load_gguf(std::span<const uint8_t> file, std::string_view name) {
  const Parsed p = parse(file);
  if (p.tensors.empty()) throw Error("the .gguf holds no tensors");
  for (const Entry& e : p.tensors) {
    if (!name.empty() && e.name != name) continue;
    TensorInfo info;
    info.name = e.name;
    info.dtype = e.type->dtype;
    info.shape = e.shape;
    info.stored_type = std::string(e.type->name);
    info.data_bytes = e.bytes;
    const auto stored = file.subspan(static_cast<size_t>(p.data_start + e.offset), static_cast<size_t>(e.bytes));
    return e.type->plain ? decode_stored(info, stored) : decode_gguf_blocks(info, stored);
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
  throw Error("no tensor '" + shown(name) + "' in this .gguf (it has: " + have + ")");
}

}  // namespace formats

// ---- writer ---------------------------------------------------------------------------------------

namespace {

constexpr uint32_t kGgufVersion = 3;
constexpr size_t kMaxNameBytes = 63;  // ggml's GGML_MAX_NAME is 64 with the terminating NUL
constexpr size_t kMaxDims = 4;        // GGML_MAX_DIMS: ggml's reader refuses more

class Bytes {
 public:
  void u32(uint32_t v) { for (int i = 0; i < 4; ++i) b_.push_back(uint8_t(v >> (8 * i))); }
  void u64(uint64_t v) { for (int i = 0; i < 8; ++i) b_.push_back(uint8_t(v >> (8 * i))); }
  void str(std::string_view s) {
    u64(s.size());
    b_.insert(b_.end(), s.begin(), s.end());
  }
  void value(const GgufValue& v) {
    // The value type tag, then the value (gguf_metadata_value_type).
    std::visit([&](const auto& x) {
      using T = std::decay_t<decltype(x)>;
      if constexpr (std::is_same_v<T, uint32_t>) { u32(kU32); u32(x); }
      else if constexpr (std::is_same_v<T, int32_t>) { u32(kI32); u32(uint32_t(x)); }
      else if constexpr (std::is_same_v<T, uint64_t>) { u32(kU64); u64(x); }
      else if constexpr (std::is_same_v<T, float>) { u32(kF32); u32(bit_cast<uint32_t>(x)); }
      else if constexpr (std::is_same_v<T, bool>) { u32(kBool); b_.push_back(x ? 1 : 0); }
      else { u32(kString); str(x); }
    }, v);
  }
  void pad() { b_.resize(b_.size() + size_t(gguf_padding(b_.size())), 0); }
  std::vector<uint8_t>& out() { return b_; }

 private:
  std::vector<uint8_t> b_;
};

}  // namespace

uint32_t gguf_type_of(DType dtype) {
  switch (dtype) {
    case DType::f32: return kGgufF32;
    case DType::f16: return kGgufF16;
    case DType::bf16: return kGgufBF16;
    default:
      throw Error("gguf: the writer stores float32, float16 and bfloat16 tensors (got " +
                  std::string(dtype_name(dtype)) + ")");
  }
}

uint64_t gguf_tensor_bytes(uint32_t type, const Shape& shape) {
  const std::string what = "gguf: shape " + shape_to_string(shape);
  if (type == kGgufF32) return formats::tensor_bytes(shape, 4, "gguf: ");
  if (type == kGgufF16 || type == kGgufBF16) return formats::tensor_bytes(shape, 2, "gguf: ");
  const std::optional<GgmlType> g = ggml_type_from_id(type);
  if (!g) {
    const TypeRow* row = find_type(type);
    throw Error("gguf: the writer stores F32, F16, BF16 and the ggml types q8_0 ... mxfp4, not " +
                (row ? std::string(row->name) : "type id " + std::to_string(type)));
  }
  const int64_t elements = shape_elements(shape);
  const int64_t last = shape.empty() ? 1 : shape.back();
  const GgmlGeometry& geometry = *ggml_code_format(*g).ggml;
  const size_t block = geometry.block_elems;
  if (last % int64_t(block) != 0)
    throw Error(what + " cannot be stored as " + std::string(spelling(*g)) + ": the last dim " + std::to_string(last) +
                " (ggml's ne[0]) must be a multiple of its block size " + std::to_string(block));
  return uint64_t(elements) / block * geometry.block_bytes;
}

GgufLayout gguf_layout(const std::vector<GgufTensorDesc>& tensors, const std::vector<GgufKv>& metadata) {
  std::set<std::string> keys{"general.alignment"};
  for (const GgufKv& kv : metadata) {
    if (kv.key.empty()) throw Error("gguf: a metadata key is empty");
    if (kv.key == "general.alignment") throw Error("gguf: general.alignment is written by the writer (always 32)");
    if (kv.key.size() > kMaxKeyBytes) throw Error("gguf: metadata key '" + shown(kv.key) + "' is longer than 65535 bytes");
    if (!keys.insert(kv.key).second) throw Error("gguf: duplicate metadata key '" + shown(kv.key) + "'");
  }
  std::set<std::string> names;
  for (const GgufTensorDesc& t : tensors) {
    const std::string who = "gguf: tensor '" + shown(t.name) + "'";
    if (t.name.empty()) throw Error("gguf: a tensor name is empty");
    if (t.name.size() > kMaxNameBytes)
      throw Error(who + ": the name has " + std::to_string(t.name.size()) + " bytes (ggml allows at most 63)");
    if (!names.insert(t.name).second) throw Error("gguf: duplicate tensor name '" + shown(t.name) + "'");
    if (t.shape.size() > kMaxDims)
      throw Error(who + " has shape " + shape_to_string(t.shape) + ": ggml tensors have at most 4 dims");
    const uint64_t want = gguf_tensor_bytes(t.type, t.shape);
    if (t.bytes != want)
      throw Error(who + ": " + std::to_string(t.bytes) + " bytes given, its type and shape " + shape_to_string(t.shape) +
                  " take " + std::to_string(want));
  }

  GgufLayout layout;
  Bytes b;
  b.out().insert(b.out().end(), {'G', 'G', 'U', 'F'});
  b.u32(kGgufVersion);
  b.u64(tensors.size());
  b.u64(metadata.size() + 1);
  b.str("general.alignment");
  b.value(GgufValue{kGgufAlignment});
  for (const GgufKv& kv : metadata) {
    b.str(kv.key);
    b.value(kv.value);
  }
  uint64_t offset = 0;
  for (const GgufTensorDesc& t : tensors) {
    b.str(t.name);
    b.u32(uint32_t(t.shape.size()));
    for (size_t k = t.shape.size(); k-- > 0;) b.u64(uint64_t(t.shape[k]));  // ne[0] = the last numpy dim
    b.u32(t.type);
    b.u64(offset);
    layout.offsets.push_back(offset);
    offset += t.bytes + gguf_padding(t.bytes);
  }
  b.pad();
  layout.header = std::move(b.out());
  layout.file_bytes = layout.header.size() + offset;
  return layout;
}

std::vector<uint8_t> write_gguf(const std::vector<GgufTensor>& tensors, const std::vector<GgufKv>& metadata) {
  std::vector<GgufTensorDesc> descs;
  for (const GgufTensor& t : tensors) {
    if (t.data.size() != t.desc.bytes)
      throw Error("gguf: tensor '" + shown(t.desc.name) + "' holds " + std::to_string(t.data.size()) +
                  " bytes, its descriptor says " + std::to_string(t.desc.bytes));
    descs.push_back(t.desc);
  }
  const GgufLayout layout = gguf_layout(descs, metadata);
  std::vector<uint8_t> out = layout.header;
  out.reserve(size_t(layout.file_bytes));
  for (const GgufTensor& t : tensors) {
    out.insert(out.end(), t.data.begin(), t.data.end());
    out.resize(out.size() + size_t(gguf_padding(t.data.size())), 0);
  }
  return out;
}

}  // namespace qplay
