// The Socket.IO connection to the server. Every request is an acknowledged emit that either
// resolves with the ack or rejects with a SignalingError carrying the protocol's error code.

import * as socketio from "/vendor/socket.io.js";

// The server may serve the ESM build (exports `io`) or the UMD build (sets `globalThis.io`).
const io = socketio.io ?? socketio.default ?? globalThis.io;

export const REQUEST_TIMEOUT_MS = 10000;

export class SignalingError extends Error {
  constructor(code, message) {
    super(message || code);
    this.name = "SignalingError";
    this.code = code;
  }
}

/**
 * Connection-level events are delivered through `onStatus(status)` with status
 * `connecting | connected | reconnecting | offline`; Socket.IO reconnects by itself and the
 * app re-joins on every `connected` after the first.
 */
export class Signaling {
  constructor({ onStatus }) {
    this.onStatus = onStatus;
    this.socket = io({
      path: "/socket.io",
      transports: ["websocket", "polling"],
      reconnectionDelay: 500,
      reconnectionDelayMax: 4000,
      autoConnect: false,
    });
    this.socket.on("connect", () => this.onStatus("connected"));
    this.socket.on("disconnect", (reason) => {
      // Socket.IO retries by itself except after an explicit close by either side.
      const closed = reason === "io client disconnect" || reason === "io server disconnect";
      this.onStatus(closed ? "offline" : "reconnecting");
    });
    this.socket.io.on("reconnect_attempt", () => this.onStatus("reconnecting"));
    this.socket.on("connect_error", () => this.onStatus("reconnecting"));
  }

  connect() {
    this.onStatus("connecting");
    this.socket.connect();
  }

  get connected() {
    return this.socket.connected;
  }

  on(event, handler) {
    this.socket.on(event, handler);
  }

  /** Emit `event` with `payload`; resolve with the ack, or reject with a SignalingError. */
  request(event, payload = {}, timeoutMs = REQUEST_TIMEOUT_MS) {
    return new Promise((resolve, reject) => {
      if (!this.socket.connected) {
        reject(new SignalingError("offline", "not connected"));
        return;
      }
      this.socket.timeout(timeoutMs).emit(event, payload, (err, ack) => {
        if (err) {
          reject(new SignalingError("timeout", `${event}: no answer within ${timeoutMs} ms`));
        } else if (!ack || typeof ack !== "object") {
          reject(new SignalingError("bad_ack", `${event}: malformed acknowledgement`));
        } else if (!ack.ok) {
          const error = ack.error || {};
          reject(new SignalingError(error.code || "unknown", error.message || ""));
        } else {
          resolve(ack);
        }
      });
    });
  }

  close() {
    this.socket.disconnect();
  }
}
