// The native CLI over every input format (safetensors, gguf, text, raw) and the .safetensors bundle,
// read back with /usr/bin/python3 (json + numpy, no safetensors package needed).
// Run: node --test tests/cli/  (QPLAY_CLI overrides the binary path).
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
  assert.ok(fs.existsSync(cli), `no CLI at ${cli}: build it first or set QPLAY_CLI`);
  assert.ok(fs.existsSync(path.join(data, 'tiny.gguf')), 'fixtures missing: run /usr/bin/python3 scripts/make_fixtures.py');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qplay-formats-'));
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function qplay(...args) {
  const r = spawnSync(cli, args, { cwd: data, encoding: 'utf8' });
  if (r.error) throw r.error;
  return r;
}

function ok(...args) {
  const r = qplay(...args);
  assert.equal(r.status, 0, `qplay ${args.join(' ')} failed:\n${r.stderr}`);
  assert.equal(r.stderr, '');
  return r.stdout;
}

function checkError(r, code, fragment) {
  assert.equal(r.status, code, `expected exit ${code}, got ${r.status}; stderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^qplay: error: [^\n]+\n$/);
  assert.ok(r.stderr.includes(fragment), `stderr ${JSON.stringify(r.stderr)} lacks ${JSON.stringify(fragment)}`);
}

function py(script, ...args) {
  const r = spawnSync(python, ['-c', script, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

// Rows of the tensor table (until the blank line before metadata), split on blanks.
function tensorRows(stdout) {
  return stdout.split('\n\n')[0].trim().split('\n').slice(1).map((l) => l.split(/\s+/));
}

// The members of a .npz as {name: [dtype, shape, values]} (params.json as text).
const readNpz = String.raw`
import json, sys, zipfile
import numpy as np
out = {}
with zipfile.ZipFile(sys.argv[1]) as z:
    out['params.json'] = z.read('params.json').decode()
npz = np.load(sys.argv[1])
for k in npz.files:
    if k == 'params.json':
        continue
    a = npz[k]
    out[k] = [a.dtype.str, list(a.shape), a.astype(np.float64).ravel().tolist()]
print(json.dumps(out))
`;

// A .safetensors read with json + numpy: header facts and {name: [dtype, shape, values]}.
const readSafetensors = String.raw`
import json, struct, sys
import numpy as np
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
header = json.loads(b[8:8 + n])
meta = header.pop('__metadata__', {})
types = {'I8': 'i1', 'U8': 'u1', 'I16': '<i2', 'U16': '<u2', 'I32': '<i4', 'F32': '<f4'}
tensors, order, end = {}, [], 0
for name, t in sorted(header.items(), key=lambda kv: kv[1]['data_offsets']):
    s, e = t['data_offsets']
    assert s == end, 'hole or overlap'
    end = e
    a = np.frombuffer(b[8 + n + s:8 + n + e], dtype=types[t['dtype']]).reshape(t['shape'])
    tensors[name] = [t['dtype'], t['shape'], a.astype(np.float64).ravel().tolist(), (8 + n + s) % a.itemsize]
    order.append(name)
assert 8 + n + end == len(b), 'data does not end the file'
print(json.dumps({'n': n, 'meta': meta, 'tensors': tensors, 'order': order, 'padding': b[8:8 + n][len(b[8:8 + n].rstrip()):].decode()}))
`;

test('info lists safetensors tensors and their __metadata__', () => {
  const out = ok('info', 'all_dtypes.safetensors');
  const rows = tensorRows(out);
  assert.equal(rows.length, 17);
  assert.deepEqual(rows[0], ['t_u64', 'uint64', '(2,)']);
  assert.ok(rows.some((r) => r[0] === 't_f8_e4m3' && r[1] === 'float8_e4m3fn'));
  assert.ok(rows.some((r) => r[0] === 't_bf16' && r[1] === 'bfloat16'));
  assert.match(out, /\n\nsafetensors metadata \(2\)\nkey +type +value\nformat +str +pt\nnote +str +café "quoted"\n$/);
});

test('info lists gguf tensors with their ggml types and the typed metadata', () => {
  const out = ok('info', 'tiny.gguf');
  assert.deepEqual(tensorRows(out), [
    ['weight', 'float32', '(4,', '6)'], ['half', 'float16', '(4,)'], ['brain', 'bfloat16', '(3,)'],
    ['ints', 'int32', '(2,', '2)'], ['blk.0.q4_0', 'Q4_0', '->', 'float32', '(1,', '32)'],
    ['blk.0.q4_k', 'Q4_K', '->', 'float32', '(256,)']]);
  assert.match(out, /\ngguf metadata \(16\)\n/);
  assert.match(out, /\ngeneral\.name +str +tiny "test"\\nmodel\n/);  // one line per key
  assert.match(out, /\ntest\.arr_str +arr\[str\] +\["<unk>", "<s>", .*\.\.\. \(10 items\)\]\n/);
  assert.match(out, /\ntest\.nested +arr\[arr\[u8\]\] +\[\[1, 2\], \[3\]\]\n/);
});

test('quantized gguf tensors decode to float32 and quantize like any tensor', () => {
  const out = path.join(tmp, 'q4k.npz');
  const r = qplay('quantize', path.join(data, 'tiny.gguf'), '--tensor', 'blk.0.q4_k', '-o', out);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^input +.*\[blk\.0\.q4_k\] float32 \(256,\)$/m);
});

test('info reads text tables and raw files described by --raw-* flags', () => {
  assert.deepEqual(tensorRows(ok('info', 'mat3x4.csv')), [['array', 'float64', '(3,', '4)']]);
  assert.deepEqual(tensorRows(ok('info', 'col5.txt')), [['array', 'float64', '(5,)']]);
  assert.deepEqual(tensorRows(ok('info', 'mat4x6_f32.bin', '--raw-dtype', 'float32', '--raw-shape', '4,6')),
    [['array', 'float32', '(4,', '6)']]);
  assert.deepEqual(tensorRows(ok('info', 'mat4x6_f32_be_offset16.bin', '--raw-dtype=f32', '--raw-shape=-1,6',
    '--raw-offset=16', '--raw-endian=big')), [['array', 'float32', '(4,', '6)']]);
});

// The same 4x6 float32 values in every container quantize to the same codes and params.
const sameTensor = [
  ['mat4x6.safetensors', []],
  ['tiny.gguf', ['--tensor', 'weight']],
  ['all_dtypes.safetensors', ['--tensor', 't_f32']],
  ['mat4x6_f32.bin', ['--raw-dtype', 'float32', '--raw-shape', '4,6']],
  ['mat4x6_f32_be_offset16.bin', ['--raw-dtype', 'float32', '--raw-shape', '4,-1', '--raw-offset', '16', '--raw-endian', 'big']],
];

test('every container of the same tensor gives the same quantization as the .npy', () => {
  const ref = path.join(tmp, 'ref.npz');
  ok('quantize', 'mat4x6_f32.npy', '-o', ref, '--granularity', 'channel', '--dtype', 'uint8');
  const want = py(readNpz, ref);
  for (const [input, options] of sameTensor) {
    const out = path.join(tmp, `same-${path.basename(input)}.npz`);
    ok('quantize', input, '-o', out, '--granularity', 'channel', '--dtype', 'uint8', ...options);
    const got = py(readNpz, out);
    for (const member of ['codes', 'scale', 'zero_point', 'dequantized']) {
      assert.deepEqual(got[member], want[member], `${input}: ${member} differs`);
    }
  }
});

test('quantize reads float16, bfloat16, fp8 and text inputs', () => {
  for (const [input, options, shape] of [
    ['all_dtypes.safetensors', ['--tensor', 't_bf16'], [3]],
    ['all_dtypes.safetensors', ['--tensor', 't_f8_e5m2', '--dtype', 'uint8'], [6]],
    ['tiny.gguf', ['--tensor', 'half'], [4]],
    ['mat3x4.csv', [], [3, 4]],
    ['ws2x3.txt', ['--mode', 'symmetric'], [2, 3]],
  ]) {
    const out = path.join(tmp, 'in.npz');
    const stdout = ok('quantize', input, '-o', out, ...options);
    assert.match(stdout, /^input +\S+ \[\S+\] \S+ /);
    assert.deepEqual(py(readNpz, out).codes[1], shape, input);
  }
});

test('-o X.safetensors writes NAME.codes, NAME.scale, NAME.zero_point and the params', () => {
  const st = path.join(tmp, 'bundle.safetensors');
  const npz = path.join(tmp, 'bundle.npz');
  const args = ['--granularity', 'channel', '--axis', '1', '--dtype', 'int4'];
  ok('quantize', 'multi.npz', '--tensor', 'weight', '-o', st, ...args);
  ok('quantize', 'multi.npz', '--tensor', 'weight', '-o', npz, ...args);
  const got = py(readSafetensors, st);
  const want = py(readNpz, npz);
  assert.equal(got.n % 8, 0, 'header length is a multiple of 8');
  assert.match(got.padding, /^ *$/);
  // The safetensors library's order: float32 scale, int32 zero point, int8 codes.
  assert.deepEqual(got.order, ['weight.scale', 'weight.zero_point', 'weight.codes']);
  assert.deepEqual(got.tensors['weight.codes'].slice(0, 3), ['I8', ...want.codes.slice(1)]);
  assert.deepEqual(got.tensors['weight.scale'].slice(0, 3), ['F32', ...want.scale.slice(1)]);
  assert.deepEqual(got.tensors['weight.zero_point'].slice(0, 3), ['I32', ...want.zero_point.slice(1)]);
  for (const t of Object.values(got.tensors)) assert.equal(t[3], 0, 'tensor data aligned to its element size');
  assert.deepEqual(Object.keys(got.meta), ['qplay.params.weight']);
  // The params are params.json of the same run (the output name is not part of it).
  assert.deepEqual(JSON.parse(got.meta['qplay.params.weight']), JSON.parse(want['params.json']));
  // Our own reader and info read it back.
  assert.deepEqual(tensorRows(ok('info', st)).map((r) => r[0]), ['weight.scale', 'weight.zero_point', 'weight.codes']);
  // Deterministic bytes.
  const again = path.join(tmp, 'again.safetensors');
  ok('quantize', 'multi.npz', '--tensor', 'weight', '-o', again, ...args);
  assert.ok(fs.readFileSync(st).equals(fs.readFileSync(again)));
});

const usageErrors = [
  [['info', 'mat4x6_f32.bin', '--raw-shape', '4,6'], 'raw input needs --raw-dtype'],
  [['info', 'mat4x6_f32.bin', '--raw-dtype', 'float32'], 'raw input needs --raw-shape'],
  [['info', 'mat4x6_f32.bin', '--raw-dtype', 'complex64', '--raw-shape', '4,6'], "unknown dtype 'complex64'"],
  [['info', 'mat4x6_f32.bin', '--raw-dtype', 'f32', '--raw-shape', '4;6'], "invalid shape '4;6'"],
  [['info', 'mat4x6_f32.bin', '--raw-dtype', 'f32', '--raw-shape', '4,6', '--raw-endian', 'middle'], "invalid value 'middle' for --raw-endian"],
  [['info', 'mat4x6_f32.bin', '--raw-dtype', 'f32', '--raw-shape', '4,6', '--raw-offset', '-3'], '--raw-offset must not be negative'],
  [['quantize', 'mat4x6_f32.bin', '-o', 'x.npz', '--raw-dtype', 'f32', '--raw-dtype', 'f16', '--raw-shape', '4,6'], '--raw-dtype given more than once'],
];

for (const [args, fragment] of usageErrors) {
  test(`usage error (exit 2): qplay ${args.join(' ')}`, () => {
    checkError(qplay(...args), 2, fragment);
  });
}

const dataErrors = [
  [['info', 'mat4x6_f32.bin'], 'raw binary needs its dtype and shape given'],
  [['info', 'mat4x6_f32.bin', '--raw-dtype', 'f32', '--raw-shape', '5,6'], 'raw: float32 (5, 6) needs 120 bytes after offset 0, the file has 96'],
  [['info', 'st_overlap.safetensors'], "tensors 'a' [0, 8) and 'b' [4, 8) overlap"],
  [['info', 'st_header_too_large.safetensors'], 'exceeds the limit of 100000000 bytes'],
  [['info', 'gguf_deep_array.gguf'], 'nests arrays deeper than 8 levels'],
  [['info', 'ragged.csv'], 'ragged.csv: text: line 3 has 2 values, but line 1 has 3'],
  [['info', 'bomb_ratio.npz'], 'a zip bomb?'],
  [['quantize', 'all_dtypes.safetensors', '--tensor', 'nope'], "no tensor 'nope' in this .safetensors"],
  [['quantize', 'bad_number.csv'], "text: line 2: 'x4' is not a number"],
];

for (const [args, fragment] of dataErrors) {
  test(`file/data error (exit 1): qplay ${args.join(' ')}`, () => {
    const full = args[0] === 'quantize' ? [...args, '-o', path.join(tmp, 'err.safetensors')] : args;
    checkError(qplay(...full), 1, fragment);
    assert.ok(!fs.existsSync(path.join(tmp, 'err.safetensors')));
  });
}
