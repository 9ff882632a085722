// .npy reader and writer (numpy/lib/format.py is the reference for the layout). The header is a
// Python dict literal; it is parsed here by a tiny grammar, never evaluated.
#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <map>
#include <string>

#include "formats/common.hpp"
#include "qplay/error.hpp"
#include "qplay/formats.hpp"

namespace qplay {
namespace {

constexpr std::array<uint8_t, 6> kMagic = {0x93, 'N', 'U', 'M', 'P', 'Y'};
constexpr size_t kArrayAlign = 64;       // numpy's ARRAY_ALIGN
constexpr size_t kGrowthDigits = 21;     // numpy's GROWTH_AXIS_MAX_DIGITS
constexpr size_t kMaxRank = 64;          // numpy 2's NPY_MAXDIMS; bounds the work per header
// numpy.lib.format._MAX_HEADER_SIZE: numpy itself refuses longer headers from untrusted files.
constexpr size_t kMaxHeaderBytes = 10000;

[[noreturn]] void fail(const std::string& message) { throw Error(".npy: " + message); }

// Printable form of header text for messages: keeps them on one line and short.
std::string excerpt(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > 40) out += "...";
  return out;
}

// The values a numpy header uses: strings, True/False, tuples of non-negative ints.
struct Value {
  enum Kind { string, boolean, tuple } kind = string;
  std::string text;
  bool flag = false;
  Shape ints;
};

class HeaderParser {
 public:
  explicit HeaderParser(std::string_view text) : s_(text) {}

  std::map<std::string, Value> parse_dict() {
    std::map<std::string, Value> dict;
    skip_ws();
    expect('{');
    for (;;) {
      skip_ws();
      if (peek() == '}') break;
      if (peek() != '\'' && peek() != '"') fail("header dict key is not a string near '" + rest() + "'");
      std::string key = parse_string();
      skip_ws();
      expect(':');
      skip_ws();
      Value v = parse_value(key);
      if (!dict.emplace(key, std::move(v)).second) fail("header repeats the key '" + key + "'");
      skip_ws();
      if (peek() == ',') { ++i_; continue; }
      if (peek() == '}') break;
      if (i_ >= s_.size()) fail("header ends before the dict's closing '}'");
      fail("header dict expects ',' or '}' near '" + rest() + "'");
    }
    ++i_;
    skip_ws();
    if (i_ != s_.size()) fail("unexpected text after the header dict: '" + rest() + "'");
    return dict;
  }

 private:
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  std::string rest() const { return excerpt(s_.substr(std::min(i_, s_.size()))); }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  void expect(char c) {
    if (peek() != c) {
      if (i_ >= s_.size()) fail(std::string("header ends where '") + c + "' was expected");
      fail(std::string("header expects '") + c + "' near '" + rest() + "'");
    }
    ++i_;
  }

  std::string parse_string() {
    const char quote = s_[i_++];
    std::string out;
    while (i_ < s_.size() && s_[i_] != quote) {
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;  // dtype strings never need more than this
      out += s_[i_++];
    }
    if (i_ >= s_.size()) fail("header has an unterminated string");
    ++i_;
    return out;
  }

  Value parse_value(const std::string& key) {
    Value v;
    const char c = peek();
    if (c == '\'' || c == '"') {
      v.kind = Value::string;
      v.text = parse_string();
    } else if (s_.substr(i_, 4) == "True") {
      v.kind = Value::boolean, v.flag = true, i_ += 4;
    } else if (s_.substr(i_, 5) == "False") {
      v.kind = Value::boolean, v.flag = false, i_ += 5;
    } else if (c == '(') {
      v.kind = Value::tuple;
      v.ints = parse_tuple(key);
    } else if (c == '[' && key == "descr") {
      fail("structured dtypes (a descr list) are not supported");
    } else {
      fail("header value for '" + key + "' is not understood: '" + rest() + "'");
    }
    return v;
  }

  Shape parse_tuple(const std::string& key) {
    ++i_;  // '('
    Shape out;
    bool trailing_comma = false;
    for (;;) {
      skip_ws();
      if (peek() == ')') break;
      if (peek() == '-') fail("'" + key + "' has a negative dimension");
      if (peek() < '0' || peek() > '9') fail("'" + key + "' holds a non-integer: '" + rest() + "'");
      int64_t n = 0;
      while (peek() >= '0' && peek() <= '9') {
        const int digit = peek() - '0';
        if (n > (std::numeric_limits<int64_t>::max() - digit) / 10)
          fail("'" + key + "' has a dimension too large for 64 bits");
        n = n * 10 + digit;
        ++i_;
      }
      if (peek() == 'L' || peek() == 'l') ++i_;  // Python 2 longs in old files
      out.push_back(n);
      if (out.size() > kMaxRank) fail("'" + key + "' has more than 64 dimensions");
      skip_ws();
      trailing_comma = false;
      if (peek() == ',') { ++i_; trailing_comma = true; continue; }
      if (peek() == ')') break;
      fail("'" + key + "' expects ',' or ')' near '" + rest() + "'");
    }
    ++i_;
    // "(5)" is the int 5 in Python, not a tuple.
    if (out.size() == 1 && !trailing_comma) fail("'" + key + "' is not a tuple: (" + std::to_string(out[0]) + ")");
    return out;
  }

  std::string_view s_;
  size_t i_ = 0;
};

struct Descr {
  DType dtype;
  bool big_endian;
};

Descr parse_descr(const std::string& descr) {
  std::string_view d = descr;
  bool big = false;
  if (!d.empty() && (d[0] == '<' || d[0] == '>' || d[0] == '|' || d[0] == '=')) {
    big = d[0] == '>';  // '=' and '|' are native: every target of qplay is little-endian
    d.remove_prefix(1);
  }
  static constexpr struct { std::string_view code; DType dtype; } kTable[] = {
      {"f2", DType::f16}, {"f4", DType::f32}, {"f8", DType::f64},
      {"i1", DType::i8},  {"i2", DType::i16}, {"i4", DType::i32}, {"i8", DType::i64},
      {"u1", DType::u8},  {"u2", DType::u16}, {"u4", DType::u32}, {"u8", DType::u64},
      {"b1", DType::boolean},
  };
  for (const auto& e : kTable)
    if (d == e.code) return {e.dtype, big && dtype_size(e.dtype) > 1};
  fail("unsupported dtype '" + excerpt(descr) +
       "' (supported: f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1, byte order < > | =)");
}

uint32_t read_le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

std::string_view descr_of(DType t) {
  switch (t) {
    case DType::f16: return "<f2";
    case DType::f32: return "<f4";
    case DType::f64: return "<f8";
    case DType::i8: return "|i1";
    case DType::i16: return "<i2";
    case DType::i32: return "<i4";
    case DType::i64: return "<i8";
    case DType::u8: return "|u1";
    case DType::u16: return "<u2";
    case DType::u32: return "<u4";
    case DType::u64: return "<u8";
    case DType::boolean: return "|b1";
    case DType::bf16: case DType::f8_e4m3: case DType::f8_e5m2: break;
  }
  throw Error(".npy: " + std::string(dtype_name(t)) + " has no numpy dtype; convert it to float32 first");
}

}  // namespace

namespace formats {

// The header from the file's first bytes; the data size is checked against the whole file's size.
NpyHeader read_npy_header(const FileHead& f) {
  const std::span<const uint8_t> bytes = f.head;
  const auto have = [&](uint64_t end) { return have_bytes(f, end); };
  if (!have(kMagic.size()) || !std::equal(kMagic.begin(), kMagic.end(), bytes.begin()))
    fail("bad magic (not a .npy file: it must start with \\x93NUMPY)");
  if (!have(8)) fail("truncated header (file ends inside the version)");
  const int major = bytes[6], minor = bytes[7];
  size_t prefix = 0, header_len = 0;
  if (major == 1) {
    prefix = 10;
    if (!have(prefix)) fail("truncated header (file ends inside the header length)");
    header_len = size_t(bytes[8]) | size_t(bytes[9]) << 8;
  } else if (major == 2 || major == 3) {
    prefix = 12;
    if (!have(prefix)) fail("truncated header (file ends inside the header length)");
    header_len = read_le32(bytes.data() + 8);
  } else {
    fail("unsupported format version " + std::to_string(major) + "." + std::to_string(minor) +
         " (supported: 1.0, 2.0, 3.0)");
  }
  if (header_len > kMaxHeaderBytes)
    fail("header of " + std::to_string(header_len) + " bytes is longer than numpy's limit of " +
         std::to_string(kMaxHeaderBytes));
  if (!have(prefix + header_len))
    fail("truncated header (declares " + std::to_string(header_len) + " bytes, file has " +
         std::to_string(f.size - prefix) + " after the prefix)");

  // Versions 1 and 2 are latin-1, 3 is UTF-8; the keys and values we accept are ASCII either way.
  const std::string_view text(reinterpret_cast<const char*>(bytes.data() + prefix), header_len);
  const auto dict = HeaderParser(text).parse_dict();
  for (const auto& [key, value] : dict)
    if (key != "descr" && key != "fortran_order" && key != "shape")
      fail("header has an unexpected key '" + excerpt(key) + "'");
  const auto need = [&](const char* key, Value::Kind kind, const char* what) -> const Value& {
    const auto it = dict.find(key);
    if (it == dict.end()) fail(std::string("header lacks the key '") + key + "'");
    if (it->second.kind != kind) fail(std::string("header '") + key + "' must be " + what);
    return it->second;
  };
  const Descr descr = parse_descr(need("descr", Value::string, "a dtype string").text);

  NpyHeader h;
  h.dtype = descr.dtype;
  h.big_endian = descr.big_endian;
  h.fortran_order = need("fortran_order", Value::boolean, "True or False").flag;
  h.shape = need("shape", Value::tuple, "a tuple").ints;
  h.data_offset = prefix + header_len;
  h.descr = need("descr", Value::string, "a dtype string").text;
  h.major = major;
  h.minor = minor;

  const uint64_t expected = tensor_bytes(h.shape, dtype_size(h.dtype), ".npy: ");
  const uint64_t present = f.size - h.data_offset;
  if (expected != present)
    fail("shape " + shape_to_string(h.shape) + " * itemsize " + std::to_string(dtype_size(h.dtype)) +
         " = " + std::to_string(expected) + " data bytes, but the file has " + std::to_string(present) +
         (present < expected ? " (truncated)" : ""));
  return h;
}

Tensor decode_stored(const TensorInfo& info, std::span<const uint8_t> stored) {
  const size_t item = dtype_size(info.dtype);
  if (stored.size() != info.data_bytes || tensor_bytes(info.shape, item, "tensor '" + shown(info.name) + "': ") != stored.size())
    throw Error("tensor '" + shown(info.name) + "': " + std::to_string(stored.size()) + " stored bytes for " +
                std::string(dtype_name(info.dtype)) + " " + shape_to_string(info.shape));
  Tensor t;
  t.dtype = info.dtype;
  t.shape = info.shape;
  const uint8_t* src = stored.data();
  const size_t n_bytes = stored.size();
  const size_t n = item ? n_bytes / item : 0;
  t.bytes.resize(n_bytes);

  if (info.fortran_order && t.shape.size() > 1 && n > 0) {
    // Walk the output in C order with an odometer and track the matching Fortran offset.
    const size_t rank = t.shape.size();
    std::vector<size_t> f_stride(rank), idx(rank, 0);
    f_stride[0] = 1;
    for (size_t k = 1; k < rank; ++k) f_stride[k] = f_stride[k - 1] * static_cast<size_t>(t.shape[k - 1]);
    size_t f_off = 0;
    for (size_t c = 0; c < n; ++c) {
      std::memcpy(t.bytes.data() + c * item, src + f_off * item, item);
      for (size_t k = rank; k-- > 0;) {
        if (++idx[k] < static_cast<size_t>(t.shape[k])) { f_off += f_stride[k]; break; }
        f_off -= (idx[k] - 1) * f_stride[k];
        idx[k] = 0;
      }
    }
  } else if (n_bytes) {
    std::memcpy(t.bytes.data(), src, n_bytes);
  }

  if (info.big_endian) swap_bytes(t.bytes, item);
  normalize_bools(t);
  return t;
}

}  // namespace formats

NpyHeader read_npy_header(std::span<const uint8_t> bytes) { return formats::read_npy_header(formats::FileHead(bytes)); }

Tensor read_npy(std::span<const uint8_t> bytes) {
  const FileInfo info = formats::describe_npy(formats::FileHead(bytes));
  const TensorInfo& t = info.tensors[0];
  return formats::decode_stored(t, bytes.subspan(static_cast<size_t>(t.data_offset)));
}

namespace formats {

FileInfo describe_npy(const FileHead& file) {
  const NpyHeader h = read_npy_header(file);
  FileInfo info;
  info.format = FileFormat::npy;
  info.version = std::to_string(h.major) + "." + std::to_string(h.minor);
  TensorInfo t;
  t.name = "array";
  t.dtype = h.dtype;
  t.shape = h.shape;
  t.stored_type = h.descr;
  t.data_offset = static_cast<int64_t>(h.data_offset);
  t.data_bytes = file.size - h.data_offset;
  t.big_endian = h.big_endian;
  t.fortran_order = h.fortran_order;
  info.tensors.push_back(std::move(t));
  return info;
}

}  // namespace formats

std::vector<uint8_t> write_npy(const Tensor& t) {
  const std::string_view descr = descr_of(t.dtype);
  const size_t data_bytes = static_cast<size_t>(formats::tensor_bytes(t.shape, dtype_size(t.dtype), ".npy: "));
  if (data_bytes != t.bytes.size())
    throw Error(".npy: tensor of shape " + shape_to_string(t.shape) + " holds " +
                std::to_string(t.bytes.size()) + " bytes, expected " + std::to_string(data_bytes));

  std::string header = "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': " +
                       shape_to_string(t.shape) + ", }";
  // numpy reserves room to grow the first axis in place.
  if (!t.shape.empty()) header.append(kGrowthDigits - std::to_string(t.shape[0]).size(), ' ');
  const size_t hlen = header.size() + 1;
  // As numpy: the padding is never 0, a header already aligned gets a full 64 spaces.
  const size_t pad = kArrayAlign - (kMagic.size() + 2 + 2 + hlen) % kArrayAlign;
  const size_t total_header = hlen + pad;
  if (total_header > 0xffff) throw Error(".npy: header too long for format 1.0 (rank " + std::to_string(t.shape.size()) + ")");

  std::vector<uint8_t> out;
  out.reserve(10 + total_header + data_bytes);
  out.insert(out.end(), kMagic.begin(), kMagic.end());
  out.push_back(1);
  out.push_back(0);
  out.push_back(static_cast<uint8_t>(total_header & 0xff));
  out.push_back(static_cast<uint8_t>(total_header >> 8));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), pad, ' ');
  out.push_back('\n');
  out.insert(out.end(), t.bytes.begin(), t.bytes.end());
  return out;
}

std::optional<TensorViewF32> npy_f32_view(std::span<const uint8_t> bytes) {
  if (bytes.size() < kMagic.size() || !std::equal(kMagic.begin(), kMagic.end(), bytes.begin())) return std::nullopt;
  const NpyHeader h = read_npy_header(bytes);
  if (h.dtype != DType::f32 || h.big_endian) return std::nullopt;
  // Fortran order is the same layout as C order when no two dims exceed 1.
  if (h.fortran_order && std::count_if(h.shape.begin(), h.shape.end(), [](int64_t d) { return d > 1; }) > 1)
    return std::nullopt;
  const uint8_t* data = bytes.data() + h.data_offset;
  if (reinterpret_cast<uintptr_t>(data) % alignof(float) != 0) return std::nullopt;
  const size_t n = (bytes.size() - h.data_offset) / sizeof(float);
  return TensorViewF32{h.shape, std::span<const float>(reinterpret_cast<const float*>(data), n)};
}

}  // namespace qplay
