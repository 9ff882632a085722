// .npy: header grammar, versions, byte orders, Fortran order. Accepted arrays must survive
// write_npy -> read_npy unchanged (when their dtype has a numpy spelling), and describe_head
// must agree with the whole-file description.
#include "harness.hpp"
#include "qplay/formats.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> file(data, size);
  qplay_fuzz::expect_only_qplay_errors([&] {
    const qplay::NpyHeader h = qplay::read_npy_header(file);
    const qplay::Tensor t = qplay::read_npy(file);
    qplay_fuzz::require(t.shape == h.shape && t.dtype == h.dtype);
    qplay_fuzz::require_head_agrees(file, qplay::describe_file(file));
    const qplay::Tensor back = qplay::read_npy(qplay::write_npy(t));
    qplay_fuzz::require(back.shape == t.shape && back.bytes == t.bytes);
    (void)qplay::to_f32(t);
  });
  return 0;
}
