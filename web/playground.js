// <quant-playground>: the whole Quantization Playground as one custom element, so a documentation
// page embeds it with one script tag:
//
//   <script type="module" src="/playground.js"></script>
//   <quant-playground preset="seed" compact></quant-playground>
//
// Attributes:
//   preset="seed|outliers|channels|static"  start from a named setting (web/app/state.js PRESETS)
//   options="dtype=uint8&profile=seed"      preset options in the URL form (CLI flag names)
//   src="data/weights.npy"                  open a tensor file (same origin) instead of synthetic data
//   compact                                 a smaller layout for figures in a text: options folded
//   lang="en|ko"                            UI language (default: the browser's)
//   theme="light|dark"                      colors (default: the system's, toggle in the header)
//   sync-url                                keep the settings in the page URL's hash (the main page)
//   simd="auto|off"                         which wasm build the worker loads
//
// This file is the shell: lifecycle, attributes, the header, the settings and the URL, and running.
// The control panel is controls/, the result panels panels/, and everything without a DOM (the
// worker bridge, data, rules, state) app/. Every quantization runs in the module worker
// (web/worker.js) through the wasm core.
import { h, clear, uid } from './ui/dom.js';
import * as S from './app/state.js';
import * as R from './app/rules.js';
import { SEED_SAMPLE_INDEX } from './app/synth.js';
import { Engine, CancelledError } from './app/engine.js';
import { SYNTHETIC, CALIBRATION_FIELDS, calibrationSources } from './app/data.js';
import { quantizeRequest, commandLine } from './app/request.js';
import { GivenParams } from './app/given.js';
import { loadCore, describeCurrent } from './app/core.js';
import { runLabel } from './app/result.js';
import { ChartSet } from './ui/charts.js';
import { translator, LANGUAGES, defaultLanguage } from './ui/i18n.js';
import { Header } from './controls/header.js';
import { ControlPanel } from './controls/panel.js';
import { ResultsView } from './panels/results.js';
import { MetricsPanel } from './panels/metrics.js';
import { FormulaPanel } from './panels/formulas.js';
import { HistogramPanel } from './panels/histograms.js';
import { HeatmapPanel } from './panels/heatmap.js';
import { InspectorPanel } from './panels/inspector.js';
import { SweepPanel } from './panels/sweep.js';
import { OutputPanel } from './panels/output.js';

const HERE = new URL('.', import.meta.url);
const STYLESHEETS = ['vendor/uPlot.min.css', 'vendor/katex/katex.min.css', 'styles.css'];
// Settings that change the data itself (a reload, then a run).
const DATA_FIELDS = ['data', 'shape', 'seed', 'spreadChannels', 'tensor'];

// Linked stylesheets from our own origin are what the CSP (style-src 'self') allows; they are added
// to the document once, whichever page embeds the element.
function ensureStyles() {
  for (const href of STYLESHEETS) {
    const url = new URL(href, HERE).href;
    if ([...document.querySelectorAll('link[rel="stylesheet"]')].some((l) => l.href === url)) continue;
    document.head.append(h('link', { rel: 'stylesheet', href: url }));
  }
}

function storage(key, value) {
  try {
    if (value === undefined) return localStorage.getItem(key);
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // Storage can be disabled (private modes, sandboxed documentation frames): preferences then
    // last for the page's lifetime only.
  }
  return null;
}

class QuantPlayground extends HTMLElement {
  static get observedAttributes() {
    return ['lang', 'theme', 'compact'];
  }

  constructor() {
    super();
    this.state = { ...S.DEFAULTS };
    this.result = null;
    this.pinned = null;
    this.group = 0;            // the param group whose grid the histogram draws
    this.sample = 0;           // the inspected element (flat index)
    this.tab = 'histograms';
    this.charts = new ChartSet();
    this.runToken = 0;
    this.data = null;          // {values, shape, fileName, tensor, dtype}
    this.file = null;          // {name, tensors} the open file
    this.paste = '';
    this.live = true;
    this.runCount = 0;         // results shown so far (data-runs, what tests wait on)
    this.paramsFile = null;    // name of a params .npz sent to the worker (given params)
    this.calibFiles = [];      // names of calibration files sent to the worker
    this.runPending = false;   // a debounced run is scheduled
    this.given = new GivenParams();  // who chose the given params; when the page derives them
    this.header = new Header(this, storage);
    this.controls = new ControlPanel(this);
    this.results = new ResultsView(this);
    this.metrics = new MetricsPanel(this);
    this.formulas = new FormulaPanel(this);
    this.histograms = new HistogramPanel(this);
    this.heatmap = new HeatmapPanel(this);
    this.inspector = new InspectorPanel(this);
    this.sweep = new SweepPanel(this);
    this.output = new OutputPanel(this);
  }

  // True when nothing is scheduled or running: the shown result matches the controls.
  get idle() {
    return !this.runPending && !(this.engine?.busy ?? false);
  }

  // The shown result with the settings and data it was computed from (what the panels read).
  get view() {
    return { result: this.result, state: this.resultState, data: this.resultData };
  }

  get progress() {
    return this.results.progress;
  }

  // ---- lifecycle --------------------------------------------------------------------------------

  connectedCallback() {
    if (this.started) return;
    this.started = true;
    ensureStyles();
    this.id ||= uid('quant-playground-');
    this.ids = uid('qp');
    this.lang = this.pickLanguage();
    if (!this.hasAttribute('theme')) {
      const stored = storage('qplay.theme');
      if (stored === 'light' || stored === 'dark') this.setAttribute('theme', stored);
    }
    this.engine = new Engine({ simd: this.getAttribute('simd') === 'off' ? 'off' : 'auto' });
    this.engine.addEventListener('busy', () => this.results.showBusy(this.engine.busy));
    // The pickers, locks and the settings a link names are the core's answers (app/core.js): the
    // element starts once the worker has read them.
    clear(this).append(h('p', { class: 'qp-status qp-starting', role: 'status' }, translator(this.lang)('starting')));
    loadCore(this.engine).then(() => this.start(), (err) => {
      clear(this).append(h('p', { class: 'qp-error', role: 'alert' }, err.message));
    });
  }

  start() {
    if (!this.started) return;  // disconnected meanwhile
    this.initialState();
    this.media = window.matchMedia('(prefers-color-scheme: dark)');
    this.onMedia = () => this.redrawCharts();
    this.media.addEventListener('change', this.onMedia);
    if (this.hasAttribute('sync-url')) {
      this.onHash = () => this.applyHash();
      window.addEventListener('hashchange', this.onHash);
    }
    this.rendered = true;
    this.render();
    this.header.showBuildInfo(this.engine.info);
    this.controls.data.loadInitial();
  }

  disconnectedCallback() {
    // Moving the element within the document disconnects and reconnects it synchronously.
    queueMicrotask(() => {
      if (this.isConnected) return;
      this.engine?.terminate();
      this.media?.removeEventListener('change', this.onMedia);
      if (this.onHash) window.removeEventListener('hashchange', this.onHash);
      this.charts.destroy();
      this.started = false;
      this.rendered = false;
    });
  }

  attributeChangedCallback(name, oldValue, newValue) {
    if (!this.rendered || oldValue === newValue) return;
    if (name === 'lang') {
      this.lang = this.pickLanguage();
      this.render();
      this.showResult();
    } else if (name === 'theme') {
      this.header.syncTheme();
      this.redrawCharts();
    } else if (name === 'compact') {
      this.render();
      this.showResult();
    }
  }

  pickLanguage() {
    const attr = this.getAttribute('lang');
    if (attr && attr in LANGUAGES) return attr;
    const stored = storage('qplay.lang');
    if (stored && stored in LANGUAGES) return stored;
    return defaultLanguage();
  }

  // ---- settings and the URL -----------------------------------------------------------------------

  // preset, then the `options` attribute, then (sync-url) the page's hash (app/state.js).
  initialState() {
    const init = S.initialSettings({
      preset: this.getAttribute('preset'),
      options: this.getAttribute('options'),
      hash: this.hasAttribute('sync-url') ? location.hash : '',
      values: this.getAttribute('values'),
    });
    ({ base: this.base, state: this.state, paste: this.paste, rejected: this.rejected, baseNamesGiven: this.baseNamesGiven } = init);
    this.given = new GivenParams(init.namesGiven);
    if (this.getAttribute('preset') === 'seed' || (init.rejected && init.state.data === 'seed')) this.sample = SEED_SAMPLE_INDEX;
  }

  // A hash change in an open tab (a pasted link, back / forward): the same settings a fresh load of
  // that URL gets, and the same data and calibration reloads a control change would cause.
  applyHash() {
    const wanted = `#${S.linkQuery(this.state, this.base, this.paste)}`;
    if (location.hash === wanted || (location.hash === '' && wanted === '#')) return;
    const { state, values } = S.fromQuery(location.hash);
    if (state.data === 'seed') this.sample = SEED_SAMPLE_INDEX;
    this.given.fromUser = this.baseNamesGiven || S.namesGivenParams(state);
    this.applyState({ ...this.base, ...state, data: state.data ?? this.base.data }, { paste: values });
  }

  // Several settings at once (a hash change, the seed note's buttons): controls, URL, then the
  // reloads the changes need before the run.
  applyState(next, { paste } = {}) {
    const prev = this.state;
    this.state = next;
    const pasteChanged = paste !== undefined && paste !== this.paste;
    if (pasteChanged) {
      this.paste = paste;
      this.controls.data.showPaste();
    }
    this.syncControls();
    this.writeHash();
    this.controls.data.settingsChanged();
    if (pasteChanged || DATA_FIELDS.some((k) => prev[k] !== next[k])) this.loadData();
    else if (CALIBRATION_FIELDS.some((k) => prev[k] !== next[k])) this.controls.data.reloadCalibration(0);
    else this.scheduleRun(0);
  }

  applySettings(partial) {
    if (S.namesGivenParams(partial)) this.given.fromUser = true;
    this.applyState({ ...this.state, ...partial });
  }

  // One control's edit.
  set(field, value) {
    if (this.state[field] === value) return;
    this.state = { ...this.state, [field]: value };
    if (field === 'data' && value === 'seed') {
      this.state.shape = '5';
      this.sample = SEED_SAMPLE_INDEX;
    } else if (field === 'data' && SYNTHETIC.includes(value) && this.state.shape === '5') {
      // Leaving the five-value example: back to a matrix worth a histogram.
      this.state.shape = S.DEFAULTS.shape;
    }
    if (field === 'profile' && value === 'seed' && this.state.data === 'seed') this.sample = SEED_SAMPLE_INDEX;
    // A profile brings the CLI's defaults for it (bnb: nf4 in blocks of 64, mx: mxfp8_e4m3).
    if (field === 'profile') Object.assign(this.state, R.profileDefaults(value, this.state, S.DEFAULTS.blockSize));
    if (field === 'scale' || field === 'zeroPoint') this.given.fromUser = true;
    if (field === 'params' && value === 'given') this.given.switchedTo();
    this.syncControls();
    this.writeHash();
    this.controls.data.settingsChanged();
    if (DATA_FIELDS.includes(field)) this.loadData();
    else if (CALIBRATION_FIELDS.includes(field)) this.controls.data.reloadCalibration();
    else this.scheduleRun();
  }

  syncControls() {
    this.controls.sync();
    // The whole-file table belongs to the open file: shown while the file is the source.
    this.results.wholeSlot.hidden = this.state.data !== 'file';
  }

  writeHash() {
    if (!this.hasAttribute('sync-url')) return;
    const hash = S.linkQuery(this.state, this.base, this.paste);
    history.replaceState(null, '', hash ? `#${hash}` : location.pathname + location.search);
  }

  shareUrl() {
    const url = new URL(location.href);
    url.hash = S.linkQuery(this.state, S.DEFAULTS, this.paste);
    return url.href;
  }

  async copyLink() {
    const url = this.shareUrl();
    try {
      await navigator.clipboard.writeText(url);
      this.setStatus(this.t('linkCopied'));
    } catch {
      // Clipboard access can be refused (permissions, insecure origin): show the link instead.
      this.setStatus(url);
    }
  }

  // ---- rendering ----------------------------------------------------------------------------------

  render() {
    const t = translator(this.lang);
    this.t = t;
    this.charts.destroy();
    this.classList.add('qp');
    this.classList.toggle('qp-compact', this.hasAttribute('compact'));
    const header = this.header.build();
    const controls = this.controls.build();
    const results = this.results.build();
    const layout = h('div', { class: 'qp-layout' }, controls, results);
    const dropHint = h('div', { class: 'qp-drop-overlay', 'aria-hidden': 'true' }, t('dropHere'));
    clear(this).append(h('div', { class: 'qp-root', lang: this.lang }, header, layout, dropHint));
    this.setupDragAndDrop();
    const whole = this.controls.data.whole;
    if (whole?.file) this.results.wholeSlot.replaceChildren(whole.render());
    this.syncControls();
    this.header.syncTheme();
    if (this.engine?.info) this.header.showBuildInfo(this.engine.info);
    this.results.showBusy(this.engine?.busy ?? false);
  }

  // A labelled control of a panel (registered nowhere: panels own their controls).
  field(key, control, options) {
    return this.controls.fields.field(key, control, options);
  }

  setupDragAndDrop() {
    const root = this.querySelector('.qp-root');
    let depth = 0;
    const hasFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes('Files');
    root.addEventListener('dragenter', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth += 1;
      root.classList.add('qp-dragging');
    });
    root.addEventListener('dragover', (e) => {
      if (hasFiles(e)) e.preventDefault();
    });
    root.addEventListener('dragleave', () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) root.classList.remove('qp-dragging');
    });
    root.addEventListener('drop', (e) => {
      depth = 0;
      root.classList.remove('qp-dragging');
      const file = e.dataTransfer?.files?.[0];
      if (!file) return;
      e.preventDefault();
      this.controls.data.openFile(file);
    });
  }

  // ---- data ---------------------------------------------------------------------------------------

  // ---- data (controls/data.js loads it) -------------------------------------------------------------

  loadData() {
    return this.controls.data.load();
  }

  // New data is in this.data (and its calibration data in the worker): views start over, then a run.
  dataLoaded() {
    if (this.sample >= this.data.values.length) this.sample = 0;
    this.group = 0;
    this.sweep.reset();
    this.controls.syncAxis();
    this.scheduleRun(0);
  }

  // ---- running ----------------------------------------------------------------------------------

  scheduleRun(delay = 120) {
    if (!this.live && delay !== 0) return;
    clearTimeout(this.runTimer);
    this.runPending = true;
    this.runTimer = setTimeout(() => this.run(), delay);
  }

  setLive(on) {
    this.live = on;
    if (on) this.scheduleRun(0);
  }

  // The worker's quantize request for the current settings and data.
  runRequest() {
    return quantizeRequest(this.state, this.data, this);
  }

  // The page's own given params for the current setting (app/given.js), from the worker.
  async deriveGivenParams(wanted) {
    const s = this.state;
    const reply = await this.engine.request('tensorParams', wanted.request);
    if (this.state !== s) return;
    this.state = this.given.apply(s, wanted, reply);
    this.syncControls();
    this.writeHash();
  }

  async run() {
    clearTimeout(this.runTimer);
    this.runPending = false;
    if (!this.data) return;
    if (this.state.params === 'calibrated' && calibrationSources(this.state, this.calibFiles).length === 0) {
      this.showError(new Error(this.t('calibNone')));
      return;
    }
    const token = ++this.runToken;
    const started = performance.now();
    this.showError(null);
    this.setStatus(this.t('running'));
    try {
      // Given params must fit the code range the core gives the setting (with dynamic params).
      const range = this.state.params === 'given'
        ? (await describeCurrent(this.engine, S.apiOptions({ ...this.state, params: 'dynamic' })))?.range ?? null
        : null;
      if (token !== this.runToken) return;
      const wanted = this.given.wanted(this.state, this.data, this.paramsFile, range);
      if (wanted) {
        await this.deriveGivenParams(wanted);
        if (token !== this.runToken) return;
      }
      const reply = await this.engine.request('quantize', this.runRequest());
      if (token !== this.runToken) return;
      this.result = reply.result;
      this.resultState = { ...this.state };
      this.resultData = this.data;
      if (this.group >= this.result.scale.length) this.group = 0;
      this.setStatus(this.t('done', { ms: Math.max(1, Math.round(performance.now() - started)) }));
      this.showResult();
      this.runCount += 1;
      this.dataset.runs = String(this.runCount);
    } catch (err) {
      if (token !== this.runToken) return;
      if (err instanceof CancelledError) this.setStatus(this.t('cancelled'));
      else {
        this.setStatus('');
        this.showError(err);
      }
    }
  }

  cancel() {
    // The run in flight is dropped (its token no longer matches) and the worker is replaced.
    this.runToken += 1;
    clearTimeout(this.runTimer);
    this.runPending = false;
    this.setStatus(this.t('cancelled'));
    this.engine.cancel().catch((err) => this.showError(err));
  }

  setStatus(text) {
    this.results.setStatus(text);
  }

  showError(err) {
    if (!this.results.showError(err)) return;
    this.errorCount = (this.errorCount ?? 0) + 1;
    this.dataset.errors = String(this.errorCount);
  }

  // ---- results ----------------------------------------------------------------------------------

  showResult() {
    const has = Boolean(this.result && this.data && this.resultData === this.data);
    this.output.show(has, commandLine(this.state, this.data, this.file, this));
    this.metrics.show(has);
    this.formulas.show();
    this.results.showTab();
  }

  selectTab(name, focus) {
    this.results.selectTab(name, focus);
  }

  // Picks param group g: the histogram draws its grid, the heatmaps mark it.
  selectGroup(g) {
    this.group = g;
    this.histograms.show();
    this.heatmap.select(g);
  }

  redrawCharts() {
    this.results.showTab();
  }

  // What identifies the data of the shown run (a pinned run on other data is overlaid differently).
  dataKey() {
    const s = this.resultState ?? this.state;
    return s.data === 'file' ? `file:${this.file?.name}:${s.tensor}` : s.data === 'paste' ? `paste:${this.paste}` : `${s.data}:${s.shape}:${s.seed}:${s.spreadChannels}`;
  }

  togglePin() {
    if (this.pinned) {
      this.pinned = null;
    } else if (this.result) {
      this.pinned = {
        metrics: this.result.metrics,
        histograms: this.result.histograms,
        label: runLabel(this.t, this.resultState),
        dataKey: this.dataKey(),
      };
    }
    this.showResult();
  }
}

if (!customElements.get('quant-playground')) customElements.define('quant-playground', QuantPlayground);

export { QuantPlayground };
