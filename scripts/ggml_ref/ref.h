/* See ref.c. Type ids are GGUF / ggml_type ids. */
#ifndef QPLAY_GGML_REF_H
#define QPLAY_GGML_REF_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
int ref_quantize(uint32_t id, const float* x, void* y, int64_t k);
int ref_dequantize(uint32_t id, const void* x, float* y, int64_t k);
uint16_t ref_fp32_to_fp16(float f);
float ref_fp16_to_fp32(uint16_t h);
#ifdef __cplusplus
}
#endif
#endif
