#!/usr/bin/env bash
# Bulk cross-check and benchmark of qplay's ggml formats against a real ggml build (not part of
# npm test: it needs a ggml checkout). Builds ggml's src/ggml-quants.c as a ggml Release build on
# x86-64 would (-O3 -DNDEBUG -std=gnu11, no -march), links scripts/ggml_ref/crosscheck.cpp against
# build/native's qplay_core, and runs it:
#   scripts/ggml_crosscheck.sh /path/to/ggml [ROWS_PER_TYPE] [nofp16] [nobench]
# ROWS_PER_TYPE (default 20000) rows per type and kernel twin are compared byte for byte, plus
# fp32 -> fp16 over all 2^32 floats (skip with nofp16), then quantize throughput is printed (skip
# with nobench). GGML_CFLAGS adds flags to ggml's build (e.g. -march=native to see what FMA
# contraction does to ggml's own bytes).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ggml=${1:-${GGML_DIR:-}}
if [[ -z $ggml || ! -f $ggml/src/ggml-quants.c ]]; then
  echo "usage: $0 GGML_DIR [ROWS_PER_TYPE] [nofp16] [nobench]" >&2
  exit 2
fi
shift
core=$root/build/native/core/libqplay_core.a
[[ -f $core ]] || { echo "build the native preset first (cmake --build build/native)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck disable=SC2206
flags=(-O3 -DNDEBUG -std=gnu11 ${GGML_CFLAGS:-} -I"$ggml/include" -I"$ggml/src" -I"$ggml/src/ggml-cpu")
gcc "${flags[@]}" -c "$ggml/src/ggml-quants.c" -o "$work/ggml-quants.o"
gcc "${flags[@]}" -c "$root/scripts/ggml_ref/ref.c" -o "$work/ref.o"
g++ -std=c++20 -O2 -DQPLAY_HAVE_SIMD128=1 -I"$root/core/include" -I"$root/core/src" \
  -c "$root/scripts/ggml_ref/crosscheck.cpp" -o "$work/crosscheck.o"
g++ "$work/crosscheck.o" "$work/ref.o" "$work/ggml-quants.o" "$core" -lz -lm -o "$work/crosscheck"
"$work/crosscheck" "$@"
