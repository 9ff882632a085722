// `--profile bnb`, `--profile mx`, `--scale-rule` and `--double-quant` end to end: bundles read
// back with numpy (/usr/bin/python3), bitsandbytes' default-backend NF4 recomputed there, the
// double-quantized scales rebuilt from their members, and the errors naming both options.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = process.env.QPLAY_CLI ?? path.join(repo, 'build', 'native', 'cli', 'qplay');
const python = '/usr/bin/python3';
let tmp;

function py(script, ...args) {
  const r = spawnSync(python, ['-c', script, ...args], { encoding: 'utf8' });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `python failed:\n${r.stderr}`);
  return r.stdout;
}

function qplay(...args) {
  const r = spawnSync(cli, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  return r;
}

before(() => {
  assert.ok(fs.existsSync(cli), `no CLI at ${cli}: build it first (cmake --build build/native)`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qplay-profiles-'));
  py(String.raw`
import sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(11)
np.save(d + '/mat.npy', (rng.standard_normal((7, 29)) * 2).astype(np.float32))
np.save(d + '/wide.npy', (rng.standard_normal((300, 16)) * np.linspace(0.01, 5, 300)[:, None]).astype(np.float32))
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
  return { out, stdout: r.stdout };
}

test('--profile bnb: NF4 codes, absmax and packed bytes as bitsandbytes computes them (numpy)', () => {
  for (const block of ['32', '64']) {
    const { out, stdout } = run('mat.npy', '--profile', 'bnb', '--block-size', block);
    assert.match(stdout, new RegExp(`per block of ${block} \\(flattened tensor\\).*pack high-first, profile bnb$`, 'm'));
    const report = py(String.raw`
import sys
import numpy as np
z = np.load(sys.argv[1])
B = int(sys.argv[2])
x = np.load(sys.argv[3]).astype(np.float32).ravel()
nf4 = np.array([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
    0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0], dtype=np.float32)
mid = ((nf4[:-1] + nf4[1:]) / np.float32(2)).astype(np.float32)
codes, absmax = [], []
for b in range(0, x.size, B):
    v = x[b:b + B]
    am = np.float32(np.abs(v).max())
    absmax.append(max(am, np.float32(1e-38)) if v.size < B else am)
    if v.size == B:  # full blocks multiply by the inverse, the tail divides (default backend)
        s = v * (np.float32(1) / max(am, np.float32(1e-38)))
    else:
        s = v / max(am, np.float32(1e-38))
    s = np.clip(s, -1, 1).astype(np.float32)
    codes.append(np.searchsorted(mid, s, side='left'))  # ties to the lower code
codes = np.concatenate(codes).astype(np.uint8)
padded = np.concatenate([codes, [7]]) if codes.size % 2 else codes  # pad with the code of 0.0
packed = ((padded[0::2] << 4) | padded[1::2]).astype(np.uint8)
assert np.array_equal(z['codes'].ravel(), codes), 'codes'
assert np.array_equal(z['packed'], packed), 'packed'
assert np.array_equal(z['scale'], np.array(absmax, dtype=np.float32)), 'absmax'
deq = (nf4[z['codes'].ravel()] * np.repeat(z['scale'], B)[:x.size]).astype(np.float32)
assert np.array_equal(z['dequantized'].ravel(), deq), 'dequantized'
print('ok', z['scale'].size)
`, out, block, path.join(tmp, 'mat.npy'));
    assert.equal(report.trim(), `ok ${Math.ceil(203 / Number(block))}`);
  }
});

test('--profile bnb --double-quant: the QLoRA members rebuild scale.npy; bits and error move as they should', () => {
  const plain = run('wide.npy', '--profile', 'bnb', '--dtype', 'fp4', '--block-size', '32', '--json');
  const dq = run('wide.npy', '--profile', 'bnb', '--dtype', 'fp4', '--block-size', '32', '--double-quant', '--json');
  const report = py(String.raw`
import json, sys, zipfile
import numpy as np
z = np.load(sys.argv[1])
p = json.loads(zipfile.ZipFile(sys.argv[1]).read('params.json'))
d = p['double_quant']
assert d['scheme'] == 'bnb-dynamic' and d['super_block'] == 256, d
assert p['options']['double_quant'] is True
codes, sup, table = z['scale_codes'], z['scale_super'], z['scale_codebook']
assert codes.dtype == np.uint8 and table.shape == (256,) and sup.size == -(-codes.size // 256)
rebuilt = (table[codes] * np.repeat(sup, 256)[:codes.size] + np.float32(d['offset'])).astype(np.float32)
assert np.array_equal(rebuilt, z['scale']), 'scale'
print(p['metrics']['bits_per_element'], p['metrics']['mse'])
`, dq.out);
  const [dqBits, dqMse] = report.trim().split(' ').map(Number);
  const plainMetrics = JSON.parse(plain.stdout).metrics;
  assert.equal(plainMetrics.bits_per_element, 4 + 32 / 32);
  // 4800 values, 150 blocks: 8-bit codes, one float32 super-scale and the float32 offset.
  assert.equal(dqBits, (4 * 4800 + 150 * 8 + 32 + 32) / 4800);
  assert.ok(dqMse >= plainMetrics.mse, `${dqMse} >= ${plainMetrics.mse}`);
});

test('--double-quant on integer channels: uint8 codes times the super-scale are the scales applied', () => {
  for (const mode of ['symmetric', 'asymmetric']) {
    const plain = run('wide.npy', '--granularity', 'channel', '--mode', mode, '--json');
    const dq = run('wide.npy', '--granularity', 'channel', '--mode', mode, '--double-quant', '--json');
    assert.match(run('wide.npy', '--granularity', 'channel', '--double-quant').stdout,
      /^scale dq {3}uint8: 300 uint8 codes, 2 float32 super-scales per 256$/m);
    py(String.raw`
import json, sys, zipfile
import numpy as np
z = np.load(sys.argv[1])
p = json.loads(zipfile.ZipFile(sys.argv[1]).read('params.json'))
assert p['double_quant']['scheme'] == 'uint8'
codes, sup = z['scale_codes'], z['scale_super']
assert codes.shape == (300,) and sup.shape == (2,)
assert np.array_equal((codes.astype(np.float32) * np.repeat(sup, 256)[:300]).astype(np.float32), z['scale'])
# super = max / 255 per 256 scales; the largest scale of each super-block has code 255
assert codes[:256].max() == 255 and codes[256:].max() == 255
`, dq.out);
    const a = JSON.parse(plain.stdout).metrics, b = JSON.parse(dq.stdout).metrics;
    const zeroBits = mode === 'asymmetric' ? 8 : 0;
    assert.equal(a.bits_per_element, (8 * 4800 + 300 * (32 + zeroBits)) / 4800);
    assert.equal(b.bits_per_element, (8 * 4800 + 300 * (8 + zeroBits) + 2 * 32) / 4800);
    assert.ok(b.mse >= a.mse);
  }
});

test('--profile mx and --scale-rule: FLOOR and half-even fixed, RCEIL selectable in custom runs', () => {
  const spec = run('wide.npy', '--profile', 'mx', '--axis', '1', '--json');
  const p = JSON.parse(spec.stdout);
  assert.equal(p.options.dtype, 'mxfp8_e4m3');
  assert.equal(p.options.profile, 'mx');
  assert.equal(p.options.scale_rule, 'floor');
  assert.equal(p.element.scale_rule, 'floor');
  const floor = run('wide.npy', '--dtype', 'mxfp4', '--profile', 'mx', '--axis', '1').out;
  const rceil = run('wide.npy', '--dtype', 'mxfp4', '--scale-rule', 'rceil', '--axis', '1').out;
  py(String.raw`
import sys
import numpy as np
f, r = np.load(sys.argv[1]), np.load(sys.argv[2])
x = np.load(sys.argv[3])
amax = np.abs(x).max(axis=1)
# FLOOR: floor(log2(amax)) - 2 + 127; RCEIL: ceil(log2(amax / 6)) + 127 (amax / 6 in float32)
assert np.array_equal(f['scale_e8m0'].ravel(), (np.floor(np.log2(amax)) - 2 + 127).astype(np.uint8))
assert np.array_equal(r['scale_e8m0'].ravel(), (np.ceil(np.log2((amax / np.float32(6)).astype(np.float32))) + 127).astype(np.uint8))
assert (r['scale_e8m0'] >= f['scale_e8m0']).all() and (r['scale_e8m0'] != f['scale_e8m0']).any()
`, floor, rceil, path.join(tmp, 'wide.npy'));
});

test('profile and double-quant errors name both sides', () => {
  const cases = [
    [['--profile', 'bnb', '--pack', 'low-first'], /--profile bnb packs high-first .*; it conflicts with --pack low-first/],
    [['--profile', 'bnb', '--block-size', '16'], /--profile bnb takes --block-size 32, .*4096; it conflicts with --block-size 16/],
    [['--profile', 'bnb', '--dtype', 'int4'], /--profile bnb quantizes --dtype nf4 or fp4 .*; it conflicts with --dtype int4/],
    [['--profile', 'bnb', '--granularity', 'channel'], /--profile bnb blocks the flattened tensor .*; it conflicts with --granularity channel/],
    [['--profile', 'bnb', '--axis', '1'], /it conflicts with --axis 1/],
    [['--profile', 'bnb', '--mode', 'asymmetric'], /--profile bnb scales by the block absmax; it conflicts with --mode asymmetric/],
    [['--profile', 'mx', '--rounding', 'half-away'], /--profile mx rounds elements half-to-even \(OCP MX v1.0\); it conflicts with --rounding half-away/],
    [['--profile', 'mx', '--scale-rule', 'rceil'], /--profile mx uses the FLOOR scale rule .*; it conflicts with --scale-rule rceil/],
    [['--profile', 'mx', '--dtype', 'nf4'], /--profile mx quantizes an MX --dtype .*; it conflicts with --dtype nf4/],
    [['--profile', 'mx', '--no-saturate'], /it conflicts with --no-saturate/],
    [['--scale-rule', 'rceil'], /--scale-rule picks the E8M0 exponent of MX dtypes \(got --dtype int8\)/],
    [['--scale-rule', 'ceil', '--dtype', 'mxfp4'], /invalid value 'ceil' for --scale-rule \(allowed: floor, rceil\)/],
    [['--double-quant'], /--double-quant quantizes one scale per channel, group or block; --granularity tensor has a single scale/],
    [['--double-quant', '--dtype', 'mxfp4'], /--dtype mxfp4 scales are already 8-bit E8M0/],
    [['--double-quant=yes', '--granularity', 'channel'], /--double-quant/],
    [['--profile', 'gguf'], /invalid value 'gguf' for --profile .*bnb, mx/],
  ];
  for (const [args, message] of cases) {
    const r = qplay('quantize', path.join(tmp, 'mat.npy'), '-o', path.join(tmp, 'err.npz'), ...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
});
