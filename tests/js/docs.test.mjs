// The node example in docs/JS_API.md runs as written and prints what its comments say.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { repo, requireBuilds } from './helpers.mjs';

before(requireBuilds);

test('the example in docs/JS_API.md runs', () => {
  const doc = fs.readFileSync(path.join(repo, 'docs', 'JS_API.md'), 'utf8');
  const example = /## Example \(node\)[\s\S]*?```js\n([\s\S]*?)```/.exec(doc);
  assert.ok(example, 'docs/JS_API.md has no js block under "Example (node)"');
  // Evaluated as an ES module from the repository root, where the example says to run it.
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', example[1]], { cwd: repo, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^simd \{ simd: true, version: '\d+\.\d+\.\d+', kernels: 'simd128' \}\n/);
  assert.match(r.stdout, /\[ \{ name: 'array', dtype: 'float32', shape: \[ 5 \] \} \]/);
  assert.match(r.stdout, /Uint8Array\(5\) \[ 0, 32, 129, 161, 255 \]/);
  assert.match(r.stdout, / calibrated\n$/);
  assert.ok(!fs.existsSync(path.join(repo, 'out.npz')), 'the example left out.npz behind');
});
