#!/usr/bin/env node
// Compares two builds of the SIMD bench module (e.g. before and after a kernel change) in one
// node process: the cases run interleaved, build after build, and each run is timed as process
// CPU time as well as wall time. On a machine shared with other jobs CPU time is the steadier of
// the two: time the process spends waiting for a core does not count. Prints a markdown table of
// medians (the table in docs/PERFORMANCE.md "What changed" came from this).
//
//   node bench/compare.mjs OLD_DIR NEW_DIR [--reps N] [--cases id,id,...]
//     OLD_DIR, NEW_DIR   folders holding qplay_bench_simd.{js,wasm} (build/wasm/bench of a checkout)
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { BenchModule, median } from './suite.mjs';

const DEFAULT_CASES = ['stream', 'read', 'given_tensor', 'given_channel0', 'given_channel1', 'given_block32',
  'given_block128', 'dynamic_tensor', 'dynamic_channel1', 'dynamic_block32', 'dequantize_tensor',
  'k_quantize_u8', 'k_quantize_i8_inv', 'k_quantize_vec_u8', 'k_minmax', 'k_histogram'];

const args = process.argv.slice(2);
const dirs = [];
let reps = 7;
let cases = DEFAULT_CASES;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--reps') reps = Number(args[++i]);
  else if (args[i] === '--cases') cases = args[++i].split(',');
  else dirs.push(path.resolve(args[i]));
}
if (dirs.length !== 2 || !Number.isInteger(reps) || reps < 1) {
  process.stderr.write('usage: node bench/compare.mjs OLD_DIR NEW_DIR [--reps N] [--cases id,id,...]\n');
  process.exit(2);
}

const builds = [];
for (const [name, dir] of [['old', dirs[0]], ['new', dirs[1]]]) {
  const { default: create } = await import(path.join(dir, 'qplay_bench_simd.js'));
  const wasmBinary = await readFile(path.join(dir, 'qplay_bench_simd.wasm'));
  builds.push({ name, bench: new BenchModule(await create({ wasmBinary }), name) });
}
for (const id of cases)
  for (const b of builds)
    if (!b.bench.index.has(id)) throw new Error(`${b.name} build has no case '${id}'`);

const cpu = Object.fromEntries(cases.map((id) => [id, { old: [], new: [] }]));
const wall = Object.fromEntries(cases.map((id) => [id, { old: [], new: [] }]));
for (let rep = -1; rep < reps; rep++) {  // one warm-up repetition
  for (const id of cases)
    for (const b of builds) {
      const before = process.cpuUsage();
      const ms = b.bench.run(id);
      const used = process.cpuUsage(before);
      if (rep < 0) continue;
      wall[id][b.name].push(ms);
      cpu[id][b.name].push((used.user + used.system) / 1000);
    }
  process.stderr.write(`compare: ${rep < 0 ? 'warm-up' : `repetition ${rep + 1}/${reps}`} done\n`);
}

const lines = ['| case | old CPU ms | new CPU ms | old / new | old wall ms | new wall ms |', '|---|---:|---:|---:|---:|---:|'];
for (const id of cases) {
  const label = builds[1].bench.cases[builds[1].bench.index.get(id)].label;
  const o = median(cpu[id].old), n = median(cpu[id].new);
  lines.push(`| ${label} | ${o.toFixed(1)} | ${n.toFixed(1)} | ${(o / n).toFixed(2)}x | ` +
             `${median(wall[id].old).toFixed(1)} | ${median(wall[id].new).toFixed(1)} |`);
}
process.stdout.write(lines.join('\n') + '\n');
