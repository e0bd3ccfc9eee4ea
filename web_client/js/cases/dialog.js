// A modal question before an action that cannot be undone (a ruling, a failure record).

import * as i18n from "../i18n.js";
import { el } from "./dom.js";

/** Show `question` (and `detail`); resolves true when the person confirms, false on cancel or Escape. */
export function confirmAction(question, detail = "") {
  return new Promise((resolve) => {
    const yes = el("button", { type: "button", class: "primary", id: "dialog-confirm", text: i18n.t("dialog.confirm") });
    const no = el("button", { type: "button", id: "dialog-cancel", text: i18n.t("dialog.cancel") });
    const dialog = el("dialog", { class: "confirm", id: "confirm-dialog", "aria-labelledby": "confirm-question" },
      el("p", { class: "question", id: "confirm-question", text: question }),
      detail ? el("p", { class: "hint", text: detail }) : null,
      el("div", { class: "actions" }, no, yes));
    const finish = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    yes.addEventListener("click", () => finish(true));
    no.addEventListener("click", () => finish(false));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    no.focus(); // the safe answer has the focus
  });
}
