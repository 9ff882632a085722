// Conversions between JS values and core types, shared by every binding file. Rules at this boundary:
//  - every call returns {ok: true, ...} or {ok: false, error}: no C++ exception crosses (guarded);
//  - input bytes are copied into the heap once; outputs are copied into JS-owned typed arrays before
//    the C++ buffers die, so nothing handed to JS views the heap (it moves when memory grows).
#pragma once

#include <emscripten/val.h>

#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "qplay/error.hpp"
#include "qplay/tensor.hpp"

namespace qplay::js {

using emscripten::val;

// ---- {ok, error} ---------------------------------------------------------------------------------

val success();
val failure(const std::string& message);

// Runs a binding body; any C++ exception becomes {ok: false, error}.
template <class F> val guarded(F&& body) {
  try {
    return body();
  } catch (const Error& e) {
    return failure(e.what());
  } catch (const std::bad_alloc&) {
    return failure("out of memory (the wasm heap holds at most 4 GiB; try a smaller tensor)");
  } catch (const std::exception& e) {
    return failure(std::string("internal error: ") + e.what());
  }
}

// Errors about one file name it, as the CLI does ("x.npy: .npy: bad magic ...").
template <class F> auto about_file(const std::string& file, F&& body) {
  try {
    return body();
  } catch (const Error& e) {
    const std::string m = e.what();
    if (file.empty() || m.find("'" + file + "'") != std::string::npos) throw;
    throw Error(file + ": " + m);
  }
}

// ---- what a JS value is --------------------------------------------------------------------------

std::string js_text(const val& v);  // String(v)
std::string js_kind(const val& v);  // "a Float32Array", "an Array", "a number": for messages
bool absent(const val& v);          // undefined or null
bool is_instance(const val& v, const char* ctor);
// Object.keys(v), after checking v is a plain object.
std::vector<std::string> keys_of(const val& v, const std::string& what);

// ---- bytes in and out ----------------------------------------------------------------------------

// Copies n bytes of a typed array into heap memory at dst.
void copy_from_js(const val& typed, uint8_t* dst, size_t n);
// One copy of a JS Uint8Array into a new heap buffer (not zero-filled first); size receives its length.
std::unique_ptr<uint8_t[]> heap_copy(const val& bytes, size_t& size);

// A new JS-owned typed array (`ctor`) holding a copy of `bytes`.
val copy_to_js(const char* ctor, std::span<const uint8_t> bytes, size_t element_size);
val bytes_to_js(std::span<const uint8_t> bytes);  // a Uint8Array
val f32_to_js(std::span<const float> v);
val f64_to_js(std::span<const double> v);
val u64_to_js(std::span<const uint64_t> v);  // as a Float64Array: counts stay exact below 2^53

// The JS typed array of a dtype ("Float32Array"), or nullptr when it has none (f16, bool, 64-bit ints).
const char* typed_array_name(DType dtype);
// The dtype of a typed array value, or nullopt for anything else.
std::optional<DType> typed_array_dtype(const val& v);
// A tensor (codes, params, a bundle member) as the matching JS typed array.
val tensor_to_js(const Tensor& t);

// ---- shapes, numbers, strings --------------------------------------------------------------------

val shape_to_js(const Shape& shape);
// An array of non-negative integers (a shape).
Shape shape_from_js(const val& v, const std::string& what);
// A Float32Array or any array of numbers, as float32 values (a Float32Array is copied bit for bit).
std::vector<float> floats_from_js(const val& v, const std::string& what);
// A non-negative integer JS number (exact below 2^53).
uint64_t u64_from_js(const val& v, const std::string& what);
val string_array(const std::vector<std::string>& v);
std::vector<std::string> strings_from_js(const val& v, const std::string& what);

// Option values, with the CLI's messages naming `flag`.
std::string string_option(const val& v, const char* flag);
bool bool_option(const val& v, const char* flag);
int64_t integer_option(const val& v, const char* flag);  // a JS number or the CLI's text

}  // namespace qplay::js
