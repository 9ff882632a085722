// The strict JSON parser behind the safetensors header and the writer of the core's JSON texts
// (see json.hpp for the rules of both).
#include "formats/json.hpp"

#include <cmath>
#include <cstdint>
#include <set>

#include "formats/common.hpp"
#include "qplay/error.hpp"
#include "qplay/numbers.hpp"

namespace qplay::formats {

const JsonValue* JsonValue::find(std::string_view key) const {
  for (const auto& m : members)
    if (m.key == key) return &m.value;
  return nullptr;
}

namespace {

class Parser {
 public:
  Parser(std::string_view s, const std::string& what) : s_(s), what_(what) {}

  JsonValue document() {
    check_utf8();
    skip_ws();
    JsonValue v = value(0);
    skip_ws();
    if (i_ != s_.size()) fail("unexpected text after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw Error(what_ + ": " + problem + " at byte " + std::to_string(i_));
  }

  // RFC 3629 UTF-8: no overlongs, no surrogates, nothing above U+10FFFF. Checked once up front so
  // strings can be copied byte for byte afterwards.
  void check_utf8() {
    const auto* p = reinterpret_cast<const unsigned char*>(s_.data());
    const size_t n = s_.size();
    for (size_t k = 0; k < n;) {
      const unsigned c = p[k];
      size_t len = 0;
      unsigned lo = 0x80, hi = 0xbf;  // allowed range of the second byte
      if (c < 0x80) { ++k; continue; }
      if (c >= 0xc2 && c <= 0xdf) len = 2;
      else if (c == 0xe0) len = 3, lo = 0xa0;
      else if (c == 0xed) len = 3, hi = 0x9f;
      else if (c >= 0xe1 && c <= 0xef) len = 3;
      else if (c == 0xf0) len = 4, lo = 0x90;
      else if (c >= 0xf1 && c <= 0xf3) len = 4;
      else if (c == 0xf4) len = 4, hi = 0x8f;
      if (len == 0 || n - k < len || p[k + 1] < lo || p[k + 1] > hi) {
        i_ = k;
        fail("invalid UTF-8");
      }
      for (size_t j = 2; j < len; ++j)
        if ((p[k + j] & 0xc0) != 0x80) {
          i_ = k;
          fail("invalid UTF-8");
        }
      k += len;
    }
  }

  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool at_end() const { return i_ >= s_.size(); }

  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }

  void literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) fail("invalid literal");
    i_ += word.size();
  }

  JsonValue value(int depth) {
    if (at_end()) fail("unexpected end of JSON");
    JsonValue v;
    switch (peek()) {
      case '{': return object(depth + 1);
      case '[': return array(depth + 1);
      case '"':
        v.kind = JsonValue::string;
        v.text = string();
        return v;
      case 't': literal("true"), v.kind = JsonValue::boolean, v.flag = true; return v;
      case 'f': literal("false"), v.kind = JsonValue::boolean; return v;
      case 'n': literal("null"); return v;
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return number();
        fail(std::string("unexpected character '") + shown(s_.substr(i_, 1)) + "'");
    }
  }

  void enter(int depth) {
    if (depth > kMaxJsonDepth) fail("nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }

  JsonValue object(int depth) {
    enter(depth);
    ++i_;  // '{'
    JsonValue v;
    v.kind = JsonValue::object;
    std::set<std::string> keys;
    skip_ws();
    if (peek() == '}') { ++i_; return v; }
    for (;;) {
      skip_ws();
      if (peek() != '"') fail("expected a string key");
      const size_t key_at = i_;
      std::string key = string();
      skip_ws();
      if (peek() != ':') fail("expected ':' after a key");
      ++i_;
      skip_ws();
      JsonValue member = value(depth);
      v.members.push_back({std::move(key), std::move(member)});
      if (!keys.insert(v.members.back().key).second) {
        i_ = key_at;
        fail("duplicate key \"" + shown(v.members.back().key) + "\"");
      }
      skip_ws();
      if (peek() == ',') { ++i_; continue; }
      if (peek() == '}') { ++i_; break; }
      fail(at_end() ? "unexpected end of JSON" : "expected ',' or '}'");
    }
    return v;
  }

  JsonValue array(int depth) {
    enter(depth);
    ++i_;  // '['
    JsonValue v;
    v.kind = JsonValue::array;
    skip_ws();
    if (peek() == ']') { ++i_; return v; }
    for (;;) {
      skip_ws();
      v.items.push_back(value(depth));
      skip_ws();
      if (peek() == ',') { ++i_; continue; }
      if (peek() == ']') { ++i_; break; }
      fail(at_end() ? "unexpected end of JSON" : "expected ',' or ']'");
    }
    return v;
  }

  unsigned hex4() {
    if (s_.size() - i_ < 4) fail("truncated \\u escape");
    unsigned u = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      u <<= 4;
      if (c >= '0' && c <= '9') u |= unsigned(c - '0');
      else if (c >= 'a' && c <= 'f') u |= unsigned(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') u |= unsigned(c - 'A' + 10);
      else fail("invalid \\u escape");
    }
    return u;
  }

  static void put_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xc0 | cp >> 6), out += char(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += char(0xe0 | cp >> 12), out += char(0x80 | ((cp >> 6) & 0x3f)), out += char(0x80 | (cp & 0x3f));
    } else {
      out += char(0xf0 | cp >> 18), out += char(0x80 | ((cp >> 12) & 0x3f));
      out += char(0x80 | ((cp >> 6) & 0x3f)), out += char(0x80 | (cp & 0x3f));
    }
  }

  std::string string() {
    ++i_;  // opening quote
    std::string out;
    for (;;) {
      if (at_end()) fail("unterminated string");
      const char c = s_[i_];
      if (c == '"') { ++i_; return out; }
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (c != '\\') { out += c; ++i_; continue; }
      ++i_;
      if (at_end()) fail("unterminated string");
      const char e = s_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xdc00 && cp <= 0xdfff) fail("lone low surrogate in a \\u escape");
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (s_.substr(i_, 2) != "\\u") fail("high surrogate without its low half");
            i_ += 2;
            const uint32_t low = hex4();
            if (low < 0xdc00 || low > 0xdfff) fail("high surrogate without its low half");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          }
          put_utf8(out, cp);
          break;
        }
        default: --i_; fail("invalid escape");
      }
    }
  }

  JsonValue number() {
    const size_t start = i_;
    if (peek() == '-') ++i_;
    if (peek() == '0') {
      ++i_;
    } else if (peek() >= '1' && peek() <= '9') {
      while (peek() >= '0' && peek() <= '9') ++i_;
    } else {
      fail("invalid number");
    }
    if (peek() == '.') {
      ++i_;
      if (!(peek() >= '0' && peek() <= '9')) fail("invalid number");
      while (peek() >= '0' && peek() <= '9') ++i_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++i_;
      if (peek() == '+' || peek() == '-') ++i_;
      if (!(peek() >= '0' && peek() <= '9')) fail("invalid number");
      while (peek() >= '0' && peek() <= '9') ++i_;
    }
    JsonValue v;
    v.kind = JsonValue::number;
    v.text = std::string(s_.substr(start, i_ - start));
    return v;
  }

  std::string_view s_;
  const std::string& what_;
  size_t i_ = 0;
};

}  // namespace

JsonValue parse_json(std::string_view text, const std::string& what) { return Parser(text, what).document(); }

uint64_t json_u64(const JsonValue& v, const std::string& what) {
  if (v.kind != JsonValue::number) throw Error(what + " must be a non-negative integer");
  uint64_t n = 0;
  for (char c : v.text) {
    if (c < '0' || c > '9') throw Error(what + " must be a non-negative integer, not " + shown(v.text, 40));
    if (n > (UINT64_MAX - uint64_t(c - '0')) / 10) throw Error(what + " " + shown(v.text, 40) + " does not fit in 64 bits");
    n = n * 10 + uint64_t(c - '0');
  }
  return n;
}

std::string json_quote(std::string_view s, bool escape_delete) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string q = "\"";
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': q += "\\\""; break;
      case '\\': q += "\\\\"; break;
      case '\n': q += "\\n"; break;
      case '\r': q += "\\r"; break;
      case '\t': q += "\\t"; break;
      case '\b': q += "\\b"; break;
      case '\f': q += "\\f"; break;
      default:
        if (c < 0x20 || (c == 0x7f && escape_delete)) {
          q += "\\u00";
          q += kHex[c >> 4];
          q += kHex[c & 0xf];
        } else {
          q += ch;  // UTF-8 passes through unchanged
        }
    }
  }
  return q + "\"";
}

// ---- JsonWriter ---------------------------------------------------------------------------------

std::string JsonWriter::number(double v) { return std::isfinite(v) ? shortest_text(v) : "null"; }
std::string JsonWriter::number(float v) { return std::isfinite(v) ? shortest_text(v) : "null"; }

void JsonWriter::new_line() {
  if (layout_ == Layout::indented) {
    out_ += '\n';
    out_.append(2 * stack_.size(), ' ');
  }
}

// The separator before a value and, inside an object, its key.
void JsonWriter::prefix(std::string_view key) {
  const bool compact = layout_ == Layout::compact;
  if (!stack_.empty()) {
    Level& top = stack_.back();
    if (!top.empty) out_ += in_array() && !compact ? ", " : ",";
    top.empty = false;
    if (!in_array()) new_line();
  }
  if (!key.empty() || (!stack_.empty() && !in_array())) out_ += quote(key) + (compact ? ":" : ": ");
}

JsonWriter& JsonWriter::raw(std::string_view key, std::string_view literal) {
  prefix(key);
  out_ += literal;
  return *this;
}

JsonWriter& JsonWriter::open(std::string_view key, char c) {
  prefix(key);
  out_ += c;
  stack_.push_back({c == '{' ? '}' : ']'});
  return *this;
}

JsonWriter& JsonWriter::close(char c) {
  if (stack_.empty() || stack_.back().close != c)
    throw Error(std::string("JSON writer: '") + c + "' closes " + (stack_.empty() ? "nothing" : "another bracket"));
  const bool was_empty = stack_.back().empty;
  stack_.pop_back();
  if (c == '}' && !was_empty) new_line();
  out_ += c;
  return *this;
}

std::string JsonWriter::finish() {
  if (!stack_.empty()) throw Error("JSON writer: " + std::to_string(stack_.size()) + " brackets left open");
  return layout_ == Layout::indented ? std::move(out_) + "\n" : std::move(out_);
}

}  // namespace qplay::formats
