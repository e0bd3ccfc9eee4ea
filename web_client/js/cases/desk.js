// The mediator's desk: first what to do (`GET /api/me/desk`: assignments to answer, steps whose time
// limit has passed, today's video sessions), then the cases.

import * as i18n from "../i18n.js";
import { api } from "./api.js";
import { renderCaseList } from "./case_list.js";
import { el, errorText, when } from "./dom.js";
import { disputeLabel, loadDisputeTypes, stepLabel } from "./labels.js";

function caseLine(c) {
  const parties = Object.entries(c.parties).map(([side, name]) => `${i18n.t(`side.${side}`)} ${name}`).join(" / ");
  return [el("a", { href: `#case/${c.case_id}`, class: "desk-link", text: c.case_number ?? c.case_id }),
    el("span", { class: "hint", text: ` ${disputeLabel(c.dispute_type ?? "")} · ${parties}` })];
}

function group(id, headingKey, items, render) {
  return el("section", { class: "todo-group", id },
    el("h2", { text: `${i18n.t(headingKey)}（${items.length}）` }),
    items.length === 0 ? el("p", { class: "hint", text: i18n.t("desk.none") })
      : el("ul", { class: "documents" }, items.map((item) => el("li", {}, render(item)))));
}

export async function renderDesk(context) {
  const card = el("section", { class: "card", id: "desk" }, el("h1", { text: i18n.t("desk.heading") }));
  context.view.append(card);
  let desk;
  try {
    await loadDisputeTypes(api);
    desk = await api.get("/api/me/desk");
  } catch (error) {
    card.append(el("p", { class: "notice", dataset: { kind: "error" }, text: errorText(error) }));
    return renderCaseList(context);
  }
  card.append(
    group("desk-sessions", "desk.sessionsToday", desk.sessions_today, (s) => [
      el("strong", { text: when(s.session.starts_at) }), " ",
      ...caseLine({ case_id: s.session.case_id, case_number: s.case_number, parties: s.parties }),
      s.session.open_now ? el("span", { class: "flag", text: i18n.t("sessions.openNow") }) : null]),
    group("desk-assignments", "desk.assignments", desk.assignments, (a) => [
      ...caseLine(a.case), el("span", { class: "hint", text: ` · ${i18n.t("desk.chosenAt", { at: when(a.chosen_at) })}` })]),
    group("desk-overdue", "desk.overdue", desk.overdue, (o) => [
      ...caseLine(o.case), " ", el("span", { class: "flag", text: i18n.t("desk.overdueSince", {
        step: stepLabel(o.kind.replace(/^step:/, "")), at: when(o.due_at) }) })]));
  return renderCaseList(context);
}
