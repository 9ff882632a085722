// Whole-file mode through the JS API: describing a file from slices of it, the plan, tensor-by-tensor
// quantization and the bundle writer's chunks, checked against the whole-file readers, the
// single-tensor API and the CLI.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { cliPath, data, fixture, qplay, readZip, requireBuilds, runCli } from './helpers.mjs';

before(requireBuilds);

// Grows the head as describeHead asks, from `start` bytes.
function describeGrowing(qp, bytes, start) {
  let have = Math.min(start, bytes.length);
  for (let round = 0; round < 64; round++) {
    const r = qp.describeHead(bytes.subarray(0, have), bytes.length);
    if (r.info) return r.info;
    assert.ok(r.bytesNeeded > have && r.bytesNeeded <= bytes.length, `bytesNeeded ${r.bytesNeeded} after ${have}`);
    have = r.bytesNeeded;
  }
  throw new Error('describeHead never finished');
}

// Places chunks at their offsets; they must tile the output exactly.
function assemble(chunks) {
  const sorted = [...chunks].sort((a, b) => a.offset - b.offset);
  let at = 0;
  for (const c of sorted) {
    assert.equal(c.offset, at, 'chunks tile the file without holes or overlaps');
    at += c.bytes.length;
  }
  const out = new Uint8Array(at);
  for (const c of sorted) out.set(c.bytes, c.offset);
  return out;
}

// The whole loop by hand, as a page with workers runs it (tensors in any order).
function quantizeByHand(qp, bytes, options, overrides, format, order = (plan) => plan) {
  const info = describeGrowing(qp, bytes, 16);
  const plan = qp.planWholeFile(info, options, overrides);
  const writer = qp.bundleWriter(plan, format);
  const chunks = [writer.header];
  const rows = new Map();
  for (const entry of order(plan)) {
    const stored = bytes.subarray(entry.dataOffset, entry.dataOffset + entry.dataBytes);
    const result = qp.quantizeTensorBytes(structuredClone(entry), stored.slice());
    rows.set(entry.name, result.report);
    chunks.push(...writer.add(result));
  }
  chunks.push(writer.finish());
  const out = assemble(chunks);
  if (writer.totalSize !== null) assert.equal(out.length, writer.totalSize);
  return { out, plan, report: plan.map((e) => rows.get(e.name)) };
}

test('describeHead from slices equals describing the whole file', async () => {
  for (const flavour of ['simd', 'baseline']) {
    const qp = await qplay(flavour);
    for (const name of ['model_tiny.safetensors', 'model_tiny.gguf', 'model_tiny.npz', 'all_dtypes.safetensors',
      'tiny.gguf', 'fortran_big_endian_f4.npy', 'mat3x4.csv']) {
      const bytes = fixture(name);
      const whole = qp.describeHead(bytes, bytes.length).info;
      assert.ok(whole, name);
      for (const start of [0, 1, 16, 100, bytes.length - 1]) assert.deepEqual(describeGrowing(qp, bytes, start), whole, name);
      // The same tensors open() lists.
      const listed = qp.open(bytes, name).tensors;
      assert.deepEqual(whole.tensors.map(({ name: n, dtype, shape }) => ({ name: n, dtype, shape })), listed);
      qp.close();
    }
  }
});

test('describeHead asks for the safetensors header only, and reports malformed files as the CLI does', async () => {
  const qp = await qplay();
  const bytes = fixture('model_tiny.safetensors');
  const headerEnd = 8 + (bytes[0] | (bytes[1] << 8));
  assert.deepEqual(qp.describeHead(bytes.subarray(0, 16), bytes.length), { bytesNeeded: headerEnd });
  const info = qp.describeHead(bytes.subarray(0, headerEnd), bytes.length).info;
  assert.deepEqual(info.metadata, [{ key: 'format', type: 'str', value: 'pt' }]);
  const up = info.tensors.find((t) => t.name === 'model.layers.0.mlp.up_proj.weight');
  assert.equal(up.storedType, 'F32');
  assert.equal(up.dataBytes, 12 * 8 * 4);
  for (const name of ['st_outside.safetensors', 'st_overlap.safetensors', 'gguf_outside.gguf', 'gguf_count_lie.gguf']) {
    const bad = fixture(name);
    const cli = spawnSync(cliPath, ['info', name], { cwd: data, encoding: 'utf8' });
    assert.equal(cli.status, 1);
    assert.throws(() => describeGrowing(qp, bad, 16), { message: cli.stderr.replace(/^qplay: error: [^:]+: /, '').trim() });
  }
});

test('raw input: describeHead needs no bytes, open reads it as the CLI does', async () => {
  const qp = await qplay();
  const bytes = fixture('mat4x6_f32_be_offset16.bin');
  const raw = { dtype: 'float32', shape: [-1, 6], offset: 16, endian: 'big' };
  const { info } = qp.describeHead(new Uint8Array(0), bytes.length, { raw });
  assert.deepEqual(info.tensors[0].shape, [4, 6]);
  assert.equal(info.tensors[0].bigEndian, true);
  assert.deepEqual(qp.open(bytes, { fileName: 'm.bin', raw }).tensors, [{ name: 'array', dtype: 'float32', shape: [4, 6] }]);
  const result = qp.quantize(undefined, { dtype: 'int4' });
  const cli = runCli('mat4x6_f32_be_offset16.bin', ['--raw-dtype', 'float32', '--raw-shape', '-1,6', '--raw-offset', '16',
    '--raw-endian', 'big', '--dtype', 'int4']);
  assert.deepEqual(Buffer.from(qp.export({ ...result, paramsJson: result.paramsJson.replace('"m.bin"', '"mat4x6_f32_be_offset16.bin"') })),
    Buffer.from(cli.bytes));
  assert.throws(() => qp.open(bytes, { raw: { dtype: 'float32' } }), { message: /raw input needs shape/ });
  qp.close();
});

test("export(result, 'safetensors') is the CLI's -o OUT.safetensors bundle", async () => {
  const qp = await qplay();
  qp.open(fixture('mat4x6.safetensors'), 'mat4x6.safetensors');
  const result = qp.quantize('weight', { dtype: 'int4', granularity: 'channel' });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qplay-wf-'));
  const out = path.join(tmp, 'out.safetensors');
  const r = spawnSync(cliPath, ['quantize', 'mat4x6.safetensors', '--tensor', 'weight', '--dtype', 'int4', '--granularity',
    'channel', '-o', out], { cwd: data, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(Buffer.from(qp.export(result, 'safetensors')), fs.readFileSync(out));
  fs.rmSync(tmp, { recursive: true });
  qp.close();
});

test('tensor by tensor: each quantized part equals the single-tensor quantize of that tensor', async () => {
  const qp = await qplay();
  const bytes = fixture('model_tiny.safetensors');
  const options = { dtype: 'int4', granularity: 'block', blockSize: 4, axis: -1 };
  const overrides = [{ pattern: 'lm_head.*', keep: true }, { pattern: '*.up_proj.*', options: { dtype: 'uint8', granularity: 'channel' } }];
  // Added in reverse order: the offsets place the data.
  const { out, plan, report } = quantizeByHand(qp, bytes, options, overrides, 'safetensors', (p) => [...p].reverse());
  const byName = Object.fromEntries(plan.map((e) => [e.name, e]));
  assert.equal(byName['lm_head.weight'].why, "rule 'lm_head.*'");
  assert.equal(byName['model.layers.0.mlp.up_proj.weight'].scheme, 'uint8 channel');
  assert.equal(byName['model.embed_tokens.weight'].scheme, 'int4 block:4');
  assert.equal(byName['model.layers.0.input_layernorm.weight'].why, '1-D');
  assert.equal(byName.position_ids.why, 'integer');

  qp.open(bytes, 'model_tiny.safetensors');
  const outInfo = qp.describeHead(out, out.length).info;
  const stored = (name) => {
    const t = outInfo.tensors.find((x) => x.name === name);
    assert.ok(t, `${name} is in the bundle`);
    return out.subarray(t.dataOffset, t.dataOffset + t.dataBytes);
  };
  for (const entry of plan) {
    const row = report.find((r) => r.name === entry.name);
    if (!entry.quantize) {
      assert.equal(row.quantized, false);
      assert.deepEqual(Buffer.from(stored(entry.name)), Buffer.from(bytes.subarray(entry.dataOffset, entry.dataOffset + entry.dataBytes)));
      continue;
    }
    const single = qp.quantize(entry.name, entry.name.includes('up_proj') ? { dtype: 'uint8', granularity: 'channel' } : options);
    const asBytes = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    assert.deepEqual(asBytes(stored(`${entry.name}.codes`)), asBytes(single.codes), entry.name);
    assert.deepEqual(asBytes(stored(`${entry.name}.scale`)), asBytes(single.scale), entry.name);
    assert.deepEqual(asBytes(stored(`${entry.name}.zero_point`)), asBytes(single.zeroPoint), entry.name);
    assert.equal(row.mse, single.metrics.mse);
    assert.equal(row.sqnrDb, single.metrics.sqnrDb);
    assert.equal(row.maxAbsError, single.metrics.maxAbsError);
    assert.equal(row.bitsPerElement, single.metrics.bitsPerElement);
    assert.equal(row.params, single.scale.length);
  }
  qp.close();
  const csv = qp.reportText(report, 'csv').split('\n');
  assert.equal(csv[0], 'name,shape,dtype,action,scheme,params,mse,sqnr_db,max_abs_error,bits_per_element,bytes_before,bytes_after');
  assert.equal(csv.length, plan.length + 2);
  assert.match(qp.reportText(report, 'json'), /^\{\n {2}"tensors": \[/);
});

test('the npz bundle and the writer checks', async () => {
  const qp = await qplay('baseline');
  const bytes = fixture('model_tiny.safetensors');
  const { out } = quantizeByHand(qp, bytes, { dtype: 'int8' }, [], 'npz');
  const names = readZip(out).map((m) => m.name);
  assert.ok(names.includes('lm_head.weight.codes.npy'));
  assert.ok(names.includes('lm_head.weight.params.json'));
  assert.ok(names.includes('position_ids.npy'));
  assert.ok(names.includes('model.layers.0.input_layernorm.weight.npy'));

  const plan = qp.planWholeFile(qp.describeHead(bytes, bytes.length).info, { dtype: 'int8' });
  const writer = qp.bundleWriter(plan, 'safetensors');
  const entry = plan.find((e) => e.name === 'lm_head.weight');
  const result = qp.quantizeTensorBytes(entry, bytes.subarray(entry.dataOffset, entry.dataOffset + entry.dataBytes));
  assert.throws(() => writer.add({ ...result, scale: new Float32Array(3) }), { message: /bundle: tensor 'lm_head.weight' scale holds 12 bytes/ });
  writer.add(result);
  assert.throws(() => writer.add(result), { message: "bundle: tensor 'lm_head.weight' was already written" });
  assert.throws(() => writer.finish(), { message: /was never written/ });
  assert.throws(() => writer.add(result), { message: 'the bundle writer is finished or closed' });
  assert.throws(() => qp.planWholeFile({ tensors: [] }, { scale: 0.1 }), { message: /'scale' does not apply to whole-file mode/ });
  assert.throws(() => qp.planWholeFile(qp.describeHead(bytes, bytes.length).info, {}, [{ pattern: '*', options: { dtype: 'int9' } }]),
    { message: /^override '\*': / });
  assert.throws(() => qp.quantizeTensorBytes(entry, new Uint8Array(3)), { message: /tensor 'lm_head.weight': 3 stored bytes/ });
});

test('quantizeFile over a Blob gives the same bytes as the loop by hand', async () => {
  const qp = await qplay();
  for (const name of ['model_tiny.safetensors', 'model_tiny.gguf']) {
    const bytes = fixture(name);
    const progress = [];
    const { blob, report } = await qp.quantizeFile(new Blob([bytes]), { dtype: 'nf4', granularity: 'block', blockSize: 8, axis: -1 },
      { onProgress: (p) => progress.push(p.index) });
    const byHand = quantizeByHand(qp, bytes, { dtype: 'nf4', granularity: 'block', blockSize: 8, axis: -1 }, [], 'safetensors');
    assert.deepEqual(Buffer.from(await blob.arrayBuffer()), Buffer.from(byHand.out), name);
    assert.deepEqual(report, byHand.report);
    assert.deepEqual(progress, [...byHand.plan.keys()]);
  }
});

test('tensor by tensor through the API gives the CLI --all output byte for byte', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qplay-wf-'));
  const cases = [
    ['model_tiny.safetensors', 'safetensors', ['--dtype', 'int4', '--granularity', 'block', '--block-size', '4', '--axis', '-1',
      '--override', 'lm_head.*:keep', '--override', '*norm*:--dtype int8'],
    { dtype: 'int4', granularity: 'block', blockSize: 4, axis: -1 },
    [{ pattern: 'lm_head.*', keep: true }, { pattern: '*norm*', options: { dtype: 'int8' } }]],
    ['model_tiny.gguf', 'npz', ['--dtype', 'fp8_e4m3fn', '--granularity', 'channel'], { dtype: 'fp8_e4m3fn', granularity: 'channel' }, []],
    ['model_tiny.npz', 'safetensors', ['--mode', 'symmetric', '--profile', 'pytorch'], { mode: 'symmetric', profile: 'pytorch' }, []],
    // A .gguf of kept tensors (the JS options have no ggml format yet): F16/F32 as stored.
    ['model_ggml.safetensors', 'gguf', ['--format', 'q8_0', '--override', '*:keep'], {}, [{ pattern: '*', keep: true }]],
  ];
  for (const flavour of ['simd', 'baseline']) {
    const qp = await qplay(flavour);
    for (const [name, format, flags, options, overrides] of cases) {
      const out = path.join(tmp, `out.${format}`);
      const csv = path.join(tmp, 'report.csv');
      const r = spawnSync(cliPath, ['quantize', name, '--all', '-o', out, '--report', csv, ...flags], { cwd: data, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const byHand = quantizeByHand(qp, fixture(name), options, overrides, format);
      assert.deepEqual(Buffer.from(byHand.out), fs.readFileSync(out), `${name} (${flavour})`);
      assert.equal(qp.reportText(byHand.report, 'csv'), fs.readFileSync(csv, 'utf8'), `${name} report (${flavour})`);
      const json = spawnSync(cliPath, ['quantize', name, '--all', '-o', out, '--json', ...flags], { cwd: data, encoding: 'utf8' });
      assert.equal(json.stdout, qp.reportText(byHand.report, 'json'));
    }
  }
  fs.rmSync(tmp, { recursive: true });
});
