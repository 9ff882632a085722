// The file of the last openFile (kept in the heap until closeFile or the next openFile) and the
// inputs of quantize and calibrate: a tensor of that file, JS values, or a whole calibration file.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "convert.hpp"
#include "qplay/formats.hpp"
#include "qplay/tensor.hpp"

namespace qplay::js {

// A float32 tensor for the core and what RunInfo records about it. `view` points into the open file
// or a calibration file's heap copy (read in place), into `tensor` (decoded float32) or `converted`.
struct Input {
  std::string name;
  DType dtype = DType::f32;
  Shape shape;
  Tensor tensor;
  std::vector<float> converted;
  std::unique_ptr<uint8_t[]> file;  // a calibration file's bytes, while views point into them
  TensorViewF32 view;
};

// openFile(bytes, fileName, raw) -> {ok, tensors: [{name, dtype, shape}]}.
val open_file(val bytes, std::string name, val raw);
void close_file();
// tensorValues(name, fileName) -> {ok, values: Float32Array}.
val tensor_values(std::string name, std::string file_name);

// A source spec from the JS layer: {tensor} (a tensor of the open file), {values, shape, name} or
// {bytes} (a whole file, for calibration). `wanted` names the tensor (empty: the first); with
// `any_single` a file of one tensor gives it whatever `wanted` says; `file_name` names it in messages.
void load_input(Input& in, const val& spec, const std::string& wanted, bool any_single, const std::string& file_name);

}  // namespace qplay::js
