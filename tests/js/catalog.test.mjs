// catalog(): the option table and the format registry as the page builds its pickers from them; each
// row agrees with what quantize and describe accept.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';

import { qplay, requireBuilds } from './helpers.mjs';

before(requireBuilds);

test('catalog lists the options a JS caller gives, with their kinds, bounds and defaults', async () => {
  const qp = await qplay();
  const { options } = qp.catalog();
  const byKey = Object.fromEntries(options.map((o) => [o.key, o]));
  for (const key of ['dtype', 'format', 'granularity', 'rounding', 'profile', 'range', 'blockSize', 'bits', 'saturate']) {
    assert.ok(byKey[key], `no row for ${key}`);
  }
  // Command-line-only rows (output, whole-file, raw input) are not offered.
  for (const key of Object.keys(byKey)) assert.ok(!/^raw|^output$|^all$|^report$|^override$/.test(key), key);
  assert.deepEqual(byKey.granularity.choices, ['tensor', 'channel', 'group', 'block']);
  assert.equal(byKey.granularity.kind, 'choice');
  assert.equal(byKey.granularity.flag, '--granularity');
  assert.equal(byKey.dtype.default, 'int8');
  assert.deepEqual([byKey.bits.kind, byKey.bits.min, byKey.bits.max, byKey.bits.default], ['integer', 1, 8, '4']);
  assert.equal(byKey.saturate.kind, 'toggle');
  assert.ok(byKey.rounding.choices.includes('half-even'));
  assert.ok(byKey.profile.choices.includes('bnb'));
  for (const o of options) assert.ok(o.doc.length > 0, `${o.key} has no doc`);
  // Every choice is accepted by describe (groups and blocks with their size).
  for (const choice of byKey.granularity.choices) {
    const size = { group: { groupSize: 2 }, block: { blockSize: 8 } }[choice] ?? {};
    assert.equal(qp.describe({ granularity: choice, ...size }).effective.granularity, choice);
  }
  for (const choice of byKey.rounding.choices) {
    const spelled = choice.replace(/:SEED$/, ':7');
    assert.equal(qp.describe({ rounding: spelled }).effective.rounding, spelled);
  }
});

test('catalog lists every format once, and describe agrees with each row', async () => {
  const qp = await qplay();
  const { formats, integerSpellings } = qp.catalog();
  assert.match(integerSpellings, /int8/);
  const keys = formats.map((f) => `${f.option} ${f.name}`);
  assert.equal(new Set(keys).size, keys.length, 'a format is listed twice');
  for (const f of formats) {
    assert.ok(['--dtype', '--format'].includes(f.option), f.name);
    assert.ok(f.summary.length > 0 && /\.md/.test(f.docs), `${f.name}: summary "${f.summary}", docs "${f.docs}"`);
    if (f.family === 'integer') continue;  // the parametric intN / uintN rows
    const d = qp.describe(f.option === '--format' ? { format: f.name } : { dtype: f.name });
    assert.equal(d.family, f.family, f.name);
    if (f.bits) assert.equal(d.bits, f.bits, f.name);
    assert.equal(f.ggml !== null, f.family === 'ggml', f.name);
    if (f.ggml) assert.equal(d.locked.find((l) => l.key === 'blockSize')?.value, f.ggml.subBlock, f.name);
    if (f.family === 'minifloat') {
      assert.ok(f.maxNormal > 0, f.name);
      assert.equal(Math.max(...d.levels.filter(Number.isFinite)), f.maxNormal, f.name);
    }
    if (f.family === 'lut') assert.deepEqual(d.levels, f.codebook, f.name);
  }
  const q4k = formats.find((f) => f.name === 'q4_k');
  assert.deepEqual([q4k.ggml.name, q4k.ggml.blockElems, q4k.ggml.subBlock, q4k.bits], ['Q4_K', 256, 32, 4]);
});
