#!/usr/bin/env bash
# Configures (only when needed) and builds the CMake presets.
#
#   bash scripts/build.sh [native] [wasm] [web]     (no argument: all three)
#     native  build/native: core, doctest suite, the qplay CLI (g++)
#     wasm    build/wasm: core, doctest suites for node, the wasm modules (Emscripten)
#     web     wasm, then copies the modules into web/wasm/ and uPlot + KaTeX into web/vendor/
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# Emscripten 3.1.6 (Debian) needs acorn from Debian's node path for every -O1+ link.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
export EMSDK_PYTHON=${EMSDK_PYTHON:-/usr/bin/python3}

targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(native wasm web)
fi
for t in "${targets[@]}"; do
  case $t in
    native | wasm | web) ;;
    -h | --help) sed -n '4,7s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "build: unknown target '$t' (native, wasm, web)" >&2; exit 2 ;;
  esac
done

# Ninja re-runs CMake by itself when a CMakeLists.txt or a globbed directory changes; a fresh
# configure is needed only without a complete build tree or after the presets changed.
configure_if_needed() {
  local preset=$1 dir=$root/build/$1
  local reason=""
  if [[ ! -f $dir/CMakeCache.txt || ! -f $dir/build.ninja ]]; then
    reason="no build tree yet"
  elif [[ CMakePresets.json -nt $dir/CMakeCache.txt ]]; then
    reason="CMakePresets.json changed"
  elif [[ -f CMakeUserPresets.json && CMakeUserPresets.json -nt $dir/CMakeCache.txt ]]; then
    reason="CMakeUserPresets.json changed"
  fi
  if [[ -n $reason ]]; then
    echo "build: configuring $preset ($reason)"
    cmake --preset "$preset"
  fi
}

build_preset() {
  configure_if_needed "$1"
  echo "build: building $1"
  cmake --build --preset "$1"
}

# The page loads web/wasm/qplay_{simd,baseline}.{js,wasm}; copies only what changed so the dev
# server's file times stay meaningful.
stage_web() {
  local src=$root/build/wasm/wasm dst=$root/web/wasm f
  mkdir -p "$dst"
  for f in qplay_simd.js qplay_simd.wasm qplay_baseline.js qplay_baseline.wasm; do
    if [[ ! -f $src/$f ]]; then
      echo "build: $src/$f was not produced by the wasm build" >&2
      exit 1
    fi
    cmp -s "$src/$f" "$dst/$f" || cp "$src/$f" "$dst/$f"
  done
  echo "build: web/wasm/ holds the SIMD and baseline modules"
}

# The page imports uPlot and KaTeX as self-contained ES modules from web/vendor/ (no bundler, no CDN:
# the page works offline and its CSP allows only 'self'). Sources are the npm devDependencies.
stage_vendor() {
  local nm=$root/node_modules dst=$root/web/vendor pair src out
  local files=(
    "uplot/dist/uPlot.esm.js:uPlot.esm.js"
    "uplot/dist/uPlot.min.css:uPlot.min.css"
    "katex/dist/katex.mjs:katex/katex.mjs"
    "katex/dist/katex.min.css:katex/katex.min.css"
  )
  for pair in "${files[@]}"; do
    src=$nm/${pair%%:*}
    if [[ ! -f $src ]]; then
      echo "build: $src is missing: run 'npm ci' (scripts/bootstrap.sh does)" >&2
      exit 1
    fi
  done
  mkdir -p "$dst/katex/fonts"
  for pair in "${files[@]}"; do
    src=$nm/${pair%%:*} out=$dst/${pair#*:}
    cmp -s "$src" "$out" || cp "$src" "$out"
  done
  for src in "$nm"/katex/dist/fonts/*; do
    out=$dst/katex/fonts/${src##*/}
    cmp -s "$src" "$out" || cp "$src" "$out"
  done
  echo "build: web/vendor/ holds uPlot and KaTeX"
}

built_wasm=0
for t in "${targets[@]}"; do
  case $t in
    native) build_preset native ;;
    wasm)
      ((built_wasm)) || build_preset wasm
      built_wasm=1
      ;;
    web)
      ((built_wasm)) || build_preset wasm
      built_wasm=1
      stage_web
      stage_vendor
      ;;
  esac
done
