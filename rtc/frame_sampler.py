"""A few seconds of a seat's video as decoded BGR frames, for checks that look at pictures
(the identity check at signing). The router never decodes; this does, off the event loop.

Encoded frames are collected from a tap (:meth:`rtc.router.MediaRouter.subscribe_encoded`, which
starts at a keyframe) for a bounded time and count, then decoded in a worker thread. VP8 inter
frames need their predecessors, so the chain is decoded from the first keyframe, but only the
sampled frames (``fps`` per second, at most ``max_frames``) are converted to BGR arrays — the
conversion and the face models are the costly part, not the VP8 decode of a 640x480 frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import av
import numpy as np

from .errors import RtcError

#: Hard caps whatever the caller asks: a bounded amount of memory and decoding per sample.
MAX_PACKETS = 600
MAX_FRAMES = 120
MAX_SIDE = 1920


class NoFramesError(RtcError):
    """The seat sent no decodable video in time."""

    code = "no_frames"


@dataclass(frozen=True)
class SampledFrame:
    #: Seconds since the first collected frame (from the RTP timestamps).
    t: float
    image: np.ndarray  # BGR, uint8


async def collect_packets(packets: AsyncIterator[av.Packet], *, seconds: float, wait_for_first: float) -> list[av.Packet]:
    """Encoded frames for ``seconds`` after the first one arrives (which may take up to
    ``wait_for_first`` seconds); closes the subscription when done."""
    collected: list[av.Packet] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_for_first + seconds

    async def collect() -> None:
        nonlocal deadline
        async with contextlib.aclosing(packets) as stream:
            async for packet in stream:
                if not collected:
                    deadline = min(deadline, loop.time() + seconds)
                collected.append(packet)
                if len(collected) >= MAX_PACKETS or loop.time() >= deadline:
                    return

    task = asyncio.ensure_future(collect())
    while not task.done():
        remaining = deadline - loop.time()
        if remaining <= 0:
            task.cancel()
            break
        await asyncio.wait({task}, timeout=remaining)
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return collected


class SampledDecoder:
    """Decodes a seat's encoded frames in order (VP8 needs the chain from a keyframe) and keeps
    about ``fps`` of them per second as BGR arrays. Blocking: call :meth:`decode` in a worker
    thread, one call at a time; state carries over between calls (a live session's batches)."""

    def __init__(self, codec: str = "vp8", fps: float = 5.0):
        self._decoder = av.CodecContext.create(codec, "r")
        self._interval = 1.0 / fps
        self._started = False
        self._origin: float | None = None
        self._next_t = 0.0

    def decode(self, packets: list[av.Packet], limit: int = MAX_FRAMES) -> list[SampledFrame]:
        """The sampled frames of ``packets`` (at most ``limit``); frames the decoder refuses (lost
        packets) are skipped, and nothing is decoded before the first keyframe."""
        out: list[SampledFrame] = []
        for packet in packets:
            if not self._started and not packet.is_keyframe:
                continue
            self._started = True
            try:
                frames = self._decoder.decode(packet)
            except av.error.FFmpegError:
                continue
            t = float(packet.pts * packet.time_base) if packet.pts is not None and packet.time_base else 0.0
            for frame in frames:
                if frame.width > MAX_SIDE or frame.height > MAX_SIDE or len(out) >= limit:
                    continue
                self._origin = t if self._origin is None else self._origin
                if t - self._origin + 1e-6 < self._next_t:
                    continue
                out.append(SampledFrame(round(t - self._origin, 3), frame.to_ndarray(format="bgr24")))
                self._next_t = (t - self._origin) + self._interval
        return out


def decode_sampled(packets: list[av.Packet], *, codec: str = "vp8", fps: float = 5.0,
                   max_frames: int = 15) -> list[SampledFrame]:
    """Decode from the first keyframe; keep about ``fps`` frames per second, at most ``max_frames``.
    Blocking: call in a worker thread."""
    return SampledDecoder(codec, fps).decode(packets, min(max_frames, MAX_FRAMES))


class PacketBuffer:
    """Keeps taking a seat's encoded frames (bounded) until closed, for a live check that judges
    them batch by batch while the person is still answering."""

    def __init__(self, packets: AsyncIterator[av.Packet], capacity: int = MAX_PACKETS):
        self._pending: list[av.Packet] = []
        self._capacity = capacity
        self._task = asyncio.ensure_future(self._pump(packets))

    async def _pump(self, packets: AsyncIterator[av.Packet]) -> None:
        async with contextlib.aclosing(packets) as stream:
            async for packet in stream:
                if len(self._pending) < self._capacity:
                    self._pending.append(packet)

    def take(self) -> list[av.Packet]:
        taken, self._pending = self._pending, []
        return taken

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def sample_video(packets: AsyncIterator[av.Packet], *, seconds: float = 3.0, wait_for_first: float = 10.0,
                       fps: float = 5.0, max_frames: int = 15, codec: str = "vp8") -> list[SampledFrame]:
    """Collect, then decode in a worker thread; :class:`NoFramesError` if nothing decodable came."""
    began = time.monotonic()
    collected = await collect_packets(packets, seconds=seconds, wait_for_first=wait_for_first)
    frames = await asyncio.to_thread(decode_sampled, collected, codec=codec, fps=fps, max_frames=max_frames)
    if not frames:
        raise NoFramesError(f"no decodable video within {time.monotonic() - began:.1f} s")
    return frames
