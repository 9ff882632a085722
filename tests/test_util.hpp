// Helpers shared by the doctest suites: float bits, the deterministic input generators (splitmix64,
// an LCG), an FNV digest, the message of a thrown qplay::Error, and the guarded buffers and
// failure reports of the SIMD == scalar equivalence tests. Header-only, in namespace qplay_test.
#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "qplay/bits.hpp"
#include "qplay/error.hpp"

namespace qplay_test {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

inline uint32_t bits_of(float f) { return qplay::bit_cast<uint32_t>(f); }
inline uint64_t bits_of(double d) { return qplay::bit_cast<uint64_t>(d); }
inline float float_from_bits(uint32_t u) { return qplay::bit_cast<float>(u); }

// splitmix64: the same inputs on every platform (tests/ggml_rows.h is the same generator in C, for
// the fixture generator that shares it).
struct Rng {
  uint64_t state;
  explicit Rng(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint32_t below(uint32_t n) { return uint32_t(next() % n); }
  float unit() { return float(next() >> 40) * 0x1p-24f; }  // [0, 1) on a 2^-24 grid
  float uniform(float lo, float hi) { return lo + (hi - lo) * float(next() >> 40) * 0x1p-24f; }
};

// n values whose magnitude bound cycles 1, 2, .. period with the position (a 32-bit LCG: no
// <random>, so identical natively and in wasm).
inline std::vector<float> lcg_values(size_t n, uint32_t seed, int period) {
  std::vector<float> v(n);
  uint32_t s = seed;
  for (size_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    v[i] = (float(int32_t(s >> 8) - (1 << 23)) / float(1 << 23)) * float(1 + int(i % size_t(period)));
  }
  return v;
}

// FNV-1a over bytes: a digest to pin a long output against a reference in one number.
inline uint64_t fnv1a(const void* data, size_t n) {
  uint64_t h = 0xCBF29CE484222325ull;
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001B3ull;
  return h;
}
template <class T> uint64_t fnv1a(const std::vector<T>& v) { return fnv1a(v.data(), v.size() * sizeof(T)); }

// The message of the qplay::Error that f throws ("" when it does not throw).
template <class F> std::string error_of(F&& f) {
  try {
    f();
  } catch (const qplay::Error& e) {
    return e.what();
  }
  return "";
}

// ---- SIMD == scalar equivalence -----------------------------------------------------------------

// Sizes around the vector steps (4 floats, 16 bytes) and starts past a 16-byte boundary.
constexpr size_t kSizes[] = {0, 1, 3, 4, 5, 15, 16, 17, 31, 33, 1023};
constexpr size_t kOffsets[] = {0, 1, 2, 3};

// n elements of T starting `offset` elements past a 16-byte boundary, between guards of sentinel
// bytes, so a kernel that reads misaligned or writes one byte too far is caught.
template <class T> class Guarded {
 public:
  static constexpr size_t kGuardBytes = 64;
  static constexpr unsigned char kSentinel = 0xA5;

  Guarded(size_t n, size_t offset) : n_(n), storage_((n + offset) * sizeof(T) + 2 * kGuardBytes + 16, kSentinel) {
    size_t skip = 0;
    while ((reinterpret_cast<uintptr_t>(storage_.data()) + skip) % 16 != 0) ++skip;
    data_ = reinterpret_cast<T*>(storage_.data() + skip + kGuardBytes + offset * sizeof(T));
  }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return n_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

  bool guards_intact() const {
    const auto* first = reinterpret_cast<const unsigned char*>(data_);
    const auto* last = reinterpret_cast<const unsigned char*>(data_ + n_);
    for (const unsigned char* p = storage_.data(); p < first; ++p)
      if (*p != kSentinel) return false;
    for (const unsigned char* p = last; p < storage_.data() + storage_.size(); ++p)
      if (*p != kSentinel) return false;
    return true;
  }
  bool same_bytes(const Guarded& other) const {
    return n_ == other.n_ && (n_ == 0 || std::memcmp(data_, other.data_, n_ * sizeof(T)) == 0);
  }
  // Index of the first element whose bytes differ, or n.
  size_t first_difference(const Guarded& other) const {
    for (size_t i = 0; i < n_; ++i)
      if (std::memcmp(data_ + i, other.data_ + i, sizeof(T)) != 0) return i;
    return n_;
  }

 private:
  size_t n_;
  std::vector<unsigned char> storage_;
  T* data_;
};

template <class T> Guarded<T> guarded_copy(const std::vector<T>& v, size_t offset) {
  Guarded<T> g(v.size(), offset);
  if (!v.empty()) std::memcpy(g.data(), v.data(), v.size() * sizeof(T));
  return g;
}

// The failures of one group of equivalence cases, reported as one assertion with the first
// failure's description.
struct Report {
  size_t cases = 0;
  size_t failures = 0;
  std::string first;
  void fail(const std::string& what) {
    if (failures++ == 0) first = what;
  }
};

// More than `min_cases` cases ran (the loops were not empty) and none failed.
inline void check_report(const Report& report, size_t min_cases) {
  CHECK(report.cases > min_cases);
  CHECK_MESSAGE(report.failures == 0, report.failures << " failures; first: " << report.first);
}

}  // namespace qplay_test
