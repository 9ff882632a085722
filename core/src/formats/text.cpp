// Text tables of numbers: CSV, TSV or whitespace-separated, 1-D or 2-D, read the way numpy.loadtxt
// reads them: '#' starts a comment, blank lines are skipped, values become float64 (so decimal text
// rounds once, to double, exactly as np.loadtxt(...).astype(np.float32) does), and a single row or
// column is squeezed to 1-D (a single value to 0-d). Every row must have the same number of values;
// a ragged row is an error naming its line.
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "formats/common.hpp"
#include "qplay/error.hpp"
#include "qplay/formats.hpp"
#include "qplay/numbers.hpp"

namespace qplay::formats {
namespace {

[[noreturn]] void fail(const std::string& message) { throw Error("text: " + message); }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if ((a[i] | 0x20) != b[i]) return false;
  return true;
}

// A decimal number (qplay/numbers.hpp's grammar, '+' allowed) or inf/infinity/nan in any case. The
// grammar is checked first; strtod (correctly rounded in glibc and musl alike, and locale-free in the
// "C" locale both run in) converts it. Hex floats and other strtod extensions are not numbers in a table.
bool parse_number(std::string_view tok, double& out) {
  const size_t sign = !tok.empty() && (tok[0] == '+' || tok[0] == '-') ? 1 : 0;
  const std::string_view body = tok.substr(sign);
  if (iequals(body, "inf") || iequals(body, "infinity") || iequals(body, "nan")) {
    const double v = (body[0] | 0x20) == 'n' ? __builtin_nan("") : __builtin_inf();
    out = tok[0] == '-' ? -v : v;
    return true;
  }
  if (!is_decimal_text(tok, true)) return false;
  char small[64];
  if (tok.size() < sizeof small) {
    std::memcpy(small, tok.data(), tok.size());
    small[tok.size()] = '\0';
    out = std::strtod(small, nullptr);
  } else {
    out = std::strtod(std::string(tok).c_str(), nullptr);
  }
  return true;
}

// The data part of a line: up to a '#' comment and without a trailing '\r'.
std::string_view data_of(std::string_view line) {
  const size_t hash = line.find('#');
  if (hash != std::string_view::npos) line = line.substr(0, hash);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  return line;
}

// Splits a data line into its fields: on commas (fields trimmed) or on runs of blanks (sep == ' ').
void split(std::string_view line, char sep, std::vector<std::string_view>& fields) {
  fields.clear();
  if (sep == ' ') {
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      const size_t start = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
      if (i > start) fields.push_back(line.substr(start, i - start));
    }
    return;
  }
  size_t start = 0;
  for (;;) {
    const size_t end = line.find(sep, start);
    std::string_view f = line.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
    while (!f.empty() && (f.back() == ' ' || f.back() == '\t')) f.remove_suffix(1);
    fields.push_back(f);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
}

std::string_view as_text(std::span<const uint8_t> file) {
  std::string_view s(reinterpret_cast<const char*>(file.data()), file.size());
  if (s.size() >= 3 && s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);  // UTF-8 byte order mark
  return s;
}

struct Table {
  std::vector<double> values;
  size_t rows = 0, cols = 0;
};

Table parse_table(std::span<const uint8_t> file) {
  const std::string_view s = as_text(file);
  Table t;
  char sep = 0;
  size_t first_line = 0;
  std::vector<std::string_view> fields;
  size_t line_no = 0;
  for (size_t pos = 0; pos < s.size();) {
    const size_t nl = s.find('\n', pos);
    const std::string_view line = s.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? s.size() : nl + 1;
    ++line_no;
    const std::string_view data = data_of(line);
    if (data.empty()) continue;
    if (!sep) {
      // Commas make a CSV; otherwise runs of blanks (tabs included, so TSV too) separate values.
      sep = data.find(',') != std::string_view::npos ? ',' : ' ';
      first_line = line_no;
    }
    split(data, sep, fields);
    for (size_t k = 0; k < fields.size(); ++k) {
      double v;
      if (fields[k].empty())
        fail("line " + std::to_string(line_no) + ": empty value in column " + std::to_string(k + 1));
      if (!parse_number(fields[k], v))
        fail("line " + std::to_string(line_no) + ": '" + shown(fields[k], 40) + "' is not a number");
      t.values.push_back(v);
    }
    if (t.rows == 0) {
      t.cols = fields.size();
    } else if (fields.size() != t.cols) {
      fail("line " + std::to_string(line_no) + " has " + std::to_string(fields.size()) + " values, but line " +
           std::to_string(first_line) + " has " + std::to_string(t.cols) + " (every row needs the same count)");
    }
    ++t.rows;
  }
  return t;
}

Shape shape_of(const Table& t) {
  if (t.rows == 1 && t.cols == 1) return {};
  if (t.rows == 1) return {static_cast<int64_t>(t.cols)};
  if (t.cols == 1) return {static_cast<int64_t>(t.rows)};
  return {static_cast<int64_t>(t.rows), static_cast<int64_t>(t.cols)};
}

}  // namespace

bool looks_like_text(std::span<const uint8_t> file, std::string* why_not) {
  for (uint8_t b : file)
    if ((b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b == 0x7f) {
      if (why_not) *why_not = "binary bytes";
      return false;
    }
  const std::string_view s = as_text(file);
  for (size_t pos = 0; pos < s.size();) {
    const size_t nl = s.find('\n', pos);
    const std::string_view line = s.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? s.size() : nl + 1;
    const std::string_view data = data_of(line);
    if (data.empty()) continue;
    const size_t end = data.find_first_of(", \t");
    const std::string_view first = data.substr(0, end);
    double v;
    if (parse_number(first, v)) return true;
    if (why_not) *why_not = "text that does not start with a number: '" + shown(data, 40) + "'";
    return false;
  }
  if (why_not) *why_not = "text without any values";
  return false;
}

FileInfo describe_text(std::span<const uint8_t> file) {
  const Table t = parse_table(file);
  FileInfo info;
  info.format = FileFormat::text;
  TensorInfo ti;
  ti.name = "array";
  ti.dtype = DType::f64;
  ti.shape = shape_of(t);
  ti.stored_type = "text";
  ti.data_bytes = t.values.size() * sizeof(double);
  tensor_bytes(ti.shape, sizeof(double), "text: ");
  info.tensors.push_back(std::move(ti));
  return info;
}

Tensor load_text(std::span<const uint8_t> file) {
  const Table t = parse_table(file);
  Shape shape = shape_of(t);
  tensor_bytes(shape, sizeof(double), "text: ");
  return copy_tensor(DType::f64, std::move(shape), reinterpret_cast<const uint8_t*>(t.values.data()),
                     t.values.size() * sizeof(double));
}

}  // namespace qplay::formats
