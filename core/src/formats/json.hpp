// JSON for the core, both ways. Private to core/src (formats, export, whole-file mode).
// Reading: a small strict parser (RFC 8259) for the safetensors header. Ours rather than a
// library's so that its limits are explicit and it is fuzzed with the readers: input must be valid
// UTF-8, nesting is capped, duplicate keys are errors (the safetensors README disallows them), and
// numbers keep their text so integers are read exactly as u64 (a double would round offsets above
// 2^53).
// Writing: JsonWriter, the one writer of every JSON text the core produces (params.json, the
// whole-file report, the safetensors header), so key order, escaping and number spelling are fixed
// and the native CLI and the wasm page give the same bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qplay/numbers.hpp"  // JsonWriter's numbers, and the text of gguf metadata beside its strings

namespace qplay::formats {

struct JsonMember;

struct JsonValue {
  enum Kind { null, boolean, number, string, array, object } kind = null;
  bool flag = false;
  std::string text;  // string: the decoded UTF-8; number: the literal as written
  std::vector<JsonValue> items;                          // array
  std::vector<JsonMember> members;  // object, in document order

  // The member named `key`, or nullptr.
  const JsonValue* find(std::string_view key) const;
};

// A struct rather than std::pair: pair<string, JsonValue> inside JsonValue needs JsonValue complete
// (libstdc++ checks it when clang instantiates pair), a vector of a declared struct does not.
struct JsonMember {
  std::string key;
  JsonValue value;
};

constexpr int kMaxJsonDepth = 64;

// Parses one JSON value; only whitespace may follow it. Throws qplay::Error("<what>: <problem> at
// byte N") with `what` as the prefix (e.g. "safetensors header").
JsonValue parse_json(std::string_view text, const std::string& what);

// A number literal as an exact unsigned 64-bit integer: no sign, fraction or exponent; errors name
// `what` (e.g. "tensor 'w' data_offsets").
uint64_t json_u64(const JsonValue& v, const std::string& what);

// The JSON spelling of a string as serde_json writes it: '"' and '\' escaped, control characters as
// \n \t \r \b \f or \u00XX, everything else (UTF-8 included) as is. With escape_delete, DEL
// (0x7f) is \u007f too, as qplay's own documents write it.
std::string json_quote(std::string_view s, bool escape_delete = false);

// A streaming JSON writer with the key order of the calls. Two layouts:
//  - indented: qplay's documents (params.json, the report): an object's members one per line,
//    indented two spaces a level, arrays on one line ("[1, 2]"), DEL escaped, a final newline;
//  - compact: the safetensors header as the safetensors library writes it (serde_json::to_string):
//    no whitespace at all, only control characters escaped.
// Floats are qplay::shortest_text (numbers.hpp); NaN and infinities are null. Keys are given to
// the calls that add an object member and left empty for array items and the outermost value.
class JsonWriter {
 public:
  enum class Layout { indented, compact };
  explicit JsonWriter(Layout layout = Layout::indented) : layout_(layout) {}

  JsonWriter& begin_object(std::string_view key = {}) { return open(key, '{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array(std::string_view key = {}) { return open(key, '['); }
  JsonWriter& end_array() { return close(']'); }

  JsonWriter& field(std::string_view key, std::string_view v) { return raw(key, quote(v)); }
  JsonWriter& field(std::string_view key, const char* v) { return raw(key, quote(v)); }
  JsonWriter& field(std::string_view key, const std::string& v) { return raw(key, quote(v)); }
  JsonWriter& field(std::string_view key, bool v) { return raw(key, v ? "true" : "false"); }
  JsonWriter& field(std::string_view key, double v) { return raw(key, number(v)); }
  JsonWriter& field(std::string_view key, float v) { return raw(key, number(v)); }
  JsonWriter& field(std::string_view key, int64_t v) { return raw(key, std::to_string(v)); }
  JsonWriter& field(std::string_view key, int v) { return raw(key, std::to_string(v)); }
  JsonWriter& field(std::string_view key, uint64_t v) { return raw(key, std::to_string(v)); }
  JsonWriter& null_field(std::string_view key) { return raw(key, "null"); }

  // An array of integers on its own (a shape).
  JsonWriter& int_array(std::string_view key, std::span<const int64_t> values) {
    begin_array(key);
    for (int64_t v : values) item(v);
    return end_array();
  }

  // Array items.
  JsonWriter& item(std::string_view v) { return raw({}, quote(v)); }
  JsonWriter& item(float v) { return raw({}, number(v)); }
  JsonWriter& item(int64_t v) { return raw({}, std::to_string(v)); }
  JsonWriter& item(uint64_t v) { return raw({}, std::to_string(v)); }

  // The text; the writer is spent afterwards.
  std::string finish();

 private:
  struct Level {
    char close;
    bool empty = true;
  };

  std::string quote(std::string_view s) const { return json_quote(s, layout_ == Layout::indented); }
  static std::string number(double v);
  static std::string number(float v);
  bool in_array() const { return !stack_.empty() && stack_.back().close == ']'; }
  void prefix(std::string_view key);
  JsonWriter& raw(std::string_view key, std::string_view literal);
  JsonWriter& open(std::string_view key, char c);
  JsonWriter& close(char c);
  void new_line();

  Layout layout_;
  std::string out_;
  std::vector<Level> stack_;
};

}  // namespace qplay::formats
