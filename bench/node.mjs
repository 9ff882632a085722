// Node-only helpers of the bench runners (bench/run.mjs, bench/ggml.mjs): loading the bench
// modules from the build tree and describing the machine a result came from.
import { readFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { BenchModule } from './suite.mjs';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '..');
// QPLAY_BENCH_DIR points at another build tree's bench modules (e.g. to compare two checkouts).
const buildDir = process.env.QPLAY_BENCH_DIR ?? path.join(root, 'build', 'wasm', 'bench');

// The checkout measured ("abc1234" or "abc1234-dirty"), so a results table names its code.
function commitOf(dir) {
  try {
    return execFileSync('git', ['-C', dir, 'describe', '--always', '--dirty'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

// The modules are ES6 builds for web and workers; node loads them when handed the binary (the
// Emscripten 3.1.6 loader would try to fetch() a file path).
export async function loadBench(flavour) {
  const js = path.join(buildDir, `qplay_bench_${flavour}.js`);
  const wasm = path.join(buildDir, `qplay_bench_${flavour}.wasm`);
  let binary;
  try {
    binary = await readFile(wasm);
  } catch {
    throw new Error(`${wasm} is missing: build it with 'bash scripts/build.sh wasm'`);
  }
  const { default: create } = await import(js);
  return new BenchModule(await create({ wasmBinary: binary }), flavour);
}

// Runtime, CPU, load average (1, 5, 15 min), date and commit, for the header of a results table.
export function nodeEnv() {
  return {
    runtime: `node ${process.version} (V8 ${process.versions.v8})`,
    cpu: `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores`,
    load: os.loadavg().map((v) => v.toFixed(1)).join(' '),
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    commit: commitOf(root),
  };
}
