// Administration (#admin): platform administrators create staff accounts — mediators and
// organisation administrators of an organisation from the directory, court clerks and judges of
// a court from the court directory, other platform administrators — and list courts; an
// organisation administrator creates mediators of their own organisation. A new mediator gets
// their directory profile at once, so parties can be recommended them. Platform administrators also
// manage the API keys of integrating systems here (api_keys_panel.js).

import * as i18n from "../i18n.js";
import { api } from "./api.js";
import { apiKeysCard } from "./api_keys_panel.js";
import { renderGuidanceAdmin } from "./guidance_panel.js";
import { busy, el, errorText, notify } from "./dom.js";
import { disputeLabel, loadDisputeTypes } from "./labels.js";
import { MEDIATOR_CATEGORIES_EN } from "./messages.js";

const ORGANISATION_ROLES = ["mediator", "org_admin"];
const COURT_ROLES = ["court_clerk", "judge"];

function field(labelKey, input, attrs = {}) {
  return el("label", { class: "field", ...attrs }, el("span", { text: i18n.t(labelKey) }), input);
}

function options(items, placeholderKey) {
  return [el("option", { value: "", text: i18n.t(placeholderKey) }), items];
}

async function allOrganisations() {
  const names = [];
  for (let page = 1; ; page += 1) {
    const result = await api.get(`/api/directory/organisations?page=${page}&page_size=100`);
    names.push(...result.items.map((o) => o.name));
    if (names.length >= result.total || result.items.length === 0) return names;
  }
}

function courtOption(court) {
  return el("option", { value: court.name, text: court.code ? `${court.name}（${court.code}）` : court.name });
}

/** The court directory, and the form that lists a new court; `onAdded(court)` tells the staff form. */
function courtsCard(courts, onAdded) {
  const item = (c) => el("li", { dataset: { court: c.name } }, el("strong", { text: c.name }), ` ${c.code ?? ""} · ${c.region}`);
  const empty = el("li", { class: "hint", text: i18n.t("admin.noCourts") });
  const list = el("ul", { class: "court-list", id: "court-list" }, courts.length === 0 ? empty : courts.map(item));
  const name = el("input", { name: "court_name", required: true, maxlength: 100 });
  const region = el("input", { name: "court_region", required: true, maxlength: 100, placeholder: i18n.t("admin.regionHint") });
  const code = el("input", { name: "court_code", maxlength: 20, placeholder: "川0104" });
  const add = el("button", { type: "submit", id: "add-court", text: i18n.t("admin.addCourt") });
  const notice = el("p", { class: "notice", role: "status", hidden: true });
  const form = el("form", { class: "stack", id: "court-form" },
    el("div", { class: "grid-2" }, field("admin.courtName", name), field("admin.region", region), field("admin.courtCode", code)),
    el("div", { class: "actions" }, add));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(add, notice, async () => {
      const court = await api.post("/api/courts", { name: name.value.trim(), region: region.value.trim(),
        code: code.value.trim() || null });
      empty.remove();
      list.append(item(court));
      onAdded(court);
      notify(notice, "info", i18n.t("admin.courtAdded", { name: court.name }));
      form.reset();
    });
  });
  return el("section", { class: "card", id: "courts-card" }, el("h2", { text: i18n.t("admin.courts") }), list,
    el("h3", { text: i18n.t("admin.addCourt") }), form, notice);
}

/** The mediator's directory profile: category, region, the disputes they handle. */
function profileFields(categories, disputeTypes) {
  const category = el("select", { name: "category" },
    Object.entries(categories).map(([value, label]) => el("option", { value,
      text: i18n.language() === "en" ? MEDIATOR_CATEGORIES_EN[value] ?? value : label })));
  const region = el("input", { name: "region", maxlength: 100, placeholder: i18n.t("admin.regionHint") });
  const specialities = Object.keys(disputeTypes).map((value) => el("label", { class: "check" },
    el("input", { type: "checkbox", name: "speciality", value }), disputeLabel(value)));
  const node = el("fieldset", { id: "profile-fields" }, el("legend", { text: i18n.t("admin.profile") }),
    el("div", { class: "grid-2" }, field("admin.category", category), field("admin.region", region)),
    el("div", { class: "declarations" }, el("span", { class: "hint", text: i18n.t("admin.specialities") }), specialities));
  const value = () => ({
    category: category.value, region: region.value.trim(),
    specialities: specialities.map((l) => l.querySelector("input")).filter((box) => box.checked).map((box) => box.value),
  });
  return { node, value };
}

function staffCard(account, organisations, courts, categories, disputeTypes) {
  const platform = account.role === "platform_admin";
  const roles = platform ? ["judge", "court_clerk", "mediator", "org_admin", "platform_admin"] : ["mediator"];
  const role = el("select", { name: "role", id: "staff-role" }, roles.map((r) => el("option", { value: r, text: i18n.t(`role.${r}`) })));
  const login = el("input", { name: "login", required: true, minlength: 3, maxlength: 64, autocomplete: "off" });
  const displayName = el("input", { name: "display_name", required: true, maxlength: 100 });
  const password = el("input", { name: "password", type: "password", required: true, minlength: 10, maxlength: 256,
    autocomplete: "new-password" });
  const phone = el("input", { name: "phone", inputmode: "tel", maxlength: 16 });
  const organisation = platform
    ? el("select", { name: "organisation" }, options(organisations.map((o) => el("option", { value: o, text: o })), "admin.chooseOrganisation"))
    : el("select", { name: "organisation", disabled: true }, el("option", { value: account.organisation, text: account.organisation }));
  const court = el("select", { name: "court", id: "staff-court" }, options(courts.map(courtOption), "court.choose"));
  const organisationField = field("admin.organisation", organisation);
  const courtField = field("admin.court", court);
  const profile = profileFields(categories, disputeTypes);
  const create = el("button", { type: "submit", class: "primary", id: "create-staff", text: i18n.t("admin.create") });
  const notice = el("p", { class: "notice", role: "status", hidden: true });
  const created = el("ul", { class: "created", id: "created-accounts" });
  const show = () => {
    organisationField.hidden = !ORGANISATION_ROLES.includes(role.value);
    courtField.hidden = !COURT_ROLES.includes(role.value);
    profile.node.hidden = role.value !== "mediator";
  };
  role.addEventListener("change", show);
  show();
  const form = el("form", { class: "stack", id: "staff-form" },
    field("admin.role", role),
    el("div", { class: "grid-2" }, field("auth.login", login), field("apply.name", displayName),
      field("register.password", password), field("admin.phone", phone)),
    organisationField, courtField, profile.node, el("div", { class: "actions" }, create));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(create, notice, async () => {
      const body = { role: role.value, login: login.value.trim(), display_name: displayName.value.trim(),
        password: password.value, phone: phone.value.trim() || null };
      if (ORGANISATION_ROLES.includes(role.value)) body.organisation = organisation.value || null;
      if (COURT_ROLES.includes(role.value)) body.court = court.value || null;
      const made = await api.post("/api/accounts/staff", body);
      password.value = "";
      const where = made.court ?? made.organisation ?? "";
      let text = i18n.t("admin.created", { role: i18n.t(`role.${made.role}`), login: made.login, name: made.display_name, where });
      if (made.role === "mediator") {
        try {
          await api.put(`/api/directory/mediators/${encodeURIComponent(made.id)}`, profile.value());
        } catch (error) { // the account exists; only the profile is missing and can be set again
          text = `${text} ${i18n.t("admin.profileFailed", { message: errorText(error) })}`;
        }
      }
      notify(notice, "info", text);
      created.prepend(el("li", { dataset: { accountId: made.id, role: made.role } },
        el("strong", { text: made.display_name }), ` ${made.login} · ${i18n.t(`role.${made.role}`)} · ${where}`));
      form.reset();
      show();
    });
  });
  const node = el("section", { class: "card", id: "staff-card" }, el("h1", { text: i18n.t("admin.heading") }),
    el("p", { class: "hint", text: i18n.t(platform ? "admin.intro" : "admin.introOrg") }), form, notice, created);
  return { node, addCourt: (c) => court.append(courtOption(c)) };
}

export async function renderAdmin({ account, view }) {
  let organisations;
  let courts;
  let categories;
  try {
    await loadDisputeTypes(api);
    [organisations, courts, categories] = await Promise.all([
      account.role === "platform_admin" ? allOrganisations() : [account.organisation],
      api.get("/api/courts"), api.get("/api/directory/categories")]);
  } catch (error) {
    view.append(el("p", { class: "notice", dataset: { kind: "error" }, text: errorText(error) }));
    return;
  }
  const staff = staffCard(account, organisations, courts, categories.mediator_categories, categories.dispute_types);
  view.append(staff.node);
  if (account.role !== "platform_admin") {
    await renderGuidanceAdmin(account, view);
    return;
  }
  view.append(courtsCard(courts, staff.addCourt));
  const keys = apiKeysCard();
  view.append(keys.node);
  try {
    await keys.load();
  } catch (error) {
    keys.node.append(el("p", { class: "notice", dataset: { kind: "error" }, text: errorText(error) }));
  }
  await renderGuidanceAdmin(account, view);
}
