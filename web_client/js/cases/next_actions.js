// Who acts next, as the server computes it (`next_actions` in the case view), in plain words:
// "轮到您：…" for the reader's own actions, "等待…" for everyone else's. The page never works
// out the workflow itself; it only recognises which of the server's actions are the reader's.

import * as i18n from "../i18n.js";
import { el, when } from "./dom.js";

const PARTY_ROLES = ["party", "agent"];
const COURT_ROLES = ["court_clerk", "judge"];

/** Whether `action` is for the signed-in `account` on this case. */
export function isMine(action, account, caseView) {
  // A signature field belongs to one participant: the one the server names.
  if (action.action === "sign" && action.account_id) return action.account_id === account.id;
  if (action.role === "party") return PARTY_ROLES.includes(account.role) && caseView.your_sides.includes(action.side);
  if (action.role === "mediator") return account.role === "mediator" && action.account_id === account.id;
  if (action.role === "org_admin") return account.role === "org_admin" && account.organisation === action.organisation;
  if (COURT_ROLES.includes(action.role)) return account.role === action.role && account.court === action.court;
  return false; // "signers" (the next signer not known here): the signing page tells each signer
}

/** The reader's own actions of one kind (e.g. "rate"), first the one for their first side. */
export function myActions(caseView, account, code) {
  return caseView.next_actions.filter((a) => a.action === code && isMine(a, account, caseView));
}

function actorName(action) {
  if (action.role === "party") return i18n.t(`side.${action.side}`);
  if (action.role === "agent") return i18n.t("who.agent", { side: i18n.t(`side.${action.side}`) });
  if (COURT_ROLES.includes(action.role)) return i18n.t(`who.${action.role}`, { court: action.court ?? "" });
  return i18n.has(`who.${action.role}`) ? i18n.t(`who.${action.role}`) : action.role;
}

function task(action) {
  const kind = action.application_kind ? i18n.t(`court.kind.${action.application_kind}`) : "";
  const key = `next.${action.action}`;
  return i18n.has(key) ? i18n.t(key, { kind, court: action.court ?? "" }) : action.action;
}

function due(actions) {
  const dated = actions.filter((a) => a.due_at).sort((x, y) => x.due_at.localeCompare(y.due_at));
  if (dated.length === 0) return null;
  return el("span", { class: "next-due" }, i18n.t("next.due", { at: when(dated[0].due_at) }),
    dated.some((a) => a.overdue) ? el("span", { class: "flag", text: i18n.t("timeline.overdue") }) : null);
}

/** Group actions of the same kind on the same application, so both parties' turn reads as one line. */
function grouped(actions) {
  const groups = new Map();
  for (const action of actions) {
    const key = `${action.action}/${action.application_id ?? ""}`;
    groups.set(key, [...(groups.get(key) ?? []), action]);
  }
  return [...groups.values()];
}

/** The "who acts next" box of the case page (`#next-actor`). */
export function nextActionsBox(caseView, account) {
  const box = el("div", { class: "next", id: "next-actor", role: "status" });
  if (caseView.next_actions.length === 0) {
    box.append(el("p", { text: i18n.t(caseView.status === "closed" ? "case.nobody" : "next.none") }));
    return box;
  }
  const mine = caseView.next_actions.filter((a) => isMine(a, account, caseView));
  const others = caseView.next_actions.filter((a) => !mine.includes(a));
  for (const group of grouped(mine)) {
    box.append(el("p", { dataset: { action: group[0].action, mine: "yes" } },
      i18n.t("next.yours", { what: task(group[0]) }), " ", due(group)));
  }
  for (const group of grouped(others)) {
    const who = group.map(actorName).join(i18n.t("next.and"));
    box.append(el("p", { dataset: { action: group[0].action, mine: "no" } },
      i18n.t("next.waiting", { who, what: task(group[0]) }), " ", due(group)));
  }
  return box;
}
