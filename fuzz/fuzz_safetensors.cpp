// .safetensors: the 100 MB header cap, the strict JSON parser (depth, UTF-8, escapes, duplicates),
// dtypes, offsets, overlaps and holes. An accepted file must survive write_safetensors ->
// describe/load with the same tensors and metadata, and describe_head must agree with it.
#include "formats/common.hpp"
#include "harness.hpp"
#include "qplay/formats.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> file(data, size);
  qplay_fuzz::expect_only_qplay_errors([&] {
    const qplay::FileInfo info = qplay::formats::describe_safetensors(file);
    qplay_fuzz::require_head_agrees(file, info);
    // An empty name asks load for the first tensor (and the writer refuses it): legal in a header,
    // but no round trip to check.
    // Each load parses the header again: past a few tensors that only slows the search down.
    if (info.tensors.size() > 8) return;
    for (const qplay::TensorInfo& t : info.tensors)
      if (t.name.empty()) return;
    std::vector<qplay::NamedTensor> tensors;
    for (const qplay::TensorInfo& t : info.tensors) {
      qplay::Tensor loaded = qplay::formats::load_safetensors(file, t.name);
      qplay_fuzz::require(loaded.shape == t.shape && loaded.bytes.size() == t.data_bytes);
      (void)qplay::to_f32(loaded);
      tensors.push_back({t.name, std::move(loaded)});
    }
    qplay::Metadata metadata;
    for (const qplay::MetadataEntry& m : info.metadata) metadata.emplace_back(m.key, m.value);
    const std::vector<uint8_t> written = qplay::write_safetensors(tensors, metadata);
    const qplay::FileInfo again = qplay::formats::describe_safetensors(std::span<const uint8_t>(written));
    qplay_fuzz::require(again.tensors.size() == info.tensors.size() && again.metadata.size() == info.metadata.size());
    for (const auto& t : tensors) qplay_fuzz::require(qplay::formats::load_safetensors(written, t.name).bytes == t.tensor.bytes);
  });
  return 0;
}
