// One case: the seven steps with their deadlines and overdue flags, who acts next, the
// actions open to the reader, and what happened — updated live from `case:event`.

import * as i18n from "../i18n.js";
import { api } from "./api.js";
import { actionPanels } from "./case_actions.js";
import { finalState } from "./court_panel.js";
import { busy, el, errorText, notify, size, when, yuan } from "./dom.js";
import { disputeLabel, loadDisputeTypes, partyIdentity, STEPS, stepLabel } from "./labels.js";
import { followCase } from "./live.js";
import { nextActionsBox } from "./next_actions.js";
import { recordingsSection } from "./recordings_panel.js";

const LOG_LENGTH = 12;

function days(from, to) {
  return Math.round((new Date(to) - new Date(from)) / 86_400_000);
}

function deadlineLine(deadline) {
  if (!deadline) return el("span", { class: "deadline hint", text: i18n.t("timeline.waiting") });
  return el("span", { class: "deadline" },
    el("span", { text: i18n.t("timeline.limit", { days: days(deadline.started_at, deadline.due_at) }) }), " · ",
    deadline.completed_at ? el("span", { text: i18n.t("timeline.done", { at: when(deadline.completed_at) }) })
      : el("span", { text: i18n.t("timeline.due", { at: when(deadline.due_at) }) }),
    deadline.overdue ? el("span", { class: "flag", text: i18n.t("timeline.overdue") }) : null);
}

function stepState(c, index) {
  const current = c.step_number - 1;
  if (index < current) return "done";
  if (index > current) return "waiting";
  return c.status === "closed" ? (c.outcome === "settled" ? "done" : "ended") : "current";
}

function timeline(c) {
  const latest = {};
  for (const d of c.deadlines) if (d.kind.startsWith("step:")) latest[d.kind.slice(5)] = d; // the last entry of a step wins
  const steps = el("ol", { class: "timeline", id: "timeline" }, STEPS.map((step, index) => {
    const deadline = latest[step];
    return el("li", { dataset: { step, state: stepState(c, index), overdue: deadline?.overdue && !deadline.completed_at ? "yes" : "no" } },
      el("span", { class: "marker", text: String(index + 1) }),
      el("div", { class: "step-body" },
        el("strong", { text: i18n.t(`step.${step}`) }),
        el("span", { class: "hint", text: i18n.t(`stepdesc.${step}`) }),
        index <= c.step_number - 1 ? deadlineLine(deadline) : null));
  }));
  const court = c.deadlines.filter((d) => d.kind.startsWith("court:"));
  const courtList = court.length === 0 ? null : el("div", { class: "court-deadlines" },
    el("h3", { text: i18n.t("timeline.other") }),
    el("ul", {}, court.map((d) => el("li", { dataset: { overdue: d.overdue && !d.completed_at ? "yes" : "no" } },
      el("span", { text: i18n.t(`deadline.${d.kind.split(":").slice(0, 2).join(":")}`) }), " ", deadlineLine(d)))));
  return el("section", { class: "card" }, el("h2", { text: i18n.t("timeline.heading") }), steps, courtList);
}

function uploadForm(c, refresh) {
  const file = el("input", { type: "file", name: "document", "data-path": "document", "aria-label": i18n.t("case.uploadFile") });
  const send = el("button", { type: "submit", text: i18n.t("case.upload") });
  const notice = el("p", { class: "notice", role: "status", hidden: true });
  const form = el("form", { class: "inline", id: "upload-form" }, file, send);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = file.files[0];
    if (!chosen) return;
    const side = c.your_sides.length > 1 ? `&side=${c.your_sides[0]}` : ""; // an agent for both sides files for the first
    busy(send, notice, async () => {
      await api.upload(`/api/cases/${encodeURIComponent(c.id)}/documents?name=${encodeURIComponent(chosen.name)}${side}`, chosen);
      await refresh();
    });
  });
  return [form, notice];
}

/** One document of the case, opening in the page's document viewer (a PDF drawn in the page, an
 * image inline, anything else to download); the list holds only what the reader may open. */
function documentItem(d) {
  const facts = [i18n.has(`doc.${d.kind}`) ? i18n.t(`doc.${d.kind}`) : d.kind, d.side ? i18n.t(`side.${d.side}`) : null,
    size(d.size), i18n.t("doc.addedBy", { name: d.added_by_name ?? d.added_by, at: when(d.added_at) })];
  return el("li", { dataset: { documentId: d.id, kind: d.kind } },
    el("a", { class: "document-link", href: d.url, target: "_blank", rel: "noopener", title: i18n.t("doc.open"), "data-viewer": true,
      text: d.name }), " ",
    el("span", { class: "hint", text: facts.filter(Boolean).join(" · ") }));
}

function summary(c, mediatorName, mayUpload, refresh) {
  const facts = [
    ["list.type", disputeLabel(c.dispute_type)],
    ["case.origin", i18n.t(`case.origin.${c.origin}`)],
    ["case.amount", yuan(c.amount_fen)],
    ["case.claims", c.claims],
    ["case.facts", c.facts],
    ["case.mediator", c.mediator_id ? [mediatorName ?? c.mediator_id, c.organisation].filter(Boolean).join(" · ") : "—"],
  ];
  return el("section", { class: "card" }, el("h2", { text: i18n.t("case.summary") }),
    el("dl", { class: "facts" }, facts.map(([key, value]) => [el("dt", { text: i18n.t(key) }), el("dd", { text: value })])),
    el("h3", { text: i18n.t("case.parties") }),
    el("ul", { class: "parties" }, c.parties.map((p) => el("li", { dataset: { consent: p.consent } },
      el("strong", { text: `${i18n.t(`side.${p.side}`)} ${p.name}` }), ` ${partyIdentity(p)} `,
      el("span", { class: "consent", text: i18n.t(`consent.${p.consent}`) })))),
    el("h3", { text: i18n.t("case.documents") }),
    c.documents.length === 0 ? el("p", { class: "hint", text: i18n.t("case.noDocuments") })
      : el("ul", { class: "documents", id: "documents" }, c.documents.map(documentItem)),
    mayUpload ? uploadForm(c, refresh) : null);
}

/** The mediator's name from the public directory (the case names only the account). */
async function mediatorName(c) {
  if (!c.mediator_id) return null;
  try {
    return (await api.get(`/api/directory/mediators/${encodeURIComponent(c.mediator_id)}`)).mediator.name;
  } catch {
    return null; // not in the directory: the id is shown instead
  }
}

function logText(entry) {
  const text = i18n.has(`log.${entry.action}`) ? i18n.t(`log.${entry.action}`) : entry.action;
  const step = entry.payload?.step;
  if (STEPS.includes(step)) return `${text}：${stepLabel(step)}`;
  const signer = ["agreement.signed", "agreement.sealed"].includes(entry.action) ? entry.payload?.name : null;
  return signer ? `${text}：${signer}` : text;
}

function activity(trail) {
  return el("section", { class: "card" }, el("h2", { text: i18n.t("timeline.log") }),
    el("ol", { class: "log", id: "activity" }, trail.slice(-LOG_LENGTH).reverse().map((entry) => el("li", {},
      el("span", { class: "meta", text: when(entry.at) }),
      el("span", { dataset: { action: entry.action }, text: logText(entry) })))));
}

/** What the reader has typed or ticked in the action panels, and the answers shown there, so a
 * refresh caused by someone else's action does not wipe them. */
function typedInput(root) {
  const values = new Map();
  for (const input of root.querySelectorAll(".panel[id] [name]:not([type=file])")) {
    const key = `${input.closest(".panel").id}/${input.name}`;
    values.set(key, input.type === "checkbox" ? input.checked : input.value);
  }
  for (const notice of root.querySelectorAll('.panel[id] > .notice[role="status"]:not([hidden])')) {
    values.set(`${notice.parentElement.id}/.notice`, { kind: notice.dataset.kind, text: notice.textContent });
  }
  return values;
}

function restoreInput(root, values) {
  for (const input of root.querySelectorAll(".panel[id] [name]:not([type=file])")) {
    const value = values.get(`${input.closest(".panel").id}/${input.name}`);
    if (value === undefined) continue;
    if (input.type === "checkbox") input.checked = value;
    else input.value = value;
  }
  for (const notice of root.querySelectorAll('.panel[id] > .notice[role="status"]')) {
    const shown = values.get(`${notice.parentElement.id}/.notice`);
    if (shown) notify(notice, shown.kind, shown.text);
  }
}

export async function renderCase({ account, view }, caseId) {
  const path = `/api/cases/${encodeURIComponent(caseId)}`;
  const live = el("span", { class: "live", dataset: { status: "off" }, text: i18n.t("case.liveOff") });
  const banner = el("p", { class: "notice", id: "case-notice", role: "status", hidden: true });
  const content = el("div", { class: "case-layout" });
  view.append(banner, content);
  await loadDisputeTypes(api);

  const recordings = recordingsSection();
  let rendering = Promise.resolve();
  // Refreshes run one after another; a failed one reports itself and does not stop the next.
  const refresh = () => (rendering = rendering.then(draw).catch((error) => notify(banner, "error", errorText(error))));

  async function draw() {
    let c;
    let trail;
    let applications = [];
    try {
      [c, trail] = await Promise.all([api.get(path), api.get(`${path}/timeline`)]);
      if (c.step === "court_docking") applications = await api.get(`${path}/court/applications`);
    } catch (error) {
      notify(banner, "error", errorText(error));
      return;
    }
    const head = el("div", { class: "case-head" },
      el("h1", { text: i18n.t("case.heading", { id: c.case_number ?? c.id }) }),
      el("span", { class: "step-pill", dataset: { step: c.step }, text: stepLabel(c.step) }),
      el("span", { class: "status", dataset: { status: c.status }, text: i18n.t(`case.status.${c.status}`) }),
      c.outcome ? el("span", { class: "outcome", text: i18n.t(`case.outcome.${c.outcome}`) }) : null,
      el("span", { class: "spacer" }), live);
    const next = nextActionsBox(c, account);
    const [panels, name, recorded] = await Promise.all([actionPanels({ caseView: c, account, applications, refresh }),
      mediatorName(c), recordings(c, account, refresh)]);
    const mayUpload = c.status === "open" && ["party", "agent"].includes(account.role);
    const typed = typedInput(content);
    content.replaceChildren(head, next,
      el("div", { class: "columns" },
        el("div", { class: "column-main" }, finalState(c, applications, account), panels, recorded, timeline(c)),
        el("div", { class: "column-side" }, summary(c, name, mayUpload, refresh), activity(trail))));
    restoreInput(content, typed);
    document.body.dataset.caseStep = c.step;
  }

  await refresh();
  const stop = followCase(caseId, {
    onStatus: (status) => {
      live.dataset.status = status;
      live.textContent = i18n.t(status === "on" ? "case.live" : "case.liveOff");
    },
    onEvent: (event) => {
      const what = i18n.has(`event.${event.kind}`) ? i18n.t(`event.${event.kind}`) : event.kind;
      notify(banner, "info", i18n.t("case.updated", { what }));
      refresh();
    },
  });
  return stop;
}
