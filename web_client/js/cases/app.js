// The case pages: sign in through a role's channel, then the views that role works with.
// Routes live in the hash: #cases (a mediator's desk), #apply, #submitted/<id>, #case/<id>, #court, #admin.

import * as i18n from "../i18n.js";
import { renderAdmin } from "./admin.js";
import { SIGNED_OUT, register, sendCode, signIn, signOut, whoAmI } from "./api.js";
import { renderApplication, renderConfirmation } from "./application.js";
import { APPLICATION_MESSAGES } from "./application_messages.js";
import { renderCase } from "./case_page.js";
import { renderCaseList } from "./case_list.js";
import { renderCourtQueue } from "./court_queue.js";
import { renderDesk } from "./desk.js";
import { $, busy, errorText, notify } from "./dom.js";
import { arrowKeysMoveBetweenTabs } from "../tabs.js";
import { MESSAGES } from "./messages.js";
import { openLinksInViewer } from "../viewer/viewer.js";

i18n.register(MESSAGES);
i18n.register(APPLICATION_MESSAGES);
openLinksInViewer(document);

const COURT_ROLES = ["court_clerk", "judge"];
const PARTY_ROLES = ["party", "agent"];
const ADMIN_ROLES = ["platform_admin", "org_admin"];

let account = null;
let channel = "party";
let leaveView = null; // the current view's clean-up (e.g. stop following a case)

function homeRoute() {
  return COURT_ROLES.includes(account.role) ? "court" : "cases";
}

function parseRoute() {
  const [name, arg] = decodeURIComponent(window.location.hash.replace(/^#/, "")).split("/");
  if (name === "case" && /^[A-Za-z0-9_-]{1,64}$/.test(arg ?? "")) return { name, arg };
  if (name === "apply" && PARTY_ROLES.includes(account.role)) return { name };
  if (name === "submitted" && PARTY_ROLES.includes(account.role) && /^[A-Za-z0-9_-]{1,64}$/.test(arg ?? "")) {
    return { name, arg };
  }
  if (name === "court" && COURT_ROLES.includes(account.role)) return { name };
  if (name === "admin" && ADMIN_ROLES.includes(account.role)) return { name };
  if (name === "cases") return { name };
  return { name: homeRoute() };
}

async function show() {
  leaveView?.();
  leaveView = null;
  const view = $("view");
  view.replaceChildren();
  document.body.dataset.state = "loading"; // #page-loading shows until the view is built
  const route = parseRoute();
  document.body.dataset.route = route.name;
  for (const link of document.querySelectorAll("#nav a")) {
    const roles = link.dataset.roles?.split(" ");
    link.hidden = Boolean(roles) && !roles.includes(account.role);
    link.classList.toggle("current", link.dataset.route === route.name);
  }
  const context = { account, view };
  if (route.name === "apply") leaveView = await renderApplication(context);
  else if (route.name === "case") leaveView = await renderCase(context, route.arg);
  else if (route.name === "court") leaveView = await renderCourtQueue(context);
  else if (route.name === "submitted") leaveView = await renderConfirmation(context, route.arg);
  else if (route.name === "admin") leaveView = await renderAdmin(context);
  else if (account.role === "mediator") leaveView = await renderDesk(context);
  else leaveView = await renderCaseList(context);
  document.body.dataset.state = "ready";
}

function signedIn(who) {
  account = who;
  $("auth").hidden = true;
  $("view").hidden = false;
  $("nav").hidden = false;
  $("who").hidden = false;
  $("who").textContent = `${who.display_name} · ${i18n.t(`role.${who.role}`)}`;
  $("sign-out").hidden = false;
  return show();
}

function askToSignIn(message) {
  account = null;
  leaveView?.();
  leaveView = null;
  for (const id of ["view", "nav", "who", "sign-out"]) $(id).hidden = true;
  $("auth").hidden = false;
  document.body.dataset.state = "auth";
  if (message) notify($("auth-error"), "error", message);
  $("login").focus();
}

function showRegistration(shown) {
  $("register-form").hidden = !shown;
  $("login-form").hidden = shown;
  $("show-register").parentElement.hidden = shown || channel !== "party";
  $("auth-error").hidden = true;
  $("auth-info").hidden = true;
}

function selectChannel(name) {
  channel = name;
  for (const tab of document.querySelectorAll("[data-channel]")) {
    tab.setAttribute("aria-selected", String(tab.dataset.channel === name));
    tab.tabIndex = tab.dataset.channel === name ? 0 : -1; // one tab stop; the arrow keys move inside
  }
  showRegistration(false); // only parties (and agents, through the API) register themselves
}

for (const tab of document.querySelectorAll("[data-channel]")) {
  tab.addEventListener("click", () => selectChannel(tab.dataset.channel));
}
arrowKeysMoveBetweenTabs(document.querySelector(".tabs[role=tablist]"), (tab) => selectChannel(tab.dataset.channel));

// The home page's "sign in as …" links name the channel: /cases.html?channel=court.
const linkedChannel = new URLSearchParams(window.location.search).get("channel");
selectChannel(document.querySelector(`[data-channel="${CSS.escape(linkedChannel ?? "")}"]`) ? linkedChannel : "party");

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("auth-error").hidden = true;
  const who = await busy($("sign-in"), $("auth-error"), () => signIn(channel, $("login").value.trim(), $("password").value));
  if (who) {
    $("password").value = "";
    await signedIn(who);
  }
});

$("show-register").addEventListener("click", () => showRegistration(true));
$("show-login").addEventListener("click", () => showRegistration(false));

$("send-code").addEventListener("click", async () => {
  $("auth-error").hidden = true;
  const phone = $("reg-phone").value.trim();
  const sent = await busy($("send-code"), $("auth-error"), () => sendCode(phone));
  if (sent) {
    const minutes = Math.max(1, Math.round((new Date(sent.expires_at) - Date.now()) / 60_000));
    notify($("auth-info"), "info", i18n.t("register.codeSent", { phone: sent.phone, minutes }));
  }
});

$("register-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("auth-error").hidden = true;
  const who = await busy($("register"), $("auth-error"), () => register({
    phone: $("reg-phone").value.trim(), code: $("reg-code").value.trim(), display_name: $("reg-name").value.trim(),
    id_number: $("reg-id").value.trim().toUpperCase(), login: $("reg-login").value.trim(),
    password: $("reg-password").value,
  }));
  if (who) {
    $("reg-password").value = "";
    showRegistration(false);
    await signedIn(who);
  }
});

$("sign-out").addEventListener("click", async () => {
  try {
    await signOut();
  } finally {
    askToSignIn();
  }
});

$("lang").addEventListener("click", () => i18n.toggleLanguage());
i18n.onLanguageChange(() => {
  if (!account) return;
  $("who").textContent = `${account.display_name} · ${i18n.t(`role.${account.role}`)}`;
  show();
});
window.addEventListener("hashchange", () => account && show());
window.addEventListener(SIGNED_OUT, () => askToSignIn(i18n.t("error.unauthenticated")));

i18n.applyTranslations(document);
try {
  const who = await whoAmI();
  if (who) await signedIn(who);
  else askToSignIn();
} catch (error) {
  askToSignIn(errorText(error));
}
