// --clip-ratio end to end: with --profile pytorch the bundle's scale, zero point and codes are torch's
// MinMaxObserver formula applied to the shrunk range [R min, R max], recomputed in float32 with numpy;
// the default run is unchanged, and the option is refused where it has no meaning.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { cli, py, qplay, repo } from './helpers.mjs';

let tmp;
before(() => {
  assert.ok(fs.existsSync(cli), `no CLI at ${cli}: build it first`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qplay-clip-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const input = path.join(repo, 'tests', 'data', 't2x3x4x5_f32.npy');

test('pytorch uint8 with --clip-ratio 0.8: torch\'s formula on the shrunk range, codes clipped', () => {
  const out = path.join(tmp, 'clip.npz');
  const r = qplay('quantize', input, '--profile', 'pytorch', '--dtype', 'uint8', '--clip-ratio', '0.8', '-o', out);
  assert.equal(r.status, 0, r.stderr);
  const report = py(String.raw`
import sys, json, zipfile, io
import numpy as np
x = np.load(sys.argv[1]).astype(np.float32)
b = np.load(sys.argv[2])
r = np.float32(0.8)
lo = np.float32(min(np.float32(x.min()) * r, np.float32(0)))
hi = np.float32(max(np.float32(x.max()) * r, np.float32(0)))
scale = np.float32((hi - lo) / np.float32(255))
scale = max(scale, np.float32(np.finfo(np.float32).eps))
zp = int(np.clip(0 - np.round(lo / scale), 0, 255))
inv = np.float32(1) / scale
codes = np.clip(np.round(x * inv) + zp, 0, 255).astype(np.uint8)
params = json.loads(zipfile.ZipFile(sys.argv[2]).read('params.json'))
print(json.dumps({
  'scale': bool(b['scale'] == scale), 'zp': int(b['zero_point']) == zp,
  'codes': bool((b['codes'] == codes).all()), 'clipped': int(((codes == 0) | (codes == 255)).sum()),
  'ratio': params['options']['clip_ratio'],
}))
`, input, out);
  const got = JSON.parse(report);
  assert.deepEqual({ scale: got.scale, zp: got.zp, codes: got.codes }, { scale: true, zp: true, codes: true });
  assert.equal(got.ratio, 0.8, 'params.json records the ratio');
  assert.ok(got.clipped >= 2, `the extremes clip (got ${got.clipped} codes at the ends)`);
});

test('--clip-ratio 1 writes the same bundle as no --clip-ratio', () => {
  const a = path.join(tmp, 'a.npz');
  const b = path.join(tmp, 'b.npz');
  assert.equal(qplay('quantize', input, '--granularity', 'channel', '-o', a).status, 0);
  assert.equal(qplay('quantize', input, '--granularity', 'channel', '--clip-ratio', '1', '-o', b).status, 0);
  assert.ok(fs.readFileSync(a).equals(fs.readFileSync(b)));
});

test('--clip-ratio errors name the problem', () => {
  const out = path.join(tmp, 'e.npz');
  for (const [args, message] of [
    [['--clip-ratio', '0'], '--clip-ratio must be greater than 0 and at most 1 (got 0)'],
    [['--clip-ratio', '0.9', '--scale', '0.1'], '--clip-ratio shrinks dynamic ranges; it has no effect with --scale'],
    [['--clip-ratio', '0.9', '--dtype', 'fp8_e4m3fn'],
      '--dtype fp8_e4m3fn scales by the absolute maximum; --clip-ratio 0.9 applies to integer dtypes'],
  ]) {
    const r = qplay('quantize', input, ...args, '-o', out);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, `qplay: error: ${message}\n`);
  }
  assert.ok(!fs.existsSync(out));
});
