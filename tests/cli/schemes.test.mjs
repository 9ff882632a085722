// The non-uniform and floating-point elements end to end: `qplay quantize --dtype nf4|fp8_*|mx*|
// pow2|kmeans`, the bundle read back with numpy (/usr/bin/python3), every claim of
// docs/SCHEMES.md section 4 recomputed there with numpy's own arithmetic.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { cli, py, qplay } from './helpers.mjs';

let tmp;

before(() => {
  assert.ok(fs.existsSync(cli), `no CLI at ${cli}: build it first (cmake --build build/native)`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qplay-schemes-'));
  // Inputs: a 2-D matrix with a partial last block, a 1-D vector with NaN/Inf, and a 3-element one.
  py(String.raw`
import sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(7)
np.save(d + '/mat.npy', (rng.standard_normal((3, 150)) * 3).astype(np.float32))
v = rng.standard_normal(70).astype(np.float32)
v[3], v[10], v[40] = np.nan, np.inf, -np.inf
np.save(d + '/special.npy', v)
np.save(d + '/tiny.npy', np.array([-1.0, 0.3, 1.0, -0.2, 0.7], dtype=np.float32))
`, tmp);
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

let counter = 0;
function run(input, ...args) {
  counter += 1;
  const out = path.join(tmp, `o${counter}.npz`);
  const r = qplay('quantize', path.join(tmp, input), '-o', out, ...args);
  assert.equal(r.status, 0, r.stderr);
  return out;
}

// Shared numpy helpers: the bundle's arrays and the param-group expansion of quantize.hpp's plan.
const prelude = String.raw`
import json, sys, zipfile
import numpy as np
path = sys.argv[1]
npz = np.load(path)
with zipfile.ZipFile(path) as z:
    params = json.loads(z.read('params.json').decode('utf-8'))
A = {k: npz[k] for k in npz.files if k != 'params.json'}
codes, scale, deq = A['codes'], A['scale'], A['dequantized']
assert codes.dtype == np.uint8, codes.dtype
assert scale.dtype == np.float32 and deq.dtype == np.float32
assert A['zero_point'].dtype == np.int32 and not A['zero_point'].any()

def expand_block(p, axis, block):
    """Per-block params spread to the codes' shape along axis."""
    return np.repeat(p, block, axis=axis)[tuple(slice(0, n) for n in codes.shape)]

def same(a, b):
    a = np.asarray(a, np.float32); b = np.asarray(b, np.float32)
    ok = (a == b) | (np.isnan(a) & np.isnan(b))
    assert ok.all(), (a[~ok][:5], b[~ok][:5])
`;

test('nf4 per block: codebook.npy is NF4 and dequantized == codebook[codes] * scale exactly', () => {
  const out = run('mat.npy', '--dtype', 'nf4', '--granularity', 'block', '--block-size', '64', '--axis', '-1');
  py(prelude + String.raw`
cb = A['codebook']
assert cb.dtype == np.float32 and cb.shape == (16,)
assert cb[0] == -1 and cb[7] == 0 and cb[15] == 1
assert scale.shape == (3, 3)
s = expand_block(scale, 1, 64)
same(deq, cb[codes] * s)
# absmax scale per block and each code the nearest table value (ties aside)
x = np.load(sys.argv[2])
xb = expand_block(np.abs(x).reshape(3, -1).max(axis=1, keepdims=True).repeat(3, 1), 1, 64)
assert (np.abs(cb[codes] - x / s) <= np.abs(cb[None, None, :] - (x / s)[..., None]).min(-1) + 1e-6).all()
assert params['element']['name'] == 'nf4' and params['element']['pack'] == 'low-first'
assert A['packed'].dtype == np.uint8 and A['packed'].size == codes.size // 2
`, out, path.join(tmp, 'mat.npy'));
});

test('fp8_e5m2: codes are float16 high bytes, decoded by numpy, times the scale', () => {
  const out = run('mat.npy', '--dtype', 'fp8_e5m2', '--granularity', 'channel');
  py(prelude + String.raw`
x = np.load(sys.argv[2])
f = (codes.astype(np.uint16) << 8).view(np.float16).astype(np.float32)
assert scale.shape == (3,)
same(deq, f * scale[:, None])
assert np.allclose(scale, np.abs(x).max(axis=1) / np.float32(57344), rtol=0, atol=0)
assert 'codebook' not in A and 'packed' not in A
e = params['element']
assert e['format'] == 'e5m2' and e['exponent_bits'] == 5 and e['mantissa_bits'] == 2 and e['saturate'] is True
`, out, path.join(tmp, 'mat.npy'));
});

test('fp8_e4m3fn per tensor: codes decode (sign, exponent, mantissa) to dequantized / scale', () => {
  const out = run('mat.npy', '--dtype', 'fp8_e4m3fn');
  py(prelude + String.raw`
c = codes.astype(np.int64)
sign = np.where(c & 0x80, -1.0, 1.0)
e = (c >> 3) & 0xF
m = c & 7
v = np.where(e == 0, m / 8.0 * 2.0 ** -6, (1 + m / 8.0) * 2.0 ** (e - 7)) * sign
assert not ((c & 0x7F) == 0x7F).any()  # no NaN code for finite input
same(deq, v.astype(np.float32) * scale)
assert np.abs(v).max() == 448.0
assert params['element']['max'] == 448
`, out);
});

test('mxfp4: scale_e8m0.npy, scale = 2^(e - 127), dequantized = E2M1[codes] * scale', () => {
  const out = run('mat.npy', '--dtype', 'mxfp4', '--axis', '-1');
  py(prelude + String.raw`
e8 = A['scale_e8m0']
assert e8.dtype == np.uint8 and e8.shape == (3, 5) and scale.shape == (3, 5)
same(scale, np.ldexp(np.float32(1), e8.astype(np.int32) - 127))
e2m1 = np.array([0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6], np.float32)
same(deq, e2m1[codes] * expand_block(scale, 1, 32))
assert params['options']['granularity'] == 'block' and params['options']['block_size'] == 32
assert params['element']['block'] == 32
`, out);
});

test('kmeans per channel: codebook [groups, K] and dequantized = codebook[group, code]', () => {
  const out = run('mat.npy', '--dtype', 'kmeans', '--bits', '3', '--granularity', 'channel');
  py(prelude + String.raw`
cb = A['codebook']
assert cb.shape == (3, 8)
assert (np.diff(cb, axis=1) >= 0).all()
same(deq, np.take_along_axis(cb, codes.astype(np.int64), axis=1))
assert codes.max() <= 7
`, out);
});

test('pow2: every dequantized value is 0 or the scale times a power of two', () => {
  const out = run('mat.npy', '--dtype', 'pow2', '--bits', '4');
  py(prelude + String.raw`
cb = A['codebook']
assert cb.shape == (16,)
same(deq, cb[codes] * scale)
nz = deq[deq != 0] / scale
m, e = np.frexp(np.abs(nz))
assert (m == 0.5).all()
`, out);
});

test('NaN and Inf inputs: fp8 keeps them per the saturate rule, nf4 stays finite', () => {
  const sat = run('special.npy', '--dtype', 'fp8_e4m3fn');
  py(prelude + String.raw`
assert np.isnan(deq[3]) and deq[10] == np.float32(448) * scale and deq[40] == np.float32(-448) * scale, deq[[3, 10, 40]]
assert params['metrics']['nan'] == 1 and params['metrics']['pos_inf'] == 1
`, sat);
  const nosat = run('special.npy', '--dtype', 'fp8_e5m2', '--no-saturate');
  py(prelude + String.raw`
assert np.isnan(deq[3]) and deq[10] == np.inf and deq[40] == -np.inf
assert params['element']['saturate'] is False
`, nosat);
  const nf4 = run('special.npy', '--dtype', 'nf4', '--granularity', 'block', '--block-size', '32');
  py(prelude + String.raw`
assert np.isfinite(scale).all()
same(deq, A['codebook'][codes] * expand_block(scale, 0, 32))
`, nf4);
});

test('--pack orders on a tiny input: low-first, high-first, gptq, awq', () => {
  for (const order of ['low-first', 'high-first', 'gptq', 'awq']) {
    const out = run('tiny.npy', '--dtype', 'nf4', '--pack', order);
    py(prelude + String.raw`
order = sys.argv[2]
c = [int(v) for v in codes.reshape(-1)]
p = A['packed']
assert p.dtype == np.uint8
if order in ('low-first', 'high-first'):
    c += [0] * (len(c) % 2)
    pairs = [(c[i], c[i + 1]) for i in range(0, len(c), 2)]
    want = [a | b << 4 if order == 'low-first' else a << 4 | b for a, b in pairs]
else:
    c += [0] * (-len(c) % 8)
    slot = list(range(8)) if order == 'gptq' else [0, 4, 1, 5, 2, 6, 3, 7]
    want = []
    for w in range(len(c) // 8):
        word = 0
        for j in range(8):
            word |= c[8 * w + j] << (4 * slot[j])
        want += list(np.array([word], '<u4').view(np.uint8))
assert list(p) == want, (list(p), want, c)
assert params['options']['pack'] == order
`, out, order);
  }
});

test('integer runs gain packed.npy only with an explicit --pack', () => {
  const plain = run('tiny.npy', '--dtype', 'int4');
  py(prelude.replace("assert codes.dtype == np.uint8, codes.dtype", '').replace(
    "assert A['zero_point'].dtype == np.int32 and not A['zero_point'].any()", '') + String.raw`
assert 'packed' not in A and 'pack' not in params['options']
`, plain);
  const packed = run('tiny.npy', '--dtype', 'int4', '--pack', 'high-first');
  py(prelude.replace("assert codes.dtype == np.uint8, codes.dtype", '').replace(
    "assert A['zero_point'].dtype == np.int32 and not A['zero_point'].any()", '') + String.raw`
c = [int(v) & 15 for v in codes.reshape(-1)] + [0]
assert list(A['packed']) == [c[i] << 4 | c[i + 1] for i in range(0, 6, 2)]
`, packed);
});

test('usage errors name the conflict', () => {
  const cases = [
    [['--dtype', 'mxfp4', '--granularity', 'channel'], /OCP MX k = 32.*--granularity channel/],
    [['--dtype', 'mxfp8_e4m3', '--granularity', 'block', '--block-size', '16'], /--block-size 16/],
    [['--dtype', 'nf4', '--scale', '0.1'], /computes its own scales/],
    [['--dtype', 'nf4', '--bits', '3'], /--bits sets the width/],
    [['--dtype', 'fp8_e4m3fn', '--pack', 'gptq'], /at most 4 bits/],
    [['--dtype', 'int8', '--pack', 'awq'], /at most 4 bits/],
    [['--dtype', 'nf4', '--profile', 'onnx'], /no --profile onnx/],
    [['--dtype', 'fp8', '--mode', 'symmetric'], /invalid value 'fp8' for --dtype.*nf4/],
    [['--dtype', 'nf4', '--pack', 'zigzag'], /invalid value 'zigzag' for --pack/],
  ];
  for (const [args, message] of cases) {
    const r = qplay('quantize', path.join(tmp, 'tiny.npy'), '-o', path.join(tmp, 'err.npz'), ...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

test('the summary names the element format', () => {
  const r = qplay('quantize', path.join(tmp, 'mat.npy'), '-o', path.join(tmp, 'summary.npz'), '--dtype', 'fp8_e4m3fn',
    '--no-saturate', '--granularity', 'channel');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^scheme {5}fp8_e4m3fn \(minifloat, 8-bit codes, no saturate\), per channel \(axis 0\), rounding half-even$/m);
  assert.match(r.stdout, /^bits\/elem {2}8\.\d+$/m);
  const mx = qplay('quantize', path.join(tmp, 'mat.npy'), '-o', path.join(tmp, 'summary.npz'), '--dtype', 'mxfp4', '--axis', '-1');
  assert.equal(mx.status, 0, mx.stderr);
  assert.match(mx.stdout, /^scheme {5}mxfp4 \(mx, 4-bit codes, scale rule floor\), per block \(axis 1\), rounding half-even, pack low-first$/m);
  // 4 bits per code + one E8M0 byte per 32 elements (the last block of 150 holds 22)
  assert.match(mx.stdout, /^bits\/elem {2}4\.2667$/m);
});
