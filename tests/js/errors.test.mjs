// Errors: bad options and bad input bytes give the core's message (the CLI's, word for word), every
// failure is a thrown Error, and the module keeps working afterwards.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { createQplay } from '../../web/lib/qplay.js';
import { fixture, qplay, requireBuilds, runApi, runCli, wasmDir } from './helpers.mjs';

before(requireBuilds);

// Command lines the CLI rejects; the API must throw the same message.
const badOptions = [
  ['--dtype', 'int9'], ['--dtype', 'float8'], ['--dtype', 'uint0'], ['--dtype', 'int17'],
  ['--mode', 'sideways'], ['--granularity', 'row'], ['--range', 'percentile:200'], ['--range', 'percentile:0'],
  ['--range', 'percentile:x'], ['--range', 'median'], ['--rounding', 'stochastic:x'], ['--rounding', 'stochastic:-1'],
  ['--rounding', 'nearest'], ['--zero-point-domain', 'double'], ['--profile', 'tflite'],
  ['--axis', 'one'], ['--axis', '99'], ['--axis', '1.5'], ['--group-size', '0'], ['--block-size', '-3'],
  ['--bins', '0'], ['--bins', '2000000'], ['--bins', 'x'],
  ['--scale', 'abc'], ['--scale', 'inf'], ['--scale', '0x10'], ['--scale', '+1'], ['--scale', ' 1'], ['--scale', '1e39'], ['--scale', '1e-50'],
  ['--scale', '0.1', '--zero-point', 'z'],
  ['--zero-point', '3'], ['--range', 'mse', '--scale', '0.1'], ['--range', 'kl', '--params', 'params_4x6_axis0.npz'],
  ['--scale', '0.1', '--params', 'params_4x6_axis0.npz'], ['--zero-point', '1', '--params', 'params_4x6_axis0.npz'],
  ['--granularity', 'group'], ['--granularity', 'block'], ['--group-size', '2'], ['--block-size', '4'],
  ['--profile', 'onnx', '--rounding', 'half-away'], ['--profile', 'onnx', '--reduce-range'],
  ['--profile', 'seed', '--zero-point-domain', 'float', '--dtype', 'uint8'],
  ['--profile', 'pytorch', '--zero-point-domain', 'float'], ['--profile', 'ort-tool', '--narrow'],
  ['--profile', 'ort-tool', '--reduce-range', '--dtype', 'int2'],
  ['--zero-point-domain', 'float', '--mode', 'symmetric'], ['--dtype', 'int1', '--mode', 'symmetric'],
  ['--dtype', 'uint1', '--narrow'], ['--dtype', 'int2', '--reduce-range', '--narrow', '--mode', 'symmetric'],
  // errors found after parsing: the granularity against the shape, given params against the plan
  ['--granularity', 'channel', '--axis', '5'], ['--granularity', 'channel', '--axis', '-3'],
  ['--scale', '0.1', '--zero-point', '300', '--dtype', 'uint8'], ['--scale', '0.1', '--zero-point', '1.5'],
  ['--scale', '-1'], ['--scale', '0'], ['--scale', '0e5', '--zero-point', '-0.0'],
  ['--dtype', 'uint8', '--granularity', 'channel', '--axis', '1', '--params', 'params_4x6_axis0.npz'],
  ['--calibrate', 'calib_a.npy', '--observer', 'ema'], ['--calibrate', 'calib_a.npy', '--observer', 'moving-average:0'],
  ['--granularity', 'channel', '--calibrate', 'vec17_f32.npy'],
  ['--calibrate', 'calib_a.npy', 'bad_dtype.npy'], ['--calibrate', 'calib_a.npy', 'truncated.npz'],
  ['--calibrate', 'calib_a.npy', '--params', 'params_4x6_axis0.npz'],
  ['--tensor', 'nope'],
];

for (const args of badOptions) {
  test(`bad options: ${args.join(' ')}`, async () => {
    const cli = runCli('mat4x6_f32.npy', args);
    assert.ok(cli.error, `the CLI accepted ${args.join(' ')}`);
    const api = runApi(await qplay(), 'mat4x6_f32.npy', args);
    assert.equal(api.error, cli.error);
  });
}

const badFiles = ['bad_crc.npz', 'bad_dtype.npy', 'bad_header.npy', 'bad_magic.npy', 'bad_shape.npy', 'bad_version.npy',
  'missing_key.npy', 'not_a_tensor.txt', 'truncated.npz', 'truncated_data.npy', 'truncated_header.npy'];

// The first error of open() + quantize(): a reader may find a problem while listing or only when it
// decodes the tensor (a member's CRC-32), as the CLI's load does.
function firstError(qp, bytes, name) {
  try {
    qp.open(bytes, name);
    qp.quantize();
  } catch (err) {
    assert.ok(err instanceof Error);
    return err.message;
  }
  return undefined;
}

test('bad input bytes: the CLI\'s message, naming the file when given its name', async () => {
  const qp = await qplay();
  for (const name of badFiles) {
    const cli = runCli(name, []);
    assert.ok(cli.error, `the CLI read ${name}`);
    assert.equal(firstError(qp, fixture(name), name), cli.error);
    // Without a name the message is the core's own.
    assert.equal(firstError(qp, fixture(name), ''), cli.error.slice(`${name}: `.length));
  }
  // Empty and tiny inputs, as files for the CLI.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qplay-bad-'));
  for (const [name, bytes] of [['empty.npy', []], ['two.npy', [0x93, 0x4e]], ['pk.npz', [0x50, 0x4b, 3, 4]]]) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, new Uint8Array(bytes));
    const cli = runCli(file, []);
    assert.ok(cli.error, `the CLI read ${name}`);
    assert.equal(firstError(qp, new Uint8Array(bytes), file), cli.error);
  }
  fs.rmSync(dir, { recursive: true });
  // A failed open leaves no file open.
  assert.throws(() => qp.open(fixture('bad_magic.npy')));
  assert.throws(() => qp.quantize('array'), /no file is open/);
});

test('unknown option keys name the key and list the allowed ones', async () => {
  const qp = await qplay();
  qp.open(fixture('mat4x6_f32.npy'));
  const allowed = 'dtype, mode, narrow, reduceRange, granularity, axis, groupSize, blockSize, range, scale, zeroPoint, ' +
    'params, rounding, zeroPointDomain, profile, bins, tensor, fileName, saturate, bits, pack, scaleRule, doubleQuant, format, ' +
    'clipRatio';
  // The same keys, in the order of the core's option table.
  let message = '';
  try {
    qp.quantize(undefined, { dtyp: 'int8' });
  } catch (err) {
    message = err.message;
  }
  const unknown = /^unknown option 'dtyp' \(allowed: (.*)\)$/.exec(message);
  assert.ok(unknown, 'the message names the key and lists the allowed ones');
  assert.deepEqual(unknown[1].split(', ').sort(), allowed.split(', ').sort());
  assert.throws(() => qp.quantize(undefined, { '--dtype': 'int8' }), /^Error: unknown option '--dtype' \(allowed: /);
  assert.throws(() => qp.quantize(undefined, { block_size: 4 }), /^Error: unknown option 'block_size' \(allowed: /);
  assert.throws(() => qp.quantize(undefined, { observer: 'minmax' }), /unknown option 'observer'/);
  assert.throws(() => qp.calibrate(['array'], 'minmax', { json: true }), /unknown option 'json'/);
  assert.throws(() => qp.quantize(undefined, { params: { scale: new Float32Array([1]), zero: 1 } }),
    /unknown key 'zero' in params \(allowed: scale, zeroPoint, shape/);
});

test('option values of the wrong JS type are errors naming the flag', async () => {
  const qp = await qplay();
  qp.open(fixture('mat4x6_f32.npy'));
  const cases = [
    [{ dtype: 8 }, "invalid value '8' for --dtype (expected a string, got a number)"],
    [{ mode: null, dtype: ['int8'] }, "invalid value 'int8' for --dtype (expected a string, got an Array)"],
    [{ narrow: 'yes' }, "invalid value 'yes' for --narrow (expected true or false)"],
    [{ reduceRange: 1 }, "invalid value '1' for --reduce-range (expected true or false)"],
    [{ axis: 1.5 }, "invalid value '1.5' for --axis (expected an integer)"],
    [{ axis: Infinity }, "invalid value 'Infinity' for --axis (expected an integer)"],
    [{ bins: true }, "invalid value 'true' for --bins (expected an integer)"],
    [{ scale: Number.NaN }, "invalid value 'NaN' for --scale (expected a finite number)"],
    [{ scale: 1e39 }, "invalid value '1e+39' for --scale (expected a finite number)"],
    [{ scale: {} }, "invalid value '[object Object]' for --scale (expected a finite number)"],
    [{ tensor: 3 }, "invalid value '3' for --tensor (expected a string, got a number)"],
    [{ params: 'p.npz' }, 'params must be an object (got a string)'],
    [{ params: {} }, 'params needs scale (a Float32Array shaped for the granularity)'],
    [{ params: { scale: 'x' } }, 'params.scale must be a Float32Array or an array of numbers (got a string)'],
    [{ params: { scale: [1], shape: [-1] } }, 'params.shape must be an array of non-negative integers (got -1 at index 0)'],
    [{ params: { scale: [1], source: 'guessed' } }, "invalid value 'guessed' for params.source (allowed: given, calibrated, dynamic)"],
    [{ params: { scale: [1], files: 'a.npz' } }, 'params.files must be an array of strings (got a string)'],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => qp.quantize(undefined, options), { message }, JSON.stringify(options));
  }
  assert.throws(() => qp.quantize(undefined, 'int8'), { message: 'options must be an object (got a string)' });
  assert.throws(() => qp.quantize(undefined, [1]), { message: 'options must be an object (got an Array)' });
  // undefined and null values are absent options.
  assert.ok(qp.quantize(undefined, { dtype: undefined, mode: null }).codes instanceof Int8Array);
});

test('sources, calibration tensors and exports of the wrong shape or kind', async () => {
  const qp = await qplay();
  qp.close();
  assert.throws(() => qp.quantize('array'), { message: 'no file is open: call open(bytes) first, or pass {values, shape}' });
  assert.throws(() => qp.quantize(), /no file is open/);
  assert.throws(() => qp.values(), /no file is open/);
  const values = new Float32Array([1, 2, 3, 4, 5, 6]);
  assert.throws(() => qp.quantize({ values: [1, 2, 3] }), { message: 'values must be a Float32Array (got an Array)' });
  assert.throws(() => qp.quantize({ values: new Float64Array(3) }), { message: 'values must be a Float32Array (got a Float64Array)' });
  assert.throws(() => qp.quantize({ values, shape: [4, 2] }), { message: 'shape (4, 2) does not match 6 values' });
  assert.throws(() => qp.quantize({ values, shape: '2x3' }), /shape must be an array of non-negative integers \(got a string\)/);
  assert.throws(() => qp.quantize({ values, shap: [6] }), { message: "unknown key 'shap' in the source (allowed: values, shape, name)" });
  assert.throws(() => qp.quantize({ values }, { tensor: 'x' }), /the tensor option picks a tensor of the open file/);
  assert.throws(() => qp.quantize(42), /the source must be a tensor name of the open file or \{values: Float32Array, shape\} \(got number\)/);
  qp.open(fixture('multi.npz'), 'multi.npz');
  assert.throws(() => qp.quantize('bias', { tensor: 'weight' }), { message: "the source names tensor 'bias' but the tensor option names 'weight'" });
  assert.throws(() => qp.values('nope'), { message: "multi.npz: no tensor 'nope' in this .npz (it has: weight, bias, steps)" });

  assert.throws(() => qp.calibrate('bias'), { message: 'calibrate needs an array of tensors (got string)' });
  assert.throws(() => qp.calibrate([]), { message: '--calibrate needs at least one calibration tensor' });
  assert.throws(() => qp.calibrate([42]), { message: 'calibration tensor 1 must be a tensor name, {values, shape} or {bytes} (got number)' });
  assert.throws(() => qp.calibrate([{ bytes: 'x' }]), /calibration tensor 1: bytes must be a Uint8Array, an ArrayBuffer or another ArrayBuffer view \(got string\)/);
  assert.throws(() => qp.calibrate(['bias'], 'minmax', { fileName: 'x.npy' }), /fileName names the input of quantize/);
  assert.throws(() => qp.calibrate(['bias'], 'median'), { message: "invalid value 'median' for --observer (allowed: minmax, moving-average:C (0 < C <= 1))" });
  assert.throws(() => qp.calibrate(['bias'], 'minmax', { scale: 0.1 }), { message: 'conflicting params sources: --scale and --calibrate (pick one)' });
  assert.throws(() => qp.calibrate(['weight', 'bias'], 'minmax', { granularity: 'channel' }),
    { message: 'calibration tensor 2 of shape (6,) gives params of shape (6,), the first gives (4,)' });

  const r = qp.quantize('bias');
  assert.throws(() => qp.export(r, 'tar'), { message: "export format 'tar' is not supported (supported: npz, json, safetensors, gguf)" });
  assert.throws(() => qp.export({}), { message: 'export needs a result returned by quantize' });
  assert.throws(() => qp.export({ ...r, codes: new Float32Array(6) }),
    { message: 'export: codes must be Int8Array or Uint8Array or Int16Array or Uint16Array (got a Float32Array)' });
  assert.throws(() => qp.export({ ...r, dequantized: new Float32Array(5) }), { message: 'export: dequantized holds 5 values for shape (6,)' });
  assert.throws(() => qp.export({ ...r, zeroPoint: new Uint8Array(1) }), /export: zeroPoint must be Int32Array or Float32Array/);
  assert.throws(() => qp.open('bytes'), { message: 'open: the file must be a Uint8Array, an ArrayBuffer or another ArrayBuffer view (got string)' });
  assert.throws(() => qp.open(new Uint8Array(4), 7), { message: 'open: the file name must be a string (got number)' });
});

test('createQplay checks its configuration', async () => {
  const baseUrl = pathToFileURL(`${wasmDir}/`);
  await assert.rejects(createQplay({ simd: 'on', baseUrl }), { message: "invalid value 'on' for simd (allowed: auto, off)" });
  await assert.rejects(createQplay({ simd: 'off', baseurl: baseUrl }), { message: "unknown createQplay option 'baseurl' (allowed: simd, wasmBinary, baseUrl)" });
  await assert.rejects(createQplay('simd'), { message: 'createQplay takes an object (got string)' });
  await assert.rejects(createQplay({ baseUrl: pathToFileURL('/nonexistent/') }), /cannot read \/nonexistent\/qplay_(simd|baseline)\.wasm: .*build the wasm modules first/);
  await assert.rejects(createQplay({ baseUrl, wasmBinary: new Uint8Array([0, 1, 2]) }), /cannot instantiate qplay_simd\.wasm/);
  await assert.rejects(createQplay({ baseUrl, wasmBinary: 'qplay.wasm' }), /wasmBinary must be a Uint8Array/);
});

test('the module keeps working after errors', async () => {
  const qp = await qplay();
  qp.open(fixture('seed_example.npy'), 'seed_example.npy');
  for (let i = 0; i < 200; i++) {
    assert.throws(() => qp.quantize(undefined, { dtype: 'int9' }));
    assert.throws(() => qp.quantize(undefined, { granularity: 'channel', axis: 3 }));
  }
  const r = qp.quantize(undefined, { dtype: 'uint8', profile: 'seed' });
  assert.deepEqual(Array.from(r.codes), [0, 32, 129, 161, 255]);
});
