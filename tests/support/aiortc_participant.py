"""A scripted room participant made of python-socketio + aiortc, speaking docs/protocol.md.

Used by the media tests (faster and more deterministic than a browser) and by the benchmark.
It publishes a small synthetic camera and a tone, answers the server's re-offers, and counts
what it receives per publisher seat.
"""

from __future__ import annotations

import asyncio
import fractions
import math
from collections import Counter
from typing import Any

import numpy as np
import socketio
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AUDIO_PTIME, MediaStreamError, MediaStreamTrack
from av import AudioFrame, VideoFrame

from .loopback_media import loopback_peer
from .room_state import with_you


class MovingPattern(MediaStreamTrack):
    """A tiny moving test card: cheap to encode, changes every frame so VP8 keeps sending."""

    kind = "video"

    def __init__(self, width: int = 160, height: int = 120, fps: int = 15):
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self._n = 0
        self._start: float | None = None

    async def recv(self) -> VideoFrame:
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        target = self._start + self._n / self.fps
        await asyncio.sleep(max(0.0, target - loop.time()))
        img = np.zeros((self.height, self.width, 3), dtype=np.uint8)
        x = (self._n * 4) % self.width
        img[:, x:x + 16] = (255, 200, 0)
        frame = VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts, frame.time_base = self._n * (90000 // self.fps), fractions.Fraction(1, 90000)
        self._n += 1
        return frame


class Tone(MediaStreamTrack):
    """A 440 Hz tone at 48 kHz in 20 ms frames (loud enough for audio-level detection)."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._pts = 0
        self._start: float | None = None

    async def recv(self) -> AudioFrame:
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        samples = int(AUDIO_PTIME * 48000)
        target = self._start + self._pts / 48000
        await asyncio.sleep(max(0.0, target - loop.time()))
        t = (np.arange(samples) + self._pts) / 48000
        data = (np.sin(2 * math.pi * 440 * t) * 8000).astype(np.int16).reshape(1, -1)
        frame = AudioFrame.from_ndarray(data, format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = 48000, self._pts, fractions.Fraction(1, 48000)
        self._pts += samples
        return frame


class Participant:
    """One person in a room: a socket, a peer connection, and counters of received media."""

    def __init__(self, url: str, token: str, *, publish: bool = True):
        self.url, self.token, self.publish = url, token, publish
        self.sio = socketio.AsyncClient(reconnection=False)
        self.pc: RTCPeerConnection | None = None
        self.tracks: dict[str, dict[str, str]] = {}  # mid -> {"seat", "kind"}
        self.frames: Counter[tuple[str, str]] = Counter()  # (publisher seat, kind) -> frames decoded
        self.state: dict[str, Any] = {}
        self.seat = ""
        self._readers: list[asyncio.Task[None]] = []
        self._queue: asyncio.Lock = asyncio.Lock()
        self.sio.on("room:state", self._on_state)
        self.sio.on("rtc:offer", self._on_offer)
        self.sio.on("rtc:tracks", self._on_tracks)

    async def _on_state(self, data: dict[str, Any]) -> None:
        state = with_you(data, self.seat)
        if state.get("you") is not None:  # a group's snapshot before the join ack named our seat
            self.state = state

    async def _on_tracks(self, data: dict[str, Any]) -> None:
        self._remember_tracks(data["tracks"])

    def _remember_tracks(self, tracks: list[dict[str, str]]) -> None:
        self.tracks = {t["mid"]: {"seat": t["seat"], "kind": t["kind"]} for t in tracks}

    async def join(self) -> dict[str, Any]:
        await self.sio.connect(self.url, transports=["websocket"])
        ack = await self.sio.call("join", {"token": self.token}, timeout=10)
        if not ack.get("ok"):
            raise RuntimeError(f"join refused: {ack}")
        self.seat = ack["seat"]
        self.state = ack["room"]
        return ack

    async def wait_admitted(self, timeout: float = 10) -> None:
        await self.until(lambda: self.state.get("you", {}).get("state") == "admitted", timeout)

    async def until(self, predicate, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.05)

    def _new_pc(self) -> RTCPeerConnection:
        pc = loopback_peer(RTCPeerConnection(RTCConfiguration(iceServers=[])))

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            transceiver = next(t for t in pc.getTransceivers() if t.receiver.track is track)
            self._readers.append(asyncio.ensure_future(self._read(transceiver.mid, track)))

        return pc

    async def _read(self, mid: str | None, track: MediaStreamTrack) -> None:
        try:
            while True:
                await track.recv()
                info = self.tracks.get(mid or "")
                if info:
                    self.frames[(info["seat"], info["kind"])] += 1
        except MediaStreamError:
            return

    async def start_media(self) -> None:
        """Publish (or only receive) with a fresh peer connection: the ``reset`` offer."""
        if self.pc is not None:
            await self.pc.close()
        self.pc = self._new_pc()
        if self.publish:
            self.pc.addTrack(MovingPattern())
            self.pc.addTrack(Tone())
        else:
            self.pc.addTransceiver("audio", direction="recvonly")
            self.pc.addTransceiver("video", direction="recvonly")
        async with self._queue:
            await self.pc.setLocalDescription(await self.pc.createOffer())
            ack = await self.sio.call("rtc:offer", {"sdp": self.pc.localDescription.sdp, "reset": True}, timeout=15)
            if not ack.get("ok"):
                raise RuntimeError(f"offer refused: {ack}")
            self._remember_tracks(ack["tracks"])
            await self.pc.setRemoteDescription(RTCSessionDescription(ack["sdp"], "answer"))

    async def _on_offer(self, data: dict[str, Any]) -> None:
        async with self._queue:
            assert self.pc is not None
            self._remember_tracks(data["tracks"])
            await self.pc.setRemoteDescription(RTCSessionDescription(data["sdp"], "offer"))
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            ack = await self.sio.call("rtc:answer", {"sdp": self.pc.localDescription.sdp}, timeout=15)
            if not ack.get("ok"):
                raise RuntimeError(f"answer refused: {ack}")

    async def snapshot(self, seconds: float) -> Counter[tuple[str, str]]:
        """Frames received per (seat, kind) during the next ``seconds``."""
        before = Counter(self.frames)
        await asyncio.sleep(seconds)
        return Counter({k: v - before.get(k, 0) for k, v in self.frames.items() if v - before.get(k, 0) > 0})

    async def close(self) -> None:
        for task in self._readers:
            task.cancel()
        if self.pc is not None:
            await self.pc.close()
        if self.sio.connected:
            await self.sio.disconnect()
