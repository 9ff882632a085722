#!/usr/bin/env bash
# Everything `npm test` runs, in order, stopping at the first failure:
#   bootstrap, build native + wasm, ctest native, ctest wasm (doctest under node),
#   build + ctest of the asan preset, the format readers' libFuzzer harnesses,
#   node --test over tests/cli and tests/js, then the browser tests (tests/e2e, chromium).
# Each step's output is shown and kept in build/logs/<step>.log; a summary with each suite's
# closing line ends the run. Exit status 0 only when every step passed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
export EMSDK_PYTHON=${EMSDK_PYTHON:-/usr/bin/python3}

logs=$root/build/logs
mkdir -p "$logs"
jobs=$(nproc 2>/dev/null || echo 2)

summary=()
run_start=$EPOCHREALTIME

print_summary() {
  local total
  total=$(awk -v a="$run_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
  echo
  echo "==================== qplay test summary ===================="
  printf '%s\n' "${summary[@]}"
  echo "------------------------------------------------------------"
  echo "total ${total} s"
}

# The line that closes a suite's output (what CI and people read).
closing_line() {
  local kind=$1 log=$2
  case $kind in
    build)
      # On failure the first failing edge or CMake error says more than the last progress line.
      { grep -m 1 -E '^FAILED: |^CMake Error' "$log" ||
        grep -E '^\[[0-9]+/[0-9]+\]|^ninja: no work to do' "$log" | tail -n 1; } || true
      ;;
    ctest) grep -E 'tests passed|tests failed|No tests were found' "$log" | tail -n 1 || true ;;
    node)
      # node's spec reporter ends with "ℹ tests N", "ℹ pass N", "ℹ fail N", ... (the rest shown
      # only when not zero)
      awk '/^ℹ (tests|pass|fail|cancelled|skipped|todo) [0-9]+$/ {
             if ($2 ~ /^(tests|pass|fail)$/ || $3 != 0) { line = line sep $2 " " $3; sep = ", " }
           }
           END { print line }' "$log"
      ;;
    *) tail -n 1 "$log" ;;
  esac
}

# step NAME KIND COMMAND...: runs COMMAND, logs it, records the result; on failure prints the
# summary and exits.
step() {
  local name=$1 kind=$2
  shift 2
  local log start=$EPOCHREALTIME status=0
  log=$logs/$(printf '%s' "$name" | tr -cs 'A-Za-z0-9' '-').log
  echo
  echo "==> $name: $*"
  "$@" 2>&1 | tee "$log" || status=$?
  local secs
  secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
  local line
  line=$(closing_line "$kind" "$log")
  if ((status == 0)); then
    summary+=("$(printf '  ok    %-14s %7s s  %s' "$name" "$secs" "$line")")
  else
    summary+=("$(printf '  FAIL  %-14s %7s s  %s' "$name" "$secs" "$line")")
    summary+=("        exit status $status; full output in ${log#"$root"/}")
    print_summary
    echo "FAILED: $name" >&2
    exit 1
  fi
}

step "bootstrap" other bash scripts/bootstrap.sh
step "build native" build bash scripts/build.sh native
step "build wasm" build bash scripts/build.sh wasm
# --no-tests=error: a suite whose test discovery found nothing is a failure, not a pass.
# --timeout: a hung test case (one process per case) fails after 5 minutes instead of stalling CI.
step "ctest native" ctest ctest --preset native -j "$jobs" --no-tests=error --timeout 300
step "ctest wasm" ctest ctest --preset wasm -j "$jobs" --no-tests=error --timeout 300

# The doctest suites again under AddressSanitizer + UBSan, then every format reader's libFuzzer
# harness (fuzz/run.sh): 60 s each in CI (CI=true), QPLAY_FUZZ_SECONDS when set, else 10 s.
fuzz_seconds=${QPLAY_FUZZ_SECONDS:-$([[ ${CI:-} == true ]] && echo 60 || echo 10)}
step "build asan" build bash -c 'cmake --preset asan >/dev/null && cmake --build --preset asan'
step "ctest asan" ctest ctest --preset asan -j "$jobs" --no-tests=error --timeout 900
step "fuzz" other bash fuzz/run.sh all "$fuzz_seconds"

# Test files are listed explicitly: node 20 takes directories, node 22 takes globs.
mapfile -t js_tests < <(find tests/cli tests/js -name '*.test.mjs' -type f 2>/dev/null | sort)
if ((${#js_tests[@]})); then
  step "node --test" node node --test --test-timeout=300000 --test-reporter=spec \
    --test-reporter-destination=stdout "${js_tests[@]}"
else
  summary+=("$(printf '  skip  %-14s %7s    %s' "node --test" "" "no *.test.mjs in tests/cli or tests/js")")
fi

# Browser tests: Debian's chromium (installed by bootstrap --browser on a bare machine) drives the
# playground served from web/, which needs the wasm modules and the vendored uPlot/KaTeX staged.
mapfile -t e2e_tests < <(find tests/e2e -name '*.test.mjs' -type f 2>/dev/null | sort)
if ((${#e2e_tests[@]})); then
  step "bootstrap e2e" other bash scripts/bootstrap.sh --browser
  step "build web" build bash scripts/build.sh web
  step "e2e" node node --test --test-timeout=120000 --test-reporter=spec \
    --test-reporter-destination=stdout "${e2e_tests[@]}"
fi

print_summary
echo "ALL PASSED"
