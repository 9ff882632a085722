// End-to-end tests of the native `qplay` CLI: exit codes, error lines, and the written .npz read back
// with numpy (/usr/bin/python3). Run: node --test tests/cli/  (QPLAY_CLI overrides the binary path).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = process.env.QPLAY_CLI ?? path.join(repo, 'build', 'native', 'cli', 'qplay');
const data = path.join(repo, 'tests', 'data');
const python = '/usr/bin/python3';
let tmp;

before(() => {
  assert.ok(fs.existsSync(cli), `no CLI at ${cli}: build it first (cmake --preset native && cmake --build build/native) or set QPLAY_CLI`);
  assert.ok(fs.existsSync(path.join(data, 'seed_example.npy')),
    'fixtures missing: run /usr/bin/python3 scripts/make_fixtures.py');
  const probe = spawnSync(python, ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(`${python} cannot import numpy: install python3-numpy (apt-get install -y python3-numpy; ` +
      'scripts/bootstrap installs it)');
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qplay-cli-'));
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function qplay(...args) {
  const r = spawnSync(cli, args, { cwd: data, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

let counter = 0;
function outPath() {
  counter += 1;
  return path.join(tmp, `out${counter}.npz`);
}

// Reads an exported bundle with numpy and reports what the tests check, as JSON.
const inspectScript = String.raw`
import json, sys, zipfile
import numpy as np

path = sys.argv[1]
with zipfile.ZipFile(path) as z:
    names = z.namelist()
    params = json.loads(z.read('params.json').decode('utf-8'))
npz = np.load(path)
arrays = {k: npz[k] for k in npz.files if k != 'params.json'}
codes, scale, zp, deq = arrays['codes'], arrays['scale'], arrays['zero_point'], arrays['dequantized']

def expand(p):
    """Params spread to the input shape, following the granularity plan of quantize.hpp."""
    o = params['options']
    g, shape = o['granularity'], codes.shape
    if g == 'tensor':
        return p.reshape(())
    axis = params['params']['axis']
    d = shape[axis]
    if g == 'block':
        return np.repeat(p, o['block_size'], axis=axis).take(np.arange(d), axis=axis)
    v = p if g == 'channel' else np.repeat(p, o['group_size'])[:d]
    return v.reshape([d if k == axis else 1 for k in range(len(shape))])

expected = (codes.astype(np.float32) - expand(zp).astype(np.float32)) * expand(scale).astype(np.float32)
expected = np.broadcast_to(expected.astype(np.float32), codes.shape)
print(json.dumps({
    'names': names,
    'files': sorted(npz.files),
    'dtypes': {k: v.dtype.str for k, v in arrays.items()},
    'shapes': {k: list(v.shape) for k, v in arrays.items()},
    'dequant_exact': bool(deq.dtype == np.float32 and expected.shape == deq.shape and
                          np.array_equal(expected.view(np.uint32), deq.view(np.uint32))),
    'codes': codes.astype(np.int64).ravel().tolist(),
    'scale': scale.astype(np.float64).ravel().tolist(),
    'scale_bits': scale.view(np.uint32).ravel().tolist(),
    'zero_point': zp.astype(np.float64).ravel().tolist(),
    'params': params,
}))
`;

function inspect(npzPath) {
  const r = spawnSync(python, ['-c', inspectScript, npzPath], { encoding: 'utf8' });
  assert.equal(r.status, 0, `numpy could not read ${npzPath}:\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

function pyEval(expr) {
  const r = spawnSync(python, ['-c', `import json\nimport numpy as np\nprint(json.dumps(${expr}))`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

// Runs a quantize that must succeed and returns the inspected bundle.
function quantizeOk(input, ...options) {
  const out = outPath();
  const r = qplay('quantize', input, '-o', out, ...options);
  assert.equal(r.status, 0, `qplay quantize ${input} ${options.join(' ')} failed:\n${r.stderr}`);
  assert.equal(r.stderr, '');
  return { run: r, out, bundle: inspect(out) };
}

function checkBundle(bundle, inputShape) {
  assert.deepEqual(bundle.names, ['codes.npy', 'scale.npy', 'zero_point.npy', 'dequantized.npy', 'params.json']);
  assert.deepEqual(bundle.shapes.codes, inputShape);
  assert.deepEqual(bundle.shapes.dequantized, inputShape);
  assert.equal(bundle.dtypes.dequantized, '<f4');
  assert.equal(bundle.dtypes.scale, '<f4');
  assert.deepEqual(bundle.shapes.scale, bundle.params.params.shape);
  assert.deepEqual(bundle.shapes.zero_point, bundle.params.params.shape);
  assert.equal(bundle.dtypes.zero_point, bundle.params.params.float_zero_point ? '<f4' : '<i4');
  assert.equal(bundle.dtypes.codes.slice(1), { int8: 'i1', uint8: 'u1', int16: 'i2', uint16: 'u2' }[bundle.params.codes.dtype]);
  assert.ok(bundle.dequant_exact, 'dequantized != (codes - zero_point) * scale in float32');
  const { qmin, qmax } = bundle.params.params;
  for (const c of bundle.codes) assert.ok(c >= qmin && c <= qmax, `code ${c} outside [${qmin}, ${qmax}]`);
  for (const key of ['mse', 'rmse', 'sqnr_db', 'max_abs_error', 'mean_abs_error', 'cosine', 'clip_rate',
    'bits_per_element', 'elements', 'finite', 'nan', 'pos_inf', 'neg_inf', 'saturated', 'bytes_before', 'bytes_after']) {
    assert.ok(key in bundle.params.metrics, `params.json lacks metrics.${key}`);
  }
}

function checkError(r, code, fragment) {
  assert.equal(r.status, code, `expected exit ${code}, got ${r.status} (signal ${r.signal}); stderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^qplay: error: [^\n]+\n$/, `not one error line: ${JSON.stringify(r.stderr)}`);
  assert.ok(r.stderr.includes(fragment), `stderr ${JSON.stringify(r.stderr)} lacks ${JSON.stringify(fragment)}`);
}

test('seed example: --dtype uint8 --profile seed gives s = 9.42/255, z = 129, q(-3.57) = 32', () => {
  const { bundle } = quantizeOk('seed_example.npy', '--dtype', 'uint8', '--profile', 'seed');
  checkBundle(bundle, [5]);
  // float32 (max - min) / (qmax - qmin), and the same as float32(9.42) / 255.
  const expected = pyEval('[int(((np.float32(4.67) - np.float32(-4.75)) / np.float32(255)).view(np.uint32)), ' +
    'int((np.float32(9.42) / np.float32(255)).view(np.uint32))]');
  assert.equal(expected[0], expected[1]);
  assert.deepEqual(bundle.scale_bits, [expected[0]]);
  assert.equal(bundle.scale[0].toPrecision(8), '0.036941178');
  assert.deepEqual(bundle.zero_point, [129]);
  assert.equal(bundle.codes[1], 32);
  assert.deepEqual(bundle.codes, [0, 32, 129, 161, 255]);
  assert.equal(bundle.params.options.profile, 'seed');
  assert.equal(bundle.params.params.source, 'dynamic');
});

test('seed example with the blog\'s rounded scale 0.037 gives q(-3.57) = 33', () => {
  const { bundle } = quantizeOk('seed_example.npy', '--scale', '0.037', '--zero-point', '129', '--dtype', 'uint8');
  checkBundle(bundle, [5]);
  assert.equal(bundle.codes[1], 33);
  assert.deepEqual(bundle.zero_point, [129]);
  assert.deepEqual(bundle.scale_bits, [pyEval('int(np.float32(0.037).view(np.uint32))')]);
  assert.equal(bundle.params.params.source, 'given');
});

const matrix = [
  ['mat4x6_f32.npy', [4, 6], []],
  ['mat4x6_f32.npy', [4, 6], ['--dtype', 'uint8']],
  ['mat4x6_f32.npy', [4, 6], ['--mode', 'symmetric']],
  ['mat4x6_f32.npy', [4, 6], ['--mode', 'symmetric', '--dtype', 'uint8']],
  ['mat4x6_f32.npy', [4, 6], ['--narrow', '--mode', 'symmetric']],
  ['mat4x6_f32.npy', [4, 6], ['--reduce-range']],
  ['mat4x6_f32.npy', [4, 6], ['--dtype', 'int4']],
  ['mat4x6_f32.npy', [4, 6], ['--dtype', 'uint4']],
  ['mat4x6_f32.npy', [4, 6], ['--dtype', 'int2']],
  ['mat4x6_f32.npy', [4, 6], ['--dtype', 'uint3']],
  ['mat4x6_f32.npy', [4, 6], ['--dtype', 'int16']],
  ['mat4x6_f32.npy', [4, 6], ['--dtype', 'uint16']],
  ['mat4x6_f32.npy', [4, 6], ['--granularity', 'channel']],
  ['mat4x6_f32.npy', [4, 6], ['--granularity', 'channel', '--axis', '1']],
  ['mat4x6_f32.npy', [4, 6], ['--granularity=channel', '--axis=-1', '--dtype=uint8']],
  ['t2x3x4x5_f32.npy', [2, 3, 4, 5], ['--granularity', 'channel', '--axis', '2']],
  ['t2x3x4x5_f32.npy', [2, 3, 4, 5], ['--granularity', 'group', '--group-size', '2', '--axis', '1']],
  ['t2x3x4x5_f32.npy', [2, 3, 4, 5], ['--granularity', 'block', '--block-size', '4', '--axis', '-1', '--dtype', 'int4']],
  ['t2x3x4x5_f32.npy', [2, 3, 4, 5], ['--granularity', 'block', '--block-size', '2', '--axis', '0']],
  ['vec17_f32.npy', [17], ['--range', 'percentile:99']],
  ['vec17_f32.npy', [17], ['--range', 'mse']],
  ['vec17_f32.npy', [17], ['--range', 'kl']],
  ['vec17_f32.npy', [17], ['--range', 'aciq', '--mode', 'symmetric']],
  ['vec17_f32.npy', [17], ['--rounding', 'half-away']],
  ['vec17_f32.npy', [17], ['--rounding', 'half-up']],
  ['vec17_f32.npy', [17], ['--rounding', 'stochastic:7']],
  ['vec17_f32.npy', [17], ['--dtype', 'uint8', '--zero-point-domain', 'float']],
  ['mat4x6_f32.npy', [4, 6], ['--profile', 'pytorch', '--dtype', 'uint8']],
  ['mat4x6_f32.npy', [4, 6], ['--profile', 'onnx', '--dtype', 'uint8']],
  ['mat4x6_f32.npy', [4, 6], ['--profile', 'ort-tool', '--mode', 'symmetric']],
  ['mat4x6_f32.npy', [4, 6], ['--bins', '7']],
  ['mat3x4_f64.npy', [3, 4], []],
  ['mat3x4_f16.npy', [3, 4], []],
  ['vec9_i8.npy', [9], []],
  ['big_endian_f4.npy', [3, 4], ['--dtype', 'uint8']],
  ['fortran_f4.npy', [3, 4], ['--dtype', 'uint8']],
  ['nan_inf_f32.npy', [8], []],
  ['constant_f32.npy', [3, 4], []],
  ['zeros_f32.npy', [8], ['--mode', 'symmetric']],
  ['scalar_0d_f32.npy', [], []],
  ['multi.npz', [6], ['--tensor', 'bias']],
  ['multi_deflated.npz', [4, 6], ['--tensor', 'weight']],
  ['mat4x6_f32.npy', [4, 6], ['--scale', '0.05', '--zero-point', '3']],
  ['mat4x6_f32.npy', [4, 6], ['--scale=0.02']],
  ['mat4x6_f32.npy', [4, 6], ['--dtype', 'uint8', '--granularity', 'channel', '--axis', '0', '--params', 'params_4x6_axis0.npz']],
  ['mat4x6_f32.npy', [4, 6], ['--calibrate', 'calib_a.npy', 'calib_b.npy']],
  ['mat4x6_f32.npy', [4, 6], ['--granularity', 'channel', '--calibrate', 'calib_a.npy', 'calib_b.npy', '--observer', 'moving-average:0.1']],
];

for (const [input, shape, options] of matrix) {
  test(`quantize ${input} ${options.join(' ')}`.trim(), () => {
    const { bundle, run } = quantizeOk(input, ...options);
    checkBundle(bundle, shape);
    assert.match(run.stdout, /^input +\S+/);
    assert.match(run.stdout, /\nSQNR +\S+ dB\n/);
    assert.match(run.stdout, /\nwrote +\S+ \(\d+ bytes\)\n$/);
  });
}

test('the recorded settings match the command line', () => {
  const { bundle } = quantizeOk('t2x3x4x5_f32.npy', '--granularity', 'block', '--block-size', '4', '--axis', '-1',
    '--dtype', 'uint4', '--rounding', 'stochastic:9', '--range', 'percentile:99.5', '--bins', '16');
  const { options, params, input, qplay: meta } = bundle.params;
  assert.equal(options.dtype, 'uint4');
  assert.equal(options.bits, 4);
  assert.equal(options.signed, false);
  assert.equal(options.granularity, 'block');
  assert.equal(options.axis, -1);
  assert.equal(options.block_size, 4);
  assert.equal(options.rounding, 'stochastic:9');
  assert.equal(options.range, 'percentile:99.5');
  assert.equal(options.histogram_bins, 16);
  assert.equal(params.axis, 3);
  assert.deepEqual(params.shape, [2, 3, 4, 2]);
  assert.equal(params.qmin, 0);
  assert.equal(params.qmax, 15);
  assert.deepEqual(input, { file: 't2x3x4x5_f32.npy', tensor: 'array', dtype: 'float32', shape: [2, 3, 4, 5] });
  assert.match(meta.version, /^\d+\.\d+\.\d+/);
  assert.ok(['simd128', 'scalar'].includes(meta.kernels));

  const cal = quantizeOk('mat4x6_f32.npy', '--calibrate', 'calib_a.npy', 'calib_b.npy', '--observer', 'moving-average:0.25').bundle;
  assert.equal(cal.params.params.source, 'calibrated');
  assert.equal(cal.params.params.observer, 'moving-average:0.25');
  assert.deepEqual(cal.params.params.files, ['calib_a.npy', 'calib_b.npy']);
});

test('NaN and inf are counted, and written as null where a metric is not finite', () => {
  const nan = quantizeOk('nan_inf_f32.npy').bundle.params.metrics;
  assert.equal(nan.nan, 1);
  assert.equal(nan.pos_inf, 1);
  assert.equal(nan.neg_inf, 1);
  assert.equal(nan.elements, 8);
  // A constant tensor is reproduced exactly: infinite SQNR is null in JSON.
  const zeros = quantizeOk('zeros_f32.npy').bundle.params.metrics;
  assert.equal(zeros.mse, 0);
});

test('--flag=value and --flag value give identical bytes; output is deterministic', () => {
  const a = outPath();
  const b = outPath();
  const c = outPath();
  assert.equal(qplay('quantize', 'mat4x6_f32.npy', '-o', a, '--dtype', 'int4', '--granularity', 'channel', '--axis', '1').status, 0);
  assert.equal(qplay('quantize', '--dtype=int4', '--granularity=channel', '--axis=1', 'mat4x6_f32.npy', `--output=${b}`).status, 0);
  assert.equal(qplay('quantize', 'mat4x6_f32.npy', '-o', c, '--dtype', 'int4', '--granularity', 'channel', '--axis', '1').status, 0);
  const bytes = [a, b, c].map((p) => fs.readFileSync(p));
  assert.ok(bytes[0].equals(bytes[2]), 'two identical runs differ');
  // params.json records the input file name, which is the same here, so the whole bundle matches.
  assert.ok(bytes[0].equals(bytes[1]), '--flag=value differs from --flag value');
});

test('--json prints params.json to stdout', () => {
  const out = outPath();
  const r = qplay('quantize', 'seed_example.npy', '-o', out, '--dtype', 'uint8', '--profile', 'seed', '--json');
  assert.equal(r.status, 0, r.stderr);
  const printed = JSON.parse(r.stdout);
  assert.deepEqual(printed, inspect(out).params);
  assert.deepEqual(printed.params.scale, [0.03694118]);
  assert.deepEqual(printed.params.zero_point, [129]);
  assert.equal(typeof printed.metrics.sqnr_db, 'number');
});

test('info lists every tensor', () => {
  const npy = qplay('info', 'mat4x6_f32.npy');
  assert.equal(npy.status, 0, npy.stderr);
  assert.deepEqual(npy.stdout.trim().split('\n').map((l) => l.split(/\s+/)),
    [['name', 'dtype', 'shape'], ['array', 'float32', '(4,', '6)']]);
  const npz = qplay('info', 'multi.npz');
  assert.equal(npz.status, 0, npz.stderr);
  assert.deepEqual(npz.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/).slice(0, 2)),
    [['weight', 'float32'], ['bias', 'float32'], ['steps', 'int64']]);
  const exported = quantizeOk('seed_example.npy').out;
  const own = qplay('info', exported);
  assert.deepEqual(own.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0]),
    ['codes', 'scale', 'zero_point', 'dequantized']);
});

test('help and version', () => {
  for (const args of [['--help'], ['help'], ['-h'], ['quantize', '--help']]) {
    const r = qplay(...args);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /usage:\n {2}qplay quantize INPUT -o OUT\.npz \[options\]/);
    assert.equal(r.stderr, '');
  }
  const v = qplay('--version');
  assert.equal(v.status, 0);
  assert.match(v.stdout, /^qplay \d+\.\d+\.\d+\n$/);
});

const usageErrors = [
  [[], 'missing command'],
  [['frobnicate'], "unknown command 'frobnicate'"],
  [['--frobnicate'], "unknown option '--frobnicate'"],
  [['quantize', 'mat4x6_f32.npy', '-o', 'x.npz', '--frobnicate'], "unknown option '--frobnicate'"],
  [['quantize', 'mat4x6_f32.npy', '-o', 'x.npz', '--frobnicate=3'], "unknown option '--frobnicate'"],
  [['quantize', 'mat4x6_f32.npy', '-o', 'x.npz', '--dtype'], 'missing value for --dtype'],
  [['quantize', 'mat4x6_f32.npy', '-o', 'x.npz', '--axis', '--json'], 'missing value for --axis'],
  [['quantize', 'mat4x6_f32.npy', '-o'], 'missing value for -o'],
  [['quantize', 'mat4x6_f32.npy', '-o', 'x.npz', '--dtype', 'int9'], "invalid value 'int9' for --dtype"],
  [['quantize', 'mat4x6_f32.npy', '-o', 'x.npz', '--mode', 'sideways'], "invalid value 'sideways' for --mode"],
  [['quantize', 'mat4x6_f32.npy', '-o', 'x.npz', '--granularity', 'row'], "invalid value 'row' for --granularity"],
  [['quantize', 'mat4x6_f32.npy', '-o', 'x.npz', '--range', 'percentile:200'], "for --range"],
  [['quantize', 'mat4x6_f32.npy', '-o', 'x.npz', '--rounding', 'stochastic:x'], "for --rounding"],
  [['quantize', 'mat4x6_f32.npy', '-o', 'x.npz', '--profile', 'tflite'], "invalid value 'tflite' for --profile"],
  [['quantize', 'mat4x6_f32.npy', '-o', 'x.npz', '--axis', 'one'], "invalid value 'one' for --axis"],
  [['quantize', 'mat4x6_f32.npy', '-o', 'x.npz', '--bins', '0'], '--bins must be between'],
  [['quantize', 'mat4x6_f32.npy', '-o', 'x.npz', '--scale', 'abc'], "invalid value 'abc' for --scale"],
  [['quantize', 'mat4x6_f32.npy', '-o', 'x.npz', '--narrow=yes'], '--narrow takes no value'],
  [['quantize', 'mat4x6_f32.npy', '-o', 'x.npz', '--dtype', 'int8', '--dtype', 'uint8'], '--dtype given more than once'],
  [['quantize', 'mat4x6_f32.npy'], 'quantize needs -o OUT.npz'],
  [['quantize', '-o', 'x.npz'], 'quantize needs an INPUT file'],
  [['quantize', 'a.npy', 'b.npy', '-o', 'x.npz'], 'quantize takes one INPUT file'],
  [['quantize', '-o', 'x.npz', '--calibrate', 'calib_a.npy', 'mat4x6_f32.npy'], 'put INPUT first'],
  [['quantize', 'mat4x6_f32.npy', '-o', 'x.npz', '--scale', '0.1', '--calibrate', 'calib_a.npy'],
    'conflicting params sources: --scale and --calibrate'],
  [['quantize', 'mat4x6_f32.npy', '-o', 'x.npz', '--params', 'params_4x6_axis0.npz', '--scale', '0.1'],
    'conflicting params sources: --scale and --params'],
  [['quantize', 'mat4x6_f32.npy', '-o', 'x.npz', '--zero-point', '3'], '--zero-point needs --scale'],
  [['quantize', 'mat4x6_f32.npy', '-o', 'x.npz', '--observer', 'minmax'], '--observer needs --calibrate'],
  [['quantize', 'mat4x6_f32.npy', '-o', 'x.npz', '--range', 'mse', '--scale', '0.1'], 'no effect with --scale'],
  [['quantize', 'mat4x6_f32.npy', '-o', 'x.npz', '--granularity', 'group'], '--granularity group needs --group-size'],
  [['quantize', 'mat4x6_f32.npy', '-o', 'x.npz', '--block-size', '4'], '--block-size needs --granularity block'],
  [['quantize', 'mat4x6_f32.npy', '-o', 'x.npz', '--profile', 'onnx', '--rounding', 'half-away'], '--profile onnx fixes --rounding'],
  [['info'], 'info needs a FILE'],
  [['info', 'mat4x6_f32.npy', '--json'], "unknown option '--json' for info"],
];

for (const [args, fragment] of usageErrors) {
  test(`usage error (exit 2): qplay ${args.join(' ')}`, () => {
    checkError(qplay(...args), 2, fragment);
    assert.ok(!fs.existsSync(path.join(data, 'x.npz')), 'a failed run wrote a file');
  });
}

const dataErrors = [
  [['quantize', 'no_such_file.npy'], "cannot read 'no_such_file.npy'"],
  [['quantize', 'bad_magic.npy'], 'unknown file format (supported: .npy'],
  [['quantize', 'truncated_data.npy'], 'truncated'],
  [['quantize', 'truncated_header.npy'], 'truncated header'],
  [['quantize', 'bad_dtype.npy'], "unsupported dtype '<c8'"],
  [['quantize', 'bad_shape.npy'], 'negative dimension'],
  [['quantize', 'bad_crc.npz'], 'CRC-32'],
  [['quantize', 'truncated.npz'], 'end-of-central-directory'],
  [['quantize', 'not_a_tensor.txt'], 'unknown file format'],
  [['quantize', 'multi.npz', '--tensor', 'nope'], "no tensor 'nope' in this .npz (it has: weight, bias, steps)"],
  [['quantize', 'mat4x6_f32.npy', '--granularity', 'channel', '--axis', '5'], '--axis 5'],
  [['quantize', 'mat4x6_f32.npy', '--params', 'seed_example.npy'], 'params'],
  [['quantize', 'mat4x6_f32.npy', '--dtype', 'uint8', '--granularity', 'channel', '--axis', '1', '--params', 'params_4x6_axis0.npz'], '(4,)'],
  [['quantize', 'mat4x6_f32.npy', '--granularity', 'channel', '--calibrate', 'vec17_f32.npy'],
    'calibration gives params of shape (17,), but mat4x6_f32.npy of shape (4, 6) needs (4,)'],
  [['quantize', 'mat4x6_f32.npy', '--calibrate', 'calib_a.npy', 'bad_dtype.npy'], "bad_dtype.npy: .npy: unsupported dtype"],
  [['quantize', 'mat4x6_f32.npy', '--scale', '0.1', '--zero-point', '300', '--dtype', 'uint8'], '300'],
  [['info', 'bad_magic.npy'], 'unknown file format'],
  [['info', 'bad_version.npy'], 'unsupported format version 7.0'],
  [['info', 'no_such_file.npz'], "cannot read 'no_such_file.npz'"],
];

for (const [args, fragment] of dataErrors) {
  test(`file/data error (exit 1): qplay ${args.join(' ')}`, () => {
    const full = args[0] === 'quantize' ? [...args, '-o', path.join(tmp, 'err.npz')] : args;
    checkError(qplay(...full), 1, fragment);
  });
}

test('an unwritable output is a file error naming the path', () => {
  const target = path.join(tmp, 'missing-dir', 'out.npz');
  checkError(qplay('quantize', 'mat4x6_f32.npy', '-o', target), 1, `cannot write '${target}'`);
});

test('a full disk is a file error, and a device is never removed', { skip: !fs.existsSync('/dev/full') }, () => {
  checkError(qplay('quantize', 'seed_example.npy', '-o', '/dev/full'), 1, "cannot write '/dev/full'");
  assert.ok(fs.existsSync('/dev/full'));
});
