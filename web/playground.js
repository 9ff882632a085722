// <quant-playground>: the whole Quantization Playground as one custom element, so a documentation
// page embeds it with one script tag:
//
//   <script type="module" src="/playground.js"></script>
//   <quant-playground preset="seed" compact></quant-playground>
//
// Attributes:
//   preset="seed|outliers|channels|static"  start from a named setting (web/ui/state.js PRESETS)
//   options="dtype=uint8&profile=seed"      preset options in the URL form (CLI flag names)
//   src="data/weights.npy"                  open a tensor file (same origin) instead of synthetic data
//   compact                                 a smaller layout for figures in a text: options folded
//   lang="en|ko"                            UI language (default: the browser's)
//   theme="light|dark"                      colors (default: the system's, toggle in the header)
//   sync-url                                keep the settings in the page URL's hash (the main page)
//   simd="auto|off"                         which wasm build the worker loads
//
// The element only arranges and shows: every quantization runs in the module worker (web/worker.js)
// through the wasm core.
import { h, clear, uid } from './ui/dom.js';
import * as S from './ui/state.js';
import { parseShape, parseNumbers, shapeText, SEED_VALUES, SEED_SAMPLE_INDEX } from './ui/synth.js';
import { Engine, CancelledError } from './ui/engine.js';
import { histogramChart, lineChart, chartColors, fitWidth } from './ui/charts.js';
import { Heatmap } from './ui/heatmap.js';
import { renderFormulas, renderElementFormulas } from './ui/formula.js';
import { planOf, paramIndex, unravel, ravel, breakdown, forEachInGroup } from './ui/inspect.js';
import * as F from './ui/format.js';
import { translator, LANGUAGES, defaultLanguage } from './ui/i18n.js';
import { WholeFile } from './ui/wholefile.js';
import { downloadBlob } from './ui/save.js';

const HERE = new URL('.', import.meta.url);
const STYLESHEETS = ['vendor/uPlot.min.css', 'vendor/katex/katex.min.css', 'styles.css'];

// Linked stylesheets from our own origin are what the CSP (style-src 'self') allows; they are added
// to the document once, whichever page embeds the element.
function ensureStyles() {
  for (const href of STYLESHEETS) {
    const url = new URL(href, HERE).href;
    if ([...document.querySelectorAll('link[rel="stylesheet"]')].some((l) => l.href === url)) continue;
    document.head.append(h('link', { rel: 'stylesheet', href: url }));
  }
}

const THEMES = ['auto', 'light', 'dark'];
const TABS = ['histograms', 'heatmap', 'inspector', 'sweep'];
const METRICS = [
  ['mse', 'num'], ['rmse', 'num'], ['sqnrDb', 'db'], ['maxAbsError', 'num'], ['meanAbsError', 'num'],
  ['cosine', 'cos'], ['clipRate', 'pct'], ['bitsPerElement', 'bits'], ['bytesBefore', 'bytes'], ['bytesAfter', 'bytes'],
];
const SYNTHETIC = ['seed', 'normal', 'uniform', 'laplace', 'outliers'];
// Longest text kept in the URL for pasted numbers (longer pastes stay local).
const MAX_URL_VALUES = 2000;
// Files up to this size are also opened whole in the single-tensor worker (every view, calibration
// on other tensors of the file); larger ones are read one tensor at a time (File.slice).
const OPEN_WHOLE_LIMIT = 256 * 1024 * 1024;

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
    this.plots = [];
    this.cleanups = [];
    this.runToken = 0;
    this.data = null;          // {values, shape, fileName, tensor, dtype}
    this.file = null;          // {name, tensors} the open file
    this.paste = '';
    this.sweeps = {};
    this.live = true;
    this.runCount = 0;         // results shown so far (data-runs, what tests wait on)
    this.paramsFile = null;    // name of a params .npz sent to the worker (given params)
    this.calibFiles = [];      // names of calibration files sent to the worker
    this.runPending = false;   // a debounced run is scheduled
  }

  // True when nothing is scheduled or running: the shown result matches the controls.
  get idle() {
    return !this.runPending && !(this.engine?.busy ?? false);
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
    this.initialState();
    this.engine = new Engine({ simd: this.getAttribute('simd') === 'off' ? 'off' : 'auto' });
    this.engine.addEventListener('busy', () => this.showBusy());
    this.engine.ready.then((info) => this.showBuildInfo(info), (err) => this.showError(err));
    this.media = window.matchMedia('(prefers-color-scheme: dark)');
    this.onMedia = () => this.redrawCharts();
    this.media.addEventListener('change', this.onMedia);
    if (this.hasAttribute('sync-url')) {
      this.onHash = () => this.applyHash();
      window.addEventListener('hashchange', this.onHash);
    }
    this.render();
    this.loadInitialData();
  }

  disconnectedCallback() {
    // Moving the element within the document disconnects and reconnects it synchronously.
    queueMicrotask(() => {
      if (this.isConnected) return;
      this.engine?.terminate();
      this.media?.removeEventListener('change', this.onMedia);
      if (this.onHash) window.removeEventListener('hashchange', this.onHash);
      this.destroyCharts();
      this.started = false;
    });
  }

  attributeChangedCallback(name, oldValue, newValue) {
    if (!this.started || oldValue === newValue) return;
    if (name === 'lang') {
      this.lang = this.pickLanguage();
      this.render();
      this.showResult();
    } else if (name === 'theme') {
      this.syncThemeButton();
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

  initialState() {
    const preset = S.PRESETS[this.getAttribute('preset')] ?? {};
    this.base = { ...S.DEFAULTS, ...preset };
    const attr = S.fromQuery(this.getAttribute('options') ?? '');
    this.base = { ...this.base, ...attr.state };
    this.state = { ...this.base };
    if (this.getAttribute('preset') === 'seed') this.sample = SEED_SAMPLE_INDEX;
    if (this.hasAttribute('sync-url') && location.hash.length > 1) {
      const { state, rejected } = S.fromQuery(location.hash);
      this.state = { ...this.state, ...state };
      if ('values' in state) this.paste = state.values;
      this.rejected = rejected;
      if (this.state.data === 'seed') this.sample = SEED_SAMPLE_INDEX;
    }
    this.paste = this.paste || this.getAttribute('values') || '';
  }

  applyHash() {
    const wanted = `#${S.toQuery(this.state, this.base)}`;
    if (location.hash === wanted || (location.hash === '' && wanted === '#')) return;
    const { state } = S.fromQuery(location.hash);
    const dataChanged = ['data', 'shape', 'seed', 'spreadChannels', 'tensor'].some((k) => k in state && state[k] !== this.state[k]);
    this.state = { ...this.base, ...state, data: state.data ?? this.base.data };
    this.syncControls();
    if (dataChanged) this.loadData();
    else this.scheduleRun(0);
  }

  // ---- rendering ----------------------------------------------------------------------------------

  render() {
    const t = translator(this.lang);
    this.t = t;
    this.destroyCharts();
    this.controls = {};
    this.classList.add('qp');
    this.classList.toggle('qp-compact', this.hasAttribute('compact'));
    const header = this.renderHeader();
    const controls = this.renderControls();
    const results = this.renderResults();
    const layout = h('div', { class: 'qp-layout' }, controls, results);
    const dropHint = h('div', { class: 'qp-drop-overlay', 'aria-hidden': 'true' }, t('dropHere'));
    clear(this).append(h('div', { class: 'qp-root', lang: this.lang }, header, layout, dropHint));
    this.setupDragAndDrop();
    // A re-render (language switch) keeps what the data section showed.
    if (this.file) this.renderTensorList();
    if (this.whole?.file) this.wholeSlot.replaceChildren(this.whole.render());
    this.setDataNote(this.note?.key ?? null, this.note?.vars);
    this.syncControls();
    this.syncThemeButton();
    if (this.engine?.info) this.showBuildInfo(this.engine.info);
    this.showBusy();
  }

  renderHeader() {
    const t = this.t;
    const langId = `${this.ids}-lang`;
    const lang = h('select', { id: langId, class: 'qp-lang', onchange: (e) => this.setLanguage(e.target.value) },
      Object.keys(LANGUAGES).map((code) => h('option', { value: code, selected: code === this.lang }, t(`language.${code}`))));
    this.themeButton = h('button', { type: 'button', class: 'qp-button qp-theme', onclick: () => this.cycleTheme() });
    const share = h('button', { type: 'button', class: 'qp-button', onclick: () => this.copyLink() }, t('copyLink'));
    this.buildInfo = h('span', { class: 'qp-build' });
    const Title = this.hasAttribute('compact') ? 'h2' : 'h1';
    return h('header', { class: 'qp-header' },
      h('div', { class: 'qp-title' },
        h(Title, {}, t('title')),
        h('p', { class: 'qp-tagline' }, t('tagline'))),
      h('div', { class: 'qp-toolbar' },
        h('label', { for: langId, class: 'qp-visually-hidden' }, t('language')),
        lang, this.themeButton, share, this.buildInfo));
  }

  // A labelled control. `field` names the state key the control edits; the control is registered so
  // syncControls() can set its value and whether it is locked.
  field(key, control, { hint, field, wide = false } = {}) {
    const id = `${this.ids}-${key.replace(/\W/g, '-')}`;
    control.id = id;
    const label = h('label', { for: id }, this.t(key));
    const lock = h('span', { class: 'qp-lock', hidden: true });
    const hintEl = hint ? h('span', { class: 'qp-hint', id: `${id}-hint` }, hint) : null;
    if (hintEl) control.setAttribute('aria-describedby', `${id}-hint`);
    const wrap = h('div', { class: `qp-field${wide ? ' qp-field-wide' : ''}` }, label, control, lock, hintEl);
    if (field) this.controls[field] = { control, wrap, lock };
    return wrap;
  }

  select(field, values, labelOf) {
    const el = h('select', {}, values.map((v) => h('option', { value: v }, labelOf ? labelOf(v) : v)));
    el.addEventListener('change', () => this.set(field, el.value));
    return el;
  }

  number(field, { min, max, step = 'any', integer = false } = {}) {
    const el = h('input', { type: 'number', min, max, step, inputmode: integer ? 'numeric' : 'decimal' });
    el.addEventListener('change', () => {
      const v = Number(el.value);
      const ok = el.value.trim() !== '' && Number.isFinite(v) && (!integer || Number.isInteger(v)) &&
        (min === undefined || v >= min) && (max === undefined || v <= max);
      el.classList.toggle('qp-invalid', !ok);
      el.setAttribute('aria-invalid', String(!ok));
      if (ok) this.set(field, v);
    });
    return el;
  }

  checkbox(field) {
    const el = h('input', { type: 'checkbox' });
    el.addEventListener('change', () => this.set(field, el.checked));
    return el;
  }

  checkField(key, field) {
    const control = this.checkbox(field);
    const id = `${this.ids}-${key.replace(/\W/g, '-')}`;
    control.id = id;
    const lock = h('span', { class: 'qp-lock', hidden: true });
    const wrap = h('div', { class: 'qp-field qp-check' }, control, h('label', { for: id }, this.t(key)), lock);
    this.controls[field] = { control, wrap, lock };
    return wrap;
  }

  renderControls() {
    const t = this.t;
    // Data
    const source = this.select('data', S.DATA_SOURCES, (v) => t(`data.${v}`));
    const shape = h('input', { type: 'text', spellcheck: 'false', autocomplete: 'off' });
    shape.addEventListener('change', () => {
      const ok = parseShape(shape.value) !== null;
      shape.classList.toggle('qp-invalid', !ok);
      shape.setAttribute('aria-invalid', String(!ok));
      if (ok) this.set('shape', shape.value.trim());
    });
    this.fileInput = h('input', { type: 'file', class: 'qp-file-input', accept: '.npy,.npz,.safetensors,.gguf,.csv,.tsv,.txt' });
    this.fileInput.addEventListener('change', () => {
      if (this.fileInput.files?.[0]) this.openFile(this.fileInput.files[0]);
    });
    const fileId = `${this.ids}-file`;
    this.fileInput.id = fileId;
    this.dropZone = h('div', { class: 'qp-dropzone' },
      h('label', { for: fileId, class: 'qp-file-label' }, t('chooseFile')),
      this.fileInput,
      h('span', { class: 'qp-hint' }, t('dropHint')));
    this.tensorList = h('div', { class: 'qp-tensors', role: 'radiogroup', 'aria-label': t('tensors') });
    this.wholeButton = h('button', { type: 'button', class: 'qp-button qp-small', hidden: true, title: t('wholeFileHint'),
      onclick: () => this.showWholeFile(this.fileObject).catch((err) => this.showError(err)) }, t('wholeFile'));
    this.rawButton = h('button', { type: 'button', class: 'qp-button qp-small', hidden: true, onclick: () => { this.rawForm.hidden = false; } }, t('raw.choose'));
    this.rawForm = this.renderRawForm();
    this.pasteArea = h('textarea', { rows: 4, spellcheck: 'false', placeholder: t('pastePlaceholder') });
    this.pasteArea.value = this.paste;
    this.pasteArea.addEventListener('change', () => {
      this.paste = this.pasteArea.value;
      this.loadData();
    });
    this.pasteShape = h('input', { type: 'text', spellcheck: 'false', placeholder: t('pasteShapePlaceholder') });
    this.pasteShape.value = this.pasteShapeText ?? '';
    this.pasteShape.addEventListener('change', () => {
      this.pasteShapeText = this.pasteShape.value;
      this.loadData();
    });
    this.dataNote = h('p', { class: 'qp-note', 'aria-live': 'polite' });

    const dataSet = h('fieldset', { class: 'qp-group' },
      h('legend', {}, t('section.data')),
      this.field('data.source', source, { field: 'data' }),
      h('div', { class: 'qp-sub', dataset: { when: 'synthetic' } },
        this.field('shape', shape, { field: 'shape', hint: t('shapeHint') }),
        this.field('seed', this.number('seed', { min: 0, max: 4294967295, step: 1, integer: true }), { field: 'seed' }),
        this.checkField('spreadChannels', 'spreadChannels')),
      h('div', { class: 'qp-sub', dataset: { when: 'file' } },
        this.dropZone,
        this.rawForm,
        this.tensorList,
        h('div', { class: 'qp-row' }, this.wholeButton, this.rawButton)),
      h('div', { class: 'qp-sub', dataset: { when: 'paste' } },
        this.field('pasteValues', this.pasteArea, { wide: true }),
        this.field('pasteShape', this.pasteShape)),
      this.dataNote);

    // Scheme
    const signed = h('select', {}, h('option', { value: 'signed' }, t('signed')), h('option', { value: 'unsigned' }, t('unsigned')));
    const bits = h('select', {}, S.DTYPE_BITS.map((b) => h('option', { value: String(b) }, String(b))));
    const setDtype = () => this.set('dtype', S.dtypeName(signed.value === 'signed', Number(bits.value)));
    signed.addEventListener('change', setDtype);
    bits.addEventListener('change', setDtype);
    this.controls.dtypeSigned = { control: signed };
    this.controls.dtypeBits = { control: bits };
    // Integer codes, or one of the element formats (its own dtype name).
    const format = h('select', {},
      h('option', { value: 'integer' }, t('format.integer')),
      Object.entries(S.ELEMENT_KINDS).map(([kind, names]) => h('optgroup', { label: t(`format.${kind}`) },
        names.map((n) => h('option', { value: n }, S.dtypeLabel(n))))));
    format.addEventListener('change', () => {
      if (format.value === 'integer') this.set('dtype', this.lastIntegerDtype ?? 'int8');
      else this.set('dtype', format.value);
    });
    this.controls.format = { control: format };
    const pack = this.select('pack', S.PACK_ORDERS, (v) => (v ? v : t('pack.none')));
    this.axisSelect = h('select', {});
    this.axisSelect.addEventListener('change', () => this.set('axis', Number(this.axisSelect.value)));
    const schemeSet = h('fieldset', { class: 'qp-group' },
      h('legend', {}, t('section.scheme')),
      this.field('profile', this.select('profile', S.PROFILES, (v) => t(`profile.${v}`)), { field: 'profile', hint: t('profileHint') }),
      this.field('format', format, { hint: t('formatHint') }),
      h('div', { class: 'qp-row', dataset: { role: 'integer-dtype' } },
        this.field('signedness', signed),
        this.field('bits', bits)),
      h('div', { class: 'qp-row' },
        this.field('elementBits', this.number('elementBits', { min: 1, max: 8, step: 1, integer: true }), { field: 'elementBits' }),
        this.checkField('saturate', 'saturate'),
        this.field('pack', pack, { field: 'pack', hint: t('packHint') })),
      h('div', { class: 'qp-row' },
        this.field('scaleRule', this.select('scaleRule', S.SCALE_RULES, (v) => t(`scaleRule.${v}`)), { field: 'scaleRule', hint: t('scaleRuleHint') }),
        this.checkField('doubleQuant', 'doubleQuant')),
      this.field('mode', this.select('mode', S.MODES, (v) => t(`mode.${v}`)), { field: 'mode' }),
      h('div', { class: 'qp-row' },
        this.checkField('narrow', 'narrow'),
        this.checkField('reduceRange', 'reduceRange')),
      this.field('granularity', this.select('granularity', S.GRANULARITIES, (v) => t(`granularity.${v}`)), { field: 'granularity' }),
      h('div', { class: 'qp-row' },
        this.field('axis', this.axisSelect, { field: 'axis' }),
        this.field('groupSize', this.number('groupSize', { min: 1, step: 1, integer: true }), { field: 'groupSize' }),
        this.field('blockSize', this.number('blockSize', { min: 1, step: 1, integer: true }), { field: 'blockSize' })),
      h('div', { class: 'qp-row' },
        this.field('rounding', this.select('rounding', S.ROUNDINGS, (v) => t(`rounding.${v}`)), { field: 'rounding' }),
        this.field('roundingSeed', this.number('roundingSeed', { min: 0, max: 4294967295, step: 1, integer: true }), { field: 'roundingSeed' })),
      this.field('zeroPointDomain', this.select('zeroPointDomain', S.ZERO_POINT_DOMAINS, (v) => t(`zpd.${v}`)), { field: 'zeroPointDomain' }));

    // Params
    this.calibList = h('div', { class: 'qp-calib-tensors' });
    // Further files, as the CLI's --params P.npz and --calibrate A B take them.
    this.paramsFileInput = h('input', { type: 'file', class: 'qp-file-input', accept: '.npz' });
    this.paramsFileInput.addEventListener('change', () => this.addAuxFiles(this.paramsFileInput, 'params'));
    this.paramsFileList = h('ul', { class: 'qp-aux-list' });
    this.calibFileInput = h('input', { type: 'file', class: 'qp-file-input', multiple: true, accept: '.npy,.npz,.safetensors,.gguf,.csv,.tsv,.txt' });
    this.calibFileInput.addEventListener('change', () => this.addAuxFiles(this.calibFileInput, 'calib'));
    this.calibFileList = h('ul', { class: 'qp-aux-list' });
    const paramsSet = h('fieldset', { class: 'qp-group' },
      h('legend', {}, t('section.params')),
      this.field('params.source', this.select('params', S.PARAM_SOURCES, (v) => t(`params.${v}`)), { field: 'params', hint: t('paramsHint') }),
      h('div', { class: 'qp-sub', dataset: { when: 'dynamic' } },
        h('div', { class: 'qp-row' },
          this.field('range', this.select('range', S.RANGES, (v) => t(`range.${v}`)), { field: 'range' }),
          this.field('percentile', this.number('percentile', { min: 0.0001, max: 100 }), { field: 'percentile' }))),
      h('div', { class: 'qp-sub', dataset: { when: 'given' } },
        h('div', { class: 'qp-row' },
          this.field('scale', this.number('scale', { min: 1e-38 }), { field: 'scale' }),
          this.field('zeroPoint', this.number('zeroPoint', {}), { field: 'zeroPoint' })),
        this.field('paramsFile', this.paramsFileInput, { hint: t('paramsFileHint') }),
        this.paramsFileList),
      h('div', { class: 'qp-sub', dataset: { when: 'calibrated' } },
        h('div', { class: 'qp-row' },
          this.field('observer', this.select('observer', S.OBSERVERS, (v) => t(`observer.${v}`)), { field: 'observer' }),
          this.field('averagingConstant', this.number('averagingConstant', { min: 0.000001, max: 1 }), { field: 'averagingConstant' })),
        h('div', { class: 'qp-sub', dataset: { when: 'calib-synthetic' } },
          h('p', { class: 'qp-hint' }, t('calibSyntheticHint')),
          h('div', { class: 'qp-row' },
            this.field('calibSeed', this.number('calibSeed', { min: 0, max: 4294967295, step: 1, integer: true }), { field: 'calibSeed' }),
            this.field('calibSpread', this.number('calibSpread', { min: 0.001, max: 1000 }), { field: 'calibSpread' }))),
        h('div', { class: 'qp-sub', dataset: { when: 'calib-file' } },
          h('p', { class: 'qp-hint' }, t('calibFileHint')),
          this.calibList),
        this.field('calibFiles', this.calibFileInput, { hint: t('calibFilesHint') }),
        this.calibFileList),
      this.field('bins', this.number('bins', { min: 1, max: 1048576, step: 1, integer: true }), { field: 'bins' }));

    const form = h('form', { class: 'qp-controls-form', onsubmit: (e) => { e.preventDefault(); this.run(); } },
      dataSet, schemeSet, paramsSet);
    if (this.hasAttribute('compact')) {
      return h('details', { class: 'qp-controls' }, h('summary', {}, t('options')), form);
    }
    return h('aside', { class: 'qp-controls', 'aria-label': t('options') }, form);
  }

  renderResults() {
    const t = this.t;
    this.runButton = h('button', { type: 'button', class: 'qp-button qp-primary', onclick: () => this.run() }, t('run'));
    const liveBox = h('input', { type: 'checkbox', id: `${this.ids}-live`, checked: this.live });
    liveBox.addEventListener('change', () => {
      this.live = liveBox.checked;
      if (this.live) this.scheduleRun(0);
    });
    this.progress = h('progress', { class: 'qp-progress', hidden: true, 'aria-label': t('working') });
    this.cancelButton = h('button', { type: 'button', class: 'qp-button', disabled: true, onclick: () => this.cancel() }, t('cancel'));
    this.status = h('p', { class: 'qp-status', role: 'status', 'aria-live': 'polite' });
    this.errorBox = h('p', { class: 'qp-error', role: 'alert', hidden: true });
    const runBar = h('div', { class: 'qp-runbar' },
      this.runButton,
      h('span', { class: 'qp-check' }, liveBox, h('label', { for: `${this.ids}-live` }, t('live'))),
      this.progress, this.cancelButton, this.status);

    // Metrics and formulas
    this.metricsTable = h('table', { class: 'qp-metrics' });
    this.pinButton = h('button', { type: 'button', class: 'qp-button qp-small', onclick: () => this.togglePin() }, t('pin'));
    this.formulaBox = h('div', { class: 'qp-formulas', 'aria-live': 'off' });
    this.formulaNote = h('div', { class: 'qp-formula-note' });
    this.seedNote = h('div', { class: 'qp-callout', hidden: true });
    const summary = h('div', { class: 'qp-summary' },
      h('section', { class: 'qp-card qp-metrics-card', 'aria-labelledby': `${this.ids}-mh` },
        h('div', { class: 'qp-card-head' }, h('h3', { id: `${this.ids}-mh` }, t('section.metrics')), this.pinButton),
        h('div', { class: 'qp-table-wrap' }, this.metricsTable)),
      h('section', { class: 'qp-card qp-formula-card', 'aria-labelledby': `${this.ids}-fh` },
        h('div', { class: 'qp-card-head' }, h('h3', { id: `${this.ids}-fh` }, t('section.formulas'))),
        this.formulaBox, this.formulaNote, this.seedNote));

    // Tabs
    const tabList = h('div', { class: 'qp-tabs', role: 'tablist', 'aria-label': t('views') });
    this.tabButtons = {};
    this.tabPanels = {};
    for (const name of TABS) {
      const tabId = `${this.ids}-tab-${name}`;
      const panelId = `${this.ids}-panel-${name}`;
      const b = h('button', {
        type: 'button', role: 'tab', id: tabId, class: 'qp-tab', 'aria-controls': panelId,
        onclick: () => this.selectTab(name, true),
        onkeydown: (e) => this.tabKey(e, name),
      }, t(`tab.${name}`));
      tabList.append(b);
      this.tabButtons[name] = b;
      this.tabPanels[name] = h('div', { role: 'tabpanel', id: panelId, 'aria-labelledby': tabId, class: 'qp-panel', tabindex: 0 });
    }
    this.buildHistogramPanel();
    this.buildHeatmapPanel();
    this.buildInspectorPanel();
    this.buildSweepPanel();

    // Output
    this.npzButton = h('button', { type: 'button', class: 'qp-button', disabled: true, onclick: () => this.download('npz') }, t('downloadNpz'));
    // ggml formats: the tensor as llama.cpp stores it (the CLI's -o X.gguf).
    this.ggufButton = h('button', { type: 'button', class: 'qp-button', disabled: true, hidden: true, onclick: () => this.download('gguf') }, t('downloadGguf'));
    this.jsonButton = h('button', { type: 'button', class: 'qp-button', disabled: true, onclick: () => this.download('json') }, t('downloadJson'));
    this.safetensorsButton = h('button', { type: 'button', class: 'qp-button', disabled: true, onclick: () => this.download('safetensors') }, t('downloadSafetensors'));
    this.cliLine = h('code', { class: 'qp-cli' });
    const output = h('section', { class: 'qp-card qp-output', 'aria-labelledby': `${this.ids}-oh` },
      h('h3', { id: `${this.ids}-oh` }, t('section.output')),
      h('div', { class: 'qp-output-row' }, this.npzButton, this.safetensorsButton, this.ggufButton, this.jsonButton),
      h('p', { class: 'qp-hint' }, t('cliEquivalent')),
      this.cliLine);

    const panels = h('div', { class: 'qp-card qp-views' }, tabList, ...TABS.map((n) => this.tabPanels[n]));
    this.wholeSlot = h('div', { class: 'qp-wf-slot' });
    const section = h('section', { class: 'qp-results', 'aria-label': t('results') },
      this.wholeSlot, runBar, this.errorBox, summary, panels, output);
    this.selectTab(this.tab, false);
    return section;
  }

  buildHistogramPanel() {
    const t = this.t;
    const p = this.tabPanels.histograms;
    this.groupPicker = h('input', { type: 'number', min: 0, step: 1, value: 0, class: 'qp-narrow-input' });
    this.groupPicker.addEventListener('change', () => {
      const g = Number(this.groupPicker.value);
      if (this.result && Number.isInteger(g) && g >= 0 && g < this.result.scale.length) {
        this.group = g;
        this.showHistograms();
        this.heatmaps?.forEach((m) => m.values && m.select(g));
      }
    });
    this.groupLabel = h('span', { class: 'qp-hint' });
    const onlyId = `${this.ids}-only-group`;
    this.onlyGroupBox = h('input', { type: 'checkbox', id: onlyId, checked: this.onlyGroup !== false });
    this.onlyGroupBox.addEventListener('change', () => {
      this.onlyGroup = this.onlyGroupBox.checked;
      this.showHistograms();
    });
    this.groupRow = h('div', { class: 'qp-row qp-group-row', hidden: true },
      this.field('histGroup', this.groupPicker), this.groupLabel,
      h('span', { class: 'qp-check' }, this.onlyGroupBox, h('label', { for: onlyId }, t('histOnlyGroup'))));
    this.staticNote = h('div', { class: 'qp-callout', hidden: true });
    this.histOriginal = h('div', { class: 'qp-chart', role: 'img' });
    this.histDequant = h('div', { class: 'qp-chart', role: 'img' });
    this.histError = h('div', { class: 'qp-chart', role: 'img' });
    p.append(
      h('p', { class: 'qp-hint' }, t('histHint')),
      this.groupRow,
      this.staticNote,
      h('h4', {}, t('hist.original')), this.histOriginal,
      h('div', { class: 'qp-two' },
        h('div', {}, h('h4', {}, t('hist.dequantized')), this.histDequant),
        h('div', {}, h('h4', {}, t('hist.error')), this.histError)));
  }

  buildHeatmapPanel() {
    const t = this.t;
    const p = this.tabPanels.heatmap;
    const describe = (kind) => (i, v) => {
      const r = this.result;
      if (!r) return '';
      return t('heat.readout', {
        index: i,
        where: this.groupWhere(i),
        what: t(kind),
        value: kind === 'heat.scale' ? F.f32(v) : F.num(v, 4),
        z: F.f32(r.zeroPoint[i]),
      });
    };
    const onSelect = (i) => {
      this.group = i;
      this.groupPicker.value = String(i);
      this.heatmaps.forEach((m) => { if (m.selected !== i && m.values) { m.selected = i; m.cursor = i; m.draw(); } });
    };
    this.heatScale = new Heatmap({ label: t('heat.scale'), onSelect, describe: describe('heat.scale') });
    this.heatError = new Heatmap({ label: t('heat.error'), onSelect, describe: describe('heat.error') });
    this.heatmaps = [this.heatScale, this.heatError];
    this.heatNote = h('p', { class: 'qp-note' });
    const block = (title, m) => h('div', { class: 'qp-heat' },
      h('h4', {}, title), h('div', { class: 'qp-heat-canvas' }, m.canvas),
      h('div', { class: 'qp-heat-legend' }, m.legend, m.legendText), m.readout);
    p.append(h('p', { class: 'qp-hint' }, t('heatHint')), this.heatNote,
      block(t('heat.scale'), this.heatScale), block(t('heat.error'), this.heatError));
  }

  buildInspectorPanel() {
    const t = this.t;
    const p = this.tabPanels.inspector;
    this.indexInput = h('input', { type: 'text', spellcheck: 'false', autocomplete: 'off', class: 'qp-mid-input' });
    this.indexInput.addEventListener('change', () => this.inspectIndexText(this.indexInput.value));
    const nav = (delta) => () => this.inspect(this.sample + delta);
    this.inspectTable = h('table', { class: 'qp-inspect' });
    // Ties and clipping are found through the integer formula; element formats have their own rules.
    this.integerOnlyButtons = [
      h('button', { type: 'button', class: 'qp-button qp-small', onclick: () => this.findElements('ties') }, t('inspect.ties')),
      h('button', { type: 'button', class: 'qp-button qp-small', onclick: () => this.findElements('clipped') }, t('inspect.clipped')),
    ];
    this.inspectNote = h('p', { class: 'qp-note', 'aria-live': 'polite' });
    p.append(
      h('p', { class: 'qp-hint' }, t('inspectHint')),
      h('div', { class: 'qp-row qp-inspect-bar' },
        this.field('inspect.index', this.indexInput, { hint: t('inspect.indexHint') }),
        h('button', { type: 'button', class: 'qp-button qp-small', onclick: nav(-1), 'aria-label': t('inspect.prev') }, '←'),
        h('button', { type: 'button', class: 'qp-button qp-small', onclick: nav(1), 'aria-label': t('inspect.next') }, '→'),
        h('button', { type: 'button', class: 'qp-button qp-small', onclick: () => this.findElements('maxError') }, t('inspect.maxError')),
        ...this.integerOnlyButtons),
      this.inspectNote,
      h('div', { class: 'qp-table-wrap' }, this.inspectTable));
  }

  buildSweepPanel() {
    const t = this.t;
    const p = this.tabPanels.sweep;
    this.sweepBits = h('div', { class: 'qp-chart', role: 'img', 'aria-label': t('sweep.bits') });
    this.sweepBlock = h('div', { class: 'qp-chart', role: 'img', 'aria-label': t('sweep.block') });
    this.sweepBitsTable = h('table', { class: 'qp-sweep-table' });
    this.sweepBlockTable = h('table', { class: 'qp-sweep-table' });
    this.sweepNote = h('p', { class: 'qp-note', 'aria-live': 'polite' });
    p.append(
      h('p', { class: 'qp-hint' }, t('sweepHint')),
      h('div', { class: 'qp-row' },
        h('button', { type: 'button', class: 'qp-button', onclick: () => this.sweep('bits') }, t('sweep.runBits')),
        h('button', { type: 'button', class: 'qp-button', onclick: () => this.sweep('block') }, t('sweep.runBlock'))),
      this.sweepNote,
      h('div', { class: 'qp-two' },
        h('div', {}, h('h4', {}, t('sweep.bits')), this.sweepBits, h('div', { class: 'qp-table-wrap' }, this.sweepBitsTable)),
        h('div', {}, h('h4', {}, t('sweep.block')), this.sweepBlock, h('div', { class: 'qp-table-wrap' }, this.sweepBlockTable))));
  }

  selectTab(name, focus) {
    this.tab = name;
    for (const n of TABS) {
      const selected = n === name;
      this.tabButtons[n].setAttribute('aria-selected', String(selected));
      this.tabButtons[n].tabIndex = selected ? 0 : -1;
      this.tabPanels[n].hidden = !selected;
    }
    if (focus) this.tabButtons[name].focus();
    // Charts measure their container: draw the visible tab's now that it has a width.
    if (this.result) this.showTab();
  }

  tabKey(e, name) {
    const i = TABS.indexOf(name);
    const to = { ArrowRight: (i + 1) % TABS.length, ArrowLeft: (i + TABS.length - 1) % TABS.length, Home: 0, End: TABS.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    this.selectTab(TABS[to], true);
  }

  setupDragAndDrop() {
    const root = this.querySelector('.qp-root');
    let depth = 0;
    root.addEventListener('dragenter', (e) => {
      if (![...(e.dataTransfer?.types ?? [])].includes('Files')) return;
      e.preventDefault();
      depth += 1;
      root.classList.add('qp-dragging');
    });
    root.addEventListener('dragover', (e) => {
      if ([...(e.dataTransfer?.types ?? [])].includes('Files')) e.preventDefault();
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
      this.openFile(file);
    });
  }

  // ---- controls <-> state -------------------------------------------------------------------------

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
    // Picking an element profile picks a dtype it takes (bnb: nf4, mx: mxfp8_e4m3, the CLI's defaults).
    if (field === 'profile' && !S.profileFits(value, this.state.dtype)) {
      if (value === 'bnb') this.state.dtype = 'nf4';
      if (value === 'mx') this.state.dtype = 'mxfp8_e4m3';
    }
    this.syncControls();
    this.writeHash();
    // The whole-file table's scheme column follows the page's settings.
    if (this.whole?.file && !this.whole.running) this.whole.replan().catch(() => {});
    if (['data', 'shape', 'seed', 'spreadChannels'].includes(field)) this.loadData();
    else if (['calibSeed', 'calibSpread', 'params'].includes(field)) this.loadCalibration().then(() => this.scheduleRun(), (err) => this.showError(err));
    else this.scheduleRun();
  }

  syncControls() {
    const s = this.state;
    const eff = S.effective(s);
    const locks = S.locks(s);
    const t = this.t;
    for (const [field, { control, wrap, lock }] of Object.entries(this.controls)) {
      if (!(field in s)) continue;
      const value = eff[field];
      if (control.type === 'checkbox') control.checked = Boolean(value);
      else if (control.tagName === 'SELECT' || control.type === 'number' || control.type === 'text') {
        if (document.activeElement !== control || control.tagName === 'SELECT') control.value = String(value);
      }
      const locked = field in locks;
      control.disabled = locked;
      if (lock) {
        lock.hidden = !locked;
        lock.textContent = !locked ? '' : locks[field][1] === 'profile' ? t('lockedBy', { profile: s.profile }) : t('lockedByElement', { dtype: S.dtypeLabel(s.dtype) });
      }
      wrap?.classList.toggle('qp-locked', locked);
    }
    const kind = S.elementKind(s.dtype);
    const dt = S.parseDtype(s.dtype);
    if (dt) this.lastIntegerDtype = s.dtype;
    this.controls.format.control.value = kind ? s.dtype : 'integer';
    this.controls.dtypeSigned.control.value = (dt ?? { signed: true }).signed ? 'signed' : 'unsigned';
    this.controls.dtypeBits.control.value = String((dt ?? { bits: 8 }).bits);
    this.querySelector('[data-role="integer-dtype"]').hidden = Boolean(kind);
    this.controls.elementBits.wrap.hidden = !(kind === 'pow2' || kind === 'kmeans');
    this.controls.saturate.wrap.hidden = kind !== 'minifloat';
    this.controls.scaleRule.wrap.hidden = kind !== 'mx';
    this.controls.doubleQuant.wrap.hidden = !S.doubleQuantApplies(eff);
    // Element dtypes take no integer profile (bnb and mx pick their own dtype when chosen).
    for (const option of this.controls.profile.control.options) {
      option.disabled = Boolean(kind) && S.INTEGER_PROFILES.includes(option.value);
    }
    this.controls.pack.wrap.hidden = S.codeBits(eff) > 4;
    // Small floats and MX round half-even or half-away; the other choices are disabled there.
    for (const option of this.controls.rounding.control.options) {
      option.disabled = (kind === 'minifloat' || kind === 'mx') && !['half-even', 'half-away'].includes(option.value);
    }
    // A float zero point only exists for asymmetric schemes.
    const zpd = this.controls.zeroPointDomain;
    if (s.mode === 'symmetric') {
      zpd.control.disabled = true;
      zpd.lock.hidden = false;
      zpd.lock.textContent = t('lockedSymmetric');
    }
    // Which sub-sections apply.
    const synthetic = SYNTHETIC.includes(s.data);
    for (const sub of this.querySelectorAll('.qp-sub')) {
      const when = sub.dataset.when;
      let show = true;
      if (when === 'synthetic') show = synthetic;
      else if (when === 'file') show = s.data === 'file';
      else if (when === 'paste') show = s.data === 'paste';
      else if (S.PARAM_SOURCES.includes(when)) show = s.params === when;
      else if (when === 'calib-synthetic') show = s.data !== 'file';
      else if (when === 'calib-file') show = s.data === 'file';
      sub.hidden = !show;
    }
    // The whole-file table belongs to the open file: shown while the file is the source.
    if (this.wholeSlot) this.wholeSlot.hidden = s.data !== 'file';
    this.controls.shape.wrap.hidden = s.data === 'seed';
    this.controls.seed.wrap.hidden = s.data === 'seed';
    this.controls.spreadChannels.wrap.hidden = s.data === 'seed' || (parseShape(s.shape)?.length ?? 1) < 2;
    const g = s.granularity;
    this.controls.axis.wrap.hidden = g === 'tensor';
    this.controls.groupSize.wrap.hidden = g !== 'group';
    this.controls.blockSize.wrap.hidden = g !== 'block';
    this.controls.percentile.wrap.hidden = eff.range !== 'percentile';
    this.controls.roundingSeed.wrap.hidden = eff.rounding !== 'stochastic';
    this.controls.averagingConstant.wrap.hidden = s.observer !== 'moving-average';
    if (this.paramsFile) {
      for (const f of ['scale', 'zeroPoint']) {
        const c = this.controls[f];
        c.control.disabled = true;
        c.lock.hidden = false;
        c.lock.textContent = t('fromParamsFile');
      }
    }
    this.syncAxis();
    this.syncCalibList();
    this.syncAuxLists();
  }

  // The axis picker lists the tensor's dimensions with their sizes.
  syncAxis() {
    const shape = this.data?.shape ?? parseShape(this.state.shape) ?? [];
    const want = shape.map((d, i) => `${i}:${d}`).join(',');
    if (this.axisSelect.dataset.shape !== want) {
      this.axisSelect.dataset.shape = want;
      this.axisSelect.replaceChildren(...shape.map((d, i) => h('option', { value: String(i) }, this.t('axisOption', { axis: i, size: d }))));
    }
    if (shape.length && this.state.axis >= shape.length) this.state.axis = shape.length - 1;
    if (shape.length) this.axisSelect.value = String(this.state.axis < 0 ? this.state.axis + shape.length : this.state.axis);
  }

  syncCalibList() {
    const t = this.t;
    const names = this.file?.tensors.map((x) => x.name) ?? [];
    const want = names.join('\u0000');
    if (this.calibList.dataset.names !== want) {
      this.calibList.dataset.names = want;
      this.calibList.replaceChildren(...(this.file?.tensors ?? []).map((x, k) => {
        const id = `${this.ids}-calib-${k}`;
        const box = h('input', { type: 'checkbox', id, value: x.name });
        box.addEventListener('change', () => {
          const set = new Set(this.state.calibrate);
          if (box.checked) set.add(x.name); else set.delete(x.name);
          this.set('calibrate', names.filter((n) => set.has(n)));
        });
        return h('div', { class: 'qp-check' }, box, h('label', { for: id }, `${x.name} `, h('span', { class: 'qp-hint' }, `${x.dtype} ${shapeText(x.shape)}`)));
      }));
      if (!names.length) this.calibList.append(h('p', { class: 'qp-hint' }, t('calibNoFile')));
    }
    for (const box of this.calibList.querySelectorAll('input')) box.checked = this.state.calibrate.includes(box.value);
  }

  syncAuxLists() {
    const t = this.t;
    const item = (name, remove) => h('li', {},
      h('span', { class: 'qp-file-name' }, name), ' ',
      h('button', { type: 'button', class: 'qp-button qp-small', onclick: remove, 'aria-label': t('removeFile', { name }) }, t('remove')));
    this.paramsFileList.replaceChildren(...(this.paramsFile ? [item(this.paramsFile, () => this.removeAux('params', this.paramsFile))] : []));
    this.calibFileList.replaceChildren(...this.calibFiles.map((name) => item(name, () => this.removeAux('calib', name))));
  }

  async addAuxFiles(input, kind) {
    const files = [...(input.files ?? [])];
    input.value = '';
    try {
      for (const file of files) {
        await this.engine.addAux(file.name, await file.arrayBuffer());
        if (kind === 'params') this.paramsFile = file.name;
        else if (!this.calibFiles.includes(file.name)) this.calibFiles = [...this.calibFiles, file.name];
      }
    } catch (err) {
      this.showError(err);
    }
    this.syncControls();
    this.scheduleRun(0);
  }

  removeAux(kind, name) {
    if (kind === 'params') this.paramsFile = null;
    else this.calibFiles = this.calibFiles.filter((n) => n !== name);
    this.syncControls();
    this.scheduleRun(0);
  }

  renderTensorList() {
    const t = this.t;
    if (!this.file) {
      this.tensorList.replaceChildren(h('p', { class: 'qp-hint' }, t('noFile')));
      return;
    }
    const rows = this.file.tensors.map((x, k) => {
      const id = `${this.ids}-tensor-${k}`;
      const radio = h('input', { type: 'radio', name: `${this.ids}-tensor`, id, value: x.name, checked: x.name === this.state.tensor });
      radio.addEventListener('change', () => {
        if (!radio.checked) return;
        this.state = { ...this.state, tensor: x.name };
        this.writeHash();
        this.loadData();
      });
      return h('tr', {},
        h('td', {}, radio),
        h('td', {}, h('label', { for: id }, x.label ?? x.name)),
        h('td', {}, x.dtype),
        h('td', {}, shapeText(x.shape)));
    });
    this.tensorList.replaceChildren(
      h('p', { class: 'qp-file-name' }, this.file.name),
      h('table', { class: 'qp-tensor-table' },
        h('thead', {}, h('tr', {}, h('th', {}, h('span', { class: 'qp-visually-hidden' }, t('pick'))), h('th', {}, t('tensor.name')), h('th', {}, t('tensor.dtype')), h('th', {}, t('tensor.shape')))),
        h('tbody', {}, rows)));
  }

  writeHash() {
    if (!this.hasAttribute('sync-url')) return;
    const q = new URLSearchParams(S.toQuery(this.state, this.base));
    if (this.state.data === 'paste' && this.paste.length <= MAX_URL_VALUES) q.set('values', this.paste);
    const hash = q.toString();
    history.replaceState(null, '', hash ? `#${hash}` : location.pathname + location.search);
  }

  shareUrl() {
    const q = new URLSearchParams(S.toQuery(this.state, S.DEFAULTS));
    if (this.state.data === 'paste' && this.paste.length <= MAX_URL_VALUES) q.set('values', this.paste);
    const url = new URL(location.href);
    url.hash = q.toString();
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

  setLanguage(lang) {
    storage('qplay.lang', lang);
    this.setAttribute('lang', lang);
  }

  cycleTheme() {
    const current = this.getAttribute('theme') ?? 'auto';
    const next = THEMES[(THEMES.indexOf(current) + 1) % THEMES.length];
    if (next === 'auto') this.removeAttribute('theme');
    else this.setAttribute('theme', next);
    storage('qplay.theme', next === 'auto' ? null : next);
  }

  syncThemeButton() {
    if (!this.themeButton) return;
    const current = this.getAttribute('theme') ?? 'auto';
    this.themeButton.textContent = `${this.t('theme')}: ${this.t(`theme.${current}`)}`;
    this.themeButton.setAttribute('aria-label', this.t('themeLabel', { theme: this.t(`theme.${current}`) }));
  }

  // ---- data ---------------------------------------------------------------------------------------

  // The line under the data controls, kept as a string key so a language switch re-renders it.
  setDataNote(key, vars) {
    this.note = key ? { key, vars } : null;
    if (this.dataNote) this.dataNote.textContent = key ? this.t(key, vars) : '';
  }

  async loadInitialData() {
    const src = this.getAttribute('src');
    if (src && (this.state.data === 'file' || !this.hasAttribute('sync-url') || !location.hash)) {
      try {
        const response = await fetch(new URL(src, document.baseURI));
        if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
        const bytes = await response.arrayBuffer();
        const name = decodeURIComponent(new URL(src, document.baseURI).pathname.split('/').pop() || 'tensor.npy');
        await this.openBytes(name, bytes, this.state.tensor);
        return;
      } catch (err) {
        this.showError(new Error(this.t('srcFailed', { src, message: err.message })));
      }
    }
    if (this.state.data === 'file') {
      // A link can name a file but not carry it: start from synthetic data and say so.
      this.state.data = this.base.data === 'file' ? 'normal' : this.base.data;
      this.setDataNote('fileNotInLink');
      this.syncControls();
    }
    await this.loadData();
  }

  // A dropped or chosen file. Files that fit are opened whole in the single-tensor worker; a file
  // of several tensors (or any file, on request) also gets the whole-file view, which reads it one
  // tensor at a time and so takes files of any size.
  async openFile(file) {
    this.fileObject = file;
    this.whole?.clear();
    this.rawForm.hidden = true;
    this.rawButton.hidden = true;
    this.wholeButton.hidden = true;
    try {
      if (file.size > OPEN_WHOLE_LIMIT) {
        this.setStatus(this.t('opening', { name: file.name }));
        this.showError(null);
        await this.showWholeFile(file);
        this.setDataNote('wf.tooLarge', { name: file.name, size: F.bytes(file.size) });
        const first = this.whole.rows.find((r) => r.action === 'default') ?? this.whole.rows[0];
        if (first) await this.openTensor(first, { scroll: false });
        return;
      }
      const bytes = await file.arrayBuffer();
      try {
        await this.openBytes(file.name, bytes, '');
      } catch (err) {
        // Bytes no reader recognizes may be raw binary: offer the form that says what they are.
        if (/unknown file format/.test(err.message)) {
          this.rawFile = { name: file.name, bytes };
          this.rawForm.hidden = false;
          this.state = { ...this.state, data: 'file' };
          this.syncControls();
        }
        throw err;
      }
      this.rawButton.hidden = false;
      this.rawFile = { name: file.name, bytes };
      if (this.file.tensors.length > 1) await this.showWholeFile(file);
      else this.wholeButton.hidden = false;
    } catch (err) {
      if (!(err instanceof CancelledError)) this.showError(err);
    }
  }

  // The whole-file view of `file`, below the file's tensor list.
  async showWholeFile(file) {
    if (!file) return;
    const host = this;
    this.whole ??= new WholeFile({
      get t() { return host.t; },
      get ids() { return host.ids; },
      simd: this.getAttribute('simd') === 'off' ? 'off' : 'auto',
      // Whole-file runs use dynamic params (each tensor its own); a row may name its own dtype.
      options: (dtype) => S.apiOptions({ ...this.state, params: 'dynamic', ...(dtype ? { dtype } : {}) }),
      openTensor: (row) => this.openTensor(row).catch((err) => this.showError(err)),
    });
    await this.whole.describe(file);
    this.wholeButton.hidden = true;
    this.wholeSlot.replaceChildren(this.whole.render());
  }

  // A row of the whole-file table in the single-tensor view: a tensor of the file opened whole, or
  // (large files) that tensor's bytes alone.
  async openTensor(row, { scroll = true } = {}) {
    if (this.file && this.file.name === this.fileObject?.name && this.file.tensors.some((x) => x.name === row.name) && !this.file.stored) {
      this.state = { ...this.state, data: 'file', tensor: row.name };
      this.renderTensorList();
      this.syncControls();
      this.writeHash();
      await this.loadData();
    } else {
      const file = this.fileObject;
      const bytes = await file.slice(row.dataOffset, row.dataOffset + row.dataBytes).arrayBuffer();
      const reply = await this.engine.openStored(file.name, row, bytes);
      // The bytes are read as raw binary (one tensor, "array"); the list shows the tensor's name.
      this.file = { name: file.name, tensors: reply.tensors.map((x) => ({ ...x, label: row.name })), stored: true };
      this.state = { ...this.state, data: 'file', tensor: row.name, calibrate: [] };
      this.renderTensorList();
      this.syncControls();
      this.writeHash();
      await this.loadData();
    }
    if (scroll) this.querySelector('.qp-runbar')?.scrollIntoView({ block: 'nearest' });
  }

  renderRawForm() {
    const t = this.t;
    const id = (k) => `${this.ids}-raw-${k}`;
    const dtype = h('select', { id: id('dtype') }, ['float32', 'float16', 'bfloat16', 'float64', 'int8', 'int16', 'int32', 'int64',
      'uint8', 'uint16', 'uint32', 'uint64', 'bool'].map((d) => h('option', { value: d }, d)));
    const shape = h('input', { id: id('shape'), type: 'text', spellcheck: 'false', autocomplete: 'off', placeholder: '4x6', 'aria-describedby': id('shape-hint') });
    const offset = h('input', { id: id('offset'), type: 'number', min: 0, step: 1, value: 0, inputmode: 'numeric' });
    const endian = h('select', { id: id('endian') }, ['little', 'big'].map((e) => h('option', { value: e }, t(`raw.endian.${e}`))));
    const field = (k, control, hint) => h('div', { class: 'qp-field' }, h('label', { for: id(k) }, t(`raw.${k}`)), control,
      hint ? h('span', { class: 'qp-hint', id: id(`${k}-hint`) }, hint) : null);
    const submit = h('button', { type: 'button', class: 'qp-button', onclick: () => {
      const raw = { dtype: dtype.value, shape: shape.value.trim(), offset: Number(offset.value || 0), endian: endian.value };
      this.openRaw(raw).catch((err) => this.showError(err));
    } }, t('raw.open'));
    const form = h('fieldset', { class: 'qp-raw', hidden: true },
      h('legend', {}, t('raw.title')),
      h('p', { class: 'qp-hint' }, t('raw.hint')),
      h('div', { class: 'qp-row' }, field('dtype', dtype), field('shape', shape, t('raw.shapeHint'))),
      h('div', { class: 'qp-row' }, field('offset', offset), field('endian', endian)),
      submit);
    // A language switch re-renders the form: keep what was typed.
    if (this.rawSpec) {
      dtype.value = this.rawSpec.dtype;
      shape.value = this.rawSpec.shape;
      offset.value = String(this.rawSpec.offset);
      endian.value = this.rawSpec.endian;
      form.hidden = !this.rawFile;
    }
    return form;
  }

  // The last file as raw binary with the form's dtype, shape, offset and byte order (the CLI's
  // --raw-dtype, --raw-shape, --raw-offset, --raw-endian); the core checks them against the size.
  async openRaw(raw) {
    if (!this.rawFile) return;
    this.rawSpec = raw;
    this.whole?.clear();
    await this.openBytes(this.rawFile.name, this.rawFile.bytes, '', raw);
    this.rawForm.hidden = false;
  }

  async openBytes(name, bytes, wanted, raw = null) {
    this.setStatus(this.t('opening', { name }));
    this.showError(null);
    const reply = await this.engine.open(name, bytes, raw);
    const tensors = reply.tensors;
    if (!tensors.length) throw new Error(this.t('noTensors', { name }));
    this.file = { name, tensors, raw };
    const pick = tensors.find((x) => x.name === wanted) ?? tensors.find((x) => /^f/.test(x.dtype)) ?? tensors[0];
    this.state = { ...this.state, data: 'file', tensor: pick.name, calibrate: this.state.calibrate.filter((n) => tensors.some((x) => x.name === n)) };
    this.setDataNote(null);
    this.renderTensorList();
    this.syncControls();
    this.writeHash();
    await this.loadData();
  }

  // Prepares this.data for the current data source and sends synthetic / pasted values to the
  // worker; then runs.
  async loadData() {
    const s = this.state;
    const t = this.t;
    this.showError(null);
    try {
      if (s.data === 'file') {
        if (!this.file) {
          this.renderTensorList();
          this.data = null;
          this.showResult();
          return;
        }
        const info = this.file.tensors.find((x) => x.name === s.tensor) ?? this.file.tensors[0];
        const reply = await this.engine.request('values', { tensor: info.name });
        this.data = { values: reply.values, shape: info.shape, fileName: this.file.name, tensor: info.name, dtype: info.dtype };
        this.setDataNote(null);
      } else if (s.data === 'paste') {
        const parsed = parseNumbers(this.paste);
        if (parsed.error !== undefined) throw new Error(t('pasteBad', { token: parsed.error }));
        if (parsed.values.length === 0) {
          this.data = null;
          this.setDataNote('pasteEmpty');
          this.showResult();
          return;
        }
        let shape = [parsed.values.length];
        const shapeTextValue = (this.pasteShapeText ?? '').trim();
        if (shapeTextValue) {
          shape = parseShape(shapeTextValue);
          if (!shape || shape.reduce((a, b) => a * b, 1) !== parsed.values.length) {
            throw new Error(t('pasteShapeBad', { shape: shapeTextValue, n: parsed.values.length }));
          }
        }
        this.data = { values: parsed.values, shape, fileName: 'pasted.npy', tensor: 'array', dtype: 'float32' };
        this.setDataNote('pasteCount', { n: parsed.values.length, shape: shapeText(shape) });
      } else {
        const shape = s.data === 'seed' ? [Math.max(5, parseShape(s.shape)?.[0] ?? 5)] : parseShape(s.shape);
        if (!shape) throw new Error(t('shapeBad', { shape: s.shape }));
        this.setStatus(t('generating'));
        const values = await this.engine.synthesize('main', { distribution: s.data, shape, seed: s.seed, channelSpread: s.spreadChannels });
        const name = s.data === 'seed' ? 'seed_example.npy' : `${s.data}_${shape.join('x')}_seed${s.seed}.npy`;
        this.data = { values, shape, fileName: name, tensor: 'array', dtype: 'float32' };
        if (s.data === 'seed') this.setDataNote('seedData', { values: SEED_VALUES.join(', ') });
        else this.setDataNote('synthCount', { n: F.integer(values.length), shape: shapeText(shape) });
      }
      if (this.data && s.data === 'paste') await this.engine.setDataset('main', this.data.values, this.data.shape);
      await this.loadCalibration();
      if (this.sample >= (this.data?.values.length ?? 0)) this.sample = 0;
      this.group = 0;

      this.sweeps = {};
      this.syncAxis();
      this.scheduleRun(0);
    } catch (err) {
      if (!(err instanceof CancelledError)) this.showError(err);
    }
  }

  // Calibration data for synthetic and pasted sources: the same generator with its own seed,
  // scaled by calibSpread (a pasted tensor is scaled as it is).
  async loadCalibration() {
    const s = this.state;
    if (!this.data || s.data === 'file' || s.params !== 'calibrated') return;
    if (s.data === 'paste') {
      await this.engine.setDataset('calib', this.data.values.map((v) => v * s.calibSpread), this.data.shape);
    } else {
      await this.engine.synthesize('calib', {
        distribution: s.data, shape: this.data.shape, seed: s.calibSeed, channelSpread: s.spreadChannels, spread: s.calibSpread,
      }, { want: false });
    }
  }

  // ---- running ----------------------------------------------------------------------------------

  scheduleRun(delay = 120) {
    if (!this.live && delay !== 0) return;
    clearTimeout(this.runTimer);
    this.runPending = true;
    this.runTimer = setTimeout(() => this.run(), delay);
  }

  request() {
    const s = this.state;
    const d = this.data;
    const source = s.data === 'file' ? { tensor: d.tensor } : { dataset: 'main' };
    const options = S.apiOptions(s, { fileName: d.fileName, tensor: s.data === 'file' ? d.tensor : undefined });
    let calibration = null;
    let paramsFile;
    if (s.params === 'given' && this.paramsFile) {
      delete options.scale;
      delete options.zeroPoint;
      paramsFile = this.paramsFile;
    }
    if (s.params === 'calibrated') {
      const sources = this.calibrationSources();
      calibration = { sources, observer: S.observerFlag(s), files: sources.map((x) => x.tensor ?? x.aux ?? 'calibration.npy') };
    }
    return { source, options, calibration, paramsFile };
  }

  // Checked tensors of the open file and added calibration files; for generated or pasted data
  // without files, the generated calibration set.
  calibrationSources() {
    const aux = this.calibFiles.map((name) => ({ aux: name }));
    if (this.state.data === 'file') return [...this.state.calibrate.map((name) => ({ tensor: name })), ...aux];
    return aux.length ? aux : [{ dataset: 'calib' }];
  }

  async run() {
    clearTimeout(this.runTimer);
    this.runPending = false;
    if (!this.data) return;
    const s = this.state;
    if (s.params === 'calibrated' && this.calibrationSources().length === 0) {
      this.showError(new Error(this.t('calibNone')));
      return;
    }
    const token = ++this.runToken;
    const started = performance.now();
    this.showError(null);
    this.setStatus(this.t('running'));
    try {
      const reply = await this.engine.request('quantize', this.request());
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

  showBusy() {
    if (!this.progress) return;
    const busy = this.engine?.busy ?? false;
    clearTimeout(this.busyTimer);
    if (busy) {
      // Short runs finish before the indicator would flash; long ones show it and the cancel button.
      this.busyTimer = setTimeout(() => {
        this.progress.hidden = false;
        this.cancelButton.disabled = false;
        this.classList.add('qp-busy');
      }, 150);
    } else {
      this.progress.hidden = true;
      this.progress.removeAttribute('value');
      this.cancelButton.disabled = true;
      this.classList.remove('qp-busy');
    }
  }

  setStatus(text) {
    if (this.status) this.status.textContent = text;
  }

  showError(err) {
    if (!this.errorBox) return;
    if (!err) {
      this.errorBox.hidden = true;
      this.errorBox.textContent = '';
      return;
    }
    this.errorBox.hidden = false;
    this.errorBox.textContent = err.message ?? String(err);
    this.errorCount = (this.errorCount ?? 0) + 1;
    this.dataset.errors = String(this.errorCount);
  }

  showBuildInfo(info) {
    if (!this.buildInfo || !info) return;
    this.buildInfo.textContent = this.t('buildInfo', { version: info.version, kernels: info.kernels });
  }

  // ---- results ----------------------------------------------------------------------------------

  showResult() {
    const r = this.result;
    const has = Boolean(r && this.data && this.resultData === this.data);
    this.npzButton.disabled = !has;
    this.safetensorsButton.disabled = !has;
    this.ggufButton.hidden = !r?.gguf;
    this.ggufButton.disabled = !has || !r?.gguf;
    this.jsonButton.disabled = !has;
    this.pinButton.disabled = !has && !this.pinned;
    this.pinButton.textContent = this.pinned ? this.t('unpin') : this.t('pin');
    this.pinButton.setAttribute('aria-pressed', String(Boolean(this.pinned)));
    this.cliLine.textContent = S.cliCommand(this.state, {
      input: this.data?.fileName ?? 'INPUT.npy',
      tensor: this.state.data !== 'file' ? undefined : this.file?.stored ? this.file.tensors[0].label : this.file?.tensors.length > 1 ? this.data?.tensor : undefined,
      calibrationFiles: this.state.params === 'calibrated' ? this.calibrationSources().map((x) => x.tensor ?? x.aux ?? 'calibration.npy') : [],
      paramsFile: this.paramsFile,
      raw: this.state.data === 'file' ? this.file?.raw : null,
    });
    this.showMetrics();
    this.showFormulas();
    this.showTab();
  }

  showTab() {
    if (!this.result) return;
    if (this.tab === 'histograms') this.showHistograms();
    else if (this.tab === 'heatmap') this.showHeatmaps();
    else if (this.tab === 'inspector') this.showInspector();
    else if (this.tab === 'sweep') this.showSweeps();
  }

  showMetrics() {
    const t = this.t;
    const r = this.result;
    const pin = this.pinned;
    const fmt = (kind, v) => {
      if (v === undefined || v === null) return '–';
      switch (kind) {
        case 'db': return `${F.num(v, 5)} dB`;
        case 'pct': return F.percent(v);
        case 'bits': return F.num(v, 5);
        case 'bytes': return F.bytes(v);
        case 'cos': return F.num(v, 8);
        default: return F.num(v, 5);
      }
    };
    const head = h('tr', {}, h('th', { scope: 'col' }, t('metric')), h('th', { scope: 'col' }, t('current')),
      pin ? h('th', { scope: 'col' }, t('pinned')) : null);
    // Byte counts carry their exact value as a tooltip when shown in KiB / MiB.
    const cell = (kind, m, key) => h('td', { title: kind === 'bytes' && m ? `${F.integer(m[key])} B` : undefined }, m ? fmt(kind, m[key]) : '–');
    const rows = METRICS.map(([key, kind]) => h('tr', { dataset: { metric: key } },
      h('th', { scope: 'row' }, t(`metric.${key}`)),
      cell(kind, r?.metrics, key),
      pin ? cell(kind, pin.metrics, key) : null));
    const caption = h('caption', { class: 'qp-hint' }, r ? this.describe(this.resultState) : t('noResult'));
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
    this.metricsTable.replaceChildren(caption, h('thead', {}, head), h('tbody', {}, rows, extra, pinRow));
  }

  describe(s) {
    const t = this.t;
    const e = S.effective(s);
    const parts = S.elementKind(e.dtype) === 'ggml' ? [S.dtypeLabel(e.dtype)]
      : S.elementKind(e.dtype) ? [e.dtype, t(`granularity.${e.granularity}`)] : [e.dtype, t(`mode.${e.mode}`), t(`granularity.${e.granularity}`)];
    if (e.granularity === 'group') parts.push(`G=${e.groupSize}`);
    if (e.granularity === 'block') parts.push(`B=${e.blockSize}`);
    parts.push(e.params === 'dynamic' ? S.rangeFlag(e) : t(`params.${e.params}`));
    if (e.profile !== 'custom') parts.push(e.profile);
    if (e.doubleQuant) parts.push(t('doubleQuant'));
    return parts.join(' · ');
  }

  // The group an element or a param belongs to, written as an index into the param shape.
  groupWhere(i) {
    const r = this.result;
    if (!r || r.paramShape.length === 0) return '';
    return `[${unravel(r.paramShape, i).join(', ')}]`;
  }

  sampleBreakdown(flat) {
    const r = this.result;
    const d = this.resultData;
    if (!r || !d || flat < 0 || flat >= d.values.length) return null;
    const s = this.resultState;
    const e = S.effective(s);
    const plan = planOf(d.shape, e.granularity, e.axis, e.groupSize, e.blockSize);
    const g = paramIndex(plan, flat);
    return {
      index: flat,
      group: g,
      ...breakdown({
        x: d.values[flat],
        s: r.scale[g],
        z: r.zeroPoint[g],
        q: r.codes[flat],
        xhat: r.dequantized[flat],
        division: S.divisionOf(e.profile),
        floatZeroPoint: r.floatZeroPoint,
        // Element codes are table indices or bit patterns: no integer rounding to reproduce.
        rounding: S.elementKind(e.dtype) ? 'none' : e.rounding,
      }),
    };
  }

  showFormulas() {
    const t = this.t;
    const r = this.result;
    this.seedNote.hidden = true;
    if (!r) {
      this.formulaBox.replaceChildren(h('p', { class: 'qp-hint' }, t('noResult')));
      this.formulaNote.textContent = '';
      return;
    }
    const s = this.resultState;
    const e = S.effective(s);
    const b = this.sampleBreakdown(this.sample);
    const g = b ? b.group : this.group;
    const kind = S.elementKind(e.dtype);
    if (kind) {
      const [lo, hi] = r.groupMin && r.groupMax ? [r.groupMin[g], r.groupMax[g]] : this.groupRange(g);
      renderElementFormulas(this.formulaBox, {
        kind, dtype: S.dtypeLabel(e.dtype), s: r.scale[g], amax: Math.max(Math.abs(lo), Math.abs(hi)), max: S.MINIFLOAT_MAX[e.dtype],
        bits: e.elementBits, sample: b ? { x: b.x, t: b.t, q: b.q, xhat: b.xhat } : null,
        offset: r.offset ? r.offset[g] : undefined, codebook: r.codebook,
      });
      const notes = [t(kind === 'ggml' ? 'formula.ggml' : 'formula.element', { dtype: S.dtypeLabel(e.dtype) })];
      if (b) notes.unshift(t('formula.sample', { index: this.indexText(b.index), x: F.f32(b.x), group: this.groupWhere(b.group) || '0' }));
      this.formulaNote.replaceChildren(...notes.map((n) => h('p', { class: 'qp-hint' }, n)));
      return;
    }
    // The numbers of (1) and (2) need the range the params were computed from. For dynamic minmax
    // params that is the group's min and max (the core's group stats when the API reports them);
    // other range methods and calibrated params pick a range the formula then shows symbolically.
    let lo = NaN;
    let hi = NaN;
    if (e.params === 'dynamic' && e.range === 'minmax') {
      if (r.groupMin && r.groupMax) [lo, hi] = [r.groupMin[g], r.groupMax[g]];
      else [lo, hi] = this.groupRange(g);
    }
    renderFormulas(this.formulaBox, {
      profile: e.profile,
      mode: e.mode,
      floatZeroPoint: r.floatZeroPoint,
      division: S.divisionOf(e.profile),
      source: e.params,
      qmin: r.qmin,
      qmax: r.qmax,
      s: r.scale[g],
      z: r.zeroPoint[g],
      lo, hi,
      sample: b ? { x: b.x, t: b.t, q: b.q, xhat: b.xhat } : null,
    });
    const notes = [];
    if (b) notes.push(t('formula.sample', { index: this.indexText(b.index), x: F.f32(b.x), group: this.groupWhere(b.group) || '0' }));
    if (e.params === 'calibrated') notes.push(t('formula.calibrated', { observer: S.observerFlag(e) }));
    else if (e.params === 'dynamic' && e.range !== 'minmax') notes.push(t('formula.rangeMethod', { range: S.rangeFlag(e) }));
    if (e.profile === 'pytorch') notes.push(t('formula.pytorch'));
    if (b?.tie) notes.push(t('formula.tie', { rounding: e.rounding }));
    this.formulaNote.replaceChildren(...notes.map((n) => h('p', { class: 'qp-hint' }, n)));
    this.showSeedNote(b, e);
  }

  // The seed blog's q = 33 versus the exact q = 32 (shared/reference/semantics.md C1).
  showSeedNote(b, e) {
    const t = this.t;
    const isSeedSample = b && Math.fround(b.x) === Math.fround(-3.57) && (e.dtype === 'uint8');
    if (!isSeedSample || !(e.profile === 'seed' || e.params === 'given')) return;
    const exactS = Math.fround(Math.fround(9.42) / 255);
    const blog = e.params === 'given' && Math.fround(e.scale) === Math.fround(0.037);
    const body = [];
    if (blog) {
      body.push(h('p', {}, t('seed.blogActive', { q: b.q, xhat: F.f32(b.xhat) })));
      body.push(h('button', { type: 'button', class: 'qp-button qp-small', onclick: () => this.useExactParams() }, t('seed.useExact')));
    } else if (e.profile === 'seed' && e.params === 'dynamic') {
      body.push(h('p', {}, t('seed.exact', {
        s: F.f32(exactS),
        t: F.num(Math.fround(Math.fround(-3.57) / exactS), 6),
        q: b.q,
        blogT: F.num(-3.57 / 0.037, 5),
      })));
      body.push(h('button', { type: 'button', class: 'qp-button qp-small', onclick: () => this.useBlogParams() }, t('seed.useBlog')));
    } else {
      return;
    }
    this.seedNote.replaceChildren(h('h4', {}, t('seed.title')), ...body);
    this.seedNote.hidden = false;
  }

  useBlogParams() {
    this.state = { ...this.state, params: 'given', scale: 0.037, zeroPoint: 129 };
    this.syncControls();
    this.writeHash();
    this.scheduleRun(0);
  }

  useExactParams() {
    this.state = { ...this.state, params: 'dynamic' };
    this.syncControls();
    this.writeHash();
    this.scheduleRun(0);
  }

  // min / max of the finite values of one param group (for the formula panel's numbers).
  groupRange(g) {
    const d = this.resultData;
    const e = S.effective(this.resultState);
    const plan = planOf(d.shape, e.granularity, e.axis, e.groupSize, e.blockSize);
    let lo = Infinity;
    let hi = -Infinity;
    const v = d.values;
    forEachInGroup(plan, g, (i) => {
      const x = v[i];
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    });
    return lo <= hi ? [lo, hi] : [NaN, NaN];
  }

  indexText(flat) {
    const shape = this.resultData?.shape ?? [];
    return shape.length > 1 ? `${flat} [${unravel(shape, flat).join(', ')}]` : String(flat);
  }

  // ---- histograms ---------------------------------------------------------------------------------

  destroyCharts() {
    for (const p of this.plots) p.destroy();
    this.plots = [];
    for (const c of this.cleanups) c();
    this.cleanups = [];
  }

  redrawCharts() {
    if (!this.result) return;
    this.showTab();
  }

  chart(container, make) {
    const old = this.plots.filter((p) => p.root.parentElement === container);
    for (const p of old) p.destroy();
    this.plots = this.plots.filter((p) => !old.includes(p));
    container.replaceChildren();
    const plot = make();
    this.plots.push(plot);
    this.cleanups.push(fitWidth(plot, container));
    return plot;
  }

  gridOf(g) {
    const r = this.result;
    const e = S.effective(this.resultState);
    const kind = S.elementKind(e.dtype);
    if (kind) return this.elementGrid(g, kind, e);
    const s = r.scale[g];
    const z = r.zeroPoint[g];
    const count = r.qmax - r.qmin + 1;
    // Up to 65536 levels (16 bits): all are kept, the chart thins them when drawing.
    const levels = new Float64Array(count);
    for (let k = 0; k < count; k++) levels[k] = Math.fround(Math.fround(r.qmin + k - z) * s);
    return { levels, lo: levels[0], hi: levels[count - 1], step: s, clip: true };
  }

  // The levels of an element format in group g: its table times the group's scale when the format
  // has one (lookup tables, pow2, k-means), else the dequantized values the group actually uses
  // (small floats, MX), which are the grid points in play without re-deriving the format here.
  elementGrid(g, kind, e) {
    const r = this.result;
    const s = r.scale[g];
    let levels;
    if (kind === 'ggml' && !r.codebook) {
      // A ggml sub-block's grid: scale · code (+ offset) over the format's code range, computed as
      // the bundle's identity says (float32 product, then float32 sum).
      const off = r.offset ? r.offset[g] : 0;
      levels = new Float64Array(r.qmax - r.qmin + 1);
      for (let k = 0; k < levels.length; k++) {
        const p = Math.fround(s * (r.qmin + k));
        levels[k] = r.offset ? Math.fround(p + off) : p;
      }
      levels.sort();
    } else if (r.codebook) {
      const rows = r.codebookShape?.length === 2 ? r.codebookShape[0] : 1;
      const k = r.codebook.length / rows;
      const row = rows > 1 ? r.codebook.subarray(g * k, (g + 1) * k) : r.codebook;
      levels = Float64Array.from(row, (v) => Math.fround(v * s)).sort();
    } else {
      const d = this.resultData;
      const plan = planOf(d.shape, e.granularity, e.axis, e.groupSize, e.blockSize);
      const used = new Set();
      forEachInGroup(plan, g, (i) => {
        const v = r.dequantized[i];
        if (Number.isFinite(v)) used.add(v);
      });
      levels = Float64Array.from(used).sort();
    }
    const finite = levels.filter(Number.isFinite);
    let lo = finite.length ? finite[0] : 0;
    let hi = finite.length ? finite[finite.length - 1] : 0;
    // Small floats saturate at ±max·s: beyond that the values clip.
    const clip = kind === 'minifloat' && e.saturate;
    if (kind === 'minifloat') {
      hi = Math.fround(S.MINIFLOAT_MAX[e.dtype] * s);
      lo = -hi;
    }
    return { levels: finite, lo, hi, step: 0, clip };
  }

  showHistograms() {
    const t = this.t;
    const r = this.result;
    const colors = chartColors(this);
    const multi = r.scale.length > 1;
    this.groupRow.hidden = !multi;
    if (multi) {
      this.groupPicker.max = String(r.scale.length - 1);
      this.groupPicker.value = String(this.group);
      this.groupLabel.textContent = t('histGroupInfo', {
        where: this.groupWhere(this.group), count: r.scale.length, s: F.f32(r.scale[this.group]), z: F.f32(r.zeroPoint[this.group]),
      });
    }
    const grid = this.gridOf(this.group);
    const b = this.sampleBreakdown(this.sample);
    const pin = this.pinned;
    // With several param groups the grid belongs to one group: by default the chart shows that
    // group's values (binned here for display, over the group's range and its grid).
    const groupOnly = multi && this.onlyGroup !== false;
    const original = groupOnly ? this.groupHistogram(this.group, grid) : r.histograms.original;
    this.shownOriginal = original;
    this.shownGroup = groupOnly ? this.group : undefined;
    const pinSame = pin && pin.dataKey === this.dataKey();
    const xLabel = t('axis.value');
    const yLabel = t('axis.count');
    this.chart(this.histOriginal, () => histogramChart(this.histOriginal, {
      series: [
        { label: groupOnly ? t('hist.groupValues', { where: this.groupWhere(this.group) }) : t('hist.original'), hist: original, color: colors.original },
        ...(pin && !pinSame && !groupOnly ? [{ label: t('pinnedSeries', { what: t('hist.original') }), hist: pin.histograms.original, color: colors.pinned, dash: [5, 4], fill: false }] : []),
      ],
      grid, marker: b ? b.x : null, colors, xLabel, yLabel, height: this.hasAttribute('compact') ? 180 : 220,
      onBin: (x) => this.pickBin(x),
    }));
    this.histOriginal.setAttribute('aria-label', t('hist.originalLabel', { n: F.integer(r.metrics.elements), lo: F.f32(grid.lo), hi: F.f32(grid.hi) }));
    this.chart(this.histDequant, () => histogramChart(this.histDequant, {
      series: [
        { label: t('hist.dequantized'), hist: r.histograms.dequantized, color: colors.dequantized },
        ...(pin ? [{ label: t('pinnedSeries', { what: t('hist.dequantized') }), hist: pin.histograms.dequantized, color: colors.pinned, dash: [5, 4], fill: false }] : []),
      ],
      // With several param groups the whole tensor's dequantized values mix every group's grid.
      grid: multi ? null : grid, colors, xLabel, yLabel, height: 180,
    }));
    this.histDequant.setAttribute('aria-label', t('hist.dequantized'));
    this.chart(this.histError, () => histogramChart(this.histError, {
      series: [
        { label: t('hist.error'), hist: r.histograms.error, color: colors.error },
        ...(pin ? [{ label: t('pinnedSeries', { what: t('hist.error') }), hist: pin.histograms.error, color: colors.pinned, dash: [5, 4], fill: false }] : []),
      ],
      colors, xLabel: t('axis.error'), yLabel, height: 180,
    }));
    this.histError.setAttribute('aria-label', t('hist.error'));
    this.showStaticNote();
  }

  // The values of one param group, binned like the core's histograms (bin = floor((v - lo) * bins /
  // (hi - lo)), clamped) over the group's range widened to its grid's representable range.
  groupHistogram(g, grid) {
    const d = this.resultData;
    const e = S.effective(this.resultState);
    const plan = planOf(d.shape, e.granularity, e.axis, e.groupSize, e.blockSize);
    const members = [];
    forEachInGroup(plan, g, (i) => {
      const x = d.values[i];
      if (Number.isFinite(x)) members.push(x);
    });
    let lo = grid.lo;
    let hi = grid.hi;
    for (const x of members) {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    const bins = this.resultState.bins;
    const counts = new Float64Array(bins);
    const span = hi - lo;
    for (const x of members) {
      const k = span > 0 ? Math.floor(((x - lo) * bins) / span) : 0;
      counts[Math.min(bins - 1, Math.max(0, k))] += 1;
    }
    return { lo, hi, counts };
  }

  // Static params make clipping visible: the range they were calibrated for against the range of
  // the data they are applied to.
  showStaticNote() {
    const t = this.t;
    const r = this.result;
    const e = S.effective(this.resultState);
    if (e.params === 'dynamic' || r.scale.length !== 1 || S.elementKind(e.dtype)) {
      this.staticNote.hidden = true;
      return;
    }
    const grid = this.gridOf(0);
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of this.resultData.values) {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    this.staticNote.replaceChildren(
      h('h4', {}, t(e.params === 'given' ? 'static.titleGiven' : 'static.titleCalibrated')),
      h('p', {}, t('static.body', {
        plo: F.f32(grid.lo), phi: F.f32(grid.hi), dlo: F.f32(lo), dhi: F.f32(hi),
        clip: F.percent(r.metrics.clipRate), n: F.integer(r.metrics.saturated ?? Math.round(r.metrics.clipRate * r.metrics.finite)),
      })));
    this.staticNote.hidden = false;
  }

  dataKey() {
    const s = this.resultState ?? this.state;
    return s.data === 'file' ? `file:${this.file?.name}:${s.tensor}` : s.data === 'paste' ? `paste:${this.paste}` : `${s.data}:${s.shape}:${s.seed}:${s.spreadChannels}`;
  }

  // A click on the original histogram lists the elements of that bin (of the histogram shown: the
  // whole tensor's, or one group's).
  pickBin(x) {
    const hist = this.shownOriginal;
    const bins = hist.counts.length;
    const width = (hist.hi - hist.lo) / bins;
    let k = width > 0 ? Math.floor((x - hist.lo) / width) : 0;
    k = Math.min(bins - 1, Math.max(0, k));
    this.foundBin = { k, lo: hist.lo + k * width, hi: hist.lo + (k + 1) * width };
    this.findElements('bin', {
      lo: this.foundBin.lo, hi: this.foundBin.hi, last: k === bins - 1,
      group: this.shownGroup,
    });
  }

  // ---- heatmaps -----------------------------------------------------------------------------------

  showHeatmaps() {
    const t = this.t;
    const r = this.result;
    if (r.scale.length === 1) {
      this.heatNote.textContent = t('heat.single', { s: F.f32(r.scale[0]), z: F.f32(r.zeroPoint[0]) });
    } else {
      this.heatNote.textContent = t('heat.info', { count: r.scale.length, shape: shapeText(r.paramShape) });
    }
    this.heatScale.set({ values: Array.from(r.scale), shape: r.paramShape, selected: this.group, format: F.f32 });
    const err = r.groupMse ? Array.from(r.groupMse) : [];
    const logScale = err.length > 1 && Math.max(...err) > 100 * Math.max(Math.min(...err.filter((v) => v > 0)), 1e-300);
    this.heatError.set({ values: err, shape: r.paramShape, selected: this.group, log: logScale, format: (v) => F.num(v, 4) });
  }

  // ---- inspector ----------------------------------------------------------------------------------

  inspectIndexText(text) {
    const d = this.resultData;
    if (!d) return;
    const nums = String(text).match(/-?\d+/g)?.map(Number) ?? [];
    let flat = -1;
    if (nums.length === 1) flat = nums[0];
    else if (nums.length === d.shape.length) flat = ravel(d.shape, nums);
    if (flat < 0 || flat >= d.values.length) {
      this.inspectNote.textContent = this.t('inspect.badIndex', { text, n: d.values.length });
      return;
    }
    this.inspect(flat);
  }

  inspect(flat) {
    const d = this.resultData;
    if (!d) return;
    this.sample = Math.min(d.values.length - 1, Math.max(0, flat));
    if (this.result) {
      const b = this.sampleBreakdown(this.sample);
      if (b && b.group !== this.group) this.group = b.group;
    }
    this.showFormulas();
    this.showInspector();
  }

  // Inspector searches run in the worker, which holds the values and the result: a scan of
  // millions of elements never stalls the page.
  async findElements(kind, extra = {}) {
    const r = this.result;
    if (!r) return;
    try {
      const reply = await this.engine.request('find', { resultId: r.id, kind, ...extra });
      if (this.result !== r) return;
      this.found = { kind, list: reply.indices, total: reply.total, ...extra };
      if (reply.indices.length && kind !== 'bin') this.sample = reply.indices[0];
      this.showFormulas();
      if (this.tab === 'inspector') this.showInspector();
      else this.selectTab('inspector', false);
    } catch (err) {
      if (!(err instanceof CancelledError)) this.showError(err);
    }
  }

  showInspector() {
    const t = this.t;
    const r = this.result;
    const d = this.resultData;
    if (!r || !d) return;
    this.indexInput.value = this.indexText(this.sample);
    let list = [this.sample];
    let note = '';
    if (this.found) {
      const { kind, list: found, total } = this.found;
      this.found = null;
      if (kind === 'bin') {
        list = found;
        note = t('inspect.bin', { k: this.foundBin.k, lo: F.num(this.foundBin.lo, 5), hi: F.num(this.foundBin.hi, 5), total: F.integer(total), shown: found.length });
      } else if (found.length) {
        list = found;
        note = t(`inspect.found.${kind}`, { n: F.integer(total) });
      } else {
        note = t(`inspect.none.${kind}`);
      }
    }
    const e = S.effective(this.resultState);
    const stochastic = e.rounding === 'stochastic';
    const element = Boolean(S.elementKind(e.dtype));
    for (const b of this.integerOnlyButtons) b.disabled = element;
    const head = h('tr', {}, ['inspect.col.index', 'inspect.col.group', 'inspect.col.x', 'inspect.col.t', 'inspect.col.shifted', 'inspect.col.round', 'inspect.col.q', 'inspect.col.xhat', 'inspect.col.error', 'inspect.col.flags']
      .map((k) => h('th', { scope: 'col' }, t(k, { div: S.divisionOf(e.profile) === 'multiply-inverse' ? 'x·(1/s)' : 'x/s' }))));
    const rows = list.map((i) => {
      const b = this.sampleBreakdown(i);
      const flags = [];
      if (b.tie) flags.push(t('inspect.tie'));
      if (b.clipped || (Number.isFinite(b.rounded) && (b.rounded < r.qmin || b.rounded > r.qmax))) flags.push(t('inspect.clip'));
      const tr = h('tr', { class: [b.tie ? 'qp-tie' : '', i === this.sample ? 'qp-current' : ''].join(' ').trim() },
        h('td', {}, h('button', { type: 'button', class: 'qp-link', onclick: () => this.inspect(i) }, this.indexText(i))),
        h('td', {}, this.groupWhere(b.group) || '0'),
        h('td', {}, F.f32(b.x)),
        h('td', {}, F.num(b.t, 8)),
        h('td', {}, element ? '–' : r.floatZeroPoint ? F.num(b.shifted, 8) : `${F.num(b.t, 8)} + ${F.f32(b.z)}`),
        h('td', {}, element ? '–' : stochastic ? t('inspect.stochastic') : String(b.rounded)),
        h('td', {}, String(b.q)),
        h('td', {}, F.f32(b.xhat)),
        h('td', {}, F.num(b.error, 5)),
        h('td', {}, flags.join(', ')));
      return tr;
    });
    this.inspectTable.replaceChildren(h('thead', {}, head), h('tbody', {}, rows));
    this.inspectNote.textContent = note;
  }

  // ---- sweeps -------------------------------------------------------------------------------------

  blockSweepValues() {
    const d = this.data;
    const e = S.effective(this.state);
    const axis = e.granularity === 'tensor' ? d.shape.length - 1 : (e.axis < 0 ? e.axis + d.shape.length : e.axis);
    const dim = d.shape[axis];
    const values = [];
    for (let b = 2; b <= Math.min(dim, 4096); b *= 2) values.push(b);
    if (values.length === 0) values.push(1);
    return { axis, values };
  }

  async sweep(kind) {
    const t = this.t;
    if (!this.data) return;
    const base = this.request();
    const e = S.effective(this.state);
    const dt = S.parseDtype(e.dtype);
    const element = S.elementKind(e.dtype);
    // Formats without a bit width to vary (small floats, tables) or with fixed blocks (MX).
    if ((kind === 'bits' && element && element !== 'pow2' && element !== 'kmeans') || (kind === 'block' && (element === 'mx' || element === 'ggml'))) {
      this.sweepNote.textContent = t(kind === 'bits' ? 'sweep.noBits' : 'sweep.noBlock', { dtype: S.dtypeLabel(e.dtype) });
      return;
    }
    let points;
    let axis = null;
    if (kind === 'bits') {
      points = [2, 3, 4, 5, 6, 7, 8].map((bits) => ({ value: bits, options: element ? { bits } : { dtype: S.dtypeName(dt.signed, bits) } }));
      // --pack needs codes of at most 4 bits.
      if (e.pack) points.forEach((p) => { if (p.value > 4) p.options.pack = undefined; });
    } else {
      const sv = this.blockSweepValues();
      axis = sv.axis;
      points = sv.values.map((b) => ({ value: b, options: { granularity: 'block', axis, blockSize: b, groupSize: undefined } }));
    }
    const token = ++this.runToken;
    this.sweepNote.textContent = t('sweep.running');
    this.progress.max = points.length;
    this.progress.value = 0;
    try {
      const reply = await this.engine.request('sweep', { ...base, points: points.map((p) => p.options) }, {
        onProgress: (m) => {
          this.progress.max = m.total;
          this.progress.value = m.done;
          this.sweepNote.textContent = t('sweep.progress', { done: m.done, total: m.total });
        },
      });
      this.sweeps[kind] = { values: points.map((p) => p.value), results: reply.points, axis, label: this.describe(this.state) };
      this.sweepNote.textContent = t('sweep.done');
      if (token === this.runToken) this.runToken += 0;
      this.showSweeps();
    } catch (err) {
      this.sweepNote.textContent = err instanceof CancelledError ? t('cancelled') : err.message;
    }
  }

  showSweeps() {
    const t = this.t;
    const colors = chartColors(this);
    const draw = (kind, container, table, xLabel) => {
      const sw = this.sweeps[kind];
      if (!sw) {
        container.replaceChildren(h('p', { class: 'qp-hint' }, t('sweep.empty')));
        table.replaceChildren();
        return;
      }
      const sqnr = sw.results.map((p) => (p.metrics ? p.metrics.sqnrDb : null));
      const bpe = sw.results.map((p) => (p.metrics ? p.metrics.bitsPerElement : null));
      this.chart(container, () => lineChart(container, {
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
    draw('bits', this.sweepBits, this.sweepBitsTable, t('sweep.xBits'));
    draw('block', this.sweepBlock, this.sweepBlockTable, t('sweep.xBlock'));
  }

  // ---- compare and output -------------------------------------------------------------------------

  togglePin() {
    if (this.pinned) {
      this.pinned = null;
    } else if (this.result) {
      this.pinned = {
        metrics: this.result.metrics,
        histograms: this.result.histograms,
        label: this.describe(this.resultState),
        dataKey: this.dataKey(),
      };
    }
    this.showResult();
  }

  async download(format) {
    if (!this.result) return;
    try {
      const reply = await this.engine.request('export', { resultId: this.result.id, format });
      const base = (this.resultData.fileName || 'tensor').replace(/\.[^.]*$/, '');
      if (format === 'npz') downloadBlob(reply.bytes, `${base}_quantized.npz`, 'application/zip');
      else if (format === 'gguf') downloadBlob(reply.bytes, `${base}_${S.ggmlFormat(this.resultState.dtype)}.gguf`, 'application/octet-stream');
      else if (format === 'safetensors') downloadBlob(reply.bytes, `${base}_quantized.safetensors`, 'application/octet-stream');
      else downloadBlob(reply.bytes, `${base}_params.json`, 'application/json');
    } catch (err) {
      this.showError(err);
    }
  }
}

if (!customElements.get('quant-playground')) customElements.define('quant-playground', QuantPlayground);

export { QuantPlayground };
