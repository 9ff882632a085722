// Raw binary: the RawSpec comes from the first bytes (dtype, rank, dims with -1, offset, byte
// order), the rest is the file; plus parse_shape / dtype_from_name on the same bytes as text.
#include <string_view>

#include "formats/common.hpp"
#include "harness.hpp"
#include "qplay/formats.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size < 64 ? size : 64);
  qplay_fuzz::expect_only_qplay_errors([&] { (void)qplay::parse_shape(text); });
  qplay_fuzz::expect_only_qplay_errors([&] { (void)qplay::dtype_from_name(text); });
  if (size < 12) return 0;
  qplay::RawSpec spec;
  spec.dtype = static_cast<qplay::DType>(data[0] % 15);
  spec.big_endian = data[1] & 1;
  spec.offset = data[2];
  const int rank = data[3] % 4;
  for (int k = 0; k < rank; ++k) {
    const uint16_t d = uint16_t(data[4 + 2 * k] | data[5 + 2 * k] << 8);
    spec.shape.push_back(d == 0xffff ? -1 : d == 0xfffe ? INT64_MAX / 2 : d);
  }
  const std::span<const uint8_t> file(data + 12, size - 12);
  qplay_fuzz::expect_only_qplay_errors([&] {
    const qplay::FileInfo info = qplay::formats::describe_raw(file.size(), spec);
    const qplay::Tensor t = qplay::formats::load_raw(file, spec);
    qplay_fuzz::require(t.shape == info.tensors[0].shape && t.bytes.size() == info.tensors[0].data_bytes);
    (void)qplay::to_f32(t);
  });
  return 0;
}
