#!/usr/bin/env bash
# Regenerates tests/data/ggml/ref_vectors.bin from a real ggml build: compiles ggml's
# src/ggml-quants.c (its quantize_row_*_ref / dequantize_row_* reference code) with the flags of a
# ggml Release build on x86-64 (-O3 -DNDEBUG -std=gnu11, no -march: no FMA), plus
# scripts/ggml_ref/{ref.c,make_vectors.c}, and runs it over the rows of tests/ggml_rows.h.
#
# Needs a local ggml checkout (https://github.com/ggml-org/ggml, or llama.cpp's ggml/ folder):
#   scripts/make_ggml_vectors.sh /path/to/ggml
# The fixture records the checkout's commit. The tests never need the checkout. The fixture was
# made on x86-64 Linux with glibc (the build must not contract into FMA, as gcc would on aarch64).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ggml=${1:-${GGML_DIR:-}}
if [[ -z $ggml || ! -f $ggml/src/ggml-quants.c ]]; then
  echo "usage: $0 GGML_DIR   (a ggml checkout containing src/ggml-quants.c)" >&2
  exit 2
fi
commit=$(git -C "$ggml" rev-parse HEAD 2>/dev/null || echo unknown)
commit=$(printf '%-40.40s' "$commit")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc=${CC:-gcc}
flags=(-O3 -DNDEBUG -std=gnu11 -I"$ggml/include" -I"$ggml/src" -I"$ggml/src/ggml-cpu")
"$cc" "${flags[@]}" -c "$ggml/src/ggml-quants.c" -o "$work/ggml-quants.o"
"$cc" "${flags[@]}" -c "$root/scripts/ggml_ref/ref.c" -o "$work/ref.o"
"$cc" -O2 -std=gnu11 -c "$root/scripts/ggml_ref/make_vectors.c" -o "$work/make_vectors.o"
"$cc" "$work/make_vectors.o" "$work/ref.o" "$work/ggml-quants.o" -lm -o "$work/make_vectors"

mkdir -p "$root/tests/data/ggml"
"$work/make_vectors" "$root/tests/data/ggml/ref_vectors.bin" "$commit"
echo "wrote tests/data/ggml/ref_vectors.bin ($(wc -c <"$root/tests/data/ggml/ref_vectors.bin") bytes) from ggml ${commit}"
