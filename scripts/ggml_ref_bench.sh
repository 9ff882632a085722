#!/usr/bin/env bash
# Builds the native timer of ggml's reference quantizers (bench/ggml_ref.cpp) against a local ggml
# checkout: ggml's src/ggml-quants.c and scripts/ggml_ref/ref.c with gcc -O2 -DNDEBUG -std=gnu11
# (no -march), the timer with g++ -O2, all into a folder under /tmp (nothing of ggml enters the
# repository). bench/ggml.mjs then runs it beside the wasm timings.
#
#   scripts/ggml_ref_bench.sh GGML [REPS]
#     GGML   a ggml checkout (holding src/ggml-quants.c), or a git directory of ggml (e.g. the
#            mirror /work/.mirror/ggml-org+ggml/repo), whose HEAD is then exported into the folder
#     REPS   also run the timer standalone: REPS runs per type, medians printed
#   QPLAY_GGML_REF_DIR (default /tmp/qplay_ggml_ref) is where it builds; the binary is
#   $QPLAY_GGML_REF_DIR/ggml_ref_bench, with ggml_ref_bench.json naming the ggml commit and flags.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src=${1:-${GGML_DIR:-}}
reps=${2:-}
out=${QPLAY_GGML_REF_DIR:-/tmp/qplay_ggml_ref}
if [[ -z $src ]]; then
  echo "usage: $0 GGML_CHECKOUT_OR_GIT_DIR [REPS]" >&2
  exit 2
fi
mkdir -p "$out"
if [[ -f $src/src/ggml-quants.c ]]; then
  ggml=$src
  commit=$(git -C "$ggml" rev-parse HEAD 2>/dev/null || echo unknown)
elif git --git-dir="$src" rev-parse --verify -q HEAD >/dev/null; then
  ggml=$out/ggml
  rm -rf "$ggml"
  mkdir -p "$ggml"
  git --git-dir="$src" archive HEAD src include | tar -x -C "$ggml"
  commit=$(git --git-dir="$src" rev-parse HEAD)
else
  echo "$src is neither a ggml checkout (src/ggml-quants.c) nor a git directory" >&2
  exit 2
fi

cflags=(-O2 -DNDEBUG -std=gnu11)
inc=(-I"$ggml/include" -I"$ggml/src" -I"$ggml/src/ggml-cpu")
gcc "${cflags[@]}" "${inc[@]}" -c "$ggml/src/ggml-quants.c" -o "$out/ggml-quants.o"
gcc "${cflags[@]}" "${inc[@]}" -c "$root/scripts/ggml_ref/ref.c" -o "$out/ref.o"
g++ -std=c++20 -O2 -c "$root/bench/ggml_ref.cpp" -o "$out/ggml_ref.o"
g++ "$out/ggml_ref.o" "$out/ref.o" "$out/ggml-quants.o" -lm -o "$out/ggml_ref_bench"
printf '{"ggml_commit":"%s","cflags":"%s","compiler":"%s"}\n' "$commit" "${cflags[*]}" \
  "$(gcc --version | head -1)" >"$out/ggml_ref_bench.json"
echo "built $out/ggml_ref_bench (ggml ${commit:0:12}, gcc ${cflags[*]})"
if [[ -n $reps ]]; then
  "$out/ggml_ref_bench" "$reps"
fi
