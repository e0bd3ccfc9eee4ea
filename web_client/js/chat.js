// Room chat: messages from `chat:message`, sending with `chat:send`. Messages said inside a
// caucus are tagged so nobody mistakes them for the joint session.

import { t, errorMessage } from "./i18n.js";

const MAX_LENGTH = 2000;

export class Chat {
  constructor({ list, form, input, hint, signaling, notify }) {
    this.list = list;
    this.form = form;
    this.input = input;
    this.hint = hint;
    this.signaling = signaling;
    this.notify = notify;
    this.seen = new Set();
    this.allowed = true;
    input.maxLength = MAX_LENGTH;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
  }

  /** Observers may chat only when the mediator permits them. */
  setAllowed(allowed) {
    this.allowed = allowed;
    this.input.disabled = !allowed;
    this.form.querySelector("button").disabled = !allowed;
    this.hint.hidden = allowed;
  }

  add(message) {
    if (this.seen.has(message.id)) return;
    this.seen.add(message.id);
    const item = document.createElement("li");
    item.className = message.scope === "caucus" ? "chat-item caucus" : "chat-item";
    const head = document.createElement("div");
    head.className = "chat-head";
    const who = document.createElement("strong");
    who.textContent = message.name;
    const role = document.createElement("span");
    role.className = "chat-role";
    role.textContent = t(`role.${message.role}`);
    const time = document.createElement("time");
    const when = new Date(typeof message.ts === "number" && message.ts < 1e12 ? message.ts * 1000 : message.ts);
    time.textContent = Number.isNaN(when.getTime()) ? "" : when.toLocaleTimeString();
    head.append(who, role, time);
    if (message.scope === "caucus") {
      const tag = document.createElement("span");
      tag.className = "chat-tag";
      tag.textContent = t("chat.caucus");
      head.append(tag);
    }
    const body = document.createElement("p");
    body.textContent = message.text;
    item.append(head, body);
    this.list.append(item);
    this.list.scrollTop = this.list.scrollHeight;
  }

  async send() {
    const text = this.input.value.trim();
    if (!text) return;
    this.input.disabled = true;
    try {
      await this.signaling.request("chat:send", { text });
      this.input.value = "";
    } catch (error) {
      this.notify(errorMessage(error.code, error.message), "error");
    } finally {
      this.input.disabled = !this.allowed;
      this.input.focus();
    }
  }
}
