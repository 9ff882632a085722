// A small strict JSON parser (RFC 8259) for the safetensors header. Ours rather than a library's so
// that its limits are explicit and it is fuzzed with the readers: input must be valid UTF-8, nesting
// is capped, duplicate keys are errors (the safetensors README disallows them), and numbers keep
// their text so integers are read exactly as u64 (a double would round offsets above 2^53).
// Private to core/src/formats.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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
// \n \t \r \b \f or \u00XX, everything else (UTF-8 included) as is.
std::string json_quote(std::string_view s);

}  // namespace qplay::formats
