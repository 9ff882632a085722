// The whole-file view: every tensor of a model file in a sortable table, quantized by a pool of
// workers (ui/pool.js) one tensor at a time from File.slice() of that tensor's bytes, with its
// metrics filled in as it finishes, and the quantized bundle written as it is produced (ui/save.js:
// into a chosen file with the File System Access API, else one Blob at the end).
//
// The main thread only schedules, reads slices and moves bytes. Describing the file, planning,
// quantizing and laying out the output happen in workers through the JS API's whole-file steps
// (docs/JS_API.md): describeHead, planWholeFile, quantizeTensorBytes in the pool, and one
// bundleWriter in a worker of its own (the planner), which also answers plan requests.
import { h } from './dom.js';
import * as F from './format.js';
import { shapeText } from './synth.js';
import { Engine, CancelledError, resultBuffers } from './engine.js';
import { Pool, defaultWorkers, MAX_WORKERS } from './pool.js';
import { openSink, canStream } from './save.js';

// What a row can do instead of the core's default for it (quantize floating-point tensors of rank
// >= 2 with the page's scheme, keep the rest as they are).
export const ROW_ACTIONS = ['auto', 'page', 'keep', 'skip'];
// Schemes a row can be given instead of the page's (the common ones; the page's controls offer all).
export const ROW_DTYPES = ['int8', 'uint8', 'int4', 'uint4', 'int2', 'nf4', 'fp4', 'fp8_e4m3fn', 'fp8_e5m2', 'mxfp4', 'mxfp8_e4m3'];
export const OUTPUT_FORMATS = ['safetensors', 'npz'];

// [key, sort value kind]; metric columns read the report.
const COLUMNS = ['name', 'shape', 'dtype', 'elements', 'scheme', 'params', 'mse', 'sqnrDb', 'maxAbsError', 'bitsPerElement', 'status'];
const TEXT_COLUMNS = ['name', 'dtype', 'scheme', 'status'];
const METRIC_COLUMNS = ['params', 'mse', 'sqnrDb', 'maxAbsError', 'bitsPerElement'];

const product = (shape) => shape.reduce((a, b) => a * b, 1);

export class WholeFile {
  // host: {t, ids, simd, options(dtype | null) -> the page's options for planWholeFile, openTensor(row)}
  constructor(host) {
    this.host = host;
    this.file = null;
    this.info = null;
    this.rows = [];
    this.sort = { key: null, dir: 1 };
    this.workers = defaultWorkers();
    this.format = 'safetensors';
    this.running = false;
    this.pool = null;
    this.planner = null;
    this.element = null;
  }

  get t() {
    return this.host.t;
  }

  // Reads the head of `file` (as many bytes as the format's header needs, asked for by the core)
  // and lists its tensors with where their bytes lie. Throws the core's message for a malformed
  // file, prefixed with the file name as the CLI prefixes its path.
  async describe(file) {
    this.clear();
    const planner = new Engine({ simd: this.host.simd });
    this.planner = planner;
    let want = Math.min(file.size, 16);
    for (;;) {
      const bytes = await file.slice(0, want).arrayBuffer();
      let reply;
      try {
        reply = await planner.request('describe', { size: file.size, bytes }, { transfer: [bytes] });
      } catch (err) {
        if (err instanceof CancelledError || err.message.startsWith(`${file.name}: `)) throw err;
        throw new Error(`${file.name}: ${err.message}`);
      }
      if (reply.info) {
        this.file = file;
        this.info = reply.info;
        this.rows = reply.info.tensors.map((x, index) => ({
          ...x, index, elements: product(x.shape), action: 'auto', entry: null, status: 'queued', report: null, error: null,
        }));
        await this.replan();
        return this.rows;
      }
      if (!(reply.bytesNeeded > want) || reply.bytesNeeded > file.size) throw new Error(`${file.name}: the header did not fit in ${want} bytes`);
      want = reply.bytesNeeded;
    }
  }

  clear() {
    this.pool?.stop();
    this.planner?.terminate();
    this.planner = null;
    this.file = null;
    this.info = null;
    this.rows = [];
    this.element?.remove();
    this.element = null;
  }

  // Per-row choices as the API's overrides (exact names; the first match wins) and the tensors
  // the output holds (skipped rows are left out of the description before planning).
  planRequest() {
    const overrides = [];
    for (const r of this.rows) {
      if (r.action === 'keep') overrides.push({ pattern: r.name, keep: true });
      else if (r.action === 'page') overrides.push({ pattern: r.name, options: this.host.options(null) });
      else if (ROW_DTYPES.includes(r.action)) overrides.push({ pattern: r.name, options: this.host.options(r.action) });
    }
    const info = { ...this.info, tensors: this.info.tensors.filter((_, k) => this.rows[k].action !== 'skip') };
    return { info, options: this.host.options(null), overrides };
  }

  // Asks the core what it will do with each row under the current settings (the scheme column).
  // A setting the core refuses for some tensor (an axis it lacks) is shown, and blocks the run.
  async replan(request = this.planRequest()) {
    if (!this.planner || !this.info) return null;
    const token = (this.planToken = (this.planToken ?? 0) + 1);
    try {
      const { plan } = await this.planner.request('plan', request);
      if (token !== this.planToken) return null;
      const byName = new Map(plan.map((e) => [e.name, e]));
      for (const r of this.rows) r.entry = byName.get(r.name) ?? null;
      if (this.planError) this.setError(null);
      this.planError = null;
      this.showAll();
      return plan;
    } catch (err) {
      if (token !== this.planToken || err instanceof CancelledError) return null;
      for (const r of this.rows) r.entry = null;
      this.planError = err;
      this.showAll();
      throw err;
    }
  }

  // ---- view ---------------------------------------------------------------------------------------

  render() {
    const t = this.t;
    const ids = this.host.ids;
    this.workerSelect = h('select', { id: `${ids}-wf-workers` },
      Array.from({ length: MAX_WORKERS }, (_, k) => h('option', { value: String(k + 1), selected: k + 1 === this.workers }, String(k + 1))));
    this.workerSelect.addEventListener('change', () => { this.workers = Number(this.workerSelect.value); });
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
    if (this.planError && !this.running) this.setError(this.planError);
    const head = h('tr', {}, COLUMNS.map((key) => {
      const sorted = this.sort.key === key;
      return h('th', { scope: 'col', 'aria-sort': sorted ? (this.sort.dir > 0 ? 'ascending' : 'descending') : 'none' },
        h('button', { type: 'button', class: 'qp-link qp-sort', onclick: () => this.sortBy(key) },
          t(`wf.col.${key}`), sorted ? (this.sort.dir > 0 ? ' ▲' : ' ▼') : ''));
    }), h('th', { scope: 'col' }, t('wf.col.action')));
    this.rowEls = new Map();
    this.table.replaceChildren(h('thead', {}, head), h('tbody', {}, this.ordered().map((r) => this.rowElement(r))));
    this.element.dataset.done = String(this.finished());
  }

  finished() {
    return this.rows.filter((r) => ['done', 'kept', 'error'].includes(r.status)).length;
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
      this.element.dataset.done = String(this.finished());
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
    this.running = true;
    for (const r of this.rows) {
      r.status = 'queued';
      r.report = null;
      r.error = null;
    }
    this.showAll();
    const pool = new Pool({ size: this.workers, simd: this.host.simd });
    this.pool = pool;
    const planner = this.planner;
    let sink = null;
    let writerOpen = false;
    const started = performance.now();
    try {
      sink = await sinkPromise;
      if (!sink) throw new CancelledError();
      // The planner (which writes the output) and every pool worker make the same plan for
      // themselves (see web/worker.js).
      const request = this.planRequest();
      const plan = await this.replan(request);
      if (!plan) throw new CancelledError();
      await Promise.all(pool.engines.map((e) => e.request('plan', request)));
      const rows = plan.map((entry) => this.rows.find((r) => r.name === entry.name));
      const totalBytes = plan.reduce((a, e) => a + e.dataBytes, 0) || 1;
      let doneBytes = 0;
      let finished = 0;
      const progress = () => {
        this.progress.value = doneBytes / totalBytes;
        const s = (performance.now() - started) / 1000;
        this.status.textContent = t('wf.running', { done: finished, total: plan.length, mb: F.num(doneBytes / 1e6 / Math.max(s, 1e-3), 3), s: F.num(s, 3) });
      };
      progress();
      // The output's layout comes first: its header is the first chunk.
      const opened = await planner.request('writerOpen', { format });
      writerOpen = true;
      await sink.writeAt(opened.header.offset, opened.header.bytes);
      // A .safetensors places every tensor at an offset fixed by the header, so results go to the
      // writer as they finish. An .npz is written in input order (as the CLI writes it): a result
      // that finishes early waits here for the ones before it.
      const waiting = new Map();
      let nextToWrite = 0;
      let writing = Promise.resolve();
      const add = (result) => timed('write', (async () => {
        const reply = await planner.request('writerAdd', { result }, { transfer: resultBuffers(result) });
        for (const c of reply.chunks) await sink.writeAt(c.offset, c.bytes);
      })());
      const writeReady = async () => {
        while (waiting.has(nextToWrite)) {
          const result = waiting.get(nextToWrite);
          waiting.delete(nextToWrite);
          nextToWrite += 1;
          await add(result);
        }
      };
      // Where the time goes (milliseconds summed over tensors; the bench reads them): reading the
      // slices, a tensor's round trip to its worker, and the writer plus the sink.
      const timing = { read: 0, quantize: 0, write: 0 };
      const timed = async (key, promise) => {
        const t0 = performance.now();
        try {
          return await promise;
        } finally {
          timing[key] += performance.now() - t0;
        }
      };
      let failure = null;
      const fail = (err) => {
        failure ??= err;
        pool.stop();
      };
      await pool.run(plan.map((entry, k) => ({ entry, k })), {
        input: ({ entry, k }) => {
          rows[k].status = 'running';
          this.updateRow(rows[k]);
          return timed('read', file.slice(entry.dataOffset, entry.dataOffset + entry.dataBytes).arrayBuffer());
        },
        send: (engine, { entry }, bytes) => timed('quantize', engine.request('tensor', { name: entry.name, bytes }, { transfer: [bytes] })),
        done: ({ entry, k }, reply) => {
          const r = rows[k];
          r.report = reply.result.report;
          r.status = reply.result.report.quantized ? 'done' : 'kept';
          if (format === 'npz') {
            waiting.set(k, reply.result);
            writing = writing.then(writeReady).catch(fail);
          } else {
            writing = writing.then(() => add(reply.result)).catch(fail);
          }
          doneBytes += entry.dataBytes;
          finished += 1;
          this.updateRow(r);
          progress();
        },
        // A tensor the core refuses stops the file: a bundle with a hole is not the planned file.
        failed: ({ k }, err) => {
          rows[k].status = 'error';
          rows[k].error = err.message;
          this.updateRow(rows[k]);
          fail(new Error(`${rows[k].name}: ${err.message}`));
        },
      }).catch((err) => { if (!failure) throw err; });
      await writing;
      if (failure) throw failure;
      const last = await planner.request('writerFinish', {});
      writerOpen = false;
      if (last.chunk.bytes.byteLength) await sink.writeAt(last.chunk.offset, last.chunk.bytes);
      const size = opened.totalSize ?? last.chunk.offset + last.chunk.bytes.byteLength;
      this.lastBlob = (await sink.close()) ?? null;
      sink = null;
      const s = (performance.now() - started) / 1000;
      this.status.textContent = t('wf.done', { n: finished, s: F.num(s, 3), size: F.bytes(size), name: outName });
      Object.assign(this.element.dataset, { seconds: String(s), outputBytes: String(size), workers: String(pool.size), timing: JSON.stringify(timing) });
    } catch (err) {
      await sink?.abort();
      if (writerOpen) planner?.request('writerClose', {}).catch(() => {});
      for (const r of this.rows) if (r.status === 'running') r.status = 'queued';
      if (err instanceof CancelledError) this.status.textContent = t('cancelled');
      else {
        this.status.textContent = '';
        this.setError(err);
      }
    } finally {
      pool.stop();
      if (this.pool === pool) this.pool = null;
      this.running = false;
      this.showAll();
      if (this.element) this.element.dataset.runs = String(Number(this.element.dataset.runs ?? 0) + 1);
    }
  }

  cancel() {
    this.pool?.stop();
  }
}
