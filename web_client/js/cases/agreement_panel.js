// The case page's agreement panel. The mediator drafts the agreement from the case (no ID number
// is typed: the editor opens with the case's people filled in) and follows the signatures; each
// participant sees their own field, whether it is their turn and why not, and signs from here
// (sign.html?agreement=…, with their session) — no link to copy.

import * as i18n from "../i18n.js";
import { ApiFailure, api } from "./api.js";
import { busy, el, when } from "./dom.js";

const SIGNER_ROLES = ["party", "agent", "mediator"];

/** Who signs a field: "申请人 张三", "被申请人的委托代理人 王五", "调解员 …", "调解组织印章 …". */
function slotLabel(s) {
  let who = i18n.t(`slot.${s.role}`);
  if (s.role === "party") who = i18n.t(`side.${s.side}`);
  if (s.role === "agent") who = i18n.t("who.agent", { side: i18n.t(`side.${s.side}`) });
  return `${who} ${s.name}`;
}

function slotList(slots) {
  return el("ol", { class: "slots" }, slots.map((s) => el("li", { dataset: { field: s.field_name, signed: s.signed_at ? "yes" : "no" } },
    `${slotLabel(s)} — `,
    s.signed_at ? i18n.t("agreement.signed", { time: when(s.signed_at) }) : i18n.t("agreement.pending"))));
}

function statusLine(session) {
  return el("p", { class: "hint", id: "agreement-status", dataset: { status: session.status },
    text: i18n.t("agreement.status", { version: session.version, status: i18n.t(`agreement.status.${session.status}`) }) });
}

/** The mediator at step 5 without a result: draft the agreement from the case, then edit it. */
function draftPanel(c, refresh) {
  const draft = el("button", { type: "button", class: "primary", id: "draft-agreement", text: i18n.t("agreement.draft") });
  const notice = el("p", { class: "notice", role: "status", hidden: true });
  const node = el("section", { class: "card panel", id: "agreement-panel" }, el("h2", { text: i18n.t("agreement.heading") }),
    el("p", { class: "hint", text: i18n.t("agreement.draftHint") }), el("div", { class: "actions" }, draft), notice);
  draft.addEventListener("click", () => busy(draft, notice, async () => {
    const drafted = await api.post(`/api/cases/${encodeURIComponent(c.id)}/agreement`, {});
    await refresh();
    window.location.assign(drafted.editor_url);
  }));
  return node;
}

/** The organisation's administrator: the signatures so far, and the seal once it is the seal's turn. */
async function sealPanel(c, agreementId, refresh) {
  const agreement = await api.get(`/api/agreements/${encodeURIComponent(agreementId)}`);
  const notice = el("p", { class: "notice", role: "status", hidden: true });
  const node = el("section", { class: "card panel", id: "agreement-panel" }, el("h2", { text: i18n.t("agreement.heading") }),
    statusLine(agreement), slotList(agreement.slots));
  if (agreement.effective_at) node.append(el("p", { class: "ok", text: i18n.t("agreement.effective", { time: when(agreement.effective_at) }) }));
  const next = agreement.slots.find((slot) => !slot.signed_at);
  if (agreement.status === "locked" && next?.role === "organisation") {
    const seal = el("button", { type: "button", class: "primary", id: "seal-agreement", text: i18n.t("agreement.seal") });
    seal.addEventListener("click", () => busy(seal, notice, async () => {
      await api.post(`/api/agreements/${encodeURIComponent(agreementId)}/seal`, { version: agreement.version });
      await refresh();
    }));
    node.append(el("div", { class: "actions" }, seal));
  } else if (agreement.status === "locked") {
    node.append(el("p", { class: "hint", text: i18n.t("agreement.sealWait") }));
  }
  node.append(notice);
  return node;
}

/** Who signs, in order; for a participant their own field, their turn and the way to sign. */
async function signingPanel(c, account) {
  const node = el("section", { class: "card panel", id: "agreement-panel" }, el("h2", { text: i18n.t("agreement.heading") }));
  const agreementId = c.result?.agreement_id;
  if (account.role === "mediator" && agreementId) {
    node.append(el("div", { class: "actions" },
      el("a", { class: "button", id: "edit-agreement", href: `/agreement.html#${agreementId}`, text: i18n.t("agreement.edit") })));
  }
  if (!SIGNER_ROLES.includes(account.role)) return node;
  let view;
  try {
    view = await api.get(`/api/cases/${encodeURIComponent(c.id)}/signing`);
  } catch (error) {
    if (error instanceof ApiFailure && ["no_agreement", "agreement_not_found"].includes(error.code)) {
      if (account.role !== "mediator") node.append(el("p", { class: "hint", text: i18n.t("agreement.none") }));
      return node;
    }
    throw error;
  }
  const s = view.session;
  node.append(statusLine(s), slotList(s.slots));
  if (s.effective_at) node.append(el("p", { class: "ok", id: "agreement-effective", text: i18n.t("agreement.effective", { time: when(s.effective_at) }) }));
  if (s.you) {
    node.append(el("p", { text: i18n.t("agreement.yours", { field: `${s.you.index}. ${slotLabel(s.you)}` }) }));
    const mayOpen = s.locked_sha256 !== null;
    // The identity check belongs to signing (it is done on the signing page): it does not hold back "sign now".
    const identityFirst = s.blocked?.code === "identity_check_required";
    if (s.blocked !== null && s.blocked.code !== "already_signed") {
      node.append(el("p", { class: identityFirst ? "hint" : "warn", id: "sign-blocked", dataset: { code: s.blocked.code },
        text: i18n.errorMessage(s.blocked.code, s.blocked.message) }));
    }
    if (s.blocked === null || identityFirst) {
      node.append(el("div", { class: "actions" }, el("a", { class: "button primary", id: "sign-now", href: view.sign_url, text: i18n.t("agreement.signNow") })));
    } else if (mayOpen) {
      node.append(el("div", { class: "actions" }, el("a", { class: "button", id: "open-agreement", href: view.sign_url, text: i18n.t("agreement.open") })));
    }
  }
  return node;
}

/** The panel for this person, or null when the case has no agreement business for them. */
export async function agreementPanel(c, account, refresh) {
  if (!["result", "evaluation", "court_docking"].includes(c.step)) return null;
  if (c.result?.kind === "failure") return null;
  if (account.role === "mediator" && c.step === "result" && !c.result) return draftPanel(c, refresh);
  if (!c.result?.agreement_id && account.role !== "mediator" && c.step !== "result") return null;
  if (account.role === "org_admin") return c.result?.agreement_id ? sealPanel(c, c.result.agreement_id, refresh) : null;
  return signingPanel(c, account);
}
