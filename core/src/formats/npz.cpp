// .npz: a zip archive of .npy members (PKWARE APPNOTE 6.3 is the reference for the records). Reading
// checks the whole central directory before decompressing anything, so a zip bomb is refused by
// its declared sizes; deflated members are inflated here natively (zlib) or by the caller (wasm).
#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <set>
#include <string>

#ifndef __EMSCRIPTEN__
#include <zlib.h>
#endif

#include "formats/common.hpp"
#include "qplay/error.hpp"
#include "qplay/formats.hpp"

namespace qplay {
namespace {

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50, kZip64LocatorSig = 0x07064b50;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint64_t kMax32 = 0xffffffffu;
constexpr uint16_t kDosDate1980 = (0 << 9) | (1 << 5) | 1;  // 1980-01-01; time 00:00 is 0
// Sum of uncompressed member sizes; bounds what one file can make us allocate (wasm has 4 GiB).
constexpr uint64_t kMaxTotalUncompressed = uint64_t(4) << 30;
// Deflate cannot exceed about 1032:1 (258-byte matches coded in ~2 bits); a larger declared ratio is
// a lie, rejected before the output buffer is allocated.
constexpr uint64_t kMaxDeflateRatio = 1032;

[[noreturn]] void fail(const std::string& message) { throw Error("npz: " + message); }

// ---- CRC-32: reflected polynomial 0xEDB88320, table built once at compile time ----------------
constexpr std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kCrcTable = make_crc_table();

using formats::le16;
using formats::le32;
using formats::le64;
using formats::shown;

void put16(std::vector<uint8_t>& o, uint64_t v) { o.push_back(uint8_t(v)), o.push_back(uint8_t(v >> 8)); }
void put32(std::vector<uint8_t>& o, uint64_t v) { put16(o, v & 0xffff), put16(o, (v >> 16) & 0xffff); }
void put64(std::vector<uint8_t>& o, uint64_t v) { put32(o, v & kMax32), put32(o, v >> 32); }

bool has_non_ascii(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

struct Entry {
  std::string name;
  uint16_t flags = 0, method = 0;
  uint32_t crc = 0;
  uint64_t csize = 0, usize = 0, local_offset = 0;
};

// The central directory: where it is and how many entries, from the end record (zip64 if present).
struct Directory {
  uint64_t offset = 0, size = 0, entries = 0;
};

Directory find_directory(std::span<const uint8_t> b) {
  if (b.size() < 22) fail("file too short for a zip archive (truncated)");
  // The end record sits in the last 22 + 65535 (max comment) bytes; scan backwards for it.
  const size_t lowest = b.size() > 22 + 0xffff ? b.size() - 22 - 0xffff : 0;
  size_t at = b.size() - 22;
  for (;; --at) {
    if (le32(b.data() + at) == kEndSig && at + 22 + le16(b.data() + at + 20) <= b.size()) break;
    if (at == lowest) fail("no zip end-of-central-directory record (truncated or not a zip file)");
  }
  const uint8_t* e = b.data() + at;
  if (le16(e + 4) != 0 || le16(e + 6) != 0) fail("multi-part (split) zip archives are not supported");
  Directory d{le32(e + 16), le32(e + 12), le16(e + 10)};
  if (at >= 20 && le32(b.data() + at - 20) == kZip64LocatorSig) {
    const uint64_t z = le64(b.data() + at - 20 + 8);
    if (z > b.size() || b.size() - z < 56 || le32(b.data() + z) != kZip64EndSig)
      fail("zip64 end record is missing or out of bounds (truncated file?)");
    d.entries = le64(b.data() + z + 32);
    d.size = le64(b.data() + z + 40);
    d.offset = le64(b.data() + z + 48);
  }
  if (d.offset > b.size() || d.size > b.size() - d.offset)
    fail("central directory lies outside the file (truncated?)");
  // Each entry takes at least 46 bytes: a huge count with a small directory is corrupt.
  if (d.entries > d.size / 46) fail("central directory is too small for its " + std::to_string(d.entries) + " entries");
  return d;
}

std::vector<Entry> read_directory(std::span<const uint8_t> b, const Directory& d) {
  std::vector<Entry> entries;
  entries.reserve(static_cast<size_t>(d.entries));
  size_t p = static_cast<size_t>(d.offset);
  const size_t end = static_cast<size_t>(d.offset + d.size);
  for (uint64_t i = 0; i < d.entries; ++i) {
    if (end - p < 46 || le32(b.data() + p) != kCentralSig) fail("corrupt central directory entry " + std::to_string(i));
    const uint8_t* c = b.data() + p;
    Entry e;
    e.flags = le16(c + 8);
    e.method = le16(c + 10);
    e.crc = le32(c + 16);
    e.csize = le32(c + 20);
    e.usize = le32(c + 24);
    const size_t name_len = le16(c + 28), extra_len = le16(c + 30), comment_len = le16(c + 32);
    e.local_offset = le32(c + 42);
    if (end - p - 46 < name_len + extra_len + comment_len) fail("corrupt central directory entry " + std::to_string(i));
    e.name.assign(reinterpret_cast<const char*>(c + 46), name_len);
    // Zip64 extra field: 64-bit values for exactly the 32-bit fields that hold 0xffffffff, in order.
    const uint8_t* x = c + 46 + name_len;
    for (size_t q = 0; q + 4 <= extra_len;) {
      const uint16_t id = le16(x + q), len = le16(x + q + 2);
      if (q + 4 + len > extra_len) fail("member '" + shown(e.name) + "' has a corrupt extra field");
      if (id == kZip64ExtraId) {
        size_t r = q + 4;
        for (uint64_t* field : {&e.usize, &e.csize, &e.local_offset}) {
          if (*field != kMax32) continue;
          if (r + 8 > q + 4 + len) fail("member '" + shown(e.name) + "' has a short zip64 extra field");
          *field = le64(x + r);
          r += 8;
        }
      }
      q += 4 + len;
    }
    entries.push_back(std::move(e));
    p += 46 + name_len + extra_len + comment_len;
  }
  return entries;
}

#ifndef __EMSCRIPTEN__
// Raw deflate (no zlib header) into exactly e.usize bytes; more or less output is an error.
std::vector<uint8_t> inflate_member(const Entry& e, const uint8_t* src) {
  std::vector<uint8_t> out(static_cast<size_t>(e.usize));
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) fail("cannot initialize zlib");
  // zlib counts in 32-bit uInt: feed and drain in chunks so members over 4 GiB of input still work.
  constexpr uint64_t kChunk = uint64_t(1) << 30;
  uint64_t in_left = e.csize, out_done = 0;
  const uint8_t* in = src;
  int rc = Z_OK;
  uint8_t overflow_probe = 0;
  while (rc != Z_STREAM_END) {
    if (z.avail_in == 0 && in_left > 0) {
      z.next_in = const_cast<Bytef*>(in);
      z.avail_in = static_cast<uInt>(std::min(in_left, kChunk));
      in += z.avail_in;
      in_left -= z.avail_in;
    }
    const bool full = out_done == e.usize;
    z.next_out = full ? &overflow_probe : out.data() + out_done;
    z.avail_out = full ? 1 : static_cast<uInt>(std::min(e.usize - out_done, kChunk));
    const uInt before = z.avail_out;
    rc = inflate(&z, Z_NO_FLUSH);
    const uInt produced = before - z.avail_out;
    if (full && produced > 0) {
      inflateEnd(&z);
      fail("member '" + shown(e.name) + "' inflates to more than its declared " + std::to_string(e.usize) + " bytes");
    }
    out_done += produced;
    if (rc == Z_STREAM_END) break;
    if (rc == Z_BUF_ERROR && z.avail_in == 0 && in_left == 0) {
      inflateEnd(&z);
      fail("member '" + shown(e.name) + "' has truncated deflate data");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      const std::string why = z.msg ? z.msg : "zlib error " + std::to_string(rc);
      inflateEnd(&z);
      fail("member '" + shown(e.name) + "' has corrupt deflate data (" + why + ")");
    }
  }
  inflateEnd(&z);
  if (out_done != e.usize)
    fail("member '" + shown(e.name) + "' inflates to " + std::to_string(out_done) + " bytes, declared " +
         std::to_string(e.usize));
  return out;
}
#endif

// Every check that needs no decompression, over the whole archive, before anything is extracted:
// a bad archive allocates nothing beyond its directory.
std::vector<ZipMemberInfo> locate_members(std::span<const uint8_t> b) {
  const std::vector<Entry> entries = read_directory(b, find_directory(b));
  std::vector<ZipMemberInfo> out;
  out.reserve(entries.size());
  uint64_t total = 0;
  std::set<std::string_view> names;
  for (const Entry& e : entries) {
    const std::string who = "member '" + shown(e.name) + "'";
    if (!names.insert(e.name).second) fail("duplicate " + who);
    if (e.flags & 0x0001) fail(who + " is encrypted");
    if (e.method != 0 && e.method != 8)
      fail(who + " uses compression method " + std::to_string(e.method) + " (supported: stored, deflated)");
    if (e.local_offset > b.size() || b.size() - e.local_offset < 30 || le32(b.data() + e.local_offset) != kLocalSig)
      fail(who + " has no local header where the directory says (truncated or corrupt file)");
    const uint8_t* l = b.data() + e.local_offset;
    const uint64_t start = e.local_offset + 30 + le16(l + 26) + le16(l + 28);
    if (start > b.size() || e.csize > b.size() - start)
      fail(who + " declares " + std::to_string(e.csize) + " bytes beyond the end of the file (truncated)");
    if (e.method == 0 && e.csize != e.usize)
      fail(who + " is stored but declares " + std::to_string(e.csize) + " stored and " + std::to_string(e.usize) +
           " uncompressed bytes");
    if (e.method == 8 && e.usize > e.csize * kMaxDeflateRatio + 1024)
      fail(who + " declares " + std::to_string(e.usize) + " bytes from " + std::to_string(e.csize) +
           " compressed, beyond what deflate can produce (a zip bomb?)");
    total += e.usize;
    if (total > kMaxTotalUncompressed)
      fail("members total more than 4 GiB uncompressed (the limit; stopped at " + who + ")");
    out.push_back({e.name, e.method, e.crc, e.csize, e.usize, start});
  }
  return out;
}

// A member's bytes: stored ones copied, deflated ones from the caller's `inflated` list or (natively)
// inflated here. Size and CRC-32 are checked whoever inflated them.
std::vector<uint8_t> extract(std::span<const uint8_t> b, const ZipMemberInfo& m, std::span<const ZipMember> inflated) {
  const uint8_t* data = b.data() + m.data_offset;
  std::vector<uint8_t> bytes;
  const ZipMember* given = nullptr;
  if (m.method == 8)
    for (const ZipMember& z : inflated)
      if (z.first == m.name) given = &z;
  if (m.method == 0) {
    bytes.assign(data, data + m.uncompressed_size);
  } else if (given) {
    if (given->second.size() != m.uncompressed_size)
      fail("member '" + shown(m.name) + "' was inflated to " + std::to_string(given->second.size()) +
           " bytes, declared " + std::to_string(m.uncompressed_size));
    bytes = given->second;
  } else {
#ifndef __EMSCRIPTEN__
    Entry e;
    e.name = m.name;
    e.csize = m.compressed_size;
    e.usize = m.uncompressed_size;
    bytes = inflate_member(e, data);
#else
    // No zlib in wasm: the page inflates with DecompressionStream('deflate-raw') and passes the bytes.
    throw Error("npz member '" + shown(m.name) +
                "' is deflated and this build has no inflater; inflate it first (list_zip_members gives "
                "its offset and sizes) or save with np.savez instead of np.savez_compressed");
#endif
  }
  if (crc32(bytes) != m.crc32) fail("member '" + shown(m.name) + "' fails its CRC-32 check (corrupt file)");
  return bytes;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Runs f, prefixing any error with the member it concerns.
template <class F> auto for_member(const std::string& name, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    throw Error("npz member '" + shown(name) + "': " + e.what());
  }
}

std::string tensor_name_of(const std::string& member) { return member.substr(0, member.size() - 4); }

}  // namespace

uint32_t crc32(std::span<const uint8_t> bytes, uint32_t crc) {
  crc = ~crc;
  for (uint8_t b : bytes) crc = kCrcTable[(crc ^ b) & 0xff] ^ (crc >> 8);
  return ~crc;
}

std::vector<uint8_t> ZipStreamWriter::add(const std::string& name, std::span<const uint8_t> data) {
  if (finished_) throw Error("npz: member '" + shown(name) + "' added after the central directory");
  if (name.empty() || name.size() > 0xffff) throw Error("npz: member name must have 1 to 65535 bytes");
  if (!names_.insert(name).second) throw Error("npz: duplicate member name '" + shown(name) + "'");
  std::vector<uint8_t> out;
  std::vector<uint8_t>& central = central_;
  const uint64_t size = data.size(), offset = offset_;
  const uint32_t crc = crc32(data);
  const bool big = size >= kMax32, far = offset >= kMax32;
  const uint16_t flags = has_non_ascii(name) ? 0x0800 : 0;  // bit 11: the name is UTF-8
  const uint16_t version = (big || far) ? 45 : 20;          // 4.5 = zip64, 2.0 = baseline

  put32(out, kLocalSig);
  put16(out, version);
  put16(out, flags);
  put16(out, 0);  // stored
  put16(out, 0);  // 00:00
  put16(out, kDosDate1980);
  put32(out, crc);
  put32(out, big ? kMax32 : size);
  put32(out, big ? kMax32 : size);
  put16(out, name.size());
  put16(out, big ? 20 : 0);
  out.insert(out.end(), name.begin(), name.end());
  if (big) put16(out, kZip64ExtraId), put16(out, 16), put64(out, size), put64(out, size);
  out.insert(out.end(), data.begin(), data.end());

  const uint16_t extra = static_cast<uint16_t>((big ? 16 : 0) + (far ? 8 : 0));
  put32(central, kCentralSig);
  put16(central, version);  // made by: MS-DOS host, so the external attributes need no meaning
  put16(central, version);
  put16(central, flags);
  put16(central, 0);
  put16(central, 0);
  put16(central, kDosDate1980);
  put32(central, crc);
  put32(central, big ? kMax32 : size);
  put32(central, big ? kMax32 : size);
  put16(central, name.size());
  put16(central, extra ? extra + 4 : 0);
  put16(central, 0);  // comment
  put16(central, 0);  // disk
  put16(central, 0);  // internal attributes
  put32(central, 0);  // external attributes
  put32(central, far ? kMax32 : offset);
  central.insert(central.end(), name.begin(), name.end());
  if (extra) {
    put16(central, kZip64ExtraId), put16(central, extra);
    if (big) put64(central, size), put64(central, size);
    if (far) put64(central, offset);
  }
  ++entries_;
  offset_ += out.size();
  return out;
}

std::vector<uint8_t> ZipStreamWriter::finish() {
  if (finished_) throw Error("npz: the central directory was already written");
  finished_ = true;
  std::vector<uint8_t> out = std::move(central_);
  const uint64_t cd_offset = offset_, cd_size = out.size(), entries = entries_;
  const bool zip64 = entries >= 0xffff || cd_offset >= kMax32 || cd_size >= kMax32;
  if (zip64) {
    const uint64_t z = cd_offset + out.size();
    put32(out, kZip64EndSig);
    put64(out, 44);  // size of the rest of this record
    put16(out, 45), put16(out, 45);
    put32(out, 0), put32(out, 0);
    put64(out, entries), put64(out, entries), put64(out, cd_size), put64(out, cd_offset);
    put32(out, kZip64LocatorSig);
    put32(out, 0), put64(out, z), put32(out, 1);
  }
  put32(out, kEndSig);
  put16(out, 0), put16(out, 0);
  put16(out, zip64 ? 0xffff : entries), put16(out, zip64 ? 0xffff : entries);
  put32(out, zip64 ? kMax32 : cd_size), put32(out, zip64 ? kMax32 : cd_offset);
  put16(out, 0);  // comment
  offset_ += out.size();
  return out;
}

std::vector<uint8_t> write_npz(const std::vector<ZipMember>& members) {
  ZipStreamWriter zip;
  std::vector<uint8_t> out;
  for (const auto& [name, data] : members) {
    const std::vector<uint8_t> member = zip.add(name, data);
    out.insert(out.end(), member.begin(), member.end());
  }
  const std::vector<uint8_t> end = zip.finish();
  out.insert(out.end(), end.begin(), end.end());
  return out;
}

std::vector<ZipMemberInfo> list_zip_members(std::span<const uint8_t> bytes) { return locate_members(bytes); }

std::vector<ZipMember> read_npz(std::span<const uint8_t> b, std::span<const ZipMember> inflated) {
  const std::vector<ZipMemberInfo> members = locate_members(b);
  std::vector<ZipMember> out;
  out.reserve(members.size());
  for (const ZipMemberInfo& m : members) out.emplace_back(m.name, extract(b, m, inflated));
  return out;
}

namespace formats {

FileInfo describe_npz(std::span<const uint8_t> file, std::span<const ZipMember> inflated) {
  FileInfo info;
  info.format = FileFormat::npz;
  // Named members rather than structured bindings: clang 14 (Emscripten) cannot capture those.
  for (const ZipMemberInfo& m : locate_members(file)) {
    if (!ends_with(m.name, ".npy")) continue;
    TensorInfo t = for_member(m.name, [&] {
      if (m.method == 0) {
        // Stored: the .npy lies in the file as-is; read its header in place.
        TensorInfo d = describe_npy(file.subspan(m.data_offset, m.uncompressed_size)).tensors[0];
        d.data_offset += static_cast<int64_t>(m.data_offset);
        return d;
      }
      const std::vector<uint8_t> member = extract(file, m, inflated);
      TensorInfo d = describe_npy(std::span<const uint8_t>(member)).tensors[0];
      d.data_offset = -1;
      return d;
    });
    t.name = tensor_name_of(m.name);
    info.tensors.push_back(std::move(t));
  }
  return info;
}

Tensor load_npz(std::span<const uint8_t> file, std::string_view name, std::span<const ZipMember> inflated) {
  std::string have;
  for (const ZipMemberInfo& m : locate_members(file)) {
    if (!ends_with(m.name, ".npy")) continue;
    const std::string tensor = tensor_name_of(m.name);
    if (name.empty() || name == tensor || name == m.name) {
      const std::vector<uint8_t> member = extract(file, m, inflated);
      return for_member(m.name, [&] { return read_npy(member); });
    }
    have += (have.empty() ? "" : ", ") + shown(tensor);
  }
  if (name.empty()) throw Error("the .npz holds no .npy arrays");
  throw Error("no tensor '" + shown(name) + "' in this .npz (it has: " + (have.empty() ? "nothing" : have) + ")");
}

}  // namespace formats

}  // namespace qplay
