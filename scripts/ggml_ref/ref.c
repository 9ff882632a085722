/* A thin C wrapper around a local ggml checkout's reference quantizers (quantize_row_*_ref,
 * dequantize_row_*) and fp16 conversions, by GGUF type id. Compiled by scripts/make_ggml_vectors.sh
 * together with $GGML_DIR/src/ggml-quants.c; nothing of ggml is copied into qplay. */
#include <stdio.h>
#include <stdlib.h>

#include "ggml-quants.h"
#include "ggml-impl.h"
#include "ref.h"

/* ggml-quants.c references these from the rest of libggml; the reference paths never call them. */
void ggml_abort(const char* file, int line, const char* fmt, ...) {
  (void)fmt;
  fprintf(stderr, "ggml_abort at %s:%d\n", file, line);
  abort();
}
size_t ggml_row_size(enum ggml_type type, int64_t ne) { (void)type; (void)ne; abort(); }
const char* ggml_type_name(enum ggml_type type) { (void)type; return "?"; }
size_t ggml_type_size(enum ggml_type type) { (void)type; abort(); }

int ref_quantize(uint32_t id, const float* x, void* y, int64_t k) {
  switch (id) {
    case 2: quantize_row_q4_0_ref(x, y, k); return 0;
    case 3: quantize_row_q4_1_ref(x, y, k); return 0;
    case 6: quantize_row_q5_0_ref(x, y, k); return 0;
    case 7: quantize_row_q5_1_ref(x, y, k); return 0;
    case 8: quantize_row_q8_0_ref(x, y, k); return 0;
    case 9: quantize_row_q8_1_ref(x, y, k); return 0;
    case 10: quantize_row_q2_K_ref(x, y, k); return 0;
    case 11: quantize_row_q3_K_ref(x, y, k); return 0;
    case 12: quantize_row_q4_K_ref(x, y, k); return 0;
    case 13: quantize_row_q5_K_ref(x, y, k); return 0;
    case 14: quantize_row_q6_K_ref(x, y, k); return 0;
    case 20: quantize_row_iq4_nl_ref(x, y, k); return 0;
    case 39: quantize_row_mxfp4_ref(x, y, k); return 0;
    default: return -1;
  }
}

/* ggml has no dequantize_row_q8_1; id 9 decodes as qs * d (what qplay documents). */
int ref_dequantize(uint32_t id, const void* x, float* y, int64_t k) {
  switch (id) {
    case 2: dequantize_row_q4_0(x, y, k); return 0;
    case 3: dequantize_row_q4_1(x, y, k); return 0;
    case 6: dequantize_row_q5_0(x, y, k); return 0;
    case 7: dequantize_row_q5_1(x, y, k); return 0;
    case 8: dequantize_row_q8_0(x, y, k); return 0;
    case 9: {
      const block_q8_1* b = (const block_q8_1*)x;
      int64_t i;
      int j;
      for (i = 0; i < k / QK8_1; ++i) {
        const float d = GGML_FP16_TO_FP32(b[i].d);
        for (j = 0; j < QK8_1; ++j) y[i * QK8_1 + j] = b[i].qs[j] * d;
      }
      return 0;
    }
    case 10: dequantize_row_q2_K(x, y, k); return 0;
    case 11: dequantize_row_q3_K(x, y, k); return 0;
    case 12: dequantize_row_q4_K(x, y, k); return 0;
    case 13: dequantize_row_q5_K(x, y, k); return 0;
    case 14: dequantize_row_q6_K(x, y, k); return 0;
    case 20: dequantize_row_iq4_nl(x, y, k); return 0;
    case 39: dequantize_row_mxfp4(x, y, k); return 0;
    default: return -1;
  }
}

uint16_t ref_fp32_to_fp16(float f) { return ggml_compute_fp32_to_fp16(f); }
float ref_fp16_to_fp32(uint16_t h) { return ggml_compute_fp16_to_fp32(h); }
