// The results column: the whole-file slot, the run bar (run, live, progress, cancel, status), the
// error line, the metrics and formula cards, the tabbed views and the output card. The panels
// themselves live beside this file; this arranges them and switches tabs.
import { h } from '../ui/dom.js';

export const TABS = ['histograms', 'heatmap', 'inspector', 'sweep'];

export class ResultsView {
  // host: the element ({t, ids, live, tab, result, metrics, formulas, histograms, heatmap,
  // inspector, sweep, output, run(), cancel(), setLive(on)})
  constructor(host) {
    this.host = host;
  }

  build() {
    const host = this.host;
    const { t, ids } = host;
    this.runButton = h('button', { type: 'button', class: 'qp-button qp-primary', onclick: () => host.run() }, t('run'));
    const liveBox = h('input', { type: 'checkbox', id: `${ids}-live`, checked: host.live });
    liveBox.addEventListener('change', () => host.setLive(liveBox.checked));
    this.progress = h('progress', { class: 'qp-progress', hidden: true, 'aria-label': t('working') });
    this.cancelButton = h('button', { type: 'button', class: 'qp-button', disabled: true, onclick: () => host.cancel() }, t('cancel'));
    this.status = h('p', { class: 'qp-status', role: 'status', 'aria-live': 'polite' });
    this.errorBox = h('p', { class: 'qp-error', role: 'alert', hidden: true });
    const runBar = h('div', { class: 'qp-runbar' },
      this.runButton,
      h('span', { class: 'qp-check' }, liveBox, h('label', { for: `${ids}-live` }, t('live'))),
      this.progress, this.cancelButton, this.status);
    const summary = h('div', { class: 'qp-summary' }, host.metrics.build(), host.formulas.build());

    const tabList = h('div', { class: 'qp-tabs', role: 'tablist', 'aria-label': t('views') });
    this.tabButtons = {};
    this.tabPanels = {};
    for (const name of TABS) {
      const tabId = `${ids}-tab-${name}`;
      const panelId = `${ids}-panel-${name}`;
      const b = h('button', {
        type: 'button', role: 'tab', id: tabId, class: 'qp-tab', 'aria-controls': panelId,
        onclick: () => this.selectTab(name, true),
        onkeydown: (e) => this.tabKey(e, name),
      }, t(`tab.${name}`));
      tabList.append(b);
      this.tabButtons[name] = b;
      this.tabPanels[name] = h('div', { role: 'tabpanel', id: panelId, 'aria-labelledby': tabId, class: 'qp-panel', tabindex: 0 });
      host[name].build(this.tabPanels[name]);
    }
    const panels = h('div', { class: 'qp-card qp-views' }, tabList, ...TABS.map((n) => this.tabPanels[n]));
    this.wholeSlot = h('div', { class: 'qp-wf-slot' });
    const section = h('section', { class: 'qp-results', 'aria-label': t('results') },
      this.wholeSlot, runBar, this.errorBox, summary, panels, host.output.build());
    this.selectTab(host.tab, false);
    return section;
  }

  selectTab(name, focus) {
    this.host.tab = name;
    for (const n of TABS) {
      const selected = n === name;
      this.tabButtons[n].setAttribute('aria-selected', String(selected));
      this.tabButtons[n].tabIndex = selected ? 0 : -1;
      this.tabPanels[n].hidden = !selected;
    }
    if (focus) this.tabButtons[name].focus();
    // Charts measure their container: draw the visible tab's now that it has a width.
    if (this.host.result) this.showTab();
  }

  tabKey(e, name) {
    const i = TABS.indexOf(name);
    const to = { ArrowRight: (i + 1) % TABS.length, ArrowLeft: (i + TABS.length - 1) % TABS.length, Home: 0, End: TABS.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    this.selectTab(TABS[to], true);
  }

  // Short runs finish before the indicator would flash; long ones show it and the cancel button.
  showBusy(busy) {
    if (!this.progress) return;
    clearTimeout(this.busyTimer);
    if (busy) {
      this.busyTimer = setTimeout(() => {
        this.progress.hidden = false;
        this.cancelButton.disabled = false;
        this.host.classList.add('qp-busy');
      }, 150);
    } else {
      this.progress.hidden = true;
      this.progress.removeAttribute('value');
      this.cancelButton.disabled = true;
      this.host.classList.remove('qp-busy');
    }
  }

  setStatus(text) {
    if (this.status) this.status.textContent = text;
  }

  // Shows an error (null clears it); returns whether one is shown.
  showError(err) {
    const box = this.errorBox;
    if (!box) return false;
    box.hidden = !err;
    box.textContent = err ? err.message ?? String(err) : '';
    return Boolean(err);
  }

  // The visible tab's panel, drawn for the current result.
  showTab() {
    if (!this.host.result) return;
    this.host[this.host.tab].show();
  }
}
