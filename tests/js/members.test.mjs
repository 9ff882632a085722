// The bundle members a run adds after params.json cross the boundary as one generic list,
// result.members = [{name, dtype, shape, data}], and come back through export('npz') the same way:
// every member of every family (element dtypes, pack orders, double quantization, ggml formats)
// round-trips into the CLI's bundle, and the named result keys (codebook, blocksShape...) are the
// same arrays.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';

import { memberKey } from '../../web/lib/qplay.js';
import { qplay, readZip, requireBuilds, runApi, runCli } from './helpers.mjs';

before(requireBuilds);

// numpy's descr of each member dtype, as the bundle's .npy headers spell it.
const DESCR = {
  int8: '|i1', uint8: '|u1', int16: '<i2', uint16: '<u2', int32: '<i4', uint32: '<u4', float32: '<f4', float64: '<f8',
};

/** A .npy member's {descr, shape, data} (data: the raw element bytes after the header). */
function readNpy(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(bytes[6], 1, 'npy version 1.0');
  const headerLen = dv.getUint16(8, true);
  const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLen));
  const descr = /'descr': '([^']+)'/.exec(header)[1];
  const shape = /'shape': \(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  return { descr, shape, data: bytes.subarray(10 + headerLen) };
}

const bytesOf = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

// One run per family, with the members the core is expected to add (in the bundle's order).
const runs = [
  ['mat4x6_f32.npy', ['--dtype', 'nf4', '--granularity', 'block', '--block-size', '3', '--axis', '-1'], ['codebook.npy', 'packed.npy']],
  ['mat4x6_f32.npy', ['--dtype', 'kmeans', '--bits', '2', '--granularity', 'channel'], ['codebook.npy', 'packed.npy']],
  ['mat4x6_f32.npy', ['--dtype', 'fp4', '--pack', 'high-first'], ['codebook.npy', 'packed.npy']],
  ['t2x3x4x5_f32.npy', ['--dtype', 'fp8_e4m3fn', '--granularity', 'channel'], []],
  ['t2x3x4x5_f32.npy', ['--dtype', 'mxfp4', '--axis', '-1'], ['packed.npy', 'scale_e8m0.npy']],
  ['mat4x6_f32.npy', ['--dtype', 'int4', '--pack', 'gptq'], ['packed.npy']],
  ['mat4x6_f32.npy', ['--dtype', 'uint2', '--pack', 'low-first'], ['packed.npy']],
  ['mat4x6_f32.npy', ['--granularity', 'channel', '--double-quant'], ['scale_codes.npy', 'scale_super.npy']],
  ['vec17_f32.npy', ['--profile', 'bnb', '--double-quant'],
    ['codebook.npy', 'packed.npy', 'scale_codes.npy', 'scale_super.npy', 'scale_codebook.npy']],
  ['tiny.gguf', ['--tensor', 'blk.0.q4_0', '--format', 'q8_0'], ['blocks.npy']],
  ['tiny.gguf', ['--tensor', 'blk.0.q4_k', '--format', 'q4_k'], ['offset.npy', 'blocks.npy']],
  ['tiny.gguf', ['--tensor', 'blk.0.q4_0', '--format', 'iq4_nl', '--pack', 'ggml'], ['codebook.npy', 'packed.npy', 'blocks.npy']],
  ['mat4x6_f32.npy', ['--dtype', 'uint8'], []],
];

for (const [input, args, expected] of runs) {
  test(`members round-trip: ${input} ${args.join(' ')}`, async () => {
    const qp = await qplay('simd');
    const { result, bytes, error } = runApi(qp, input, args);
    assert.equal(error, undefined, error);
    const cli = runCli(input, args);
    assert.ok(cli.bytes, cli.error);
    assert.ok(Buffer.from(bytes).equals(Buffer.from(cli.bytes)), 'the API bundle is the CLI\'s');

    const zip = readZip(bytes);
    const names = zip.map((m) => m.name);
    const after = zip.slice(names.indexOf('params.json') + 1);
    assert.deepEqual(result.members.map((m) => m.name), expected);
    assert.deepEqual(after.map((m) => m.name), expected, 'the members follow params.json in the result\'s order');
    for (const [i, m] of result.members.entries()) {
      assert.deepEqual(Object.keys(m), ['name', 'dtype', 'shape', 'data']);
      const npy = readNpy(after[i].data);
      assert.equal(npy.descr, DESCR[m.dtype], `${m.name}: dtype ${m.dtype}`);
      assert.deepEqual(npy.shape, m.shape, `${m.name}: shape`);
      assert.ok(bytesOf(m.data).equals(Buffer.from(npy.data)), `${m.name}: bytes`);
      assert.equal(m.data.length, m.shape.reduce((a, b) => a * b, 1));
      // The named keys are the same arrays, not copies.
      const key = memberKey(m.name);
      assert.equal(result[key], m.data, `result.${key}`);
      assert.deepEqual(result[`${key}Shape`], m.shape, `result.${key}Shape`);
    }

    // A result that crossed postMessage (structured clone) exports the same bytes, and so do members
    // rebuilt by hand: plain copies of the data, the dtype given as a string or left to the array.
    assert.ok(Buffer.from(qp.export(structuredClone(result))).equals(Buffer.from(bytes)), 'after structuredClone');
    const rebuilt = result.members.map((m, i) => (i % 2
      ? { name: m.name, shape: [...m.shape], data: m.data.slice() }
      : { name: m.name, dtype: m.dtype, shape: [...m.shape], data: m.data.slice() }));
    assert.ok(Buffer.from(qp.export({ ...result, members: rebuilt })).equals(Buffer.from(bytes)), 'members rebuilt');
  });
}

test('memberKey camelCases a member\'s file name', () => {
  assert.deepEqual(
    ['codebook.npy', 'packed.npy', 'scale_e8m0.npy', 'scale_codes.npy', 'scale_super.npy', 'scale_codebook.npy', 'offset.npy', 'blocks.npy']
      .map(memberKey),
    ['codebook', 'packed', 'scaleE8m0', 'scaleCodes', 'scaleSuper', 'scaleCodebook', 'offset', 'blocks']);
});

test('export names what is wrong with a member', async () => {
  const qp = await qplay('simd');
  const { result, error } = runApi(qp, 'mat4x6_f32.npy', ['--dtype', 'nf4']);
  assert.equal(error, undefined, error);
  const [codebook] = result.members;
  const withMember = (m) => ({ ...result, members: [m] });
  assert.throws(() => qp.export({ ...result, members: undefined }),
    { message: 'export: members must be the result\'s array of {name, dtype, shape, data} (got undefined)' });
  assert.throws(() => qp.export(withMember({ ...codebook, dtype: 'uint8' })),
    { message: 'export: member \'codebook.npy\' must be Uint8Array (got a Float32Array)' });
  assert.throws(() => qp.export(withMember({ ...codebook, dtype: 'float16' })),
    { message: 'export: member \'codebook.npy\' dtype float16 has no JS typed array' });
  assert.throws(() => qp.export(withMember({ ...codebook, shape: [3] })),
    { message: `export: member 'codebook.npy' holds ${codebook.data.length} values for shape (3,)` });
  assert.throws(() => qp.export(withMember({ ...codebook, data: [1, 2] })),
    { message: 'export: member \'codebook.npy\' must be Float32Array (got an Array)' });
  assert.throws(() => qp.export(withMember({ name: codebook.name, shape: codebook.shape, data: [1, 2] })),
    { message: 'export: member \'codebook.npy\' data must be a typed array (got an Array)' });
  assert.throws(() => qp.export(withMember({ ...codebook, name: '' })),
    { message: 'export: member 1 needs a name (its file name in the bundle, e.g. codebook.npy)' });
  assert.throws(() => qp.export(withMember({ ...codebook, size: 16 })),
    { message: 'export: member 1 has an unknown key \'size\' (allowed: name, dtype, shape, data)' });
  assert.throws(() => qp.export(withMember({ ...codebook, dtype: 'float33' })), /invalid|unknown|float33/);
});
