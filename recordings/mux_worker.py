"""The writer thread of one recording session: every track's muxing and file I/O, in order.

The event loop only ``offer()``s frames (never blocks: when ``capacity`` frames wait, the frame is
dropped and counted) and ``send()``s control messages (never dropped, in order with the frames).
One thread per session keeps the work of a room on one core and segment closes in order. Frames
cross to the thread in batches (every ``BATCH_SECONDS`` or ``BATCH_FRAMES``): waking a thread per
frame costs more than muxing the frame (a GIL hand-over each time).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

import av

from .storage import RecordingStorage
from .store import ClosedSegment
from .track_writer import TrackWriter

log = logging.getLogger(__name__)

#: Frames queued for the writer at most (about 10 s of two tracks of four people).
DEFAULT_CAPACITY = 4000
BATCH_SECONDS = 0.1
BATCH_FRAMES = 64


@dataclass(frozen=True)
class Frame:
    """``packet`` is the consumer's own copy (the tap gives each subscriber one): the writer
    retimes and muxes it as it is, without copying its bytes again."""

    track_id: str
    packet: av.Packet
    pts_us: int
    keyframe: bool
    starts_segment: bool = False  # commit the open segment first


@dataclass(frozen=True)
class OpenTrack:
    """Start (or resume) writing a track; segment numbers continue after ``first_index`` and after
    any segment this worker already gave the track (a resumed track's last close may not have
    reached the database yet)."""

    track_id: str
    kind: str
    first_index: int


@dataclass(frozen=True)
class Cut:
    """Commit the track's open segment; ``final`` also forgets the track."""

    track_id: str
    final: bool = False


_STOP = object()


class MuxWorker:
    def __init__(self, storage: RecordingStorage, session_id: str,
                 on_closed: Callable[[str, ClosedSegment], None], on_failed: Callable[[str, str], None], *,
                 capacity: int = DEFAULT_CAPACITY):
        """``on_closed(track_id, segment)`` and ``on_failed(track_id, reason)`` are called on the loop."""
        self._storage = storage
        self._session_id = session_id
        self._on_closed = on_closed
        self._on_failed = on_failed
        self._capacity = capacity
        self._queue: queue.Queue[object] = queue.Queue()  # bounded for frames by ``offer``
        self._writers: dict[str, TrackWriter] = {}
        self._next_index: dict[str, int] = {}  # of tracks stopped, should they resume
        self._loop = asyncio.get_running_loop()
        self._batch: list[Frame] = []
        self._flush_timer: asyncio.TimerHandle | None = None
        self._offered = 0  # written by the loop only
        self._written = 0  # written by the thread only
        self._thread = threading.Thread(target=self._run, name=f"recording-{session_id}", daemon=True)
        self.dropped = 0
        self._thread.start()

    def offer(self, frame: Frame) -> bool:
        """Queue a frame for writing; ``False`` (and counted) when the writer is behind."""
        if self._offered - self._written >= self._capacity:
            self.dropped += 1
            return False
        self._offered += 1
        self._batch.append(frame)
        if len(self._batch) >= BATCH_FRAMES:
            self._flush()
        elif self._flush_timer is None:
            self._flush_timer = self._loop.call_later(BATCH_SECONDS, self._flush)
        return True

    def send(self, message: OpenTrack | Cut) -> None:
        self._flush()
        self._queue.put_nowait(message)

    async def stop(self) -> None:
        """Commit every open segment and end the thread."""
        self._flush()
        self._queue.put_nowait(_STOP)
        await asyncio.to_thread(self._thread.join)

    def _flush(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        if self._batch:
            batch, self._batch = self._batch, []
            self._queue.put_nowait(batch)

    def _run(self) -> None:
        while (message := self._queue.get()) is not _STOP:
            if isinstance(message, list):
                for frame in message:
                    self._dispatch(frame)
                self._written += len(message)
            else:
                self._dispatch(message)
        for track_id in list(self._writers):
            self._dispatch(Cut(track_id, final=True))

    def _dispatch(self, message: object) -> None:
        track_id = message.track_id  # type: ignore[attr-defined]
        try:
            self._handle(message)
        except Exception as exc:  # the thread must live on for the other tracks
            log.exception("recording track %s failed", track_id)
            writer = self._writers.pop(track_id, None)
            if writer is not None:
                writer.abandon()
            self._loop.call_soon_threadsafe(self._on_failed, track_id, str(exc))

    def _handle(self, message: object) -> None:
        if isinstance(message, Frame):
            writer = self._writers.get(message.track_id)
            if writer is None:
                return
            if message.starts_segment:
                self._committed(message.track_id, writer.cut())
            writer.write(message.packet, message.pts_us, message.keyframe)
        elif isinstance(message, OpenTrack):
            if message.track_id not in self._writers:
                first = max(message.first_index, self._next_index.get(message.track_id, 0))
                self._writers[message.track_id] = TrackWriter(self._storage, self._session_id, message.track_id,
                                                              message.kind, first)
        elif isinstance(message, Cut):
            writer = self._writers.get(message.track_id)
            if writer is None:
                return
            self._committed(message.track_id, writer.cut())
            if message.final:
                del self._writers[message.track_id]
                self._next_index[message.track_id] = writer.next_index

    def _committed(self, track_id: str, closed: ClosedSegment | None) -> None:
        if closed is not None:
            self._loop.call_soon_threadsafe(self._on_closed, track_id, closed)
