#include "open_file.hpp"

#include <string>
#include <utility>

#include "options.hpp"
#include "qplay/formats.hpp"

namespace qplay::js {

namespace {

// The file of the last openFile, kept in the heap until closeFile or the next openFile; tensors read
// from it in place where the format allows (npy_f32_view).
struct OpenFile {
  std::unique_ptr<uint8_t[]> bytes;
  size_t size = 0;
  std::string name;
  std::vector<TensorInfo> tensors;
  ReadOptions read;  // raw input: how to read the bytes
  std::span<const uint8_t> span() const { return {bytes.get(), size}; }
};
OpenFile g_open;

val tensor_infos_to_js(const std::vector<TensorInfo>& infos) {
  val list = val::array();
  for (const auto& t : infos) {
    val e = val::object();
    e.set("name", t.name);
    e.set("dtype", std::string(dtype_name(t.dtype)));
    e.set("shape", shape_to_js(t.shape));
    list.call<void>("push", e);
  }
  return list;
}

// A tensor of a file as the CLI's load() picks it: `wanted` or the first tensor; `any_single`: a file
// with one tensor gives it whatever `wanted` says (calibration files).
void load_from_file(Input& in, std::span<const uint8_t> file, const std::vector<TensorInfo>& infos,
                    const std::string& wanted, bool any_single, const ReadOptions& read = {}) {
  if (infos.empty()) throw Error("holds no tensors");
  const bool pick_only = any_single && infos.size() == 1;
  in.name = wanted.empty() || pick_only ? infos[0].name : wanted;
  const std::string want = pick_only ? std::string() : wanted;
  if ((want.empty() || want == "array") && !read.raw) {
    if (const std::optional<TensorViewF32> v = npy_f32_view(file)) {
      in.view = *v;
      in.shape = v->shape;
      return;
    }
  }
  in.tensor = load_tensor(file, want, read);
  in.dtype = in.tensor.dtype;
  in.shape = in.tensor.shape;
  if (in.tensor.dtype == DType::f32) {
    in.view = {in.shape, {in.tensor.data<float>(), in.tensor.bytes.size() / sizeof(float)}};
  } else {
    in.converted = to_f32(in.tensor);
    in.tensor = Tensor{};
    in.view = {in.shape, in.converted};
  }
}

}  // namespace

void close_file() { g_open = OpenFile{}; }

// openFile(bytes, fileName, raw) -> {ok, tensors: [{name, dtype, shape}]}; raw {dtype, shape, offset,
// endian} reads the bytes as raw binary (the CLI's --raw-* flags).
val open_file(val bytes, std::string name, val raw) {
  return guarded([&] {
    close_file();  // release the previous file before the next one is allocated
    OpenFile f;
    f.name = std::move(name);
    f.read.raw = raw_from_js(raw);
    f.bytes = heap_copy(bytes, f.size);
    f.tensors = about_file(f.name, [&] { return list_tensors(f.span(), f.read); });
    g_open = std::move(f);
    val r = success();
    r.set("tensors", tensor_infos_to_js(g_open.tensors));
    return r;
  });
}

// A source spec from the JS layer: {tensor} (a tensor of the open file), {values, shape, name} or
// {bytes} (a whole file, for calibration). `file_name` names the file in messages.
void load_input(Input& in, const val& spec, const std::string& wanted, bool any_single, const std::string& file_name) {
  if (!absent(spec["values"])) {
    const val values = spec["values"];
    if (!is_instance(values, "Float32Array"))
      throw Error("values must be a Float32Array (got " + js_kind(values) + ")");
    in.converted.resize(values["length"].as<size_t>());
    copy_from_js(values, reinterpret_cast<uint8_t*>(in.converted.data()), in.converted.size() * sizeof(float));
    in.shape = absent(spec["shape"]) ? Shape{static_cast<int64_t>(in.converted.size())}
                                     : shape_from_js(spec["shape"], "shape");
    if (shape_elements(in.shape) != static_cast<int64_t>(in.converted.size()))
      throw Error("shape " + shape_to_string(in.shape) + " does not match " + std::to_string(in.converted.size()) +
                  " values");
    in.name = absent(spec["name"]) ? "array" : string_option(spec["name"], "name");
    in.view = {in.shape, in.converted};
    return;
  }
  if (!absent(spec["bytes"])) {
    size_t size = 0;
    in.file = heap_copy(spec["bytes"], size);
    const std::span<const uint8_t> file(in.file.get(), size);
    about_file(file_name, [&] { load_from_file(in, file, list_tensors(file), wanted, any_single); });
    return;
  }
  if (!g_open.bytes) throw Error("no file is open: call open(bytes) first, or pass {values, shape}");
  about_file(file_name, [&] { load_from_file(in, g_open.span(), g_open.tensors, wanted, any_single, g_open.read); });
}

// tensorValues(name, fileName) -> {ok, values: Float32Array}: a tensor of the open file as float32.
val tensor_values(std::string name, std::string file_name) {
  return guarded([&] {
    Input in;
    val spec = val::object();
    spec.set("tensor", name);
    load_input(in, spec, name, false, file_name);
    val r = success();
    r.set("values", f32_to_js(in.view.values));
    return r;
  });
}

}  // namespace qplay::js
