// The mediator's agreement editor for the agreement drafted from a case (agreement.html#ag_…):
// edit the terms, preview, lock, hand out signing links to signers without an account, follow
// the signatures; after locking, an edit creates a new version and every signature starts over.

import * as i18n from "../i18n.js";
import { formatDateTime } from "../dates.js";
import { ApiFailure, api, credentials, signIn, templates } from "./api.js";
import { AgreementForm, fieldErrors, toPayload } from "./form.js";
import { MESSAGES } from "./messages.js";
import { openLinksInViewer } from "../viewer/viewer.js";

i18n.register(MESSAGES);
openLinksInViewer(document, () => (credentials.apiKey() ? { Authorization: `Bearer ${credentials.apiKey()}` } : {}));

const $ = (id) => document.getElementById(id);

let current = null; // the API's AgreementOut for the current version, null before the first save
let links = {}; // field_name -> signing link, for the locked current version
let dirty = false;
let editingLocked = false; // the mediator confirmed editing a locked version
let pageUrls = [];
let busy = false;

const form = new AgreementForm($("form"), () => {
  dirty = true;
  renderMeta();
});

function setState(state) {
  document.body.dataset.state = state;
}

function showNotice(kind, text) {
  const box = $("notice");
  box.hidden = false;
  box.dataset.kind = kind;
  box.textContent = text;
}

function errorMessage(error) {
  if (error instanceof ApiFailure) return i18n.errorMessage(error.code, error.message, error.details);
  return String(error);
}

function agreementIdFromLocation() {
  const id = decodeURIComponent(window.location.hash.replace(/^#/, ""));
  return /^ag_[0-9a-f]{16}$/.test(id) ? id : null;
}

function editable() {
  return !current || current.status === "draft" || editingLocked;
}

// --- rendering ----------------------------------------------------------------------------------

function renderMeta() {
  $("agreement-id").textContent = current?.agreement_id ?? "—";
  $("case-id").textContent = current?.case_id ?? "—";
  $("version").textContent = current ? `v${current.version}` : "—";
  const status = current ? current.status : "new";
  $("status").textContent = i18n.t(`status.${status}`);
  $("status").dataset.status = status;
  $("locked-hash").textContent = current?.locked_sha256 ?? "—";
  $("effective").textContent = current?.effective_at ? formatDateTime(current.effective_at) : "—";
  renderVersions();
  const locked = current && current.status !== "draft";
  $("save").disabled = busy || !current || !editable();
  $("preview").disabled = busy || !current;
  $("lock").disabled = busy || !current || current.status !== "draft";
  $("edit").hidden = !locked || editingLocked;
  $("edit").disabled = busy;
  document.body.dataset.dirty = String(dirty);
}

/** Every locked version's PDF opens in the document viewer (a draft has none yet). */
function renderVersions() {
  const box = $("versions");
  const last = current ? current.version - (current.status === "draft" ? 1 : 0) : 0;
  box.replaceChildren();
  for (let version = 1; version <= last; version += 1) {
    const url = `/api/agreements/${encodeURIComponent(current.agreement_id)}/versions/${version}/pdf`;
    const link = Object.assign(document.createElement("a"), { href: url, className: "version-link", textContent: `v${version}` });
    Object.assign(link.dataset, { viewer: "", viewerName: i18n.t("meta.versionName", { version }) });
    box.append(link, " ");
  }
  if (last === 0) box.textContent = "—";
}

function slotLabel(slot) {
  const side = slot.side ? `${i18n.t(`side.${slot.side}`)} ` : "";
  return `${slot.index}. ${side}${i18n.t(`role.${slot.role}`)}：${slot.name}`;
}

async function copyLink(input, button) {
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select(); // clipboard API refused (permissions): fall back to the selection
    document.execCommand("copy");
  }
  button.textContent = i18n.t("action.copied");
  setTimeout(() => { button.textContent = i18n.t("action.copy"); }, 2000);
}

function renderSigners() {
  const list = $("signers");
  list.replaceChildren();
  for (const slot of current?.slots ?? []) {
    const item = document.createElement("li");
    item.dataset.field = slot.field_name;
    item.dataset.signed = slot.signed_at ? "yes" : "no";
    const head = document.createElement("div");
    head.className = "signer-head";
    const name = Object.assign(document.createElement("span"), { className: "signer-name", textContent: slotLabel(slot) });
    const badge = Object.assign(document.createElement("span"), { className: "badge" });
    badge.textContent = slot.signed_at
      ? `${i18n.t("signers.signed", { time: formatDateTime(slot.signed_at) })} ${i18n.t(`signers.custody.${slot.key_custody}`)}`
      : i18n.t("signers.pending");
    head.append(name, badge);
    item.append(head);
    const link = links[slot.field_name];
    if (slot.role === "organisation") {
      item.append(Object.assign(document.createElement("p"), { className: "hint", textContent: i18n.t("signers.sealNoLink") }));
    } else if (link && !slot.signed_at) {
      const row = document.createElement("div");
      row.className = "link-row";
      const input = Object.assign(document.createElement("input"), { readOnly: true, value: link.url, className: "link" });
      input.setAttribute("aria-label", slotLabel(slot));
      const button = Object.assign(document.createElement("button"), { type: "button", className: "small copy", textContent: i18n.t("action.copy") });
      button.addEventListener("click", () => copyLink(input, button));
      row.append(input, button);
      item.append(row);
    }
    list.append(item);
  }
  if (!current || current.status === "draft") {
    list.append(Object.assign(document.createElement("li"), { className: "hint", textContent: i18n.t("signers.notLocked") }));
  }
}

function show(agreement) {
  current = agreement;
  // Back to where the mediator drafted it (signatures and the case's next steps are followed there).
  $("back-to-case").hidden = !agreement.case_id;
  if (agreement.case_id) $("back-to-case").href = `/cases.html#case/${encodeURIComponent(agreement.case_id)}`;
  dirty = false;
  form.caseId = agreement.case_id;
  form.load(agreement.data);
  form.setReadOnly(!editable());
  renderMeta();
  renderSigners();
}

// --- actions ------------------------------------------------------------------------------------

async function run(action) {
  if (busy) return;
  busy = true;
  renderMeta();
  try {
    await action();
  } catch (error) {
    if (error instanceof ApiFailure && error.code === "invalid_body") {
      const count = form.showErrors(fieldErrors(error.details));
      showNotice("error", i18n.t("notice.invalid", { count }));
    } else if (error instanceof ApiFailure && (error.status === 401)) {
      credentials.clear();
      showAuth(errorMessage(error));
    } else {
      showNotice("error", errorMessage(error));
    }
  } finally {
    busy = false;
    renderMeta();
  }
}

async function save() {
  // Case participants' ID numbers go back masked as they came: the server keeps its own copy.
  const saved = await api.json("PUT", `/api/agreements/${current.agreement_id}`, { data: toPayload(form.data) });
  const newVersion = current && saved.version !== current.version;
  editingLocked = false;
  links = newVersion ? {} : links;
  history.replaceState(null, "", `#${saved.agreement_id}`);
  form.clearErrors();
  show(saved);
  showNotice("ok", i18n.t("notice.saved", { version: saved.version }));
}

async function saveIfNeeded() {
  if (dirty) await save();
}

async function preview() {
  if (editable()) await saveIfNeeded();
  showNotice("info", i18n.t("notice.previewing"));
  const rendered = await api.json("POST", `/api/agreements/${current.agreement_id}/preview`);
  const blobs = [];
  for (let page = 1; page <= rendered.page_count; page += 1) {
    blobs.push(await api.blob(`/api/agreements/${current.agreement_id}/previews/${rendered.sha256}/pages/${page}`));
  }
  for (const url of pageUrls) URL.revokeObjectURL(url);
  pageUrls = blobs.map((blob) => URL.createObjectURL(blob));
  $("pages").replaceChildren(...pageUrls.map((src, i) => Object.assign(document.createElement("img"), {
    src, alt: `${i + 1} / ${pageUrls.length}`,
  })));
  showNotice("ok", i18n.t("notice.preview", { pages: rendered.page_count }));
}

async function lock() {
  await saveIfNeeded();
  if (!window.confirm(i18n.t("confirm.lock"))) return;
  const locked = await api.json("POST", `/api/agreements/${current.agreement_id}/versions/${current.version}/lock`);
  show(locked);
  await loadLinks();
  showNotice("ok", i18n.t("notice.locked", { hash: locked.locked_sha256 }));
}

function edit() {
  if (!window.confirm(i18n.t("confirm.edit", { current: current.version, next: current.version + 1 }))) return;
  editingLocked = true;
  form.setReadOnly(false);
  renderMeta();
  showNotice("warn", i18n.t("notice.editing", { version: current.version + 1 }));
}

async function loadLinks() {
  links = {};
  if (current?.status === "locked") {
    const body = await api.json("POST", `/api/agreements/${current.agreement_id}/signing-links`);
    links = Object.fromEntries(body.links.map((link) => [link.field_name, link]));
  }
  renderSigners();
}

async function refresh() {
  const latest = await api.json("GET", `/api/agreements/${current.agreement_id}`);
  if (latest.version !== current.version) links = {};
  current = latest;
  if (!dirty && !editingLocked) show(latest);
  renderMeta();
  if (latest.status === "locked" && Object.keys(links).length === 0) await loadLinks();
  else renderSigners();
}

// --- sign-in and start --------------------------------------------------------------------------

function showAuth(message) {
  setState("auth");
  $("editor").hidden = true;
  $("auth").hidden = false;
  $("who").hidden = true;
  $("sign-out").hidden = true;
  $("auth-error").hidden = !message;
  $("auth-error").textContent = message ?? "";
}

function showWho() {
  const key = credentials.apiKey();
  $("who").hidden = false;
  $("who").textContent = key
    ? i18n.t("auth.asKey", { hint: `${key.slice(0, 5)}…${key.slice(-4)}` })
    : i18n.t("auth.asSession", { name: credentials.sessionName() });
  $("sign-out").hidden = false;
}

async function start() {
  let available;
  try {
    available = await templates();
  } catch (error) {
    credentials.clear();
    showAuth(i18n.t("auth.rejected", { message: errorMessage(error) }));
    return;
  }
  form.templates = available.templates;
  $("auth").hidden = true;
  $("editor").hidden = false;
  showWho();
  const id = agreementIdFromLocation();
  if (id) {
    await run(async () => {
      show(await api.json("GET", `/api/agreements/${id}`));
      await loadLinks();
    });
  } else {
    $("form").replaceChildren();
    renderMeta();
    renderSigners();
    showNotice("info", i18n.t("notice.fromCase"));
  }
  setState("ready");
}

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  credentials.useKey($("api-key").value.trim());
  $("api-key").value = "";
  start();
});

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await signIn($("login").value.trim(), $("password").value);
    $("password").value = "";
    await start();
  } catch (error) {
    const message = error instanceof ApiFailure && error.status === 404 ? i18n.t("auth.noLogin") : errorMessage(error);
    showAuth(message);
  }
});

$("sign-out").addEventListener("click", async () => {
  if (credentials.sessionName()) await api.json("POST", "/api/auth/logout", {}).catch(() => null);
  credentials.clear();
  window.location.hash = "";
  showAuth(null);
});

$("save").addEventListener("click", () => run(save));
$("preview").addEventListener("click", () => run(preview));
$("lock").addEventListener("click", () => run(lock));
$("edit").addEventListener("click", edit);
$("refresh").addEventListener("click", () => run(refresh));
$("lang").addEventListener("click", () => i18n.toggleLanguage());
i18n.onLanguageChange(() => {
  form.setReadOnly(!editable()); // redraws the form in the new language
  renderMeta();
  renderSigners();
  if (credentials.present() && !$("editor").hidden) showWho();
});

// Opening another agreement (a link from the case page) in this tab.
window.addEventListener("hashchange", () => {
  if (credentials.present()) {
    links = {};
    start();
  }
});

/** Coming from the case page, the browser already holds the session cookie: use it. */
async function boot() {
  if (credentials.present()) return start();
  try {
    const account = await api.json("GET", "/api/auth/me");
    credentials.useSession(account.display_name);
    return start();
  } catch {
    return showAuth(null);
  }
}

i18n.applyTranslations();
boot();
