// A directory entry's own page: a mediator (speciality, languages, the record if there is one) or
// an organisation (its details, counts and mediators), by `?id=` in the address.

import { $, el } from "../cases/dom.js";
import { availability, mediatorCard, tags } from "./cards.js";
import {
  api, disputeName, loadCategories, loadFailure, mediatorCategoryName, organisationCategoryName, startPage, t,
} from "./common.js";

const kind = document.body.dataset.page; // "mediator" or "organisation"
const id = new URLSearchParams(window.location.search).get("id");
let data = null;

function facts(rows) {
  return el("dl", { class: "facts" }, rows.filter(([, value]) => value !== null && value !== "" && value !== undefined)
    .map(([key, value]) => [el("dt", { text: t(key) }), el("dd", {}, value)]));
}

function stat(key, value) {
  return el("div", { class: "stat", dataset: { stat: key } }, el("strong", { text: value }), el("span", { text: t(key) }));
}

function renderMediator({ detail }) {
  const m = detail.mediator;
  document.title = `${m.name} · Accord`;
  $("profile").replaceChildren(
    el("h1", { text: m.name }),
    el("p", { class: "hint", text: mediatorCategoryName(m.category) }),
    availability(m.available),
    facts([
      ["dir.organisation", el("a", { href: `/organisation.html?id=${encodeURIComponent(m.organisation_id)}`, text: m.organisation })],
      ["dir.region", m.region],
      ["dir.specialities", m.specialities.length ? tags(m.specialities, disputeName) : null],
      ["dir.languages", m.languages.length ? tags(m.languages) : null],
      ["dir.intro", m.intro],
    ]),
    el("div", { class: "actions" },
      el("a", { class: "button primary", href: "/cases.html?channel=party#apply", text: t("dir.applyWith") })));
  // The record shows only figures that exist: no "0%" for a mediator without decided cases.
  const figures = [];
  if (detail.decided_cases > 0) {
    figures.push(stat("dir.settled", String(detail.settled_cases)),
      stat("dir.successRate", `${Math.round(detail.success_rate * 100)}%`));
  }
  if (detail.ratings > 0) {
    figures.push(stat("dir.satisfaction", detail.satisfaction.toFixed(1)), stat("dir.ratings", String(detail.ratings)));
  }
  $("record").replaceChildren(el("h2", { text: t("dir.record") }),
    figures.length ? el("div", { class: "stats" }, figures) : el("p", { class: "hint", text: t("dir.noRecord") }));
}

function renderOrganisation({ detail, mediators }) {
  const o = detail.organisation;
  document.title = `${o.name} · Accord`;
  // el() drops a missing child; replaceChildren would print "null".
  $("profile").replaceChildren(el("div", {},
    el("h1", { text: o.name }),
    el("p", { class: "hint", text: organisationCategoryName(o.category) }),
    facts([["dir.region", o.region], ["dir.address", o.address], ["dir.contact", o.contact], ["dir.intro", o.intro]]),
    el("p", { text: t("dir.mediatorsCount", { total: detail.mediators, available: detail.available_mediators }) }),
    detail.closed_cases > 0 ? el("div", { class: "stats" }, stat("dir.closedCases", String(detail.closed_cases)),
      stat("dir.settled", String(detail.settled_cases))) : null));
  $("record").replaceChildren(el("h2", { text: t("dir.mediatorsOf") }),
    el("ul", { class: "results" }, mediators.items.map(mediatorCard)));
  $("record").hidden = mediators.items.length === 0;
}

function showStatus(key) {
  $("status").dataset.kind = "error";
  $("status").dataset.key = key;
  $("status").textContent = t(key);
}

function render() {
  if (data === null) {
    if ($("status").dataset.key) showStatus($("status").dataset.key);
    return;
  }
  if (kind === "mediator") renderMediator(data);
  else renderOrganisation(data);
}

async function load() {
  const path = `/api/directory/${kind}s/${encodeURIComponent(id)}`;
  const detail = await api.get(path);
  const mediators = kind === "organisation"
    ? await api.get(`/api/directory/mediators?organisation_id=${encodeURIComponent(id)}&page_size=100`) : null;
  return { detail, mediators };
}

startPage(render);
$("status").textContent = t("dir.loading");
if (!id) {
  showStatus("dir.missingId");
} else {
  try {
    await loadCategories();
    data = await load();
    $("status").hidden = true;
    $("profile").hidden = false;
    $("record").hidden = false;
    render();
  } catch (error) {
    showStatus(loadFailure(error));
  }
}
document.body.dataset.state = "ready";
