// Qplay#inspect, #find, #groupElements and #paramIndex: the core's per-element answers through the
// module, checked against the run itself (its codes, dequantized values and saturated count) in both
// builds, and the searches against a brute force over inspect().
import { test, before } from 'node:test';
import assert from 'node:assert/strict';

import { qplay, requireBuilds } from './helpers.mjs';

before(requireBuilds);

const shape = [6, 10];
// Ties at s = 0.25 (k / 8 every fifth element), values up to ±3, NaN and infinities.
function inputs() {
  const v = new Float32Array(60);
  let s = 12345;
  for (let i = 0; i < v.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    v[i] = i % 5 === 0 ? ((i % 41) - 20) / 8 : ((s >>> 8) / (1 << 24)) * 6 - 3;
  }
  v[3] = NaN;
  v[17] = Infinity;
  v[29] = -Infinity;
  return v;
}
const values = inputs();
const all = Array.from(values, (_, i) => i);

const settings = [
  { dtype: 'int4', mode: 'symmetric', granularity: 'channel', axis: 1, scale: 0.25, zeroPoint: 0, rounding: 'half-away' },
  { dtype: 'uint4', granularity: 'block', blockSize: 4, axis: 1, scale: 0.25, zeroPoint: 8, rounding: 'half-up' },
  { dtype: 'uint4', granularity: 'tensor', scale: 0.25, zeroPoint: 0.5, zeroPointDomain: 'float', rounding: 'stochastic:5' },
  { dtype: 'int8', granularity: 'group', groupSize: 3, axis: 1, rounding: 'stochastic:9' },
  { dtype: 'uint8', profile: 'pytorch', granularity: 'channel', axis: 0 },
];

for (const flavour of ['simd', 'baseline']) {
  test(`${flavour}: inspect gives every element the code, clip and dequantized value of the run`, async () => {
    const qp = await qplay(flavour);
    for (const options of settings) {
      const result = qp.quantize({ values, shape }, options);
      const run = { options, input: { values, shape }, result };
      const elements = qp.inspect(run, all);
      assert.equal(elements.length, 60);
      let clipped = 0;
      for (const e of elements) {
        assert.equal(e.integer, true);
        assert.equal(e.code, result.codes[e.index], `${JSON.stringify(options)} element ${e.index}`);
        assert.ok(Object.is(e.dequantized, result.dequantized[e.index]) || e.dequantized === result.dequantized[e.index]);
        assert.equal(e.scale, result.scale[e.group]);
        assert.equal(e.group, qp.paramIndex(options, shape, e.index));
        if (e.clipped) clipped += 1;
      }
      assert.equal(clipped, result.metrics.saturated, JSON.stringify(options));
      // The result's own options give the same answers.
      assert.deepEqual(qp.inspect({ input: { values, shape }, result }, [0, 5, 59]), [elements[0], elements[5], elements[59]]);
    }
  });
}

test('a tie: 2.5 rounds by the run\'s rule, and inspect says it is one', async () => {
  const qp = await qplay();
  const x = new Float32Array([0.625, -0.625]);
  for (const [rounding, pos, neg] of [['half-even', 2, -2], ['half-away', 3, -3], ['half-up', 3, -2]]) {
    const result = qp.quantize({ values: x, shape: [2] }, { dtype: 'int8', mode: 'symmetric', scale: 0.25, zeroPoint: 0, rounding });
    const [a, b] = qp.inspect({ input: { values: x, shape: [2] }, result }, [0, 1]);
    assert.equal(a.scaled, 2.5);
    assert.equal(a.tie, true);
    assert.equal(a.rounded, pos);
    assert.equal(b.rounded, neg);
    assert.equal(a.code, pos);
  }
});

test('find: ties, clipped, bins and the largest error match a brute force over inspect', async () => {
  const qp = await qplay();
  const options = settings[0];
  const result = qp.quantize({ values, shape }, options);
  const run = { options, input: { values, shape }, result };
  const elements = qp.inspect(run, all);
  const ties = elements.filter((e) => Number.isFinite(e.x) && e.tie).map((e) => e.index);
  const clipped = elements.filter((e) => e.clipped).map((e) => e.index);
  assert.ok(ties.length > 0 && clipped.length > 3);
  assert.deepEqual(qp.find(run, { kind: 'ties' }), { indices: ties, total: ties.length });
  assert.deepEqual(qp.find(run, { kind: 'clipped', limit: 3 }), { indices: clipped.slice(0, 3), total: clipped.length });
  assert.deepEqual(qp.find(run, { kind: 'clipped', after: clipped[2] }).indices, clipped.slice(3));
  let worst = -1;
  let worstError = -1;
  values.forEach((v, i) => {
    const err = Math.abs(result.dequantized[i] - v);
    if (err > worstError) [worst, worstError] = [i, err];
  });
  assert.deepEqual(qp.find(run, { kind: 'maxError' }), { indices: [worst], total: 1 });
  const inGroup = qp.groupElements(options, shape, 2);
  assert.deepEqual(inGroup, [2, 12, 22, 32, 42, 52]);
  const bin = inGroup.filter((i) => values[i] >= 0 && values[i] < 1);
  assert.deepEqual(qp.find(run, { kind: 'bin', lo: 0, hi: 1, group: 2 }), { indices: bin, total: bin.length });
  const zeros = all.filter((i) => values[i] === 0);
  assert.deepEqual(qp.find(run, { kind: 'bin', lo: 0, hi: 0, last: true }).indices, zeros);
});

test('element formats: the group and scale apply, ties and clipping are refused with a reason', async () => {
  const qp = await qplay();
  const x = values.map((v) => (Number.isFinite(v) ? v : 0));
  const options = { dtype: 'nf4', granularity: 'block', blockSize: 32 };
  const result = qp.quantize({ values: x, shape: [60] }, options);
  const run = { options, input: { values: x, shape: [60] }, result };
  const [e] = qp.inspect(run, [40]);
  assert.equal(e.integer, false);
  assert.equal(e.group, 1);
  assert.equal(e.scale, result.scale[1]);
  assert.equal(e.code, null);
  assert.throws(() => qp.find(run, { kind: 'ties' }), /ties and clipping are searched for integer codes only/);
  assert.equal(qp.find(run, { kind: 'maxError' }).indices.length, 1);
});

test('bad input names the problem', async () => {
  const qp = await qplay();
  const result = qp.quantize({ values, shape }, settings[0]);
  const run = { input: { values, shape }, result };
  assert.throws(() => qp.inspect(run, [60]), /element 60 is out of range \(the tensor has 60 elements\)/);
  assert.throws(() => qp.find(run, { kind: 'nearest' }), /unknown search 'nearest' \(allowed: ties, clipped, bin, maxError\)/);
  assert.throws(() => qp.inspect({ result }, [0]), /inspect: the run must be \{options, input: \{values, shape\}, result\}/);
  assert.throws(() => qp.groupElements(settings[0], shape, 10), /param group 10 is out of range \(the plan has 10\)/);
});
