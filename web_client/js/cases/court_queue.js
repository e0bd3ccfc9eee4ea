// The court's desk: clerks decide on acceptance within 3 days, judges rule within 15 (once
// extendable by 10), for judicial confirmations and payment orders (`GET /api/court/queue`).
// Each application's time limit is the deadline the case system stored for it.

import * as i18n from "../i18n.js";
import { api } from "./api.js";
import { confirmAction } from "./dialog.js";
import { basisText, busy, conditionText, el, errorText, when } from "./dom.js";
import { renderCaseList } from "./case_list.js";

const appPath = (a, rest) => `/api/court/applications/${encodeURIComponent(a.id)}/${rest}`;

async function deadlineOf(application, stage) {
  try {
    const c = await api.get(`/api/cases/${encodeURIComponent(application.case_id)}`);
    return c.deadlines.find((d) => d.kind === `court:${stage}:${application.id}`) ?? null;
  } catch {
    return null; // the queue still shows the application; the limit cell says "—"
  }
}

function materialsList(materials) {
  const names = Object.keys(materials).filter((key) => key !== "checks");
  return el("ul", { class: "materials" }, names.map((name) => el("li", {},
    i18n.has(`material.${name}`) ? i18n.t(`material.${name}`) : name,
    name === "recordings" ? recordingsList(materials.recordings) : null)));
}

/** Each recorded session the application cites: id, times, state and its manifest's SHA-256. */
function recordingsList(recordings) {
  if (!recordings || recordings.length === 0) return el("span", { class: "hint", text: ` ${i18n.t("material.recordings_none")}` });
  return el("ul", { class: "recordings" }, recordings.map((r) => el("li", { dataset: { session: r.session_id } },
    i18n.t("material.recording_line", { id: r.session_id, start: when(r.started_at), end: when(r.ended_at),
                                         state: i18n.t(`material.recording_state.${r.state}`) }),
    el("code", { class: "sha256", text: ` SHA-256 ${r.manifest_sha256}` }))));
}

function checksList(checks) {
  if (!checks) return null;
  return el("ul", { class: "checks" }, checks.map((c) => el("li", { dataset: { met: String(c.met) } },
    `${c.met ? "✓" : "✗"} ${conditionText(c)} `, el("span", { class: "hint", text: `(${basisText(c)})` }))));
}

/** The buttons of one application: the clerk accepts or refuses; the judge rules, with a confirmation
 * ruling and a payment order being different acts (different words, each asked again in a dialog). */
function decisions(application, judge) {
  const kind = application.kind === "payment_order" ? "order" : "confirmation";
  const act = (name, textKey, cls, askKey) => el("button", { type: "button", class: cls,
    dataset: askKey ? { act: name, ask: askKey } : { act: name }, text: i18n.t(textKey) });
  if (!judge) {
    return [act("accept", "court.accept", "primary", null), act("refuse", "court.refuse", "danger", "court.askRefuse")];
  }
  return [act("grant", `court.grant.${kind}`, "primary", `court.askGrant.${kind}`),
    act("deny", `court.deny.${kind}`, "danger", `court.askDeny.${kind}`),
    application.extended || kind === "order" ? null : act("extend", "court.extend", null, null)];
}

function row(application, deadline, judge, reload) {
  const reasons = el("textarea", { rows: 2, maxlength: 2000, name: "reasons", placeholder: i18n.t("court.reasons") });
  const notice = el("p", { class: "notice", role: "status", hidden: true });
  const buttons = decisions(application, judge);
  const calls = {
    accept: () => api.post(appPath(application, "acceptance"), { accept: true, reasons: reasons.value.trim() }),
    refuse: () => api.post(appPath(application, "acceptance"), { accept: false, reasons: reasons.value.trim() }),
    grant: () => api.post(appPath(application, "ruling"), { grant: true, reasons: reasons.value.trim() }),
    deny: () => api.post(appPath(application, "ruling"), { grant: false, reasons: reasons.value.trim() }),
    extend: () => api.post(appPath(application, "extension"), { reason: reasons.value.trim() }),
  };
  for (const b of buttons.filter(Boolean)) {
    b.addEventListener("click", async () => {
      const ask = b.dataset.ask;
      const detail = i18n.t("court.askDetail", { id: application.id, case: application.case_id, court: application.court });
      if (ask && !(await confirmAction(i18n.t(ask), detail))) return;
      await busy(b, notice, async () => {
        await calls[b.dataset.act]();
        await reload();
      });
    });
  }
  const overdue = deadline?.overdue && !deadline.completed_at;
  return el("li", { class: "application card", dataset: { applicationId: application.id, kind: application.kind,
    overdue: overdue ? "yes" : "no" } },
    el("div", { class: "application-head" },
      el("span", { class: "kind", dataset: { kind: application.kind }, text: i18n.t(`court.kind.${application.kind}`) }),
      el("strong", { text: application.id }),
      el("span", { class: "spacer" }),
      overdue ? el("span", { class: "flag", text: i18n.t("timeline.overdue") }) : null),
    el("dl", { class: "facts" },
      el("dt", { text: i18n.t("court.case") }),
      el("dd", {}, el("a", { href: `#case/${application.case_id}`, text: application.case_id })),
      el("dt", { text: i18n.t(judge ? "court.accepted" : "court.filed") }),
      el("dd", { text: when(judge ? application.decided_at : application.filed_at) }),
      el("dt", { text: i18n.t("court.deadline") }),
      el("dd", { class: overdue ? "flagged" : null, text: deadline ? when(deadline.due_at) : "—" }),
      el("dt", { text: i18n.t("court.materials") }), el("dd", {}, materialsList(application.materials)),
      application.materials.checks ? el("dt", { text: i18n.t("court.checks") }) : null,
      application.materials.checks ? el("dd", {}, checksList(application.materials.checks)) : null),
    reasons, el("div", { class: "actions" }, buttons), notice);
}

export async function renderCourtQueue({ account, view }) {
  const judge = account.role === "judge";
  const section = el("section", { class: "card", id: "court-queue" },
    el("h1", { text: `${i18n.t("court.heading")} · ${account.court ?? ""}` }),
    el("p", { class: "hint", text: i18n.t(judge ? "court.judgeIntro" : "court.clerkIntro") }));
  const list = el("ol", { class: "queue" });
  section.append(list);
  view.append(section);

  async function reload() {
    let queue;
    try {
      queue = await api.get("/api/court/queue");
    } catch (error) {
      list.replaceChildren(el("li", { class: "notice", dataset: { kind: "error" }, text: errorText(error) }));
      return;
    }
    const deadlines = await Promise.all(queue.map((a) => deadlineOf(a, judge ? "rule" : "accept")));
    list.replaceChildren(...(queue.length === 0 ? [el("li", { class: "hint", text: i18n.t("court.empty") })]
      : queue.map((a, i) => row(a, deadlines[i], judge, reload))));
  }

  await reload();
  await renderCaseList({ account, view }, "court.cases");
}
