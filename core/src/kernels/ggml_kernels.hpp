// The hot ggml block quantizers: the scalar twin (ggml_scalar.cpp) is the specification, the SIMD
// twin (ggml_simd128.cpp, wasm_simd128 intrinsics, natively through SIMDe) must give the same bytes.
// Each takes nblocks whole 32-element blocks at x (any alignment) and writes nblocks * <block bytes>
// bytes at out (IQ4_NL's all-zero blocks reuse the codes of the block before them within one call,
// as ggml's do; see ggml_scalar.cpp). It returns false when some x is NaN or +-inf (the bytes are
// then unspecified, and the caller reports the value): the check rides on the block max the kernel
// computes anyway.
//
// Like kernels.hpp and float_kernels.hpp: QPLAY_GGML_KERNELS lists every op once and drives the
// declarations, the two tables and the twin tests; ggml_table() follows force_scalar().
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
#undef QPLAY_GGML_QUANTIZE_DECL

struct GgmlTable {
#define QPLAY_GGML_TABLE_FIELD(type) bool (*ggml_quantize_##type)(const float*, size_t, uint8_t*) noexcept;
  QPLAY_GGML_KERNELS(QPLAY_GGML_TABLE_FIELD)
#undef QPLAY_GGML_TABLE_FIELD
  const char* name;  // "simd128" or "scalar"
};
// Follows the integer kernels' choice: the SIMD twins unless force_scalar(true) or no SIMD build.
const GgmlTable& ggml_table();
const GgmlTable& ggml_scalar_table();
const GgmlTable* ggml_simd128_table();  // nullptr when the build has no SIMD twin

}  // namespace qplay::kernels
