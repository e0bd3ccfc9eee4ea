// What every public page shares: its texts, the language switch, category names, the directory API.

import * as i18n from "../i18n.js";
import { api } from "../cases/api.js";
import { DISPUTE_TYPES_EN, MEDIATOR_CATEGORIES_EN, MESSAGES } from "../cases/messages.js";
import { ORGANISATION_CATEGORIES_EN, PUBLIC_MESSAGES } from "./messages.js";
import { GUIDANCE_MESSAGES } from "./guidance_messages.js";
import { mountAssistant } from "./assistant_widget.js";

export { api };
export const t = i18n.t;

/** Register the texts, translate the page, wire the language button; `render` re-runs on a switch. */
export function startPage(render = () => {}) {
  i18n.register(MESSAGES);
  i18n.register(PUBLIC_MESSAGES);
  i18n.register(GUIDANCE_MESSAGES);
  i18n.applyTranslations(document);
  const relabelAssistant = mountAssistant();
  document.getElementById("lang").addEventListener("click", i18n.toggleLanguage);
  for (const link of document.querySelectorAll(".nav a")) {
    if (link.pathname === window.location.pathname) link.setAttribute("aria-current", "page");
  }
  i18n.onLanguageChange(() => {
    relabelAssistant?.();
    render();
  });
}

let categories = null;

/** `GET /api/directory/categories`, fetched once: the server's (Chinese) names of every category. */
export async function loadCategories() {
  categories ??= await api.get("/api/directory/categories");
  return categories;
}

function label(kind, english, key) {
  if (i18n.language() === "en" && english[key]) return english[key];
  return categories?.[kind]?.[key] ?? key;
}

export const disputeName = (key) => label("dispute_types", DISPUTE_TYPES_EN, key);
export const mediatorCategoryName = (key) => label("mediator_categories", MEDIATOR_CATEGORIES_EN, key);
export const organisationCategoryName = (key) => label("organisation_categories", ORGANISATION_CATEGORIES_EN, key);

/** The message key for a failed load: "not found" for a 404, else a plain "try later". */
export function loadFailure(error) {
  return error?.status === 404 ? "dir.notFound" : "dir.failed";
}
