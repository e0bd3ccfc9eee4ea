// The one RTCPeerConnection between this browser and the server's media router.
//
// The browser publishes on two transceivers (audio, video) created up front, so later changes
// (device switch, an observer being allowed to speak) are a replaceTrack, never a renegotiation.
// Everything else is the server's business: it re-offers when people come, go or move into a
// caucus, and tells us which participant each receiving transceiver (by mid) carries.
//
// aiortc does not trickle ICE, so every SDP we send waits for ICE gathering to complete.
// Offers and answers run one at a time through a queue; the browser is the polite peer: if the
// server refuses our offer with `glare`, we roll back, answer the server's offer, then retry.
// Our offers keep the browser's own codec and header-extension numbering: the server's
// re-offers and answers reuse it (docs/protocol.md, "Codecs and numbering").

const GATHER_TIMEOUT_MS = 4000;
const GLARE_RETRIES = 5;

export class PeerLink {
  /**
   * @param {object} opts
   * @param {import("./signaling.js").Signaling} opts.signaling
   * @param {RTCIceServer[]} opts.iceServers
   * @param {(remote: Map<string, {audio?: MediaStreamTrack, video?: MediaStreamTrack}>) => void} opts.onRemote
   *   called whenever the seat → tracks mapping may have changed
   * @param {(state: RTCPeerConnectionState) => void} opts.onConnectionState
   * @param {(error: Error) => void} opts.onError
   */
  constructor({ signaling, iceServers, onRemote, onConnectionState, onError }) {
    this.signaling = signaling;
    this.onRemote = onRemote;
    this.onError = onError;
    this.tracks = [];
    this.closed = false;
    this.negotiated = false; // our first offer has been answered
    this.queue = Promise.resolve();
    this.pc = new RTCPeerConnection({ iceServers: iceServers || [], bundlePolicy: "max-bundle" });
    this.pc.addEventListener("track", () => this.emitRemote());
    this.pc.addEventListener("connectionstatechange", () => onConnectionState(this.pc.connectionState));
    this.audio = this.pc.addTransceiver("audio", { direction: "sendrecv" });
    this.video = this.pc.addTransceiver("video", { direction: "sendrecv" });
  }

  /** Put our camera/microphone (or nothing) on the publishing transceivers and make the first offer. */
  async start({ audio = null, video = null } = {}) {
    await this.setLocalTrack("audio", audio);
    await this.setLocalTrack("video", video);
    return this.enqueue(() => this.offer(true, 0));
  }

  /** Swap what we publish without renegotiating (device change, permission to speak). */
  async setLocalTrack(kind, track) {
    const transceiver = kind === "audio" ? this.audio : this.video;
    await transceiver.sender.replaceTrack(track);
  }

  /**
   * A server `rtc:offer`: answer it (rolling back our own offer if one is outstanding).
   * Offers arriving before our first offer is answered belong to the server's previous peer
   * connection for this seat, which our `reset: true` offer replaces: they are ignored.
   */
  handleServerOffer({ sdp, tracks }) {
    return this.enqueue(async () => {
      if (!this.negotiated) return;
      if (this.pc.signalingState !== "stable") await this.pc.setLocalDescription({ type: "rollback" });
      await this.pc.setRemoteDescription({ type: "offer", sdp });
      await this.pc.setLocalDescription();
      await this.gathered();
      if (this.closed) return;
      this.setTracks(tracks);
      await this.signaling.request("rtc:answer", { sdp: this.pc.localDescription.sdp });
    });
  }

  /** A server `rtc:tracks`: the mid → seat mapping changed without renegotiation. */
  setTracks(tracks) {
    if (Array.isArray(tracks)) this.tracks = tracks;
    this.emitRemote();
  }

  close() {
    this.closed = true;
    this.pc.close();
  }

  /** Per remote seat counters from getStats(): proof that media actually arrives and decodes. */
  async stats() {
    const report = await this.pc.getStats();
    const midOfTrack = new Map();
    for (const t of this.pc.getTransceivers()) {
      if (t.mid !== null && t.receiver.track) midOfTrack.set(t.receiver.track.id, t.mid);
    }
    const seatOfMid = new Map(this.tracks.map((t) => [t.mid, t.seat]));
    const out = {};
    report.forEach((s) => {
      if (s.type !== "inbound-rtp") return;
      const mid = s.mid ?? midOfTrack.get(s.trackIdentifier);
      const seat = seatOfMid.get(mid);
      if (!seat) return;
      const entry = (out[seat] ??= {
        framesDecoded: 0,
        totalSamplesReceived: 0,
        videoPacketsReceived: 0,
        audioPacketsReceived: 0,
      });
      if (s.kind === "video") {
        entry.framesDecoded += s.framesDecoded ?? 0;
        entry.videoPacketsReceived += s.packetsReceived ?? 0;
      } else if (s.kind === "audio") {
        entry.totalSamplesReceived += s.totalSamplesReceived ?? 0;
        entry.audioPacketsReceived += s.packetsReceived ?? 0;
      }
    });
    return out;
  }

  // ------------------------------------------------------------------ internals

  /** Run `task` after every earlier one; a failure goes to `onError` (once) and never stops the queue. */
  enqueue(task) {
    this.queue = this.queue
      .then(() => (this.closed ? undefined : task()))
      .catch((error) => {
        if (!this.closed) this.onError(error);
      });
    return this.queue;
  }

  async offer(reset, attempt) {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await this.gathered();
    if (this.closed) return;
    let ack;
    try {
      ack = await this.signaling.request("rtc:offer", { sdp: this.pc.localDescription.sdp, reset });
    } catch (error) {
      if (error.code !== "glare" || attempt >= GLARE_RETRIES || this.closed) throw error;
      // Polite peer: drop our offer, let the queued server offer through, then try again.
      await this.pc.setLocalDescription({ type: "rollback" });
      this.enqueue(() => this.offer(reset, attempt + 1));
      return;
    }
    if (this.closed) return;
    await this.pc.setRemoteDescription({ type: "answer", sdp: ack.sdp });
    this.negotiated = true;
    this.setTracks(ack.tracks);
  }

  gathered() {
    const pc = this.pc;
    if (pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        pc.removeEventListener("icegatheringstatechange", check);
        clearTimeout(timer);
        resolve();
      };
      const check = () => {
        if (pc.iceGatheringState === "complete") finish();
      };
      // With a STUN/TURN server that does not answer, send what we have rather than hang.
      const timer = setTimeout(finish, GATHER_TIMEOUT_MS);
      pc.addEventListener("icegatheringstatechange", check);
    });
  }

  emitRemote() {
    const remote = new Map();
    const bymid = new Map(this.pc.getTransceivers().filter((t) => t.mid !== null).map((t) => [t.mid, t]));
    for (const { mid, seat, kind } of this.tracks) {
      const transceiver = bymid.get(mid);
      if (!transceiver || !transceiver.receiver.track) continue;
      const entry = remote.get(seat) ?? {};
      entry[kind] = transceiver.receiver.track;
      remote.set(seat, entry);
    }
    this.onRemote(remote);
  }
}
