// The hot ggml block quantizers: the scalar twin (ggml_scalar.cpp) is the specification, the SIMD
// twin (ggml_simd128.cpp, wasm_simd128 intrinsics, natively through SIMDe) must give the same bytes.
// Each takes nblocks whole 32-element blocks at x (any alignment) and writes nblocks * <block bytes>
// bytes at out (IQ4_NL's all-zero blocks reuse the codes of the block before them within one call,
// as ggml's do; see ggml_scalar.cpp). It returns false when some x is NaN or +-inf (the bytes are then unspecified, and
// the caller reports the value): the check rides on the block max the kernel computes anyway. core/src/schemes/ggml.cpp picks the twin (the same choice as
// kernels::table(): SIMD unless the build lacks it or force_scalar(true)).
#pragma once

#include <cstddef>
#include <cstdint>

namespace qplay::kernels {

#define QPLAY_GGML_KERNELS(X) X(q8_0) X(q8_1) X(q4_0) X(q4_1) X(q5_0) X(q5_1) X(iq4_nl) X(mxfp4)

#define QPLAY_GGML_QUANTIZE_DECL(type) \
  bool ggml_quantize_##type(const float* x, size_t nblocks, uint8_t* out) noexcept;

namespace scalar {
QPLAY_GGML_KERNELS(QPLAY_GGML_QUANTIZE_DECL)
}
#if QPLAY_HAVE_SIMD128
namespace simd128 {
QPLAY_GGML_KERNELS(QPLAY_GGML_QUANTIZE_DECL)
}
#endif

}  // namespace qplay::kernels
