// The guidance page: the assistant (over HTTP here; the widget uses Socket.IO), diagnosis, the
// cost estimator and similar cases. Every text from the server is set as text, never as HTML.

import { api, disputeName, loadCategories, startPage, t } from "./common.js";
import { failureText as failed, renderReply } from "./assistant_widget.js";

const RELATIONSHIPS = ["stranger", "family", "neighbour", "employment", "business", "consumer", "landlord", "other"];
const URGENCIES = ["normal", "low", "urgent"];
const $ = (id) => document.getElementById(id);

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function fillSelects(categories) {
  for (const select of document.querySelectorAll("select.dispute-types")) {
    const chosen = select.value;
    select.replaceChildren(...Object.keys(categories.dispute_types).map((key) => new Option(disputeName(key), key)));
    if (chosen) select.value = chosen;
  }
  const options = (select, keys, prefix) => {
    const chosen = select.value;
    select.replaceChildren(...keys.map((key) => new Option(t(`${prefix}.${key}`), key)));
    if (chosen) select.value = chosen;
  };
  options(document.querySelector("#diagnosis-form [name=relationship]"), RELATIONSHIPS, "guide.rel");
  options(document.querySelector("#diagnosis-form [name=urgency]"), URGENCIES, "guide.urg");
}

async function ask(event) {
  event.preventDefault();
  const form = event.target;
  const question = form.q.value.trim();
  if (!question) return;
  const exchange = el("div", undefined, "exchange");
  exchange.append(el("p", question, "mine"));
  $("answers").prepend(exchange);  // the newest question and its answer first
  try {
    const reply = await api.get(`/api/guidance/answer?q=${encodeURIComponent(question)}`);
    renderReply(exchange, reply);
    if (reply.offer_consultation) openConsultation(question);
  } catch (error) {
    exchange.append(el("p", failed(error)));
  }
}

async function openConsultation(question) {
  const form = $("consult");
  form.hidden = false;
  form.question.value ||= question;
  if (!form.organisation_id.options.length) {
    const page = await api.get("/api/directory/organisations?page_size=100");
    form.organisation_id.replaceChildren(...(page.items ?? []).map((o) => new Option(o.name, o.id)));
  }
}

async function consult(event) {
  event.preventDefault();
  const form = event.target;
  try {
    await api.post("/api/guidance/consultations", {
      organisation_id: form.organisation_id.value, name: form.name.value, phone: form.phone.value,
      question: form.question.value,
    });
    $("consult-status").textContent = t("guide.consultSent");
  } catch (error) {
    $("consult-status").textContent = failed(error);
  }
}

function pathBlock(path) {
  const box = el("div", undefined, "path");
  box.append(el("strong", document.documentElement.lang === "en" ? path.label_en : path.label_zh));
  const reasons = el("ul");
  for (const reason of path.reasons) reasons.append(el("li", reason));
  box.append(reasons, el("p", path.legal_basis.join("；"), "citation"));
  return box;
}

async function diagnose(event) {
  event.preventDefault();
  const form = event.target;
  const out = $("diagnosis-result");
  try {
    const result = await api.post("/api/guidance/diagnosis", {
      dispute_type: form.dispute_type.value, amount: form.amount.value ? form.amount.value : null,
      relationship: form.relationship.value, urgency: form.urgency.value,
      written_evidence: form.written_evidence.checked, arbitration_clause: form.arbitration_clause.checked,
    });
    out.replaceChildren(el("h3", t("guide.recommended")), pathBlock(result.recommended));
    if (result.alternatives.length) {
      out.append(el("h3", t("guide.alternatives")), ...result.alternatives.map(pathBlock));
    }
    const estimate = document.querySelector("#estimate-form");
    estimate.dispute_type.value = form.dispute_type.value;
    if (form.amount.value) estimate.amount.value = form.amount.value;
  } catch (error) {
    out.replaceChildren(el("p", failed(error)));
  }
}

async function estimate(event) {
  event.preventDefault();
  const form = event.target;
  const out = $("estimate-result");
  const query = new URLSearchParams({ dispute_type: form.dispute_type.value, amount: form.amount.value,
                                      simplified: form.simplified.checked, lawyer: form.lawyer.checked });
  try {
    const e = await api.get(`/api/guidance/estimate?${query}`);
    const yuan = (v) => `¥${Number(v).toLocaleString()}`;
    const table = el("table", undefined, "compare");
    const rows = [
      ["", t("guide.litigation"), t("guide.mediation")],
      [t("guide.courtFee"), yuan(e.litigation.acceptance_fee), t("guide.mediationFee")],
      [t("guide.lawyerFee"), yuan(e.litigation.lawyer_fee), "—"],
      [t("guide.total"), yuan(e.litigation.total), yuan(e.mediation.fee)],
      [t("guide.duration"), e.court.median_days == null ? t("guide.months", { n: e.litigation.months })
        : `${t("guide.months", { n: e.litigation.months })}; ${t("guide.pastJudgments", { n: e.court.median_days })}`,
       e.mediation.median_days == null ? "—" : t("guide.medianDays", { n: e.mediation.median_days })],
      [t("guide.settlementRate"), "—",
       e.mediation.settlement_rate == null ? "—" : `${(e.mediation.settlement_rate * 100).toFixed(1)}%`],
    ];
    rows.forEach((cells, i) => {
      const tr = el("tr");
      for (const cell of cells) tr.append(el(i === 0 ? "th" : "td", cell));
      table.append(tr);
    });
    const english = document.documentElement.lang === "en";
    out.replaceChildren(table, el("p", english ? e.explanation_en : e.explanation_zh),
                        el("p", e.litigation.basis.join("；"), "citation"));
  } catch (error) {
    out.replaceChildren(el("p", failed(error)));
  }
}

function marked(pieces) {
  const p = el("p");
  for (const piece of pieces) p.append(piece.hit ? el("mark", piece.text) : document.createTextNode(piece.text));
  return p;
}

async function similar(event) {
  event.preventDefault();
  const out = $("similar-result");
  try {
    const cases = await api.get(`/api/guidance/similar-cases?q=${encodeURIComponent(event.target.q.value)}`);
    if (!cases.length) {
      out.replaceChildren(el("p", t("guide.none")));
      return;
    }
    out.replaceChildren(...cases.map((c) => {
      const card = el("article", undefined, "similar-case");
      card.append(el("h3", `${c.reference} · ${c.court} · ${disputeName(c.dispute_type)}`), marked(c.facts),
                  marked(c.claims),
                  el("p", `${t(`guide.outcome.${c.outcome}`)} · ${t("guide.days", { n: c.duration_days })} · ${c.result}`,
                     "outcome"));
      return card;
    }));
  } catch (error) {
    out.replaceChildren(el("p", failed(error)));
  }
}

async function main() {
  const categories = await loadCategories();
  startPage(() => fillSelects(categories));
  fillSelects(categories);
  $("ask-form").addEventListener("submit", ask);
  $("consult").addEventListener("submit", consult);
  $("diagnosis-form").addEventListener("submit", diagnose);
  $("estimate-form").addEventListener("submit", estimate);
  $("similar-form").addEventListener("submit", similar);
  const asked = new URLSearchParams(window.location.search).get("q");
  if (asked) {
    $("ask-form").q.value = asked;
    $("ask-form").requestSubmit();
  }
  if (window.location.hash === "#consult") openConsultation("");
  document.body.dataset.state = "ready";
}

main();
