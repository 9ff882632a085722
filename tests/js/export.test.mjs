// The module's .npz export is byte-identical to the native CLI's for the same input and options; where
// the CLI fails, the API throws the same message. SIMD and baseline modules give the same bundles
// (params.json records which kernel table ran; that one value differs by design).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';

import {
  bundleMembers, fixtureNames, hasDeflatedMembers, qplay, requireBuilds, runApi, runCli,
} from './helpers.mjs';

before(requireBuilds);

// Compares one run of the API with the CLI; returns the API's bundle bytes (undefined on an error).
async function sameAsCli(input, args) {
  const qp = await qplay('simd');
  const cli = runCli(input, args);
  const api = runApi(qp, input, args);
  if (cli.error !== undefined) {
    // The wasm build has limits of its own (4 GiB per tensor): they fail earlier, with their own message.
    if (!/WebAssembly/.test(api.error ?? '')) {
      assert.equal(api.error, cli.error, `the CLI failed with "${cli.error}"; the API ${api.error ? `with "${api.error}"` : 'succeeded'}`);
    }
    return undefined;
  }
  assert.equal(api.error, undefined, `the CLI succeeded; the API threw "${api.error}"`);
  assert.ok(Buffer.from(api.bytes).equals(Buffer.from(cli.bytes)),
    `bundles differ (API ${api.bytes.length} bytes, CLI ${cli.bytes.length} bytes)`);
  return api.bytes;
}

async function sameOnBaseline(input, args, simdBytes) {
  const base = runApi(await qplay('baseline'), input, args);
  assert.equal(base.error, undefined, `the baseline module threw "${base.error}"`);
  assert.deepEqual(bundleMembers(base.bytes), bundleMembers(simdBytes));
  assert.match(new TextDecoder().decode(base.bytes), /"kernels": "scalar"/);
}

async function check(input, args) {
  const bytes = await sameAsCli(input, args);
  if (bytes) await sameOnBaseline(input, args, bytes);
}

// Every fixture, with option sets that apply to any shape: the CLI decides what is valid (bad files,
// 0-d tensors with per-channel params...), and the API must agree on success and on the message.
const everyFixture = [
  [],
  ['--dtype', 'uint8'],
  ['--dtype', 'int4', '--mode', 'symmetric'],
  ['--dtype', 'int16', '--rounding', 'half-away'],
  ['--dtype', 'uint2', '--profile', 'onnx'],
  ['--granularity', 'channel', '--axis', '-1'],
  ['--granularity', 'block', '--block-size', '3', '--axis', '0', '--dtype', 'uint4'],
  ['--range', 'percentile:99.5'],
  ['--profile', 'pytorch', '--reduce-range'],
  ['--scale', '0.05', '--zero-point', '2'],
];

for (const input of fixtureNames()) {
  if (hasDeflatedMembers(input)) continue;  // tested below: the wasm build reads stored members only
  for (const args of everyFixture) {
    test(`${input} ${args.join(' ')}`.trim(), () => check(input, args));
  }
}

// The option matrix on fixtures with rank 1, 2 and 4.
const matrix = [
  // code types
  ...['int8', 'uint8', 'int4', 'uint4', 'int2', 'uint2', 'int1', 'uint1', 'int3', 'uint7', 'int16', 'uint16']
    .flatMap((d) => [['--dtype', d], ['--dtype', d, '--mode', 'symmetric']]),
  // narrow and reduce-range
  ['--narrow'], ['--narrow', '--mode', 'symmetric'], ['--narrow', '--dtype', 'uint8'],
  ['--reduce-range'], ['--reduce-range', '--dtype', 'uint8'], ['--reduce-range', '--dtype', 'int4', '--mode', 'symmetric'],
  ['--narrow', '--reduce-range', '--dtype', 'int2'],
  // granularities, axes, group and block sizes
  ['--granularity', 'tensor'],
  ...[0, 1, -1, -2, 2, 3, 4].map((a) => ['--granularity', 'channel', '--axis', String(a)]),
  ...[[1, 0], [2, 0], [3, 1], [4, -1], [5, 1], [7, 0]].map(([g, a]) => ['--granularity', 'group', '--group-size', String(g), '--axis', String(a)]),
  ...[[1, 0], [2, -1], [3, 1], [4, 0], [5, -1], [16, 0]].map(([b, a]) => ['--granularity', 'block', '--block-size', String(b), '--axis', String(a)]),
  ['--granularity', 'block', '--block-size', '4', '--axis', '-1', '--dtype', 'int4', '--mode', 'symmetric'],
  // range methods
  ['--range', 'minmax'], ['--range', 'percentile'], ['--range', 'percentile:90'], ['--range', 'percentile:100'],
  ['--range', 'mse'], ['--range', 'kl'], ['--range', 'aciq'], ['--range', 'aciq', '--mode', 'symmetric'],
  ['--range', 'mse', '--granularity', 'channel', '--dtype', 'int4'], ['--range', 'kl', '--dtype', 'uint8', '--mode', 'symmetric'],
  // rounding
  ['--rounding', 'half-even'], ['--rounding', 'half-away'], ['--rounding', 'half-up'],
  ['--rounding', 'stochastic'], ['--rounding', 'stochastic:7'], ['--rounding', 'stochastic:4294967295', '--dtype', 'int2'],
  // zero-point domain
  ['--zero-point-domain', 'float', '--dtype', 'uint8'], ['--zero-point-domain', 'float', '--dtype', 'uint4', '--granularity', 'channel'],
  // profiles
  ['--profile', 'custom'], ['--profile', 'seed', '--dtype', 'uint8'], ['--profile', 'seed', '--mode', 'symmetric'],
  ['--profile', 'pytorch'], ['--profile', 'pytorch', '--dtype', 'uint8', '--mode', 'symmetric'],
  ['--profile', 'pytorch', '--dtype', 'uint8', '--zero-point-domain', 'float', '--granularity', 'channel'],
  ['--profile', 'onnx', '--dtype', 'uint8'], ['--profile', 'onnx', '--mode', 'symmetric'],
  ['--profile', 'ort-tool'], ['--profile', 'ort-tool', '--mode', 'symmetric'], ['--profile', 'ort-tool', '--reduce-range', '--dtype', 'uint8'],
  ['--profile', 'ort-tool', '--dtype', 'int16', '--mode', 'symmetric'],
  // given params
  ['--scale', '0.037', '--zero-point', '3'], ['--scale', '0.1'], ['--scale', '1e-3', '--dtype', 'int16'],
  ['--scale', '1e-40'], ['--scale', '3.4028235e38', '--zero-point', '-0'], ['--scale', '.5', '--zero-point', '1.'],
  ['--scale', '0.05', '--zero-point', '1.5', '--dtype', 'uint8', '--zero-point-domain', 'float'],
  ['--scale', '0.05', '--granularity', 'channel'],
  // histogram bins
  ['--bins', '1'], ['--bins', '7'], ['--bins', '1000'],
];

for (const input of ['vec17_f32.npy', 'mat4x6_f32.npy', 't2x3x4x5_f32.npy']) {
  for (const args of matrix) {
    test(`matrix ${input} ${args.join(' ')}`, () => check(input, args));
  }
}

// Element dtypes (docs/SCHEMES.md section 4): the bundles with codebook.npy, packed.npy and
// scale_e8m0.npy, and the CLI's messages for the options they refuse.
const elementRuns = [
  ['--dtype', 'nf4'], ['--dtype', 'nf4', '--granularity', 'block', '--block-size', '4', '--axis', '-1', '--pack', 'high-first'],
  ['--dtype', 'fp4', '--granularity', 'channel', '--pack', 'awq'], ['--dtype', 'iq4_nl', '--pack', 'gptq'],
  ['--dtype', 'fp8_e4m3fn'], ['--dtype', 'fp8_e5m2', '--no-saturate', '--granularity', 'channel', '--axis', '-1'],
  ['--dtype', 'fp8_e4m3fnuz'], ['--dtype', 'fp6_e3m2', '--rounding', 'half-away'], ['--dtype', 'fp4_e2m1'],
  ['--dtype', 'mxfp4', '--axis', '-1'], ['--dtype', 'mxfp8_e5m2'], ['--dtype', 'mxint8', '--axis', '-1'],
  ['--dtype', 'pow2', '--bits', '3'], ['--dtype', 'kmeans', '--granularity', 'channel'],
  ['--dtype', 'int4', '--pack', 'low-first'],
  ['--dtype', 'mxfp4', '--granularity', 'channel'], ['--dtype', 'nf4', '--scale', '0.1'], ['--dtype', 'nf4', '--bits', '3'],
];

for (const input of ['vec17_f32.npy', 'mat4x6_f32.npy', 't2x3x4x5_f32.npy', 'nan_inf_f32.npy']) {
  for (const args of elementRuns) {
    test(`elements ${input} ${args.join(' ')}`, () => check(input, args));
  }
}

// The element profiles and double quantization (docs/SCHEMES.md sections 5 and 6): bnb's own packed
// bytes and QLoRA members, MX under the spec's rules and RCEIL, uint8 scale codes, and their errors.
const profileRuns = [
  ['--profile', 'bnb'], ['--profile', 'bnb', '--dtype', 'fp4', '--block-size', '32', '--double-quant'],
  ['--profile', 'bnb', '--double-quant'], ['--profile', 'mx', '--axis', '-1'],
  ['--profile', 'mx', '--dtype', 'mxfp4', '--axis', '-1'], ['--dtype', 'mxfp6_e2m3', '--scale-rule', 'rceil', '--axis', '-1'],
  ['--granularity', 'channel', '--double-quant'], ['--granularity', 'channel', '--mode', 'symmetric', '--dtype', 'int4', '--double-quant'],
  ['--dtype', 'nf4', '--granularity', 'block', '--block-size', '2', '--axis', '-1', '--double-quant'],
  ['--dtype', 'fp8_e4m3fn', '--granularity', 'channel', '--double-quant'],
  ['--profile', 'bnb', '--pack', 'low-first'], ['--profile', 'mx', '--rounding', 'half-away'], ['--double-quant'],
  ['--dtype', 'mxfp4', '--double-quant'], ['--scale-rule', 'rceil'],
];

for (const input of ['vec17_f32.npy', 'mat4x6_f32.npy', 't2x3x4x5_f32.npy']) {
  for (const args of profileRuns) {
    test(`profiles ${input} ${args.join(' ')}`, () => check(input, args));
  }
}

// ggml block formats (docs/SCHEMES.md section 7): tiny.gguf's quantized tensors decode to (1, 32)
// and (256,) float32 rows; the bundles add blocks.npy and offset.npy; shape and option errors carry
// the CLI's messages.
const ggmlRuns = [
  ['blk.0.q4_0', ['--format', 'q8_0']], ['blk.0.q4_0', ['--format', 'q4_1']], ['blk.0.q4_0', ['--format', 'iq4_nl', '--pack', 'ggml']],
  ['blk.0.q4_0', ['--format', 'mxfp4']], ['blk.0.q4_0', ['--profile', 'ggml']], ['blk.0.q4_0', ['--format', 'q5_0']],
  ['blk.0.q4_k', ['--format', 'q4_k']], ['blk.0.q4_k', ['--format', 'q6_k']], ['blk.0.q4_k', ['--format', 'q2_k']],
  ['blk.0.q4_k', ['--format', 'q3_k']], ['blk.0.q4_k', ['--format', 'q5_k']],
  ['blk.0.q4_0', ['--format', 'q4_k']], ['weight', ['--format', 'q8_0']],
  ['blk.0.q4_0', ['--format', 'q4_0', '--mode', 'asymmetric']], ['blk.0.q4_0', ['--format', 'q4_0', '--granularity', 'channel']],
  ['blk.0.q4_0', ['--format', 'q4_0', '--dtype', 'int4']], ['blk.0.q4_0', ['--format', 'q4_x']],
];

for (const [tensor, args] of ggmlRuns) {
  test(`ggml tiny.gguf ${tensor} ${args.join(' ')}`, () => check('tiny.gguf', ['--tensor', tensor, ...args]));
}

test('export(result, \'gguf\') is the CLI\'s -o X.gguf byte for byte', async () => {
  const qp = await qplay('simd');
  for (const [tensor, format] of [['blk.0.q4_k', 'q4_k'], ['blk.0.q4_0', 'iq4_nl'], ['blk.0.q4_0', 'q5_1']]) {
    const args = ['--tensor', tensor, '--format', format];
    const cli = runCli('tiny.gguf', args, '.gguf');
    assert.ok(cli.bytes, cli.error);
    const { result } = runApi(qp, 'tiny.gguf', args);
    assert.ok(Buffer.from(qp.export(result, 'gguf')).equals(Buffer.from(cli.bytes)), `${format}: .gguf bytes differ`);
  }
  const { result } = runApi(qp, 'tiny.gguf', ['--tensor', 'weight']);
  assert.throws(() => qp.export(result, 'gguf'), /export 'gguf' needs the result of a run with the format option/);
});

// Params from a file and from calibration, and a tensor picked from an .npz.
const paramsRuns = [
  ['mat4x6_f32.npy', ['--dtype', 'uint8', '--granularity', 'channel', '--axis', '0', '--params', 'params_4x6_axis0.npz']],
  ['mat4x6_f32.npy', ['--dtype', 'int8', '--granularity', 'channel', '--axis', '0', '--params', 'params_4x6_axis0.npz']],
  ['mat4x6_f32.npy', ['--dtype', 'uint8', '--granularity', 'channel', '--axis', '1', '--params', 'params_4x6_axis0.npz']],
  ['mat4x6_f32.npy', ['--calibrate', 'calib_a.npy', 'calib_b.npy']],
  ['mat4x6_f32.npy', ['--calibrate', 'calib_a.npy']],
  ['mat4x6_f32.npy', ['--dtype', 'uint8', '--mode', 'symmetric', '--calibrate', 'calib_b.npy', 'calib_a.npy']],
  ['mat4x6_f32.npy', ['--granularity', 'channel', '--calibrate', 'calib_a.npy', 'calib_b.npy', '--observer', 'moving-average:0.1']],
  ['mat4x6_f32.npy', ['--granularity', 'channel', '--axis', '1', '--calibrate', 'calib_a.npy', 'calib_b.npy', '--observer', 'moving-average']],
  ['mat4x6_f32.npy', ['--profile', 'pytorch', '--dtype', 'uint8', '--calibrate', 'calib_a.npy', 'calib_b.npy', '--observer', 'minmax']],
  ['mat4x6_f32.npy', ['--granularity', 'block', '--block-size', '4', '--axis', '-1', '--calibrate', 'calib_a.npy', 'calib_b.npy']],
  ['mat4x6_f32.npy', ['--granularity', 'channel', '--calibrate', 'vec17_f32.npy']],
  ['mat4x6_f32.npy', ['--calibrate', 'calib_a.npy', 'bad_dtype.npy']],
  ['mat4x6_f32.npy', ['--calibrate', 'calib_a.npy', '--observer', 'moving-average:2']],
  ['mat4x6_f32.npy', ['--calibrate', 'calib_a.npy', '--range', 'mse']],
  ['mat4x6_f32.npy', ['--calibrate', 'calib_a.npy', '--scale', '0.1']],
  ['multi.npz', ['--tensor', 'bias']],
  ['multi.npz', ['--tensor', 'weight', '--granularity', 'channel']],
  ['multi.npz', ['--tensor', 'steps', '--dtype', 'uint8']],
  ['multi.npz', ['--tensor', 'steps.npy']],
  ['multi.npz', ['--tensor', 'nope']],
  ['multi.npz', ['--tensor', 'weight', '--calibrate', 'calib_a.npy']],
  ['seed_example.npy', ['--dtype', 'uint8', '--profile', 'seed']],
  ['seed_example.npy', ['--scale', '0.037', '--zero-point', '129', '--dtype', 'uint8']],
];

for (const [input, args] of paramsRuns) {
  test(`params ${input} ${args.join(' ')}`, () => check(input, args));
}

test('a deflated .npz member is an error naming it, where the native CLI inflates it', async () => {
  const qp = await qplay('simd');
  for (const input of fixtureNames().filter(hasDeflatedMembers)) {
    const cli = runCli(input, []);
    const api = runApi(qp, input, []);
    // The zip's guards (a zip bomb's declared ratio) come first and are the same in both.
    if (cli.error !== undefined && api.error === cli.error) continue;
    assert.ok(cli.bytes, `the CLI failed on ${input} with "${cli.error}", the API with "${api.error}"`);
    assert.match(api.error ?? '', new RegExp(`^${input.replace('.', '\\.')}: .*deflated`), `${input}: ${api.error}`);
  }
});
