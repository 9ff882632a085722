// The metrics card: the run's metrics (and a pinned run's beside them), non-finite counts and what
// double quantization saved. The pin itself belongs to the element (the histograms overlay it too).
import { h } from '../ui/dom.js';
import * as F from '../app/format.js';
import { runLabel } from '../app/result.js';

const METRICS = [
  ['mse', 'num'], ['rmse', 'num'], ['sqnrDb', 'db'], ['maxAbsError', 'num'], ['meanAbsError', 'num'],
  ['cosine', 'cos'], ['clipRate', 'pct'], ['bitsPerElement', 'bits'], ['bytesBefore', 'bytes'], ['bytesAfter', 'bytes'],
];

function formatted(kind, v) {
  if (v === undefined || v === null) return '–';
  switch (kind) {
    case 'db': return `${F.num(v, 5)} dB`;
    case 'pct': return F.percent(v);
    case 'bits': return F.num(v, 5);
    case 'bytes': return F.bytes(v);
    case 'cos': return F.num(v, 8);
    default: return F.num(v, 5);
  }
}

export class MetricsPanel {
  // host: the element ({t, ids, result, resultState, pinned, togglePin()})
  constructor(host) {
    this.host = host;
  }

  build() {
    const { t, ids } = this.host;
    this.table = h('table', { class: 'qp-metrics' });
    this.pinButton = h('button', { type: 'button', class: 'qp-button qp-small', onclick: () => this.host.togglePin() }, t('pin'));
    return h('section', { class: 'qp-card qp-metrics-card', 'aria-labelledby': `${ids}-mh` },
      h('div', { class: 'qp-card-head' }, h('h3', { id: `${ids}-mh` }, t('section.metrics')), this.pinButton),
      h('div', { class: 'qp-table-wrap' }, this.table));
  }

  // `has`: the result shown belongs to the data shown (what the pin and downloads need).
  show(has) {
    const { t, result: r, pinned: pin } = this.host;
    this.pinButton.disabled = !has && !pin;
    this.pinButton.textContent = pin ? t('unpin') : t('pin');
    this.pinButton.setAttribute('aria-pressed', String(Boolean(pin)));
    const head = h('tr', {}, h('th', { scope: 'col' }, t('metric')), h('th', { scope: 'col' }, t('current')),
      pin ? h('th', { scope: 'col' }, t('pinned')) : null);
    // Byte counts carry their exact value as a tooltip when shown in KiB / MiB.
    const cell = (kind, m, key) => h('td', { title: kind === 'bytes' && m ? `${F.integer(m[key])} B` : undefined }, m ? formatted(kind, m[key]) : '–');
    const rows = METRICS.map(([key, kind]) => h('tr', { dataset: { metric: key } },
      h('th', { scope: 'row' }, t(`metric.${key}`)),
      cell(kind, r?.metrics, key),
      pin ? cell(kind, pin.metrics, key) : null));
    const caption = h('caption', { class: 'qp-hint' }, r ? runLabel(t, this.host.resultState) : t('noResult'));
    const extra = [];
    if (r && (r.metrics.nan || r.metrics.posInf || r.metrics.negInf)) {
      extra.push(h('tr', {}, h('th', { scope: 'row' }, t('metric.nonFinite')),
        h('td', { colspan: pin ? 2 : 1 }, t('nonFinite', { nan: r.metrics.nan, pinf: r.metrics.posInf, ninf: r.metrics.negInf }))));
    }
    // Double quantization: what storing the scales as 8-bit codes saved (already in bits per element).
    if (r?.doubleQuant) {
      const dq = r.doubleQuant;
      const saved = (dq.codes * 24 - dq.supers * 32 - (dq.bnb ? 32 : 0)) / r.metrics.elements;
      extra.push(h('tr', { dataset: { metric: 'doubleQuant' } }, h('th', { scope: 'row' }, t('metric.doubleQuant')),
        h('td', { colspan: pin ? 2 : 1 }, t('doubleQuantSaved', { bits: F.num(saved, 4), codes: dq.codes, supers: dq.supers }))));
    }
    const pinRow = pin ? h('tr', { class: 'qp-pin-desc' }, h('th', { scope: 'row' }, t('pinnedRun')), h('td', { colspan: 2 }, pin.label)) : null;
    this.table.replaceChildren(caption, h('thead', {}, head), h('tbody', {}, rows, extra, pinRow));
  }
}
