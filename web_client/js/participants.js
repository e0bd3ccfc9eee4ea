// The participant list, and for the mediator the console: admit from the lobby, mute others,
// let an observer speak, remove, caucus with one side, return to the joint session, end.
// Buttons carry `data-action` and `data-seat`; one delegated click handler sends the events.

import { castLabels, muteBadges } from "./cast.js";
import { t, errorMessage } from "./i18n.js";

function button(action, label, seat, extra = {}) {
  const b = document.createElement("button");
  b.type = "button";
  b.dataset.action = action;
  if (seat) b.dataset.seat = seat;
  Object.assign(b.dataset, extra);
  b.textContent = label;
  return b;
}

function personLine(p) {
  const name = document.createElement("span");
  name.className = "person-name";
  name.textContent = p.name;
  const meta = document.createElement("span");
  meta.className = "person-meta";
  const parts = castLabels(p);
  if (p.state === "reconnecting") parts.push(t("tile.reconnecting"));
  if (p.in_caucus) parts.push(t("tile.inCaucus"));
  meta.textContent = parts.join(" · ");
  const icons = document.createElement("span");
  icons.className = "person-icons";
  icons.append(...muteBadges(p).map(({ kind, key }) => {
    const badge = document.createElement("span");
    badge.className = `badge ${kind}`;
    badge.textContent = t(key);
    return badge;
  }));
  return [name, meta, icons];
}

export class ParticipantPanel {
  constructor({ roomList, lobbyList, lobbySection, consoleEl, countEl, signaling, notify, confirm }) {
    this.roomList = roomList;
    this.lobbyList = lobbyList;
    this.lobbySection = lobbySection;
    this.consoleEl = consoleEl;
    this.countEl = countEl;
    this.signaling = signaling;
    this.notify = notify;
    this.confirm = confirm;
    this.snapshot = null;
    for (const root of [roomList, lobbyList, consoleEl]) {
      root.addEventListener("click", (event) => {
        const target = event.target.closest("button[data-action]");
        if (target) this.act(target.dataset.action, target.dataset);
      });
    }
  }

  render(snapshot) {
    this.snapshot = snapshot;
    const me = snapshot.you;
    const isMediator = me.role === "mediator";
    const lobby = snapshot.participants.filter((p) => p.state === "lobby");
    const inRoom = snapshot.participants.filter((p) => p.state !== "lobby");
    this.countEl.textContent = String(inRoom.length);

    this.lobbySection.hidden = !isMediator;
    this.lobbyList.replaceChildren(
      ...lobby.map((p) => {
        const li = document.createElement("li");
        li.dataset.seat = p.seat;
        li.append(...personLine(p), button("admit", t("participants.admit"), p.seat));
        return li;
      }),
    );
    if (isMediator) {
      if (lobby.length === 0) {
        const li = document.createElement("li");
        li.className = "empty";
        li.textContent = t("participants.none");
        this.lobbyList.append(li);
      } else {
        const li = document.createElement("li");
        li.append(button("admit-all", t("participants.admitAll")));
        this.lobbyList.append(li);
      }
    }

    this.roomList.replaceChildren(
      ...inRoom.map((p) => {
        const li = document.createElement("li");
        li.dataset.seat = p.seat;
        li.append(...personLine(p));
        if (isMediator && p.seat !== me.seat) li.append(this.controls(p));
        return li;
      }),
    );

    this.consoleEl.hidden = !isMediator;
    if (isMediator) this.renderConsole(snapshot);
  }

  controls(p) {
    const box = document.createElement("span");
    box.className = "person-controls";
    const muted = p.muted_by_mediator ?? { audio: false, video: false };
    box.append(
      button("mute", muted.audio ? t("participants.unmute") : t("participants.mute"), p.seat, {
        kind: "audio",
        muted: String(!muted.audio),
      }),
      button("mute", muted.video ? t("participants.allowVideo") : t("participants.stopVideo"), p.seat, {
        kind: "video",
        muted: String(!muted.video),
      }),
    );
    if (p.role === "observer") {
      box.append(
        button("permit", p.can_publish ? t("participants.revoke") : t("participants.permit"), p.seat, {
          publish: String(!p.can_publish),
        }),
      );
    }
    box.append(button("remove", t("participants.remove"), p.seat));
    return box;
  }

  renderConsole(snapshot) {
    const buttons = [];
    if (snapshot.caucus) {
      buttons.push(button("caucus-end", t("console.caucusEnd")));
    } else {
      buttons.push(button("caucus-start", t("console.caucusApplicant"), null, { side: "applicant" }));
      buttons.push(button("caucus-start", t("console.caucusRespondent"), null, { side: "respondent" }));
    }
    buttons.push(button("end", t("console.end"), null, { danger: "true" }));
    const heading = document.createElement("h3");
    heading.textContent = t("console.heading");
    this.consoleEl.replaceChildren(heading, ...buttons);
  }

  nameOf(seat) {
    return this.snapshot?.participants.find((p) => p.seat === seat)?.name ?? seat;
  }

  async act(action, data) {
    const requests = {
      admit: () => ["mod:admit", { seat: data.seat }],
      "admit-all": () => ["mod:admit", { all: true }],
      mute: () => ["mod:mute", { seat: data.seat, kind: data.kind, muted: data.muted === "true" }],
      permit: () => ["mod:permit", { seat: data.seat, publish: data.publish === "true" }],
      remove: () => ["mod:remove", { seat: data.seat }],
      "caucus-start": () => ["caucus:start", { side: data.side }],
      "caucus-end": () => ["caucus:end", {}],
      end: () => ["mod:end", {}],
    };
    const make = requests[action];
    if (!make) return;
    if (action === "remove" && !(await this.confirm(t("confirm.remove", { name: this.nameOf(data.seat) })))) return;
    if (action === "end" && !(await this.confirm(t("confirm.end")))) return;
    const [event, payload] = make();
    try {
      await this.signaling.request(event, payload);
    } catch (error) {
      this.notify(errorMessage(error.code, error.message, error.details), "error");
    }
  }
}
