// The result of a run as files: params.json (every setting needed to reproduce the run, and the
// metrics) and an .npz bundle that numpy opens with np.load. Output bytes depend only on the inputs:
// the same run gives the same bytes natively and in WebAssembly.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qplay/quantize.hpp"
#include "qplay/tensor.hpp"

namespace qplay {

// What the quantizer itself does not know about a run.
struct RunInfo {
  std::string input_file;                 // the file name as the user gave it
  std::string input_tensor;               // the tensor's name inside the file ("array" for .npy)
  Shape input_shape;
  DType input_dtype = DType::f32;         // before to_f32
  std::string params_source = "dynamic";  // "dynamic" | "given" | "calibrated"
  std::string observer;                   // observer_name(...) when calibrated, else empty
  std::vector<std::string> params_files;  // the --params file or the calibration files, if any
  std::string version = QPLAY_VERSION;
  std::string kernels;                    // kernel table name; empty = kernel_table_name()
};

// The name of the kernel table in use ("simd128" or "scalar").
std::string_view kernel_table_name();

// Params with at most this many groups are also written inline in params.json (scale,
// zero_point); larger ones only live in the .npz members.
constexpr int64_t kInlineParamLimit = 64;

// A small JSON document with a fixed key order. Numbers are the shortest decimal that reads back to
// the same float32 (params) or double (metrics); NaN and infinities are written as null.
std::string params_json(const Quantized& q, const Evaluation& e, const RunInfo& info);

// Members, in this order: codes.npy (the codes as they are), scale.npy (float32, param shape),
// zero_point.npy (int32, or float32 for float zero points), dequantized.npy (float32, input shape),
// params.json (UTF-8). Built from export_npz_parts, so a caller holding only the parts (the wasm API
// keeps them in JS) writes the same bytes.
std::vector<uint8_t> export_npz(const Quantized& q, std::span<const float> dequantized, const Evaluation& e,
                                const RunInfo& info);

// The zero_point.npy member of a bundle: int32 for integer zero points (each must be an integral
// float in int32 range), float32 for float zero points; the params' shape. Missing zero points are 0.
Tensor zero_point_tensor(const QuantParams& p);

// The bundle from its parts. Checks what makes a consistent bundle: codes int8/uint8/int16/uint16,
// dequantized float32 with the codes' shape, scale float32, zero_point int32 or float32 with the
// scale's shape; throws qplay::Error naming the part otherwise.
// One more .npy member of a bundle, by its file name inside the zip ("codebook.npy").
struct NpzMember {
  std::string name;
  Tensor tensor;
};

// `extra` members (.npy) follow params.json in order: what extra_members(q) gives.
std::vector<uint8_t> export_npz_parts(const Tensor& codes, const Tensor& scale, const Tensor& zero_point,
                                      const Tensor& dequantized, std::string_view params_json,
                                      const std::vector<NpzMember>& extra = {});

// The members a non-integer or packed run adds after params.json: codebook.npy (float32, [K] or
// [groups, K]) when a table or codebook applies, packed.npy (uint8 bytes, effective_pack order)
// for codes of at most 4 bits (bitsandbytes' own bytes under --profile bnb), scale_e8m0.npy (uint8,
// param shape) for MX; with --double-quant scale_codes.npy (uint8, param shape), scale_super.npy
// (float32, one per 256 scales) and, for bnb, scale_codebook.npy (float32 [256], the dynamic map).
// Empty for plain integer runs.
std::vector<NpzMember> extra_members(const Quantized& q);

// ---- the .safetensors bundle (docs/FORMATS.md) ----------------------------------------------------
// One quantized tensor of a bundle: tensors <name>.codes (as they are), <name>.scale (float32),
// <name>.zero_point (int32 or float32, the scale's shape), and __metadata__["qplay.params.<name>"]
// holding the run's params.json text. Several parts make one file (a whole model quantized).
struct SafetensorsPart {
  std::string name;
  Tensor codes, scale, zero_point;
  std::string params_json;
};

// Checks each part as export_npz_parts does (and that names are unique), then writes the file with
// write_safetensors: header padded to 8 bytes, tensors ordered and aligned as the safetensors library
// orders them.
std::vector<uint8_t> export_safetensors_parts(const std::vector<SafetensorsPart>& parts);

// The bundle of one run; the part is named after info.input_tensor ("array" for a .npy input).
std::vector<uint8_t> export_safetensors(const Quantized& q, const Evaluation& e, const RunInfo& info);

// ---- the .gguf file of a ggml run (docs/FORMATS.md) -------------------------------------------------
// One tensor named after info.input_tensor, of the run's ggml type (--format), holding q.blocks
// as llama.cpp stores them; metadata general.quantization_version = 2 (ggml's GGML_QNT_VERSION)
// and qplay.params = params_json(q, e, info). Any other run is a qplay::Error: GGUF has no type
// for qplay's own integer or element codes.
std::vector<uint8_t> export_gguf(const Quantized& q, const Evaluation& e, const RunInfo& info);
// The same file from its parts (the wasm API keeps them in JS): the tensor's name (empty: "array"),
// numpy shape, ggml type, block bytes and the params.json text.
std::vector<uint8_t> export_gguf_parts(const std::string& name, const Shape& shape, GgmlType type,
                                       const std::vector<uint8_t>& blocks, const std::string& params_json);

// ---- whole-file mode (qplay/wholefile.hpp) ------------------------------------------------------------
// What a whole-file bundle stores per quantized tensor instead of params.json: the settings, the
// params' and codes' shapes and dtypes, but no values or metrics. All of it is known before the
// tensor is quantized, so a streaming writer can put it in the header it writes first.
struct SchemeInfo {
  std::string tensor;
  DType input_dtype = DType::f32;
  Shape shape;
  QuantOptions options;  // after apply_profile
  int axis = 0;          // the plan's normalized axis
  Shape param_shape;
  DType codes_dtype = DType::i8;
  DType zero_point_dtype = DType::i32;
};
std::string scheme_json(const SchemeInfo& s);

}  // namespace qplay
