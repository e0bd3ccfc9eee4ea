// Step 2 for a party: the five mediators recommended for this case, each with the reason the
// recommender gives (`GET /api/cases/{id}/recommendations`), and the choice.

import * as i18n from "../i18n.js";
import { api } from "./api.js";
import { busy, el, errorText } from "./dom.js";

const PARTS = ["speciality", "settlement", "satisfaction", "load", "decline", "region"];

function card(rec, onChoose, notice) {
  const button = el("button", { type: "button", class: "primary", text: i18n.t("action.choose") });
  button.addEventListener("click", () => busy(button, notice, () => onChoose(rec)));
  return el("li", { class: "mediator", dataset: { mediatorId: rec.mediator_id } },
    el("div", { class: "mediator-head" },
      el("span", { class: "rank", text: i18n.t("choose.rank", { rank: rec.rank }) }),
      el("strong", { class: "mediator-name", text: rec.name }),
      el("span", { class: "score", title: PARTS.map((p) => `${p} ${rec.score[p].toFixed(2)}`).join(" · "),
        text: `${Math.round(rec.score.total * 100)}` })),
    el("p", { class: "mediator-meta", text: [rec.organisation, rec.category, rec.region].filter(Boolean).join(" · ") }),
    el("p", { class: "reason", text: rec.reason }),
    el("div", { class: "scorebar", "aria-hidden": "true" },
      PARTS.map((part) => el("span", { dataset: { part }, style: `flex-grow:${Math.max(rec.score[part], 0.001)}` }))),
    el("div", { class: "actions" }, button));
}

/** The panel; `side` is sent when the caller acts for both sides. */
export async function mediatorChoicePanel(caseView, side, onChosen) {
  const notice = el("p", { class: "notice", role: "status", dataset: { kind: "error" }, hidden: true });
  const panel = el("section", { class: "card panel", id: "mediator-choice" },
    el("h2", { text: i18n.t("choose.heading") }), el("p", { class: "hint", text: i18n.t("choose.intro") }), notice);
  let result;
  try {
    result = await api.get(`/api/cases/${encodeURIComponent(caseView.id)}/recommendations`);
  } catch (error) {
    notice.hidden = false;
    notice.textContent = errorText(error);
    return panel;
  }
  if (!result.complete) { // the server's reason is for integrations; the page says it in the reader's language
    panel.append(el("p", { class: "notice", id: "shortfall", dataset: { kind: "warn" },
      text: i18n.t("choose.shortfall", { count: result.recommendations.length }) }));
  }
  const choose = async (rec) => {
    await api.post(`/api/cases/${encodeURIComponent(caseView.id)}/mediator`, side ? { mediator_id: rec.mediator_id, side }
      : { mediator_id: rec.mediator_id });
    await onChosen();
  };
  panel.append(el("ol", { class: "mediators" }, result.recommendations.map((rec) => card(rec, choose, notice))));
  return panel;
}
