/* Writes tests/data/ggml/ref_vectors.bin: block bytes and digests produced by a real ggml build's
 * reference code for the rows of tests/ggml_rows.h. Built and run by scripts/make_ggml_vectors.sh.
 *
 * Layout (little-endian):
 *   "QPGGMLV1", ggml commit (40 ASCII hex chars),
 *   u32 n_types, u32 n_rows, u32 row_len, u32 bulk_rows, u64 seed, u64 bytes_seed,
 *   f32 rows[n_rows][row_len]                       rows 0..n_rows-1 of qplay_ggml_row(seed, .)
 *   per type: u32 gguf_id, u32 row_bytes, u8 blocks[n_rows][row_bytes],
 *             u64 quant_digest    FNV-1a of quantize_row_<type>_ref of rows 0..bulk_rows-1
 *             u64 dequant_digest  FNV-1a (floats, NaN canonical) of dequantize_row_<type> of those
 *             u64 random_digest   the same for qplay_ggml_random_bytes(bytes_seed, i), i < bulk_rows */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tests/ggml_rows.h"
#include "ref.h"

static const struct {
  uint32_t id, block_elems, block_bytes;
} kTypes[] = {
    {8, 32, 34},    {9, 32, 36},    {2, 32, 18},    {3, 32, 20},   {6, 32, 22},
    {7, 32, 24},    {10, 256, 84},  {11, 256, 110}, {12, 256, 144}, {13, 256, 176},
    {14, 256, 210}, {20, 32, 18},   {39, 32, 17},
};
#define N_TYPES (sizeof kTypes / sizeof kTypes[0])
#define N_ROWS 2
#define BULK_ROWS 384
#define SEED 0x5150474D4C303031ull       /* "QPGML001" */
#define BYTES_SEED 0x5150474D4C425954ull /* "QPGMLBYT" */

static void put_u32(FILE* f, uint32_t v) {
  unsigned char b[4];
  int i;
  for (i = 0; i < 4; ++i) b[i] = (unsigned char)(v >> (8 * i));
  fwrite(b, 1, 4, f);
}
static void put_u64(FILE* f, uint64_t v) {
  unsigned char b[8];
  int i;
  for (i = 0; i < 8; ++i) b[i] = (unsigned char)(v >> (8 * i));
  fwrite(b, 1, 8, f);
}

int main(int argc, char** argv) {
  static float row[QPLAY_GGML_ROW_LEN], y[QPLAY_GGML_ROW_LEN];
  static unsigned char blocks[QPLAY_GGML_ROW_LEN / 32 * 36];
  FILE* f;
  size_t t;
  uint32_t i;
  int j;
  if (argc != 3 || strlen(argv[2]) != 40) {
    fprintf(stderr, "usage: make_vectors OUT.bin GGML_COMMIT(40 hex)\n");
    return 2;
  }
  f = fopen(argv[1], "wb");
  if (!f) {
    perror(argv[1]);
    return 1;
  }
  fwrite("QPGGMLV1", 1, 8, f);
  fwrite(argv[2], 1, 40, f);
  put_u32(f, (uint32_t)N_TYPES);
  put_u32(f, N_ROWS);
  put_u32(f, QPLAY_GGML_ROW_LEN);
  put_u32(f, BULK_ROWS);
  put_u64(f, SEED);
  put_u64(f, BYTES_SEED);
  for (i = 0; i < N_ROWS; ++i) {
    qplay_ggml_row(SEED, i, row);
    for (j = 0; j < QPLAY_GGML_ROW_LEN; ++j) {
      uint32_t u;
      memcpy(&u, &row[j], 4);
      put_u32(f, u);
    }
  }
  for (t = 0; t < N_TYPES; ++t) {
    const uint32_t id = kTypes[t].id;
    const uint32_t row_bytes = QPLAY_GGML_ROW_LEN / kTypes[t].block_elems * kTypes[t].block_bytes;
    uint64_t hq = QPLAY_FNV1A_INIT, hd = QPLAY_FNV1A_INIT, hr = QPLAY_FNV1A_INIT;
    put_u32(f, id);
    put_u32(f, row_bytes);
    for (i = 0; i < BULK_ROWS; ++i) {
      qplay_ggml_row(SEED, i, row);
      if (ref_quantize(id, row, blocks, QPLAY_GGML_ROW_LEN) != 0) abort();
      if (i < N_ROWS) fwrite(blocks, 1, row_bytes, f);
      hq = qplay_fnv1a(hq, blocks, row_bytes);
      if (ref_dequantize(id, blocks, y, QPLAY_GGML_ROW_LEN) != 0) abort();
      hd = qplay_fnv1a_floats(hd, y, QPLAY_GGML_ROW_LEN);
      qplay_ggml_random_bytes(BYTES_SEED, i, blocks, row_bytes);
      if (ref_dequantize(id, blocks, y, QPLAY_GGML_ROW_LEN) != 0) abort();
      hr = qplay_fnv1a_floats(hr, y, QPLAY_GGML_ROW_LEN);
    }
    put_u64(f, hq);
    put_u64(f, hd);
    put_u64(f, hr);
  }
  if (fclose(f) != 0) {
    perror(argv[1]);
    return 1;
  }
  return 0;
}
