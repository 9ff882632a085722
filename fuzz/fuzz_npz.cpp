// .npz / zip: directory parsing, zip64 extras, the bomb guards, inflating, CRC, members as .npy.
// What read_npz accepts must survive write_npz -> read_npz, and the caller-inflated path (the wasm
// one) must give the same members as inflating here.
#include "formats/common.hpp"
#include "harness.hpp"
#include "qplay/formats.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> file(data, size);
  qplay_fuzz::expect_only_qplay_errors([&] {
    const auto infos = qplay::list_zip_members(file);
    const auto members = qplay::read_npz(file);
    qplay_fuzz::require(infos.size() == members.size());
    qplay_fuzz::require(qplay::read_npz(file, members) == members);
    qplay_fuzz::require(qplay::read_npz(qplay::write_npz(members)) == members);
  });
  qplay_fuzz::expect_only_qplay_errors([&] {
    for (const qplay::TensorInfo& t : qplay::formats::describe_npz(file, {}).tensors)
      (void)qplay::to_f32(qplay::formats::load_npz(file, t.name, {}));
  });
  return 0;
}
