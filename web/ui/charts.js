// Histograms and sweep curves drawn with uPlot. Histograms arrive binned by the core ({lo, hi,
// counts}); several of them (the current run and a pinned one) are overlaid by putting them on the
// union of their bin edges as step functions. The quantization grid and the clipping limits are
// drawn by us on uPlot's canvas in its draw hook.
import uPlot from '../vendor/uPlot.esm.js';

// Colors come from the playground's CSS custom properties so charts follow the theme.
export function chartColors(host) {
  const cs = getComputedStyle(host);
  const v = (name, fallback) => cs.getPropertyValue(name).trim() || fallback;
  return {
    text: v('--qp-fg', '#1d2330'),
    muted: v('--qp-muted', '#5b6475'),
    axis: v('--qp-border', '#c9ced8'),
    original: v('--qp-c-original', '#3b6fd8'),
    dequantized: v('--qp-c-dequantized', '#d9822b'),
    error: v('--qp-c-error', '#8a4fd1'),
    pinned: v('--qp-c-pinned', '#2f9e6e'),
    grid: v('--qp-c-grid', 'rgba(120,120,120,0.55)'),
    clip: v('--qp-c-clip', 'rgba(220,40,40,0.16)'),
    clipLine: v('--qp-c-clip-line', '#d33'),
    selected: v('--qp-c-selected', '#e0b000'),
  };
}

// Bin edges of a core histogram.
export function edgesOf(h) {
  const n = h.counts.length;
  const e = new Float64Array(n + 1);
  for (let k = 0; k <= n; k++) e[k] = h.lo + (k * (h.hi - h.lo)) / n;
  return e;
}

// Puts histograms on the sorted union of their edges: [xs, ys0, ys1, ...], each y the count of the
// bin that starts at or covers x (a step function; 0 outside a histogram's range).
export function alignHistograms(hists) {
  const all = [];
  const edges = hists.map(edgesOf);
  for (const e of edges) for (const v of e) all.push(v);
  all.sort((a, b) => a - b);
  const xs = [];
  for (const v of all) if (xs.length === 0 || v > xs[xs.length - 1]) xs.push(v);
  const ys = hists.map((h, j) => {
    const e = edges[j];
    const n = h.counts.length;
    const out = new Array(xs.length);
    let k = 0;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i];
      if (x < e[0] || x >= e[n] || h.hi === h.lo) {
        out[i] = 0;
        continue;
      }
      while (k < n - 1 && x >= e[k + 1]) k++;
      out[i] = Number(h.counts[k]);
    }
    return out;
  });
  // A degenerate histogram (all values equal: lo == hi) is one spike at lo.
  hists.forEach((h, j) => {
    if (h.hi === h.lo) {
      const i = xs.indexOf(h.lo);
      if (i >= 0) ys[j][i] = h.counts.reduce((a, b) => a + Number(b), 0);
    }
  });
  return [xs, ...ys];
}

function withAlpha(color, alpha) {
  // #rrggbb -> rgba; other spellings are used as they are.
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  const n = parseInt(m[1], 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

function axes(colors, xLabel, yLabel) {
  const common = { stroke: colors.muted, grid: { stroke: colors.axis, width: 1 }, ticks: { stroke: colors.axis, width: 1 } };
  return [
    { ...common, label: xLabel, labelSize: 18, size: 38 },
    { ...common, label: yLabel, labelSize: 18, size: 56 },
  ];
}

// A histogram chart. options:
//   series: [{label, hist: {lo, hi, counts}, color, dash?, fill?}]
//   grid:   {levels: [x values], lo, hi, step, clip} the quantization grid and the representable
//           range [lo, hi]; with clip, values beyond half a step outside it are shaded as clipped
//   marker: x value to mark (the inspected element), or null
//   onBin:  (x) => void when the plot is clicked (the x value under the pointer)
export function histogramChart(container, { series, grid = null, marker = null, onBin, colors, xLabel, yLabel, height = 220 }) {
  const data = alignHistograms(series.map((s) => s.hist));
  const stepped = uPlot.paths.stepped({ align: 1 });
  const opts = {
    width: Math.max(280, container.clientWidth || 560),
    height,
    cursor: { drag: { x: false, y: false }, points: { show: false } },
    legend: { show: series.length > 1, live: false },
    scales: { x: { time: false } },
    axes: axes(colors, xLabel, yLabel),
    series: [
      { label: 'x' },
      ...series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: 1.5,
        dash: s.dash,
        fill: s.fill === false ? undefined : withAlpha(s.color, 0.22),
        paths: stepped,
        points: { show: false },
      })),
    ],
    hooks: {
      draw: [(u) => drawOverlay(u, grid, marker, colors)],
    },
  };
  const plot = new uPlot(opts, data, container);
  if (onBin) {
    plot.over.addEventListener('click', () => {
      const left = plot.cursor.left;
      if (left == null || left < 0) return;
      onBin(plot.posToVal(left, 'x'));
    });
    keyboardBins(plot, container, data[0], onBin);
  }
  return plot;
}

// The keyboard's way to pick a bin: the chart is focusable, the arrow keys move uPlot's cursor from
// step to step (Home / End jump to the ends) and Enter or Space picks the step under it.
function keyboardBins(plot, container, xs, onBin) {
  container.tabIndex = 0;
  let k = -1;
  const move = (to) => {
    k = Math.max(0, Math.min(xs.length - 2, to));
    const mid = (xs[k] + xs[k + 1]) / 2;
    plot.setCursor({ left: plot.valToPos(mid, 'x'), top: plot.over.clientHeight / 2 });
  };
  container.addEventListener('keydown', (e) => {
    const step = { ArrowRight: 1, ArrowLeft: -1, Home: -Infinity, End: Infinity }[e.key];
    if (step !== undefined) {
      e.preventDefault();
      if (step === -Infinity) move(0);
      else if (step === Infinity) move(xs.length - 2);
      else move(k < 0 ? 0 : k + step);
    } else if ((e.key === 'Enter' || e.key === ' ') && k >= 0) {
      e.preventDefault();
      onBin((xs[k] + xs[k + 1]) / 2);
    }
  });
}

function drawOverlay(u, grid, marker, colors) {
  const { ctx } = u;
  const { left, top, width, height } = u.bbox;
  const xmin = u.scales.x.min;
  const xmax = u.scales.x.max;
  ctx.save();
  // A dashed series (the pinned run) leaves its dash pattern on the context.
  ctx.setLineDash([]);
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  if (grid) {
    // Clipping zones: beyond the representable range by more than half a step (formats that
    // cannot clip, such as lookup tables scaled by the group's amax, have grid.clip false).
    const half = grid.step / 2;
    const lo = grid.lo - half;
    const hi = grid.hi + half;
    ctx.fillStyle = colors.clip;
    if (grid.clip !== false && lo > xmin) {
      const p = u.valToPos(lo, 'x', true);
      ctx.fillRect(left, top, p - left, height);
    }
    if (grid.clip !== false && hi < xmax) {
      const p = u.valToPos(hi, 'x', true);
      ctx.fillRect(p, top, left + width - p, height);
    }
    // The levels (q - z)·s inside the view. When they are denser than every 3 device pixels only
    // every k-th is drawn, so the grid stays readable for 8 and 16 bits.
    const visible = grid.levels.filter((v) => v >= xmin && v <= xmax);
    const pxPerLevel = visible.length > 1 ? width / visible.length : width;
    const stride = Math.max(1, Math.ceil(3 / pxPerLevel));
    ctx.strokeStyle = colors.grid;
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let k = 0; k < visible.length; k += stride) {
      const p = Math.round(u.valToPos(visible[k], 'x', true)) + 0.5;
      ctx.moveTo(p, top);
      ctx.lineTo(p, top + height);
    }
    ctx.stroke();
    ctx.strokeStyle = colors.clipLine;
    ctx.lineWidth = 2;
    ctx.beginPath();
    // The representable range's ends matter only where values can clip.
    for (const v of grid.clip === false ? [] : [grid.lo, grid.hi]) {
      if (v < xmin || v > xmax) continue;
      const p = u.valToPos(v, 'x', true);
      ctx.moveTo(p, top);
      ctx.lineTo(p, top + height);
    }
    ctx.stroke();
  }
  if (marker !== null && marker !== undefined && Number.isFinite(marker) && marker >= xmin && marker <= xmax) {
    const p = u.valToPos(marker, 'x', true);
    ctx.strokeStyle = colors.selected;
    ctx.lineWidth = 3;
    ctx.setLineDash([6, 4]);
    ctx.beginPath();
    ctx.moveTo(p, top);
    ctx.lineTo(p, top + height);
    ctx.stroke();
  }
  ctx.restore();
}

// A line chart for sweeps: x values and series [{label, values, color, scale: 'y' | 'y2', log}].
export function lineChart(container, { x, series, colors, xLabel, yLabel, y2Label, xLog = false, height = 240 }) {
  const hasY2 = series.some((s) => s.scale === 'y2');
  const ax = axes(colors, xLabel, yLabel);
  if (hasY2) ax.push({ ...ax[1], label: y2Label, scale: 'y2', side: 1, grid: { show: false } });
  const opts = {
    width: Math.max(280, container.clientWidth || 560),
    height,
    cursor: { drag: { x: false, y: false } },
    // The table under the chart holds the numbers; a live legend would only show "--" at rest.
    legend: { live: false },
    scales: {
      x: { time: false, distr: xLog ? 3 : 1, log: 2 },
      y: { auto: true },
      ...(hasY2 ? { y2: { auto: true } } : {}),
    },
    axes: ax,
    series: [
      { label: xLabel },
      ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, scale: s.scale ?? 'y', points: { show: true, size: 6 } })),
    ],
  };
  return new uPlot(opts, [x, ...series.map((s) => s.values)], container);
}

// Keeps a chart as wide as its container.
export function fitWidth(plot, container) {
  const ro = new ResizeObserver(() => {
    const w = Math.max(280, container.clientWidth);
    if (Math.abs(w - plot.width) > 1) plot.setSize({ width: w, height: plot.height });
  });
  ro.observe(container);
  return () => ro.disconnect();
}

// The charts an element shows, each in its container: drawing into a container replaces the chart
// there; destroy() removes them all (a re-render, a disconnect).
export class ChartSet {
  constructor() {
    this.plots = [];
    this.cleanups = [];
  }

  draw(container, make) {
    const old = this.plots.filter((p) => p.root.parentElement === container);
    for (const p of old) p.destroy();
    this.plots = this.plots.filter((p) => !old.includes(p));
    container.replaceChildren();
    const plot = make();
    this.plots.push(plot);
    this.cleanups.push(fitWidth(plot, container));
    return plot;
  }

  destroy() {
    for (const p of this.plots) p.destroy();
    this.plots = [];
    for (const c of this.cleanups) c();
    this.cleanups = [];
  }
}
