// The whole-file view: every tensor of a model file in a sortable table with its metrics filled in
// as it finishes, the output format, the worker count and the run's progress. The run itself (the
// pool of workers, the plan, the writer) is app/wholefile.js's; the bytes go where ui/save.js says
// (into a chosen file with the File System Access API, else one Blob at the end).
import { h } from '../ui/dom.js';
import * as F from '../app/format.js';
import { shapeText } from '../app/synth.js';
import { CancelledError } from '../app/engine.js';
import { MAX_WORKERS } from '../app/pool.js';
import { WholeFileRun, ROW_ACTIONS, ROW_DTYPES, OUTPUT_FORMATS } from '../app/wholefile.js';
import { openSink, canStream } from '../ui/save.js';

// [key, sort value kind]; metric columns read the report.
const COLUMNS = ['name', 'shape', 'dtype', 'elements', 'scheme', 'params', 'mse', 'sqnrDb', 'maxAbsError', 'bitsPerElement', 'status'];
const TEXT_COLUMNS = ['name', 'dtype', 'scheme', 'status'];
const METRIC_COLUMNS = ['params', 'mse', 'sqnrDb', 'maxAbsError', 'bitsPerElement'];

export class WholeFile {
  // host: {t, ids, simd, options(dtype | null) -> the page's options for planWholeFile, openTensor(row)}
  constructor(host) {
    this.host = host;
    this.sort = { key: null, dir: 1 };
    this.format = 'safetensors';
    this.element = null;
    this.model = new WholeFileRun({ simd: host.simd, options: (dtype) => host.options(dtype), onPlan: () => this.showAll() });
  }

  get t() {
    return this.host.t;
  }

  get file() {
    return this.model.file;
  }

  get rows() {
    return this.model.rows;
  }

  get running() {
    return this.model.running;
  }

  // Lists the tensors of `file` (the table is drawn by render()).
  describe(file) {
    this.clear();
    return this.model.describe(file);
  }

  replan() {
    return this.model.replan();
  }

  clear() {
    this.model.clear();
    this.element?.remove();
    this.element = null;
  }

  // ---- view ---------------------------------------------------------------------------------------

  render() {
    const t = this.t;
    const ids = this.host.ids;
    this.workerSelect = h('select', { id: `${ids}-wf-workers` },
      Array.from({ length: MAX_WORKERS }, (_, k) => h('option', { value: String(k + 1), selected: k + 1 === this.model.workers }, String(k + 1))));
    this.workerSelect.addEventListener('change', () => { this.model.workers = Number(this.workerSelect.value); });
    this.formatSelect = h('select', { id: `${ids}-wf-format` },
      OUTPUT_FORMATS.map((f) => h('option', { value: f, selected: f === this.format }, `.${f}`)));
    this.formatSelect.addEventListener('change', () => { this.format = this.formatSelect.value; this.showAll(); });
    this.streamBox = h('input', { type: 'checkbox', id: `${ids}-wf-stream`, checked: canStream(), disabled: !canStream() });
    this.runButton = h('button', { type: 'button', class: 'qp-button qp-primary', onclick: () => this.run() });
    this.cancelButton = h('button', { type: 'button', class: 'qp-button', disabled: true, onclick: () => this.cancel() }, t('cancel'));
    this.progress = h('progress', { class: 'qp-progress qp-wf-progress', max: 1, value: 0, 'aria-label': t('wf.progress') });
    this.status = h('p', { class: 'qp-status', role: 'status', 'aria-live': 'polite' });
    this.errorBox = h('p', { class: 'qp-error', role: 'alert', hidden: true });
    this.table = h('table', { class: 'qp-wf-table' });
    this.caption = h('p', { class: 'qp-hint' });
    this.element = h('section', { class: 'qp-card qp-wholefile', 'aria-labelledby': `${ids}-wfh` },
      h('div', { class: 'qp-card-head' }, h('h3', { id: `${ids}-wfh` }, t('wf.title'))),
      this.caption,
      h('div', { class: 'qp-runbar' },
        this.runButton,
        h('span', { class: 'qp-inline' }, h('label', { for: `${ids}-wf-format` }, t('wf.format')), this.formatSelect),
        h('span', { class: 'qp-inline' }, h('label', { for: `${ids}-wf-workers` }, t('wf.workers')), this.workerSelect),
        h('span', { class: 'qp-check' }, this.streamBox, h('label', { for: `${ids}-wf-stream` }, t(canStream() ? 'wf.stream' : 'wf.noStream'))),
        this.progress, this.cancelButton),
      this.status, this.errorBox,
      h('div', { class: 'qp-table-wrap qp-wf-wrap' }, this.table));
    this.showAll();
    return this.element;
  }

  showAll() {
    if (!this.element) return;
    const t = this.t;
    const total = this.rows.reduce((a, r) => a + r.elements, 0);
    this.caption.textContent = this.file
      ? t('wf.caption', { name: this.file.name, n: F.integer(this.rows.length), params: F.integer(total), size: F.bytes(this.file.size) })
      : '';
    this.runButton.textContent = t('wf.run', { format: this.format });
    this.runButton.disabled = this.running || !this.rows.length;
    this.cancelButton.disabled = !this.running;
    this.workerSelect.disabled = this.running;
    this.formatSelect.disabled = this.running;
    // A plan the core refused says why until a plan succeeds.
    const planError = this.running ? null : this.model.planError;
    if (planError) this.setError(planError);
    else if (this.shownPlanError) this.setError(null);
    this.shownPlanError = planError;
    const head = h('tr', {}, COLUMNS.map((key) => {
      const sorted = this.sort.key === key;
      return h('th', { scope: 'col', 'aria-sort': sorted ? (this.sort.dir > 0 ? 'ascending' : 'descending') : 'none' },
        h('button', { type: 'button', class: 'qp-link qp-sort', onclick: () => this.sortBy(key) },
          t(`wf.col.${key}`), sorted ? (this.sort.dir > 0 ? ' ▲' : ' ▼') : ''));
    }), h('th', { scope: 'col' }, t('wf.col.action')));
    this.rowEls = new Map();
    this.table.replaceChildren(h('thead', {}, head), h('tbody', {}, this.ordered().map((r) => this.rowElement(r))));
    this.element.dataset.done = String(this.model.finished());
  }

  sortValue(r, key) {
    if (TEXT_COLUMNS.includes(key)) return key === 'scheme' ? r.entry?.scheme ?? null : r[key];
    if (key === 'shape' || key === 'elements') return r.elements;
    return r.report && r.report.quantized ? r.report[key] : null;
  }

  ordered() {
    const { key, dir } = this.sort;
    if (!key) return this.rows;
    const missing = (v) => v === null || v === undefined || Number.isNaN(v);
    // Rows without a value (not run yet, kept) go last in either direction.
    return [...this.rows].sort((a, b) => {
      const x = this.sortValue(a, key);
      const y = this.sortValue(b, key);
      if (missing(x)) return missing(y) ? a.index - b.index : 1;
      if (missing(y)) return -1;
      const c = typeof x === 'string' ? x.localeCompare(y) : x - y;
      return c !== 0 ? c * dir : a.index - b.index;
    });
  }

  sortBy(key) {
    this.sort = this.sort.key === key ? { key, dir: -this.sort.dir } : { key, dir: 1 };
    this.showAll();
  }

  rowElement(r) {
    const t = this.t;
    const action = h('select', { 'aria-label': t('wf.actionFor', { name: r.name }), disabled: this.running },
      ROW_ACTIONS.map((a) => h('option', { value: a, selected: r.action === a }, t(`wf.action.${a}`))),
      h('optgroup', { label: t('wf.action.scheme') }, ROW_DTYPES.map((d) => h('option', { value: d, selected: r.action === d }, d))));
    action.addEventListener('click', (e) => e.stopPropagation());
    action.addEventListener('change', () => {
      r.action = action.value;
      r.status = 'queued';
      r.report = null;
      r.error = null;
      this.replan().catch(() => {});
    });
    const m = r.report?.quantized ? r.report : null;
    const num = (v) => h('td', { class: 'qp-num' }, m ? F.num(v, 4) : '');
    const scheme = r.action === 'skip' ? t('wf.status.skipped') : r.entry ? (r.entry.quantize ? r.entry.scheme : `${t('wf.kept')} (${r.entry.why})`) : '';
    const status = r.error ? `${t('wf.status.error')}: ${r.error}` : t(`wf.status.${r.action === 'skip' ? 'skipped' : r.status}`);
    const tr = h('tr', {
      class: 'qp-wf-row',
      dataset: { tensor: r.name, status: r.status, ...(m ? { mse: String(m.mse), sqnrDb: String(m.sqnrDb), maxAbsError: String(m.maxAbsError), bitsPerElement: String(m.bitsPerElement), params: String(m.params) } : {}) },
      onclick: () => this.host.openTensor(r),
    },
    h('th', { scope: 'row' }, h('button', { type: 'button', class: 'qp-link', onclick: (e) => { e.stopPropagation(); this.host.openTensor(r); } }, r.name)),
    h('td', {}, shapeText(r.shape)),
    h('td', {}, r.dtype),
    h('td', { class: 'qp-num' }, F.integer(r.elements)),
    h('td', {}, scheme),
    h('td', { class: 'qp-num' }, m ? F.integer(m.params) : ''),
    num(m?.mse), num(m?.sqnrDb), num(m?.maxAbsError), num(m?.bitsPerElement),
    h('td', { class: `qp-wf-status qp-wf-${r.error ? 'error' : r.status}` }, status),
    h('td', {}, action));
    this.rowEls.set(r, tr);
    return tr;
  }

  // Rows change as tensors finish: redraw at most once a frame, and only the changed rows unless
  // the table is sorted by something that changed.
  updateRow(r) {
    this.changed ??= new Set();
    this.changed.add(r);
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const changed = this.changed;
      this.changed = new Set();
      if (!this.element) return;
      if (this.sort.key && !['name', 'dtype', 'shape', 'elements'].includes(this.sort.key)) {
        this.showAll();
        return;
      }
      for (const row of changed) this.rowEls.get(row)?.replaceWith(this.rowElement(row));
      this.element.dataset.done = String(this.model.finished());
    });
  }

  setError(err) {
    if (!this.errorBox) return;
    this.errorBox.hidden = !err;
    this.errorBox.textContent = err ? err.message ?? String(err) : '';
  }

  // ---- running --------------------------------------------------------------------------------------

  async run() {
    if (this.running || !this.file) return;
    const t = this.t;
    const file = this.file;
    const format = this.format;
    const outName = `${file.name.replace(/\.[^.]*$/, '')}_quantized.${format}`;
    this.setError(null);
    // The picker needs the click's user activation: ask for the file before anything is awaited.
    const sinkPromise = openSink(outName, { stream: this.streamBox.checked, description: format });
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    const running = this.model.run({
      format,
      sinkPromise,
      onRow: (r) => this.updateRow(r),
      onProgress: ({ done, total, doneBytes, totalBytes }) => {
        this.progress.value = doneBytes / totalBytes;
        const s = seconds();
        this.status.textContent = t('wf.running', { done, total, mb: F.num(doneBytes / 1e6 / Math.max(s, 1e-3), 3), s: F.num(s, 3) });
      },
    });
    // The rows were reset to queued before the run's first await.
    this.showAll();
    try {
      const { finished, size, workers, timing, blob } = await running;
      this.lastBlob = blob;
      const s = seconds();
      this.status.textContent = t('wf.done', { n: finished, s: F.num(s, 3), size: F.bytes(size), name: outName });
      Object.assign(this.element.dataset, { seconds: String(s), outputBytes: String(size), workers: String(workers), timing: JSON.stringify(timing) });
    } catch (err) {
      if (err instanceof CancelledError) this.status.textContent = t('cancelled');
      else {
        this.status.textContent = '';
        this.setError(err);
      }
    } finally {
      this.showAll();
      if (this.element) this.element.dataset.runs = String(Number(this.element.dataset.runs ?? 0) + 1);
    }
  }

  cancel() {
    this.model.cancel();
  }
}
