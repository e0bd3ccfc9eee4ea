// The agreement form: built from the agreement's JSON (the API's `AgreementData`), edited in
// place, turned back into the request body, and able to show the API's validation messages
// next to the field they concern.

import * as i18n from "../i18n.js";

const ID_TYPES = ["resident_id", "passport", "hk_macao_permit", "taiwan_permit", "foreign_permanent_id", "credit_code"];
const SIDES = ["applicant", "respondent"];
/** Optional text fields: an empty input means "not given" (null), not an empty string. */
const OPTIONAL = new Set(["representative", "certificate_number", "credit_code", "method", "description",
  "confidentiality"]);

export function today() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

function blankPerson() {
  return { name: "", id_type: "resident_id", id_number: "", address: "", contact: "" };
}

function blankParty(key, side) {
  return { key, side, ...blankPerson(), legal_person: false, representative: "", agent: null };
}

export function blankAgreement() {
  return {
    case_number: "", dispute_type: "other",
    parties: [blankParty("p1", "applicant"), blankParty("p2", "respondent")],
    mediator: { name: "", id_type: "resident_id", id_number: "", certificate_number: "" },
    organisation: { name: "", address: "", credit_code: "" },
    facts: "", monetary: [], performance: [], default_clauses: [], confidentiality: "",
    date: today(), place: "",
  };
}

function nextPartyKey(parties) {
  const used = new Set(parties.map((p) => p.key));
  let n = parties.length + 1;
  while (used.has(`p${n}`)) n += 1;
  return `p${n}`;
}

function getPath(obj, path) {
  return path.split(".").reduce((value, part) => (value == null ? undefined : value[part]), obj);
}

function setPath(obj, path, value) {
  const parts = path.split(".");
  const last = parts.pop();
  const parent = parts.reduce((o, part) => o[part], obj);
  parent[last] = value;
}

/** The request body's `data`: optional fields left empty become null, blank clauses are dropped. */
export function toPayload(data) {
  const clean = (value, key) => {
    if (Array.isArray(value)) return value.map((v) => clean(v));
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clean(v, k)]));
    }
    if (typeof value === "string") {
      const trimmed = value.trim();
      return trimmed === "" && OPTIONAL.has(key) ? null : value;
    }
    return value;
  };
  const body = clean(data);
  body.default_clauses = body.default_clauses.filter((c) => c.trim() !== "");
  for (const item of body.performance) if (!item.due_date) item.due_date = null;
  for (const party of body.parties) if (party.agent && !party.agent.address?.trim()) party.agent.address = null;
  if (!body.organisation.address?.trim()) body.organisation.address = null;
  return body;
}

/** API validation errors → `{path, message}` with paths like `parties.0.id_number`. */
export function fieldErrors(details) {
  return (details?.errors ?? []).map((found) => {
    let path = found.field.replace(/^data\.?/, "");
    // Model-level checks name the field at the start of their message: "id_number: check digit ...".
    const named = found.problem.replace(/^Value error, /, "").match(/^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+)*): (.*)$/s);
    if (named) path = [path, named[1].replace(/\[(\d+)\]/g, ".$1")].filter(Boolean).join(".");
    // Pydantic's problems have a type the tables word; the model's own checks only say "not valid".
    return { path, message: found.type ? i18n.problemText(found) : i18n.t("validation.invalid") };
  });
}

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") el.textContent = value;
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : value);
  }
  el.append(...children.filter((c) => c !== null && c !== undefined));
  return el;
}

export class AgreementForm {
  /**
   * @param {HTMLElement} root where the form is drawn
   * @param {() => void} onEdit called after every change (marks the draft unsaved)
   */
  constructor(root, onEdit) {
    this.root = root;
    this.onEdit = onEdit;
    this.data = blankAgreement();
    this.templates = [];
    this.readOnly = false;
    this.caseId = null; // the agreement's case: its number is the case's
  }

  load(data) {
    this.data = structuredClone(data);
    for (const party of this.data.parties) party.representative ??= "";
    this.render();
  }

  setReadOnly(readOnly) {
    this.readOnly = readOnly;
    this.render();
  }

  template() {
    return this.templates.find((t) => t.dispute_type === this.data.dispute_type);
  }

  // --- inputs -------------------------------------------------------------------------------

  field(path, labelKey, control, { wide = false } = {}) {
    return h("label", { class: wide ? "field wide" : "field", "data-field": path },
      h("span", { class: "label", text: i18n.t(labelKey) }), control,
      h("span", { class: "field-error", role: "alert", hidden: true }));
  }

  text(path, labelKey, { type = "text", wide = false, placeholder, multiline = false, rows = 4, inputmode,
    locked = false } = {}) {
    const value = getPath(this.data, path) ?? "";
    const attrs = {
      name: path, "data-path": path, placeholder, inputmode, disabled: this.readOnly || locked,
      title: locked ? i18n.t("field.fromCase") : undefined, "data-locked": locked,
      oninput: (event) => { setPath(this.data, path, event.target.value); this.edited(path); },
    };
    const control = multiline ? h("textarea", { ...attrs, rows }) : h("input", { ...attrs, type });
    control.value = value;
    return this.field(path, labelKey, control, { wide: wide || multiline });
  }

  select(path, labelKey, options, { rerender = false, locked = false } = {}) {
    const control = h("select", {
      name: path, "data-path": path, disabled: this.readOnly || locked, "data-locked": locked,
      onchange: (event) => {
        setPath(this.data, path, event.target.value);
        this.edited(path);
        if (rerender) this.render();
      },
    }, ...options.map(([value, label]) => h("option", { value, text: label })));
    control.value = getPath(this.data, path) ?? "";
    return this.field(path, labelKey, control);
  }

  checkbox(path, labelKey, onToggle) {
    const control = h("input", {
      type: "checkbox", name: path, "data-path": path, disabled: this.readOnly,
      onchange: (event) => {
        if (onToggle) onToggle(event.target.checked);
        else setPath(this.data, path, event.target.checked);
        this.edited(path);
        this.render();
      },
    });
    control.checked = Boolean(getPath(this.data, path));
    return h("label", { class: "check", "data-field": onToggle ? `${path}.present` : path }, control, h("span", { text: i18n.t(labelKey) }),
      h("span", { class: "field-error", role: "alert", hidden: true }));
  }

  button(labelKey, onclick, cls = "small") {
    return h("button", {
      type: "button", class: cls, text: i18n.t(labelKey), disabled: this.readOnly,
      onclick: () => { onclick(); this.edited(""); this.render(); },
    });
  }

  edited(path) {
    this.clearError(path);
    this.onEdit();
  }

  /** A case participant (or the case's organisation): who they are comes from the case. */
  fromCase(path) {
    const item = getPath(this.data, path);
    return Boolean(item?.participant_id || item?.organisation_id);
  }

  /** ID fields; a case participant's number is shown masked and never typed (the server keeps
   * its own copy). Only a mediator whose account has none types their own. */
  idFields(prefix) {
    const locked = this.fromCase(prefix) && Boolean(getPath(this.data, `${prefix}.id_number`));
    return [
      this.select(`${prefix}.id_type`, "field.id_type", ID_TYPES.map((t) => [t, i18n.t(`id.${t}`)]), { locked }),
      this.text(`${prefix}.id_number`, "field.id_number", { locked }),
    ];
  }

  partyOptions() {
    return this.data.parties.map((p) => [p.key, `${p.name || "—"}（${i18n.t(`side.${p.side}`)}）`]);
  }

  // --- sections -----------------------------------------------------------------------------

  /** A block that can carry an error message of its own (a party, an agent, an obligation). */
  block(cls, path, ...content) {
    return h("div", { class: cls, "data-field": path }, h("p", { class: "field-error", role: "alert", hidden: true }),
      ...content);
  }

  section(titleKey, path, ...content) {
    return h("fieldset", { class: "section", "data-field": path },
      h("legend", { text: i18n.t(titleKey) }),
      h("p", { class: "field-error", role: "alert", hidden: true }), ...content);
  }

  partyBlock(party, index) {
    const p = `parties.${index}`;
    const agent = party.agent
      ? this.block("agent", `${p}.agent`,
        h("h4", { text: i18n.t("field.agent") }),
        h("div", { class: "grid" },
          this.text(`${p}.agent.name`, "field.name", { locked: this.fromCase(`${p}.agent`) }),
          ...this.idFields(`${p}.agent`),
          this.text(`${p}.agent.address`, "field.address"), this.text(`${p}.agent.contact`, "field.contact"),
          this.select(`${p}.agent.authority`, "field.authority",
            ["general", "special"].map((a) => [a, i18n.t(`authority.${a}`)])),
          this.checkbox(`${p}.agent.signs`, "field.signs")))
      : null;
    const bound = this.fromCase(p);
    const removable = this.data.parties.length > 2 && !bound;
    return this.block("party", p,
      h("div", { class: "party-head" },
        h("h3", { text: i18n.t("party.heading", { n: index + 1 }) }),
        removable ? this.button("remove", () => this.removeParty(index), "small danger") : null),
      h("div", { class: "grid" },
        this.select(`${p}.side`, "field.side", SIDES.map((s) => [s, i18n.t(`side.${s}`)]),
          { rerender: true, locked: bound }),
        this.text(`${p}.name`, "field.name", { locked: bound }), ...this.idFields(p),
        this.text(`${p}.address`, "field.address"), this.text(`${p}.contact`, "field.contact"),
        this.checkbox(`${p}.legal_person`, "field.legal_person"),
        party.legal_person ? this.text(`${p}.representative`, "field.representative") : null,
        this.checkbox(`${p}.agent`, "field.hasAgent", (on) => {
          party.agent = on ? { ...blankPerson(), authority: "special", signs: false } : null;
        })),
      agent);
  }

  removeParty(index) {
    const [gone] = this.data.parties.splice(index, 1);
    // Obligations naming the removed party would no longer validate: drop them with it.
    this.data.monetary = this.data.monetary.filter((m) => m.payer !== gone.key && m.payee !== gone.key);
    this.data.performance = this.data.performance.filter((m) => m.obligor !== gone.key);
  }

  monetaryBlock(item, index) {
    const m = `monetary.${index}`;
    return this.block("row-item", m,
      h("div", { class: "grid" },
        this.select(`${m}.payer`, "field.payer", this.partyOptions()),
        this.select(`${m}.payee`, "field.payee", this.partyOptions()),
        this.text(`${m}.amount`, "field.amount", { placeholder: "50000.00", inputmode: "decimal" }),
        this.text(`${m}.due_date`, "field.due_date", { type: "date" }),
        this.text(`${m}.method`, "field.method"),
        this.text(`${m}.description`, "field.description")),
      this.button("remove", () => this.data.monetary.splice(index, 1), "small danger"));
  }

  performanceBlock(item, index) {
    const p = `performance.${index}`;
    return this.block("row-item", p,
      h("div", { class: "grid" },
        this.select(`${p}.obligor`, "field.obligor", this.partyOptions()),
        this.text(`${p}.due_date`, "field.due_date", { type: "date" }),
        this.text(`${p}.description`, "field.task", { multiline: true, rows: 2 })),
      this.button("remove", () => this.data.performance.splice(index, 1), "small danger"));
  }

  clausesSection() {
    const template = this.template();
    const label = template ? (i18n.language() === "zh" ? template.label_zh : template.label_en) : "";
    const items = this.data.default_clauses.map((_, index) => h("div", { class: "row-item clause" },
      this.text(`default_clauses.${index}`, "field.clause", { multiline: true, rows: 3 }),
      this.button("remove", () => this.data.default_clauses.splice(index, 1), "small danger")));
    const hint = template && this.data.default_clauses.length === 0
      ? h("div", { class: "template-hint" },
        h("p", { text: i18n.t("template.clauses", { label }) }),
        h("ol", {}, ...template.default_clauses.map((c) => h("li", { text: c }))),
        this.button("template.use", () => { this.data.default_clauses = [...template.default_clauses]; }))
      : null;
    return this.section("section.clauses", "default_clauses", hint, ...items,
      this.button("add.clause", () => this.data.default_clauses.push("")));
  }

  render() {
    const d = this.data;
    const template = this.template();
    const typeLabel = (t) => (i18n.language() === "zh" ? t.label_zh : t.label_en);
    const firstKey = (side) => (d.parties.find((p) => p.side === side) ?? d.parties[0]).key;
    this.root.replaceChildren(
      this.section("section.case", "", h("div", { class: "grid" },
        this.text("case_number", "field.case_number", { locked: Boolean(this.caseId) }),
        this.select("dispute_type", "field.dispute_type", this.templates.map((t) => [t.dispute_type, typeLabel(t)]),
          { rerender: true }),
        this.text("date", "field.date", { type: "date" }),
        this.text("place", "field.place"))),
      this.section("section.parties", "parties", ...d.parties.map((party, i) => this.partyBlock(party, i)),
        this.button("add.party", () => d.parties.push(blankParty(nextPartyKey(d.parties), "respondent")))),
      this.section("section.mediator", "mediator", h("div", { class: "grid" },
        this.text("mediator.name", "field.name", { locked: this.fromCase("mediator") }), ...this.idFields("mediator"),
        this.text("mediator.certificate_number", "field.certificate_number"))),
      this.section("section.organisation", "organisation", h("div", { class: "grid" },
        this.text("organisation.name", "field.name", { locked: this.fromCase("organisation") }),
        this.text("organisation.credit_code", "field.credit_code"),
        this.text("organisation.address", "field.address", { wide: true }))),
      this.section("section.facts", "facts",
        this.text("facts", "field.facts", {
          multiline: true, rows: 5, placeholder: template ? i18n.t("template.facts", { hint: template.facts_hint }) : "",
        })),
      this.section("section.monetary", "monetary", ...d.monetary.map((m, i) => this.monetaryBlock(m, i)),
        this.button("add.monetary", () => d.monetary.push({
          payer: firstKey("respondent"), payee: firstKey("applicant"), amount: "", due_date: "", method: "",
          description: "",
        }))),
      this.section("section.performance", "performance", ...d.performance.map((p, i) => this.performanceBlock(p, i)),
        this.button("add.performance", () => d.performance.push({
          obligor: firstKey("respondent"), description: "", due_date: "",
        }))),
      this.clausesSection(),
      this.section("section.confidentiality", "confidentiality",
        this.text("confidentiality", "field.confidentiality", {
          multiline: true, rows: 3, placeholder: template ? template.confidentiality : "",
        }),
        h("p", { class: "hint", text: i18n.t("template.confidentiality") })),
    );
  }

  // --- errors -------------------------------------------------------------------------------

  /** Put each message under its field (or the nearest enclosing block); returns how many. */
  showErrors(errors) {
    this.clearErrors();
    let first = null;
    for (const { path, message } of errors) {
      let target = null;
      for (let p = path; target === null; p = p.includes(".") ? p.slice(0, p.lastIndexOf(".")) : "") {
        // The innermost match: a section and its only field share a path ("facts").
        target = [...this.root.querySelectorAll(`[data-field="${CSS.escape(p)}"]`)].pop() ?? null;
        if (p === "") break;
      }
      if (!target) continue;
      const box = target.querySelector(":scope > .field-error");
      box.hidden = false;
      box.textContent = box.textContent ? `${box.textContent}；${message}` : message;
      target.classList.add("invalid");
      target.querySelector("[data-path]")?.setAttribute("aria-invalid", "true");
      first ??= target;
    }
    first?.scrollIntoView({ block: "center" });
    return errors.length;
  }

  clearError(path) {
    const target = [...this.root.querySelectorAll(`[data-field="${CSS.escape(path)}"]`)].pop();
    if (!target) return;
    target.classList.remove("invalid");
    const box = target.querySelector(":scope > .field-error");
    if (box) { box.hidden = true; box.textContent = ""; }
    target.querySelector("[data-path]")?.removeAttribute("aria-invalid");
  }

  clearErrors() {
    for (const el of this.root.querySelectorAll(".invalid")) el.classList.remove("invalid");
    for (const box of this.root.querySelectorAll(".field-error")) { box.hidden = true; box.textContent = ""; }
    for (const el of this.root.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  }
}
