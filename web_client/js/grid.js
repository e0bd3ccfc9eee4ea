// The video grid: one tile per participant we can currently see, our own camera first.
// Tiles show name, part in the case (or role and side), microphone/camera state, the mediator's mute, a
// "reconnecting" overlay, and a highlight on whoever is speaking. User-provided text is only
// ever set through textContent.

import { castLabels, muteBadges } from "./cast.js";
import { t } from "./i18n.js";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Who shares our media partition: during a caucus only those on the same side of it. */
export function visibleTogether(me, other, caucus) {
  if (!caucus) return true;
  return Boolean(me.in_caucus) === Boolean(other.in_caucus);
}

export class VideoGrid {
  constructor(container, { onAutoplayBlocked }) {
    this.container = container;
    this.onAutoplayBlocked = onAutoplayBlocked;
    this.tiles = new Map(); // seat -> {root, video, name, badges, overlay, trackIds}
    this.remote = new Map(); // seat -> {audio, video}
    this.selfSeat = null;
    this.selfStream = null;
    this.soundBlocked = false;
    this.speaker = null;
    this.snapshot = null;
  }

  /** Re-draw from a room snapshot. */
  render(snapshot) {
    this.snapshot = snapshot;
    const me = snapshot.you;
    this.selfSeat = me.seat;
    const people = [{ ...me, ...(snapshot.participants.find((p) => p.seat === me.seat) ?? {}), self: true }];
    for (const p of snapshot.participants) {
      if (p.seat === me.seat || p.state === "lobby") continue;
      if (!visibleTogether(me, p, snapshot.caucus)) continue;
      people.push(p);
    }
    const keep = new Set(people.map((p) => p.seat));
    for (const [seat, tile] of this.tiles) {
      if (!keep.has(seat)) {
        tile.root.remove();
        this.tiles.delete(seat);
      }
    }
    for (const person of people) this.drawTile(person);
    this.container.dataset.count = String(people.length);
    this.attachAll();
  }

  setSelf(stream) {
    this.selfStream = stream;
    this.attachAll();
  }

  /** seat -> {audio, video} remote tracks from the peer connection. */
  setRemote(remote) {
    this.remote = remote;
    this.attachAll();
  }

  setActiveSpeaker(seat) {
    this.speaker = seat;
    for (const [tileSeat, tile] of this.tiles) tile.root.classList.toggle("speaking", tileSeat === seat);
  }

  /** After a click on "enable sound": autoplay with sound is allowed from a user gesture. */
  enableSound() {
    this.soundBlocked = false;
    for (const [seat, tile] of this.tiles) {
      if (seat === this.selfSeat) continue;
      tile.video.muted = false;
      tile.video.play().catch(() => {});
    }
  }

  // ------------------------------------------------------------------ internals

  drawTile(person) {
    let tile = this.tiles.get(person.seat);
    if (!tile) {
      const root = el("div", "tile");
      root.dataset.seat = person.seat;
      const video = el("video");
      video.autoplay = true;
      video.playsInline = true;
      if (person.self) {
        video.muted = true;
        root.classList.add("self");
      }
      const overlay = el("div", "tile-overlay");
      const footer = el("div", "tile-footer");
      const name = el("span", "tile-name");
      const badges = el("span", "tile-badges");
      footer.append(name, badges);
      root.append(video, overlay, footer);
      tile = { root, video, name, badges, overlay, trackIds: "" };
      this.tiles.set(person.seat, tile);
    }
    // Keep our own tile first, the others in snapshot order.
    this.container.append(tile.root);
    tile.name.textContent = person.self ? `${person.name} (${t("tile.you")})` : person.name;
    const muted = person.muted_by_mediator ?? { audio: false, video: false };
    const [cast, ...more] = castLabels(person); // a case role names the side itself: one badge in the side's colour
    const sideClass = person.side ? ` side-${person.side}` : "";
    const badges = [el("span", `badge role-${person.role}${more.length > 0 ? "" : sideClass}`, cast)];
    if (more.length > 0) badges.push(el("span", `badge${sideClass}`, more.join(" ")));
    badges.push(...muteBadges(person).map(({ kind, key }) => el("span", `badge ${kind}`, t(key))));
    tile.badges.replaceChildren(...badges);
    let overlay = "";
    if (person.state === "reconnecting") overlay = t("tile.reconnecting");
    else if (muted.video) overlay = t("tile.videoOffByMediator");
    else if (person.video === false) overlay = t("tile.noVideo");
    tile.overlay.textContent = overlay;
    tile.root.classList.toggle("has-overlay", overlay !== "");
    tile.root.classList.toggle("reconnecting", person.state === "reconnecting");
    tile.root.classList.toggle("speaking", person.seat === this.speaker);
  }

  attachAll() {
    for (const [seat, tile] of this.tiles) {
      if (seat === this.selfSeat) {
        const track = this.selfStream?.getVideoTracks()[0];
        this.attach(tile, track ? [track] : []);
      } else {
        const tracks = this.remote.get(seat) ?? {};
        this.attach(tile, [tracks.video, tracks.audio].filter(Boolean));
      }
    }
  }

  attach(tile, tracks) {
    const ids = tracks.map((track) => track.id).join(",");
    if (ids === tile.trackIds) return;
    tile.trackIds = ids;
    tile.video.srcObject = tracks.length ? new MediaStream(tracks) : null;
    if (!tracks.length) return;
    if (tile.root.dataset.seat !== this.selfSeat && this.soundBlocked) tile.video.muted = true;
    tile.video.play().catch((error) => {
      if (error.name !== "NotAllowedError") return;
      // Autoplay with sound refused (no user gesture yet, e.g. after a reload): play muted
      // and ask for a click.
      this.soundBlocked = true;
      tile.video.muted = true;
      tile.video.play().catch(() => {});
      this.onAutoplayBlocked();
    });
  }
}
