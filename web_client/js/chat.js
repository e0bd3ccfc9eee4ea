// Room chat: messages from `chat:message`, sending with `chat:send`; `chat:history` (after joining
// or being admitted) brings back what the server kept, so a reload keeps the conversation.
// Messages said inside a caucus are tagged so nobody mistakes them for the joint session.

import { t, errorMessage } from "./i18n.js";
import { formatTime, toDate } from "./dates.js";

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
    this.hintKey = "chat.disabled";
    input.maxLength = MAX_LENGTH;
    // The list scrolls in its panel; while the reader is at the newest message it stays there,
    // also when the panel changes size (window resized, phone turned, console grew).
    this.atEnd = true;
    list.addEventListener("scroll", () => {
      this.atEnd = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
    });
    new ResizeObserver(() => {
      if (this.atEnd) list.scrollTop = list.scrollHeight;
    }).observe(list);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
  }

  /** Closed, with the reason `hintKey` shown: an observer not permitted to speak, or the side
   * waiting while the mediator holds a caucus with the other. */
  setAllowed(allowed, hintKey = "chat.disabled") {
    this.allowed = allowed;
    this.hintKey = hintKey;
    this.input.disabled = !allowed;
    this.form.querySelector("button").disabled = !allowed;
    this.hint.hidden = allowed;
    this.hint.textContent = t(hintKey);
  }

  /** The kept messages, oldest first (those already shown are skipped). */
  addHistory(messages) {
    for (const message of messages ?? []) this.add(message);
  }

  /** The hint and the times in the new language. */
  rerender() {
    this.hint.textContent = t(this.hintKey);
    for (const time of this.list.querySelectorAll("time")) time.textContent = formatTime(time.dateTime);
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
    const when = toDate(message.ts);
    time.dateTime = when ? when.toISOString() : "";
    time.textContent = formatTime(when);
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
    this.atEnd = true;
  }

  async send() {
    const text = this.input.value.trim();
    if (!text) return;
    this.input.disabled = true;
    try {
      await this.signaling.request("chat:send", { text });
      this.input.value = "";
    } catch (error) {
      this.notify(errorMessage(error.code, error.message, error.details), "error");
    } finally {
      this.input.disabled = !this.allowed;
      this.input.focus();
    }
  }
}
