// Deflated .npz in WebAssembly, which has no zlib: the core lists the members (with its bomb and
// bounds guards) so the caller inflates them with the platform (DecompressionStream('deflate-raw')),
// then the core checks the inflated bytes (size, CRC-32) and writes the archive with every member
// stored, which openFile reads as any stored .npz.
#pragma once

#include "convert.hpp"

namespace qplay::js {

// zipMembers(bytes) -> {ok, members: [{name, method, offset, compressedSize, size, crc}]}: every
// member as list_zip_members describes it (offset: where its compressed bytes start).
val zip_members_js(val bytes);

// storedNpz(bytes, inflated) -> {ok, bytes}: the archive read by read_npz with `inflated`
// ([{name, bytes}]: the deflated members the caller inflated) and written back stored, in the same
// member order.
val stored_npz_js(val bytes, val inflated);

}  // namespace qplay::js
