// What the signed-in person can do on a case at its current step. Each panel calls the API and
// then `refresh()`; the server decides whether the action is allowed, the page only offers it.

import * as i18n from "../i18n.js";
import { api } from "./api.js";
import { busy, copyField, el, when } from "./dom.js";
import { agreementPanel } from "./agreement_panel.js";
import { identityPanel } from "./identity_panel.js";
import { courtPanel } from "./court_panel.js";
import { failurePanel } from "./failure_panel.js";
import { mediatorChoicePanel } from "./mediator_choice.js";
import { myActions } from "./next_actions.js";
import { enterRoom } from "./room_entry.js";
import { sessionsPanel } from "./sessions_panel.js";

const PARTY_ROLES = ["party", "agent"];
/** Besides the parties, who has a seat in the case's video session (clerks and judges observe). */
const SEATED_STAFF = ["mediator", "court_clerk", "judge"];

function panel(id, headingKey, ...children) {
  const notice = el("p", { class: "notice", role: "status", hidden: true });
  return { notice, node: el("section", { class: "card panel", id }, el("h2", { text: i18n.t(headingKey) }), ...children, notice) };
}

function button(textKey, attrs = {}) {
  return el("button", { type: "button", ...attrs, text: i18n.t(textKey) });
}

const casePath = (c, rest) => `/api/cases/${encodeURIComponent(c.id)}/${rest}`;

function consentPanel(c, side, refresh) {
  const reason = el("textarea", { rows: 2, maxlength: 1000, name: "refuse_reason", placeholder: i18n.t("action.refuseReason") });
  const yes = button("action.consent", { class: "primary", id: "consent" });
  const no = button("action.refuse", { class: "danger", id: "refuse" });
  const p = panel("consent-panel", "action.consentHeading", el("p", { class: "hint", text: c.claims }), reason,
    el("div", { class: "actions" }, yes, no));
  const answer = (consent, btn) => busy(btn, p.notice, async () => {
    await api.post(casePath(c, "consent"), { consent, reason: reason.value.trim(), side });
    await refresh();
  });
  yes.addEventListener("click", () => answer(true, yes));
  no.addEventListener("click", () => answer(false, no));
  return p.node;
}

function assignmentPanel(c, refresh) {
  const reason = el("textarea", { rows: 2, maxlength: 500, name: "decline_reason", placeholder: i18n.t("action.declineReason") });
  const yes = button("action.accept", { class: "primary", id: "accept-case" });
  const no = button("action.decline", { class: "danger", id: "decline-case" });
  const p = panel("assignment-panel", "action.assignmentHeading", reason, el("div", { class: "actions" }, yes, no));
  const answer = (accept, btn) => busy(btn, p.notice, async () => {
    await api.post(casePath(c, "assignment"), { accept, reason: reason.value.trim() });
    if (accept) await refresh();
    else window.location.hash = "#cases"; // after declining, the case is no longer the mediator's to see
  });
  yes.addEventListener("click", () => answer(true, yes));
  no.addEventListener("click", () => answer(false, no));
  return p.node;
}

async function counsellingPanel(c, account, refresh) {
  const isMediator = account.role === "mediator";
  let messages = [];
  try {
    messages = await api.get(casePath(c, "messages"));
  } catch {
    messages = []; // not readable at this step: the list stays empty, sending still reports why
  }
  const list = el("ol", { class: "messages" }, messages.length === 0 ? el("li", { class: "hint", text: i18n.t("action.noMessages") })
    : messages.map((m) => el("li", { dataset: { sender: m.sender_role } },
      el("span", { class: "meta", text: `${i18n.t(`side.${m.side}`)} · ${i18n.t(`role.${m.sender_role}`)} · ${when(m.sent_at)}` }),
      el("span", { text: m.text }))));
  const text = el("input", { name: "message", maxlength: 2000, placeholder: i18n.t("action.message") });
  const sideSelect = isMediator || c.your_sides.length > 1
    ? el("select", { name: "message_side", "aria-label": i18n.t("action.to") },
      (isMediator ? ["applicant", "respondent"] : c.your_sides).map((s) => el("option", { value: s, text: i18n.t(`side.${s}`) })))
    : null;
  const send = button("action.send", { type: "submit" });
  const form = el("form", { class: "inline" }, sideSelect, text, send);
  const extras = [];
  if (isMediator && c.step === "counselling") extras.push(button("action.openVideo", { class: "primary", id: "open-video" }));
  const p = panel("counselling-panel", "action.counsellingHeading", list, form, el("div", { class: "actions" }, extras));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!text.value.trim()) return;
    busy(send, p.notice, async () => {
      const sent = text.value;
      await api.post(casePath(c, "messages"), { text: sent.trim(), side: sideSelect?.value });
      text.value = ""; // sent: the refresh must not put it back
      await refresh();
      // A redraw for the message's own live event may have started before the answer came and kept
      // the typed text; once every redraw is done, clear it there too unless something new was typed.
      const shown = document.querySelector('#counselling-panel input[name="message"]');
      if (shown?.value === sent) shown.value = "";
    });
  });
  for (const b of extras) {
    b.addEventListener("click", () => busy(b, p.notice, async () => {
      await api.post(casePath(c, "video"));
      await refresh();
    }));
  }
  return p.node;
}

/** The mediator's links for parties who cannot sign in: each opens that named party's own seat. */
function guestLinks(c, notice) {
  const list = el("ul", { class: "guest-links" });
  for (const party of c.parties) {
    const make = el("button", { type: "button", id: `guest-link-${party.side}`,
      text: i18n.t("video.guestLink", { side: i18n.t(`side.${party.side}`), name: party.name }) });
    const item = el("li", { dataset: { side: party.side } }, make);
    make.addEventListener("click", () => busy(make, notice, async () => {
      const { url } = await api.post(casePath(c, "video/guest-links"), { side: party.side });
      const input = el("input", { readonly: true, value: url, class: "guest-url", "aria-label": make.textContent });
      const copy = button("video.copy", { class: "copy" });
      copy.addEventListener("click", () => copyField(input, copy));
      item.replaceChildren(make, input, copy);
    }));
    list.append(item);
  }
  return el("div", { class: "guest" }, el("h3", { text: i18n.t("video.guestHeading") }),
    el("p", { class: "hint", text: i18n.t("video.guestHint") }), list);
}

function videoPanel(c, account, side, refresh) {
  const join = button("action.joinRoom", { class: "primary", id: "join-room" });
  const buttons = [join];
  const isMediator = account.role === "mediator";
  if (isMediator) buttons.push(button("action.conclude", { id: "conclude-video" }));
  const p = panel("video-panel", "step.video_mediation", el("p", { class: "hint", text: i18n.t("video.enterHint") }),
    el("div", { class: "actions" }, buttons));
  if (isMediator) p.node.insertBefore(guestLinks(c, p.notice), p.notice);
  join.addEventListener("click", () => busy(join, p.notice, () => enterRoom(c, side)));
  buttons[1]?.addEventListener("click", () => busy(buttons[1], p.notice, async () => {
    await api.post(casePath(c, "video/conclude"));
    await refresh();
  }));
  return p.node;
}

function ratingPanel(c, side, refresh) {
  const score = el("select", { name: "score", "aria-label": i18n.t("action.score") },
    [5, 4, 3, 2, 1].map((n) => el("option", { value: n, text: "★".repeat(n), "aria-label": i18n.t("action.stars", { n }) })));
  const comment = el("input", { name: "comment", maxlength: 1000, placeholder: i18n.t("action.comment"), "aria-label": i18n.t("action.comment") });
  const send = button("action.submit", { type: "submit", class: "primary" });
  const form = el("form", { class: "inline" }, score, comment, send);
  const p = panel("rating-panel", "action.rate", form);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(send, p.notice, async () => {
      await api.post(casePath(c, "rating"), { score: Number(score.value), comment: comment.value.trim(), side });
      await refresh();
    });
  });
  return p.node;
}

/** The panels for this person at this step (possibly none). The server's next actions say whose
 * turn it is; the panels for taking one's turn follow them. */
export async function actionPanels({ caseView: c, account, applications, refresh }) {
  const party = PARTY_ROLES.includes(account.role);
  const side = c.your_sides.length > 1 ? c.your_sides[0] : undefined; // an agent for both sides acts for the first
  const pendingChoice = c.next_actions.some((a) => a.action === "accept_assignment");
  const panels = [];
  if (c.status === "closed") return panels;
  const [consent] = myActions(c, account, "consent");
  if (consent) panels.push(consentPanel(c, consent.side, refresh));
  if (party && c.step === "choose_mediator") {
    if (pendingChoice) panels.push(el("p", { class: "notice", id: "choice-pending", text: i18n.t("action.chosen") }));
    else panels.push(await mediatorChoicePanel(c, side, refresh));
  }
  if (myActions(c, account, "accept_assignment").length > 0) panels.push(assignmentPanel(c, refresh));
  if ((party || account.role === "mediator") && ["counselling", "video_mediation"].includes(c.step)) {
    panels.push(await counsellingPanel(c, account, refresh));
  }
  if ((party || account.role === "mediator") && ["counselling", "video_mediation"].includes(c.step)) {
    panels.push(await sessionsPanel(c, account, side, refresh));
  }
  if ((party || SEATED_STAFF.includes(account.role)) && c.step === "video_mediation") {
    panels.push(videoPanel(c, account, side, refresh));
  }
  const identity = await identityPanel(c, account, refresh);
  if (identity) panels.push(identity);
  const agreement = await agreementPanel(c, account, refresh);
  if (agreement) panels.push(agreement);
  if (account.role === "mediator" && c.step === "result") panels.push(failurePanel(c, refresh));
  const [rate] = myActions(c, account, "rate");
  if (rate) panels.push(ratingPanel(c, rate.side, refresh));
  // Both sides rate at step 6: a party with nothing left to rate there has rated (the panel says so).
  else if (party && c.step === "evaluation") panels.push(el("p", { class: "notice", id: "rated", role: "status", text: i18n.t("action.rated") }));
  if (party && c.step === "court_docking" && c.outcome === "settled") {
    panels.push(await courtPanel(c, account, applications, refresh));
  }
  return panels;
}
