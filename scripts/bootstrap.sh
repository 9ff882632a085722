#!/usr/bin/env bash
# Installs what the build and the tests need on Debian 12, and only what is missing.
# Presence is checked through files and commands (no apt or dpkg call), so a machine that has
# everything passes in a few milliseconds; `npm start`, `npm run build` and `npm test` call it first.
#
#   bash scripts/bootstrap.sh             apt packages for the native + wasm builds and the tests
#   bash scripts/bootstrap.sh --browser   also chromium (the e2e tests drive it)
#   bash scripts/bootstrap.sh --dry-run   print what would be installed, change nothing
set -euo pipefail

usage() {
  sed -n '6,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

dry_run=0
browser=0
for arg in "$@"; do
  case $arg in
    --dry-run) dry_run=1 ;;
    --browser) browser=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bootstrap: unknown option '$arg'" >&2; usage >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# "package probe...": the package counts as present when every probe exists. A probe is an absolute
# path (the file the build actually uses) or a command name looked up on PATH.
required=(
  "emscripten /usr/share/emscripten/cmake/Modules/Platform/Emscripten.cmake em++ /usr/share/nodejs/acorn"
  "doctest-dev /usr/include/doctest/doctest.h /usr/lib/cmake/doctest/doctest.cmake"
  "libsimde-dev /usr/include/simde/wasm/simd128.h"
  "cmake cmake"
  "g++ g++"
  "ninja-build ninja"
  "zlib1g-dev /usr/include/zlib.h"
  # The tests and fixture scripts read .npz through Debian's numpy with /usr/bin/python3.
  "python3-numpy /usr/lib/python3/dist-packages/numpy/__init__.py"
  # fuzz/run.sh: libFuzzer comes with clang's runtime libraries, a separate package from clang-14.
  "clang-14 clang++-14"
  "libclang-rt-14-dev /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a"
)
if ((browser)); then
  # Recommends are not installed, and chromium-common only recommends fonts: without a font
  # package, screenshots depend on whatever fonts happen to be on the machine.
  # fonts-nanum: the playground has a Korean UI, and its screenshots need Hangul glyphs.
  required+=("chromium /usr/bin/chromium" "fonts-liberation /usr/share/fonts/truetype/liberation"
    "fonts-nanum /usr/share/fonts/truetype/nanum")
fi

missing=()
for entry in "${required[@]}"; do
  read -r pkg probes <<<"$entry"
  for probe in $probes; do
    if [[ $probe == /* ]]; then
      [[ -e $probe ]] || { missing+=("$pkg"); break; }
    else
      command -v "$probe" >/dev/null 2>&1 || { missing+=("$pkg"); break; }
    fi
  done
done

# Node.js and npm are not installed from here: Debian 12's nodejs is 18 and the project needs >= 20.
node_problem=""
if ! command -v node >/dev/null 2>&1; then
  node_problem="node is not on PATH"
elif ! command -v npm >/dev/null 2>&1; then
  node_problem="npm is not on PATH"
else
  node_version=$(node --version)
  node_major=${node_version#v}
  node_major=${node_major%%.*}
  if ((node_major < 20)); then
    node_problem="node $node_version is too old"
  fi
fi
if [[ -n $node_problem ]]; then
  echo "bootstrap: $node_problem; qplay needs Node.js >= 20 with npm (Debian 12 ships 18)." >&2
  echo "bootstrap: install Node.js 20 or newer (for example the NodeSource .deb) and run this again." >&2
  exit 1
fi

# npm ci only when the lock file lists packages and node_modules does not hold that lock yet
# (npm writes node_modules/.package-lock.json after an install). With no dependencies there is
# nothing to install and npm would not create node_modules at all.
need_npm_ci=0
lock=$root/package-lock.json
if [[ ! -f $lock ]]; then
  echo "bootstrap: $lock is missing; run 'npm install' and commit the lock file." >&2
  exit 1
fi
if grep -q '"node_modules/' "$lock"; then
  hidden_lock=$root/node_modules/.package-lock.json
  if [[ ! -f $hidden_lock || $lock -nt $hidden_lock ]]; then
    need_npm_ci=1
  fi
fi

apt_flags=(-y --no-install-recommends)
if ((dry_run)); then
  if ((${#missing[@]} == 0 && need_npm_ci == 0)); then
    echo "bootstrap: nothing to install"
  fi
  if ((${#missing[@]})); then
    echo "bootstrap: would run: apt-get update && apt-get install ${apt_flags[*]} ${missing[*]}"
  fi
  if ((need_npm_ci)); then
    echo "bootstrap: would run: npm ci (in $root)"
  fi
  exit 0
fi

if ((${#missing[@]})); then
  if ((EUID != 0)); then
    echo "bootstrap: missing Debian packages: ${missing[*]}" >&2
    echo "bootstrap: install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install ${apt_flags[*]} ${missing[*]}" >&2
    echo "bootstrap: (or run 'sudo bash scripts/bootstrap.sh $*')" >&2
    exit 1
  fi
  echo "bootstrap: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Waits for a dpkg lock held by another apt run instead of failing at once.
  apt_opts=(-q -o DPkg::Lock::Timeout=600)
  apt-get "${apt_opts[@]}" update
  apt-get "${apt_opts[@]}" install "${apt_flags[@]}" "${missing[@]}"
  # Confirms the probes now pass, so a package that no longer provides a file fails here clearly.
  for entry in "${required[@]}"; do
    read -r pkg probes <<<"$entry"
    for probe in $probes; do
      if [[ $probe == /* ]]; then
        [[ -e $probe ]] && continue
      else
        command -v "$probe" >/dev/null 2>&1 && continue
      fi
      echo "bootstrap: $pkg is installed but $probe is still missing" >&2
      exit 1
    done
  done
fi

if ((need_npm_ci)); then
  echo "bootstrap: npm ci"
  (cd "$root" && npm ci --no-audit --no-fund)
fi

if ((${#missing[@]} == 0 && need_npm_ci == 0)); then
  echo "bootstrap: all dependencies present"
fi
