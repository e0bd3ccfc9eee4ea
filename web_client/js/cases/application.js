// A party's application for mediation (step 1): the dispute and the respondent (a person, even one
// whose ID number is unknown, or a company by its credit code); the applicant is who their account
// says. The form can be saved as a draft on the server and resumed (`/api/me/application-draft`).
// After filing (`POST /api/cases`, then evidence uploads) the confirmation page says what comes next.

import * as i18n from "../i18n.js";
import { ApiFailure, api } from "./api.js";
import { busy, el, errorText, notify, when } from "./dom.js";
import { disputeLabel, loadDisputeTypes } from "./labels.js";

const DRAFT = "/api/me/application-draft";

function field(labelKey, input, hintKey) {
  return el("label", { class: "field" }, el("span", { class: "label", dataset: { key: labelKey }, text: i18n.t(labelKey) }),
    input, hintKey ? el("small", { class: "hint", text: i18n.t(hintKey) }) : null,
    el("small", { class: "field-error", hidden: true }));
}

const input = (name, attrs = {}) => el("input", { name, "data-path": name, ...attrs });

/** The applicant as registered: shown, not retyped; only the address is asked for. */
function applicantFields(account) {
  return el("div", { class: "grid-2" },
    el("p", { class: "field", id: "applicant-identity" },
      el("span", { text: i18n.t("apply.fromAccount") }),
      el("strong", { text: `${account.display_name} · ${account.phone ?? "—"}` }),
      el("small", { class: "hint", text: i18n.t("apply.fromAccountHint") })),
    field("apply.address", input("applicant_address", { maxlength: 200, autocomplete: "street-address" })));
}

function respondentFields() {
  const kind = (value, key) => el("label", { class: "check" },
    el("input", { type: "radio", name: "respondent.kind", "data-path": "respondent.kind", value,
      checked: value === "person" }), i18n.t(key));
  return el("div", { class: "stack" },
    el("div", { class: "inline", role: "radiogroup", "aria-label": i18n.t("apply.respondentKind") },
      kind("person", "apply.kindPerson"), kind("company", "apply.kindCompany")),
    el("div", { class: "grid-2" },
      field("apply.name", input("respondent.name", { maxlength: 100 })),
      field("apply.idNumberOptional", input("respondent.id_number", { maxlength: 32, autocomplete: "off" }),
        "apply.idNumberUnknownHint"),
      field("apply.representative", input("respondent.representative", { maxlength: 100 })),
      field("apply.phone", input("respondent.phone", { maxlength: 16, inputmode: "tel" })),
      field("apply.address", input("respondent.address", { maxlength: 200 }))));
}

/** Relabel the respondent's fields for a person or a company. */
function showKind(form) {
  const company = form.querySelector('[data-path="respondent.kind"]:checked')?.value === "company";
  const labels = { "respondent.name": company ? "apply.companyName" : "apply.name",
    "respondent.id_number": company ? "apply.creditCode" : "apply.idNumberOptional",
    "respondent.phone": company ? "apply.companyPhone" : "apply.phone" };
  for (const [path, key] of Object.entries(labels)) {
    const label = form.querySelector(`[data-path="${path}"]`).closest(".field").querySelector(".label");
    label.textContent = i18n.t(key);
  }
  const idField = form.querySelector('[data-path="respondent.id_number"]').closest(".field");
  idField.querySelector(".hint").hidden = company;
  form.querySelector('[data-path="respondent.representative"]').closest(".field").hidden = !company;
}

function readForm(form) {
  const value = (name) => form.querySelector(`[data-path="${name}"]`).value.trim();
  const company = form.querySelector('[data-path="respondent.kind"]:checked').value === "company";
  const idNumber = value("respondent.id_number").toUpperCase();
  return {
    dispute_type: value("dispute_type"), claims: value("claims"), facts: value("facts"),
    amount: value("amount") === "" ? null : value("amount"), applicant_address: value("applicant_address"),
    respondent: { kind: company ? "company" : "person", name: value("respondent.name"), phone: value("respondent.phone"),
      id_number: idNumber === "" ? null : idNumber, address: value("respondent.address"),
      representative: company ? value("respondent.representative") : null },
  };
}

/** Put a saved draft back into the form (only the fields it knows; anything else is ignored). */
function fillForm(form, data) {
  const set = (path, value) => {
    const target = form.querySelector(`[data-path="${path}"]:not([type="radio"])`);
    if (target && typeof value === "string") target.value = value;
  };
  for (const key of ["dispute_type", "claims", "facts", "amount", "applicant_address"]) set(key, data[key]);
  const respondent = data.respondent && typeof data.respondent === "object" ? data.respondent : {};
  for (const key of ["name", "phone", "id_number", "address", "representative"]) set(`respondent.${key}`, respondent[key]);
  const kind = form.querySelector(`[data-path="respondent.kind"][value="${respondent.kind === "company" ? "company" : "person"}"]`);
  kind.checked = true;
  showKind(form);
}

/** Our own messages next to the fields (no browser-native validation): empty required fields first. */
function missingFields(form, data) {
  const required = ["claims", "facts", "applicant_address", "respondent.name", "respondent.phone", "respondent.address"];
  if (data.respondent.kind === "company") required.push("respondent.id_number", "respondent.representative");
  const value = (path) => path.split(".").reduce((o, k) => o?.[k], data);
  return required.filter((path) => !value(path));
}

function showFieldError(form, path, text) {
  const small = form.querySelector(`[data-path="${path}"]`)?.closest(".field")?.querySelector(".field-error");
  if (!small) return false;
  small.hidden = false;
  small.textContent = text;
  return true;
}

/** Put the API's problems next to the fields they concern: per-field body errors, or a domain refusal naming its field. */
function showFieldErrors(form, error) {
  for (const small of form.querySelectorAll(".field-error")) small.hidden = true;
  if (!(error instanceof ApiFailure)) return;
  const problems = Array.isArray(error.details.errors) ? error.details.errors : [];
  for (const problem of problems) showFieldError(form, problem.field, i18n.problemText(problem));
  const path = error.details.field ?? problems[0]?.field;
  if (path && error.code !== "invalid_body") showFieldError(form, path, errorText(error));
  form.querySelector(`[data-path="${path}"]`)?.focus();
}

async function restoreDraft(form, notice, discard) {
  let draft;
  try {
    draft = await api.get(DRAFT);
  } catch (error) {
    if (!(error instanceof ApiFailure && error.status === 404)) notify(notice, "error", errorText(error));
    return;
  }
  fillForm(form, draft.data);
  discard.hidden = false;
  notify(notice, "info", i18n.t("apply.draftRestored", { at: when(draft.updated_at) }));
}

export async function renderApplication({ account, view }) {
  const types = await loadDisputeTypes(api);
  const notice = el("p", { class: "notice", role: "status", id: "application-notice", hidden: true });
  const submit = el("button", { type: "submit", class: "primary", id: "submit-application", text: i18n.t("apply.submit") });
  const save = el("button", { type: "button", id: "save-draft", text: i18n.t("apply.saveDraft") });
  const discard = el("button", { type: "button", id: "discard-draft", class: "link", hidden: true, text: i18n.t("apply.discardDraft") });
  const files = el("input", { type: "file", name: "evidence", multiple: true, "data-path": "evidence" });
  const form = el("form", { id: "application-form", class: "stack", novalidate: true },
    el("fieldset", {}, el("legend", { text: i18n.t("apply.dispute") }),
      el("div", { class: "grid-2" },
        field("apply.disputeType", el("select", { name: "dispute_type", "data-path": "dispute_type" },
          Object.keys(types).map((type) => el("option", { value: type, text: disputeLabel(type) })))),
        field("apply.amount", input("amount", { inputmode: "decimal", maxlength: 40, placeholder: i18n.t("apply.amountExample") }),
          "apply.amountHint")),
      field("apply.claims", el("textarea", { name: "claims", "data-path": "claims", rows: 2, maxlength: 5000,
        placeholder: i18n.t("apply.claimsHint") })),
      field("apply.facts", el("textarea", { name: "facts", "data-path": "facts", rows: 4, maxlength: 5000 }))),
    el("fieldset", {}, el("legend", { text: i18n.t("apply.applicant") }), applicantFields(account)),
    el("fieldset", {}, el("legend", { text: i18n.t("apply.respondent") }), respondentFields()),
    el("fieldset", {}, el("legend", { text: i18n.t("apply.evidence") }), field("apply.evidence", files, "apply.evidenceHint")),
    notice,
    el("div", { class: "actions" }, submit, save, discard));
  view.append(el("section", { class: "card narrow" }, el("h1", { text: i18n.t("apply.heading") }),
    el("p", { class: "hint", text: i18n.t("apply.intro") }), form));
  for (const radio of form.querySelectorAll('[data-path="respondent.kind"]')) radio.addEventListener("change", () => showKind(form));
  showKind(form);
  await restoreDraft(form, notice, discard);

  save.addEventListener("click", () => busy(save, notice, async () => {
    const saved = await api.put(DRAFT, { data: readForm(form) });
    discard.hidden = false;
    notify(notice, "info", i18n.t("apply.draftSaved", { at: when(saved.updated_at) }));
  }));
  discard.addEventListener("click", () => busy(discard, notice, async () => {
    await api.del(DRAFT);
    form.reset();
    showKind(form);
    discard.hidden = true;
    notify(notice, "info", i18n.t("apply.draftDiscarded"));
  }));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = readForm(form);
    for (const small of form.querySelectorAll(".field-error")) small.hidden = true;
    const missing = missingFields(form, data);
    if (missing.length > 0) {
      for (const path of missing) showFieldError(form, path, i18n.t("apply.required"));
      form.querySelector(`[data-path="${missing[0]}"]`).focus();
      notify(notice, "error", i18n.t("apply.fillRequired"));
      return;
    }
    submit.disabled = true;
    notify(notice, "info", i18n.t("apply.submitting"));
    let created;
    try {
      created = await api.post("/api/cases", data);
    } catch (error) {
      showFieldErrors(form, error);
      notify(notice, "error", errorText(error));
      submit.disabled = false;
      return;
    }
    const chosen = [...files.files];
    const failed = [];
    for (const [index, file] of chosen.entries()) {
      notify(notice, "info", i18n.t("apply.uploading", { done: index + 1, total: chosen.length }));
      try {
        await api.upload(`/api/cases/${encodeURIComponent(created.id)}/documents?name=${encodeURIComponent(file.name)}`, file);
      } catch (error) {
        failed.push(i18n.t("apply.uploadFailed", { name: file.name, message: errorText(error) }));
      }
    }
    try {
      await api.del(DRAFT); // filed: the draft has served its purpose
    } catch {
      // A draft left behind is harmless: the next visit offers it, and discarding it is one click.
    }
    sessionStorage.setItem(`accord.uploadFailures.${created.id}`, JSON.stringify(failed));
    window.location.hash = `#submitted/${created.id}`;
  });
}

/** The confirmation after filing: the case number, what happens next and by when. */
export async function renderConfirmation({ view }, caseId) {
  const card = el("section", { class: "card narrow", id: "confirmation" });
  view.append(card);
  let c;
  try {
    c = await api.get(`/api/cases/${encodeURIComponent(caseId)}`);
  } catch (error) {
    card.append(el("p", { class: "notice", dataset: { kind: "error" }, text: errorText(error) }));
    return;
  }
  const consentDue = c.deadlines.find((d) => d.kind === "step:start")?.due_at;
  const failures = JSON.parse(sessionStorage.getItem(`accord.uploadFailures.${c.id}`) ?? "[]");
  sessionStorage.removeItem(`accord.uploadFailures.${c.id}`);
  const respondent = c.parties.find((p) => p.side === "respondent");
  card.append(
    el("h1", { text: i18n.t("confirm.heading") }),
    el("p", {}, i18n.t("confirm.number"), " ", el("strong", { id: "confirmed-number", text: c.case_number ?? c.id })),
    el("p", { class: "hint", text: i18n.t("confirm.keep") }),
    failures.map((text) => el("p", { class: "notice", dataset: { kind: "error" }, text })),
    el("h2", { text: i18n.t("confirm.next") }),
    el("ol", { class: "next-steps", id: "next-steps" },
      el("li", { text: i18n.t("confirm.consent", { name: respondent?.name ?? "", due: when(consentDue) }) }),
      el("li", { text: i18n.t("confirm.mediator") }),
      el("li", { text: i18n.t("confirm.session") }),
      el("li", { text: i18n.t("confirm.notify") })),
    el("div", { class: "actions" },
      el("a", { class: "button primary", href: `#case/${c.id}`, id: "open-case", text: i18n.t("confirm.openCase") }),
      el("a", { class: "button", href: "#cases", text: i18n.t("nav.cases") })));
}
