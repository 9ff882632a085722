#!/usr/bin/env bash
# Builds one libFuzzer harness (or all) with clang and runs it:
#   fuzz/run.sh HARNESS SECONDS      HARNESS: npy npz safetensors gguf text raw, or all
# New corpus entries go to build/fuzz/corpus/HARNESS (the committed seeds in fuzz/corpus stay
# as they are), crashes to build/fuzz/artifacts/. One process at a time: the machines are shared.
# Prints "fuzz HARNESS: N executions in S s" per harness; exits non-zero on a crash.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
harnesses=(npy npz safetensors gguf text raw)
if (($# < 1)); then
  echo "usage: fuzz/run.sh HARNESS|all [SECONDS]  (harnesses: ${harnesses[*]})" >&2
  exit 2
fi
which=$1
seconds=${2:-10}
if [[ $which == all ]]; then
  selected=("${harnesses[@]}")
elif [[ " ${harnesses[*]} " == *" $which "* ]]; then
  selected=("$which")
else
  echo "fuzz/run.sh: unknown harness '$which' (harnesses: ${harnesses[*]}, all)" >&2
  exit 2
fi

cxx=$(command -v clang++-14 || command -v clang++ || true)
if [[ -z $cxx ]]; then
  echo "fuzz/run.sh: clang++ not found (apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 1
fi
build=$root/build/fuzz
if [[ ! -f $build/build.ninja ]]; then
  cmake -S "$root/fuzz" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
fi
cmake --build "$build" --target "${selected[@]/#/fuzz_}"

status=0
for h in "${selected[@]}"; do
  corpus=$build/corpus/$h
  mkdir -p "$corpus" "$build/artifacts"
  log=$build/$h.log
  dict=()
  [[ -f $root/fuzz/$h.dict ]] && dict=(-dict="$root/fuzz/$h.dict")
  # -rss_limit_mb: a reader that trusts a declared size allocates far past this and is reported.
  if ! "$build/fuzz_$h" "$corpus" "$root/fuzz/corpus/$h" "${dict[@]}" -max_total_time="$seconds" \
      -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 -artifact_prefix="$build/artifacts/$h-" \
      >"$log" 2>&1; then
    status=1
    tail -n 40 "$log"
    echo "fuzz $h: CRASH (log: ${log#"$root"/}, inputs in build/fuzz/artifacts/)"
    continue
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
  echo "fuzz $h: ${runs:-?} executions in ${secs:-$seconds} s, corpus $(ls "$corpus" | wc -l) files"
done
exit $status
