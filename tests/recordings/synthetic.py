"""An encoded-media source like ``MediaRouter`` (``subscribe_encoded``, ``request_keyframe``) that
encodes real VP8 and Opus live with PyAV, paced in real time: recording tests without peers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from fractions import Fraction

import av
import numpy as np

FPS = 30
AUDIO_FRAME = 960  # 20 ms at 48 kHz


class SyntheticSource:
    def __init__(self, width: int = 160, height: int = 120) -> None:
        self.width, self.height = width, height
        self.keyframe_requests = 0
        self._keyframe_wanted: set[str] = set()

    def request_keyframe(self, publisher_seat: str) -> None:
        self.keyframe_requests += 1
        self._keyframe_wanted.add(publisher_seat)

    async def subscribe_encoded(self, publisher_seat: str, kind: str) -> AsyncIterator[av.Packet]:
        if kind == "video":
            async for packet in self._video(publisher_seat):
                yield packet
        else:
            async for packet in self._audio():
                yield packet

    async def _video(self, seat: str) -> AsyncIterator[av.Packet]:
        encoder = av.CodecContext.create("libvpx", "w")
        encoder.width, encoder.height, encoder.pix_fmt = self.width, self.height, "yuv420p"
        encoder.time_base = Fraction(1, 90_000)
        encoder.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
        encoder.gop_size = 10_000  # keyframes only when asked, as a WebRTC sender
        start = time.monotonic()
        for index in range(10**9):
            await asyncio.sleep(max(0.0, start + index / FPS - time.monotonic()))
            image = np.zeros((self.height, self.width, 3), dtype=np.uint8)
            image[:, (index * 4) % self.width:, 0] = 200
            frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
            frame.pts, frame.time_base = index * 3000, encoder.time_base
            if index == 0 or seat in self._keyframe_wanted:
                self._keyframe_wanted.discard(seat)
                frame.pict_type = av.video.frame.PictureType.I
            for packet in encoder.encode(frame):
                packet.time_base = encoder.time_base
                yield packet

    async def _audio(self) -> AsyncIterator[av.Packet]:
        encoder = av.CodecContext.create("libopus", "w")
        encoder.sample_rate, encoder.layout, encoder.format = 48_000, "stereo", "s16"
        encoder.time_base = Fraction(1, 48_000)
        start = time.monotonic()
        for index in range(10**9):
            await asyncio.sleep(max(0.0, start + index * AUDIO_FRAME / 48_000 - time.monotonic()))
            t = (np.arange(AUDIO_FRAME) + index * AUDIO_FRAME) / 48_000
            tone = (np.sin(2 * np.pi * 440 * t) * 12_000).astype(np.int16)
            frame = av.AudioFrame.from_ndarray(np.repeat(tone, 2).reshape(1, -1), format="s16", layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = 48_000, index * AUDIO_FRAME, encoder.time_base
            for packet in encoder.encode(frame):
                packet.time_base = encoder.time_base
                yield packet
