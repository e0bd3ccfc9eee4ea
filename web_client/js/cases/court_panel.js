// Step 7 on the case page: a party applies for judicial confirmation at a court chosen from the
// court directory (`GET /api/courts`), the other party joins that application, a creditor may
// apply for a payment order; and, once the court has ruled, the final state in plain words with
// the documents to open.

import * as i18n from "../i18n.js";
import { formatLongDate } from "../dates.js";
import { api } from "./api.js";
import { busy, el } from "./dom.js";
import { myActions } from "./next_actions.js";
import { packageView } from "./package_panel.js";

const DECLARATIONS = ["no_other_debt_dispute", "debtor_reachable_in_china", "no_pre_suit_preservation"];
const casePath = (c, rest) => `/api/cases/${encodeURIComponent(c.id)}/${rest}`;

/** The court choice: the case's own court when it has one (a delegating court), else the directory's list. */
async function courtChoice(c) {
  if (c.court) {
    return el("select", { name: "court", disabled: true, "aria-label": i18n.t("action.court") },
      el("option", { value: c.court, text: c.court }));
  }
  const courts = await api.get("/api/courts");
  if (courts.length === 0) { // a deployment that lists no courts yet: the name is typed
    return el("input", { name: "court", maxlength: 100, placeholder: i18n.t("action.court") });
  }
  return el("select", { name: "court", "aria-label": i18n.t("action.court") },
    el("option", { value: "", text: i18n.t("court.choose") }),
    courts.map((court) => el("option", { value: court.name, text: court.code ? `${court.name}（${court.code}）` : court.name })));
}

function applicationLine(a) {
  const parts = [el("strong", { text: i18n.t(`court.kind.${a.kind}`) }), ` ${a.id} · ${a.court} · `,
    el("span", { class: "status", dataset: { status: a.status }, text: i18n.t(`court.status.${a.status}`) })];
  if (a.status === "refused" && a.reasons) parts.push(el("span", { class: "hint", text: ` ${i18n.t("court.because", { reasons: a.reasons })}` }));
  return el("li", { dataset: { applicationId: a.id, status: a.status } }, parts);
}

/** The party's court panel (`#court-panel`); what it offers follows the server's next actions. */
export async function courtPanel(c, account, applications, refresh) {
  const notice = el("p", { class: "notice", role: "status", hidden: true });
  const panel = el("section", { class: "card panel", id: "court-panel" }, el("h2", { text: i18n.t("step.court_docking") }));
  const [apply] = myActions(c, account, "apply_confirmation");
  const [join] = myActions(c, account, "join_application");
  const waiting = applications.find((a) => a.status === "awaiting_joint" && !join);
  const orderOpen = applications.some((a) => a.kind === "payment_order" && ["filed", "accepted"].includes(a.status));
  const terms = c.result?.payment_terms;
  const creditorSides = terms ? c.your_sides.filter((s) => s !== terms.debtor_side) : [];
  const offerOrder = creditorSides.length > 0 && !orderOpen; // only the creditor applies (CPL art. 225)

  if (applications.length > 0) panel.append(el("ul", { class: "applications" }, applications.map(applicationLine)));
  if (waiting) panel.append(el("p", { class: "hint", id: "awaiting-other", text: i18n.t("court.awaitingOther", { court: waiting.court }) }));
  if (join) {
    const button = el("button", { type: "button", class: "primary", id: "join-confirmation", text: i18n.t("action.joinConfirmation") });
    panel.append(el("p", { text: i18n.t("court.joinIntro", { court: join.court }) }), el("div", { class: "actions" }, button));
    button.addEventListener("click", () => busy(button, notice, async () => {
      await api.post(casePath(c, "court/confirmation"), { side: join.side });
      await refresh();
    }));
  }
  const court = apply || offerOrder ? await courtChoice(c) : null;
  const chosenCourt = () => court.value.trim() || null;
  if (apply) {
    const button = el("button", { type: "button", class: "primary", id: "apply-confirmation", text: i18n.t("action.confirmation") });
    panel.append(el("p", { class: "hint", text: i18n.t("court.applyIntro") }),
      el("label", { class: "field" }, el("span", { text: i18n.t("action.court") }), court),
      el("div", { class: "actions" }, button));
    button.addEventListener("click", () => busy(button, notice, async () => {
      await api.post(casePath(c, "court/confirmation"), { court: chosenCourt(), side: apply.side });
      await refresh();
    }));
  }
  if (offerOrder) {
    // What only the creditor can declare (CPL art. 225, interpretation art. 427); the court checks the rest.
    const declarations = DECLARATIONS.map((name) => el("label", { class: "check" },
      el("input", { type: "checkbox", name }), i18n.t(`declare.${name}`)));
    const button = el("button", { type: "button", id: "apply-payment-order", text: i18n.t("action.paymentOrder") });
    panel.append(apply ? null : el("label", { class: "field" }, el("span", { text: i18n.t("action.court") }), court),
      el("div", { class: "declarations" }, el("span", { class: "hint", text: i18n.t("declare.heading") }), declarations),
      el("div", { class: "actions" }, button));
    const side = creditorSides[0];
    button.addEventListener("click", () => busy(button, notice, async () => {
      const declared = Object.fromEntries(declarations.map((label) => {
        const box = label.querySelector("input");
        return [box.name, box.checked];
      }));
      await api.post(casePath(c, "court/payment-order"), { court: chosenCourt(), side, ...declared });
      await refresh();
    }));
  }
  panel.append(notice);
  return panel;
}

function rulingText(a) {
  const params = { date: formatLongDate(a.ruled_at), court: a.court };
  return i18n.t(`final.${a.kind}.${a.ruling}`, params);
}

/** The end of the case in plain words (`#final-state`), or null while it is still going on. */
export function finalState(c, applications, account) {
  const ruled = applications.filter((a) => a.status === "ruled");
  if (c.status !== "closed" && ruled.length === 0) return null;
  const lines = ruled.map((a) => el("p", { class: "final-line", dataset: { kind: a.kind, ruling: a.ruling } },
    rulingText(a), a.ruling === "rejected" && a.reasons ? ` ${i18n.t("court.because", { reasons: a.reasons })}` : ""));
  if (c.outcome === "refused") lines.push(el("p", { class: "final-line", text: i18n.t("final.refused") }));
  if (c.outcome === "failed") {
    lines.push(el("p", { class: "final-line", text: i18n.t("final.failed", {
      reasons: (c.result?.failure_reasons ?? []).join(i18n.t("next.and")) }) }));
  }
  const links = [];
  if (c.result?.agreement_pdf_url) {
    links.push(el("a", { class: "button", id: "open-final-agreement", href: c.result.agreement_pdf_url, target: "_blank", "data-viewer": true,
      rel: "noopener", text: i18n.t("final.openAgreement") }));
  }
  // The ruling is served on the parties and kept by the court that ruled (the server says the same).
  const receives = (a) => ["party", "agent"].includes(account.role)
    || (["court_clerk", "judge"].includes(account.role) && account.court === a.court);
  for (const a of ruled.filter((r) => r.ruling_document_id && receives(r))) {
    // A payment order when issued; every other ruling is a 民事裁定书.
    const title = a.kind === "payment_order" && a.ruling === "issued" ? "payment_order" : "judicial_confirmation";
    links.push(el("a", { class: "button primary", dataset: { applicationId: a.id }, id: `open-ruling-${a.id}`,
      href: `/api/court/applications/${encodeURIComponent(a.id)}/ruling.pdf`, target: "_blank", rel: "noopener", "data-viewer": true,
      text: i18n.t(`final.openRuling.${title}`) }));
  }
  let pack = null;
  if (["party", "agent", "court_clerk", "judge"].includes(account.role)) {
    pack = packageView(c);
    links.push(pack.button, el("a", { class: "button", id: "download-package", href: casePath(c, "package"),
      text: i18n.t("final.package") }));
  }
  return el("section", { class: "card final", id: "final-state" }, el("h2", { text: i18n.t("final.heading") }), lines,
    el("div", { class: "actions" }, links), pack?.notice, pack?.box);
}
