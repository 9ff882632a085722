// The arithmetic the inspector and the formula panel show, per element. The codes themselves always
// come from the core (the result's `codes`); this recomputes the intermediate values x/s and
// x/s + z in float32 the way the core's profile does, to explain them, and flags ties (x/s exactly
// halfway between two integers), where the rounding rule decides the code. The arithmetic itself
// (x/s, ties, the rounding rules) is app/rules.js's. DOM-free. The searches over a run (ties,
// clipped elements, bins, the largest error) are the core's: the worker asks Qplay#find.
import { scaled, isTie, roundBy } from './rules.js';

// Which param group element `flat` uses (docs/SCHEMES.md §1 "Granularity"): the tensor is viewed as
// [outer, D, inner] around the axis.
export function planOf(shape, granularity, axis, groupSize, blockSize) {
  const rank = shape.length;
  if (granularity === 'tensor' || rank === 0) {
    return { granularity: 'tensor', outer: 1, dim: shape.reduce((x, y) => x * y, 1), inner: 1, count: 1 };
  }
  const a = axis < 0 ? axis + rank : axis;
  const outer = shape.slice(0, a).reduce((x, y) => x * y, 1);
  const dim = shape[a];
  const inner = shape.slice(a + 1).reduce((x, y) => x * y, 1);
  const plan = { granularity, axis: a, outer, dim, inner, group: groupSize, block: blockSize };
  if (granularity === 'channel') plan.count = dim;
  else if (granularity === 'group') plan.count = Math.ceil(dim / groupSize);
  else plan.count = outer * Math.ceil(dim / blockSize) * inner;
  return plan;
}

export function paramIndex(plan, flat) {
  if (plan.granularity === 'tensor') return 0;
  const i = flat % plan.inner;
  const d = Math.floor(flat / plan.inner) % plan.dim;
  const o = Math.floor(flat / (plan.inner * plan.dim));
  if (plan.granularity === 'channel') return d;
  if (plan.granularity === 'group') return Math.floor(d / plan.group);
  const nb = Math.ceil(plan.dim / plan.block);
  return (o * nb + Math.floor(d / plan.block)) * plan.inner + i;
}

export function unravel(shape, flat) {
  const idx = new Array(shape.length);
  let r = flat;
  for (let k = shape.length - 1; k >= 0; k--) {
    idx[k] = r % shape[k];
    r = Math.floor(r / shape[k]);
  }
  return idx;
}

export function ravel(shape, idx) {
  let flat = 0;
  for (let k = 0; k < shape.length; k++) {
    if (!(idx[k] >= 0 && idx[k] < shape[k])) return -1;
    flat = flat * shape[k] + idx[k];
  }
  return flat;
}

// Everything the inspector shows for one element.
export function breakdown({ x, s, z, q, xhat, division, floatZeroPoint, rounding }) {
  const t = scaled(x, s, division);
  const shifted = floatZeroPoint ? Math.fround(t + z) : t + z;
  const tieTarget = floatZeroPoint ? shifted : t;
  const rounded = rounding === 'stochastic' ? NaN : floatZeroPoint ? roundBy(rounding, shifted) : roundBy(rounding, t) + z;
  return {
    x, s, z, t, shifted, rounded, q, xhat,
    error: xhat - x,
    tie: isTie(tieTarget),
    clipped: Number.isFinite(rounded) && rounded !== q,
  };
}

// Calls fn(flat) for every element of param group g, visiting only that group's elements (a
// channel of a [4096, 4096] matrix is 4096 calls, not 16 M index computations).
export function forEachInGroup(plan, g, fn) {
  if (plan.granularity === 'tensor') {
    const n = plan.outer * plan.dim * plan.inner;
    for (let k = 0; k < n; k++) fn(k);
    return;
  }
  const { outer, dim, inner } = plan;
  let dLo;
  let dHi;
  let oLo = 0;
  let oHi = outer;
  let iLo = 0;
  let iHi = inner;
  if (plan.granularity === 'channel') {
    dLo = g;
    dHi = g + 1;
  } else if (plan.granularity === 'group') {
    dLo = g * plan.group;
    dHi = Math.min(dim, dLo + plan.group);
  } else {
    const nb = Math.ceil(dim / plan.block);
    const i = g % inner;
    const ob = Math.floor(g / inner);
    const b = ob % nb;
    oLo = Math.floor(ob / nb);
    oHi = oLo + 1;
    iLo = i;
    iHi = i + 1;
    dLo = b * plan.block;
    dHi = Math.min(dim, dLo + plan.block);
  }
  for (let o = oLo; o < oHi; o++) {
    for (let d = dLo; d < dHi; d++) {
      const base = (o * dim + d) * inner;
      for (let i = iLo; i < iHi; i++) fn(base + i);
    }
  }
}
