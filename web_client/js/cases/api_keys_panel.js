// API keys of integrating systems (platform administrators, on #admin): every key with its scopes
// and state, a form that makes one (shown once, with a copy button), and revocation after a
// confirmation. The scopes offered are the ones the server lists, so a new scope needs no change here.

import * as i18n from "../i18n.js";
import { api } from "./api.js";
import { cardsOnPhones } from "../table_cards.js";
import { busy, copyField, el, notify, when } from "./dom.js";
import { confirmAction } from "./dialog.js";

const PATH = "/api/admin/api-keys";

/** A scope's one-line description in the page's language (the server's English words otherwise). */
function scopeText(scope, serverText) {
  const key = `apikeys.scope.${scope}`;
  return i18n.has(key) ? i18n.t(key) : serverText;
}

function keyRow(key, onRevoke) {
  const revoke = key.state === "revoked" ? null
    : el("button", { type: "button", class: "revoke", text: i18n.t("apikeys.revoke") });
  const row = el("tr", { dataset: { keyId: key.id, state: key.state } },
    el("td", {}, el("strong", { text: key.name }), el("div", { class: "hint", text: key.id })),
    el("td", { text: key.scopes.join(", ") }),
    el("td", { class: "state", text: i18n.t(`apikeys.state.${key.state}`) }),
    el("td", { text: when(key.created_at) }),
    el("td", { text: key.expires_at ? when(key.expires_at) : i18n.t("apikeys.never") }),
    el("td", { text: key.last_used_at ? when(key.last_used_at) : "—" }),
    el("td", {}, revoke));
  revoke?.addEventListener("click", () => onRevoke(key, revoke));
  return row;
}

/** The new key, once: a read-only field, a copy button and the warning that it will not come back. */
function issuedBox(issued) {
  const input = el("input", { readonly: true, value: issued.key, id: "new-api-key", class: "guest-url",
    "aria-label": i18n.t("apikeys.newKey", { name: issued.name }) });
  const copy = el("button", { type: "button", id: "copy-api-key", text: i18n.t("apikeys.copy") });
  copy.addEventListener("click", () => copyField(input, copy));
  return el("div", { id: "issued-api-key", class: "stack" },
    el("p", { class: "notice", dataset: { kind: "warn" }, text: i18n.t("apikeys.shownOnce", { name: issued.name }) }),
    el("ul", { class: "guest-links" }, el("li", {}, input, copy)));
}

export function apiKeysCard() {
  const notice = el("p", { class: "notice", role: "status", hidden: true });
  const body = el("tbody", { id: "api-key-rows" });
  const empty = el("p", { class: "hint", id: "no-api-keys", text: i18n.t("apikeys.none"), hidden: true });
  const table = el("table", { class: "table", id: "api-keys" },
    el("thead", {}, el("tr", {}, ["name", "scopes", "state", "created", "expires", "lastUsed", "actions"]
      .map((c) => el("th", { text: i18n.t(`apikeys.col.${c}`) })))), body);
  const scopeBoxes = el("div", { class: "declarations", id: "api-key-scopes" });
  const name = el("input", { name: "key_name", required: true, maxlength: 64, pattern: "[A-Za-z0-9][A-Za-z0-9._\\-]*",
    placeholder: "court-system", autocomplete: "off" });
  const days = el("input", { name: "expires_in_days", type: "number", min: 1, max: 3650, inputmode: "numeric",
    placeholder: i18n.t("apikeys.neverHint") });
  const create = el("button", { type: "submit", class: "primary", id: "create-api-key", text: i18n.t("apikeys.create") });
  const issuedSlot = el("div");
  const form = el("form", { class: "stack", id: "api-key-form" },
    el("div", { class: "grid-2" },
      el("label", { class: "field" }, el("span", { text: i18n.t("apikeys.name") }), name),
      el("label", { class: "field" }, el("span", { text: i18n.t("apikeys.expiresInDays") }), days)),
    el("fieldset", {}, el("legend", { text: i18n.t("apikeys.scopes") }), scopeBoxes),
    el("div", { class: "actions" }, create));

  const revoke = async (key, button) => {
    if (!(await confirmAction(i18n.t("apikeys.confirmRevoke", { name: key.name }), i18n.t("apikeys.revokeDetail")))) return;
    await busy(button, notice, async () => {
      await api.del(`${PATH}/${encodeURIComponent(key.id)}`);
      notify(notice, "info", i18n.t("apikeys.revoked", { name: key.name }));
      await load();
    });
  };
  const load = async () => {
    const listed = await api.get(PATH);
    body.replaceChildren(...listed.keys.map((k) => keyRow(k, revoke)));
    cardsOnPhones(table);
    empty.hidden = listed.keys.length > 0;
    table.hidden = listed.keys.length === 0;
    if (scopeBoxes.childElementCount === 0) {
      scopeBoxes.append(...Object.entries(listed.scopes).map(([scope, text]) => el("label", { class: "check" },
        el("input", { type: "checkbox", name: "scope", value: scope }), el("code", { text: scope }),
        ` — ${scopeText(scope, text)}`)));
    }
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const scopes = [...scopeBoxes.querySelectorAll("input:checked")].map((box) => box.value);
    if (scopes.length === 0) {
      notify(notice, "error", i18n.t("error.missing_scope"));
      return;
    }
    busy(create, notice, async () => {
      const issued = await api.post(PATH, { name: name.value.trim(), scopes,
        expires_in_days: days.value ? Number(days.value) : null });
      issuedSlot.replaceChildren(issuedBox(issued));
      form.reset();
      await load();
    });
  });

  const node = el("section", { class: "card", id: "api-keys-card" }, el("h2", { text: i18n.t("apikeys.heading") }),
    el("p", { class: "hint", text: i18n.t("apikeys.intro") }), table, empty,
    el("h3", { text: i18n.t("apikeys.create") }), form, issuedSlot, notice);
  return { node, load };
}
