// Any supported file: the format is sniffed from the first bytes (never from a name, which the page
// may not even have), then one reader describes or loads it. Adding a format means a reader file, a
// sniffing rule here and a line in docs/FORMATS.md.
#include <algorithm>
#include <cstring>

#include "formats/common.hpp"
#include "qplay/error.hpp"
#include "qplay/formats.hpp"

namespace qplay {
namespace {

// Bytes sniff_format needs to tell the binary formats apart (9: safetensors' length and '{'); when
// those do not decide, a longer head lets it judge a text table.
constexpr uint64_t kSniffBytes = 16;
constexpr uint64_t kSniffTextBytes = 4096;

}  // namespace

namespace formats {

void swap_bytes(std::vector<uint8_t>& bytes, size_t item) {
  if (item <= 1) return;
  for (size_t i = 0; i + item <= bytes.size(); i += item) std::reverse(bytes.begin() + i, bytes.begin() + i + item);
}

void normalize_bools(Tensor& t) {
  if (t.dtype != DType::boolean) return;
  for (auto& b : t.bytes) b = b ? 1 : 0;
}

}  // namespace formats

std::string_view format_name(FileFormat f) {
  switch (f) {
    case FileFormat::npy: return "npy";
    case FileFormat::npz: return "npz";
    case FileFormat::safetensors: return "safetensors";
    case FileFormat::gguf: return "gguf";
    case FileFormat::raw: return "raw";
    case FileFormat::text: return "text";
  }
  return "?";
}

FileFormat sniff_format(std::span<const uint8_t> file, const ReadOptions& options) {
  if (options.raw) return FileFormat::raw;
  if (file.empty()) throw Error("empty file (expected .npy, .npz, .safetensors, .gguf or a text table)");
  const auto starts_with = [&](std::string_view magic) {
    return file.size() >= magic.size() && std::memcmp(file.data(), magic.data(), magic.size()) == 0;
  };
  if (starts_with("\x93NUMPY")) return FileFormat::npy;
  // "PK\5\6" is an archive with no members at all (np.savez with nothing to save).
  if (starts_with("PK\3\4") || starts_with("PK\5\6")) return FileFormat::npz;
  if (starts_with("GGUF")) return FileFormat::gguf;
  // safetensors has no magic: a u64 header length, then the JSON's '{'. Lengths below 2^48 are
  // taken as one even when they exceed the file, so a truncated or lying header gets the
  // safetensors reader's message; text has printable bytes there, which make a far larger number.
  if (file.size() >= 9 && file[8] == '{' && formats::le64(file.data()) < (uint64_t(1) << 48))
    return FileFormat::safetensors;
  std::string why;
  if (formats::looks_like_text(file, &why)) return FileFormat::text;
  throw Error("unknown file format (supported: .npy, .npz, .safetensors, .gguf and text tables of numbers; raw "
              "binary needs its dtype and shape given; this file has " + why + ")");
}

FileInfo describe_file(std::span<const uint8_t> file, const ReadOptions& options) {
  switch (sniff_format(file, options)) {
    case FileFormat::npy: return formats::describe_npy(file);
    case FileFormat::npz: return formats::describe_npz(file, options.inflated);
    case FileFormat::safetensors: return formats::describe_safetensors(file);
    case FileFormat::gguf: return formats::describe_gguf(file);
    case FileFormat::raw: return formats::describe_raw(file.size(), *options.raw);
    case FileFormat::text: return formats::describe_text(file);
  }
  throw Error("unknown file format");
}

HeadInfo describe_head(std::span<const uint8_t> head, uint64_t file_size, const ReadOptions& options) {
  if (head.size() > file_size)
    throw Error("describe_head: a head of " + std::to_string(head.size()) + " bytes from a file of " +
                std::to_string(file_size));
  HeadInfo out;
  if (head.size() == file_size) {  // the whole file: exactly describe_file
    out.info = describe_file(head, options);
    return out;
  }
  if (options.raw) {  // nothing to read: the spec and the size say it all
    out.info = formats::describe_raw(file_size, *options.raw);
    return out;
  }
  // Enough to sniff: the longest magic, and the safetensors length plus its '{'.
  if (head.size() < std::min<uint64_t>(kSniffBytes, file_size)) {
    out.bytes_needed = std::min<uint64_t>(kSniffBytes, file_size);
    return out;
  }
  const formats::FileHead f(head, file_size);
  FileFormat format;
  try {
    format = sniff_format(head, options);
  } catch (const Error&) {
    if (head.size() >= std::min(kSniffTextBytes, file_size)) throw;
    out.bytes_needed = std::min(kSniffTextBytes, file_size);
    return out;
  }
  try {
    switch (format) {
      case FileFormat::npy: out.info = formats::describe_npy(f); break;
      case FileFormat::safetensors: out.info = formats::describe_safetensors(f); break;
      case FileFormat::gguf: out.info = formats::describe_gguf(f); break;
      // A zip's directory is at its end and a text table is all data: both are read whole.
      case FileFormat::npz: case FileFormat::text: case FileFormat::raw: out.bytes_needed = file_size; break;
    }
  } catch (const formats::NeedMoreBytes& more) {
    out.bytes_needed = more.total;
  }
  return out;
}

Tensor decode_tensor(const TensorInfo& t, std::span<const uint8_t> stored) {
  if (!t.loadable)
    throw Error("tensor '" + formats::shown(t.name) + "' has type " + t.stored_type + ", which qplay cannot decode");
  if (t.data_offset < 0)
    throw Error("tensor '" + formats::shown(t.name) + "' is not stored as-is in its file (a deflated .npz member or "
                "text); load it with load_tensor");
  if (formats::is_gguf_block_type(t.stored_type)) return formats::decode_gguf_blocks(t, stored);
  return formats::decode_stored(t, stored);
}

std::vector<TensorInfo> list_tensors(std::span<const uint8_t> file, const ReadOptions& options) {
  return describe_file(file, options).tensors;
}

Tensor load_tensor(std::span<const uint8_t> file, std::string_view name, const ReadOptions& options) {
  const FileFormat format = sniff_format(file, options);
  // The single-tensor formats answer to "array" (numpy's name for np.save's one array) or no name.
  const auto single = [&](const char* what) {
    if (!name.empty() && name != "array")
      throw Error("no tensor '" + formats::shown(name) + "' in this " + what + " (it holds one tensor, named 'array')");
  };
  switch (format) {
    case FileFormat::npy: single(".npy"); return read_npy(file);
    case FileFormat::npz: return formats::load_npz(file, name, options.inflated);
    case FileFormat::safetensors: return formats::load_safetensors(file, name);
    case FileFormat::gguf: return formats::load_gguf(file, name);
    case FileFormat::raw: single("raw file"); return formats::load_raw(file, *options.raw);
    case FileFormat::text: single("text file"); return formats::load_text(file);
  }
  throw Error("unknown file format");
}

}  // namespace qplay
