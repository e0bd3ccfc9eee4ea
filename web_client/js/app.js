// Entry point of the room page (`/join#<token>`): pre-join device check, join, lobby, room,
// and the ways out (error, removal, end). It wires the other modules together and owns the
// reconnect policy: a new socket means a new join and a brand-new RTCPeerConnection
// (`rtc:offer` with `reset: true`), and a failed peer connection is replaced the same way.

import { applyTranslations, errorMessage, onLanguageChange, register, t, toggleLanguage } from "./i18n.js";
import { MESSAGES } from "./room_messages.js";
import { Signaling } from "./signaling.js";
import { PeerLink } from "./peer.js";
import { LevelMeter, LocalMedia, bindDeviceSelect, deviceFailureKey } from "./devices.js";
import { VideoGrid } from "./grid.js";
import { Chat } from "./chat.js";
import { ParticipantPanel } from "./participants.js";
import { confirmDialog, notify } from "./notices.js";
import { invitationKey, readInvitation } from "./invitation.js";
import { castLabels } from "./cast.js";
import { RecordingControls } from "./recording.js";

const $ = (id) => document.getElementById(id);

/** How long a "disconnected" peer connection may take to recover by itself before we replace it. */
const MEDIA_RECOVERY_MS = 5000;
/** Pause before retrying a join or a peer connection that failed for a transient reason. */
const RETRY_MS = 2000;
const TRANSIENT = new Set(["timeout", "offline", "rate_limited", "internal", "glare"]);
const SCREENS = ["prejoin", "lobby", "room", "ended"];

/**
 * A group's shared snapshot names nobody as "you" (the server sends one payload to the whole
 * group): find this seat among its participants. `null` until the join ack has told us our seat.
 */
function withYou(snapshot, seat) {
  if (snapshot.you) return snapshot;
  const me = (snapshot.participants ?? []).find((person) => person.seat === seat);
  if (!me) return null;
  return { ...snapshot, you: { ...me, waiting_for_caucus: Boolean(snapshot.caucus) && !me.in_caucus } };
}

class RoomApp {
  constructor() {
    this.invitation = readInvitation(location.hash);
    this.media = new LocalMedia();
    this.meter = new LevelMeter($("mic-level"));
    this.signaling = null;
    this.peer = null;
    this.snapshot = null;
    this.seat = null;
    this.iceServers = [];
    this.signalingStatus = "connecting";
    this.mediaStatus = "new";
    this.joined = false; // a join was acknowledged on the current socket
    this.finished = false; // removed, ended, left or refused: never reconnect
    this.endedView = null; // what the "ended" screen shows, re-rendered on language change
    this.grid = new VideoGrid($("grid"), { onAutoplayBlocked: () => ($("enable-sound").hidden = false) });
  }

  boot() {
    applyTranslations(document);
    $("lang").addEventListener("click", toggleLanguage);
    onLanguageChange(() => this.rerender());
    this.exposeDebugSurface();
    const { token, claims, errorCode } = this.invitation;
    if (errorCode) {
      this.finish("error.heading", errorCode === "noToken" ? "error.noToken" : `error.${errorCode}`, errorCode);
      return;
    }
    this.claims = claims;
    this.media.onChange(() => this.renderToolbar());
    const remembered = sessionStorage.getItem(invitationKey(token));
    if (remembered) {
      // A reload of a page that had joined: go straight back in with the same switches.
      const wanted = JSON.parse(remembered);
      this.media.wanted = { audio: wanted.audio !== false, video: wanted.video !== false };
      this.reenter();
    } else {
      this.prejoin();
    }
  }

  // ------------------------------------------------------------------ screens

  show(screen) {
    document.body.dataset.screen = screen;
    for (const name of SCREENS) $(name).hidden = name !== screen;
  }

  finish(headingKey, messageKey, code = "", params = {}) {
    this.finished = true;
    this.endedView = { headingKey, messageKey, code, params };
    this.teardown();
    this.renderEnded();
    this.show("ended");
  }

  renderEnded() {
    const view = this.endedView;
    if (!view) return;
    $("ended-heading").textContent = t(view.headingKey);
    const message = $("ended-message");
    message.dataset.code = view.code;
    const text = view.messageKey.startsWith("error.") ? errorMessage(view.code, view.params.message) : t(view.messageKey);
    message.textContent = view.params.reason ? `${text} ${t("removed.reason", { reason: view.params.reason })}` : text;
    $("rejoin").hidden = view.code !== "left";
  }

  rerender() {
    this.renderWho();
    this.chat?.rerender();
    this.renderToolbar();
    this.renderEnded();
    if (this.snapshot) this.applySnapshot(this.snapshot);
    this.renderConnection();
  }

  renderWho() {
    if (!this.claims) return;
    const role = castLabels(this.claims).join(" · ");
    $("prejoin-who").textContent = t("prejoin.as", { role, name: this.claims.name });
  }

  // ------------------------------------------------------------------ before joining

  async prejoin() {
    this.show("prejoin");
    this.renderWho();
    const join = $("join");
    join.addEventListener("click", () => {
      join.disabled = true;
      join.textContent = t("prejoin.joining");
      this.meter.detach();
      this.connect();
    });
    if (this.claims.role === "observer") {
      $("device-pickers").hidden = true;
      this.warn(t("prejoin.observer"));
    } else {
      await this.openDevices();
      for (const [id, kind] of [["prejoin-mic", "audio"], ["prejoin-cam", "video"]]) {
        $(id).addEventListener("click", () => this.media.setWanted(kind, !this.media.wanted[kind]));
      }
    }
    join.disabled = false;
  }

  async openDevices() {
    const result = await this.media.open();
    if (result.errorKey) this.warn(t(result.errorKey));
    $("preview").srcObject = this.media.stream();
    this.meter.attach(this.media.tracks.audio);
    await this.fillDeviceSelects("camera-select", "mic-select");
  }

  warn(text) {
    const warning = $("prejoin-warning");
    warning.textContent = text;
    warning.hidden = false;
  }

  async fillDeviceSelects(cameraId, micId) {
    const devices = await this.media.list();
    const none = t("prejoin.noDevice");
    bindDeviceSelect($(cameraId), devices.video, this.media.deviceIds.video, none, (id) => this.switchDevice("video", id));
    bindDeviceSelect($(micId), devices.audio, this.media.deviceIds.audio, none, (id) => this.switchDevice("audio", id));
  }

  async switchDevice(kind, deviceId) {
    try {
      const track = await this.media.choose(kind, deviceId);
      if (kind === "audio" && this.signaling === null) this.meter.attach(track);
      $("preview").srcObject = this.media.stream();
      this.grid.setSelf(this.media.stream());
      if (this.peer && this.snapshot?.you.can_publish) await this.peer.setLocalTrack(kind, track);
    } catch (error) {
      notify(t(deviceFailureKey(error)), "error");
    }
  }

  // ------------------------------------------------------------------ joining and reconnecting

  async reenter() {
    if (this.claims.role !== "observer") await this.media.open();
    this.connect();
  }

  connect() {
    this.signaling = new Signaling({ onStatus: (status) => this.onSignalingStatus(status) });
    const on = (event, handler) => this.signaling.on(event, (payload) => handler(payload ?? {}));
    on("room:state", (snapshot) => {
      const own = withYou(snapshot, this.seat);
      if (own) this.applySnapshot(own);
    });
    on("rtc:offer", (offer) => this.peer?.handleServerOffer(offer));
    on("rtc:tracks", ({ tracks }) => this.peer?.setTracks(tracks));
    on("chat:message", (message) => this.chat.add(message));
    on("chat:history", ({ messages }) => this.chat.addHistory(messages));
    on("rec:changed", (change) => this.recording.changed(change));
    on("speaker:active", ({ seat }) => this.grid.setActiveSpeaker(seat ?? null));
    on("removed", ({ reason }) => this.onRemoved(reason));
    on("room:ended", () => this.finish("ended.heading", "removed.ended", "ended"));
    on("error", ({ code, message }) => notify(errorMessage(code, message), "error"));
    this.setupRoomControls();
    this.signaling.connect();
  }

  onSignalingStatus(status) {
    this.signalingStatus = status;
    this.renderConnection();
    if (this.finished) return;
    if (status === "connected") {
      this.sendJoin();
    } else {
      this.joined = false;
      if (status === "offline") {
        // Closed by the server without `removed` (e.g. a restart): Socket.IO will not retry by itself.
        setTimeout(() => !this.finished && this.signaling.connect(), RETRY_MS);
      }
    }
  }

  async sendJoin() {
    let ack;
    try {
      ack = await this.signaling.request("join", { token: this.invitation.token });
    } catch (error) {
      if (TRANSIENT.has(error.code)) {
        setTimeout(() => this.signaling.connected && !this.joined && !this.finished && this.sendJoin(), RETRY_MS);
        return;
      }
      // A removed person reopening the link is told so, not that something failed.
      const heading = error.code === "removed_from_room" ? "removed.headingByMediator" : "error.heading";
      this.finish(heading, `error.${error.code}`, error.code, { message: error.message });
      return;
    }
    this.joined = true;
    this.seat = ack.seat;
    this.iceServers = ack.ice_servers ?? [];
    sessionStorage.setItem(invitationKey(this.invitation.token), JSON.stringify(this.media.wanted));
    // Whatever media state the server kept from an earlier socket, start over cleanly.
    this.dropPeer();
    this.applySnapshot(ack.room);
  }

  onRemoved(reason) {
    const keys = { replaced: "removed.replaced", ended: "removed.ended", removed: "removed.byMediator" };
    const key = keys[reason] ?? "removed.byMediator";
    const extra = reason && !(reason in keys) ? { reason } : {};
    const heading = reason === "ended" ? "ended.heading" : reason === "replaced" ? "removed.heading" : "removed.headingByMediator";
    this.finish(heading, key, `removed:${reason || "removed"}`, extra);
  }

  // ------------------------------------------------------------------ the room

  applySnapshot(snapshot) {
    const previous = this.snapshot;
    this.snapshot = snapshot;
    if (this.finished) return;
    if (snapshot.status === "ended") {
      this.finish("ended.heading", "removed.ended", "ended");
      return;
    }
    const me = snapshot.you;
    $("case-id").textContent = snapshot.case_id ? t("room.case", { caseId: snapshot.case_id }) : "";
    this.applyModeration(previous?.you, me);
    this.recording.render(snapshot);
    if (me.state === "lobby") {
      const preview = $("lobby-preview");
      if (!preview.srcObject) preview.srcObject = this.media.stream();
      $("lobby-no-mediator").hidden = snapshot.mediator_present !== false;
      this.show("lobby");
      return;
    }
    if (previous?.you.state === "lobby") notify(t("notice.admitted"));
    this.show("room");
    this.renderCaucus(snapshot);
    $("mediator-away").hidden = snapshot.mediator_present !== false || me.role === "mediator";
    this.grid.render(snapshot);
    this.grid.setSelf(this.media.stream());
    this.panel.render(snapshot);
    if (me.waiting_for_caucus) this.chat.setAllowed(false, "chat.caucusWaiting");
    else this.chat.setAllowed(me.role !== "observer" || me.can_publish);
    this.renderToolbar();
    if (this.joined && !this.peer) this.startPeer();
  }

  /** The mediator's mute and permission to publish, applied to our own tracks. */
  applyModeration(before, me) {
    const forced = me.muted_by_mediator ?? { audio: false, video: false };
    for (const kind of ["audio", "video"]) {
      const was = before?.muted_by_mediator?.[kind] ?? false;
      if (before && was !== forced[kind]) {
        const what = kind === "audio" ? "Audio" : "Video";
        notify(t(forced[kind] ? `notice.muted${what}` : `notice.unmuted${what}`));
      }
      this.media.setForcedOff(kind, forced[kind]);
    }
    if (before && before.can_publish !== me.can_publish) {
      notify(t(me.can_publish ? "notice.permitted" : "notice.revoked"));
      this.publish().catch((error) => notify(t(deviceFailureKey(error)), "error"));
    }
  }

  renderCaucus(snapshot) {
    const banner = $("caucus-banner");
    const waiting = $("caucus-waiting");
    const caucus = snapshot.caucus;
    banner.hidden = !caucus;
    waiting.hidden = !(caucus && snapshot.you.waiting_for_caucus);
    document.body.classList.toggle("in-caucus", Boolean(caucus && snapshot.you.in_caucus));
    if (!caucus) return;
    const side = t(`side.${caucus.side}`);
    banner.textContent = t("caucus.banner", { side });
    waiting.textContent = t("caucus.waiting", { side });
    if (snapshot.you.in_caucus) banner.textContent = `${banner.textContent} — ${t("caucus.inside")}`;
  }

  setupRoomControls() {
    this.chat = new Chat({
      list: $("chat-list"),
      form: $("chat-form"),
      input: $("chat-input"),
      hint: $("chat-hint"),
      signaling: this.signaling,
      notify,
    });
    this.panel = new ParticipantPanel({
      roomList: $("room-list"),
      lobbyList: $("lobby-list"),
      lobbySection: $("lobby-section"),
      consoleEl: $("console"),
      countEl: $("participant-count"),
      signaling: this.signaling,
      notify,
      confirm: confirmDialog,
    });
    this.recording = new RecordingControls({
      indicator: $("rec-indicator"),
      dialog: $("rec-consent"),
      panel: $("rec-console"),
      signaling: this.signaling,
      notify,
    });
    $("toggle-mic").addEventListener("click", () => this.toggle("audio"));
    $("toggle-cam").addEventListener("click", () => this.toggle("video"));
    $("enable-sound").addEventListener("click", () => {
      this.grid.enableSound();
      $("enable-sound").hidden = true;
    });
    $("leave").addEventListener("click", async () => {
      if (!(await confirmDialog(t("confirm.leave")))) return;
      await this.signaling.request("leave").catch(() => {});
      this.finish("ended.heading", "ended.left", "left");
    });
    $("rejoin").addEventListener("click", () => location.reload());
    this.fillDeviceSelects("room-camera-select", "room-mic-select");
  }

  toggle(kind) {
    this.media.setWanted(kind, !this.media.wanted[kind]);
    this.sendMediaState();
    if (this.joined) sessionStorage.setItem(invitationKey(this.invitation.token), JSON.stringify(this.media.wanted));
  }

  sendMediaState() {
    if (!this.joined) return;
    const state = {
      audio: Boolean(this.media.tracks.audio) && this.media.wanted.audio,
      video: Boolean(this.media.tracks.video) && this.media.wanted.video,
    };
    this.signaling.request("media:state", state).catch((error) => notify(errorMessage(error.code, error.message), "error"));
  }

  renderToolbar() {
    const you = this.snapshot?.you;
    const canPublish = you ? you.can_publish : this.claims?.role !== "observer";
    for (const [id, kind, onKey, offKey, forcedKey] of [
      ["toggle-mic", "audio", "toolbar.mic", "toolbar.micOff", "toolbar.mutedByMediator"],
      ["toggle-cam", "video", "toolbar.cam", "toolbar.camOff", "toolbar.camOffByMediator"],
      ["prejoin-mic", "audio", "toolbar.mic", "toolbar.micOff", "toolbar.mutedByMediator"],
      ["prejoin-cam", "video", "toolbar.cam", "toolbar.camOff", "toolbar.camOffByMediator"],
    ]) {
      const button = $(id);
      const forced = this.media.forcedOff[kind];
      const on = this.media.isOn(kind);
      button.textContent = t(forced ? forcedKey : on ? onKey : offKey);
      button.classList.toggle("on", on);
      button.classList.toggle("forced", forced);
      button.disabled = forced || !canPublish || !this.media.tracks[kind];
      button.dataset.state = forced ? "forced" : on ? "on" : "off";
      button.setAttribute("aria-pressed", String(on));
    }
  }

  renderConnection() {
    let status = this.signalingStatus;
    if (status === "connected" && this.peer && ["failed", "disconnected"].includes(this.mediaStatus)) {
      status = "reconnecting";
    }
    const box = $("connection");
    box.hidden = this.signaling === null;
    box.dataset.status = status;
    box.dataset.media = this.mediaStatus;
    $("connection-text").textContent = t(`conn.${status}`);
  }

  // ------------------------------------------------------------------ media

  /** What we may publish now: our tracks if the server lets us, otherwise nothing. */
  async publishableTracks() {
    if (!this.snapshot?.you.can_publish) return { audio: null, video: null };
    if (!this.media.tracks.audio && !this.media.tracks.video) {
      const result = await this.media.open();
      if (result.errorKey) notify(t(result.errorKey), "error");
      this.grid.setSelf(this.media.stream());
    }
    return { audio: this.media.tracks.audio, video: this.media.tracks.video };
  }

  async publish() {
    if (!this.peer) return;
    const tracks = await this.publishableTracks();
    await this.peer.setLocalTrack("audio", tracks.audio);
    await this.peer.setLocalTrack("video", tracks.video);
    this.renderToolbar();
    this.sendMediaState();
  }

  async startPeer() {
    const peer = new PeerLink({
      signaling: this.signaling,
      iceServers: this.iceServers,
      onRemote: (remote) => this.peer === peer && this.grid.setRemote(remote),
      onConnectionState: (state) => this.peer === peer && this.onMediaState(state),
      onError: (error) => this.peer === peer && this.onPeerError(error),
    });
    this.peer = peer;
    this.mediaStatus = "new";
    this.renderConnection();
    try {
      await peer.start(await this.publishableTracks());
      this.sendMediaState();
    } catch (error) {
      if (this.peer === peer) this.onPeerError(error);
    }
  }

  onMediaState(state) {
    this.mediaStatus = state;
    this.renderConnection();
    const peer = this.peer;
    if (state === "failed") this.restartPeer();
    if (state === "disconnected") {
      setTimeout(() => this.peer === peer && peer.pc.connectionState === "disconnected" && this.restartPeer(), MEDIA_RECOVERY_MS);
    }
  }

  onPeerError(error) {
    console.warn("media negotiation failed", error);
    if (error.code && !TRANSIENT.has(error.code)) notify(errorMessage(error.code, error.message), "error");
    const peer = this.peer;
    setTimeout(() => this.peer === peer && this.restartPeer(), RETRY_MS);
  }

  restartPeer() {
    if (this.finished || !this.joined || this.snapshot?.you.state === "lobby") return;
    this.dropPeer();
    this.startPeer();
  }

  dropPeer() {
    this.peer?.close();
    this.peer = null;
    this.grid.setRemote(new Map());
  }

  teardown() {
    this.dropPeer();
    this.meter.detach();
    this.media.stop();
    this.signaling?.close();
    // Nothing to go back to on reload: the next visit starts at the device check.
    if (this.invitation.token) sessionStorage.removeItem(invitationKey(this.invitation.token));
  }

  // ------------------------------------------------------------------ test and debug surface

  exposeDebugSurface() {
    window.accord = {
      /** The last `room:state` snapshot (or the join ack's). */
      state: () => this.snapshot,
      /** Per remote seat: `{framesDecoded, totalSamplesReceived, videoPacketsReceived, audioPacketsReceived}`. */
      stats: async () => (this.peer ? this.peer.stats() : {}),
      /** `{signaling, media}` connection states. */
      connection: () => ({ signaling: this.signalingStatus, media: this.mediaStatus, joined: this.joined }),
      /** The mid → seat map last received from the server. */
      tracks: () => this.peer?.tracks ?? [],
    };
  }
}

register(MESSAGES);
new RoomApp().boot();
