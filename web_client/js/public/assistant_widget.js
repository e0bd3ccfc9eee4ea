// The assistant on every public page: a button that opens a small chat panel. Questions go over a
// Socket.IO connection (`guide:ask`, acknowledged with the reply), opened only when first used.

import { Signaling } from "../signaling.js";
import { errorMessage, t } from "../i18n.js";

let signaling = null;

/** What to say when a call failed: the server's code in words (e.g. too many requests), else "try later". */
export const failureText = (error) => (error?.code ? errorMessage(error.code, t("guide.failed")) : t("guide.failed"));

/** The connection, once it is up (the first question opens it). */
export async function connection() {
  if (!signaling) {
    signaling = new Signaling({ onStatus: () => {} });
    signaling.connect();
  }
  if (!signaling.connected) await new Promise((resolve) => signaling.socket.once("connect", resolve));
  return signaling;
}

/** Show a reply: its text, the cited entry and source, and the consultation offer when unsure. */
export function renderReply(container, reply) {
  const box = document.createElement("div");
  box.className = `reply reply-${reply.outcome}`;
  box.dataset.outcome = reply.outcome;
  if (reply.outcome !== "answer") {
    const tag = document.createElement("strong");
    tag.textContent = t(reply.outcome === "unsure" ? "guide.unsure" : "guide.declined");
    box.append(tag);
  }
  for (const line of reply.text.split("\n").filter(Boolean)) {
    const p = document.createElement("p");
    p.textContent = line;
    box.append(p);
  }
  if (reply.citation) {
    const cite = document.createElement("p");
    cite.className = "citation";
    cite.dataset.entry = reply.citation.entry_id;
    cite.textContent = `${t("guide.source", { source: reply.citation.source })} · ${t("guide.entry", { id: reply.citation.entry_id })}`;
    box.append(cite);
  }
  if (reply.offer_consultation) {
    const link = document.createElement("a");
    link.href = "/guidance.html#consult";
    link.textContent = t("guide.consult");
    box.append(link);
  }
  container.append(box);
  container.scrollTop = container.scrollHeight;
}

export function mountAssistant() {
  if (document.getElementById("assistant-widget")) return;
  const root = document.createElement("aside");
  root.id = "assistant-widget";
  root.innerHTML = `
    <button type="button" class="button assistant-toggle"></button>
    <div class="assistant-panel" hidden>
      <div class="assistant-log" aria-live="polite"></div>
      <form class="assistant-form"><input name="q" maxlength="300" required><button class="button" type="submit"></button></form>
    </div>`;
  document.body.append(root);
  const toggle = root.querySelector(".assistant-toggle");
  const panel = root.querySelector(".assistant-panel");
  const log = root.querySelector(".assistant-log");
  const form = root.querySelector("form");
  const label = () => {
    toggle.textContent = panel.hidden ? t("widget.open") : t("widget.close");
    form.q.placeholder = t("guide.askPlaceholder");
    form.querySelector("button").textContent = t("guide.ask");
  };
  label();
  toggle.addEventListener("click", () => {
    panel.hidden = !panel.hidden;
    if (!panel.hidden && !log.childElementCount) {
      const hello = document.createElement("p");
      hello.textContent = t("widget.hello");
      log.append(hello);
    }
    label();
    if (!panel.hidden) form.q.focus();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const question = form.q.value.trim();
    if (!question) return;
    const mine = document.createElement("p");
    mine.className = "mine";
    mine.textContent = question;
    log.append(mine);
    form.q.value = "";
    try {
      const ack = await (await connection()).request("guide:ask", { question });
      renderReply(log, ack.reply);
    } catch (error) {
      const failed = document.createElement("p");
      failed.textContent = failureText(error);
      log.append(failed);
    }
  });
  return label;
}
