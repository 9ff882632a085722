// What every reader shares: little-endian loads that cannot run past the buffer, byte counts that
// cannot overflow, and names made safe to print. Private to core/src/formats.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "qplay/error.hpp"
#include "qplay/formats.hpp"
#include "qplay/tensor.hpp"

namespace qplay::formats {

inline uint16_t le16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }
inline uint32_t le32(const uint8_t* p) { return uint32_t(le16(p)) | uint32_t(le16(p + 2)) << 16; }
inline uint64_t le64(const uint8_t* p) { return uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32; }

// Names and keys from a file, for messages: control bytes become '?', long ones are cut, so a
// message stays one short line whatever the file holds.
inline std::string shown(std::string_view name, size_t max = 80) {
  std::string out;
  for (char c : name.substr(0, max)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  if (name.size() > max) out += "...";
  return out;
}

// The largest tensor a build can hold. A wasm32 heap is at most 4 GiB and the file's own bytes live
// there too, so a larger tensor can never load; saying so beats an allocation failure that kills
// the instance. Natively the bound is only what size_t and int64 shapes can count.
#ifdef __EMSCRIPTEN__
constexpr uint64_t kMaxTensorBytes = uint64_t(4) << 30;
constexpr const char* kMaxTensorWhy = "too large for WebAssembly, which holds at most 4 GiB per tensor";
#else
constexpr uint64_t kMaxTensorBytes = uint64_t(std::numeric_limits<int64_t>::max());
constexpr const char* kMaxTensorWhy = "too large for this machine";
#endif

// elements(shape) * itemsize, or an Error naming `what` (e.g. ".npy: ", "safetensors tensor 'w': ")
// when a dimension is negative, the product overflows, or it exceeds kMaxTensorBytes.
inline uint64_t tensor_bytes(const Shape& shape, uint64_t itemsize, const std::string& what) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw Error(what + "shape " + shape_to_string(shape) + " has a negative dimension");
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n) ||
        n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw Error(what + "shape " + shape_to_string(shape) + " has more elements than fit in 64 bits");
  }
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(n, itemsize, &bytes) || bytes > kMaxTensorBytes ||
      bytes > std::numeric_limits<size_t>::max())
    throw Error(what + "shape " + shape_to_string(shape) + " needs " +
                (bytes / itemsize == n ? std::to_string(bytes) + " bytes; " : std::string("more bytes than fit in 64 bits; ")) +
                kMaxTensorWhy);
  return bytes;
}

// A Tensor holding a copy of `size` bytes at `data` (dtype and shape already checked against size).
inline Tensor copy_tensor(DType dtype, Shape shape, const uint8_t* data, size_t size) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.bytes.assign(data, data + size);
  return t;
}

// Reverses every `item`-byte element in place (big-endian data to the core's little-endian).
void swap_bytes(std::vector<uint8_t>& bytes, size_t item);

// A tensor from its stored bytes as `t` describes them (dtype, shape, byte order, Fortran order):
// little-endian C order, bools normalized. The one place stored data becomes a Tensor; `stored`
// must hold exactly t.data_bytes.
Tensor decode_stored(const TensorInfo& t, std::span<const uint8_t> stored);

// Bools are 0/1 in the core; any non-zero byte from a foreign writer means true.
void normalize_bools(Tensor& t);

// A file seen through its first bytes: `head` is file[0, head.size()) and `size` the whole file's
// size (head.size() == size when the whole file is at hand). A reader that needs bytes beyond the
// head, when the file has them, throws NeedMoreBytes instead of reporting a truncated file; the same
// reader code then serves whole files and heads (describe_head), so the checks are never forked.
struct FileHead {
  std::span<const uint8_t> head;
  uint64_t size = 0;
  FileHead(std::span<const uint8_t> whole) : head(whole), size(whole.size()) {}
  FileHead(std::span<const uint8_t> h, uint64_t s) : head(h), size(s) {}
};
struct NeedMoreBytes {
  uint64_t total;  // read at least this many bytes from the start of the file
};
// Whether file[0, end) is at hand: true when it is, NeedMoreBytes when the file has those bytes but
// the head does not, false when the file itself ends before `end` (the caller reports truncation).
inline bool have_bytes(const FileHead& f, uint64_t end) {
  if (end <= f.head.size()) return true;
  if (end <= f.size) throw NeedMoreBytes{end};
  return false;
}

// ---- per-format readers, dispatched by open.cpp ---------------------------------------------------
// Each describe_* returns the file's tensors and metadata without decoding tensor data (it still
// checks every declared size against the file); each load_* returns one tensor by exact name.

FileInfo describe_npy(const FileHead& file);
NpyHeader read_npy_header(const FileHead& file);
FileInfo describe_npz(std::span<const uint8_t> file, std::span<const ZipMember> inflated);
Tensor load_npz(std::span<const uint8_t> file, std::string_view name, std::span<const ZipMember> inflated);
FileInfo describe_safetensors(const FileHead& file);
Tensor load_safetensors(std::span<const uint8_t> file, std::string_view name);
FileInfo describe_gguf(const FileHead& file);
Tensor load_gguf(std::span<const uint8_t> file, std::string_view name);
// A gguf tensor of a ggml block type (stored_type "Q4_K"...) from its stored blocks, as float32.
Tensor decode_gguf_blocks(const TensorInfo& t, std::span<const uint8_t> stored);
bool is_gguf_block_type(std::string_view stored_type);
FileInfo describe_raw(uint64_t file_size, const RawSpec& spec);
Tensor load_raw(std::span<const uint8_t> file, const RawSpec& spec);
FileInfo describe_text(std::span<const uint8_t> file);
Tensor load_text(std::span<const uint8_t> file);

// Whether the bytes look like a text table whose first value is a number (the sniffing rule for
// text; describe_text then parses all of it). `why_not` gets a short reason when they do not.
bool looks_like_text(std::span<const uint8_t> file, std::string* why_not = nullptr);

}  // namespace qplay::formats
