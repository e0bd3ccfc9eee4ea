// The signer's page: show the locked agreement, then sign it with a key that never leaves
// this browser — after checking that what gets signed is exactly the document shown.

import { ApiFailure, agreementFromLocation, client, concat, fromBase64, toBase64, tokenFromLocation } from "./api.js";
import { DerError } from "./der.js";
import { identityCheck } from "./identity.js";
import * as i18n from "../i18n.js";
import { formatDateTime } from "../dates.js";
import { signingKey, sign, spki } from "./keystore.js";
import { MESSAGES } from "./messages.js";
import { MismatchError, checkPrepared } from "./wysiwys.js";

i18n.register(MESSAGES);

const POLL_MS = 4000;
const STEPS = ["key", "enroll", "prepare", "check", "sign", "complete"];
const $ = (id) => document.getElementById(id);

let api = null;
let session = null;
let shown = null; // bytes of the revision whose pages are displayed
let shownKey = "";
let busy = false;
let notice = null; // {kind, text} set by the last action
let identity = null;

function setState(state) {
  document.body.dataset.state = state;
}

function slotLabel(slot) {
  const side = slot.side ? i18n.t(`side.${slot.side}`) + " " : "";
  return `${slot.index}. ${side}${i18n.t(`role.${slot.role}`)}：${slot.name}`;
}

function showNotice(kind, text) {
  notice = { kind, text };
  const box = $("notice");
  box.hidden = false;
  box.dataset.kind = kind;
  box.textContent = text;
}

function renderSession() {
  if (!session) return;
  // Signed in (no signing link): the case page is theirs to go back to.
  $("back-to-case").hidden = !(session.case_id && agreementFromLocation() && !tokenFromLocation());
  if (session.case_id) $("back-to-case").href = `/cases.html#case/${encodeURIComponent(session.case_id)}`;
  $("case").textContent = session.case_number;
  $("version").textContent = `v${session.version}`;
  $("locked-hash").textContent = session.locked_sha256 || "—";
  $("your-field").textContent = session.you ? `${slotLabel(session.you)} (${session.you.field_name})` : "—";
  const list = $("slots");
  list.replaceChildren();
  for (const slot of session.slots) {
    const item = document.createElement("li");
    item.dataset.signed = slot.signed_at ? "yes" : "no";
    const when = slot.signed_at ? `${i18n.t("sign.signed")} ${formatDateTime(slot.signed_at)}` : i18n.t("sign.pending");
    item.textContent = `${slotLabel(slot)} — ${when}`;
    if (session.you && slot.field_name === session.you.field_name) item.classList.add("you");
    list.append(item);
  }
  $("effective").hidden = !session.effective_at;
  if (session.effective_at) {
    $("effective").textContent = i18n.t("sign.effective", { time: formatDateTime(session.effective_at) });
  }
  const blocked = session.blocked;
  const signButton = $("sign");
  signButton.disabled = busy || blocked !== null || shown === null;
  $("blocked").hidden = blocked === null;
  if (blocked) $("blocked").textContent = i18n.errorMessage(blocked.code, blocked.message);
  // Development servers (test identity gate) offer a labelled stand-in for the face check.
  $("dev-identity").hidden = !(session.identity_simulation && blocked?.code === "identity_check_required");
  $("simulate-identity").disabled = busy;
  if (busy) return;
  if (session.status === "completed") setState("completed");
  else if (blocked && blocked.code === "already_signed") setState("signed");
  else setState(blocked ? "blocked" : "ready");
}

async function renderPages() {
  if (!session.locked_sha256) { // a new draft: nothing signable to show
    $("pages").replaceChildren();
    shown = null;
    shownKey = "";
    return;
  }
  const key = `${session.version}:${session.slots.filter((s) => s.signed_at).length}:${session.status}`;
  if (key === shownKey) return;
  const bytes = await api.bytes("/api/sign/document.pdf");
  const images = [];
  for (let page = 1; page <= session.page_count; page += 1) {
    const img = document.createElement("img");
    img.alt = `page ${page}`;
    img.src = URL.createObjectURL(await api.blob(`/api/sign/pages/${page}`));
    images.push(img);
  }
  for (const old of $("pages").querySelectorAll("img")) URL.revokeObjectURL(old.src);
  $("pages").replaceChildren(...images);
  shown = bytes;
  shownKey = key;
}

async function refresh() {
  try {
    session = await api.json("GET", "/api/sign/session");
    await renderPages(); // before the state says "ready": nobody signs what they have not been shown
    renderSession();
    const checking = !$("identity").hidden;
    if (!identity.busy()) await identity.update(session);
    if (checking && $("identity").hidden && session.blocked === null) showNotice("ok", i18n.t("check.allPassed"));
  } catch (error) {
    fail(error);
  }
}

function markStep(name, status) {
  const item = document.querySelector(`#steps li[data-step="${name}"]`);
  if (item) item.dataset.status = status;
}

function fail(error) {
  if (error instanceof MismatchError || error instanceof DerError) {
    const code = error instanceof DerError ? "der" : error.code;
    setState("refused");
    showNotice("error", `${i18n.t("mismatch.title")} ${i18n.t(`mismatch.${code}`)} (${error.message})`);
  } else if (error instanceof ApiFailure) {
    setState("error");
    showNotice("error", i18n.errorMessage(error.code, error.message));
  } else {
    setState("error");
    showNotice("error", String(error && error.message ? error.message : error));
  }
}

async function signNow() {
  if (busy || !session || !session.you) return;
  busy = true;
  setState("signing");
  $("sign").disabled = true;
  $("steps").hidden = false;
  for (const step of STEPS) markStep(step, "pending");
  const step = { version: session.version, field_name: session.you.field_name };
  let current = "key";
  try {
    markStep(current, "active");
    const { pair } = await signingKey(`${session.agreement_id}/${session.you.signer_key}`);
    const publicKey = await spki(pair);
    markStep(current, "done");

    current = "enroll";
    markStep(current, "active");
    const challenge = await api.json("POST", "/api/sign/begin", step);
    const proof = await sign(pair, concat(fromBase64(challenge.nonce), publicKey));
    await api.json("POST", "/api/sign/enroll", { ...step, spki: toBase64(publicKey), proof: toBase64(proof) });
    markStep(current, "done");

    current = "prepare";
    markStep(current, "active");
    const prep = await api.json("POST", "/api/sign/prepare", step);
    const query = `version=${step.version}&field_name=${encodeURIComponent(step.field_name)}`;
    const prepared = await api.bytes(`/api/sign/prepared.pdf?${query}`);
    markStep(current, "done");

    current = "check";
    markStep(current, "active");
    const signedAttrs = fromBase64(prep.signed_attrs);
    const locked = await api.bytes("/api/sign/document.pdf?revision=0");
    const digest = await checkPrepared({
      signedAttrs, byteRange: prep.byte_range, prepared, shown, locked, lockedSha256: session.locked_sha256,
    });
    markStep(current, "done");
    showNotice("ok", i18n.t("sign.verified", { digest: digest.slice(0, 16) }));

    current = "sign";
    markStep(current, "active");
    const signature = await sign(pair, signedAttrs);
    markStep(current, "done");

    current = "complete";
    markStep(current, "active");
    await api.json("POST", "/api/sign/complete", { ...step, signature: toBase64(signature) });
    markStep(current, "done");
    busy = false;
    showNotice("ok", i18n.t("sign.done"));
    await refresh();
  } catch (error) {
    markStep(current, "failed");
    busy = false;
    fail(error);
    $("sign").disabled = true; // a refused document is not retried blindly: refresh first
  }
}

async function simulateIdentity() {
  if (busy || !session?.you) return;
  $("simulate-identity").disabled = true;
  try {
    const check = await api.json("POST", "/api/sign/identity/simulate", { field_name: session.you.field_name });
    const minutes = Math.round((new Date(check.valid_until) - new Date(check.checked_at)) / 60_000);
    showNotice("ok", i18n.t("sign.simulated", { minutes }));
    await refresh();
  } catch (error) {
    fail(error);
  }
}

async function download() {
  const blob = await api.blob("/api/sign/document.pdf");
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `${session.case_number}-v${session.version}.pdf`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

function start() {
  i18n.applyTranslations();
  $("lang").addEventListener("click", () => {
    i18n.toggleLanguage();
    renderSession();
    identity.render();
    if (notice) showNotice(notice.kind, notice.text);
  });
  const token = tokenFromLocation();
  const agreementId = agreementFromLocation();
  if (!token && !agreementId) {
    setState("error");
    showNotice("error", i18n.t("sign.noToken"));
    return;
  }
  if (!window.isSecureContext || !crypto.subtle || !window.indexedDB) {
    setState("error");
    showNotice("error", i18n.t("sign.noWebCrypto"));
    return;
  }
  api = client(token, agreementId);
  identity = identityCheck({ api, onPassed: refresh });
  $("sign").addEventListener("click", signNow);
  $("simulate-identity").addEventListener("click", simulateIdentity);
  $("refresh").addEventListener("click", () => {
    $("notice").hidden = true;
    notice = null;
    refresh();
  });
  $("download").addEventListener("click", download);
  refresh();
  setInterval(() => {
    if (!busy && document.body.dataset.state !== "refused") refresh();
  }, POLL_MS);
}

start();
