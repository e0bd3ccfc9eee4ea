// Small helpers to build the pages' DOM without innerHTML (every text is set as text).

import * as i18n from "../i18n.js";
import { formatDateTime } from "../dates.js";
import { ApiFailure } from "./api.js";

/** `el("div", {class: "x", dataset: {a: 1}, onclick: fn}, child, "text", ...)`. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const $ = (id) => document.getElementById(id);

/** A date-time in the reader's locale and time zone (24-hour). */
export function when(iso) {
  return formatDateTime(iso) || "—";
}

/** A file size a person reads: bytes, KB or MB. */
export function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Yuan from fen, with thousands separators. */
export function yuan(fen) {
  if (fen === null || fen === undefined) return "—";
  return `¥${(fen / 100).toLocaleString("zh-CN", { minimumFractionDigits: 2 })}`;
}

/** The user-facing text for a failed call: a translated code, field problems, or the server's words. */
export function errorText(error) {
  if (!(error instanceof ApiFailure)) return i18n.t("error.generic", { message: String(error) });
  const text = i18n.errorMessage(error.code, error.message, error.details);
  const unmet = Array.isArray(error.details.unmet) ? error.details.unmet : [];
  return unmet.length === 0 ? text : `${text} ${unmet.map((u) => `✗ ${conditionText(u)}（${basisText(u)}）`).join("；")}`;
}

/** A statutory condition of a payment order in the page's words (applications filed before the
 * conditions had codes show the server's English). */
export function conditionText(check) {
  return check.code && i18n.has(`condition.${check.code}`) ? i18n.t(`condition.${check.code}`) : check.condition;
}

/** The legal basis of a condition: "CPL art. 225" → 《民事诉讼法》第二百二十五条. */
export function basisText(check) {
  return check.basis.split(" / ").map((part) => {
    const key = `basis.${part.replace(/[^a-z0-9]+/gi, "_").toLowerCase()}`;
    return i18n.has(key) ? i18n.t(key) : part;
  }).join("、");
}

/** Copy a read-only field's text (a link, a new API key) and say so on `button`. */
export async function copyField(input, button) {
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select(); // clipboard refused (permissions, plain HTTP): the text is selected to copy by hand
    document.execCommand("copy");
  }
  button.textContent = i18n.t("video.copied");
}

/** Show `text` in a notice box; `kind` is "info" or "error". */
export function notify(box, kind, text) {
  box.hidden = false;
  box.dataset.kind = kind;
  box.textContent = text;
}

/** Run `action` with `button` disabled, reporting a failure in `box`. Returns the action's result or undefined. */
export async function busy(button, box, action) {
  button.disabled = true;
  box.hidden = true; // an earlier answer no longer applies
  try {
    return await action();
  } catch (error) {
    notify(current(box), "error", errorText(error));
    return undefined;
  } finally {
    button.disabled = false;
  }
}

/** A live update may have redrawn the panel while the request was in flight: the answer belongs in
 * the notice of the panel now on the page (same panel id), not in the detached old one. */
function current(box) {
  if (box.isConnected) return box;
  const panelId = box.parentElement?.id;
  return (panelId && document.getElementById(panelId)?.querySelector(":scope > .notice")) || box;
}
