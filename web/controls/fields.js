// Labelled form controls bound to settings fields: each edit calls set(field, value); controls
// registered under a field are what sync() sets and locks (controls/panel.js).
import { h } from '../ui/dom.js';

export class Fields {
  // ids: the element's id prefix; t: the translator; set(field, value): a user's edit.
  constructor({ ids, t, set }) {
    this.ids = ids;
    this.t = t;
    this.set = set;
    this.controls = {};  // field -> {control, wrap, lock}
  }

  idOf(key) {
    return `${this.ids}-${key.replace(/\W/g, '-')}`;
  }

  // A labelled control. `field` names the settings key the control edits; the control is
  // registered so sync() can set its value and whether it is locked.
  field(key, control, { hint, field, wide = false } = {}) {
    const id = this.idOf(key);
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

  checkField(key, field) {
    const control = h('input', { type: 'checkbox' });
    control.addEventListener('change', () => this.set(field, control.checked));
    const id = this.idOf(key);
    control.id = id;
    const lock = h('span', { class: 'qp-lock', hidden: true });
    const wrap = h('div', { class: 'qp-field qp-check' }, control, h('label', { for: id }, this.t(key)), lock);
    this.controls[field] = { control, wrap, lock };
    return wrap;
  }
}
