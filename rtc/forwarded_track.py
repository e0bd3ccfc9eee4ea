"""A track that re-sends encoded frames from whichever publisher currently feeds it.

aiortc's sender packs whatever ``recv()`` returns when it is not a decoded frame, so
returning ``av.Packet``s forwards without re-encoding. The queue is bounded (a slow
subscriber costs a few frames, never memory); timestamps are rewritten onto the track's own
monotonic timeline because the source changes (another publisher takes the slot, the same
one reconnects, a pause ends) and aiortc/libvpx stop a sender for good when pts go back.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack, convert_timebase

CLOCK_RATES = {"audio": 48000, "video": 90000}
DEFAULT_CAPACITY = {"audio": 25, "video": 15}
# A keyframe request can be lost, or merged by the publisher's encoder with an earlier one
# whose keyframe arrived before this track resumed: ask again while still waiting.
KEYFRAME_RETRY_INTERVAL = 1.0  # seconds


@dataclass
class ForwardingCounters:
    """Shared by every track of one router."""

    frames_forwarded: int = 0
    bytes_forwarded: int = 0  # payload of the forwarded frames (RTP headers not counted)
    frames_dropped: int = 0


class ForwardedTrack(MediaStreamTrack):
    """One subscriber's copy of one publisher track.

    The router ``push()``es every frame of the current source; ``recv()`` hands them to
    aiortc's sender. While paused it yields nothing: the subscriber sees a frozen picture
    and silence rather than black frames we would have to encode.
    """

    def __init__(
        self,
        kind: str,
        *,
        on_keyframe_needed: Callable[[], None],
        counters: ForwardingCounters | None = None,
        capacity: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        if kind not in CLOCK_RATES:
            raise ValueError(f"unknown media kind {kind!r}")
        self.kind = kind
        self._time_base = Fraction(1, CLOCK_RATES[kind])
        self._capacity = capacity or DEFAULT_CAPACITY[kind]
        self._on_keyframe_needed = on_keyframe_needed
        self._counters = counters or ForwardingCounters()
        self._queue: deque[tuple[av.Packet, int]] = deque()
        self._ready = asyncio.Event()
        self._paused = True
        self._waiting_for_keyframe = kind == "video"
        self._clock = clock
        self._keyframe_asked_at = -KEYFRAME_RETRY_INTERVAL
        # Timeline: output pts = _out_origin + (input pts - _in_origin), in self._time_base.
        self._in_origin: int | None = None
        self._out_origin = 0
        self._last_out_pts: int | None = None
        self._last_out_wall = 0.0

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        """Stop forwarding; what is queued is discarded (it would arrive stale)."""
        if not self._paused:
            self._paused = True
            self._restart_timeline()

    def resume(self) -> None:
        """Forward again; video waits for the next keyframe (the caller requests one)."""
        self._paused = False
        self._keyframe_asked_at = self._clock()

    def switch_source(self) -> None:
        """The frames that follow come from another source, with an unrelated pts origin."""
        self._restart_timeline()

    def push(self, packet: av.Packet) -> None:
        """Queue one encoded frame from the current source (called on the event loop)."""
        if self._paused or self.readyState != "live":
            return
        if packet.is_corrupt and not self._waiting_for_keyframe:
            # frames were lost upstream: what follows is undecodable until a keyframe
            self._waiting_for_keyframe = True
            self._ask_for_keyframe()
        if self._waiting_for_keyframe:
            if not packet.is_keyframe:
                self._counters.frames_dropped += 1
                if self._clock() - self._keyframe_asked_at >= KEYFRAME_RETRY_INTERVAL:
                    self._ask_for_keyframe()
                return
            self._waiting_for_keyframe = False
        if len(self._queue) >= self._capacity:
            self._overflow()
            if self._waiting_for_keyframe:
                # Everything after a lost video frame is undecodable until a keyframe.
                self._counters.frames_dropped += 1
                return
        self._queue.append((packet, self._rewrite_pts(packet)))
        self._ready.set()

    async def recv(self) -> av.Packet:  # type: ignore[override]
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            if self._queue:
                source, pts = self._queue.popleft()
                packet = av.Packet(bytes(source))
                packet.pts = pts
                packet.time_base = self._time_base
                packet.is_keyframe = source.is_keyframe
                self._counters.frames_forwarded += 1
                self._counters.bytes_forwarded += packet.size
                return packet
            self._ready.clear()
            await self._ready.wait()

    def stop(self) -> None:
        super().stop()
        self._queue.clear()
        self._ready.set()

    def _overflow(self) -> None:
        if self.kind == "video":
            self._counters.frames_dropped += len(self._queue)
            self._queue.clear()
            self._waiting_for_keyframe = True
            self._ask_for_keyframe()
        else:
            self._queue.popleft()
            self._counters.frames_dropped += 1

    def _ask_for_keyframe(self) -> None:
        self._keyframe_asked_at = self._clock()
        self._on_keyframe_needed()

    def _restart_timeline(self) -> None:
        self._counters.frames_dropped += len(self._queue)
        self._queue.clear()
        self._in_origin = None
        self._waiting_for_keyframe = self.kind == "video"

    def _rewrite_pts(self, packet: av.Packet) -> int:
        pts = packet.pts or 0
        if packet.time_base is not None and packet.time_base != self._time_base:
            pts = convert_timebase(pts, packet.time_base, self._time_base)
        now = time.monotonic()
        if self._in_origin is None:
            # Continue from the last frame sent, advanced by the wall-clock gap, so the
            # subscriber's jitter buffer sees time pass normally across the switch.
            self._in_origin = pts
            if self._last_out_pts is not None:
                gap = max(1, round((now - self._last_out_wall) / self._time_base))
                self._out_origin = self._last_out_pts + gap
        out = self._out_origin + (pts - self._in_origin)
        if self._last_out_pts is not None and out <= self._last_out_pts:
            out = self._last_out_pts + 1
        self._last_out_pts = out
        self._last_out_wall = now
        return out
