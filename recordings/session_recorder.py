"""Records one session of a room: subscribes to each consenting seat's encoded audio and video,
puts every frame on the session clock, cuts segments, hands the writing to the session's writer
thread, and chains and time-stamps what it closes.

**Session clock.** Zero is the moment the session starts (``started_at``); a frame's time is its
*arrival* at the server, smoothed by its own timestamps (:mod:`recordings.session_clock`). No track
is rebased to 0: a participant's audio and video, and all participants, share one timeline.
Arrival differs from capture by the network and jitter-buffer delay (about one video frame, a few
audio packets), which is the same for a participant's two tracks to within tens of milliseconds;
RTCP sender reports would give capture time but aiortc does not expose them on the encoded path.

**Segments.** An audio segment is cut once it is ``segment_seconds`` long. Video can only be cut
at a keyframe: ``keyframe_lead_seconds`` before the cut is due one is requested from the publisher
(again each second until it comes) and the segment is cut at the first keyframe from then on, so a
video segment lasts ``segment_seconds`` minus the lead plus the publisher's response time; without
keyframes it just grows.

**Start of a seat.** Video can only start at a keyframe; the seat's audio waits for it, at most
``av_start_wait_seconds``, so both tracks of a participant start together.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

import av
from pyhanko.sign.timestamps import TimeStamper

from mediation.errors import WrongState

from .manifest import write_manifest
from .mux_worker import DEFAULT_CAPACITY, Cut, Frame, MuxWorker, OpenTrack
from .session_clock import MIN_STEP_US, TrackClock
from .stamps import stamp_head
from .storage import RecordingStorage
from .store import CONSENTED, FINISHED, ClosedSegment, Participant, RecordingStore, SessionInfo, StampInfo, TrackInfo
from .track_writer import CODECS, join_track

log = logging.getLogger(__name__)

KINDS = ("audio", "video")
KEYFRAME_RETRY_US = 1_000_000


class EncodedSource(Protocol):
    """What the recorder needs of :class:`rtc.router.MediaRouter`."""

    def subscribe_encoded(self, publisher_seat: str, kind: str) -> AsyncIterator[av.Packet]: ...

    def request_keyframe(self, publisher_seat: str) -> None: ...


@dataclass(frozen=True)
class RecorderSettings:
    segment_seconds: float = 4.0
    stamp_interval_seconds: float = 60.0
    keyframe_lead_seconds: float = 0.5
    av_start_wait_seconds: float = 1.0
    resync_seconds: float = 0.25
    resync_hold_seconds: float = 2.0
    drain_seconds: float = 2.0
    #: This server node's id (see :func:`recordings.recovery.recover_interrupted`).
    node: str | None = None
    queue_capacity: int = DEFAULT_CAPACITY


@dataclass
class _Track:
    """Loop-side state of one recorded track."""

    info: TrackInfo
    seat: str
    clock: TrackClock
    segment_start_us: int | None = None
    cut_pending: bool = False
    waiting_for_keyframe: bool = True
    keyframe_asked_us: int | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)
    frames: int = 0
    time_base: tuple[int, int] | None = None  # (numerator × 10⁶, denominator) of the packets' pts
    capturing: bool = True


class SessionRecorder:
    def __init__(self, store: RecordingStore, storage: RecordingStorage, timestamper: TimeStamper,
                 session: SessionInfo, source: EncodedSource, settings: RecorderSettings,
                 monotonic: Callable[[], float] = time.monotonic):
        self.store = store
        self.storage = storage
        self.timestamper = timestamper
        self.session = session
        self.settings = settings
        self._source = source
        self._monotonic = monotonic
        self._t0 = monotonic()
        self._tracks: dict[str, _Track] = {}  # by track id
        self._captures: dict[tuple[str, str], asyncio.Task[None]] = {}  # by (seat, kind)
        self._closed: asyncio.Queue[tuple[str, ClosedSegment] | None] = asyncio.Queue()
        self._worker = MuxWorker(storage, session.id, self._segment_closed, self._track_failed,
                                 capacity=settings.queue_capacity)
        self._persister = asyncio.create_task(self._persist())
        self._stamper = asyncio.create_task(self._stamp_periodically())
        self._stamped_position = 0
        self._stopped = False
        self._notes: set[asyncio.Task[None]] = set()
        self._seat_locks: dict[str, asyncio.Lock] = {}

    @classmethod
    async def start(cls, store: RecordingStore, storage: RecordingStorage, timestamper: TimeStamper, *,
                    source: EncodedSource, case_id: str, room_id: str, policy: dict[str, Any],
                    started_by: str | None = None, settings: RecorderSettings | None = None) -> SessionRecorder:
        """Open a session (state ``recording``, audited); no media is written until ``record()``."""
        settings = settings or RecorderSettings()
        session = await store.start_session(case_id, room_id, policy, started_by=started_by, node=settings.node)
        return cls(store, storage, timestamper, session, source, settings)

    @property
    def dropped_frames(self) -> int:
        return self._worker.dropped

    def progress_us(self) -> dict[str, int]:
        """Per recorded track, the session time of the last frame handed to the writer."""
        return {track_id: t.clock.last_us for track_id, t in self._tracks.items() if t.clock.last_us is not None}

    def session_us(self) -> int:
        """Now, on the session clock."""
        return int((self._monotonic() - self._t0) * 1_000_000)

    async def record(self, participant: Participant, kinds: Collection[str] = KINDS) -> list[TrackInfo]:
        """Start writing the seat's tracks of ``kinds`` (those not being written already). Refused
        (``WrongState``) unless the seat's recorded answer is ``consented``: no media of anyone who
        did not consent is written. A track that was stopped (mute) resumes with the next segment
        number, so its segments stay one numbered sequence."""
        async with self._seat_lock(participant.seat):  # record/stop of one seat never interleave
            return await self._record(participant, kinds)

    async def _record(self, participant: Participant, kinds: Collection[str]) -> list[TrackInfo]:
        if self._stopped:
            raise RuntimeError("the recording has stopped")
        seat = participant.seat
        new = [kind for kind in KINDS if kind in kinds and (seat, kind) not in self._captures]
        if new:
            answers = {c.participant.seat: c.answer for c in await self.store.consents(self.session.id)}
            if answers.get(seat) != CONSENTED:
                raise WrongState("consent_missing", "this participant has not consented to the recording")
        tracks: dict[str, _Track] = {}
        for kind in new:
            info = await self.store.add_track(self.session.id, participant, kind, CODECS[kind])
            first_index = max((s.index + 1 for s in await self.store.segments(self.session.id)
                               if s.track_id == info.id), default=0)
            clock = TrackClock(int(self.settings.resync_seconds * 1e6), int(self.settings.resync_hold_seconds * 1e6))
            tracks[kind] = self._tracks[info.id] = _Track(info, seat, clock)
            self._worker.send(OpenTrack(info.id, kind, first_index))
        for kind, track in tracks.items():
            # audio started together with video waits for the first keyframe, so both start together
            companion = tracks.get("video") if kind == "audio" else None
            self._captures[(seat, kind)] = asyncio.create_task(self._capture(track, companion=companion))
        return [t.info for t in self._tracks.values() if t.seat == seat]

    async def stop_participant(self, seat: str, kinds: Collection[str] = KINDS) -> None:
        """Stop writing the seat's tracks of ``kinds`` (consent withdrawn, seat removed, one kind
        muted); their segments are kept."""
        async with self._seat_lock(seat):
            tasks = [self._captures.pop((seat, kind)) for kind in KINDS if kind in kinds and (seat, kind) in self._captures]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for track_id, track in list(self._tracks.items()):
                if track.seat == seat and track.info.kind in kinds:
                    self._worker.send(Cut(track_id, final=True))
                    del self._tracks[track_id]

    def _seat_lock(self, seat: str) -> asyncio.Lock:
        return self._seat_locks.setdefault(seat, asyncio.Lock())

    async def stop(self, note: str = "stopped") -> dict[str, Any]:
        """End the session now: frames made before this moment that are still on their way are
        waited for (``drain_seconds`` at most), then the open segments are committed, each track is
        joined into one file, the session is closed as ``finished``, the final chain head stamped
        and the manifest written (audited)."""
        if self._stopped:
            raise RuntimeError("the recording has already stopped")
        self._stopped = True
        end_us = self.session_us()  # the session ends now, however long writing out then takes
        await self._drain(end_us)
        for seat in list(self._seat_locks):  # also a seat whose record() is under way: it finishes first
            await self.stop_participant(seat)
        await self._worker.stop()
        self._stamper.cancel()
        await asyncio.gather(self._stamper, return_exceptions=True)
        await self._closed.put(None)
        await self._persister
        await asyncio.gather(*self._notes, return_exceptions=True)
        return await finalise(self.store, self.storage, self.timestamper, self.session.id, state=FINISHED,
                              end_us=end_us, note=note)

    async def _drain(self, end_us: int) -> None:
        """Let frames made before the stop but still on their way (socket, jitter buffer, a busy
        loop) arrive: until every flowing track has reached ``end_us``, at most ``drain_seconds``."""
        deadline = self._monotonic() + self.settings.drain_seconds
        while self._monotonic() < deadline:
            behind = [t for t in self._tracks.values() if t.capturing and t.clock.last_us is not None
                      and t.clock.last_us < end_us - MIN_STEP_US]
            if not behind:
                return
            await asyncio.sleep(0.02)

    # --- capture (event loop: cheap arithmetic only) ----------------------------------------

    async def _capture(self, track: _Track, companion: _Track | None) -> None:
        kind = track.info.kind
        wait_until_us = self.session_us() + int(self.settings.av_start_wait_seconds * 1_000_000)
        try:
            async for packet in self._source.subscribe_encoded(track.seat, kind):
                now_us = self.session_us()
                if companion is not None and not companion.started.is_set() and now_us < wait_until_us:
                    continue  # the seat's audio starts with its video
                self._take(track, packet, now_us)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("recording capture of %s %s failed", track.seat, kind)
        finally:
            track.capturing = False  # the source ended (room closed): nothing more will come

    def _take(self, track: _Track, packet: av.Packet, now_us: int) -> None:
        video = track.info.kind == "video"
        keyframe = bool(packet.is_keyframe)  # the tap checks the VP8 start code (rtc.aiortc_hooks)
        if track.time_base is None:  # the tap keeps one time base per track: read it once (Fraction math is slow)
            base = packet.time_base or Fraction(1, 90_000)
            track.time_base = (base.numerator * 1_000_000, base.denominator)
        pts_us = (packet.pts or 0) * track.time_base[0] // track.time_base[1]
        at_us = track.clock.place(pts_us, now_us)
        segment_us = int(self.settings.segment_seconds * 1_000_000)
        if video and track.waiting_for_keyframe:
            if not keyframe:
                self._ask_keyframe(track, at_us)
                return
            track.waiting_for_keyframe = False
            track.cut_pending = True
        elif track.segment_start_us is None:
            track.cut_pending = True
        else:
            elapsed = at_us - track.segment_start_us
            if video:
                due = elapsed >= segment_us - int(self.settings.keyframe_lead_seconds * 1_000_000)
                if due and keyframe:
                    track.cut_pending = True  # the keyframe asked for (or any) once the cut is near
                elif due:
                    self._ask_keyframe(track, at_us)
            elif elapsed >= segment_us:
                track.cut_pending = True
        frame = Frame(track.info.id, packet, at_us, keyframe, starts_segment=track.cut_pending)
        if not self._worker.offer(frame):
            if video:  # what follows a lost video frame does not decode until a keyframe
                track.waiting_for_keyframe = True
                self._ask_keyframe(track, at_us)
            return
        if track.cut_pending:
            track.cut_pending = False
            track.segment_start_us = at_us
            track.keyframe_asked_us = None
        track.clock.commit(at_us)
        track.frames += 1
        track.started.set()

    def _ask_keyframe(self, track: _Track, at_us: int) -> None:
        if track.keyframe_asked_us is None or at_us - track.keyframe_asked_us >= KEYFRAME_RETRY_US:
            track.keyframe_asked_us = at_us
            self._source.request_keyframe(track.seat)

    # --- persistence (event loop, one segment at a time: the chain follows close order) -----

    def _segment_closed(self, track_id: str, closed: ClosedSegment) -> None:
        self._closed.put_nowait((track_id, closed))

    def _track_failed(self, track_id: str, reason: str) -> None:
        self._tracks.pop(track_id, None)
        task = asyncio.create_task(self.store.add_note(self.session.id, {"track": track_id, "failed": reason}))
        self._notes.add(task)
        task.add_done_callback(self._notes.discard)

    async def _persist(self) -> None:
        while (item := await self._closed.get()) is not None:
            track_id, closed = item
            try:
                await self.store.add_segment(track_id, closed)
            except Exception:
                log.exception("recording segment %s could not be stored", closed.path)

    async def _stamp_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.settings.stamp_interval_seconds)
            position, head = await self.store.chain_head(self.session.id)
            if position > self._stamped_position:
                if await stamp_and_store(self.store, self.timestamper, self.session.id, position, head, final=False):
                    self._stamped_position = position


async def stamp_and_store(store: RecordingStore, timestamper: TimeStamper, session_id: str, position: int,
                          head: str, *, final: bool) -> bool:
    """Time-stamp a chain head and keep the token; a TSA failure is noted on the session, not raised."""
    try:
        token, at = await stamp_head(timestamper, head)
    except Exception as exc:
        log.error("time stamp of recording %s failed: %s", session_id, exc)
        await store.add_note(session_id, {"stamp_failed": str(exc), "position": position})
        return False
    await store.add_stamp(session_id, StampInfo(position, head, token, at, final))
    return True


async def finalise(store: RecordingStore, storage: RecordingStorage, timestamper: TimeStamper, session_id: str, *,
                   state: str, end_us: int, note: str | dict[str, Any]) -> dict[str, Any]:
    """Close a session whose segments are all stored: join tracks, end it, final stamp, manifest."""
    segments = await store.segments(session_id)
    for track in await store.tracks(session_id):
        keys = [s.path for s in segments if s.track_id == track.id]
        if not keys:
            continue
        try:
            joined = await asyncio.to_thread(join_track, storage, session_id, track.id, track.kind, keys)
        except (av.FFmpegError, OSError) as exc:  # the segments stand on their own; the session still closes
            log.error("joining track %s failed: %s", track.id, exc)
            await store.add_note(session_id, {"track": track.id, "join_failed": str(exc)})
            continue
        if joined is not None:
            await store.set_joined(track.id, *joined)
    await store.finish(session_id, state=state, end_us=end_us, note=note)
    position, head = await store.chain_head(session_id)
    await stamp_and_store(store, timestamper, session_id, position, head, final=True)
    return await write_manifest(store, storage, session_id)
