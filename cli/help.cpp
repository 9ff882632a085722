// `qplay --help`: fixed prose around the option sections the core generates from its table.
#include "cli.hpp"

namespace qplay::cli {

std::string help_text() {
  static constexpr const char* kUsage = R"(qplay - quantization playground, command-line tool

usage:
  qplay quantize INPUT -o OUT.npz [options]
  qplay quantize INPUT -o OUT.safetensors [options]
  qplay quantize INPUT --format F -o OUT.gguf [options]
  qplay quantize MODEL --all -o OUT.safetensors|OUT.npz|OUT.gguf [--report R.csv] [--override ...] [options]
  qplay info FILE [raw options]
  qplay help | --help
  qplay --version

INPUT and FILE are .npy, .npz, .safetensors, .gguf (F32/F16/BF16 and the --format types, decoded
to float32) or text tables of numbers (CSV, TSV, whitespace); the format is read from the bytes,
not the name. A .npy, raw or text file holds one tensor, named "array". info also lists
safetensors metadata and gguf types.

)";
  static constexpr const char* kNotes = R"(
outputs: OUT.npz holds codes.npy, scale.npy, zero_point.npy, dequantized.npy, params.json (ggml
runs add blocks.npy, offset.npy); OUT.safetensors NAME.codes, NAME.scale, NAME.zero_point and the
params in __metadata__; OUT.gguf (with --format) one GGUF v3 tensor named after the input tensor,
params.json under the key qplay.params.

whole-file mode: --all copies 1-D/0-d tensors (norms, biases) and integer/bool tensors unchanged.
OUT.safetensors holds NAME.codes, NAME.scale, NAME.zero_point per quantized tensor (scheme in
__metadata__ qplay.params.NAME) and kept tensors under their own name; OUT.gguf (with --format,
e.g. --format q4_k) each tensor's ggml blocks under its own name, kept tensors as F32/F16/BF16;
any other name an .npz with NAME.codes.npy, NAME.scale.npy, NAME.zero_point.npy,
NAME.params.json, NAME.npy (kept). Memory is bounded by the largest tensor. A progress line goes
to stderr when it is a terminal.

exit codes: 0 ok, 1 file or data error, 2 bad command line
)";
  return kUsage + options_help() + kNotes;
}

}  // namespace qplay::cli
