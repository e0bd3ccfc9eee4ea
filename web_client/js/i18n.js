// Every string a page shows goes through t(): Chinese by default, English on request.
// Pages register their message tables; the choice is kept in localStorage (shared by every
// page of the site) so a reload keeps the language.

const STORAGE_KEY = "accord.lang";
const LANGUAGES = ["zh", "en"];
const tables = { zh: {}, en: {} };

const listeners = new Set();

function initialLanguage() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (LANGUAGES.includes(saved)) return saved;
  } catch {
    // Storage may be disabled (private mode); fall back to the default.
  }
  return "zh";
}

let current = initialLanguage();

/** Add a page's messages: `{zh: {...}, en: {...}}`. */
export function register(messages) {
  Object.assign(tables.zh, messages.zh);
  Object.assign(tables.en, messages.en);
}

/** Translate `key`, filling `{name}` placeholders from `params`. Unknown keys show the key itself. */
export function t(key, params = {}) {
  const template = tables[current][key] ?? tables.zh[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

/** True when `key` has a translation: lets callers fall back for codes the server may add later. */
export function has(key) {
  return key in tables.zh;
}

/** The language in use: "zh" or "en". */
export function language() {
  return current;
}

export function setLanguage(lang) {
  if (!LANGUAGES.includes(lang) || lang === current) return;
  current = lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // Not persisted; the switch still applies to this page.
  }
  applyTranslations(document);
  for (const listener of listeners) listener(lang);
}

export function toggleLanguage() {
  setLanguage(current === "zh" ? "en" : "zh");
}

/** Re-render when the language changes (for text built in JavaScript). */
export function onLanguageChange(listener) {
  listeners.add(listener);
}

/** Fill every `data-i18n` (text) and `data-i18n-placeholder` / `data-i18n-title` element under `root`. */
export function applyTranslations(root = document) {
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}

/** The message for a protocol error code; codes without one show the server's own text. */
export function errorMessage(code, serverMessage) {
  const key = `error.${code}`;
  if (has(key)) return t(key);
  return has("error.generic") ? t("error.generic", { message: serverMessage || code }) : serverMessage || code;
}
