// Step 5 for the mediator: record that mediation failed, with the reasons (one per line). It
// ends the mediation (the case goes on to the ratings and then to the lawsuit package), so it
// is confirmed in a dialog first.

import * as i18n from "../i18n.js";
import { api } from "./api.js";
import { busy, el, notify } from "./dom.js";
import { confirmAction } from "./dialog.js";

const MAX_REASONS = 20;

export function failurePanel(c, refresh) {
  const reasons = el("textarea", { name: "failure_reasons", rows: 3, maxlength: 20 * 500,
    placeholder: i18n.t("failure.placeholder"), "aria-label": i18n.t("failure.reasons") });
  const record = el("button", { type: "button", class: "danger", id: "record-failure", text: i18n.t("failure.record") });
  const notice = el("p", { class: "notice", role: "status", hidden: true });
  const panel = el("section", { class: "card panel", id: "failure-panel" }, el("h2", { text: i18n.t("failure.heading") }),
    el("p", { class: "hint", text: i18n.t("failure.intro") }), reasons, el("div", { class: "actions" }, record), notice);
  record.addEventListener("click", async () => {
    const lines = reasons.value.split("\n").map((line) => line.trim()).filter(Boolean);
    if (lines.length === 0 || lines.length > MAX_REASONS) {
      notify(notice, "error", i18n.t("failure.count", { max: MAX_REASONS }));
      return;
    }
    if (!(await confirmAction(i18n.t("failure.confirm"), lines.join("；")))) return;
    await busy(record, notice, async () => {
      await api.post(`/api/cases/${encodeURIComponent(c.id)}/failure`, { reasons: lines });
      reasons.value = ""; // recorded: the refresh must not put the text back
      await refresh();
    });
  });
  return panel;
}
