// The API surface: loading either build, open/values/quantize/calibrate/export, and the shapes of
// what they return.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { createQplay, simdSupported } from '../../web/lib/qplay.js';
import { cliPath, data, fixture, qplay, requireBuilds, runCli, wasmDir } from './helpers.mjs';

before(requireBuilds);

const python = '/usr/bin/python3';
const baseUrl = pathToFileURL(`${wasmDir}/`);

test('createQplay loads the SIMD build by default and the baseline on request', async () => {
  assert.equal(simdSupported(), true, 'node 20 runs wasm SIMD');
  const simd = await createQplay({ baseUrl });
  assert.equal(simd.flavour, 'simd');
  assert.deepEqual(simd.buildInfo(), { simd: true, version: simd.buildInfo().version, kernels: 'simd128' });
  assert.match(simd.buildInfo().version, /^\d+\.\d+\.\d+$/);
  const base = await createQplay({ simd: 'off', baseUrl: wasmDir });  // a path string works too
  assert.equal(base.flavour, 'baseline');
  assert.deepEqual(base.buildInfo(), { simd: false, version: simd.buildInfo().version, kernels: 'scalar' });
});

test('wasmBinary: bytes, an ArrayBuffer or a function of the flavour; a mismatched build is refused', async () => {
  const read = (flavour) => fs.readFileSync(path.join(wasmDir, `qplay_${flavour}.wasm`));
  const a = await createQplay({ baseUrl, wasmBinary: read('simd') });
  assert.equal(a.buildInfo().kernels, 'simd128');
  const bytes = read('baseline');
  const b = await createQplay({ baseUrl, simd: 'off', wasmBinary: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) });
  assert.equal(b.buildInfo().kernels, 'scalar');
  const asked = [];
  const c = await createQplay({ baseUrl, simd: 'off', wasmBinary: async (flavour) => { asked.push(flavour); return read(flavour); } });
  assert.deepEqual(asked, ['baseline']);
  assert.equal(c.flavour, 'baseline');
  await assert.rejects(createQplay({ baseUrl, simd: 'off', wasmBinary: read('simd') }),
    { message: "wasmBinary holds the SIMD build, but the baseline build was to be loaded (simd: 'off', engine SIMD: true)" });
  await assert.rejects(createQplay({ baseUrl, wasmBinary: read('baseline') }),
    /wasmBinary holds the baseline build, but the simd build was to be loaded/);
});

test('open lists the tensors as `qplay info` does', async () => {
  const qp = await qplay();
  for (const name of ['mat4x6_f32.npy', 'multi.npz', 'scalar_0d_f32.npy', 'empty_0x3_f32.npy', 'params_4x6_axis0.npz']) {
    const { tensors } = qp.open(fixture(name), name);
    const info = spawnSync(cliPath, ['info', name], { cwd: data, encoding: 'utf8' });
    assert.equal(info.status, 0, info.stderr);
    const rows = info.stdout.trim().split('\n').slice(1).map((line) => {
      const [tensor, dtype, ...shape] = line.trim().split(/\s+/);
      return { name: tensor, dtype, shape: shape.join(' ') };
    });
    assert.deepEqual(tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: `(${t.shape.join(', ')}${t.shape.length === 1 ? ',' : ''})` })), rows);
  }
  qp.close();
});

test('values() gives the tensor as numpy converts it to float32', async () => {
  const qp = await qplay();
  for (const name of ['dtype_f2.npy', 'dtype_f8.npy', 'dtype_i1.npy', 'dtype_u8.npy', 'dtype_b1.npy', 'big_endian_f4.npy',
    'fortran_f4.npy', 'fortran_3d_i2.npy', 'mat4x6_f32.npy', 'nan_inf_f32.npy']) {
    qp.open(fixture(name), name);
    const values = qp.values();
    assert.ok(values instanceof Float32Array);
    const r = spawnSync(python, ['-c', 'import sys, numpy as np; sys.stdout.write(np.load(sys.argv[1]).astype(np.float32).ravel().tobytes().hex())',
      path.join(data, name)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(Buffer.from(values.buffer).toString('hex'), r.stdout, name);
  }
  qp.open(fixture('multi.npz'));
  const r = spawnSync(python, ['-c', 'import sys, numpy as np; print(np.load(sys.argv[1])["steps"].astype(np.float32).tolist())',
    path.join(data, 'multi.npz')], { encoding: 'utf8' });
  assert.deepEqual(Array.from(qp.values('steps')), JSON.parse(r.stdout));
  qp.close();
});

test('quantize returns codes, params, dequantized values, metrics and histograms', async () => {
  const qp = await qplay();
  qp.open(fixture('seed_example.npy'), 'seed_example.npy');
  const r = qp.quantize(undefined, { dtype: 'uint8', profile: 'seed', bins: 8 });
  assert.ok(r.codes instanceof Uint8Array);
  assert.equal(r.codesDtype, 'uint8');
  assert.deepEqual(Array.from(r.codes), [0, 32, 129, 161, 255]);
  assert.deepEqual(r.shape, [5]);
  assert.equal(r.scale[0], Math.fround(9.42 / 255) === r.scale[0] ? r.scale[0] : Math.fround(Math.fround(4.67 + 4.75) / 255));
  assert.equal(r.scale[0].toPrecision(8), '0.036941178');
  assert.ok(r.zeroPoint instanceof Int32Array);
  assert.deepEqual(Array.from(r.zeroPoint), [129]);
  assert.equal(r.scale, r.params.scale);
  assert.equal(r.zeroPoint, r.params.zeroPoint);
  assert.deepEqual({ ...r.params, scale: undefined, zeroPoint: undefined }, {
    source: 'dynamic', observer: null, files: [], shape: [], scale: undefined, zeroPoint: undefined,
    floatZeroPoint: false, qmin: 0, qmax: 255, axis: 0,
  });
  assert.ok(r.dequantized instanceof Float32Array && r.dequantized.length === 5);
  for (let i = 0; i < 5; i++) assert.equal(r.dequantized[i], Math.fround((r.codes[i] - 129) * r.scale[0]));
  assert.equal(r.metrics.elements, 5);
  assert.equal(r.metrics.finite, 5);
  for (const h of Object.values(r.histograms)) {
    assert.equal(h.counts.length, 8);
    assert.equal(h.counts.reduce((a, b) => a + b, 0), 5);
    assert.ok(h.lo <= h.hi);
  }
  assert.equal(r.groupMse.length, 1);
  assert.equal(r.groupStats.min[0], Math.fround(-4.75));
  assert.deepEqual(r.input, { file: 'seed_example.npy', tensor: 'array', dtype: 'float32', shape: [5] });
  assert.equal(r.division, 'divide');
  assert.equal(r.kernels, 'simd128');
  assert.deepEqual(JSON.parse(r.paramsJson).params.zero_point, [129]);
  // The metrics are params.json's, camelCased.
  const m = JSON.parse(r.paramsJson).metrics;
  assert.equal(r.metrics.sqnrDb, m.sqnr_db);
  assert.equal(r.metrics.bitsPerElement, m.bits_per_element);
});

test('the options come back in the input spelling and reproduce the run', async () => {
  const qp = await qplay();
  qp.open(fixture('t2x3x4x5_f32.npy'), 't2x3x4x5_f32.npy');
  for (const options of [
    { dtype: 'uint4', granularity: 'block', blockSize: 4, axis: -1, rounding: 'stochastic:9', range: 'percentile:99.5', bins: 16 },
    { profile: 'pytorch', dtype: 'uint8', mode: 'symmetric', granularity: 'group', groupSize: 2, axis: 1 },
    { profile: 'ort-tool', reduceRange: true, dtype: 'int4' },
  ]) {
    const r = qp.quantize(undefined, options);
    const again = qp.quantize(undefined, r.options);
    assert.ok(Buffer.from(qp.export(again)).equals(Buffer.from(qp.export(r))), JSON.stringify(r.options));
  }
  const r = qp.quantize(undefined, { profile: 'pytorch' });
  assert.deepEqual(r.options, {
    dtype: 'int8', mode: 'asymmetric', narrow: false, reduceRange: false, granularity: 'tensor', axis: 0,
    range: 'minmax', rounding: 'half-even', zeroPointDomain: 'int', profile: 'pytorch', bins: 64,
  });
  assert.equal(r.division, 'multiply-inverse');
  qp.close();
});

test('{values, shape} gives the same bundle as the file holding those values', async () => {
  const qp = await qplay();
  qp.open(fixture('mat4x6_f32.npy'), 'mat4x6_f32.npy');
  const fromFile = qp.export(qp.quantize(undefined, { granularity: 'channel', axis: 1 }));
  const values = qp.values();
  qp.close();
  const fromValues = qp.export(qp.quantize({ values, shape: [4, 6] }, { granularity: 'channel', axis: 1, fileName: 'mat4x6_f32.npy' }));
  assert.ok(Buffer.from(fromValues).equals(Buffer.from(fromFile)));
  const anonymous = qp.quantize({ values: new Float32Array([0, 1, 2]) });
  assert.deepEqual(anonymous.input, { file: '', tensor: 'array', dtype: 'float32', shape: [3] });
  assert.equal(qp.quantize({ values: new Float32Array(2), name: 'w' }).input.tensor, 'w');
});

test('params: a result\'s params and calibrate()\'s are static params of a later run', async () => {
  const qp = await qplay();
  qp.open(fixture('mat4x6_f32.npy'), 'mat4x6_f32.npy');
  const dynamic = qp.quantize(undefined, { granularity: 'channel', dtype: 'uint8' });
  const reused = qp.quantize(undefined, { granularity: 'channel', dtype: 'uint8', params: dynamic.params });
  assert.deepEqual(reused.codes, dynamic.codes);
  assert.equal(reused.params.source, 'given');
  assert.equal(reused.groupStats, null);
  // Plain arrays work; a scalar broadcasts.
  const plain = qp.quantize(undefined, { params: { scale: [0.05], zeroPoint: [3] } });
  const scalar = qp.quantize(undefined, { scale: 0.05, zeroPoint: 3 });
  assert.deepEqual(plain.codes, scalar.codes);
  // A scale given as text is read as float32 directly, like the CLI; as a JS number it is rounded
  // from double. For ordinary values both give the same float32.
  assert.deepEqual(qp.quantize(undefined, { scale: '0.037' }).scale, qp.quantize(undefined, { scale: 0.037 }).scale);

  const params = qp.calibrate([{ bytes: fixture('calib_a.npy'), fileName: 'calib_a.npy' }, 'array'], 'moving-average:0.5',
    { granularity: 'channel' });
  assert.equal(params.source, 'calibrated');
  assert.equal(params.observer, 'moving-average:0.5');
  assert.deepEqual(params.files, ['calib_a.npy', 'mat4x6_f32.npy']);
  assert.deepEqual(params.shape, [4]);
  const r = qp.quantize(undefined, { granularity: 'channel', params });
  assert.deepEqual(r.scale, params.scale);
  const json = JSON.parse(r.paramsJson).params;
  assert.equal(json.source, 'calibrated');
  assert.deepEqual(json.files, ['calib_a.npy', 'mat4x6_f32.npy']);
  // Calibrated on other shapes: the CLI's message.
  const wrong = qp.calibrate([{ values: new Float32Array(17), fileName: 'v.npy' }], 'minmax', { granularity: 'channel' });
  assert.throws(() => qp.quantize(undefined, { granularity: 'channel', params: wrong }), {
    message: 'calibration gives params of shape (17,), but mat4x6_f32.npy of shape (4, 6) needs (4,) (calibrate with tensors shaped like the input)',
  });
  qp.close();
});

test('export json is what `qplay quantize --json` prints', async () => {
  const qp = await qplay();
  const args = ['--dtype', 'int4', '--granularity', 'channel', '--axis', '1'];
  const out = path.join(fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'qplay-json-')), 'o.npz');
  const cli = spawnSync(cliPath, ['quantize', 'mat4x6_f32.npy', '-o', out, '--json', ...args], { cwd: data, encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  fs.rmSync(path.dirname(out), { recursive: true });
  qp.open(fixture('mat4x6_f32.npy'), 'mat4x6_f32.npy');
  const r = qp.quantize(undefined, { dtype: 'int4', granularity: 'channel', axis: 1 });
  assert.equal(new TextDecoder().decode(qp.export(r, 'json')), cli.stdout);
  assert.equal(r.paramsJson, cli.stdout);
  assert.ok(runCli('mat4x6_f32.npy', args).bytes);
  qp.close();
});
