// Scheduled video sessions on the case page (`/api/cases/{id}/sessions`): the mediator sets a date
// and time (the parties are told by the server), everyone on the case sees them, and from a quarter
// of an hour before a session until its end the parties enter the room from here.

import * as i18n from "../i18n.js";
import { api } from "./api.js";
import { busy, el, notify, when } from "./dom.js";
import { enterRoom } from "./room_entry.js";

const DURATIONS = [30, 60, 90, 120];

function sessionState(s) {
  if (s.cancelled_at) return "cancelled";
  if (s.open_now) return "open";
  return new Date(s.ends_at) < new Date() ? "past" : "upcoming";
}

function sessionItem(c, s, { isMediator, side, notice, refresh }) {
  const state = sessionState(s);
  const item = el("li", { class: "session", dataset: { state, sessionId: s.id } },
    el("strong", { text: when(s.starts_at) }),
    el("span", { text: ` · ${i18n.t("sessions.minutes", { minutes: s.duration_minutes })} · ` }),
    el("span", { class: "session-state", text: i18n.t(`sessions.state.${state}`) }),
    s.note ? el("div", { class: "hint", text: s.note }) : null);
  if (state === "open") {
    const join = el("button", { type: "button", class: "primary", id: "join-session", text: i18n.t("sessions.join") });
    join.addEventListener("click", () => busy(join, notice, async () => {
      await enterRoom(c, side);
      await refresh(); // the schedule may have opened the room: the case is now at its video session
    }));
    item.append(el("div", { class: "actions" }, join));
  }
  if (isMediator && (state === "upcoming" || state === "open")) {
    const cancel = el("button", { type: "button", class: "link", text: i18n.t("sessions.cancel") });
    cancel.addEventListener("click", () => busy(cancel, notice, async () => {
      await api.post(`/api/cases/${encodeURIComponent(c.id)}/sessions/${encodeURIComponent(s.id)}/cancel`, {});
      await refresh();
    }));
    item.append(cancel);
  }
  return item;
}

function scheduleForm(c, notice, refresh) {
  const date = el("input", { type: "date", name: "session_date", id: "session-date" });
  const time = el("input", { type: "time", name: "session_time", id: "session-time", step: 300 });
  const duration = el("select", { name: "session_duration", id: "session-duration" },
    DURATIONS.map((m) => el("option", { value: m, selected: m === 60, text: i18n.t("sessions.minutes", { minutes: m }) })));
  const note = el("input", { name: "session_note", id: "session-note", maxlength: 500 });
  const submit = el("button", { type: "submit", class: "primary", id: "schedule-session", text: i18n.t("sessions.schedule") });
  const label = (key, control) => el("label", { class: "field" }, el("span", { text: i18n.t(key) }), control);
  const form = el("form", { class: "stack", id: "schedule-form", novalidate: true },
    el("div", { class: "grid-2" }, label("sessions.date", date), label("sessions.time", time),
      label("sessions.duration", duration), label("sessions.note", note)),
    el("p", { class: "hint", text: i18n.t("sessions.scheduleHint") }),
    el("div", { class: "actions" }, submit));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!date.value || !time.value) {
      notify(notice, "error", i18n.t("sessions.pickTime"));
      return;
    }
    busy(submit, notice, async () => {
      // The date and time as the mediator's browser reads them, sent as an instant (UTC).
      const startsAt = new Date(`${date.value}T${time.value}`).toISOString();
      await api.post(`/api/cases/${encodeURIComponent(c.id)}/sessions`,
        { starts_at: startsAt, duration_minutes: Number(duration.value), note: note.value.trim() });
      await refresh();
    });
  });
  return form;
}

export async function sessionsPanel(c, account, side, refresh) {
  const isMediator = account.role === "mediator";
  const notice = el("p", { class: "notice", role: "status", hidden: true });
  const section = el("section", { class: "card panel", id: "sessions-panel" }, el("h2", { text: i18n.t("sessions.heading") }));
  let sessions = [];
  try {
    sessions = await api.get(`/api/cases/${encodeURIComponent(c.id)}/sessions`);
  } catch {
    notify(notice, "error", i18n.t("sessions.loadFailed"));
  }
  const shown = sessions.filter((s) => sessionState(s) !== "past");
  section.append(shown.length === 0
    ? el("p", { class: "hint", id: "no-sessions", text: i18n.t(isMediator ? "sessions.noneMediator" : "sessions.noneParty") })
    : el("ul", { class: "documents", id: "sessions" }, shown.map((s) => sessionItem(c, s, { isMediator, side, notice, refresh }))));
  if (!isMediator && shown.some((s) => sessionState(s) === "upcoming")) {
    section.append(el("p", { class: "hint", text: i18n.t("sessions.partyHint") }));
  }
  if (isMediator) section.append(scheduleForm(c, notice, refresh));
  section.append(notice);
  return section;
}
