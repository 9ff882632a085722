// File I/O of the CLI: whole files read and written for single tensors; pread / pwrite at offsets
// for whole-file mode, with the output removed again when a run fails.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "cli.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace qplay::cli {

std::vector<uint8_t> read_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw Error("cannot read '" + path + "': " + std::strerror(errno));
  std::vector<uint8_t> bytes;
  // Chunked so pipes and files whose size changes are read correctly too.
  constexpr size_t kChunk = size_t(1) << 20;
  for (;;) {
    const size_t old = bytes.size();
    bytes.resize(old + kChunk);
    const size_t got = std::fread(bytes.data() + old, 1, kChunk, f);
    bytes.resize(old + got);
    if (got < kChunk) break;
  }
  const bool failed = std::ferror(f);
  const int err = errno;
  std::fclose(f);
  if (failed) throw Error("cannot read '" + path + "': " + std::strerror(err));
  return bytes;
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw Error("cannot write '" + path + "': " + std::strerror(errno));
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const int err = errno;
  if (std::fclose(f) != 0 || !ok) {
    const std::string why = std::strerror(ok ? errno : err);
    // No half-written bundle left behind (disk full); never unlink a device such as /dev/full.
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec)) std::filesystem::remove(path, ec);
    throw Error("cannot write '" + path + "': " + why);
  }
}

Loaded load(const std::string& path, const std::string& wanted, bool any_single, const ReadOptions& read) {
  const std::vector<uint8_t> bytes = read_file(path);
  return about_file(path, [&] {
    Loaded l;
    const std::vector<TensorInfo> infos = list_tensors(bytes, read);
    if (infos.empty()) throw Error("holds no tensors");
    const bool pick_only = any_single && infos.size() == 1;
    l.name = wanted.empty() || pick_only ? infos[0].name : wanted;
    l.tensor = load_tensor(bytes, pick_only ? std::string_view{} : std::string_view(wanted), read);
    l.values = to_f32(l.tensor);
    return l;
  });
}

InputFile::InputFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw Error("cannot read '" + path + "': " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw Error("cannot read '" + path + "': --all needs a regular file (it reads tensors at their offsets)");
  }
  size_ = static_cast<uint64_t>(st.st_size);
}

InputFile::~InputFile() {
  if (map_) ::munmap(map_, static_cast<size_t>(size_));
  ::close(fd_);
}

std::vector<uint8_t> InputFile::read(uint64_t offset, uint64_t n) const {
  std::vector<uint8_t> out(static_cast<size_t>(n));
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t got = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) throw Error("cannot read '" + path_ + "': " + (got < 0 ? std::strerror(errno) : "file shrank while reading"));
    done += static_cast<size_t>(got);
  }
  return out;
}

std::span<const uint8_t> InputFile::mapped() {
  if (!map_ && size_) {
    void* m = ::mmap(nullptr, static_cast<size_t>(size_), PROT_READ, MAP_PRIVATE, fd_, 0);
    if (m == MAP_FAILED) throw Error("cannot map '" + path_ + "': " + std::strerror(errno));
    map_ = m;
  }
  return {static_cast<const uint8_t*>(map_), static_cast<size_t>(size_)};
}

OutputFile::OutputFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd_ < 0) throw Error("cannot write '" + path + "': " + std::strerror(errno));
}

OutputFile::~OutputFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!kept_) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(path_, ec)) std::filesystem::remove(path_, ec);
  }
}

void OutputFile::write(const OutputChunk& c) {
  size_t done = 0;
  while (done < c.bytes.size()) {
    const ssize_t n = ::pwrite(fd_, c.bytes.data() + done, c.bytes.size() - done, static_cast<off_t>(c.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Error("cannot write '" + path_ + "': " + std::strerror(n < 0 ? errno : ENOSPC));
    done += static_cast<size_t>(n);
  }
}

void OutputFile::commit() {
  const int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) throw Error("cannot write '" + path_ + "': " + std::strerror(errno));
  kept_ = true;
}

}  // namespace qplay::cli
