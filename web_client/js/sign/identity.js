// The identity check on the signing page: the camera's picture goes to the server over a short
// publish-only WebRTC connection, the server compares it with the enrolled photo and says whether
// it passed (this page never judges a face), then the text-message code when the policy asks.

import * as i18n from "../i18n.js";
import { IDENTITY_MESSAGES } from "../identity_messages.js";
import { ApiFailure } from "./api.js";

i18n.register(IDENTITY_MESSAGES);

const $ = (id) => document.getElementById(id);
const POLL_MS = 500;
const MAX_WAIT_MS = 120_000;

function waitForIce(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => {
      if (pc.iceGatheringState !== "complete") return;
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    pc.addEventListener("icegatheringstatechange", check);
    setTimeout(resolve, 5000); // host candidates are enough on a LAN; do not hang on a slow STUN
  });
}

function say(id, kind, text) {
  const box = $(id);
  box.hidden = !text;
  box.dataset.kind = kind;
  box.textContent = text || "";
}

function reasonText(reason) {
  const key = `reason.${reason}`;
  return i18n.has(key) ? i18n.t(key) : i18n.t("reason.check_failed");
}

/** Wire the page's identity section; `onPassed` refreshes the signing session afterwards. */
export function identityCheck({ api, onPassed }) {
  let field = null;
  let standing = null;
  let running = false;

  const methods = (list) => list.map((m) => i18n.t(`check.method.${m}`)).join("、");

  function render() {
    if (!standing) return;
    const left = standing.required.filter((m) => !standing.passed.includes(m));
    $("check-required").textContent = [
      i18n.t("check.required", { steps: methods(standing.required) }),
      standing.passed.length ? i18n.t("check.passedList", { steps: methods(standing.passed) }) : "",
    ].filter(Boolean).join(" ");
    // The camera check covers the face match, the real-name provider (sent a live frame) and liveness.
    const cameraLeft = ["face", "provider", "liveness"].some((m) => left.includes(m));
    $("check-start").hidden = !cameraLeft;
    $("check-start").disabled = running;
    const codeTurn = left.includes("otp") && !cameraLeft;
    $("code-box").hidden = !codeTurn;
  }

  async function update(session) {
    const needed = session?.you && session.blocked?.code === "identity_check_required";
    $("identity").hidden = !needed;
    if (!needed) return;
    field = session.you.field_name;
    standing = await api.json("GET", `/api/sign/identity?field=${encodeURIComponent(field)}`);
    render();
  }

  async function faceCheck() {
    if (running || !field) return;
    running = true;
    render();
    say("check-result", "info", "");
    say("check-progress", "info", i18n.t("check.camera"));
    let stream = null;
    let pc = null;
    try {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
      } catch {
        say("check-progress", "error", i18n.t("check.cameraDenied"));
        return;
      }
      const preview = $("check-preview");
      preview.srcObject = stream;
      preview.hidden = false;
      say("check-progress", "info", i18n.t("check.connecting"));
      const session = await api.json("POST", "/api/sign/identity/sessions", { field_name: field });
      pc = new RTCPeerConnection({ iceServers: standing.ice_servers || [] });
      pc.addTransceiver(stream.getVideoTracks()[0], { direction: "sendonly", streams: [stream] });
      await pc.setLocalDescription(await pc.createOffer());
      await waitForIce(pc);
      const answer = await api.json("POST", `/api/sign/identity/sessions/${encodeURIComponent(session.session_id)}/offer`,
        { field_name: field, sdp: pc.localDescription.sdp });
      await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
      say("check-progress", "info", i18n.t("check.checking"));
      const path = `/api/sign/identity/sessions/${encodeURIComponent(session.session_id)}?field=${encodeURIComponent(field)}`;
      const began = Date.now();
      let state = session;
      while (state.state !== "done" && Date.now() - began < MAX_WAIT_MS) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        state = await api.json("GET", path);
        showPrompt(state);
      }
      showPrompt(null);
      say("check-progress", "info", "");
      if (state.passed) {
        say("check-result", "ok", i18n.t(state.methods.includes("liveness") ? "check.livePassed" : "check.facePassed"));
      } else {
        standing = await api.json("GET", `/api/sign/identity?field=${encodeURIComponent(field)}`);
        say("check-result", "error", `${i18n.t("check.faceFailed", { reason: reasonText(state.reason || "check_failed") })} ${
          i18n.t("check.tryAgain", { left: standing.failures_left })}`);
      }
    } catch (error) {
      say("check-progress", "error", error instanceof ApiFailure ? i18n.errorMessage(error.code, error.message) : String(error));
    } finally {
      for (const track of stream?.getTracks() || []) track.stop();
      pc?.close();
      $("check-preview").hidden = true;
      running = false;
      await onPassed();
    }
  }

  /** While the liveness check runs: what to do now, in big letters, and which step of how many. */
  function showPrompt(state) {
    const box = $("check-prompt");
    if (!state || state.state !== "liveness" || !state.prompt) {
      box.hidden = true;
      return;
    }
    say("check-progress", "info", i18n.t("check.liveness"));
    box.hidden = false;
    box.dataset.prompt = state.prompt;
    $("check-prompt-text").textContent = i18n.t(`prompt.${state.prompt}`);
    $("check-prompt-step").textContent = i18n.t("prompt.step", { index: state.prompt_index, count: state.prompt_count });
    $("check-prompt-progress").max = state.prompt_count;
    $("check-prompt-progress").value = state.prompt_index - 1;
  }

  async function sendCode() {
    try {
      const sent = await api.json("POST", "/api/sign/identity/code", { field_name: field });
      say("check-result", "info", i18n.t("check.codeSent", { phone: sent.phone }));
      $("code-input").focus();
    } catch (error) {
      say("check-result", "error", i18n.errorMessage(error.code, error.message));
    }
  }

  async function submitCode() {
    try {
      const result = await api.json("POST", "/api/sign/identity/code/verify",
        { field_name: field, code: $("code-input").value.trim() });
      $("code-input").value = "";
      say("check-result", result.passed ? "ok" : "error", result.passed ? i18n.t("check.codePassed") : reasonText(result.reason));
    } catch (error) {
      say("check-result", "error", i18n.errorMessage(error.code, error.message));
    }
    await onPassed();
  }

  $("check-start").addEventListener("click", faceCheck);
  $("code-send").addEventListener("click", sendCode);
  $("code-submit").addEventListener("click", submitCode);
  return { update, render, busy: () => running };
}
