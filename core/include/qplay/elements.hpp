// The formats behind the element names of --dtype (nf4, fp8_e4m3fn, mxfp4, ...), for reports and
// exports, and the nibble packing of packed.npy. The quantizer itself is quantize_elements
// (quantize.hpp); formulas in docs/SCHEMES.md section 4.
#pragma once

#include <cstdint>
#include <vector>

#include "qplay/lut.hpp"
#include "qplay/minifloat.hpp"
#include "qplay/mx.hpp"
#include "qplay/options.hpp"
#include "qplay/tensor.hpp"

namespace qplay {

// nf4 -> NF4, fp4 -> bitsandbytes FP4, iq4_nl -> ggml's IQ4_NL values / 127. Throws otherwise.
const lut::Codebook& element_codebook(const QuantOptions& o);
// The small-float format of a minifloat or MX float element; nullptr for the others (and MXINT8).
const minifloat::Format* element_float_format(const QuantOptions& o);
// The MX element of an mx* name. Throws otherwise.
mx::Element element_mx(const QuantOptions& o);

// The codes (uint8 or int8, each in its low 4 bits) packed two per byte in `order` over the
// flattened tensor: low-first / high-first one byte per pair (odd count padded with 0), gptq / awq
// one little-endian int32 per 8 codes (tail padded with 0), ggml 16 bytes per 32 codes, byte j =
// code j | code j + 16 << 4 (tail padded with code 0 to 32). PackOrder::none gives no bytes.
std::vector<uint8_t> pack_nibbles(const Tensor& codes, PackOrder order);

}  // namespace qplay
