// The case page's identity enrolment: before signing, each participant states their ID and gives
// a reference photo (a photo of their ID card, or a portrait taken with this camera), and agrees to
// biometric processing. The server checks the photo (one face, big enough) before keeping it,
// encrypted; the signing page then compares the live camera with it.

import * as i18n from "../i18n.js";
import { toBase64 } from "../base64.js";
import { IDENTITY_MESSAGES } from "../identity_messages.js";
import { api } from "./api.js";
import { busy, el, notify, when } from "./dom.js";

i18n.register(IDENTITY_MESSAGES);

const PARTICIPANT_ROLES = ["party", "agent", "mediator"];
const STEPS = ["counselling", "video_mediation", "result"];
const ID_TYPES = ["resident_id", "passport", "hk_macao_permit", "taiwan_permit"];

/** A camera preview with a "take the portrait" button; resolves the JPEG bytes, or rejects. */
function portraitTaker(onPhoto, notice) {
  const video = el("video", { id: "portrait-preview", autoplay: true, muted: true, playsinline: true, hidden: true });
  const open = el("button", { type: "button", id: "portrait-open", text: i18n.t("identity.cameraOpen") });
  const shoot = el("button", { type: "button", id: "portrait-take", text: i18n.t("identity.cameraTake"), hidden: true });
  let stream = null;
  const stop = () => {
    for (const track of stream?.getTracks() || []) track.stop();
    stream = null;
    video.hidden = true;
    shoot.hidden = true;
  };
  open.addEventListener("click", async () => {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
    } catch {
      notify(notice, "error", i18n.t("identity.cameraDenied"));
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    shoot.hidden = false;
  });
  shoot.addEventListener("click", async () => {
    const canvas = el("canvas", { width: video.videoWidth || 640, height: video.videoHeight || 480 });
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.92));
    stop();
    onPhoto(blob);
  });
  return { node: el("div", { class: "actions" }, open, shoot, video), stop };
}

function enrolledView(c, status, refresh, notice) {
  const again = el("button", { type: "button", id: "identity-again", text: i18n.t("identity.again") });
  const withdraw = el("button", { type: "button", id: "identity-withdraw", text: i18n.t("identity.withdraw") });
  withdraw.addEventListener("click", () => busy(withdraw, notice, async () => {
    await api.del(`/api/cases/${encodeURIComponent(c.id)}/identity`);
    await refresh();
  }));
  const node = el("div", { id: "identity-enrolled" },
    el("p", { class: status.reference_kept ? "ok" : "warn", text: status.reference_kept
      ? i18n.t("identity.enrolled", { name: status.name, type: i18n.t(`identity.type.${status.id_type}`),
        number: status.id_number, until: when(status.delete_after) })
      : i18n.t("identity.deleted") }),
    el("div", { class: "actions" }, again, status.reference_kept ? withdraw : null));
  return { node, again };
}

function enrolForm(c, account, consent, refresh, notice) {
  let photo = null;
  let source = null;
  const name = el("input", { id: "identity-name", value: account.display_name || "", maxlength: 100, required: true });
  const type = el("select", { id: "identity-type" },
    ID_TYPES.map((t) => el("option", { value: t, text: i18n.t(`identity.type.${t}`) })));
  const number = el("input", { id: "identity-number", maxlength: 40, autocomplete: "off", required: true });
  const file = el("input", { type: "file", id: "identity-photo", accept: "image/jpeg,image/png" });
  const chosen = el("p", { class: "hint", id: "identity-photo-chosen", text: i18n.t("identity.noPhoto") });
  const taker = portraitTaker((blob) => {
    photo = blob;
    source = "portrait";
    chosen.textContent = i18n.t("identity.portraitTaken");
  }, notice);
  file.addEventListener("change", () => {
    photo = file.files[0] || null;
    source = photo ? "id_card" : null;
    chosen.textContent = photo ? i18n.t("identity.photoChosen", { name: photo.name }) : i18n.t("identity.noPhoto");
  });
  const agree = el("input", { type: "checkbox", id: "identity-consent" });
  const submit = el("button", { type: "button", class: "primary", id: "identity-submit", text: i18n.t("identity.submit") });
  submit.addEventListener("click", () => busy(submit, notice, async () => {
    if (!photo) {
      notify(notice, "error", i18n.t("identity.photoMissing"));
      return;
    }
    await api.put(`/api/cases/${encodeURIComponent(c.id)}/identity`, {
      name: name.value, id_type: type.value, id_number: number.value, reference_source: source,
      photo: toBase64(await photo.arrayBuffer()), consent: agree.checked, consent_version: consent.version,
    });
    taker.stop();
    await refresh();
  }));
  const text = consent.text[i18n.language()] || consent.text.zh;
  return el("div", { id: "identity-form", class: "form" },
    el("label", {}, i18n.t("identity.name"), name),
    el("label", {}, i18n.t("identity.idType"), type),
    el("label", {}, i18n.t("identity.idNumber"), number),
    el("p", { class: "hint", text: i18n.t("identity.photoHint") }),
    el("label", {}, i18n.t("identity.upload"), file),
    taker.node, chosen,
    el("label", { class: "check identity-consent" }, agree, ` ${text} `,
      el("span", { class: "hint", text: i18n.t("identity.retention", { days: consent.retention_days }) })),
    el("div", { class: "actions" }, submit));
}

/** For the mediator: who has enrolled (names, masked numbers, dates; never a photo). */
async function enrolmentList(c) {
  const { enrolments } = await api.get(`/api/cases/${encodeURIComponent(c.id)}/identity/enrolments`);
  return el("div", { id: "identity-enrolments" }, el("h3", { text: i18n.t("identity.whoEnrolled") }),
    enrolments.length === 0 ? el("p", { class: "hint", text: i18n.t("identity.nobody") }) :
      el("ul", {}, enrolments.map((e) => el("li", { dataset: { account: e.account_id }, text: i18n.t(
        e.reference_kept ? "identity.listed" : "identity.listedDeleted",
        { name: e.name, type: i18n.t(`identity.type.${e.id_type}`), number: e.id_number, at: when(e.enrolled_at) }) }))));
}

/** The panel for a participant of a case on its way to an agreement; null for anyone else. */
export async function identityPanel(c, account, refresh) {
  if (!PARTICIPANT_ROLES.includes(account.role) || !STEPS.includes(c.step)) return null;
  const own = await api.get(`/api/cases/${encodeURIComponent(c.id)}/identity`);
  const notice = el("p", { class: "notice", role: "status", hidden: true });
  const node = el("section", { class: "card panel", id: "identity-panel" },
    el("h2", { text: i18n.t("identity.heading") }), el("p", { class: "hint", text: i18n.t("identity.why") }));
  if (account.role === "mediator") node.append(await enrolmentList(c));
  if (own.enrolment) {
    const view = enrolledView(c, own.enrolment, refresh, notice);
    node.append(view.node);
    view.again.addEventListener("click", () => {
      view.node.replaceWith(enrolForm(c, account, own.consent, refresh, notice));
    });
  } else {
    node.append(enrolForm(c, account, own.consent, refresh, notice));
  }
  node.append(notice);
  return node;
}
