// The public directory lists: organisations or mediators (the page's `data-page`), filtered by the
// form. The filters live in the address (?category=…&page=…) so a search can be shared and reloaded.

import { $, el } from "../cases/dom.js";
import { mediatorCard, organisationCard } from "./cards.js";
import {
  api, disputeName, loadCategories, loadFailure, mediatorCategoryName, organisationCategoryName, startPage, t,
} from "./common.js";

const KINDS = {
  organisations: { path: "/api/directory/organisations", card: organisationCard, categories: "organisation_categories",
    categoryName: organisationCategoryName, fields: ["name", "category", "dispute_type", "region", "language"] },
  mediators: { path: "/api/directory/mediators", card: mediatorCard, categories: "mediator_categories",
    categoryName: mediatorCategoryName, fields: ["name", "category", "dispute_type", "region", "language", "available"] },
};
const kind = KINDS[document.body.dataset.page];
const form = $("filters");
const PAGE_SIZE = 12;
let page = 1;
let lastResult = null;

function fillSelect(select, values, name) {
  const chosen = select.value || select.dataset.initial || "";
  select.replaceChildren(el("option", { value: "", text: t("dir.all") }),
    ...Object.keys(values).map((key) => el("option", { value: key, text: name(key) })));
  select.value = chosen in values ? chosen : "";
}

function fillOptions(categories) {
  fillSelect(form.elements.category, categories[kind.categories], kind.categoryName);
  if (form.elements.dispute_type) fillSelect(form.elements.dispute_type, categories.dispute_types, disputeName);
}

/** The form's filters as query parameters (blank ones left out). */
function filters() {
  const params = new URLSearchParams();
  for (const field of kind.fields) {
    const input = form.elements[field];
    if (input.type === "checkbox") {
      if (input.checked) params.set(field, "true");
    } else if (input.value.trim()) {
      params.set(field, input.value.trim());
    }
  }
  return params;
}

function readAddress() {
  const params = new URLSearchParams(window.location.search);
  for (const field of kind.fields) {
    const input = form.elements[field];
    if (input.type === "checkbox") input.checked = params.get(field) === "true";
    else if (input.tagName === "SELECT") input.dataset.initial = params.get(field) ?? "";
    else input.value = params.get(field) ?? "";
  }
  page = Math.max(1, Number.parseInt(params.get("page") ?? "1", 10) || 1);
}

function renderResults() {
  const list = $("results");
  const status = $("status");
  if (lastResult === null) return;
  const pages = Math.max(1, Math.ceil(lastResult.total / lastResult.page_size));
  status.dataset.kind = "info";
  status.textContent = lastResult.total === 0 ? t("dir.none") : t("dir.count", { total: lastResult.total });
  list.replaceChildren(...lastResult.items.map(kind.card));
  $("pager").hidden = pages <= 1;
  $("page-number").textContent = t("dir.page", { page: lastResult.page, pages });
  $("previous").disabled = lastResult.page <= 1;
  $("next").disabled = lastResult.page >= pages;
}

async function search() {
  const params = filters();
  if (page > 1) params.set("page", String(page));
  const query = params.toString();
  window.history.replaceState(null, "", query ? `?${query}` : window.location.pathname);
  params.set("page_size", String(PAGE_SIZE));
  document.body.dataset.state = "loading";
  $("status").textContent = t("dir.loading");
  try {
    lastResult = await api.get(`${kind.path}?${params}`);
    renderResults();
  } catch (error) {
    lastResult = null;
    $("results").replaceChildren();
    $("status").dataset.kind = "error";
    $("status").textContent = t(loadFailure(error));
  }
  document.body.dataset.state = "ready";
}

function newSearch() {
  page = 1;
  return search();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  newSearch();
});
for (const select of form.querySelectorAll("select, input[type=checkbox]")) select.addEventListener("change", newSearch);
$("previous").addEventListener("click", () => { page -= 1; search(); });
$("next").addEventListener("click", () => { page += 1; search(); });

startPage(async () => {
  fillOptions(await loadCategories());
  renderResults();
});
readAddress();
try {
  fillOptions(await loadCategories());
} catch (error) {
  $("status").dataset.kind = "error";
  $("status").textContent = t(loadFailure(error));
}
await search();
