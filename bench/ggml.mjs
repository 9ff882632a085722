#!/usr/bin/env node
// Benchmarks the ggml block formats and the float / lookup element encoders in wasm (the SIMD bench
// module, node) against two same-run references: the wasm stream pass (read float32, write a byte
// per element: the memory ceiling) and ggml's own quantize_row_*_ref compiled natively from a ggml
// checkout (scripts/ggml_ref_bench.sh builds it into /tmp). Within each repetition every case runs
// right after its own stream pass and its native _ref, so each ratio compares timings taken
// seconds apart under the same machine load. Writes bench/results/ggml.json (read by
// bench/report.mjs) and prints the table.
//
//   node bench/ggml.mjs [--reps N] [--ref BIN] [--out FILE] [--cases id,id,...]
//     --reps N   timed repetitions after one warm-up (default 7; medians are reported)
//     --ref BIN  the native _ref timer (default $QPLAY_GGML_REF_DIR/ggml_ref_bench, i.e.
//                /tmp/qplay_ggml_ref/ggml_ref_bench); without it the native columns stay empty
//     --cases    only these case ids (e.g. ggml_q4_k,fp8_e4m3fn)
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

import { ggmlMarkdown } from './analyze.mjs';
import { here, loadBench, nodeEnv } from './node.mjs';

function parseArgs(argv) {
  const refDir = process.env.QPLAY_GGML_REF_DIR ?? '/tmp/qplay_ggml_ref';
  const opts = { reps: 7, ref: path.join(refDir, 'ggml_ref_bench'), out: path.join(here, 'results', 'ggml.json'), cases: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--reps') opts.reps = Number(argv[++i]);
    else if (a === '--ref') opts.ref = path.resolve(argv[++i]);
    else if (a === '--out') opts.out = path.resolve(argv[++i]);
    else if (a === '--cases') opts.cases = argv[++i].split(',');
    else {
      process.stderr.write(`ggml.mjs: unknown option '${a}'\n`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(opts.reps) || opts.reps < 1) {
    process.stderr.write('ggml.mjs: --reps needs a positive integer\n');
    process.exit(2);
  }
  return opts;
}

// The native timer in serve mode: one GGUF type id per line in, milliseconds per line out.
async function startNative(bin) {
  const child = spawn(bin, ['serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`${bin} exited`);
    return value;
  };
  const ready = await next();
  if (!ready.startsWith('ready ')) throw new Error(`${bin}: unexpected '${ready}'`);
  return {
    elements: Number(ready.slice(6)),
    // {wall, cpu} milliseconds of one quantize_row_*_ref over the tensor.
    async run(id) {
      child.stdin.write(`${id}\n`);
      const line = await next();
      const [wall, cpu] = line.split(' ').map(Number);
      if (!Number.isFinite(wall) || !Number.isFinite(cpu)) throw new Error(`${bin}: ${line}`);
      return { wall, cpu };
    },
    stop() {
      child.stdin.end('quit\n');
    },
  };
}

const opts = parseArgs(process.argv.slice(2));
const log = (line) => process.stderr.write(`bench (ggml): ${line}\n`);
log('instantiating the SIMD module and generating the data');
const simd = await loadBench('simd');
if (!simd.info.simd) throw new Error('the SIMD bench module runs without its SIMD kernels');
let native = null, refInfo = null;
if (existsSync(opts.ref)) {
  native = await startNative(opts.ref);
  if (native.elements !== simd.elements()) throw new Error(`${opts.ref} times ${native.elements} elements, wasm ${simd.elements()}`);
  try {
    refInfo = JSON.parse(await readFile(`${opts.ref}.json`, 'utf8'));
  } catch {
    refInfo = {};
  }
  log(`native _ref timer: ${opts.ref}`);
} else {
  log(`no native _ref timer at ${opts.ref} (build it with scripts/ggml_ref_bench.sh GGML): native columns stay empty`);
}

const cases = simd.cases.filter((c) => (c.group === 'ggml' || c.group === 'float') && (!opts.cases || opts.cases.includes(c.id)));
// Per case and repetition: CPU ms (what the targets use: time spent waiting for one of the shared
// cores does not count) and wall ms, of the case, its stream pass and its native _ref.
const samples = Object.fromEntries(cases.map((c) => [c.id, { wasm: [], stream: [], native: [], wall: { wasm: [], stream: [], native: [] } }]));
// Wall ms (timed in wasm) and the node process's CPU ms of one run of a wasm case.
const wasmRun = (id) => {
  const before = process.cpuUsage();
  const wall = simd.run(id);
  const used = process.cpuUsage(before);
  return { wall, cpu: (used.user + used.system) / 1000 };
};
const env = { ...nodeEnv(), load_end: null };
for (let rep = -1; rep < opts.reps; rep++) {
  const started = performance.now();
  for (const c of cases) {
    const s = samples[c.id];
    const t = { stream: wasmRun('stream'), native: native && c.ggml_ref ? await native.run(c.ggml_ref) : null, wasm: wasmRun(c.id) };
    if (rep < 0) continue;
    for (const k of ['stream', 'native', 'wasm']) {
      if (!t[k]) continue;
      s[k].push(t[k].cpu);
      s.wall[k].push(t[k].wall);
    }
  }
  log(`${rep < 0 ? 'warm-up' : `repetition ${rep + 1}/${opts.reps}`} took ${((performance.now() - started) / 1000).toFixed(1)} s` +
      `, load ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}`);
}
native?.stop();
env.load_end = os.loadavg().map((v) => v.toFixed(1)).join(' ');

const result = {
  elements: simd.elements(),
  reps: opts.reps,
  warmup: 1,
  env,
  kernels: simd.info.kernels,
  native: native ? { timer: path.basename(opts.ref), ...refInfo } : null,
  cases: cases.map((c) => ({ ...c, ...samples[c.id] })),
};
await mkdir(path.dirname(opts.out), { recursive: true });
await writeFile(opts.out, JSON.stringify(result, null, 1) + '\n');
process.stdout.write(ggmlMarkdown(result) + '\n');
log(`wrote ${path.relative(process.cwd(), opts.out)}`);
