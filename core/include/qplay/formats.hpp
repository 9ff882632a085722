// Tensor file formats: .npy (one array) and .npz (a zip of .npy members), plus format sniffing.
// Readers take the whole file as bytes (the page hands the core a buffer; the CLI reads the file) and
// throw qplay::Error with a one-line message for any malformed input; they never trust a declared
// size before checking it against the bytes actually present.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qplay/tensor.hpp"

namespace qplay {

// ---- .npy ---------------------------------------------------------------------------------------
// Reads format versions 1.0, 2.0 and 3.0. dtypes: f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1 with byte
// order '<', '>', '|' or '='; big-endian data is swapped and fortran_order data is transposed, so the
// result is always little-endian C order. 0-d and empty arrays are supported.
Tensor read_npy(std::span<const uint8_t> bytes);

// The header of a .npy without decoding the data (checks that the data size matches the shape).
struct NpyHeader {
  DType dtype = DType::f32;
  Shape shape;
  bool fortran_order = false;
  bool big_endian = false;
  size_t data_offset = 0;   // bytes before the data
};
NpyHeader read_npy_header(std::span<const uint8_t> bytes);

// A .npy's float32 values read in place, without a copy: a view into `bytes` (which must outlive it)
// when the data needs no conversion: dtype f4 in little-endian (or native) order, C order (or at
// most one dim > 1), data 4-byte aligned in memory. Empty when `bytes` is not a .npy or needs
// read_npy + to_f32; a malformed .npy throws as read_npy_header does.
std::optional<TensorViewF32> npy_f32_view(std::span<const uint8_t> bytes);

// Writes version 1.0 exactly as numpy.save does (numpy 1.24): '<' descr ('|' for 1-byte types), the
// growth padding numpy reserves after the dict, spaces and '\n' so the data starts at a multiple of
// 64 bytes. bfloat16 has no numpy dtype and is rejected.
std::vector<uint8_t> write_npy(const Tensor& t);

// ---- zip / .npz ---------------------------------------------------------------------------------
using ZipMember = std::pair<std::string, std::vector<uint8_t>>;

// Stored (uncompressed) members with CRC-32 and a fixed DOS timestamp (1980-01-01 00:00), so the
// same members always give the same bytes. Zip64 records are added only when a size or offset
// needs them.
std::vector<uint8_t> write_npz(const std::vector<ZipMember>& members);

// Members in central-directory order. Stored members always; deflated members natively (zlib). In
// WebAssembly a deflated member is an error asking the page to decompress it first. Guards: declared
// sizes checked against the file, CRC-32 checked, a total of 4 GiB uncompressed, and a declared
// ratio above what deflate can produce (a zip bomb's lie) rejected before anything is allocated.
std::vector<ZipMember> read_npz(std::span<const uint8_t> bytes);

// CRC-32 (IEEE 802.3, the zip/PNG one). `crc` continues a previous result.
uint32_t crc32(std::span<const uint8_t> bytes, uint32_t crc = 0);

// ---- any supported file -------------------------------------------------------------------------
// The format is sniffed from the bytes: .npy magic "\x93NUMPY", zip "PK\3\4" -> .npz. A .npy holds
// one tensor named "array"; an .npz member "codes.npy" is the tensor "codes" (numpy's naming);
// members not ending in ".npy" (e.g. params.json) are not tensors and are skipped.
struct TensorInfo {
  std::string name;
  DType dtype = DType::f32;
  Shape shape;
};
std::vector<TensorInfo> list_tensors(std::span<const uint8_t> file);

// An empty name picks the only (or first) tensor. An unknown name lists the names that exist.
Tensor load_tensor(std::span<const uint8_t> file, std::string_view name = {});

}  // namespace qplay
