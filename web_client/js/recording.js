// Recording in the room: the red "录制中" indicator everyone sees while a session is recorded,
// the consent question each participant answers for themselves before anything of theirs is
// written, and for the mediator start/stop and who consented or refused.

import { errorMessage, t } from "./i18n.js";
import { castLabels } from "./cast.js";

export class RecordingControls {
  constructor({ indicator, dialog, panel, signaling, notify }) {
    this.indicator = indicator;
    this.dialog = dialog;
    this.panel = panel;
    this.signaling = signaling;
    this.notify = notify;
    this.snapshot = null;
    this.asked = null; // the session (its start time) whose question is on screen
    // A group's shared snapshot carries nobody's answer: the browser remembers its own.
    this.answered = { session: null, consent: "pending" };
    dialog.querySelector("[data-answer=yes]").addEventListener("click", () => this.answer(true));
    dialog.querySelector("[data-answer=no]").addEventListener("click", () => this.answer(false));
    panel.addEventListener("click", (event) => {
      const action = event.target.closest("button")?.dataset.action;
      if (action) this.act(action);
    });
  }

  /** The server's announcement: recording started or stopped. */
  changed({ active, by }) {
    this.notify(active ? t("rec.startedBy", { name: by ?? t("role.mediator") }) : t("rec.stoppedNotice"));
  }

  render(snapshot) {
    this.snapshot = snapshot;
    const rec = snapshot.recording ?? { active: false, policy: "off" };
    const consent = this.consentOf(rec);
    const me = snapshot.you;
    const present = me.state === "admitted" || me.state === "reconnecting";
    this.indicator.hidden = !rec.active;
    this.indicator.dataset.consent = consent;
    this.indicator.querySelector(".rec-text").textContent =
      consent === "refused" ? t("rec.onRefused") : t("rec.on");
    const ask = rec.active && present && consent === "pending";
    if (ask && !this.dialog.open) {
      this.asked = rec.started_at;
      this.dialog.querySelector(".rec-question").textContent = t("rec.question");
      this.dialog.querySelector("[data-answer=yes]").textContent = t("rec.consent");
      this.dialog.querySelector("[data-answer=no]").textContent = t("rec.refuse");
      this.dialog.showModal();
    } else if (!ask && this.dialog.open) {
      this.dialog.close();
    }
    this.renderPanel(snapshot, rec, me.role === "mediator" && present);
  }

  /** This seat's answer for the running session: the server's word when the snapshot is this
   * seat's own, else the answer this browser gave for the same session. */
  consentOf(rec) {
    if (!rec.active) return "pending";
    if (rec.your_consent) this.answered = { session: rec.started_at, consent: rec.your_consent };
    return this.answered.session === rec.started_at ? this.answered.consent : "pending";
  }

  renderPanel(snapshot, rec, isMediator) {
    this.panel.hidden = !isMediator;
    if (!isMediator) return;
    const heading = document.createElement("h3");
    heading.textContent = t("rec.heading");
    const policy = document.createElement("p");
    policy.className = "muted";
    policy.textContent = t(`rec.policy.${rec.policy}`);
    const parts = [heading, policy];
    if (rec.policy !== "off") {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.action = rec.active ? "stop" : "start";
      button.id = rec.active ? "rec-stop" : "rec-start";
      button.className = rec.active ? "danger" : "primary";
      button.textContent = t(rec.active ? "rec.stop" : "rec.start");
      parts.push(button);
    }
    if (rec.active) {
      const list = document.createElement("ul");
      list.className = "people rec-consents";
      for (const entry of rec.consents ?? []) {
        const li = document.createElement("li");
        li.dataset.seat = entry.seat;
        li.dataset.consent = entry.consent;
        const who = document.createElement("span");
        const label = castLabels(entry).join(" · ");
        who.textContent = label ? `${label} ${entry.name}` : entry.name;
        const state = document.createElement("span");
        state.className = `rec-answer ${entry.consent}`;
        state.textContent = t(`rec.answer.${entry.consent}`);
        li.append(who, state);
        list.append(li);
      }
      parts.push(list);
    }
    this.panel.replaceChildren(...parts);
  }

  async answer(consent) {
    this.dialog.close();
    const before = this.answered;
    this.answered = { session: this.asked, consent: consent ? "consented" : "refused" };
    try {
      await this.signaling.request("rec:consent", { consent });
      this.notify(t(consent ? "rec.thanksYes" : "rec.thanksNo"));
    } catch (error) {
      this.answered = before;
      this.notify(errorMessage(error.code, error.message), "error");
    }
  }

  async act(action) {
    try {
      await this.signaling.request(action === "start" ? "rec:start" : "rec:stop", {});
    } catch (error) {
      this.notify(errorMessage(error.code, error.message), "error");
    }
  }
}
