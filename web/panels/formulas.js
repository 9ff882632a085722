// The formula card: formulas (1)-(4) (or an element format's) with the run's numbers for the
// inspected element, notes on where the params came from, and the seed blog's q = 33 versus q = 32.
import { h } from '../ui/dom.js';
import * as F from '../app/format.js';
import * as R from '../app/rules.js';
import { observerFlag, rangeFlag } from '../app/state.js';
import { renderFormulas, renderElementFormulas } from '../ui/formula.js';
import { sampleBreakdown, groupRange, groupWhere, indexText } from '../app/result.js';

export class FormulaPanel {
  // host: the element ({t, ids, view, sample, group, applySettings(partial)})
  constructor(host) {
    this.host = host;
  }

  build() {
    const { t, ids } = this.host;
    this.box = h('div', { class: 'qp-formulas', 'aria-live': 'off' });
    this.note = h('div', { class: 'qp-formula-note' });
    this.seedNote = h('div', { class: 'qp-callout', hidden: true });
    return h('section', { class: 'qp-card qp-formula-card', 'aria-labelledby': `${ids}-fh` },
      h('div', { class: 'qp-card-head' }, h('h3', { id: `${ids}-fh` }, t('section.formulas'))),
      this.box, this.note, this.seedNote);
  }

  show() {
    const host = this.host;
    const t = host.t;
    const view = host.view;
    const r = view.result;
    this.seedNote.hidden = true;
    if (!r) {
      this.box.replaceChildren(h('p', { class: 'qp-hint' }, t('noResult')));
      this.note.textContent = '';
      return;
    }
    const e = R.effective(view.state);
    const b = sampleBreakdown(view, host.sample);
    const g = b ? b.group : host.group;
    const kind = R.elementKind(e.dtype);
    const sampleNote = () => t('formula.sample', { index: indexText(view.data.shape, b.index), x: F.f32(b.x), group: groupWhere(r, b.group) || '0' });
    if (kind) {
      const [lo, hi] = r.groupMin && r.groupMax ? [r.groupMin[g], r.groupMax[g]] : groupRange(view, g);
      renderElementFormulas(this.box, {
        kind, dtype: R.dtypeLabel(e.dtype), s: r.scale[g], amax: Math.max(Math.abs(lo), Math.abs(hi)), max: R.elementMax(e.dtype),
        bits: e.elementBits, sample: b ? { x: b.x, t: b.t, q: b.q, xhat: b.xhat } : null,
        offset: r.offset ? r.offset[g] : undefined, codebook: r.codebook,
      });
      const notes = [t(kind === 'ggml' ? 'formula.ggml' : 'formula.element', { dtype: R.dtypeLabel(e.dtype) })];
      if (b) notes.unshift(sampleNote());
      this.note.replaceChildren(...notes.map((n) => h('p', { class: 'qp-hint' }, n)));
      return;
    }
    // The numbers of (1) and (2) need the range the params were computed from. For dynamic minmax
    // params that is the group's min and max (the core's group stats when the API reports them);
    // other range methods and calibrated params pick a range the formula then shows symbolically.
    let lo = NaN;
    let hi = NaN;
    if (e.params === 'dynamic' && e.range === 'minmax') {
      if (r.groupMin && r.groupMax) [lo, hi] = [r.groupMin[g], r.groupMax[g]];
      else [lo, hi] = groupRange(view, g);
    }
    renderFormulas(this.box, {
      profile: e.profile,
      mode: e.mode,
      floatZeroPoint: r.floatZeroPoint,
      division: R.divisionOf(e.profile),
      source: e.params,
      qmin: r.qmin,
      qmax: r.qmax,
      s: r.scale[g],
      z: r.zeroPoint[g],
      lo, hi,
      sample: b ? { x: b.x, t: b.t, q: b.q, xhat: b.xhat } : null,
    });
    const notes = [];
    if (b) notes.push(sampleNote());
    if (e.params === 'calibrated') notes.push(t('formula.calibrated', { observer: observerFlag(e) }));
    else if (e.params === 'dynamic' && e.range !== 'minmax') notes.push(t('formula.rangeMethod', { range: rangeFlag(e) }));
    if (e.profile === 'pytorch') notes.push(t('formula.pytorch'));
    if (b?.tie) notes.push(t('formula.tie', { rounding: e.rounding }));
    this.note.replaceChildren(...notes.map((n) => h('p', { class: 'qp-hint' }, n)));
    this.showSeedNote(b, e);
  }

  // The seed blog's q = 33 versus the exact q = 32 (shared/reference/semantics.md C1).
  showSeedNote(b, e) {
    const t = this.host.t;
    const isSeedSample = b && Math.fround(b.x) === Math.fround(-3.57) && (e.dtype === 'uint8');
    if (!isSeedSample || !(e.profile === 'seed' || e.params === 'given')) return;
    const exactS = Math.fround(Math.fround(9.42) / 255);
    const blog = e.params === 'given' && Math.fround(e.scale) === Math.fround(0.037);
    const body = [];
    if (blog) {
      body.push(h('p', {}, t('seed.blogActive', { q: b.q, xhat: F.f32(b.xhat) })));
      body.push(h('button', { type: 'button', class: 'qp-button qp-small', onclick: () => this.host.applySettings({ params: 'dynamic' }) }, t('seed.useExact')));
    } else if (e.profile === 'seed' && e.params === 'dynamic') {
      body.push(h('p', {}, t('seed.exact', {
        s: F.f32(exactS),
        t: F.num(Math.fround(Math.fround(-3.57) / exactS), 6),
        q: b.q,
        blogT: F.num(-3.57 / 0.037, 5),
      })));
      body.push(h('button', { type: 'button', class: 'qp-button qp-small', onclick: () => this.host.applySettings({ params: 'given', scale: 0.037, zeroPoint: 129 }) }, t('seed.useBlog')));
    } else {
      return;
    }
    this.seedNote.replaceChildren(h('h4', {}, t('seed.title')), ...body);
    this.seedNote.hidden = false;
  }
}
