// The sweep tab: the current setting run at every code width 2-8, or at block sizes 2, 4, ... along
// the axis, in the worker; SQNR and bits per element as curves and a table.
import { h } from '../ui/dom.js';
import * as F from '../app/format.js';
import * as R from '../app/rules.js';
import { lineChart, chartColors } from '../ui/charts.js';
import { CancelledError } from '../app/engine.js';
import { runLabel } from '../app/result.js';

export class SweepPanel {
  // host: the element ({t, data, state, engine, charts, progress, runRequest()})
  constructor(host) {
    this.host = host;
    this.sweeps = {};
  }

  // New data: earlier sweeps no longer describe it.
  reset() {
    this.sweeps = {};
  }

  build(panel) {
    const t = this.host.t;
    this.bitsChart = h('div', { class: 'qp-chart', role: 'img', 'aria-label': t('sweep.bits') });
    this.blockChart = h('div', { class: 'qp-chart', role: 'img', 'aria-label': t('sweep.block') });
    this.bitsTable = h('table', { class: 'qp-sweep-table' });
    this.blockTable = h('table', { class: 'qp-sweep-table' });
    this.note = h('p', { class: 'qp-note', 'aria-live': 'polite' });
    panel.append(
      h('p', { class: 'qp-hint' }, t('sweepHint')),
      h('div', { class: 'qp-row' },
        h('button', { type: 'button', class: 'qp-button', onclick: () => this.sweep('bits') }, t('sweep.runBits')),
        h('button', { type: 'button', class: 'qp-button', onclick: () => this.sweep('block') }, t('sweep.runBlock'))),
      this.note,
      h('div', { class: 'qp-two' },
        h('div', {}, h('h4', {}, t('sweep.bits')), this.bitsChart, h('div', { class: 'qp-table-wrap' }, this.bitsTable)),
        h('div', {}, h('h4', {}, t('sweep.block')), this.blockChart, h('div', { class: 'qp-table-wrap' }, this.blockTable))));
  }

  blockSweepValues() {
    const d = this.host.data;
    const e = R.effective(this.host.state);
    const axis = e.granularity === 'tensor' ? d.shape.length - 1 : (e.axis < 0 ? e.axis + d.shape.length : e.axis);
    const dim = d.shape[axis];
    const values = [];
    for (let b = 2; b <= Math.min(dim, 4096); b *= 2) values.push(b);
    if (values.length === 0) values.push(1);
    return { axis, values };
  }

  async sweep(kind) {
    const host = this.host;
    const t = host.t;
    if (!host.data) return;
    const base = host.runRequest();
    const e = R.effective(host.state);
    const dt = R.parseDtype(e.dtype);
    const element = R.elementKind(e.dtype);
    if (!R.sweepable(e)[kind]) {
      this.note.textContent = t(kind === 'bits' ? 'sweep.noBits' : 'sweep.noBlock', { dtype: R.dtypeLabel(e.dtype) });
      return;
    }
    let points;
    let axis = null;
    if (kind === 'bits') {
      points = [2, 3, 4, 5, 6, 7, 8].map((bits) => {
        const options = element ? { bits } : { dtype: R.dtypeName(dt.signed, bits) };
        // --pack only where the codes are narrow enough for it.
        if (e.pack && !R.applicable({ ...e, ...options, elementBits: bits }).pack) options.pack = undefined;
        return { value: bits, options };
      });
    } else {
      const sv = this.blockSweepValues();
      axis = sv.axis;
      points = sv.values.map((b) => ({ value: b, options: { granularity: 'block', axis, blockSize: b, groupSize: undefined } }));
    }
    const progress = host.progress;
    this.note.textContent = t('sweep.running');
    progress.max = points.length;
    progress.value = 0;
    try {
      const reply = await host.engine.request('sweep', { ...base, points: points.map((p) => p.options) }, {
        onProgress: (m) => {
          progress.max = m.total;
          progress.value = m.done;
          this.note.textContent = t('sweep.progress', { done: m.done, total: m.total });
        },
      });
      this.sweeps[kind] = { values: points.map((p) => p.value), results: reply.points, axis, label: runLabel(t, host.state) };
      this.note.textContent = t('sweep.done');
      this.show();
    } catch (err) {
      this.note.textContent = err instanceof CancelledError ? t('cancelled') : err.message;
    }
  }

  show() {
    const host = this.host;
    const t = host.t;
    const colors = chartColors(host);
    const draw = (kind, container, table, xLabel) => {
      const sw = this.sweeps[kind];
      if (!sw) {
        container.replaceChildren(h('p', { class: 'qp-hint' }, t('sweep.empty')));
        table.replaceChildren();
        return;
      }
      const sqnr = sw.results.map((p) => (p.metrics ? p.metrics.sqnrDb : null));
      const bpe = sw.results.map((p) => (p.metrics ? p.metrics.bitsPerElement : null));
      host.charts.draw(container, () => lineChart(container, {
        x: sw.values,
        series: [
          { label: t('metric.sqnrDb'), values: sqnr.map((v) => (Number.isFinite(v) ? v : null)), color: colors.original },
          { label: t('metric.bitsPerElement'), values: bpe, color: colors.dequantized, scale: 'y2' },
        ],
        colors, xLabel, yLabel: 'SQNR (dB)', y2Label: t('metric.bitsPerElement'), xLog: kind === 'block',
      }));
      table.replaceChildren(
        h('caption', { class: 'qp-hint' }, kind === 'block' ? t('sweep.blockCaption', { axis: sw.axis, label: sw.label }) : t('sweep.bitsCaption', { label: sw.label })),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, xLabel), h('th', { scope: 'col' }, t('metric.mse')), h('th', { scope: 'col' }, t('metric.sqnrDb')), h('th', { scope: 'col' }, t('metric.bitsPerElement')))),
        h('tbody', {}, sw.results.map((p, k) => h('tr', {},
          h('th', { scope: 'row' }, String(sw.values[k])),
          ...(p.metrics
            ? [h('td', {}, F.num(p.metrics.mse, 4)), h('td', {}, F.num(p.metrics.sqnrDb, 4)), h('td', {}, F.num(p.metrics.bitsPerElement, 4))]
            : [h('td', { colspan: 3, class: 'qp-error-cell' }, p.error)])))));
    };
    draw('bits', this.bitsChart, this.bitsTable, t('sweep.xBits'));
    draw('block', this.blockChart, this.blockTable, t('sweep.xBlock'));
  }
}
