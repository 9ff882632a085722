// Tiny DOM helpers. Elements are built with createElement and text nodes only: no HTML strings, so
// nothing user-provided (file names, tensor names) can become markup, and no inline style attribute
// can appear (the page's CSP has style-src 'self').

// h('button', {class: 'x', type: 'button', onclick: fn, dataset: {k: 'v'}}, 'text', child, ...)
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'text') el.textContent = value;
    else if (key in el && typeof value !== 'string') el[key] = value;  // checked, value, hidden, ...
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

// A unique id prefix per element instance, so several playgrounds on one page keep label `for`
// and aria references apart.
let counter = 0;
export function uid(prefix = 'qp') {
  counter += 1;
  return `${prefix}${counter}`;
}
