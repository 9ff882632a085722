// Options cross as plain objects of the user's spellings and are parsed and validated by the core's
// option table: JS values become the CLI's text without changing what they mean (float32 bits of
// numbers included), and describe() reports what the page draws from them.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';

import { fixture, qplay, requireBuilds, runCli } from './helpers.mjs';

before(requireBuilds);

const bits = (x) => new Uint32Array(new Float32Array([x]).buffer)[0];

test('a number for scale or zeroPoint gives the float32 a cast gives, even where its decimal text would not', async () => {
  const qp = await qplay();
  const values = { values: new Float32Array([-1, -0.5, 0, 0.25, 1]) };
  // 1 + 2^-24 lies exactly between two float32s: a cast rounds it to even (1), while its shortest
  // decimal text, 1.0000000596046448, reads as float32 1 + 2^-23.
  for (const scale of [0.037, 0.1, 1 + 2 ** -24, 3 * 2 ** -26 + 2 ** -2, 123456.789, 1e-40, 6e-39, 3.4e38]) {
    const r = qp.quantize(values, { scale });
    assert.equal(bits(r.scale[0]), bits(Math.fround(scale)), `scale ${scale}`);
  }
  const z = qp.quantize(values, { scale: 0.5, zeroPoint: -0 });
  assert.equal(Object.is(z.zeroPoint[0], 0), true);
  const f = qp.quantize(values, { scale: 0.5, zeroPoint: 2.25 + 2 ** -30, zeroPointDomain: 'float' });
  assert.equal(bits(f.zeroPoint[0]), bits(Math.fround(2.25 + 2 ** -30)));
  // Text is read as the CLI reads it; integers as numbers or text mean the same.
  assert.deepEqual(qp.quantize(values, { scale: '1.0000000596046448' }).scale, new Float32Array([1 + 2 ** -23]));
  assert.deepEqual(qp.quantize(values, { granularity: 'channel', axis: -1 }).codes,
    qp.quantize(values, { granularity: 'channel', axis: '-1' }).codes);
});

test('describe() reports the effective options, locks, code range, family, bits and levels', async () => {
  const qp = await qplay();
  qp.open(fixture('mat4x6_f32.npy'), 'mat4x6_f32.npy');
  const int = qp.describe({ dtype: 'uint4', profile: 'onnx' });
  assert.deepEqual(int.range, { qmin: 0, qmax: 15 });
  assert.equal(int.family, 'integer');
  assert.equal(int.bits, 4);
  assert.equal(int.levels.length, 0);
  assert.deepEqual(int.effective, qp.quantize(undefined, { dtype: 'uint4', profile: 'onnx' }).options);
  assert.deepEqual(int.locked.map((l) => l.key).sort(), ['reduceRange', 'rounding', 'zeroPointDomain']);
  assert.deepEqual(int.locked.find((l) => l.key === 'reduceRange'), { key: 'reduceRange', value: false, reason: 'profile' });

  // bnb: NF4 in blocks of 64 over the flattened tensor; its levels are the codebook.npy the run writes.
  const bnb = qp.describe({ profile: 'bnb' });
  const run = qp.quantize(undefined, { profile: 'bnb' });
  assert.deepEqual(bnb.effective, run.options);
  assert.equal(bnb.family, 'lut');
  assert.deepEqual(bnb.profileDefaults, { dtype: 'nf4', blockSize: 64 });
  assert.deepEqual(bnb.locked.find((l) => l.key === 'granularity'), { key: 'granularity', value: 'block', reason: 'profile' });
  assert.ok(bnb.levels instanceof Float32Array && bnb.levels.length === 16);
  assert.deepEqual(bnb.levels, run.codebook);

  const ggml = qp.describe({ format: 'q4_0' });
  assert.equal(ggml.family, 'ggml');
  assert.deepEqual(ggml.effective.format, 'q4_0');
  assert.equal(ggml.locked.find((l) => l.key === 'blockSize').value, 32);
  assert.equal(qp.describe({ dtype: 'fp8_e4m3fn' }).levels.length, 256);
  assert.equal(qp.describe({ granularity: 'channel' }).doubleQuantApplies, true);
  assert.equal(qp.describe().division, 'divide');
  qp.close();
});

test('describe() refuses what quantize refuses, with the same message', async () => {
  const qp = await qplay();
  for (const options of [{ dtype: 'int9' }, { granularity: 'group' }, { profile: 'onnx', rounding: 'half-away' },
    { dtype: 'nf4', scale: 0.1 }, { bits: 3 }, { dtyp: 'int8' }, { narrow: 'yes' }]) {
    let expected;
    try {
      qp.quantize({ values: new Float32Array(4) }, options);
    } catch (err) {
      expected = err.message;
    }
    assert.ok(expected, JSON.stringify(options));
    assert.throws(() => qp.describe(options), { message: expected }, JSON.stringify(options));
  }
});

test('whole-file options refuse params sources and the input selection, naming where they came from', async () => {
  const qp = await qplay();
  const info = qp.describeHead(fixture('model_tiny.safetensors'), fixture('model_tiny.safetensors').length).info;
  assert.throws(() => qp.planWholeFile(info, { tensor: 'x' }),
    { message: "whole-file options: 'tensor' does not apply to whole-file mode (each tensor's params come from the tensor)" });
  assert.throws(() => qp.planWholeFile(info, {}, [{ pattern: 'lm_head.*', options: { params: { scale: [1] } } }]),
    { message: "override 'lm_head.*': 'params' does not apply to whole-file mode (each tensor's params come from the tensor)" });
  assert.throws(() => qp.planWholeFile(info, {}, [{ pattern: '*', options: { granularity: 'group' } }]),
    { message: "override '*': --granularity group needs --group-size" });
  assert.throws(() => qp.planWholeFile(info, { dtype: 'int9' }), /^Error: invalid value 'int9' for --dtype/);
  const plan = qp.planWholeFile(info, { dtype: 'uint8', bins: 8 }, [{ pattern: 'lm_head.*', options: { dtype: 'int4', blockSize: 4, granularity: 'block', axis: -1 } }]);
  const head = plan.find((e) => e.name === 'lm_head.weight');
  assert.deepEqual(head.options, qp.describe({ dtype: 'int4', blockSize: 4, granularity: 'block', axis: -1 }).effective);
});

test('raw input options are the CLI\'s --raw-* flags, with their messages', async () => {
  const qp = await qplay();
  const bytes = fixture('mat4x6_f32.bin');
  const cases = [
    [{ dtype: 'float32', shape: [4, 6], endian: 'middle' }, ['--raw-dtype', 'float32', '--raw-shape', '4,6', '--raw-endian', 'middle']],
    [{ dtype: 'float32', shape: '4,6', offset: -1 }, ['--raw-dtype', 'float32', '--raw-shape', '4,6', '--raw-offset', '-1']],
    [{ dtype: 'float33', shape: [4, 6] }, ['--raw-dtype', 'float33', '--raw-shape', '4,6']],
    [{ dtype: 'float32', shape: '4,a' }, ['--raw-dtype', 'float32', '--raw-shape', '4,a']],
  ];
  for (const [raw, args] of cases) {
    const cli = runCli('mat4x6_f32.bin', args);
    assert.ok(cli.error, args.join(' '));
    assert.throws(() => qp.open(bytes, { fileName: 'mat4x6_f32.bin', raw }), { message: cli.error }, JSON.stringify(raw));
  }
  assert.throws(() => qp.open(bytes, { raw: { dtype: 'float32', shape: [4, 6], order: 'C' } }),
    { message: "unknown key 'order' in raw (allowed: dtype, shape, offset, endian)" });
  assert.throws(() => qp.open(bytes, { raw: { dtype: 'float32', shape: [4, 'x'] } }),
    { message: "invalid value 'x' for --raw-shape (expected an integer)" });
  // An array shape and the CLI's text are the same; one -1 is inferred.
  const byArray = qp.open(bytes, { raw: { dtype: 'float32', shape: [-1, 6], offset: 0, endian: 'little' } }).tensors;
  assert.deepEqual(byArray, qp.open(bytes, { raw: { dtype: 'float32', shape: '4,6' } }).tensors);
  assert.deepEqual(byArray[0].shape, [4, 6]);
  qp.close();
});
