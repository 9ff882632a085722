// Before/after check for reshaping work: a digest of everything the CLI produces (exit status,
// stdout, stderr, the written files) over the fixtures and an option matrix, compared with the
// digests the CLI gave before (tests/data/golden/cli.json). A refactoring that changes one byte of
// a bundle, a summary line or an error message fails here and names the case.
// QPLAY_GOLDEN_WRITE=1 rewrites the file from the CLI under test (only when a change is meant).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { cli, repo } from './helpers.mjs';

const data = path.join(repo, 'tests', 'data');
const goldenFile = path.join(data, 'golden', 'cli.json');
const writing = process.env.QPLAY_GOLDEN_WRITE === '1';

const fixtures = fs.readdirSync(data).filter((f) => fs.statSync(path.join(data, f)).isFile()).sort();

// [name, args, output extensions written by the run ('' = none)]
const cases = [];
const add = (args, outputs = []) => cases.push({ args, outputs });

// Every fixture: info, the default run, and a few option sets any shape takes.
for (const f of fixtures) {
  add(['info', f]);
  add(['quantize', f, '-o', '@out.npz']);
  add(['quantize', f, '--json', '-o', '@out.npz']);
  add(['quantize', f, '--dtype', 'int4', '--granularity', 'channel', '--axis', '-1', '-o', '@out.safetensors']);
  add(['quantize', f, '--dtype', 'nf4', '-o', '@out.npz']);
}

const matrix = [
  ...['int8', 'uint8', 'int4', 'uint4', 'int2', 'uint1', 'int3', 'uint7', 'int16', 'uint16']
    .flatMap((d) => [['--dtype', d], ['--dtype', d, '--mode', 'symmetric']]),
  ['--narrow'], ['--narrow', '--dtype', 'uint8'], ['--reduce-range'], ['--reduce-range', '--dtype', 'uint8'],
  ['--narrow', '--reduce-range', '--dtype', 'int2'],
  ...[0, 1, -1, 3].map((a) => ['--granularity', 'channel', '--axis', String(a)]),
  ...[[1, 0], [3, 1], [4, -1]].map(([g, a]) => ['--granularity', 'group', '--group-size', String(g), '--axis', String(a)]),
  ...[[1, 0], [3, 1], [5, -1], [16, 0]].map(([b, a]) => ['--granularity', 'block', '--block-size', String(b), '--axis', String(a)]),
  ['--granularity', 'group'], ['--granularity', 'block'], ['--group-size', '2'], ['--block-size', '2'],
  ['--range', 'percentile:90'], ['--range', 'mse'], ['--range', 'kl'], ['--range', 'aciq', '--mode', 'symmetric'],
  ['--range', 'percentile:0'], ['--range', 'foo'],
  ['--rounding', 'half-away'], ['--rounding', 'half-up'], ['--rounding', 'stochastic:7'], ['--rounding', 'stochastic:x'],
  ['--zero-point-domain', 'float', '--dtype', 'uint8'], ['--zero-point-domain', 'float', '--mode', 'symmetric'],
  ['--profile', 'seed', '--dtype', 'uint8'], ['--profile', 'pytorch'], ['--profile', 'pytorch', '--reduce-range', '--dtype', 'uint8'],
  ['--profile', 'pytorch', '--dtype', 'uint8', '--zero-point-domain', 'float', '--granularity', 'channel'],
  ['--profile', 'pytorch', '--zero-point-domain', 'float'],
  ['--profile', 'onnx', '--dtype', 'uint8'], ['--profile', 'onnx', '--reduce-range'], ['--profile', 'onnx', '--rounding', 'half-up'],
  ['--profile', 'ort-tool', '--mode', 'symmetric'], ['--profile', 'ort-tool', '--reduce-range', '--dtype', 'uint8'],
  ['--profile', 'ort-tool', '--narrow'], ['--profile', 'ort-tool', '--reduce-range', '--dtype', 'int2'],
  ['--profile', 'nope'], ['--mode', 'sym'], ['--dtype', 'int9'], ['--dtype', 'fp9'],
  ['--scale', '0.037', '--zero-point', '3'], ['--scale', '0.1'], ['--scale', '1e-40'], ['--scale', 'abc'],
  ['--zero-point', '3'], ['--scale', '0.1', '--params', 'params_4x6_axis0.npz'],
  ['--scale', '0.05', '--zero-point', '1.5', '--dtype', 'uint8', '--zero-point-domain', 'float'],
  ['--scale', '0.05', '--zero-point', '300'], ['--scale', '0.1', '--range', 'mse'],
  ['--bins', '1'], ['--bins', '1000'], ['--bins', '0'], ['--bits', '3'], ['--axis', '99'], ['--axis', 'x'],
  ['--block-size', '0', '--granularity', 'block'], ['--group-size', '-1', '--granularity', 'group'],
  ['--dtype', 'nf4', '--granularity', 'block', '--block-size', '4', '--axis', '-1', '--pack', 'high-first'],
  ['--dtype', 'fp4', '--granularity', 'channel', '--pack', 'awq'], ['--dtype', 'iq4_nl', '--pack', 'gptq'],
  ['--dtype', 'fp8_e4m3fn'], ['--dtype', 'fp8_e5m2', '--no-saturate', '--granularity', 'channel', '--axis', '-1'],
  ['--dtype', 'fp8_e4m3fnuz'], ['--dtype', 'fp8_e5m2fnuz'], ['--dtype', 'fp6_e3m2', '--rounding', 'half-away'],
  ['--dtype', 'fp6_e2m3'], ['--dtype', 'fp4_e2m1'],
  ['--dtype', 'mxfp4', '--axis', '-1'], ['--dtype', 'mxfp8_e5m2'], ['--dtype', 'mxint8', '--axis', '-1'],
  ['--dtype', 'mxfp6_e2m3', '--scale-rule', 'rceil', '--axis', '-1'],
  ['--dtype', 'pow2', '--bits', '3'], ['--dtype', 'kmeans', '--granularity', 'channel'], ['--dtype', 'kmeans', '--bits', '2'],
  ['--dtype', 'int4', '--pack', 'low-first'], ['--dtype', 'int8', '--pack', 'low-first'], ['--pack', 'zig'],
  ['--dtype', 'mxfp4', '--granularity', 'channel'], ['--dtype', 'nf4', '--scale', '0.1'], ['--dtype', 'nf4', '--bits', '3'],
  ['--dtype', 'nf4', '--mode', 'asymmetric'], ['--dtype', 'nf4', '--narrow'], ['--dtype', 'fp8_e4m3fn', '--profile', 'onnx'],
  ['--dtype', 'nf4', '--rounding', 'half-up'], ['--dtype', 'pow2', '--bits', '1'],
  ['--profile', 'bnb'], ['--profile', 'bnb', '--dtype', 'fp4', '--block-size', '32', '--double-quant'],
  ['--profile', 'bnb', '--double-quant'], ['--profile', 'bnb', '--block-size', '48'], ['--profile', 'bnb', '--axis', '1'],
  ['--profile', 'bnb', '--dtype', 'int4'], ['--profile', 'bnb', '--pack', 'low-first'],
  ['--profile', 'mx', '--axis', '-1'], ['--profile', 'mx', '--dtype', 'mxfp4', '--axis', '-1'], ['--profile', 'mx', '--rounding', 'half-away'],
  ['--profile', 'mx', '--no-saturate'], ['--profile', 'mx', '--scale-rule', 'rceil'],
  ['--granularity', 'channel', '--double-quant'], ['--granularity', 'channel', '--mode', 'symmetric', '--dtype', 'int4', '--double-quant'],
  ['--dtype', 'nf4', '--granularity', 'block', '--block-size', '2', '--axis', '-1', '--double-quant'],
  ['--dtype', 'fp8_e4m3fn', '--granularity', 'channel', '--double-quant'],
  ['--double-quant'], ['--dtype', 'mxfp4', '--double-quant'], ['--dtype', 'kmeans', '--granularity', 'channel', '--double-quant'],
  ['--scale-rule', 'rceil'], ['--dtype', 'int8', '--dtype', 'int4'], ['--narrow=yes'], ['--frobnicate'],
];
for (const f of ['vec17_f32.npy', 'mat4x6_f32.npy', 't2x3x4x5_f32.npy', 'nan_inf_f32.npy']) {
  for (const args of matrix) add(['quantize', f, ...args, '-o', '@out.npz']);
}

// Params sources.
for (const args of [
  ['--dtype', 'uint8', '--granularity', 'channel', '--axis', '0', '--params', 'params_4x6_axis0.npz'],
  ['--dtype', 'uint8', '--granularity', 'channel', '--axis', '1', '--params', 'params_4x6_axis0.npz'],
  ['--params', 'mat4x6_f32.npy'], ['--params', 'missing.npz'],
  ['--calibrate', 'calib_a.npy', 'calib_b.npy'],
  ['--granularity', 'channel', '--calibrate', 'calib_a.npy', 'calib_b.npy', '--observer', 'moving-average:0.1'],
  ['--profile', 'pytorch', '--dtype', 'uint8', '--calibrate', 'calib_a.npy', 'calib_b.npy', '--observer', 'minmax'],
  ['--granularity', 'channel', '--calibrate', 'vec17_f32.npy'], ['--calibrate', 'calib_a.npy', '--observer', 'moving-average:2'],
  ['--observer', 'minmax'], ['--calibrate', 'calib_a.npy', '--scale', '0.1'], ['--dtype', 'nf4', '--calibrate', 'calib_a.npy'],
]) add(['quantize', 'mat4x6_f32.npy', ...args, '-o', '@out.npz']);

// ggml formats, every output.
const ggml = ['q8_0', 'q8_1', 'q4_0', 'q4_1', 'q5_0', 'q5_1', 'q2_k', 'q3_k', 'q4_k', 'q5_k', 'q6_k', 'iq4_nl', 'mxfp4'];
for (const fmt of ggml) {
  const tensor = fmt.endsWith('_k') ? 'blk.0.q4_k' : 'blk.0.q4_0';
  add(['quantize', 'tiny.gguf', '--tensor', tensor, '--format', fmt, '-o', '@out.npz']);
  add(['quantize', 'tiny.gguf', '--tensor', tensor, '--format', fmt, '-o', '@out.gguf']);
}
for (const args of [
  ['--tensor', 'blk.0.q4_0', '--profile', 'ggml'], ['--tensor', 'blk.0.q4_0', '--format', 'iq4_nl', '--pack', 'ggml'],
  ['--tensor', 'blk.0.q4_0', '--format', 'q4_k'], ['--tensor', 'blk.0.q4_0', '--format', 'q4_0', '--mode', 'asymmetric'],
  ['--tensor', 'blk.0.q4_0', '--format', 'q4_0', '--dtype', 'int4'], ['--tensor', 'blk.0.q4_0', '--format', 'q4_x'],
  ['--tensor', 'blk.0.q4_0', '--format', 'q8_0', '--double-quant'], ['--tensor', 'blk.0.q4_0', '--format', 'q8_0', '--scale', '1'],
  ['--tensor', 'blk.0.q4_0', '--profile', 'ggml', '--dtype', 'int8'], ['--tensor', 'blk.0.q4_0', '--format', 'q8_0', '--pack', 'ggml'],
]) add(['quantize', 'tiny.gguf', ...args, '-o', '@out.npz']);
add(['quantize', 'tiny.gguf', '--tensor', 'blk.0.q4_0', '--format', 'q8_0', '-o', '@out.safetensors']);
add(['quantize', 'mat4x6_f32.npy', '-o', '@out.gguf']);
add(['quantize', 'seed_example.npy', '--profile', 'seed', '--dtype', 'uint8', '-o', '@out.safetensors']);

// Whole-file mode.
for (const model of ['model_tiny.safetensors', 'model_tiny.npz', 'model_tiny.gguf', 'multi.npz', 'mat4x6_f32.npy']) {
  add(['quantize', model, '--all', '-o', '@all.safetensors', '--report', '@report.csv']);
  add(['quantize', model, '--all', '--json', '-o', '@all.npz']);
  add(['quantize', model, '--all', '--dtype', 'int4', '--granularity', 'block', '--block-size', '2', '--axis', '-1',
    '--override', '*bias*:keep', '--override', '*:--dtype uint8 --granularity channel', '-o', '@all.npz']);
}
add(['quantize', 'model_ggml.safetensors', '--all', '--format', 'q4_k', '--override', '*norm*:keep', '-o', '@all.gguf', '--report', '@r.csv']);
add(['quantize', 'model_ggml.safetensors', '--all', '--format', 'q8_0', '-o', '@all.gguf']);
for (const args of [
  ['--all', '--tensor', 'x', '-o', '@a.npz'], ['--all', '--scale', '1', '-o', '@a.npz'], ['--report', '@r.csv', '-o', '@a.npz'],
  ['--override', '*:keep', '-o', '@a.npz'], ['--all', '--override', 'nocolon', '-o', '@a.npz'],
  ['--all', '--override', '*:--frob', '-o', '@a.npz'], ['--all', '--override', '*:', '-o', '@a.npz'],
  ['--all', '--override', '*:--scale 1', '-o', '@a.npz'], ['--all', '--override', '*:-o x', '-o', '@a.npz'],
  ['--all', '--format', 'q4_0', '-o', '@a.safetensors'],
]) add(['quantize', 'model_tiny.safetensors', ...args]);

// Raw input and command-line errors.
add(['quantize', 'mat4x6_f32.bin', '--raw-dtype', 'float32', '--raw-shape', '4,6', '-o', '@out.npz']);
add(['quantize', 'mat4x6_f32_be_offset16.bin', '--raw-dtype', 'float32', '--raw-shape', '-1,6', '--raw-offset', '16', '--raw-endian', 'big', '-o', '@out.npz']);
add(['info', 'mat4x6_f32.bin', '--raw-dtype', 'float32', '--raw-shape', '4,6']);
add(['info', 'mat4x6_f32.bin', '--raw-shape', '4,6']);
add(['quantize', 'mat4x6_f32.bin', '--raw-dtype', 'float99', '--raw-shape', '4,6', '-o', '@out.npz']);
add(['quantize', 'mat4x6_f32.bin', '--raw-dtype', 'float32', '--raw-shape', '4,6', '--raw-endian', 'middle', '-o', '@out.npz']);
for (const args of [[], ['quantize'], ['quantize', 'mat4x6_f32.npy'], ['quantize', '-o', '@x.npz'],
  ['quantize', 'a.npy', 'b.npy', '-o', '@x.npz'], ['quantize', 'mat4x6_f32.npy', '-o'], ['frob'], ['--frob'],
  ['info'], ['info', 'a', 'b'], ['info', 'mat4x6_f32.npy', '--dtype', 'int8'], ['--version'],
  ['quantize', 'mat4x6_f32.npy', '-o', '@x.npz', '--output', '@y.npz'], ['quantize', 'mat4x6_f32.npy', '-o', '']]) add(args);

// One run: the digest of what it did. '@name' is a file in a fresh folder, read back afterwards.
function digest(c) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qplay-golden-'));
  try {
    const args = c.args.map((a) => (a.startsWith('@') ? path.join(dir, a.slice(1)) : a));
    const r = spawnSync(cli, args, { cwd: data, encoding: 'buffer' });
    if (r.error) throw r.error;
    const h = createHash('sha256');
    const clean = (b) => b.toString('latin1').split(dir).join('<tmp>');
    h.update(`status ${r.status}\nstdout\n${clean(r.stdout)}\nstderr\n${clean(r.stderr)}\n`);
    for (const f of fs.readdirSync(dir).sort()) {
      h.update(`file ${f}\n`);
      h.update(fs.readFileSync(path.join(dir, f)));
    }
    return h.digest('hex').slice(0, 32);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const key = (c) => c.args.join(' ');

if (writing) {
  test('write the golden digests', () => {
    const out = {};
    for (const c of cases) out[key(c)] = digest(c);
    fs.writeFileSync(goldenFile, `${JSON.stringify(out, null, 0).replace(/","/g, '",\n"')}\n`);
  });
} else {
  const golden = JSON.parse(fs.readFileSync(goldenFile, 'utf8'));
  test('the golden file covers every case', () => {
    const missing = cases.map(key).filter((k) => !(k in golden));
    assert.deepEqual(missing, [], 'cases without a golden digest (QPLAY_GOLDEN_WRITE=1 with the old CLI adds them)');
  });
  for (const c of cases) {
    test(`golden: qplay ${key(c)}`, () => {
      assert.equal(digest(c), golden[key(c)], 'output, messages or exit status changed');
    });
  }
}
