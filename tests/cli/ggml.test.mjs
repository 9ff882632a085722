// ggml block formats end to end: `qplay quantize --format F` (and --profile ggml), the .npz bundle
// read back with numpy (/usr/bin/python3) and its identity dequantized == scale * value(codes)
// [+ offset] checked with numpy's own float32 arithmetic for every format, `-o X.gguf` read back by
// `qplay info` and `qplay quantize` (the reader decodes it), and the usage errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { cli, py, qplay } from './helpers.mjs';

const formats = ['q8_0', 'q8_1', 'q4_0', 'q4_1', 'q5_0', 'q5_1', 'q2_k', 'q3_k', 'q4_k', 'q5_k', 'q6_k', 'iq4_nl', 'mxfp4'];
let tmp;

before(() => {
  assert.ok(fs.existsSync(cli), `no CLI at ${cli}: build it first (cmake --build build/native)`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qplay-ggml-'));
  py(String.raw`
import sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(11)
np.save(d + '/w.npy', (rng.standard_normal((3, 512)) * 2).astype(np.float32))
np.save(d + '/odd.npy', rng.standard_normal((4, 100)).astype(np.float32))
v = rng.standard_normal((2, 64)).astype(np.float32)
v[1, 5] = np.nan
np.save(d + '/nan.npy', v)
`, tmp);
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('every --format: codes, scale and offset give dequantized.npy exactly; params.json names the format', () => {
  for (const f of formats) {
    const out = path.join(tmp, `w_${f}.npz`);
    const r = qplay('quantize', path.join(tmp, 'w.npy'), '--format', f, '-o', out);
    assert.equal(r.status, 0, `${f}: ${r.stderr}`);
    py(String.raw`
import json, sys, zipfile
import numpy as np
path, name = sys.argv[1], sys.argv[2]
z = np.load(path)
with zipfile.ZipFile(path) as zf:
    p = json.loads(zf.read('params.json').decode('utf-8'))
    members = zf.namelist()
e = p['element']
assert e['kind'] == 'ggml' and e['name'] == name
ggml_name = name[:-1] + 'K' if name.endswith('_k') else name
assert e['format'] == ggml_name, e['format']
ids = {'q4_0': 2, 'q4_1': 3, 'q5_0': 6, 'q5_1': 7, 'q8_0': 8, 'q8_1': 9, 'q2_k': 10, 'q3_k': 11, 'q4_k': 12,
       'q5_k': 13, 'q6_k': 14, 'iq4_nl': 20, 'mxfp4': 39}
assert e['ggml_type_id'] == ids[name]
codes, scale, deq, blocks = z['codes'], z['scale'], z['dequantized'], z['blocks']
signed = name in ('q8_0', 'q8_1', 'q4_0', 'q5_0', 'q3_k', 'q6_k')
assert codes.dtype == (np.int8 if signed else np.uint8), codes.dtype
assert codes.shape == (3, 512) and deq.shape == (3, 512) and scale.dtype == np.float32
sub = e['sub_block']
assert scale.shape == (3, 512 // sub)
assert blocks.dtype == np.uint8 and blocks.shape == (3, 512 // e['block_elements'] * e['block_bytes'])
v = z['codebook'][codes] if 'codebook' in z else codes.astype(np.float32)
assert ('codebook' in z) == (name in ('iq4_nl', 'mxfp4'))
r = np.repeat(scale, sub, axis=1) * v
if 'offset' in z:
    r = r + np.repeat(z['offset'], sub, axis=1)
    assert 'offset' in e and '+ offset' in e['formula']
assert ('offset' in z) == (name in ('q4_1', 'q5_1', 'q2_k', 'q4_k', 'q5_k'))
assert r.dtype == np.float32 and r.tobytes() == deq.tobytes(), name
assert p['metrics']['bits_per_element'] == e['block_bytes'] * 8 / e['block_elements']
assert p['metrics']['bytes_after'] == blocks.size
x = np.load(sys.argv[3])
assert np.abs(deq - x).max() < 0.8 * np.abs(x).max()
`, out, f, path.join(tmp, 'w.npy'));
  }
});

test('-o X.gguf: one tensor of the ggml type; info lists it, the reader decodes it to the same floats', () => {
  for (const f of ['q4_k', 'q6_k', 'iq4_nl', 'mxfp4', 'q5_1']) {
    const gguf = path.join(tmp, `w_${f}.gguf`);
    const r = qplay('quantize', path.join(tmp, 'w.npy'), '--format', f, '-o', gguf);
    assert.equal(r.status, 0, r.stderr);
    const info = qplay('info', gguf);
    assert.equal(info.status, 0, info.stderr);
    const typeName = f.toUpperCase();
    assert.match(info.stdout, new RegExp(`^array\\s+${typeName} -> float32\\s+\\(3, 512\\)`, 'm'));
    assert.match(info.stdout, /general\.alignment\s+u32\s+32/);
    assert.match(info.stdout, /qplay\.params\s+str/);
    // Re-quantizing the decoded tensor as float32 round-trips through the reader: int8 of the
    // decoded values equals int8 of dequantized.npy.
    const a = path.join(tmp, `from_gguf_${f}.npz`);
    const b = path.join(tmp, `from_npz_${f}.npz`);
    assert.equal(qplay('quantize', gguf, '-o', a).status, 0);
    const npz = path.join(tmp, `w_${f}.npz`);
    py(String.raw`
import sys, numpy as np
np.save(sys.argv[2], np.load(sys.argv[1])['dequantized'])
`, npz, path.join(tmp, `deq_${f}.npy`));
    assert.equal(qplay('quantize', path.join(tmp, `deq_${f}.npy`), '-o', b).status, 0);
    py(String.raw`
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
assert a['dequantized'].tobytes() == b['dequantized'].tobytes()
assert a['codes'].tobytes() == b['codes'].tobytes()
`, a, b);
  }
});

test('--profile ggml means q8_0; the summary names the format', () => {
  const r = qplay('quantize', path.join(tmp, 'w.npy'), '--profile', 'ggml', '-o', path.join(tmp, 'p.npz'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^scheme {5}ggml q8_0 \(8-bit codes, blocks of 32, a scale per 32 along the last dim\)$/m);
  assert.match(r.stdout, /^bits\/elem {2}8\.5000$/m);
  const k = qplay('quantize', path.join(tmp, 'w.npy'), '--format', 'q3_k', '-o', path.join(tmp, 'k.npz'));
  assert.match(k.stdout, /^bits\/elem {2}3\.4375$/m);
  assert.doesNotMatch(k.stdout, /^zero point/m);
  const o = qplay('quantize', path.join(tmp, 'w.npy'), '--format', 'q4_1', '-o', path.join(tmp, 'o.npz'));
  assert.match(o.stdout, /^offset {5}-?\d/m);
});

test('--pack ggml: split halves of the codes', () => {
  const out = path.join(tmp, 'pack.npz');
  const r = qplay('quantize', path.join(tmp, 'w.npy'), '--format', 'iq4_nl', '--pack', 'ggml', '-o', out);
  assert.equal(r.status, 0, r.stderr);
  py(String.raw`
import json, sys, zipfile, numpy as np
z = np.load(sys.argv[1])
with zipfile.ZipFile(sys.argv[1]) as zf:
    p = json.loads(zf.read('params.json').decode('utf-8'))
assert p['options']['pack'] == 'ggml' and p['element']['pack'] == 'ggml'
c = z['codes'].reshape(-1, 32).astype(np.uint8)
want = (c[:, :16] | (c[:, 16:] << 4)).reshape(-1)
assert z['packed'].tobytes() == want.tobytes()
# IQ4_NL codes packed in ggml order are ggml's own qs bytes: the block bytes after the fp16 d.
qs = z['blocks'].reshape(-1, 18)[:, 2:].reshape(-1)
assert qs.tobytes() == want.tobytes()
`, out);
  const i4 = qplay('quantize', path.join(tmp, 'odd.npy'), '--dtype', 'uint4', '--pack', 'ggml', '-o', path.join(tmp, 'i4.npz'));
  assert.equal(i4.status, 0, i4.stderr);
  py(String.raw`
import sys, numpy as np
z = np.load(sys.argv[1])
c = np.concatenate([z['codes'].reshape(-1), np.zeros(16, np.uint8)]).astype(np.uint8)  # 400 codes -> 13 groups
c = c[:13 * 32].reshape(-1, 32)
assert z['packed'].tobytes() == (c[:, :16] | (c[:, 16:] << 4)).reshape(-1).tobytes()
`, path.join(tmp, 'i4.npz'));
});

test('usage and data errors name the problem', () => {
  const usage = [
    [['--format', 'q4_k', '--mode', 'asymmetric'], /--format q4_k is ggml's own block quantizer .* conflicts with --mode asymmetric/],
    [['--format', 'q4_0', '--rounding', 'half-away'], /conflicts with --rounding half-away/],
    [['--format', 'q4_0', '--granularity', 'channel'], /conflicts with --granularity channel/],
    [['--format', 'q4_0', '--block-size', '64'], /conflicts with --block-size 64/],
    [['--format', 'q4_0', '--axis', '0'], /conflicts with --axis 0/],
    [['--format', 'q4_0', '--profile', 'onnx'], /conflicts with --profile onnx/],
    [['--format', 'q4_0', '--dtype', 'int4'], /--dtype and --format both choose/],
    [['--profile', 'ggml', '--dtype', 'int4'], /--profile ggml .* conflicts with --dtype int4/],
    [['--format', 'q4_0', '--scale', '0.1'], /computes its own block scales/],
    [['--format', 'q6_k', '--pack', 'ggml'], /at most 4 bits/],
    [['--format', 'q4_x'], /invalid value 'q4_x' for --format \(allowed: q8_0, .*mxfp4\)/],
    [['--dtype', 'int8'], /-o .*\.gguf writes a GGUF tensor in a ggml block format: add --format/, 'out.gguf'],
    [['--format', 'q8_0'], /use -o OUT\.gguf .* not \.safetensors/, 'out.safetensors'],
  ];
  for (const [args, message, name] of usage) {
    const r = qplay('quantize', path.join(tmp, 'w.npy'), '-o', path.join(tmp, name ?? 'err.npz'), ...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
  const odd = qplay('quantize', path.join(tmp, 'odd.npy'), '--format', 'q4_k', '-o', path.join(tmp, 'e.npz'));
  assert.equal(odd.status, 1);
  assert.match(odd.stderr, /--format q4_k quantizes rows along the last dim in blocks of 256: shape \(4, 100\) has rows of 100/);
  const nan = qplay('quantize', path.join(tmp, 'nan.npy'), '--format', 'q8_0', '-o', path.join(tmp, 'e.npz'));
  assert.equal(nan.status, 1);
  assert.match(nan.stderr, /element 69 of shape \(2, 64\) is NaN; ggml block formats need finite values/);
});
