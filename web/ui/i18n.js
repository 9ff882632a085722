// UI strings live in one file per language (web/i18n/en.js, web/i18n/ko.js), both with the same
// keys; English fills any key a translation lacks. Placeholders are written {name}.
import en from '../i18n/en.js';
import ko from '../i18n/ko.js';

export const LANGUAGES = { en, ko };

export function defaultLanguage() {
  const wanted = navigator.languages?.length ? navigator.languages : [navigator.language ?? 'en'];
  for (const l of wanted) {
    const base = String(l).toLowerCase().split('-')[0];
    if (base in LANGUAGES) return base;
  }
  return 'en';
}

export function translator(lang) {
  const dict = LANGUAGES[lang] ?? en;
  return (key, vars) => {
    let s = dict[key] ?? en[key];
    if (s === undefined) return key;
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
    return s;
  };
}
