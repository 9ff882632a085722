// The element's header: the title, the language picker, the theme button (auto, light, dark; the
// choice remembered), Copy link and the wasm build's line.
import { h } from '../ui/dom.js';
import { LANGUAGES } from '../ui/i18n.js';

const THEMES = ['auto', 'light', 'dark'];

export class Header {
  // host: the element ({t, ids, lang, copyLink()}); store(key, value?): the preferences' storage.
  constructor(host, store) {
    this.host = host;
    this.store = store;
  }

  build() {
    const host = this.host;
    const t = host.t;
    const langId = `${host.ids}-lang`;
    const lang = h('select', { id: langId, class: 'qp-lang', onchange: (e) => this.setLanguage(e.target.value) },
      Object.keys(LANGUAGES).map((code) => h('option', { value: code, selected: code === host.lang }, t(`language.${code}`))));
    this.themeButton = h('button', { type: 'button', class: 'qp-button qp-theme', onclick: () => this.cycleTheme() });
    const share = h('button', { type: 'button', class: 'qp-button', onclick: () => host.copyLink() }, t('copyLink'));
    this.buildInfo = h('span', { class: 'qp-build' });
    const Title = host.hasAttribute('compact') ? 'h2' : 'h1';
    return h('header', { class: 'qp-header' },
      h('div', { class: 'qp-title' },
        h(Title, {}, t('title')),
        h('p', { class: 'qp-tagline' }, t('tagline'))),
      h('div', { class: 'qp-toolbar' },
        h('label', { for: langId, class: 'qp-visually-hidden' }, t('language')),
        lang, this.themeButton, share, this.buildInfo));
  }

  setLanguage(lang) {
    this.store('qplay.lang', lang);
    this.host.setAttribute('lang', lang);
  }

  cycleTheme() {
    const host = this.host;
    const current = host.getAttribute('theme') ?? 'auto';
    const next = THEMES[(THEMES.indexOf(current) + 1) % THEMES.length];
    if (next === 'auto') host.removeAttribute('theme');
    else host.setAttribute('theme', next);
    this.store('qplay.theme', next === 'auto' ? null : next);
  }

  syncTheme() {
    if (!this.themeButton) return;
    const t = this.host.t;
    const current = this.host.getAttribute('theme') ?? 'auto';
    this.themeButton.textContent = `${t('theme')}: ${t(`theme.${current}`)}`;
    this.themeButton.setAttribute('aria-label', t('themeLabel', { theme: t(`theme.${current}`) }));
  }

  showBuildInfo(info) {
    if (!this.buildInfo || !info) return;
    this.buildInfo.textContent = this.host.t('buildInfo', { version: info.version, kernels: info.kernels });
  }
}
