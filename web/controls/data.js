// The data section of the control panel and what it opens: the source (synthetic, pasted, a
// file), a dropped or chosen file (opened whole in the worker, and shown in the whole-file view
// when it holds several tensors or is too large to open whole), raw binary through a small form,
// the tensor list, and the further files of given and calibrated params (--params, --calibrate).
import { h } from '../ui/dom.js';
import * as S from '../app/state.js';
import * as F from '../app/format.js';
import { parseShape, shapeText } from '../app/synth.js';
import { CancelledError } from '../app/engine.js';
import { WholeFile } from '../panels/wholefile.js';
import { fetchSource, loadData, loadCalibration } from '../app/data.js';

// Files up to this size are also opened whole in the single-tensor worker (every view, calibration
// on other tensors of the file); larger ones are read one tensor at a time (File.slice).
const OPEN_WHOLE_LIMIT = 256 * 1024 * 1024;
const TENSOR_FILES = '.npy,.npz,.safetensors,.gguf,.csv,.tsv,.txt';
const RAW_DTYPES = ['float32', 'float16', 'bfloat16', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool'];

export class DataSection {
  // host: the element ({t, ids, state, base, file, paste, data, engine, set(), loadData(), dataLoaded(), ...})
  constructor(host) {
    this.host = host;
    this.whole = null;       // the whole-file view of the last file, once shown
    this.fileObject = null;  // the last dropped or chosen File
    this.rawFile = null;     // {name, bytes} of the last file, to read again as raw binary
    this.rawSpec = null;     // what the raw form last opened it as
    this.pasteShapeText = '';
    this.note = null;        // {key, vars}: the line under the data controls
  }

  build(f) {
    const host = this.host;
    const t = host.t;
    const shape = h('input', { type: 'text', spellcheck: 'false', autocomplete: 'off' });
    shape.addEventListener('change', () => {
      const ok = parseShape(shape.value) !== null;
      shape.classList.toggle('qp-invalid', !ok);
      shape.setAttribute('aria-invalid', String(!ok));
      if (ok) host.set('shape', shape.value.trim());
    });
    const fileInput = h('input', { type: 'file', class: 'qp-file-input', accept: TENSOR_FILES, id: `${host.ids}-file` });
    fileInput.addEventListener('change', () => {
      if (fileInput.files?.[0]) this.openFile(fileInput.files[0]);
    });
    const dropZone = h('div', { class: 'qp-dropzone' },
      h('label', { for: fileInput.id, class: 'qp-file-label' }, t('chooseFile')),
      fileInput,
      h('span', { class: 'qp-hint' }, t('dropHint')));
    this.tensorList = h('div', { class: 'qp-tensors', role: 'radiogroup', 'aria-label': t('tensors') });
    this.wholeButton = h('button', { type: 'button', class: 'qp-button qp-small', hidden: true, title: t('wholeFileHint'),
      onclick: () => this.showWholeFile(this.fileObject).catch((err) => host.showError(err)) }, t('wholeFile'));
    this.rawButton = h('button', { type: 'button', class: 'qp-button qp-small', hidden: true, onclick: () => { this.rawForm.hidden = false; } }, t('raw.choose'));
    this.rawForm = this.buildRawForm();
    const pasteArea = h('textarea', { rows: 4, spellcheck: 'false', placeholder: t('pastePlaceholder') });
    pasteArea.value = host.paste;
    pasteArea.addEventListener('change', () => {
      host.paste = pasteArea.value;
      host.loadData();
    });
    this.pasteArea = pasteArea;
    const pasteShape = h('input', { type: 'text', spellcheck: 'false', placeholder: t('pasteShapePlaceholder') });
    pasteShape.value = this.pasteShapeText;
    pasteShape.addEventListener('change', () => {
      this.pasteShapeText = pasteShape.value;
      host.loadData();
    });
    this.noteEl = h('p', { class: 'qp-note', 'aria-live': 'polite' });
    const uint32 = { min: 0, max: 4294967295, step: 1, integer: true };
    const section = h('fieldset', { class: 'qp-group' },
      h('legend', {}, t('section.data')),
      f.field('data.source', f.select('data', S.DATA_SOURCES, (v) => t(`data.${v}`)), { field: 'data' }),
      h('div', { class: 'qp-sub', dataset: { when: 'synthetic' } },
        f.field('shape', shape, { field: 'shape', hint: t('shapeHint') }),
        f.field('seed', f.number('seed', uint32), { field: 'seed' }),
        f.checkField('spreadChannels', 'spreadChannels')),
      h('div', { class: 'qp-sub', dataset: { when: 'file' } },
        dropZone,
        this.rawForm,
        this.tensorList,
        h('div', { class: 'qp-row' }, this.wholeButton, this.rawButton)),
      h('div', { class: 'qp-sub', dataset: { when: 'paste' } },
        f.field('pasteValues', pasteArea, { wide: true }),
        f.field('pasteShape', pasteShape)),
      this.noteEl);
    // A re-render (language switch) keeps what the section showed.
    if (host.file) this.renderTensorList();
    this.setNote(this.note?.key ?? null, this.note?.vars);
    return section;
  }

  // The line under the data controls, kept as a string key so a language switch re-renders it.
  setNote(key, vars) {
    this.note = key ? { key, vars } : null;
    if (this.noteEl) this.noteEl.textContent = key ? this.host.t(key, vars) : '';
  }

  // The pasted text shown in the textarea (a link or a hash change brought new numbers).
  showPaste() {
    if (this.pasteArea) this.pasteArea.value = this.host.paste;
  }

  // The file inputs of given and calibrated params (the CLI's --params P.npz and --calibrate A B).
  buildAuxInputs(f) {
    const t = this.host.t;
    const paramsInput = h('input', { type: 'file', class: 'qp-file-input', accept: '.npz' });
    paramsInput.addEventListener('change', () => this.addAuxFiles(paramsInput, 'params'));
    this.paramsFileList = h('ul', { class: 'qp-aux-list' });
    const calibInput = h('input', { type: 'file', class: 'qp-file-input', multiple: true, accept: TENSOR_FILES });
    calibInput.addEventListener('change', () => this.addAuxFiles(calibInput, 'calib'));
    this.calibFileList = h('ul', { class: 'qp-aux-list' });
    return {
      params: [f.field('paramsFile', paramsInput, { hint: t('paramsFileHint') }), this.paramsFileList],
      calib: [f.field('calibFiles', calibInput, { hint: t('calibFilesHint') }), this.calibFileList],
    };
  }

  syncAuxLists() {
    const host = this.host;
    const t = host.t;
    const item = (name, remove) => h('li', {},
      h('span', { class: 'qp-file-name' }, name), ' ',
      h('button', { type: 'button', class: 'qp-button qp-small', onclick: remove, 'aria-label': t('removeFile', { name }) }, t('remove')));
    this.paramsFileList.replaceChildren(...(host.paramsFile ? [item(host.paramsFile, () => this.removeAux('params', host.paramsFile))] : []));
    this.calibFileList.replaceChildren(...host.calibFiles.map((name) => item(name, () => this.removeAux('calib', name))));
  }

  async addAuxFiles(input, kind) {
    const host = this.host;
    const files = [...(input.files ?? [])];
    input.value = '';
    try {
      for (const file of files) {
        await host.engine.addAux(file.name, await file.arrayBuffer());
        if (kind === 'params') host.paramsFile = file.name;
        else if (!host.calibFiles.includes(file.name)) host.calibFiles = [...host.calibFiles, file.name];
      }
    } catch (err) {
      host.showError(err);
    }
    host.syncControls();
    host.scheduleRun(0);
  }

  removeAux(kind, name) {
    const host = this.host;
    if (kind === 'params') host.paramsFile = null;
    else host.calibFiles = host.calibFiles.filter((n) => n !== name);
    host.syncControls();
    host.scheduleRun(0);
  }

  renderTensorList() {
    const host = this.host;
    const t = host.t;
    if (!host.file) {
      this.tensorList.replaceChildren(h('p', { class: 'qp-hint' }, t('noFile')));
      return;
    }
    const rows = host.file.tensors.map((x, k) => {
      const id = `${host.ids}-tensor-${k}`;
      const radio = h('input', { type: 'radio', name: `${host.ids}-tensor`, id, value: x.name, checked: x.name === host.state.tensor });
      radio.addEventListener('change', () => {
        if (!radio.checked) return;
        host.state = { ...host.state, tensor: x.name };
        host.writeHash();
        host.loadData();
      });
      return h('tr', {},
        h('td', {}, radio),
        h('td', {}, h('label', { for: id }, x.label ?? x.name)),
        h('td', {}, x.dtype),
        h('td', {}, shapeText(x.shape)));
    });
    this.tensorList.replaceChildren(
      h('p', { class: 'qp-file-name' }, host.file.name),
      h('table', { class: 'qp-tensor-table' },
        h('thead', {}, h('tr', {}, h('th', {}, h('span', { class: 'qp-visually-hidden' }, t('pick'))), h('th', {}, t('tensor.name')), h('th', {}, t('tensor.dtype')), h('th', {}, t('tensor.shape')))),
        h('tbody', {}, rows)));
  }

  // A dropped or chosen file. Files that fit are opened whole in the single-tensor worker; a file
  // of several tensors (or any file, on request) also gets the whole-file view, which reads it one
  // tensor at a time and so takes files of any size.
  async openFile(file) {
    const host = this.host;
    this.fileObject = file;
    this.whole?.clear();
    this.rawForm.hidden = true;
    this.rawButton.hidden = true;
    this.wholeButton.hidden = true;
    try {
      if (file.size > OPEN_WHOLE_LIMIT) {
        host.setStatus(host.t('opening', { name: file.name }));
        host.showError(null);
        await this.showWholeFile(file);
        this.setNote('wf.tooLarge', { name: file.name, size: F.bytes(file.size) });
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
          host.state = { ...host.state, data: 'file' };
          host.syncControls();
        }
        throw err;
      }
      this.rawButton.hidden = false;
      this.rawFile = { name: file.name, bytes };
      if (host.file.tensors.length > 1) await this.showWholeFile(file);
      else this.wholeButton.hidden = false;
    } catch (err) {
      if (!(err instanceof CancelledError)) host.showError(err);
    }
  }

  // The whole-file view of `file`, in the results column's slot.
  async showWholeFile(file) {
    if (!file) return;
    const host = this.host;
    this.whole ??= new WholeFile({
      get t() { return host.t; },
      get ids() { return host.ids; },
      simd: host.getAttribute('simd') === 'off' ? 'off' : 'auto',
      // Whole-file runs use dynamic params (each tensor its own); a row may name its own dtype.
      options: (dtype) => S.apiOptions({ ...host.state, params: 'dynamic', ...(dtype ? { dtype } : {}) }),
      openTensor: (row) => this.openTensor(row).catch((err) => host.showError(err)),
    });
    await this.whole.describe(file);
    this.wholeButton.hidden = true;
    host.results.wholeSlot.replaceChildren(this.whole.render());
  }

  // The settings changed: the whole-file table's scheme column follows them.
  settingsChanged() {
    if (this.whole?.file && !this.whole.running) this.whole.replan().catch(() => {});
  }

  // A row of the whole-file table in the single-tensor view: a tensor of the file opened whole, or
  // (large files) that tensor's bytes alone.
  async openTensor(row, { scroll = true } = {}) {
    const host = this.host;
    if (host.file && host.file.name === this.fileObject?.name && host.file.tensors.some((x) => x.name === row.name) && !host.file.stored) {
      host.state = { ...host.state, data: 'file', tensor: row.name };
    } else {
      const file = this.fileObject;
      const bytes = await file.slice(row.dataOffset, row.dataOffset + row.dataBytes).arrayBuffer();
      const reply = await host.engine.openStored(file.name, row, bytes);
      // The bytes are read as raw binary (one tensor, "array"); the list shows the tensor's name.
      host.file = { name: file.name, tensors: reply.tensors.map((x) => ({ ...x, label: row.name })), stored: true };
      host.state = { ...host.state, data: 'file', tensor: row.name, calibrate: [] };
    }
    this.renderTensorList();
    host.syncControls();
    host.writeHash();
    await host.loadData();
    if (scroll) host.querySelector('.qp-runbar')?.scrollIntoView({ block: 'nearest' });
  }

  buildRawForm() {
    const t = this.host.t;
    const id = (k) => `${this.host.ids}-raw-${k}`;
    const dtype = h('select', { id: id('dtype') }, RAW_DTYPES.map((d) => h('option', { value: d }, d)));
    const shape = h('input', { id: id('shape'), type: 'text', spellcheck: 'false', autocomplete: 'off', placeholder: '4x6', 'aria-describedby': id('shape-hint') });
    const offset = h('input', { id: id('offset'), type: 'number', min: 0, step: 1, value: 0, inputmode: 'numeric' });
    const endian = h('select', { id: id('endian') }, ['little', 'big'].map((e) => h('option', { value: e }, t(`raw.endian.${e}`))));
    const field = (k, control, hint) => h('div', { class: 'qp-field' }, h('label', { for: id(k) }, t(`raw.${k}`)), control,
      hint ? h('span', { class: 'qp-hint', id: id(`${k}-hint`) }, hint) : null);
    const submit = h('button', { type: 'button', class: 'qp-button', onclick: () => {
      const raw = { dtype: dtype.value, shape: shape.value.trim(), offset: Number(offset.value || 0), endian: endian.value };
      this.openRaw(raw).catch((err) => this.host.showError(err));
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

  // ---- loading ----------------------------------------------------------------------------------

  // The element's first data: its `src` file, else the settings' source (a link can name a file but
  // not carry it: then synthetic data, with a note saying so).
  async loadInitial() {
    const host = this.host;
    const src = host.getAttribute('src');
    if (src && (host.state.data === 'file' || !host.hasAttribute('sync-url') || !location.hash)) {
      try {
        const { name, bytes } = await fetchSource(src, document.baseURI);
        await this.openBytes(name, bytes, host.state.tensor);
        return;
      } catch (err) {
        host.showError(new Error(host.t('srcFailed', { src, message: err.message })));
      }
    }
    if (host.state.data === 'file') {
      host.state.data = host.base.data === 'file' ? 'normal' : host.base.data;
      this.setNote('fileNotInLink');
      host.syncControls();
    }
    await this.load();
  }

  // Opens file bytes in the worker (raw: read as raw binary) and picks `wanted` or the first
  // floating-point tensor.
  async openBytes(name, bytes, wanted, raw = null) {
    const host = this.host;
    host.setStatus(host.t('opening', { name }));
    host.showError(null);
    const reply = await host.engine.open(name, bytes, raw);
    const tensors = reply.tensors;
    if (!tensors.length) throw new Error(host.t('noTensors', { name }));
    host.file = { name, tensors, raw };
    const pick = tensors.find((x) => x.name === wanted) ?? tensors.find((x) => /^f/.test(x.dtype)) ?? tensors[0];
    host.state = { ...host.state, data: 'file', tensor: pick.name, calibrate: host.state.calibrate.filter((n) => tensors.some((x) => x.name === n)) };
    this.setNote(null);
    this.renderTensorList();
    host.syncControls();
    host.writeHash();
    await this.load();
  }

  // Prepares host.data for the current data source (app/data.js) and its calibration data; then
  // schedules a run.
  async load() {
    const host = this.host;
    host.showError(null);
    try {
      const s = host.state;
      if (s.data === 'file' && !host.file) this.renderTensorList();
      const { data, note } = await loadData(host.engine, host.t, s, {
        file: host.file, paste: host.paste, pasteShape: this.pasteShapeText, onGenerate: () => host.setStatus(host.t('generating')),
      });
      if (note !== undefined) this.setNote(note?.key ?? null, note?.vars);
      host.data = data;
      if (!data) {
        host.showResult();
        return;
      }
      await loadCalibration(host.engine, host.state, data);
      host.dataLoaded();
    } catch (err) {
      if (!(err instanceof CancelledError)) host.showError(err);
    }
  }

  // Calibration data again (its seed, spread or the params source changed), then a run.
  reloadCalibration(delay) {
    const host = this.host;
    loadCalibration(host.engine, host.state, host.data).then(() => host.scheduleRun(delay), (err) => host.showError(err));
  }
}
