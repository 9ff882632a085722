// The control panel: the data, scheme and params sections, and sync(), which sets every control
// from the settings and locks, hides or disables what the setting fixes or excludes (app/rules.js).
import { h } from '../ui/dom.js';
import * as S from '../app/state.js';
import * as R from '../app/rules.js';
import { formatRow } from '../app/core.js';
import { parseShape, shapeText } from '../app/synth.js';
import { SYNTHETIC } from '../app/data.js';
import { Fields } from './fields.js';
import { DataSection } from './data.js';

export class ControlPanel {
  // host: the element ({t, ids, state, data, file, paramsFile, calibFiles, set(), run(), ...}).
  constructor(host) {
    this.host = host;
    this.data = new DataSection(host);
    this.lastIntegerDtype = null;
  }

  build() {
    const host = this.host;
    const t = host.t;
    const f = new Fields({ ids: host.ids, t, set: (field, value) => host.set(field, value) });
    this.fields = f;
    this.controls = f.controls;
    const dataSet = this.data.build(f);

    // Scheme
    const signed = h('select', {}, h('option', { value: 'signed' }, t('signed')), h('option', { value: 'unsigned' }, t('unsigned')));
    const bits = h('select', {}, R.dtypeBits().map((b) => h('option', { value: String(b) }, String(b))));
    const setDtype = () => host.set('dtype', R.dtypeName(signed.value === 'signed', Number(bits.value)));
    signed.addEventListener('change', setDtype);
    bits.addEventListener('change', setDtype);
    // Integer codes, or one of the element formats (its own dtype name), grouped by family as the
    // core's registry lists them; each option's tooltip is the registry's summary of the format.
    const format = h('select', {},
      h('option', { value: 'integer' }, t('format.integer')),
      Object.entries(R.elementKinds()).map(([kind, names]) => h('optgroup', { label: t(`format.${kind}`) },
        names.map((n) => h('option', { value: n, title: formatRow(n)?.summary ?? '' }, R.dtypeLabel(n))))));
    format.addEventListener('change', () => {
      if (format.value === 'integer') host.set('dtype', this.lastIntegerDtype ?? 'int8');
      else host.set('dtype', format.value);
    });
    this.extra = { format, signed, bits };
    const pack = f.select('pack', S.PACK_ORDERS(), (v) => (v ? v : t('pack.none')));
    this.axisSelect = h('select', {});
    this.axisSelect.addEventListener('change', () => host.set('axis', Number(this.axisSelect.value)));
    // The choices are the core's; a value the page has no words for reads as the core spells it.
    const label = (key, v) => {
      const text = t(key);
      return text === key ? v : text;
    };
    const choice = (field, values, prefix) => f.select(field, values, (v) => label(`${prefix}.${v}`, v));
    const uint32 = { min: 0, max: 4294967295, step: 1, integer: true };
    const schemeSet = h('fieldset', { class: 'qp-group' },
      h('legend', {}, t('section.scheme')),
      f.field('profile', choice('profile', S.PROFILES(), 'profile'), { field: 'profile', hint: t('profileHint') }),
      f.field('format', format, { hint: t('formatHint') }),
      h('div', { class: 'qp-row', dataset: { role: 'integer-dtype' } },
        f.field('signedness', signed),
        f.field('bits', bits)),
      h('div', { class: 'qp-row' },
        f.field('elementBits', f.number('elementBits', { min: 1, max: 8, step: 1, integer: true }), { field: 'elementBits' }),
        f.checkField('saturate', 'saturate'),
        f.field('pack', pack, { field: 'pack', hint: t('packHint') })),
      h('div', { class: 'qp-row' },
        f.field('scaleRule', choice('scaleRule', S.SCALE_RULES(), 'scaleRule'), { field: 'scaleRule', hint: t('scaleRuleHint') }),
        f.checkField('doubleQuant', 'doubleQuant')),
      f.field('mode', choice('mode', S.MODES(), 'mode'), { field: 'mode' }),
      h('div', { class: 'qp-row' },
        f.checkField('narrow', 'narrow'),
        f.checkField('reduceRange', 'reduceRange')),
      f.field('granularity', choice('granularity', S.GRANULARITIES(), 'granularity'), { field: 'granularity' }),
      h('div', { class: 'qp-row' },
        f.field('axis', this.axisSelect, { field: 'axis' }),
        f.field('groupSize', f.number('groupSize', { min: 1, step: 1, integer: true }), { field: 'groupSize' }),
        f.field('blockSize', f.number('blockSize', { min: 1, step: 1, integer: true }), { field: 'blockSize' })),
      h('div', { class: 'qp-row' },
        f.field('rounding', choice('rounding', S.ROUNDINGS(), 'rounding'), { field: 'rounding' }),
        f.field('roundingSeed', f.number('roundingSeed', uint32), { field: 'roundingSeed' })),
      f.field('zeroPointDomain', choice('zeroPointDomain', S.ZERO_POINT_DOMAINS(), 'zpd'), { field: 'zeroPointDomain' }));

    // Params
    this.calibList = h('div', { class: 'qp-calib-tensors' });
    const aux = this.data.buildAuxInputs(f);
    const paramsSet = h('fieldset', { class: 'qp-group' },
      h('legend', {}, t('section.params')),
      f.field('params.source', choice('params', S.PARAM_SOURCES, 'params'), { field: 'params', hint: t('paramsHint') }),
      h('div', { class: 'qp-sub', dataset: { when: 'dynamic' } },
        h('div', { class: 'qp-row' },
          f.field('range', choice('range', S.RANGES(), 'range'), { field: 'range' }),
          f.field('percentile', f.number('percentile', { min: 0.0001, max: 100 }), { field: 'percentile' }),
          f.field('clipRatio', f.number('clipRatio', { min: 0.01, max: 1, step: 0.01 }), { field: 'clipRatio', hint: t('clipRatioHint') }))),
      h('div', { class: 'qp-sub', dataset: { when: 'given' } },
        h('div', { class: 'qp-row' },
          f.field('scale', f.number('scale', { min: 1e-38 }), { field: 'scale' }),
          f.field('zeroPoint', f.number('zeroPoint', {}), { field: 'zeroPoint' })),
        aux.params),
      h('div', { class: 'qp-sub', dataset: { when: 'calibrated' } },
        h('div', { class: 'qp-row' },
          f.field('observer', choice('observer', S.OBSERVERS, 'observer'), { field: 'observer' }),
          f.field('averagingConstant', f.number('averagingConstant', { min: 0.000001, max: 1 }), { field: 'averagingConstant' })),
        h('div', { class: 'qp-sub', dataset: { when: 'calib-synthetic' } },
          h('p', { class: 'qp-hint' }, t('calibSyntheticHint')),
          h('div', { class: 'qp-row' },
            f.field('calibSeed', f.number('calibSeed', uint32), { field: 'calibSeed' }),
            f.field('calibSpread', f.number('calibSpread', { min: 0.001, max: 1000 }), { field: 'calibSpread' }))),
        h('div', { class: 'qp-sub', dataset: { when: 'calib-file' } },
          h('p', { class: 'qp-hint' }, t('calibFileHint')),
          this.calibList),
        aux.calib),
      f.field('bins', f.number('bins', { min: 1, max: 1048576, step: 1, integer: true }), { field: 'bins' }));

    const form = h('form', { class: 'qp-controls-form', onsubmit: (e) => { e.preventDefault(); host.run(); } },
      dataSet, schemeSet, paramsSet);
    this.root = host.hasAttribute('compact')
      ? h('details', { class: 'qp-controls' }, h('summary', {}, t('options')), form)
      : h('aside', { class: 'qp-controls', 'aria-label': t('options') }, form);
    return this.root;
  }

  // Every control from the settings: values (the effective ones), locks with their reason, and
  // which fields and sub-sections apply.
  sync() {
    const host = this.host;
    const s = host.state;
    const t = host.t;
    const eff = R.effective(s);
    const locks = R.locks(s);
    const applies = R.applicable(s);
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
        lock.textContent = !locked ? '' : locks[field][1] === 'profile' ? t('lockedBy', { profile: s.profile }) : t('lockedByElement', { dtype: R.dtypeLabel(s.dtype) });
      }
      wrap?.classList.toggle('qp-locked', locked);
    }
    const c = this.controls;
    const kind = R.elementKind(s.dtype);
    const dt = R.parseDtype(s.dtype);
    if (dt) this.lastIntegerDtype = s.dtype;
    this.extra.format.value = kind ? s.dtype : 'integer';
    this.extra.signed.value = (dt ?? { signed: true }).signed ? 'signed' : 'unsigned';
    this.extra.bits.value = String((dt ?? { bits: 8 }).bits);
    this.root.querySelector('[data-role="integer-dtype"]').hidden = Boolean(kind);
    c.elementBits.wrap.hidden = !applies.elementBits;
    c.saturate.wrap.hidden = !applies.saturate;
    c.scaleRule.wrap.hidden = !applies.scaleRule;
    c.doubleQuant.wrap.hidden = !applies.doubleQuant;
    for (const option of c.profile.control.options) option.disabled = !applies.profile(option.value);
    c.pack.wrap.hidden = !applies.pack;
    for (const option of c.rounding.control.options) option.disabled = !applies.rounding(option.value);
    if (!applies.zeroPointDomain) {
      c.zeroPointDomain.control.disabled = true;
      c.zeroPointDomain.lock.hidden = false;
      c.zeroPointDomain.lock.textContent = t('lockedSymmetric');
    }
    // Which sub-sections apply.
    const synthetic = SYNTHETIC.includes(s.data);
    for (const sub of this.root.querySelectorAll('.qp-sub')) {
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
    c.shape.wrap.hidden = s.data === 'seed';
    c.seed.wrap.hidden = s.data === 'seed';
    c.spreadChannels.wrap.hidden = s.data === 'seed' || (parseShape(s.shape)?.length ?? 1) < 2;
    // By the granularity in effect: a profile or format that fixes blocks shows their size.
    for (const field of ['axis', 'groupSize', 'blockSize', 'percentile', 'roundingSeed', 'averagingConstant']) {
      c[field].wrap.hidden = !applies[field];
    }
    if (host.paramsFile) {
      for (const field of ['scale', 'zeroPoint']) {
        c[field].control.disabled = true;
        c[field].lock.hidden = false;
        c[field].lock.textContent = t('fromParamsFile');
      }
    }
    this.syncAxis();
    this.syncCalibList();
    this.data.syncAuxLists();
  }

  // The axis picker lists the tensor's dimensions with their sizes.
  syncAxis() {
    const host = this.host;
    const shape = host.data?.shape ?? parseShape(host.state.shape) ?? [];
    const want = shape.map((d, i) => `${i}:${d}`).join(',');
    if (this.axisSelect.dataset.shape !== want) {
      this.axisSelect.dataset.shape = want;
      this.axisSelect.replaceChildren(...shape.map((d, i) => h('option', { value: String(i) }, host.t('axisOption', { axis: i, size: d }))));
    }
    if (shape.length && host.state.axis >= shape.length) host.state.axis = shape.length - 1;
    // The axis in effect (ggml rows run along the last one, whatever was chosen).
    const axis = R.effective(host.state).axis;
    if (shape.length) this.axisSelect.value = String(axis < 0 ? axis + shape.length : axis);
  }

  // The tensors of the open file, to calibrate on.
  syncCalibList() {
    const host = this.host;
    const t = host.t;
    const names = host.file?.tensors.map((x) => x.name) ?? [];
    const want = names.join('\u0000');
    if (this.calibList.dataset.names !== want) {
      this.calibList.dataset.names = want;
      this.calibList.replaceChildren(...(host.file?.tensors ?? []).map((x, k) => {
        const id = `${host.ids}-calib-${k}`;
        const box = h('input', { type: 'checkbox', id, value: x.name });
        box.addEventListener('change', () => {
          const set = new Set(host.state.calibrate);
          if (box.checked) set.add(x.name); else set.delete(x.name);
          host.set('calibrate', names.filter((n) => set.has(n)));
        });
        return h('div', { class: 'qp-check' }, box, h('label', { for: id }, `${x.name} `, h('span', { class: 'qp-hint' }, `${x.dtype} ${shapeText(x.shape)}`)));
      }));
      if (!names.length) this.calibList.append(h('p', { class: 'qp-hint' }, t('calibNoFile')));
    }
    for (const box of this.calibList.querySelectorAll('input')) box.checked = host.state.calibrate.includes(box.value);
  }
}
