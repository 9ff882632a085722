// The inspector tab: element by element, x, x/s, the shifted and rounded value, the core's code,
// x̂ and the error, with ties and clipping flagged; searches (largest error, ties, clipped, a
// histogram bin's elements) run in the worker, which holds the values and the result.
import { h } from '../ui/dom.js';
import * as F from '../app/format.js';
import * as R from '../app/rules.js';
import { ravel } from '../app/inspect.js';
import { CancelledError } from '../app/engine.js';
import { sampleBreakdown, groupWhere, indexText } from '../app/result.js';

const COLUMNS = ['inspect.col.index', 'inspect.col.group', 'inspect.col.x', 'inspect.col.t', 'inspect.col.shifted',
  'inspect.col.round', 'inspect.col.q', 'inspect.col.xhat', 'inspect.col.error', 'inspect.col.flags'];

export class InspectorPanel {
  // host: the element ({t, view, result, resultData, sample, group, engine, tab, field(),
  // formulas, selectTab(), showError()})
  constructor(host) {
    this.host = host;
    this.found = null;
  }

  build(panel) {
    const t = this.host.t;
    this.indexInput = h('input', { type: 'text', spellcheck: 'false', autocomplete: 'off', class: 'qp-mid-input' });
    this.indexInput.addEventListener('change', () => this.inspectIndexText(this.indexInput.value));
    const nav = (delta) => () => this.inspect(this.host.sample + delta);
    this.table = h('table', { class: 'qp-inspect' });
    // Ties and clipping are found through the integer formula; element formats have their own rules.
    this.integerOnlyButtons = [
      h('button', { type: 'button', class: 'qp-button qp-small', onclick: () => this.find('ties') }, t('inspect.ties')),
      h('button', { type: 'button', class: 'qp-button qp-small', onclick: () => this.find('clipped') }, t('inspect.clipped')),
    ];
    this.note = h('p', { class: 'qp-note', 'aria-live': 'polite' });
    panel.append(
      h('p', { class: 'qp-hint' }, t('inspectHint')),
      h('div', { class: 'qp-row qp-inspect-bar' },
        this.host.field('inspect.index', this.indexInput, { hint: t('inspect.indexHint') }),
        h('button', { type: 'button', class: 'qp-button qp-small', onclick: nav(-1), 'aria-label': t('inspect.prev') }, '←'),
        h('button', { type: 'button', class: 'qp-button qp-small', onclick: nav(1), 'aria-label': t('inspect.next') }, '→'),
        h('button', { type: 'button', class: 'qp-button qp-small', onclick: () => this.find('maxError') }, t('inspect.maxError')),
        ...this.integerOnlyButtons),
      this.note,
      h('div', { class: 'qp-table-wrap' }, this.table));
  }

  inspectIndexText(text) {
    const d = this.host.resultData;
    if (!d) return;
    const nums = String(text).match(/-?\d+/g)?.map(Number) ?? [];
    let flat = -1;
    if (nums.length === 1) flat = nums[0];
    else if (nums.length === d.shape.length) flat = ravel(d.shape, nums);
    if (flat < 0 || flat >= d.values.length) {
      this.note.textContent = this.host.t('inspect.badIndex', { text, n: d.values.length });
      return;
    }
    this.inspect(flat);
  }

  // Makes element `flat` the inspected one (the formulas show its numbers, the histogram its group).
  inspect(flat) {
    const host = this.host;
    const d = host.resultData;
    if (!d) return;
    host.sample = Math.min(d.values.length - 1, Math.max(0, flat));
    if (host.result) {
      const b = sampleBreakdown(host.view, host.sample);
      if (b && b.group !== host.group) host.group = b.group;
    }
    host.formulas.show();
    this.show();
  }

  // A search over all elements in the worker; `bin` describes the histogram bin searched.
  async find(kind, extra = {}, bin = null) {
    const host = this.host;
    const r = host.result;
    if (!r) return;
    try {
      const reply = await host.engine.request('find', { resultId: r.id, kind, ...extra });
      if (host.result !== r) return;
      this.found = { kind, list: reply.indices, total: reply.total, bin };
      if (reply.indices.length && kind !== 'bin') host.sample = reply.indices[0];
      host.formulas.show();
      if (host.tab === 'inspector') this.show();
      else host.selectTab('inspector', false);
    } catch (err) {
      if (!(err instanceof CancelledError)) host.showError(err);
    }
  }

  show() {
    const host = this.host;
    const t = host.t;
    const view = host.view;
    const { result: r, data: d } = view;
    if (!r || !d) return;
    this.indexInput.value = indexText(d.shape, host.sample);
    let list = [host.sample];
    let note = '';
    if (this.found) {
      const { kind, list: found, total, bin } = this.found;
      this.found = null;
      if (kind === 'bin') {
        list = found;
        note = t('inspect.bin', { k: bin.k, lo: F.num(bin.lo, 5), hi: F.num(bin.hi, 5), total: F.integer(total), shown: found.length });
      } else if (found.length) {
        list = found;
        note = t(`inspect.found.${kind}`, { n: F.integer(total) });
      } else {
        note = t(`inspect.none.${kind}`);
      }
    }
    const e = R.effective(view.state);
    const stochastic = e.rounding === 'stochastic';
    const element = Boolean(R.elementKind(e.dtype));
    for (const b of this.integerOnlyButtons) b.disabled = element;
    const div = R.divisionOf(e.profile) === 'multiply-inverse' ? 'x·(1/s)' : 'x/s';
    const head = h('tr', {}, COLUMNS.map((k) => h('th', { scope: 'col' }, t(k, { div }))));
    const rows = list.map((i) => {
      const b = sampleBreakdown(view, i);
      const flags = [];
      if (b.tie) flags.push(t('inspect.tie'));
      if (b.clipped || (Number.isFinite(b.rounded) && (b.rounded < r.qmin || b.rounded > r.qmax))) flags.push(t('inspect.clip'));
      return h('tr', { class: [b.tie ? 'qp-tie' : '', i === host.sample ? 'qp-current' : ''].join(' ').trim() },
        h('td', {}, h('button', { type: 'button', class: 'qp-link', onclick: () => this.inspect(i) }, indexText(d.shape, i))),
        h('td', {}, groupWhere(r, b.group) || '0'),
        h('td', {}, F.f32(b.x)),
        h('td', {}, F.num(b.t, 8)),
        h('td', {}, element ? '–' : r.floatZeroPoint ? F.num(b.shifted, 8) : `${F.num(b.t, 8)} + ${F.f32(b.z)}`),
        h('td', {}, element ? '–' : stochastic ? t('inspect.stochastic') : String(b.rounded)),
        h('td', {}, String(b.q)),
        h('td', {}, F.f32(b.xhat)),
        h('td', {}, F.num(b.error, 5)),
        h('td', {}, flags.join(', ')));
    });
    this.table.replaceChildren(h('thead', {}, head), h('tbody', {}, rows));
    this.note.textContent = note;
  }
}
