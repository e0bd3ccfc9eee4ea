// Camera and microphone: opening them, choosing among several, a level meter for the check
// before joining, and the on/off switches. The participant's own switch and the mediator's mute
// are kept apart so that lifting the mediator's mute restores what the participant had chosen.

const STORAGE_KEY = "accord.devices";

/** The words for each DOMException getUserMedia throws (the room's message table), so a Chinese
 * page never shows the browser's own English; the browser's text goes to the console only. */
const FAILURES = {
  NotAllowedError: "devices.denied",
  SecurityError: "devices.blocked",
  NotFoundError: "devices.notFound",
  OverconstrainedError: "devices.unsupported",
  NotReadableError: "devices.busy",
  AbortError: "devices.aborted",
};

/** Why the devices could not be opened, as an i18n key of the room's table. */
export function deviceFailureKey(error) {
  if (!window.isSecureContext || !navigator.mediaDevices) return "devices.insecure";
  if (error) console.warn("camera/microphone:", error.name, error.message);
  return FAILURES[error?.name] ?? "devices.failed";
}

function loadChoice() {
  try {
    return JSON.parse(localStorage.getItem(STORAGE_KEY) || "{}");
  } catch {
    return {};
  }
}

export class LocalMedia {
  constructor() {
    const saved = loadChoice();
    this.deviceIds = { audio: saved.audio || null, video: saved.video || null };
    this.tracks = { audio: null, video: null };
    this.wanted = { audio: true, video: true };
    this.forcedOff = { audio: false, video: false };
    this.listeners = new Set();
  }

  /**
   * Open camera and microphone (the saved choice if still present).
   * @returns {Promise<{ok: boolean, errorKey: string|null}>}
   */
  async open() {
    if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
      return { ok: false, errorKey: "devices.insecure" };
    }
    let lastError = null;
    // Try both, then each alone: a machine without a camera can still join with a microphone.
    for (const kinds of [["audio", "video"], ["audio"], ["video"]]) {
      try {
        const stream = await navigator.mediaDevices.getUserMedia(this.constraints(kinds));
        for (const track of stream.getTracks()) this.adopt(track.kind, track);
        return { ok: true, errorKey: lastError ? deviceFailureKey(lastError) : null };
      } catch (error) {
        lastError = lastError ?? error;
        if (error.name === "NotAllowedError" || error.name === "SecurityError") break;
      }
    }
    return { ok: false, errorKey: deviceFailureKey(lastError) };
  }

  /** Switch `kind` to another device; returns the new track (already switched on or off as before). */
  async choose(kind, deviceId) {
    const stream = await navigator.mediaDevices.getUserMedia(this.constraints([kind], { [kind]: deviceId }));
    const track = stream.getTracks().find((t) => t.kind === kind);
    this.adopt(kind, track);
    this.deviceIds[kind] = deviceId;
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(this.deviceIds));
    } catch {
      // The choice just is not remembered.
    }
    return track;
  }

  /** The cameras and microphones the browser reports (labels appear once permission is granted). */
  async list() {
    const devices = navigator.mediaDevices ? await navigator.mediaDevices.enumerateDevices() : [];
    return {
      audio: devices.filter((d) => d.kind === "audioinput"),
      video: devices.filter((d) => d.kind === "videoinput"),
    };
  }

  /** The participant's own switch. */
  setWanted(kind, on) {
    this.wanted[kind] = on;
    this.apply();
  }

  /** The mediator's mute: while set, the participant cannot switch `kind` back on. */
  setForcedOff(kind, off) {
    this.forcedOff[kind] = off;
    this.apply();
  }

  isOn(kind) {
    return Boolean(this.tracks[kind]) && this.wanted[kind] && !this.forcedOff[kind];
  }

  stream() {
    return new MediaStream(Object.values(this.tracks).filter(Boolean));
  }

  onChange(listener) {
    this.listeners.add(listener);
  }

  stop() {
    for (const track of Object.values(this.tracks)) track?.stop();
    this.tracks = { audio: null, video: null };
  }

  // ------------------------------------------------------------------ internals

  constraints(kinds, override = {}) {
    const out = { audio: false, video: false };
    for (const kind of kinds) {
      const id = override[kind] ?? this.deviceIds[kind];
      const base = kind === "video" ? { width: { ideal: 640 }, height: { ideal: 480 } } : { echoCancellation: true };
      out[kind] = id ? { ...base, deviceId: { exact: id } } : base;
    }
    return out;
  }

  adopt(kind, track) {
    if (this.tracks[kind] && this.tracks[kind] !== track) this.tracks[kind].stop();
    this.tracks[kind] = track;
    const settings = track.getSettings?.() ?? {};
    if (settings.deviceId) this.deviceIds[kind] = settings.deviceId;
    this.apply();
  }

  apply() {
    for (const kind of ["audio", "video"]) {
      const track = this.tracks[kind];
      if (track) track.enabled = this.wanted[kind] && !this.forcedOff[kind];
    }
    for (const listener of this.listeners) listener();
  }
}

/** Fill a <select> with devices of one kind and call `onPick(deviceId)` when the choice changes. */
export function bindDeviceSelect(select, devices, currentId, noneLabel, onPick) {
  select.replaceChildren();
  if (devices.length === 0) {
    select.append(new Option(noneLabel, ""));
    select.disabled = true;
    return;
  }
  select.disabled = false;
  devices.forEach((device, index) => {
    select.append(new Option(device.label || `${select.dataset.kind} ${index + 1}`, device.deviceId));
  });
  if (currentId) select.value = currentId;
  select.onchange = () => onPick(select.value);
}

/** A microphone level bar: the width of `bar` follows the RMS level of `track`. */
export class LevelMeter {
  constructor(bar) {
    this.bar = bar;
    this.context = null;
    this.frame = 0;
  }

  attach(track) {
    this.detach();
    if (!track) return;
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    this.context = new Context();
    const source = this.context.createMediaStreamSource(new MediaStream([track]));
    const analyser = this.context.createAnalyser();
    analyser.fftSize = 512;
    source.connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const draw = () => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const v of samples) sum += v * v;
      const rms = Math.sqrt(sum / samples.length);
      this.bar.style.width = `${Math.min(100, Math.round(rms * 300))}%`;
      this.frame = requestAnimationFrame(draw);
    };
    draw();
  }

  detach() {
    cancelAnimationFrame(this.frame);
    this.context?.close();
    this.context = null;
    this.bar.style.width = "0%";
  }
}
