// The output card: the downloads that apply to the run (the .npz bundle; .safetensors, or .gguf for
// a ggml format, which a safetensors bundle cannot hold; params.json always), each the CLI's bytes
// for the same options, and the equivalent command line.
import { h } from '../ui/dom.js';
import * as R from '../app/rules.js';
import { downloadBlob } from '../ui/save.js';

const FILES = {
  npz: (base) => [`${base}_quantized.npz`, 'application/zip'],
  safetensors: (base) => [`${base}_quantized.safetensors`, 'application/octet-stream'],
  gguf: (base, state) => [`${base}_${R.ggmlFormat(state.dtype)}.gguf`, 'application/octet-stream'],
  json: (base) => [`${base}_params.json`, 'application/json'],
};

export class OutputPanel {
  // host: the element ({t, ids, result, resultState, resultData, state, engine, showError()})
  constructor(host) {
    this.host = host;
  }

  build() {
    const { t, ids } = this.host;
    const button = (format, label) => h('button', { type: 'button', class: 'qp-button', disabled: true, onclick: () => this.download(format) }, t(label));
    this.buttons = {
      npz: button('npz', 'downloadNpz'),
      safetensors: button('safetensors', 'downloadSafetensors'),
      // ggml formats: the tensor as llama.cpp stores it (the CLI's -o X.gguf).
      gguf: button('gguf', 'downloadGguf'),
      json: button('json', 'downloadJson'),
    };
    this.buttons.gguf.hidden = true;
    this.cliLine = h('code', { class: 'qp-cli' });
    const b = this.buttons;
    return h('section', { class: 'qp-card qp-output', 'aria-labelledby': `${ids}-oh` },
      h('h3', { id: `${ids}-oh` }, t('section.output')),
      h('div', { class: 'qp-output-row' }, b.npz, b.safetensors, b.gguf, b.json),
      h('p', { class: 'qp-hint' }, t('cliEquivalent')),
      this.cliLine);
  }

  // `has`: the result shown belongs to the data shown. A ggml run (the core reports its blocks)
  // offers .gguf instead of .safetensors; before a result, the settings say which one applies.
  show(has, cliCommand) {
    const r = this.host.result;
    const ggml = r ? r.gguf : R.elementKind(R.effective(this.host.state).dtype) === 'ggml';
    const b = this.buttons;
    b.npz.disabled = !has;
    b.json.disabled = !has;
    b.safetensors.hidden = ggml;
    b.safetensors.disabled = !has || ggml;
    b.gguf.hidden = !ggml;
    b.gguf.disabled = !has || !ggml;
    this.cliLine.textContent = cliCommand;
  }

  async download(format) {
    const host = this.host;
    if (!host.result) return;
    try {
      const reply = await host.engine.request('export', { resultId: host.result.id, format });
      const base = (host.resultData.fileName || 'tensor').replace(/\.[^.]*$/, '');
      const [name, type] = FILES[format](base, host.resultState);
      downloadBlob(reply.bytes, name, type);
    } catch (err) {
      host.showError(err);
    }
  }
}
