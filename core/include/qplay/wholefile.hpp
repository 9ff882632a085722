// Whole-file mode: every tensor of a model file quantized one at a time, with memory bounded by the
// largest tensor. The pieces are separate so the CLI (pread) and the page (File.slice) drive the same
// core: describe_head (formats.hpp) finds the tensors, plan_whole_file decides what happens to each,
// process_tensor quantizes one from its stored bytes, BundleWriter turns the results into output
// chunks whose offsets are known in advance. docs/FORMATS.md describes the bundles.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qplay/formats.hpp"
#include "qplay/options.hpp"
#include "qplay/tensor.hpp"

namespace qplay {

// Glob over a whole tensor name: '*' any run of characters (dots included), '?' one character.
bool glob_match(std::string_view pattern, std::string_view name);

// A per-tensor override: tensors whose name matches `pattern` are kept as they are (`keep`) or
// quantized with `options`, which replace the base options entirely (unset settings are the
// defaults, not the base's). The first matching rule wins.
struct TensorRule {
  std::string pattern;
  bool keep = false;
  QuantOptions options;  // after apply_profile
};

// What happens to one tensor. Without a matching rule, floating-point tensors of rank >= 2 (weight
// matrices, embeddings, convolutions) are quantized with the base options; 1-D and 0-d tensors
// (norms, biases, scalars) and integer or bool tensors are kept unchanged, as llama.cpp and the
// usual weight-only recipes do. A rule can quantize a 1-D float tensor; integer and bool tensors
// are always kept.
struct TensorPlan {
  TensorInfo input;
  bool quantize = false;
  std::string why;             // "default", "1-D", "integer", "rule 'PATTERN'"
  QuantOptions options;        // when quantized
  int axis = 0;                // the granularity plan's axis
  DType codes_dtype = DType::i8;
  Shape param_shape;
  DType zero_point_dtype = DType::i32;
  std::string scheme;          // short text for the report: "int4 block:32", "nf4 block:64"
  std::string scheme_json;     // what the bundle stores for it (export.hpp scheme_json)
};

struct WholeFilePlan {
  std::vector<TensorPlan> tensors;  // in the input file's order
};

// Errors name the tensor: a quantized gguf tensor (nothing to re-quantize from), options that do
// not fit its shape (axis, group or block size).
WholeFilePlan plan_whole_file(const FileInfo& file, const QuantOptions& base, std::span<const TensorRule> rules = {});
// One tensor's plan: quantized with `options`, or kept when it is null; `why` goes to the plan as is.
// What plan_whole_file does per tensor, and how a caller holding a plan entry elsewhere (the page's
// workers) rebuilds it.
TensorPlan plan_tensor(const TensorInfo& t, const QuantOptions* options, std::string why);

// One row of the report.
struct TensorReport {
  std::string name;
  Shape shape;
  DType dtype = DType::f32;  // as stored in the input
  bool quantized = false;
  std::string scheme;        // "kept" for kept tensors
  int64_t params = 0;        // scale values (0 when kept)
  double mse = 0, sqnr_db = 0, max_abs_error = 0, bits_per_element = 0;
  uint64_t bytes_before = 0;  // stored in the input
  uint64_t bytes_after = 0;   // written to the output (codes + scale + zero point, or the tensor)
};

// The per-tensor report: CSV with a header row (shape as 4096x11008, empty metrics for kept
// tensors, nan/inf spelled out) and JSON {"tensors": [...]} (non-finite metrics as null).
std::string report_csv_header();
std::string report_csv_row(const TensorReport& r);
std::string report_json(const std::vector<TensorReport>& rows);

// One tensor's part of the output.
struct TensorOutput {
  TensorReport report;
  Tensor kept;                      // kept tensors: the tensor as decoded (little-endian C order)
  Tensor codes, scale, zero_point;  // quantized tensors
  std::vector<uint8_t> blocks;      // ggml formats (--format): the tensor as llama.cpp stores it
};

// Quantizes (or keeps) one tensor from its stored bytes, file[data_offset, + data_bytes), or from
// the tensor already decoded (deflated .npz members). Dynamic params only: each tensor's own range.
// Errors are prefixed with "tensor 'NAME': ".
TensorOutput process_tensor(const TensorPlan& plan, std::span<const uint8_t> stored);
// decode_tensor with errors naming the tensor: a caller that wants the stored bytes freed before
// quantizing decodes first, then passes the tensor on.
Tensor decode_planned(const TensorPlan& plan, std::span<const uint8_t> stored);
TensorOutput process_tensor(const TensorPlan& plan, Tensor decoded);

// ---- the output ---------------------------------------------------------------------------------
// .safetensors: a quantized tensor NAME becomes NAME.codes, NAME.scale, NAME.zero_point with
// __metadata__["qplay.params.NAME"] = its scheme_json; a kept tensor is written under its own name,
// unchanged. The header is computed from the plan before any tensor is processed; each tensor's
// data then goes to offsets fixed by it, in whatever order tensors finish. The bytes equal
// export_safetensors_parts / write_safetensors for the same tensors.
// .npz (stored zip): members NAME.codes.npy, NAME.scale.npy, NAME.zero_point.npy, NAME.params.json
// (the scheme_json) per quantized tensor and NAME.npy per kept one, in the order tensors are added;
// finish() adds the central directory.
// .gguf (ggml's v3 writer, formats.hpp gguf_layout): each quantized tensor NAME of a ggml --format
// as its blocks under its own name and type (Q4_K...), kept tensors as F32/F16/BF16, metadata
// general.quantization_version = 2 and qplay.params.NAME = the scheme JSON; tensors in input order,
// offsets fixed by the header as for safetensors. Only ggml formats can be stored (GGUF has no type
// for qplay's own codes), and the input's gguf metadata is not carried over.
enum class BundleFormat { safetensors, npz, gguf };
BundleFormat bundle_format_for(std::string_view output_name);  // by the extension; .npz otherwise
// A format by its name, the extension without the dot ("safetensors", "npz", "gguf"); qplay::Error
// naming the supported ones for any other name.
BundleFormat parse_bundle_format(std::string_view name);

struct OutputChunk {
  uint64_t offset = 0;  // where the bytes go in the output file
  std::vector<uint8_t> bytes;
};

class BundleWriter {
 public:
  BundleWriter(BundleFormat format, const WholeFilePlan& plan);
  BundleFormat format() const { return format_; }
  // The safetensors header (offset 0); empty for .npz.
  OutputChunk header() const;
  // The output's size when known in advance (safetensors), else nullopt.
  std::optional<uint64_t> total_size() const;
  // A tensor's chunks; checks that it belongs to the plan, comes once, and matches the predicted
  // dtypes and shapes.
  std::vector<OutputChunk> add(const std::string& name, const TensorOutput& out);
  // .npz: the central directory; safetensors: empty. Checks every tensor of the plan came.
  OutputChunk finish();

 private:
  struct Slot {
    uint64_t offset = 0, bytes = 0;
  };
  BundleFormat format_;
  std::map<std::string, TensorPlan> plans_;  // by input name (a copy: the writer outlives no caller state)
  std::map<std::string, bool> added_;
  SafetensorsLayout layout_;
  GgufLayout gguf_;
  std::map<std::string, Slot> slots_;  // safetensors: output tensor name -> place
  ZipStreamWriter zip_;
};

}  // namespace qplay
