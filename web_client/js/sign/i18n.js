// Translations for the signing and verification pages: Chinese by default, English on request.
// Each page registers its own message tables; the choice of language is shared with the room
// page through the same localStorage key.

const STORAGE_KEY = "accord.lang";
const tables = { zh: {}, en: {} };
const listeners = new Set();

function initialLanguage() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === "zh" || saved === "en") return saved;
  } catch {
    // Storage disabled: keep the default.
  }
  return "zh";
}

let current = initialLanguage();

/** Add a page's messages: `{zh: {...}, en: {...}}`. */
export function register(messages) {
  Object.assign(tables.zh, messages.zh);
  Object.assign(tables.en, messages.en);
}

export function language() {
  return current;
}

/** Translate `key`, filling `{name}` placeholders from `params`. */
export function t(key, params = {}) {
  const template = tables[current][key] ?? tables.zh[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

export function has(key) {
  return key in tables.zh;
}

/** The message for a server error code, or the server's own text for codes without one. */
export function errorText(code, serverMessage) {
  return has(`error.${code}`) ? t(`error.${code}`) : serverMessage || code;
}

export function apply(root = document) {
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
}

export function toggle() {
  current = current === "zh" ? "en" : "zh";
  try {
    localStorage.setItem(STORAGE_KEY, current);
  } catch {
    // Not persisted; applies to this page only.
  }
  apply();
  for (const listener of listeners) listener(current);
}

export function onChange(listener) {
  listeners.add(listener);
}
