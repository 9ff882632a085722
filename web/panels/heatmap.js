// The heatmap tab: one cell per param group, its scale and its error (ui/heatmap.js draws them);
// picking a cell picks the group the histogram draws.
import { h } from '../ui/dom.js';
import * as F from '../app/format.js';
import { Heatmap } from '../ui/heatmap.js';
import { shapeText } from '../app/synth.js';
import { groupWhere } from '../app/result.js';

export class HeatmapPanel {
  // host: the element ({t, result, group, histograms})
  constructor(host) {
    this.host = host;
  }

  build(panel) {
    const t = this.host.t;
    const describe = (kind) => (i, v) => {
      const r = this.host.result;
      if (!r) return '';
      return t('heat.readout', {
        index: i,
        where: groupWhere(r, i),
        what: t(kind),
        value: kind === 'heat.scale' ? F.f32(v) : F.num(v, 4),
        z: F.f32(r.zeroPoint[i]),
      });
    };
    const onSelect = (i) => {
      this.host.group = i;
      this.host.histograms.setGroup(i);
      this.maps.forEach((m) => { if (m.selected !== i && m.values) { m.selected = i; m.cursor = i; m.draw(); } });
    };
    this.scale = new Heatmap({ label: t('heat.scale'), onSelect, describe: describe('heat.scale') });
    this.error = new Heatmap({ label: t('heat.error'), onSelect, describe: describe('heat.error') });
    this.maps = [this.scale, this.error];
    this.note = h('p', { class: 'qp-note' });
    const block = (title, m) => h('div', { class: 'qp-heat' },
      h('h4', {}, title), h('div', { class: 'qp-heat-canvas' }, m.canvas),
      h('div', { class: 'qp-heat-legend' }, m.legend, m.legendText), m.readout);
    panel.append(h('p', { class: 'qp-hint' }, t('heatHint')), this.note,
      block(t('heat.scale'), this.scale), block(t('heat.error'), this.error));
  }

  // Selects group g in the maps that show values (a group picked elsewhere).
  select(g) {
    this.maps.forEach((m) => m.values && m.select(g));
  }

  show() {
    const t = this.host.t;
    const r = this.host.result;
    const group = this.host.group;
    if (r.scale.length === 1) {
      this.note.textContent = t('heat.single', { s: F.f32(r.scale[0]), z: F.f32(r.zeroPoint[0]) });
    } else {
      this.note.textContent = t('heat.info', { count: r.scale.length, shape: shapeText(r.paramShape) });
    }
    this.scale.set({ values: Array.from(r.scale), shape: r.paramShape, selected: group, format: F.f32 });
    const err = r.groupMse ? Array.from(r.groupMse) : [];
    const logScale = err.length > 1 && Math.max(...err) > 100 * Math.max(Math.min(...err.filter((v) => v > 0)), 1e-300);
    this.error.set({ values: err, shape: r.paramShape, selected: group, log: logScale, format: (v) => F.num(v, 4) });
  }
}
