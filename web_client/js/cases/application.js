// A party's application for mediation (step 1): the dispute, both parties, and evidence files
// uploaded once the case exists (`POST /api/cases`, then `POST /api/cases/{id}/documents`).

import * as i18n from "../i18n.js";
import { ApiFailure, api } from "./api.js";
import { el, errorText, notify } from "./dom.js";
import { disputeLabel, loadDisputeTypes } from "./labels.js";

function field(labelKey, input, hintKey) {
  return el("label", { class: "field" }, el("span", { text: i18n.t(labelKey) }), input,
    hintKey ? el("small", { class: "hint", text: i18n.t(hintKey) }) : null,
    el("small", { class: "field-error", hidden: true }));
}

const input = (name, attrs = {}) => el("input", { name, "data-path": name, required: true, ...attrs });

function personFields(prefix, account) {
  const own = prefix === "applicant";
  return el("div", { class: "grid-2" },
    field("apply.name", input(`${prefix}.name`, { maxlength: 100, value: own ? account.display_name : null })),
    field("apply.phone", input(`${prefix}.phone`, { maxlength: 16, inputmode: "tel", value: own ? account.phone : null })),
    field("apply.idNumber", input(`${prefix}.id_number`, { minlength: 18, maxlength: 18, pattern: "\\d{17}[\\dXx]",
      autocomplete: "off" })),
    field("apply.address", input(`${prefix}.address`, { maxlength: 200 })));
}

function readForm(form) {
  const value = (name) => form.querySelector(`[data-path="${name}"]`).value.trim();
  const person = (prefix) => ({ name: value(`${prefix}.name`), phone: value(`${prefix}.phone`),
    id_number: value(`${prefix}.id_number`).toUpperCase(), address: value(`${prefix}.address`) });
  const amount = value("amount");
  return { dispute_type: value("dispute_type"), claims: value("claims"), facts: value("facts"),
    amount: amount === "" ? null : amount, applicant: person("applicant"), respondent: person("respondent") };
}

/** Put the API's per-field problems next to the fields they concern. */
function showFieldErrors(form, error) {
  for (const small of form.querySelectorAll(".field-error")) small.hidden = true;
  const problems = error instanceof ApiFailure && Array.isArray(error.details.errors) ? error.details.errors : [];
  for (const problem of problems) {
    const target = form.querySelector(`[data-path="${problem.field}"]`);
    const small = target?.closest(".field")?.querySelector(".field-error");
    if (small) {
      small.hidden = false;
      small.textContent = i18n.problemText(problem);
    }
  }
  const target = error instanceof ApiFailure ? form.querySelector(`[data-path="${error.details.field}"]`) : null;
  target?.focus();
}

export async function renderApplication({ account, view }) {
  const types = await loadDisputeTypes(api);
  const notice = el("p", { class: "notice", role: "status", hidden: true });
  const submit = el("button", { type: "submit", class: "primary", id: "submit-application", text: i18n.t("apply.submit") });
  const files = el("input", { type: "file", name: "evidence", multiple: true, "data-path": "evidence" });
  const form = el("form", { id: "application-form", class: "stack", novalidate: true },
    el("fieldset", {}, el("legend", { text: i18n.t("apply.dispute") }),
      el("div", { class: "grid-2" },
        field("apply.disputeType", el("select", { name: "dispute_type", "data-path": "dispute_type", required: true },
          Object.keys(types).map((type) => el("option", { value: type, text: disputeLabel(type) })))),
        field("apply.amount", input("amount", { required: false, inputmode: "decimal", placeholder: "12000.00",
          pattern: "\\d{1,13}(\\.\\d{1,2})?" }))),
      field("apply.claims", el("textarea", { name: "claims", "data-path": "claims", rows: 2, maxlength: 5000, required: true,
        placeholder: i18n.t("apply.claimsHint") })),
      field("apply.facts", el("textarea", { name: "facts", "data-path": "facts", rows: 4, maxlength: 5000, required: true }))),
    el("fieldset", {}, el("legend", { text: i18n.t("apply.applicant") }), personFields("applicant", account)),
    el("fieldset", {}, el("legend", { text: i18n.t("apply.respondent") }), personFields("respondent", account)),
    el("fieldset", {}, el("legend", { text: i18n.t("apply.evidence") }), field("apply.evidence", files, "apply.evidenceHint")),
    notice,
    el("div", { class: "actions" }, submit));
  view.append(el("section", { class: "card narrow" }, el("h1", { text: i18n.t("apply.heading") }),
    el("p", { class: "hint", text: i18n.t("apply.intro") }), form));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    submit.disabled = true;
    notify(notice, "info", i18n.t("apply.submitting"));
    let created;
    try {
      created = await api.post("/api/cases", readForm(form));
    } catch (error) {
      showFieldErrors(form, error);
      notify(notice, "error", errorText(error));
      submit.disabled = false;
      return;
    }
    const chosen = [...files.files];
    for (const [index, file] of chosen.entries()) {
      notify(notice, "info", i18n.t("apply.uploading", { done: index + 1, total: chosen.length }));
      try {
        await api.upload(`/api/cases/${encodeURIComponent(created.id)}/documents?name=${encodeURIComponent(file.name)}`, file);
      } catch (error) {
        // The case exists: say which file is missing and go on to the case, where it can be added again.
        window.alert(i18n.t("apply.uploadFailed", { name: file.name, message: errorText(error) }));
      }
    }
    window.location.hash = `#case/${created.id}`;
  });
}
