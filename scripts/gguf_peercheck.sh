#!/usr/bin/env bash
# Peer check of qplay's GGUF writer against ggml's own reader (not part of npm test: it needs a
# ggml checkout). Builds ggml's ggml-base library (its gguf.cpp reader, type traits and
# dequantizers; CMake Release, no -march), links scripts/ggml_ref/gguf_peer.cpp against it and
# build/native's qplay_core, and runs it: qplay writes a multi-tensor .gguf of every type it writes,
# ggml's gguf_init_from_file loads it, and every header field, stored byte and decoded value is
# compared.
#   scripts/gguf_peercheck.sh /path/to/ggml
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ggml=${1:-${GGML_DIR:-}}
if [[ -z $ggml || ! -f $ggml/src/gguf.cpp ]]; then
  echo "usage: $0 GGML_DIR" >&2
  exit 2
fi
core=$root/build/native/core/libqplay_core.a
[[ -f $core ]] || { echo "build the native preset first (bash scripts/build.sh native)" >&2; exit 2; }

work=${GGUF_PEER_WORK:-$(mktemp -d)}
[[ -n ${GGUF_PEER_WORK:-} ]] || trap 'rm -rf "$work"' EXIT
if [[ ! -f $work/build/src/libggml-base.a ]]; then
  cmake -S "$ggml" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
    -DGGML_BUILD_TESTS=OFF -DGGML_BUILD_EXAMPLES=OFF > "$work/cmake.log"
  cmake --build "$work/build" --target ggml-base -j2 > "$work/build.log"
fi
g++ -std=c++20 -O1 -I"$ggml/include" -I"$root/core/include" "$root/scripts/ggml_ref/gguf_peer.cpp" \
  "$core" "$work/build/src/libggml-base.a" -fopenmp -lz -lm -lpthread -o "$work/gguf_peer"
"$work/gguf_peer" "$work/peer.gguf"
