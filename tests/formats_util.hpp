// Helpers shared by the suites that read files: fixtures from tests/data (written by
// scripts/make_fixtures.py) and typed views of tensor bytes; test_util.hpp's error_of comes along.
#pragma once

#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qplay/tensor.hpp"
#include "test_util.hpp"

namespace qplay_test {

inline std::vector<uint8_t> fixture(const std::string& name) {
  std::ifstream f(std::string(QPLAY_TEST_DATA) + "/" + name, std::ios::binary);
  REQUIRE_MESSAGE(f.good(), "missing fixture " << name << " (run /usr/bin/python3 scripts/make_fixtures.py)");
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

inline std::vector<uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

template <class T> std::vector<T> values(const qplay::Tensor& t) {
  REQUIRE(t.bytes.size() % sizeof(T) == 0);
  std::vector<T> v(t.bytes.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
  return v;
}

// True when `message` contains `part` and is one line (the contract for every reader error).
inline bool says(const std::string& message, std::string_view part) {
  return message.find(part) != std::string::npos && message.find('\n') == std::string::npos;
}

// Each (fixture, expected part) case: `read` of the fixture's bytes throws a one-line error that
// contains the part.
using FixtureError = std::pair<const char*, const char*>;
template <class Read> void check_fixture_errors(std::span<const FixtureError> cases, Read read) {
  for (const FixtureError& c : cases) {  // no structured binding: CAPTURE's lambda cannot see one in clang 14
    const char* name = c.first;
    const char* expected = c.second;
    CAPTURE(name);
    const std::vector<uint8_t> file = fixture(name);
    CHECK(says(error_of([&] { read(file); }), expected));
  }
}

}  // namespace qplay_test
