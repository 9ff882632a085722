// The histograms tab: the original values under the quantization grid of one param group (and its
// clipping limits), the dequantized values and the error, a pinned run overlaid; for static params
// the range they were made for against the data's. A click on a bin lists its elements.
import { h } from '../ui/dom.js';
import * as F from '../app/format.js';
import * as R from '../app/rules.js';
import { histogramChart, chartColors } from '../ui/charts.js';
import { forEachInGroup } from '../app/inspect.js';
import { planFor, groupGrid, groupWhere, sampleBreakdown } from '../app/result.js';

export class HistogramPanel {
  // host: the element ({t, ids, view, group, sample, pinned, charts, field(), dataKey(),
  // selectGroup(g), inspector})
  constructor(host) {
    this.host = host;
    this.onlyGroup = true;
  }

  build(panel) {
    const { t, ids } = this.host;
    this.groupPicker = h('input', { type: 'number', min: 0, step: 1, value: 0, class: 'qp-narrow-input' });
    this.groupPicker.addEventListener('change', () => {
      const g = Number(this.groupPicker.value);
      const r = this.host.result;
      if (r && Number.isInteger(g) && g >= 0 && g < r.scale.length) this.host.selectGroup(g);
    });
    this.groupLabel = h('span', { class: 'qp-hint' });
    const onlyId = `${ids}-only-group`;
    this.onlyGroupBox = h('input', { type: 'checkbox', id: onlyId, checked: this.onlyGroup });
    this.onlyGroupBox.addEventListener('change', () => {
      this.onlyGroup = this.onlyGroupBox.checked;
      this.show();
    });
    this.groupRow = h('div', { class: 'qp-row qp-group-row', hidden: true },
      this.host.field('histGroup', this.groupPicker), this.groupLabel,
      h('span', { class: 'qp-check' }, this.onlyGroupBox, h('label', { for: onlyId }, t('histOnlyGroup'))));
    this.staticNote = h('div', { class: 'qp-callout', hidden: true });
    this.original = h('div', { class: 'qp-chart', role: 'img' });
    this.dequant = h('div', { class: 'qp-chart', role: 'img' });
    this.error = h('div', { class: 'qp-chart', role: 'img' });
    panel.append(
      h('p', { class: 'qp-hint' }, t('histHint')),
      this.groupRow,
      this.staticNote,
      h('h4', {}, t('hist.original')), this.original,
      h('div', { class: 'qp-two' },
        h('div', {}, h('h4', {}, t('hist.dequantized')), this.dequant),
        h('div', {}, h('h4', {}, t('hist.error')), this.error)));
  }

  // The param group picker follows a group chosen elsewhere (the heatmap, the inspector).
  setGroup(g) {
    this.groupPicker.value = String(g);
  }

  show() {
    const host = this.host;
    const t = host.t;
    const view = host.view;
    const r = view.result;
    const group = host.group;
    const colors = chartColors(host);
    const multi = r.scale.length > 1;
    this.groupRow.hidden = !multi;
    if (multi) {
      this.groupPicker.max = String(r.scale.length - 1);
      this.groupPicker.value = String(group);
      this.groupLabel.textContent = t('histGroupInfo', {
        where: groupWhere(r, group), count: r.scale.length, s: F.f32(r.scale[group]), z: F.f32(r.zeroPoint[group]),
      });
    }
    const grid = groupGrid(view, group);
    const b = sampleBreakdown(view, host.sample);
    const pin = host.pinned;
    // With several param groups the grid belongs to one group: by default the chart shows that
    // group's values (binned here for display, over the group's range and its grid).
    const groupOnly = multi && this.onlyGroup;
    const original = groupOnly ? this.groupHistogram(group, grid) : r.histograms.original;
    this.shown = { hist: original, group: groupOnly ? group : undefined };
    const pinSame = pin && pin.dataKey === host.dataKey();
    const xLabel = t('axis.value');
    const yLabel = t('axis.count');
    const pinned = (what, hist) => ({ label: t('pinnedSeries', { what: t(what) }), hist, color: colors.pinned, dash: [5, 4], fill: false });
    host.charts.draw(this.original, () => histogramChart(this.original, {
      series: [
        { label: groupOnly ? t('hist.groupValues', { where: groupWhere(r, group) }) : t('hist.original'), hist: original, color: colors.original },
        ...(pin && !pinSame && !groupOnly ? [pinned('hist.original', pin.histograms.original)] : []),
      ],
      grid, marker: b ? b.x : null, colors, xLabel, yLabel, height: host.hasAttribute('compact') ? 180 : 220,
      onBin: (x) => this.pickBin(x),
    }));
    this.original.setAttribute('aria-label', t('hist.originalLabel', { n: F.integer(r.metrics.elements), lo: F.f32(grid.lo), hi: F.f32(grid.hi) }));
    host.charts.draw(this.dequant, () => histogramChart(this.dequant, {
      series: [
        { label: t('hist.dequantized'), hist: r.histograms.dequantized, color: colors.dequantized },
        ...(pin ? [pinned('hist.dequantized', pin.histograms.dequantized)] : []),
      ],
      // With several param groups the whole tensor's dequantized values mix every group's grid.
      grid: multi ? null : grid, colors, xLabel, yLabel, height: 180,
    }));
    this.dequant.setAttribute('aria-label', t('hist.dequantized'));
    host.charts.draw(this.error, () => histogramChart(this.error, {
      series: [
        { label: t('hist.error'), hist: r.histograms.error, color: colors.error },
        ...(pin ? [pinned('hist.error', pin.histograms.error)] : []),
      ],
      colors, xLabel: t('axis.error'), yLabel, height: 180,
    }));
    this.error.setAttribute('aria-label', t('hist.error'));
    this.showStaticNote();
  }

  // The values of one param group, binned like the core's histograms (bin = floor((v - lo) * bins /
  // (hi - lo)), clamped) over the group's range widened to its grid's representable range.
  groupHistogram(g, grid) {
    const view = this.host.view;
    const members = [];
    forEachInGroup(planFor(view), g, (i) => {
      const x = view.data.values[i];
      if (Number.isFinite(x)) members.push(x);
    });
    let lo = grid.lo;
    let hi = grid.hi;
    for (const x of members) {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    const bins = view.state.bins;
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
    const t = this.host.t;
    const view = this.host.view;
    const r = view.result;
    const e = R.effective(view.state);
    if (e.params === 'dynamic' || r.scale.length !== 1 || R.elementKind(e.dtype)) {
      this.staticNote.hidden = true;
      return;
    }
    const grid = groupGrid(view, 0);
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of view.data.values) {
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

  // A click on the original histogram lists the elements of that bin (of the histogram shown: the
  // whole tensor's, or one group's).
  pickBin(x) {
    const hist = this.shown.hist;
    const bins = hist.counts.length;
    const width = (hist.hi - hist.lo) / bins;
    let k = width > 0 ? Math.floor((x - hist.lo) / width) : 0;
    k = Math.min(bins - 1, Math.max(0, k));
    const bin = { k, lo: hist.lo + k * width, hi: hist.lo + (k + 1) * width };
    this.host.inspector.find('bin', { lo: bin.lo, hi: bin.hi, last: k === bins - 1, group: this.shown.group }, bin);
  }
}
