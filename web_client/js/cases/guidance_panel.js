// Guidance on #admin: platform administrators edit the assistant's knowledge base (every entry with
// its questions, answers, keywords and source; save replaces it, a new id adds one) and read the
// questions it could not answer; organisation administrators read the consultation requests sent
// to their organisation.

import * as i18n from "../i18n.js";
import { api } from "./api.js";
import { busy, el, errorText, notify, when } from "./dom.js";

const FIELDS = ["topic", "question_zh", "question_en", "answer_zh", "answer_en", "source"];
const LONG = new Set(["answer_zh", "answer_en"]);

function entryForm(entries, onSaved) {
  const picker = el("select", { id: "guidance-entry", name: "entry" },
    el("option", { value: "", text: i18n.t("guidanceAdmin.new") }),
    entries.map((e) => el("option", { value: e.id, text: `${e.id} · ${e.question_zh}` })));
  const id = el("input", { name: "id", required: true, maxlength: 64, pattern: "[a-z0-9-]+" });
  const inputs = Object.fromEntries(FIELDS.map((name) => [name, LONG.has(name)
    ? el("textarea", { name, required: true, maxlength: 4000, rows: 3 })
    : el("input", { name, required: true, maxlength: 300 })]));
  const keywords = el("input", { name: "keywords", maxlength: 2000 });
  const save = el("button", { type: "submit", id: "guidance-save", text: i18n.t("guidanceAdmin.save") });
  const remove = el("button", { type: "button", id: "guidance-delete", text: i18n.t("guidanceAdmin.delete") });
  const notice = el("p", { class: "notice", role: "status", hidden: true });
  const fill = () => {
    const entry = entries.find((e) => e.id === picker.value);
    id.value = entry?.id ?? "";
    id.readOnly = Boolean(entry);
    for (const name of FIELDS) inputs[name].value = entry?.[name] ?? "";
    keywords.value = entry ? entry.keywords.join(", ") : "";
  };
  picker.addEventListener("change", fill);
  const label = (key, input) => el("label", { class: "field" }, el("span", { text: i18n.t(key) }), input);
  const form = el("form", { class: "stack", id: "guidance-form" }, label("guidanceAdmin.entry", picker),
    label("guidanceAdmin.id", id), FIELDS.map((name) => label(`guidanceAdmin.${name}`, inputs[name])),
    label("guidanceAdmin.keywords", keywords), el("div", { class: "actions" }, save, remove), notice);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(save, notice, async () => {
      const body = Object.fromEntries(FIELDS.map((name) => [name, inputs[name].value.trim()]));
      body.keywords = keywords.value.split(/[,，]/).map((k) => k.trim()).filter(Boolean);
      await api.put(`/api/guidance/entries/${encodeURIComponent(id.value.trim())}`, body);
      notify(notice, "info", i18n.t("guidanceAdmin.saved", { id: id.value.trim() }));
      onSaved();
    });
  });
  remove.addEventListener("click", () => busy(remove, notice, async () => {
    if (!picker.value) return;
    await api.del(`/api/guidance/entries/${encodeURIComponent(picker.value)}`);
    notify(notice, "info", i18n.t("guidanceAdmin.deleted", { id: picker.value }));
    onSaved();
  }));
  return form;
}

function table(headKeys, rows) {
  return el("table", { class: "table" },
    el("thead", {}, el("tr", {}, headKeys.map((k) => el("th", { text: i18n.t(k) })))),
    el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((c) => el("td", { text: c }))))));
}

/** The cards for `account`'s role, appended to `view` (nothing for other roles). */
export async function renderGuidanceAdmin(account, view) {
  const card = el("section", { class: "card", id: "guidance-card" }, el("h1", { text: i18n.t("guidanceAdmin.heading") }));
  view.append(card);
  try {
    if (account.role === "platform_admin") {
      const draw = async () => {
        const [entries, unanswered] = await Promise.all([api.get("/api/guidance/entries"),
                                                         api.get("/api/guidance/unanswered?limit=50")]);
        card.replaceChildren(el("h1", { text: i18n.t("guidanceAdmin.heading") }),
          el("p", { class: "hint", text: i18n.t("guidanceAdmin.intro", { n: entries.length }) }),
          entryForm(entries, draw), el("h2", { text: i18n.t("guidanceAdmin.unanswered") }),
          table(["guidanceAdmin.question", "guidanceAdmin.outcome", "guidanceAdmin.when"],
                unanswered.map((q) => [q.question, i18n.t(`guidanceAdmin.outcome.${q.outcome}`, { confidence: q.confidence }),
                                      when(q.asked_at)])));
      };
      await draw();
    } else if (account.role === "org_admin") {
      const requests = await api.get("/api/guidance/consultations");
      card.append(el("h2", { text: i18n.t("guidanceAdmin.consultations") }),
        table(["guidanceAdmin.name", "guidanceAdmin.phone", "guidanceAdmin.question", "guidanceAdmin.when"],
              requests.map((r) => [r.name, r.phone, r.question, when(r.created_at)])));
    }
  } catch (error) {
    card.append(el("p", { class: "notice", dataset: { kind: "error" }, text: errorText(error) }));
  }
}
