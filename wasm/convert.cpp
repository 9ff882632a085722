#include "convert.hpp"

#include <emscripten/val.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace qplay::js {

val success() {
  val r = val::object();
  r.set("ok", true);
  return r;
}

val failure(const std::string& message) {
  val r = val::object();
  r.set("ok", false);
  r.set("error", message);
  return r;
}

std::string js_text(const val& v) { return val::global("String")(v).as<std::string>(); }

std::string js_kind(const val& v) {
  if (v.isNull()) return "null";
  if (v.isUndefined()) return "undefined";
  const std::string type = v.typeOf().as<std::string>();
  if (type != "object") return "a " + type;
  std::string tag = val::global("Object")["prototype"]["toString"].call<std::string>("call", v);
  tag = tag.substr(8, tag.size() - 9);  // "[object Float32Array]" -> "Float32Array"
  const bool vowel = !tag.empty() && std::strchr("AEIOU", tag[0]);
  return (vowel ? "an " : "a ") + tag;
}

bool absent(const val& v) { return v.isUndefined() || v.isNull(); }

bool is_instance(const val& v, const char* ctor) {
  return v.typeOf().as<std::string>() == "object" && v.instanceof(val::global(ctor));
}

std::vector<std::string> keys_of(const val& v, const std::string& what) {
  if (v.typeOf().as<std::string>() != "object" || v.isNull() || v.isArray())
    throw Error(what + " must be an object (got " + js_kind(v) + ")");
  const val keys = val::global("Object").call<val>("keys", v);
  std::vector<std::string> out;
  const int n = keys["length"].as<int>();
  for (int i = 0; i < n; ++i) out.push_back(keys[i].as<std::string>());
  return out;
}

// The view over the heap lives for this one call, and nothing allocates between making and using
// it, so it cannot be detached by memory growth.
void copy_from_js(const val& typed, uint8_t* dst, size_t n) {
  if (n == 0) return;
  const val src = val::global("Uint8Array").new_(typed["buffer"], typed["byteOffset"], typed["byteLength"]);
  val(emscripten::typed_memory_view(n, dst)).call<void>("set", src);
}

std::unique_ptr<uint8_t[]> heap_copy(const val& bytes, size_t& size) {
  if (!is_instance(bytes, "Uint8Array"))
    throw Error("file bytes must be a Uint8Array (got " + js_kind(bytes) + ")");
  const double n = bytes["length"].as<double>();
  if (n > double(std::numeric_limits<size_t>::max() / 2))
    throw Error("a file of " + std::to_string(uint64_t(n)) + " bytes does not fit in the wasm heap (at most 4 GiB)");
  size = static_cast<size_t>(n);
  std::unique_ptr<uint8_t[]> buf(new (std::nothrow) uint8_t[size ? size : 1]);
  if (!buf)
    throw Error("out of memory: a file of " + std::to_string(size) +
                " bytes does not fit in the wasm heap (at most 4 GiB in total)");
  copy_from_js(bytes, buf.get(), size);
  return buf;
}

val copy_to_js(const char* ctor, std::span<const uint8_t> bytes, size_t element_size) {
  val out = val::global(ctor).new_(bytes.size() / element_size);
  if (!bytes.empty())
    val::global("Uint8Array")
        .new_(out["buffer"])
        .call<void>("set", val(emscripten::typed_memory_view(bytes.size(), bytes.data())));
  return out;
}

template <class T> static val values_to_js(const char* ctor, std::span<const T> values) {
  return copy_to_js(ctor, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(values.data()), values.size_bytes()),
                    sizeof(T));
}

val bytes_to_js(std::span<const uint8_t> bytes) { return copy_to_js("Uint8Array", bytes, 1); }

val f32_to_js(std::span<const float> v) { return values_to_js("Float32Array", v); }

val f64_to_js(std::span<const double> v) { return values_to_js("Float64Array", v); }

val u64_to_js(std::span<const uint64_t> v) {
  std::vector<double> d(v.begin(), v.end());
  return f64_to_js(d);
}

namespace {
struct TypedArrayName {
  DType dtype;
  const char* ctor;
};
constexpr TypedArrayName kTypedArrays[] = {
    {DType::i8, "Int8Array"},   {DType::u8, "Uint8Array"},   {DType::i16, "Int16Array"},     {DType::u16, "Uint16Array"},
    {DType::i32, "Int32Array"}, {DType::u32, "Uint32Array"}, {DType::f32, "Float32Array"}, {DType::f64, "Float64Array"},
};
}  // namespace

const char* typed_array_name(DType dtype) {
  for (const auto& t : kTypedArrays)
    if (t.dtype == dtype) return t.ctor;
  return nullptr;
}

std::optional<DType> typed_array_dtype(const val& v) {
  for (const auto& t : kTypedArrays)
    if (is_instance(v, t.ctor)) return t.dtype;
  return std::nullopt;
}

val tensor_to_js(const Tensor& t) {
  const char* ctor = typed_array_name(t.dtype);
  if (!ctor) throw Error("a " + std::string(dtype_name(t.dtype)) + " tensor has no JS typed array");
  return copy_to_js(ctor, t.bytes, dtype_size(t.dtype));
}

val shape_to_js(const Shape& shape) {
  val a = val::array();
  for (int64_t d : shape) a.call<void>("push", double(d));
  return a;
}

Shape shape_from_js(const val& v, const std::string& what) {
  if (!v.isArray()) throw Error(what + " must be an array of non-negative integers (got " + js_kind(v) + ")");
  Shape shape;
  const int n = v["length"].as<int>();
  for (int i = 0; i < n; ++i) {
    const val d = v[i];
    const double x = d.isNumber() ? d.as<double>() : -1;
    if (!(x >= 0 && x == std::floor(x) && x <= 9007199254740991.0))
      throw Error(what + " must be an array of non-negative integers (got " + js_text(d) + " at index " +
                  std::to_string(i) + ")");
    shape.push_back(static_cast<int64_t>(x));
  }
  return shape;
}

std::vector<float> floats_from_js(const val& v, const std::string& what) {
  if (is_instance(v, "Float32Array")) {
    std::vector<float> out(v["length"].as<size_t>());
    copy_from_js(v, reinterpret_cast<uint8_t*>(out.data()), out.size() * sizeof(float));
    return out;
  }
  if (!v.isArray() && !(v.typeOf().as<std::string>() == "object" && val::global("ArrayBuffer").call<bool>("isView", v)))
    throw Error(what + " must be a Float32Array or an array of numbers (got " + js_kind(v) + ")");
  return floats_from_js(val::global("Float32Array").new_(v), what);
}

uint64_t u64_from_js(const val& v, const std::string& what) {
  const double x = v.isNumber() ? v.as<double>() : -1;
  if (!(x >= 0 && x == std::floor(x) && x <= 9007199254740991.0))
    throw Error(what + " must be a non-negative integer (got " + js_text(v) + ")");
  return static_cast<uint64_t>(x);
}

val string_array(const std::vector<std::string>& v) {
  val a = val::array();
  for (const auto& s : v) a.call<void>("push", s);
  return a;
}

std::vector<std::string> strings_from_js(const val& v, const std::string& what) {
  if (!v.isArray()) throw Error(what + " must be an array of strings (got " + js_kind(v) + ")");
  std::vector<std::string> out;
  const int n = v["length"].as<int>();
  for (int i = 0; i < n; ++i) {
    if (!v[i].isString())
      throw Error(what + " must be an array of strings (got " + js_kind(v[i]) + " at index " + std::to_string(i) + ")");
    out.push_back(v[i].as<std::string>());
  }
  return out;
}

std::string string_option(const val& v, const char* flag) {
  if (!v.isString())
    throw Error("invalid value '" + js_text(v) + "' for " + flag + " (expected a string, got " + js_kind(v) + ")");
  return v.as<std::string>();
}

bool bool_option(const val& v, const char* flag) {
  if (v.isTrue()) return true;
  if (v.isFalse()) return false;
  throw Error("invalid value '" + js_text(v) + "' for " + flag + " (expected true or false)");
}

int64_t integer_option(const val& v, const char* flag) {
  const std::string bad = "invalid value '" + js_text(v) + "' for " + flag + " (expected an integer)";
  if (v.isNumber()) {
    const double x = v.as<double>();
    if (!(std::isfinite(x) && x == std::floor(x) && std::fabs(x) <= 9007199254740991.0)) throw Error(bad);
    return static_cast<int64_t>(x);
  }
  if (!v.isString()) throw Error(bad);
  const std::string text = v.as<std::string>();
  int64_t out = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) throw Error(bad);
  return out;
}

}  // namespace qplay::js
