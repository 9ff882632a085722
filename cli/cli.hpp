// What the files of the `qplay` command share. The CLI reads arguments into the core's Request
// (core/src/request.cpp holds every option rule), does the file I/O and prints; nothing else.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "qplay/error.hpp"
#include "qplay/formats.hpp"
#include "qplay/quantize.hpp"
#include "qplay/request.hpp"

namespace qplay::cli {

// A problem with the command line itself (exit code 2); qplay::Error after parsing means a file or
// data problem (exit code 1).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---- help.cpp ----
// The whole `qplay --help` text: usage, the generated option sections, fixed prose.
std::string help_text();

// ---- args.cpp ----
// argv[2..] of `qplay quantize`, parsed and validated by the core; every error is a UsageError.
// A Request with help set means --help was given.
Request parse_quantize(int argc, char** argv);
// argv[2..] of `qplay info`: the file names and the --raw-* options (help set for --help).
Request parse_info(int argc, char** argv);
// Runs `f`, turning the core's errors into usage errors (exit code 2).
template <class F> auto as_usage(F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
}

// ---- files.cpp ----
std::vector<uint8_t> read_file(const std::string& path);
void write_file(const std::string& path, const std::vector<uint8_t>& bytes);

// Errors about one file name it.
template <class F> auto about_file(const std::string& path, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    const std::string m = e.what();
    if (m.find("'" + path + "'") != std::string::npos) throw;
    throw Error(path + ": " + m);
  }
}

struct Loaded {
  Tensor tensor;
  std::string name;
  std::vector<float> values;
};
// `any_single`: a single-tensor file gives its tensor whatever `wanted` says (calibration files are
// often .npy while the input is one tensor of an .npz).
Loaded load(const std::string& path, const std::string& wanted, bool any_single, const ReadOptions& read = {});

// A file opened for reading with pread; closed on every path.
class InputFile {
 public:
  explicit InputFile(const std::string& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  uint64_t size() const { return size_; }
  std::vector<uint8_t> read(uint64_t offset, uint64_t n) const;
  // The whole file mapped (formats read whole: .npz's directory is at the end); only the pages
  // touched count against memory.
  std::span<const uint8_t> mapped();

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  void* map_ = nullptr;
};

// The output, written at offsets; removed again if the run fails (never a device such as /dev/full).
class OutputFile {
 public:
  explicit OutputFile(const std::string& path);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  void write(const OutputChunk& c);
  void commit();

 private:
  std::string path_;
  int fd_ = -1;
  bool kept_ = false;
};

// ---- print.cpp ----
std::string fmt(double v, const char* spec = "%.6g");
std::string human_bytes(uint64_t n);
void print_summary(const Request& c, const RunInfo& info, const Quantized& q, const Evaluation& e, size_t out_bytes);
// `qplay info`: the tensor table and the file's metadata.
void print_info(const FileInfo& file);

// ---- wholefile.cpp ----
int run_whole_file(const Request& c);

}  // namespace qplay::cli
