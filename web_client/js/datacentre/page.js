// The data centre page: staff (administrators, court staff, mediators) see their scope's
// dashboard with filters, tables and CSV export; everyone else the platform's public summary.
// The filters live in the address (?since=…&dispute_type=…) so a view can be shared and reloaded.

import * as i18n from "../i18n.js";
import { $, el } from "../cases/dom.js";
import { whoAmI } from "../cases/api.js";
import { api, disputeName, loadCategories, startPage, t } from "../public/common.js";
import { bars, draw, months, percent, pie, stepTimes } from "./charts.js";
import { DATACENTRE_MESSAGES } from "./messages.js";

const STAFF = ["platform_admin", "org_admin", "court_clerk", "judge", "mediator"];
const FIELDS = ["since", "until", "dispute_type", "organisation"];
const form = $("filters");
let staff = false;
let figures = null;

const stepName = (key) => t(`step.${key}`);
const outcomeName = (key) => (key === "pending" ? t("dc.pending") : t(`case.outcome.${key}`));

function filters() {
  const params = new URLSearchParams();
  for (const name of FIELDS) {
    const value = form.elements[name].value.trim();
    if (value && (staff || name !== "organisation")) params.set(name, value);
  }
  return params;
}

function readAddress() {
  const params = new URLSearchParams(window.location.search);
  for (const name of FIELDS) {
    const input = form.elements[name];
    if (input.tagName === "SELECT") input.dataset.initial = params.get(name) ?? "";
    else input.value = params.get(name) ?? "";
  }
}

function scopeText(data) {
  if (!staff) return t("dc.scope.public");
  const { organisation, court, mediator } = data.scope;
  if (mediator) return t("dc.scope.mediator");
  if (court) return t("dc.scope.court", { name: court });
  if (organisation) return t("dc.scope.organisation", { name: organisation });
  return t("dc.scope.platform");
}

function kpis(data) {
  const c = data.cases;
  const items = [["dc.total", c.total], ["dc.open", c.open], ["dc.decided", c.decided], ["dc.settled", c.settled],
    ["dc.rate", percent(c.settlement_rate)]];
  if (!staff) items.push(["dc.organisations", data.organisations], ["dc.mediators", data.mediators]);
  $("kpis").replaceChildren(...items.map(([key, value]) =>
    el("div", { class: "kpi", dataset: { kpi: key.slice(3) } }, el("strong", { text: String(value) }), el("span", { text: t(key) }))));
}

function table(id, columns, rows) {
  $(id).replaceChildren(
    el("thead", {}, el("tr", {}, columns.map(([key]) => el("th", { text: t(key) })))),
    el("tbody", {}, rows.map((row) => el("tr", {}, columns.map(([, value]) => el("td", { text: String(value(row) ?? "—") }))))));
}

const rateOf = (key) => (row) => percent(row[key]);

function tables(data) {
  table("organisations", [
    ["dc.col.name", (o) => o.organisation], ["dc.col.cases", (o) => o.cases], ["dc.col.accepted", (o) => o.accepted],
    ["dc.col.declined", (o) => o.declined], ["dc.col.declineRate", rateOf("decline_rate")],
    ["dc.col.decided", (o) => o.decided], ["dc.col.settled", (o) => o.settled], ["dc.col.successRate", rateOf("success_rate")],
    ["dc.col.satisfaction", (o) => o.satisfaction], ["dc.col.ratings", (o) => o.ratings], ["dc.col.complaints", (o) => o.complaints],
  ], data.organisations);
  table("mediators", [
    ["dc.col.name", (m) => m.name], ["dc.col.organisation", (m) => m.organisation], ["dc.col.accepted", (m) => m.cases_accepted],
    ["dc.col.declined", (m) => m.cases_declined], ["dc.col.declineRate", rateOf("decline_rate")],
    ["dc.col.decided", (m) => m.cases_decided], ["dc.col.settled", (m) => m.cases_settled],
    ["dc.col.successRate", rateOf("success_rate")], ["dc.col.satisfaction", (m) => m.satisfaction],
    ["dc.col.ratings", (m) => m.ratings], ["dc.col.complaints", (m) => m.complaints],
  ], data.mediators);
  $("organisations-card").hidden = data.organisations.length === 0;
}

function exportLinks() {
  for (const link of document.querySelectorAll("#exports a")) {
    const params = filters();
    params.set("table", link.dataset.table);
    link.href = `/api/statistics/dashboard.csv?${params}`;
  }
}

function render() {
  if (!figures) return;
  const data = figures;
  $("scope").textContent = scopeText(data);
  kpis(data);
  const c = data.cases;
  draw("chart-types", pie(c.by_dispute_type.map((x) => [disputeName(x.key), x.cases])));
  draw("chart-outcomes", pie(c.by_outcome.map((x) => [outcomeName(x.key), x.cases])));
  draw("chart-steps", bars(c.by_step.map((x) => stepName(x.key)), c.by_step.map((x) => x.cases), t("dc.cases")));
  draw("chart-months", months(data.months, { decided: t("dc.decidedSeries"), settled: t("dc.settledSeries"), rate: t("dc.rateSeries") }));
  draw("chart-step-times", stepTimes(data.steps, stepName, { mean: t("dc.meanDays"), limit: t("dc.limitDays"), overdue: t("dc.overdue") }));
  if (staff) {
    tables(data);
    exportLinks();
  }
}

function fillTypes(categories) {
  const select = form.elements.dispute_type;
  const chosen = select.value || select.dataset.initial || "";
  select.replaceChildren(el("option", { value: "", text: t("dir.all") }),
    ...Object.keys(categories.dispute_types).map((key) => el("option", { value: key, text: disputeName(key) })));
  select.value = chosen in categories.dispute_types ? chosen : "";
}

function showStatus(key) {
  $("status").hidden = !key;
  $("status").dataset.kind = "error";
  $("status").textContent = key ? t(key) : "";
}

async function load() {
  document.body.dataset.state = "loading";
  const path = staff ? "/api/statistics/dashboard" : "/api/statistics/public";
  try {
    figures = await api.get(`${path}?${filters()}`);
    showStatus(null);
    render();
    document.body.dataset.state = "ready";
  } catch (error) {
    showStatus(error?.status === 403 ? "dc.forbidden" : error?.status === 422 ? "dc.badFilters" : "dc.failed");
    document.body.dataset.state = "failed";
  }
}

async function start() {
  i18n.register(DATACENTRE_MESSAGES);
  startPage(() => {
    loadCategories().then(fillTypes).catch(() => {});
    render();
  });
  readAddress();
  const account = await whoAmI().catch(() => null);
  staff = Boolean(account && STAFF.includes(account.role));
  for (const node of document.querySelectorAll("[data-staff]")) node.hidden = !staff;
  document.body.dataset.audience = staff ? "staff" : "public";
  loadCategories().then(fillTypes).catch(() => {});
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    history.replaceState(null, "", `?${filters()}`);
    load();
  });
  await load();
}

start();
