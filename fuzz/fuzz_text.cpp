// Text tables: sniffing, separators, comments, number grammar, ragged rows. What the sniffer
// accepts as text either parses or fails with a qplay::Error naming a line.
#include "formats/common.hpp"
#include "harness.hpp"
#include "qplay/formats.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> file(data, size);
  (void)qplay::formats::looks_like_text(file);
  qplay_fuzz::expect_only_qplay_errors([&] {
    const qplay::FileInfo info = qplay::formats::describe_text(file);
    const qplay::Tensor t = qplay::formats::load_text(file);
    qplay_fuzz::require(t.shape == info.tensors[0].shape);
    (void)qplay::to_f32(t);
  });
  // The whole dispatch, as the CLI and the page call it.
  qplay_fuzz::expect_only_qplay_errors([&] {
    for (const qplay::TensorInfo& t : qplay::list_tensors(file))
      if (t.loadable) (void)qplay::load_tensor(file, t.name);
  });
  return 0;
}
