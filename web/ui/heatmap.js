// A heatmap of one value per param group (scale, or the error of the group), drawn on a canvas by
// us. Param shapes of rank <= 1 (per channel, per group) wrap into rows; higher ranks (per block:
// the input shape with the axis divided into blocks) show their last dimension across and
// everything before it down. The canvas is focusable: arrow keys move the selection, Enter / Space
// pick the group (the histogram then draws that group's grid).

// Our sequential palette: five anchors from dark blue through teal and green to yellow, interpolated
// linearly in sRGB. Perceptually even enough for reading "bigger / smaller" at a glance.
const ANCHORS = [
  [38, 24, 94], [33, 92, 140], [32, 150, 140], [110, 196, 90], [250, 228, 60],
];

export function colorAt(t) {
  const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (ANCHORS.length - 1);
  const k = Math.min(ANCHORS.length - 2, Math.floor(u));
  const f = u - k;
  const a = ANCHORS[k];
  const b = ANCHORS[k + 1];
  return `rgb(${Math.round(a[0] + f * (b[0] - a[0]))}, ${Math.round(a[1] + f * (b[1] - a[1]))}, ${Math.round(a[2] + f * (b[2] - a[2]))})`;
}

// Rows and columns for a param shape.
export function layoutOf(shape, count, maxColumns = 64) {
  if (shape.length >= 2) {
    const cols = shape[shape.length - 1];
    return { rows: count / cols, cols };
  }
  const cols = Math.min(count, maxColumns);
  return { rows: Math.ceil(count / cols), cols };
}

export class Heatmap {
  // onSelect(index) when the user picks a cell; describe(index) -> text for the readout.
  constructor({ label, onSelect, describe }) {
    this.onSelect = onSelect;
    this.describe = describe;
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'qp-heatmap-canvas';
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', label);
    this.readout = document.createElement('p');
    this.readout.className = 'qp-heatmap-readout';
    this.readout.setAttribute('aria-live', 'polite');
    this.legend = document.createElement('canvas');
    this.legend.className = 'qp-heatmap-legend';
    this.legend.setAttribute('aria-hidden', 'true');
    this.legendText = document.createElement('p');
    this.legendText.className = 'qp-heatmap-scale';
    this.cursor = 0;
    this.selected = 0;
    this.canvas.addEventListener('mousemove', (e) => this.hover(e));
    this.canvas.addEventListener('mouseleave', () => this.showReadout(this.selected));
    this.canvas.addEventListener('click', (e) => {
      const i = this.indexAt(e);
      if (i >= 0) this.select(i);
    });
    this.canvas.addEventListener('keydown', (e) => this.key(e));
  }

  // values: numbers per group; shape: the param shape; log: color by log10 (errors span decades).
  set({ values, shape, log = false, selected = 0, format = String }) {
    this.values = values;
    this.format = format;
    this.layout = layoutOf(shape, values.length);
    this.log = log;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of values) {
      const w = this.mapped(v);
      if (Number.isFinite(w)) {
        lo = Math.min(lo, w);
        hi = Math.max(hi, w);
      }
    }
    this.lo = lo;
    this.hi = hi;
    this.selected = Math.min(selected, values.length - 1);
    this.cursor = this.selected;
    this.draw();
    this.showReadout(this.selected);
    const finite = values.filter(Number.isFinite);
    const min = finite.length ? Math.min(...finite) : NaN;
    const max = finite.length ? Math.max(...finite) : NaN;
    this.legendText.textContent = `${format(min)} … ${format(max)}${log ? ' (log)' : ''}`;
  }

  mapped(v) {
    if (!this.log) return v;
    return v > 0 ? Math.log10(v) : NaN;
  }

  draw() {
    const { rows, cols } = this.layout;
    const width = Math.max(200, this.canvas.parentElement?.clientWidth || 480);
    const cell = Math.max(2, Math.min(28, Math.floor(width / cols)));
    const cellH = Math.max(2, Math.min(28, rows > 64 ? Math.floor(320 / rows) || 2 : cell));
    const dpr = window.devicePixelRatio || 1;
    const w = cols * cell;
    const hgt = rows * cellH;
    this.cell = cell;
    this.cellH = cellH;
    this.canvas.width = Math.ceil(w * dpr);
    this.canvas.height = Math.ceil(hgt * dpr);
    // The drawing size is set through CSSOM (allowed by the CSP; inline style attributes are not).
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${hgt}px`;
    const ctx = this.canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const span = this.hi - this.lo;
    for (let i = 0; i < this.values.length; i++) {
      const r = Math.floor(i / cols);
      const c = i % cols;
      const m = this.mapped(this.values[i]);
      ctx.fillStyle = Number.isFinite(m) ? colorAt(span > 0 ? (m - this.lo) / span : 0.5) : '#888';
      ctx.fillRect(c * cell, r * cellH, cell, cellH);
    }
    for (const [i, color, lw] of [[this.cursor, '#ffffff', 2], [this.selected, '#e0b000', 3]]) {
      if (i < 0 || i >= this.values.length) continue;
      const r = Math.floor(i / cols);
      const c = i % cols;
      ctx.strokeStyle = color;
      ctx.lineWidth = lw;
      ctx.strokeRect(c * cell + 1, r * cellH + 1, Math.max(1, cell - 2), Math.max(1, cellH - 2));
    }
    // The legend bar.
    const lw = 160;
    this.legend.width = lw * dpr;
    this.legend.height = 10 * dpr;
    this.legend.style.width = `${lw}px`;
    this.legend.style.height = '10px';
    const lctx = this.legend.getContext('2d');
    lctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    for (let x = 0; x < lw; x++) {
      lctx.fillStyle = colorAt(x / (lw - 1));
      lctx.fillRect(x, 0, 1, 10);
    }
  }

  indexAt(e) {
    const rect = this.canvas.getBoundingClientRect();
    const c = Math.floor((e.clientX - rect.left) / this.cell);
    const r = Math.floor((e.clientY - rect.top) / this.cellH);
    if (c < 0 || c >= this.layout.cols || r < 0 || r >= this.layout.rows) return -1;
    const i = r * this.layout.cols + c;
    return i < this.values.length ? i : -1;
  }

  hover(e) {
    const i = this.indexAt(e);
    if (i >= 0) this.showReadout(i);
  }

  showReadout(i) {
    if (!this.values || i < 0 || i >= this.values.length) return;
    this.readout.textContent = this.describe(i, this.values[i]);
  }

  select(i) {
    this.selected = i;
    this.cursor = i;
    this.draw();
    this.showReadout(i);
    this.onSelect?.(i);
  }

  key(e) {
    if (!this.values) return;
    const { cols } = this.layout;
    const n = this.values.length;
    const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -cols, ArrowDown: cols, Home: -this.cursor, End: n - 1 - this.cursor };
    if (e.key in moves) {
      e.preventDefault();
      this.cursor = Math.min(n - 1, Math.max(0, this.cursor + moves[e.key]));
      this.draw();
      this.showReadout(this.cursor);
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      this.select(this.cursor);
    }
  }
}
