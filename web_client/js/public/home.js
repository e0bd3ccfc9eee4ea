// The home page for the public: static content, translated, and the platform's published figures.

import { $, el } from "../cases/dom.js";
import { api, startPage, t } from "./common.js";

let summary = null;

/** A few figures of the public summary (the data centre has the charts); the section hides if they fail. */
function renderSummary() {
  if (!summary) return;
  const c = summary.cases;
  const rate = c.settlement_rate === null ? "—" : `${(c.settlement_rate * 100).toFixed(1)}%`;
  $("summary-figures").replaceChildren(...[["home.summaryCases", c.total], ["home.summarySettled", c.settled],
    ["home.summaryRate", rate]].flatMap(([key, value]) => [el("dt", { text: t(key) }), el("dd", { text: String(value) })]));
}

startPage(renderSummary);
api.get("/api/statistics/public").then((figures) => {
  summary = figures;
  renderSummary();
}).catch(() => {
  $("summary").hidden = true;
});
