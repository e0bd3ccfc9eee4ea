// Every string a page shows goes through t(): Chinese by default, English on request.
// Pages register their message tables; the choice is kept in localStorage (shared by every
// page of the site) so a reload keeps the language. The table of the server's error codes
// (error_messages.js) is registered here, first, so that every page has every code.

import { ERROR_MESSAGES } from "./error_messages.js";
import "./form_checks.js"; // every page's forms check themselves in the page's words

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
register(ERROR_MESSAGES);

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

/** Fill every `data-i18n` (text) and `data-i18n-placeholder` / `data-i18n-title` / `data-i18n-label`
 * (the accessible name, `aria-label`) element under `root`. */
export function applyTranslations(root = document) {
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
}

/** The message for an error code, its `{placeholders}` filled from the error's `details`; a code
 * without one (a newer server) says "that did not work" in the page's words. */
export function errorMessage(code, serverMessage, details = {}) {
  const key = `error.${code}`;
  if (has(key)) {
    const fields = Array.isArray(details?.errors) ? fieldProblems(details.errors).join("；") : "";
    return t(key, { ...details, fields });
  }
  if (/^http_\d+$/.test(code ?? "")) return t("error.http", { status: code.slice(5) });
  return t("error.generic", { message: serverMessage || code });
}

/** The words for one problem the server's validation found (`{field, type, ctx}`), without the field. */
export function problemText(problem) {
  const key = `validation.${problem.type}`;
  return t(has(key) ? key : "validation.invalid", problem.ctx ?? {});
}

/** A field's label from its path's named parts ("respondent.id_number" → "被申请人 · 身份证号码");
 * parts without a `field.<name>` label are left out, a path with none shows as it is. */
export function fieldLabel(path) {
  const names = String(path ?? "").split(".").filter((part) => part !== "" && !/^\d+$/.test(part));
  const labels = names.filter((name) => has(`field.${name}`)).map((name) => t(`field.${name}`));
  return labels.length > 0 ? labels.join(" · ") : names.join(".");
}

/** "label: problem" for each problem of an `invalid_body` / `invalid_query` refusal. */
export function fieldProblems(problems) {
  return problems.map((p) => t("validation.fieldProblem", { field: fieldLabel(p.field), problem: problemText(p) }));
}
