#!/usr/bin/env node
// Runs the benchmark suite in node: both bench modules (SIMD and baseline builds), the JS loop and
// onnxruntime-web's wasm backend (1 thread) on the same data. Prints the tables and writes
// bench/results/node.json (read by bench/report.mjs).
//
//   node bench/run.mjs [--reps N] [--quick] [--out FILE]
//     --reps N   timed repetitions per case after one warm-up (default 7; medians are reported)
//     --quick    skip the range methods and the per-axis peers (a fast smoke run)
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

import * as ort from 'onnxruntime-web';

import { markdown } from './analyze.mjs';
import { here, loadBench, nodeEnv } from './node.mjs';
import { runSuite } from './suite.mjs';

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

const opts = parseArgs(process.argv.slice(2));
const log = (line) => process.stderr.write(`bench (node): ${line}\n`);
log('instantiating the SIMD and baseline modules and generating the data');
const simd = await loadBench('simd');
const baseline = await loadBench('baseline');
const result = await runSuite({ simd, baseline, ort, reps: opts.reps, quick: opts.quick, log });
result.env = { ...nodeEnv(), onnxruntime_web: ort.env.versions?.web ?? 'unknown' };
await mkdir(path.dirname(opts.out), { recursive: true });
await writeFile(opts.out, JSON.stringify(result, null, 1) + '\n');
process.stdout.write(markdown(result, 'node') + '\n');
log(`wrote ${path.relative(process.cwd(), opts.out)}`);
