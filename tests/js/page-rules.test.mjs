// The page's controls against the core: web/app/core.js builds its tables with this module's
// describe(), and web/app/rules.js + state.js, reading only those tables, must never drift from the
// core's request: every setting the controls can reach gives API options the core accepts, with the
// locks and effective values describe() reports.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';

import { qplay, requireBuilds } from './helpers.mjs';
import { buildCoreTables, installCore, schemeOptions } from '../../web/app/core.js';
import * as R from '../../web/app/rules.js';
import { DEFAULTS, apiOptions, fromQuery } from '../../web/app/state.js';

before(async () => {
  requireBuilds();
  // As the worker sends them: through a structured clone.
  installCore(structuredClone(buildCoreTables(await qplay())));
});

const dtypes = () => [...R.dtypeBits().flatMap((b) => [`int${b}`, `uint${b}`]), ...Object.values(R.elementKinds()).flat()];

test('the pickers list what the core\'s catalog lists', async () => {
  const { formats } = (await qplay()).catalog();
  const listed = Object.values(R.elementKinds()).flat();
  assert.deepEqual(listed, formats.filter((f) => f.family !== 'integer').map((f) => (f.option === '--format' ? `ggml:${f.name}` : f.name)));
  assert.deepEqual(R.dtypeBits(), [1, 2, 3, 4, 5, 6, 7, 8, 16]);
  assert.equal(R.elementMax('fp8_e4m3fn'), 448);
  assert.equal(R.elementMax('nf4'), undefined);
});

test('every setting the controls reach is a request the core accepts, locked as describe() says', async () => {
  const qp = await qplay();
  let checked = 0;
  const refusals = new Map();
  for (const dtype of dtypes()) {
    for (const profile of ['custom', 'seed', 'pytorch', 'onnx', 'ort-tool', 'bnb', 'mx', 'ggml']) {
      for (const granularity of ['tensor', 'channel', 'group', 'block']) {
        for (const extra of [{}, { rounding: 'half-away', mode: 'symmetric', doubleQuant: true, pack: 'low-first', elementBits: 3 },
          { rounding: 'stochastic', narrow: true, reduceRange: true, zeroPointDomain: 'float', pack: 'high-first', elementBits: 8 }]) {
          const state = { ...DEFAULTS, dtype, profile, granularity, ...extra };
          const options = apiOptions(state);
          let d;
          try {
            d = qp.describe(options);
          } catch (err) {
            refusals.set(err.message.replace(/int\d+|uint\d+/g, 'T'), JSON.stringify(options));
            continue;
          }
          const e = R.effective(state);
          for (const key of ['granularity', 'rounding', 'profile', 'mode', 'blockSize', 'axis']) {
            if (d.effective[key] === undefined || (key === 'rounding' && e.rounding === 'stochastic')) continue;
            if (key === 'blockSize' && e.granularity !== 'block') continue;
            if (key === 'axis' && e.granularity === 'tensor') continue;
            if (key === 'profile' && d.family === 'ggml') continue;  // ggml's own profile is implied by --format
            assert.equal(String(e[key]), String(d.effective[key]), `${JSON.stringify(state)}: ${key}`);
          }
          const locks = R.locks(state);
          const fitting = R.profileFits(profile, dtype) ? profile : 'custom';
          const alone = qp.describe(schemeOptions(dtype, fitting === 'custom' ? {} : { profile: fitting }));
          assert.deepEqual(Object.keys(locks).sort(), alone.locked.map((l) => l.key).sort(), JSON.stringify(state));
          checked += 1;
        }
      }
    }
  }
  // What the core refuses is what the user chose (and the page shows the core's message for it),
  // never something the page's own locks or option mapping produced.
  for (const [message, options] of refusals) {
    assert.match(message, /no positive code|needs at least two codes|takes unsigned codes|defines --reduce-range/, options);
  }
  assert.ok(checked > 2000, `only ${checked} settings checked`);
});

test('a link naming a profile with a block size of its own means the core\'s default', () => {
  assert.equal(fromQuery('profile=bnb&dtype=nf4').state.blockSize, 64);
  assert.equal(fromQuery('profile=bnb&dtype=nf4&block-size=128').state.blockSize, 128);
  assert.equal(fromQuery('profile=onnx').state.blockSize, undefined);
  assert.deepEqual(fromQuery('dtype=int9&format=q4_k&profile=nope').rejected, ['dtype', 'profile']);
  assert.equal(fromQuery('format=q4_k').state.dtype, 'ggml:q4_k');
  assert.deepEqual(R.profileDefaults('bnb', { ...DEFAULTS }, DEFAULTS.blockSize), { dtype: 'nf4', blockSize: 64 });
  assert.deepEqual(R.profileDefaults('ggml', { ...DEFAULTS }, DEFAULTS.blockSize), { dtype: 'ggml:q8_0' });
});
