// The case page's recordings: the case's recording policy (the mediator sets it), and for the
// people who may see them — the mediator, the parties and their agents, the court — each recorded
// session with who consented, the review composite (with its progress while it renders) and every
// participant's own tracks, played in <video> elements from short-lived links (range requests).

import * as i18n from "../i18n.js";
import { api } from "./api.js";
import { busy, el, errorText, notify, when } from "./dom.js";

const READERS = ["party", "agent", "mediator", "court_clerk", "judge"];
const MODES = ["off", "joint", "joint_and_caucus"];
const POLL_MS = 2000;

function casePath(c, tail) {
  return `/api/cases/${encodeURIComponent(c.id)}/${tail}`;
}

function policyForm(c, policy, refresh) {
  const select = el("select", { name: "recording-mode", id: "recording-mode", "aria-label": i18n.t("recording.mode") },
    MODES.map((mode) => el("option", { value: mode, text: i18n.t(`recording.mode.${mode}`), selected: mode === policy.mode })));
  const save = el("button", { type: "submit", id: "recording-policy-save", text: i18n.t("recording.save") });
  const notice = el("p", { class: "notice", role: "status", hidden: true });
  const form = el("form", { class: "inline", id: "recording-policy" }, select, save);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(save, notice, async () => {
      await api.put(casePath(c, "recording-policy"), { mode: select.value });
      notify(notice, "info", i18n.t("recording.saved"));
      await refresh();
    });
  });
  return [form, notice];
}

function player(url, id) {
  return el("video", { controls: true, preload: "metadata", src: url, id, class: "recording-player" });
}

function compositeBlock(session) {
  const composite = session.composite;
  if (composite.state === "ready") {
    return el("div", { class: "composite", dataset: { state: "ready" } },
      player(composite.play_url, `composite-${session.id}`),
      el("a", { href: composite.download_url, download: "", text: i18n.t("recording.downloadComposite") }));
  }
  const text = composite.state === "rendering"
    ? i18n.t("recording.rendering", { percent: Math.round((composite.progress ?? 0) * 100) })
    : i18n.t(`recording.composite.${composite.state}`);
  return el("p", { class: "hint composite", dataset: { state: composite.state }, text });
}

function sessionItem(session) {
  const consents = el("ul", { class: "consents" }, session.consents.map((c) => el("li", { dataset: { answer: c.answer } },
    `${i18n.has(`caseRole.${c.case_role}`) ? i18n.t(`caseRole.${c.case_role}`) : c.case_role} ${c.name}：`,
    el("strong", { text: i18n.t(`recording.answer.${c.answer}`) }))));
  const tracks = el("ul", { class: "tracks" }, session.tracks.map((t) => el("li", { dataset: { seat: t.seat, kind: t.kind } },
    el("span", { text: `${t.name} · ${i18n.t(`recording.kind.${t.kind}`)}` }),
    player(t.play_url, `track-${t.id}`),
    el("a", { href: t.download_url, download: "", text: i18n.t("recording.download") }))));
  const facts = [when(session.started_at), session.duration_s !== null ? i18n.t("recording.duration", {
    seconds: Math.round(session.duration_s) }) : null, i18n.t(`recording.state.${session.state}`)];
  return el("li", { class: "recording-session", dataset: { session: session.id, state: session.state } },
    el("h3", { text: facts.filter(Boolean).join(" · ") }),
    compositeBlock(session),
    el("h4", { text: i18n.t("recording.consents") }), consents,
    el("details", {}, el("summary", { text: i18n.t("recording.tracks", { count: session.tracks.length }) }), tracks),
    session.manifest_sha256 ? el("p", { class: "hint hash", text: i18n.t("recording.manifest", {
      sha256: session.manifest_sha256 }) }) : null,
    session.package_url ? el("p", { class: "package" },
      el("a", { href: session.package_url, download: "", class: "package-download",
                text: i18n.t("recording.downloadPackage") }),
      " ", el("a", { href: "/verify.html", target: "_blank", rel: "noopener", class: "hint",
                     text: i18n.t("recording.verifyPackage") })) : null);
}

/** The section, or null for someone who neither sets the policy nor may see recordings. Kept
 * between refreshes while nothing changed, so a playing video is not interrupted. */
export function recordingsSection() {
  let shown = null;
  let signature = "";
  let timer = null;

  return async function render(c, account, refresh) {
    if (!READERS.includes(account.role)) return null;
    const [policy, listing] = await Promise.all([api.get(casePath(c, "recording-policy")),
      api.get(casePath(c, "recordings")).catch((error) => ({ error }))]);
    const sessions = listing.sessions ?? [];
    const mediator = account.role === "mediator" && c.mediator_id === account.id && c.status === "open";
    if (!mediator && policy.mode === "off" && sessions.length === 0) return null;
    const now = JSON.stringify([policy.mode, mediator, sessions.map((s) => [s.id, s.state, s.composite.state,
      Math.round((s.composite.progress ?? 0) * 20), s.tracks.length])]);
    clearTimeout(timer);
    if (sessions.some((s) => s.composite.state === "rendering" || s.state === "recording")) {
      timer = setTimeout(refresh, POLL_MS);
    }
    if (shown && now === signature) return shown;
    signature = now;
    const problem = listing.error ? el("p", { class: "notice", dataset: { kind: "error" }, text: errorText(listing.error) }) : null;
    shown = el("section", { class: "card", id: "recordings" },
      el("h2", { text: i18n.t("recording.heading") }),
      el("p", { class: "hint", id: "recording-policy-text", text: i18n.t(`recording.policy.${policy.mode}`) }),
      mediator ? policyForm(c, policy, refresh) : null,
      problem,
      sessions.length === 0 ? el("p", { class: "hint", text: i18n.t("recording.none") })
        : el("ol", { class: "recording-sessions" }, sessions.map(sessionItem)),
      sessions.length ? el("p", { class: "hint", text: i18n.t("recording.linksExpire", {
        minutes: Math.round(sessions[0].links_expire_in_s / 60) }) }) : null);
    return shown;
  };
}
