// What the result panels read from a run, shared by them: `view` is {result, state, data} (the
// worker's result, the settings and the data it was computed from). DOM-free.
import * as R from './rules.js';
import { rangeFlag } from './state.js';
import { planOf, paramIndex, unravel, breakdown, forEachInGroup } from './inspect.js';

// The granularity plan of a run (which param group each element uses).
export function planFor(view) {
  const e = R.effective(view.state);
  return planOf(view.data.shape, e.granularity, e.axis, e.groupSize, e.blockSize);
}

// The group an element or a param belongs to, written as an index into the param shape.
export function groupWhere(result, i) {
  if (!result || result.paramShape.length === 0) return '';
  return `[${unravel(result.paramShape, i).join(', ')}]`;
}

// A flat index, with its multi-index when the tensor has several dimensions.
export function indexText(shape, flat) {
  return shape.length > 1 ? `${flat} [${unravel(shape, flat).join(', ')}]` : String(flat);
}

// Everything the inspector and the formula panel show for element `flat` of the run (null when
// there is no such element).
export function sampleBreakdown(view, flat) {
  const { result: r, data: d, state } = view;
  if (!r || !d || flat < 0 || flat >= d.values.length) return null;
  const e = R.effective(state);
  const g = paramIndex(planFor(view), flat);
  return {
    index: flat,
    group: g,
    ...breakdown({
      x: d.values[flat],
      s: r.scale[g],
      z: r.zeroPoint[g],
      q: r.codes[flat],
      xhat: r.dequantized[flat],
      division: R.divisionOf(e.profile),
      floatZeroPoint: r.floatZeroPoint,
      // Element codes are table indices or bit patterns: no integer rounding to reproduce.
      rounding: R.elementKind(e.dtype) ? 'none' : e.rounding,
    }),
  };
}

// min / max of the finite values of one param group (for the formula panel's numbers).
export function groupRange(view, g) {
  let lo = Infinity;
  let hi = -Infinity;
  const v = view.data.values;
  forEachInGroup(planFor(view), g, (i) => {
    const x = v[i];
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  });
  return lo <= hi ? [lo, hi] : [NaN, NaN];
}

// The grid of param group g (app/rules.js gridLevels), with the group's dequantized values at hand
// for the formats whose grid is the values in use.
export function groupGrid(view, g) {
  const used = (k) => {
    const out = new Set();
    forEachInGroup(planFor(view), k, (i) => {
      const v = view.result.dequantized[i];
      if (Number.isFinite(v)) out.add(v);
    });
    return out;
  };
  return R.gridLevels(view.state, view.result, g, used);
}

// A one-line description of a setting (the metrics caption, the pinned run, sweep captions).
export function runLabel(t, s) {
  const e = R.effective(s);
  const kind = R.elementKind(e.dtype);
  const parts = kind === 'ggml' ? [R.dtypeLabel(e.dtype)]
    : kind ? [e.dtype, t(`granularity.${e.granularity}`)] : [e.dtype, t(`mode.${e.mode}`), t(`granularity.${e.granularity}`)];
  if (e.granularity === 'group') parts.push(`G=${e.groupSize}`);
  if (e.granularity === 'block') parts.push(`B=${e.blockSize}`);
  parts.push(e.params === 'dynamic' ? rangeFlag(e) : t(`params.${e.params}`));
  if (e.profile !== 'custom') parts.push(e.profile);
  if (e.doubleQuant) parts.push(t('doubleQuant'));
  return parts.join(' · ');
}
