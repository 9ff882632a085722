#!/usr/bin/env node
// Runs the benchmark suite in node: both bench modules (SIMD and baseline builds), the JS loop and
// onnxruntime-web's wasm backend (1 thread) on the same data. Prints the tables and writes
// bench/results/node.json (read by bench/report.mjs).
//
//   node bench/run.mjs [--reps N] [--quick] [--out FILE]
//     --reps N   timed repetitions per case after one warm-up (default 7; medians are reported)
//     --quick    skip the range methods and the per-axis peers (a fast smoke run)
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as ort from 'onnxruntime-web';

import { markdown } from './analyze.mjs';
import { BenchModule, runSuite } from './suite.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
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

function parseArgs(argv) {
  const opts = { reps: 7, quick: false, out: path.join(here, 'results', 'node.json') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--reps') opts.reps = Number(argv[++i]);
    else if (a === '--quick') opts.quick = true;
    else if (a === '--out') opts.out = path.resolve(argv[++i]);
    else {
      process.stderr.write(`run.mjs: unknown option '${a}'\n`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(opts.reps) || opts.reps < 1) {
    process.stderr.write('run.mjs: --reps needs a positive integer\n');
    process.exit(2);
  }
  return opts;
}

// The modules are ES6 builds for web and workers; node loads them when handed the binary (the
// Emscripten 3.1.6 loader would try to fetch() a file path).
async function load(flavour) {
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

const opts = parseArgs(process.argv.slice(2));
const log = (line) => process.stderr.write(`bench (node): ${line}\n`);
log('instantiating the SIMD and baseline modules and generating the data');
const simd = await load('simd');
const baseline = await load('baseline');
const result = await runSuite({ simd, baseline, ort, reps: opts.reps, quick: opts.quick, log });
result.env = {
  runtime: `node ${process.version} (V8 ${process.versions.v8})`,
  cpu: `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores`,
  load: os.loadavg().map((v) => v.toFixed(1)).join(' '),
  date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
  commit: commitOf(root),
  onnxruntime_web: ort.env.versions?.web ?? 'unknown',
};
await mkdir(path.dirname(opts.out), { recursive: true });
await writeFile(opts.out, JSON.stringify(result, null, 1) + '\n');
process.stdout.write(markdown(result, 'node') + '\n');
log(`wrote ${path.relative(process.cwd(), opts.out)}`);
