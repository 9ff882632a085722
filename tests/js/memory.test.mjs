// No view into the wasm heap escapes: results own their buffers and survive allocations that grow
// (and so move) the heap; the open file stays in the heap until close() or the next open().
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { fixture, qplay, requireBuilds, wasmDir } from './helpers.mjs';

before(requireBuilds);

// A float32 .npy of n elements as numpy writes it (version 1.0, data at a multiple of 64).
function npyF32(n, fill) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${n},), }`;
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const bytes = new Uint8Array(10 + header.length + 4 * n);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  bytes.set(new TextEncoder().encode(header), 10);
  const values = new Float32Array(bytes.buffer, 10 + header.length, n);
  for (let i = 0; i < n; i++) values[i] = fill(i);
  return bytes;
}

// Every typed array reachable from a result, with its path.
function typedArrays(value, where = 'result', out = []) {
  if (ArrayBuffer.isView(value)) out.push([where, value]);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) typedArrays(v, `${where}.${k}`, out);
  }
  return out;
}

function snapshot(result) {
  return typedArrays(result).map(([where, a]) => [where, a.byteLength, Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex')]);
}

test('growing the heap detaches views into it (the hazard the API avoids)', async () => {
  const { default: factory } = await import(path.join(wasmDir, 'qplay_simd.js'));
  const m = await factory({ wasmBinary: fs.readFileSync(path.join(wasmDir, 'qplay_simd.wasm')) });
  const view = m.HEAPU8;
  const before = view.length;
  assert.ok(m.openFile(npyF32(8 << 20, (i) => i % 7), 'big.npy', null).ok);
  assert.ok(m.HEAPU8.length > before, 'opening a 32 MiB file did not grow the heap');
  assert.equal(view.length, 0, 'an old heap view is detached after growth');
});

test('runs free their C++ buffers: the heap stops growing', async () => {
  // The bindings directly, to read the heap size the API hides.
  const { default: factory } = await import(path.join(wasmDir, 'qplay_baseline.js'));
  const m = await factory({ wasmBinary: fs.readFileSync(path.join(wasmDir, 'qplay_baseline.wasm')) });
  const values = new Float32Array(1 << 18).map((_, i) => Math.sin(i));  // 1 MiB in, about 2.5 MiB out per run
  const run = () => {
    const r = m.quantize({ values, shape: [512, 512] }, { granularity: 'channel', axis: 1 }, '');
    assert.ok(r.ok, r.error);
    return r;
  };
  for (let i = 0; i < 5; i++) run();
  const settled = m.HEAPU8.length;
  for (let i = 0; i < 40; i++) run();
  assert.equal(m.HEAPU8.length, settled, 'the heap kept growing: a run leaks');
});

test('results own their arrays and survive allocations that grow the heap', async () => {
  const qp = await qplay();
  qp.open(fixture('t2x3x4x5_f32.npy'), 't2x3x4x5_f32.npy');
  const results = [
    qp.quantize(undefined, { granularity: 'block', blockSize: 2, axis: -1, dtype: 'int4' }),
    qp.quantize(undefined, { granularity: 'channel', axis: 1, dtype: 'int16' }),
    qp.quantize({ values: new Float32Array([1, -2, 3.5, 0]), shape: [2, 2] }, { zeroPointDomain: 'float', dtype: 'uint8' }),
  ];
  const params = qp.calibrate([{ bytes: fixture('calib_a.npy') }], 'minmax');
  const values = qp.values();
  const exported = qp.export(results[0]);
  const held = [...results, { params, values, exported }];
  const before = held.map(snapshot);
  for (const r of held) {
    for (const [where, a] of typedArrays(r)) {
      assert.equal(a.buffer.byteLength, a.byteLength, `${where} views a larger buffer (the heap?)`);
      assert.ok(!(a.buffer instanceof SharedArrayBuffer), `${where} is shared memory`);
    }
  }

  // Grow the heap several times over: a 16 MiB file, quantized, then a 64 MiB one.
  for (const n of [4 << 20, 16 << 20]) {
    qp.open(npyF32(n, (i) => (i % 251) * 0.01 - 1), 'big.npy');
    const big = qp.quantize(undefined, { dtype: 'uint8' });
    assert.equal(big.codes.length, n);
    assert.equal(big.metrics.elements, n);
  }
  assert.deepEqual(held.map(snapshot), before);
  // The old results still export the same bytes.
  assert.ok(Buffer.from(qp.export(results[0])).equals(Buffer.from(exported)));
  qp.close();
});

test('the open file stays until close() or the next open()', async () => {
  const qp = await qplay();
  const { tensors } = qp.open(fixture('multi.npz'), 'multi.npz');
  assert.deepEqual(tensors.map((t) => t.name), ['weight', 'bias', 'steps']);
  const first = qp.quantize('bias');
  assert.ok(qp.quantize('weight').codes.length > 0);
  qp.open(fixture('seed_example.npy'), 'seed_example.npy');
  assert.throws(() => qp.quantize('bias'), { message: "seed_example.npy: no tensor 'bias' in this .npy (it holds one tensor, named 'array')" });
  assert.deepEqual(Array.from(qp.quantize('array', { dtype: 'uint8', profile: 'seed' }).codes), [0, 32, 129, 161, 255]);
  qp.close();
  assert.throws(() => qp.quantize('array'), /no file is open/);
  assert.equal(first.input.tensor, 'bias');
  assert.equal(first.codes.length, 6);
  // Closing twice, or without a file, is harmless.
  qp.close();
});

test('a float32 .npy whose data is not 4-byte aligned in the heap goes through the reader, same result', async () => {
  const qp = await qplay();
  const n = 24;
  const fill = (i) => Math.cos(i) * 3;
  const aligned = npyF32(n, fill);
  // The same array with a header 3 bytes longer: the data starts at an odd offset, so it cannot be
  // viewed as float32 in place and is copied by read_npy instead.
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${n},), }`;
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64) + 3) + '\n';
  const odd = new Uint8Array(10 + header.length + 4 * n);
  odd.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  odd.set(new TextEncoder().encode(header), 10);
  const dv = new DataView(odd.buffer, 10 + header.length);
  for (let i = 0; i < n; i++) dv.setFloat32(4 * i, fill(i), true);
  assert.notEqual((10 + header.length) % 4, 0);

  const results = [aligned, odd].map((bytes) => {
    qp.open(bytes, 'x.npy');
    return qp.quantize(undefined, { dtype: 'int4', granularity: 'block', blockSize: 5 });
  });
  assert.deepEqual(results[0].dequantized, results[1].dequantized);
  assert.ok(Buffer.from(qp.export(results[0])).equals(Buffer.from(qp.export(results[1]))));
  qp.close();
});
