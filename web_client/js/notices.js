// Transient notices (toasts) and a confirmation dialog that does not block the page, so
// that it also works under automation (window.confirm would).

import { t } from "./i18n.js";

const NOTICE_MS = 5000;

export function notify(text, kind = "info") {
  const box = document.getElementById("notices");
  const item = document.createElement("div");
  item.className = `notice ${kind}`;
  item.setAttribute("role", kind === "error" ? "alert" : "status");
  item.textContent = text;
  box.append(item);
  setTimeout(() => item.remove(), NOTICE_MS);
}

/** Ask a yes/no question in the page's <dialog>; resolves true on OK. */
export function confirmDialog(question) {
  const dialog = document.getElementById("confirm");
  dialog.querySelector(".confirm-text").textContent = question;
  dialog.querySelector("[value=ok]").textContent = t("confirm.ok");
  dialog.querySelector("[value=cancel]").textContent = t("confirm.cancel");
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}
