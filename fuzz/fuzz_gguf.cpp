// .gguf: counts against the bytes left, typed KV values, nested arrays, tensor infos, alignment,
// offsets and overlaps, the ggml block decoders. Every listed tensor either loads with its listed
// shape and dtype (ggml block types decode to float32) or is refused with a qplay::Error;
// describe_head over growing prefixes must agree with the whole-file description.
#include "formats/common.hpp"
#include "harness.hpp"
#include "qplay/formats.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> file(data, size);
  qplay_fuzz::expect_only_qplay_errors([&] {
    const qplay::FileInfo info = qplay::formats::describe_gguf(file);
    qplay_fuzz::require_head_agrees(file, info);
    // Each load parses the file again: the first few tensors cover the load path.
    for (size_t i = 0; i < info.tensors.size() && i < 8; ++i) {
      const qplay::TensorInfo& t = info.tensors[i];
      if (t.name.empty()) continue;  // an empty name asks load for the first tensor, not this one
      qplay_fuzz::expect_only_qplay_errors([&] {
        const qplay::Tensor loaded = qplay::formats::load_gguf(file, t.name);
        const bool plain = loaded.bytes.size() == t.data_bytes;  // stored as-is, not decoded blocks
        qplay_fuzz::require(t.loadable && loaded.shape == t.shape && loaded.dtype == t.dtype &&
                            loaded.bytes.size() == qplay::shape_elements(t.shape) * qplay::dtype_size(t.dtype) &&
                            (plain || loaded.dtype == qplay::DType::f32));
        (void)qplay::to_f32(loaded);
      });
    }
  });
  return 0;
}
