// Tensor file formats: .npy, .npz (a zip of .npy members), .safetensors, .gguf, raw binary and
// CSV/TSV/whitespace text; format sniffing; writers for .npy, stored .npz, .safetensors and .gguf.
// Readers take the whole file as bytes (the page hands the core a buffer; the CLI reads the file) and
// throw qplay::Error with a one-line message for any malformed input; they never trust a declared
// size before checking it against the bytes actually present. docs/FORMATS.md has the details.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "qplay/tensor.hpp"

namespace qplay {

// ---- .npy ---------------------------------------------------------------------------------------
// Reads format versions 1.0, 2.0 and 3.0, headers up to numpy's own limit of 10000 bytes. dtypes:
// f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1 with byte order '<', '>', '|' or '='; big-endian data is
// swapped and fortran_order data is transposed, so the result is always little-endian C order. 0-d
// and empty arrays are supported. The header is parsed by a small grammar, never evaluated.
Tensor read_npy(std::span<const uint8_t> bytes);

// The header of a .npy without decoding the data (checks that the data size matches the shape).
struct NpyHeader {
  DType dtype = DType::f32;
  Shape shape;
  bool fortran_order = false;
  bool big_endian = false;
  size_t data_offset = 0;   // bytes before the data
  std::string descr;        // as written, e.g. ">f4"
  int major = 1, minor = 0; // format version
};
NpyHeader read_npy_header(std::span<const uint8_t> bytes);

// A .npy's float32 values read in place, without a copy: a view into `bytes` (which must outlive it)
// when the data needs no conversion: dtype f4 in little-endian (or native) order, C order (or at
// most one dim > 1), data 4-byte aligned in memory. Empty when `bytes` is not a .npy or needs
// read_npy + to_f32; a malformed .npy throws as read_npy_header does.
std::optional<TensorViewF32> npy_f32_view(std::span<const uint8_t> bytes);

// Writes version 1.0 exactly as numpy.save does (numpy 1.24): '<' descr ('|' for 1-byte types), the
// growth padding numpy reserves after the dict, spaces and '\n' so the data starts at a multiple of
// 64 bytes. bfloat16 and the fp8 types have no numpy dtype and are rejected.
std::vector<uint8_t> write_npy(const Tensor& t);

// ---- zip / .npz ---------------------------------------------------------------------------------
using ZipMember = std::pair<std::string, std::vector<uint8_t>>;

// Stored (uncompressed) members with CRC-32 and a fixed DOS timestamp (1980-01-01 00:00), so the
// same members always give the same bytes. Zip64 records are added only when a size or offset
// needs them.
std::vector<uint8_t> write_npz(const std::vector<ZipMember>& members);

// write_npz a member at a time, for outputs too large to hold: add() returns the member's bytes
// (local header + data), which follow the previous ones; finish() returns the central directory and
// end records. The concatenation is exactly write_npz's bytes for the same members.
class ZipStreamWriter {
 public:
  std::vector<uint8_t> add(const std::string& name, std::span<const uint8_t> data);
  std::vector<uint8_t> finish();
  uint64_t size() const { return offset_; }  // bytes returned so far

 private:
  std::vector<uint8_t> central_;
  std::set<std::string> names_;
  uint64_t offset_ = 0, entries_ = 0;
  bool finished_ = false;
};

// Members in central-directory order. Stored members always; deflated members natively (zlib) or
// from `inflated`: members the caller already inflated, matched by name (WebAssembly has no zlib;
// the page inflates with DecompressionStream('deflate-raw') using list_zip_members, then passes the
// plain bytes here). A deflated member that is neither inflatable here nor in `inflated` is an
// error naming it. Guards: declared sizes checked against the file, CRC-32 and size of every member
// checked (caller-inflated ones too), a total of 4 GiB uncompressed, and a declared ratio above what
// deflate can produce (a zip bomb's lie) rejected before anything is allocated.
std::vector<ZipMember> read_npz(std::span<const uint8_t> bytes, std::span<const ZipMember> inflated = {});

// One member of a zip as its central directory and local header describe it. The compressed bytes
// are file[data_offset, data_offset + compressed_size): raw deflate (no zlib header) when method is
// 8, the member itself when 0.
struct ZipMemberInfo {
  std::string name;
  uint16_t method = 0;  // 0 stored, 8 deflated (no other method passes the guards)
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0, uncompressed_size = 0;
  uint64_t data_offset = 0;
};
// Every member, after the same guards as read_npz (bounds, methods, encryption, duplicate names,
// deflate's ratio, the 4 GiB total), so a caller never inflates a bomb. No data is decompressed.
std::vector<ZipMemberInfo> list_zip_members(std::span<const uint8_t> bytes);

// CRC-32 (IEEE 802.3, the zip/PNG one). `crc` continues a previous result.
uint32_t crc32(std::span<const uint8_t> bytes, uint32_t crc = 0);

// ---- .safetensors ---------------------------------------------------------------------------------
// Writes tensors as the safetensors library serializes them: u64 LE header length, compact JSON
// header ("__metadata__" first, then tensors in data order), the header padded with spaces to a
// multiple of 8, tensors sorted by descending dtype alignment then name so each starts aligned.
// Metadata values are strings (the format allows nothing else). Tensor names must be unique,
// non-empty and not "__metadata__"; bool, f8 and every numeric dtype are written.
struct NamedTensor {
  std::string name;
  Tensor tensor;
};
using Metadata = std::vector<std::pair<std::string, std::string>>;
std::vector<uint8_t> write_safetensors(const std::vector<NamedTensor>& tensors, const Metadata& metadata = {});

// ---- .gguf writer ---------------------------------------------------------------------------------
// GGUF v3 as ggml's docs/gguf.md defines it and ggml's own gguf reader checks it: little-endian,
// "general.alignment" = 32 written as the first key (callers may not set it), tensor infos with
// dims in ggml order (ne[0] = the innermost, numpy's last dim), each tensor's data at a multiple
// of 32 from the data section, in the order given and back to back (ggml requires each offset to
// be the previous one plus its size padded to 32), zero padding after the header and after every
// tensor. Limits ggml's reader enforces are checked here with a clear error: names 1..63 bytes and
// unique, at most 4 dims, ne[0] a multiple of a quantized type's block, unique non-empty keys.
//
// Metadata values: u32, i32, u64, f32, bool or string (the variant's alternative picks the GGUF
// value type: 4, 5, 10, 6, 7, 8).
using GgufValue = std::variant<uint32_t, int32_t, uint64_t, float, bool, std::string>;
struct GgufKv {
  std::string key;
  GgufValue value;
};

// GGUF tensor type ids the writer takes: F32 0, F16 1, BF16 30 and the ggml block types of
// qplay/ggml.hpp (ggml_type_id).
inline constexpr uint32_t kGgufF32 = 0, kGgufF16 = 1, kGgufBF16 = 30;
// The plain id of a core dtype (float32, float16, bfloat16); qplay::Error for any other dtype.
uint32_t gguf_type_of(DType dtype);
// Stored bytes of a tensor of that type and numpy shape (quantized: whole blocks along the last
// dim, qplay::Error naming the shape and block size otherwise; an unsupported id is an error too).
uint64_t gguf_tensor_bytes(uint32_t type, const Shape& shape);

struct GgufTensorDesc {
  std::string name;
  Shape shape;          // numpy order; written reversed
  uint32_t type = kGgufF32;
  uint64_t bytes = 0;   // must equal gguf_tensor_bytes(type, shape)
};

// The streaming half: everything before the data section, and where each tensor goes. A writer
// emits `header`, then for each tensor in order its `bytes` followed by gguf_padding(bytes) zero
// bytes; tensor i then starts at file offset header.size() + offsets[i].
struct GgufLayout {
  std::vector<uint8_t> header;    // magic .. tensor infos, zero-padded to a multiple of 32
  std::vector<uint64_t> offsets;  // from the start of the data section
  uint64_t file_bytes = 0;        // the whole file, padding included
};
GgufLayout gguf_layout(const std::vector<GgufTensorDesc>& tensors, const std::vector<GgufKv>& metadata = {});
constexpr uint32_t kGgufAlignment = 32;
inline uint64_t gguf_padding(uint64_t bytes) { return (kGgufAlignment - bytes % kGgufAlignment) % kGgufAlignment; }

// The convenience half: the whole file in memory. `data` must hold desc.bytes bytes.
struct GgufTensor {
  GgufTensorDesc desc;
  std::vector<uint8_t> data;
};
std::vector<uint8_t> write_gguf(const std::vector<GgufTensor>& tensors, const std::vector<GgufKv>& metadata = {});

// The file write_safetensors writes, known before any data exists (names, dtypes and shapes are
// enough): its header bytes and where each tensor's data goes. A streaming writer emits the header
// first and then each tensor's bytes at its slot's offset, in any order (docs/FORMATS.md).
struct TensorSpec {
  std::string name;
  DType dtype = DType::f32;
  Shape shape;
};
struct SafetensorsLayout {
  struct Slot {
    std::string name;
    uint64_t offset = 0;  // from the start of the file
    uint64_t bytes = 0;
  };
  std::vector<uint8_t> header;  // the u64 length, the JSON and its padding
  std::vector<Slot> slots;      // in data order
  uint64_t size = 0;            // the whole file
};
SafetensorsLayout safetensors_layout(const std::vector<TensorSpec>& tensors, const Metadata& metadata = {});

// ---- raw binary -----------------------------------------------------------------------------------
// Raw bytes cannot be sniffed: the user says what they are. The data is file[offset, offset + bytes]
// and must end exactly at the end of the file (a wrong dtype or shape shows up as a size mismatch
// instead of silently reading garbage); one dim may be -1 and is then inferred from the file size.
struct RawSpec {
  DType dtype = DType::f32;
  Shape shape;
  uint64_t offset = 0;
  bool big_endian = false;
};
// "4,6" or "4x6" -> {4, 6}; "" -> () (a scalar); "-1,6" leaves the -1 to be inferred.
Shape parse_shape(std::string_view text);

// ---- any supported file -------------------------------------------------------------------------
// The format is sniffed from the bytes, never from a file name: "\x93NUMPY" .npy, "PK\3\4" zip
// (.npz), "GGUF" .gguf, a u64 header length followed by '{' .safetensors, printable text whose first
// value is a number: a CSV/TSV/whitespace table. Raw binary only when a RawSpec is given.
enum class FileFormat { npy, npz, safetensors, gguf, raw, text };
std::string_view format_name(FileFormat f);  // "npy", "npz", "safetensors", "gguf", "raw", "text"

// Tensor names: a .npy, raw or text file holds one tensor named "array"; an .npz member "codes.npy"
// is the tensor "codes" (numpy's naming) and members not ending in ".npy" are skipped; safetensors
// and gguf tensors have their own names.
struct TensorInfo {
  std::string name;
  DType dtype = DType::f32;  // what load_tensor returns (for a type not loadable: float32, what a
                             // decoder would give)
  Shape shape;               // numpy order (gguf's ne[] reversed)
  std::string stored_type;   // the format's own spelling: "<f4", "F16", "Q4_K", "float64"...
  bool loadable = true;      // false: listed, but load_tensor says why not (gguf types qplay cannot
                             // decode, e.g. IQ2_XS; the ggml types of qplay/ggml.hpp decode to float32)
  // Where the stored bytes lie in the file, when they lie there as-is (npy, stored npz members,
  // safetensors, gguf, raw); -1 when they do not (deflated members, text). Lets a caller read one
  // tensor of a large file without the rest.
  int64_t data_offset = -1;
  uint64_t data_bytes = 0;   // stored size (quantized: the packed blocks)
  // How the stored bytes are laid out (npy and raw may differ from little-endian C order), so
  // decode_tensor can turn them into the tensor load_tensor would give.
  bool big_endian = false;
  bool fortran_order = false;
};

// File-level key/value metadata: safetensors' __metadata__ (type "str"), gguf's typed KV pairs
// (type "u32", "f32", "str", "bool", "arr[str]"..., value as text, long arrays cut to their first
// items with the count).
struct MetadataEntry {
  std::string key;
  std::string type;
  std::string value;
};

struct FileInfo {
  FileFormat format = FileFormat::npy;
  std::string version;  // "1.0" (npy), "3" (gguf); empty where the format has none
  std::vector<TensorInfo> tensors;
  std::vector<MetadataEntry> metadata;
};

struct ReadOptions {
  std::optional<RawSpec> raw;          // the bytes are raw binary as described (no sniffing)
  std::vector<ZipMember> inflated;     // zip members the caller inflated (see read_npz)
};

FileFormat sniff_format(std::span<const uint8_t> file, const ReadOptions& options = {});
FileInfo describe_file(std::span<const uint8_t> file, const ReadOptions& options = {});
std::vector<TensorInfo> list_tensors(std::span<const uint8_t> file, const ReadOptions& options = {});

// ---- large files, a piece at a time ------------------------------------------------------------------
// describe_file from the file's first bytes: `head` is file[0, head.size()) and `file_size` the
// whole file's size. Either `info` (exactly what describe_file gives for the whole file, after the
// same checks: offsets against file_size, overlaps, caps) or `bytes_needed`: read at least that many
// bytes from the start and call again. .safetensors needs 8 + its header length, .npy its header,
// .gguf grows (doubling) until its tensor infos parse; .npz (directory at the end) and text need
// the whole file. Raw input (options.raw) needs no bytes at all.
struct HeadInfo {
  std::optional<FileInfo> info;
  uint64_t bytes_needed = 0;
};
HeadInfo describe_head(std::span<const uint8_t> head, uint64_t file_size, const ReadOptions& options = {});

// One tensor from its stored bytes, file[t.data_offset, + t.data_bytes): the Tensor load_tensor
// gives for it (byte order, Fortran order and bools handled). Quantized gguf types and tensors not
// stored as-is (data_offset -1) are an error naming the tensor.
Tensor decode_tensor(const TensorInfo& t, std::span<const uint8_t> stored);

// An empty name picks the only (or first) tensor. An unknown name lists the names that exist.
Tensor load_tensor(std::span<const uint8_t> file, std::string_view name = {}, const ReadOptions& options = {});

}  // namespace qplay
