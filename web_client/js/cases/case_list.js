// The cases the signed-in person takes part in (`GET /api/cases`), newest first.

import * as i18n from "../i18n.js";
import { api } from "./api.js";
import { cardsOnPhones } from "../table_cards.js";
import { el, errorText, when } from "./dom.js";
import { disputeLabel, loadDisputeTypes, stepLabel } from "./labels.js";

export async function renderCaseList({ account, view }, headingKey = "list.heading") {
  const card = el("section", { class: "card" }, el("div", { class: "card-head" },
    el("h1", { text: i18n.t(headingKey) }),
    ["party", "agent"].includes(account.role)
      ? el("a", { class: "button primary", href: "#apply", text: i18n.t("nav.apply") }) : null));
  view.append(card);
  let cases;
  try {
    await loadDisputeTypes(api);
    cases = await api.get("/api/cases");
  } catch (error) {
    card.append(el("p", { class: "notice", dataset: { kind: "error" }, text: errorText(error) }));
    return;
  }
  if (cases.length === 0) {
    card.append(el("p", { class: "hint", text: i18n.t("list.empty") }));
    return;
  }
  const rows = cases.map((c) => el("tr", { dataset: { caseId: c.id, status: c.status } },
    el("td", {}, el("a", { href: `#case/${c.id}`, class: "case-link", text: c.id }),
      c.case_number ? el("div", { class: "case-number", text: c.case_number }) : null),
    el("td", { text: disputeLabel(c.dispute_type) }),
    el("td", { text: Object.entries(c.parties).map(([side, name]) => `${i18n.t(`side.${side}`)} ${name}`).join(" / ") }),
    el("td", {}, el("span", { class: "step-pill", dataset: { step: c.step }, text: stepLabel(c.step) }),
      c.outcome ? el("span", { class: "outcome", text: i18n.t(`case.outcome.${c.outcome}`) }) : null),
    el("td", { text: when(c.updated_at) })));
  card.append(cardsOnPhones(el("table", { class: "table", id: "case-list" },
    el("thead", {}, el("tr", {}, ["list.id", "list.type", "list.parties", "list.step", "list.updated"]
      .map((key) => el("th", { text: i18n.t(key) })))),
    el("tbody", {}, rows))));
}
