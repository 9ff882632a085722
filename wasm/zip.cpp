#include "zip.hpp"

#include <string>
#include <utility>
#include <vector>

#include "qplay/formats.hpp"

namespace qplay::js {

val zip_members_js(val bytes) {
  return guarded([&] {
    size_t size = 0;
    const std::unique_ptr<uint8_t[]> data = heap_copy(bytes, size);
    val members = val::array();
    for (const ZipMemberInfo& m : list_zip_members({data.get(), size})) {
      val e = val::object();
      e.set("name", m.name);
      e.set("method", m.method);
      // Offsets and sizes are below 2^53 (the archive is in memory; the total is guarded at 4 GiB).
      e.set("offset", double(m.data_offset));
      e.set("compressedSize", double(m.compressed_size));
      e.set("size", double(m.uncompressed_size));
      e.set("crc", m.crc32);
      members.call<void>("push", e);
    }
    val r = success();
    r.set("members", members);
    return r;
  });
}

val stored_npz_js(val bytes, val inflated) {
  return guarded([&] {
    size_t size = 0;
    const std::unique_ptr<uint8_t[]> data = heap_copy(bytes, size);
    std::vector<ZipMember> given;
    if (!absent(inflated)) {
      if (!val::global("Array").call<bool>("isArray", inflated))
        throw Error("inflated must be an array of {name, bytes} (got " + js_kind(inflated) + ")");
      const unsigned count = inflated["length"].as<unsigned>();
      for (unsigned k = 0; k < count; ++k) {
        const val m = inflated[k];
        if (absent(m) || m["name"].typeOf().as<std::string>() != "string" || !is_instance(m["bytes"], "Uint8Array"))
          throw Error("inflated[" + std::to_string(k) + "] must be {name: a string, bytes: a Uint8Array}");
        std::vector<uint8_t> member(m["bytes"]["length"].as<size_t>());
        copy_from_js(m["bytes"], member.data(), member.size());
        given.emplace_back(m["name"].as<std::string>(), std::move(member));
      }
    }
    const std::vector<ZipMember> members = read_npz({data.get(), size}, given);
    const std::vector<uint8_t> stored = write_npz(members);
    val r = success();
    r.set("bytes", bytes_to_js(stored));
    return r;
  });
}

}  // namespace qplay::js
