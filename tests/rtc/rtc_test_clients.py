"""In-process aiortc participants and a minimal signaling loop around a MediaRouter.

The clients are ordinary aiortc peer connections (they encode and decode for real); only
the router's peers are checked for codecs. ``TestRoom`` plays the part of signaling/: it
forwards the router's re-offers to the client and the answers back, like the browser would.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, MediaStreamTrack, VideoStreamTrack
from av import VideoFrame

from rtc.router import MediaRouter
from tests.support.loopback_media import NETWORK as LOOPBACK, loopback_peer


class PatternVideoTrack(VideoStreamTrack):
    """Small moving frames: cheap to encode, but real VP8 with inter frames."""

    def __init__(self, width: int = 160, height: int = 120) -> None:
        super().__init__()
        base = np.zeros((height, width, 3), dtype=np.uint8)
        self._frames = []
        for i in range(30):
            image = base.copy()
            image[:, (i * 5) % width :, 0] = 200
            image[(i * 3) % height :, :, 1] = 120
            self._frames.append(VideoFrame.from_ndarray(image, format="rgb24"))
        self._index = 0

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = self._frames[self._index % len(self._frames)]
        self._index += 1
        out = frame.reformat(format="yuv420p")
        out.pts = pts
        out.time_base = time_base
        return out


class ToneAudioTrack(AudioStreamTrack):
    """A 440 Hz tone (loud) or silence, so the audio level extension says who speaks."""

    def __init__(self, loud: bool = False) -> None:
        super().__init__()
        self.loud = loud
        self._phase = 0

    async def recv(self):  # type: ignore[override]
        frame = await super().recv()
        if self.loud:
            n = frame.samples
            t = (np.arange(n) + self._phase) / frame.sample_rate
            self._phase += n
            samples = (np.sin(2 * np.pi * 440 * t) * 12000).astype(np.int16)
            frame.planes[0].update(samples.tobytes())
        return frame


@dataclass
class Received:
    """Everything a client got on one receiving transceiver."""

    mid: str | None
    kind: str
    frames: int = 0
    arrivals: list[float] = field(default_factory=list)
    pts: list[int] = field(default_factory=list)


class TestClient:
    __test__ = False

    def __init__(
        self,
        seat: str,
        *,
        publish: bool = True,
        loud: bool = False,
        rewrite_offer: Callable[[str], str] | None = None,
    ) -> None:
        """``rewrite_offer`` renumbers this client's offers, the way another browser numbers."""
        self.seat = seat
        self.rewrite_offer = rewrite_offer
        self.server_descriptions: list[tuple[str, str]] = []  # (type, SDP) the server sent
        self.pc = loopback_peer(RTCPeerConnection(RTCConfiguration(iceServers=[])))
        self.lock = asyncio.Lock()
        self.audio = ToneAudioTrack(loud=loud)
        self.video = PatternVideoTrack()
        self.received: list[Received] = []
        self._readers: list[asyncio.Task[None]] = []
        if publish:
            self.pc.addTrack(self.audio)
            self.pc.addTrack(self.video)
        else:
            self.pc.addTransceiver("audio", direction="recvonly")
        self.pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        transceiver = next(t for t in self.pc.getTransceivers() if t.receiver.track is track)
        record = Received(mid=transceiver.mid, kind=track.kind)
        self.received.append(record)
        self._readers.append(asyncio.ensure_future(self._read(track, record)))

    async def _read(self, track: MediaStreamTrack, record: Received) -> None:
        try:
            while True:
                frame = await track.recv()
                record.frames += 1
                record.arrivals.append(time.monotonic())
                record.pts.append(frame.pts)
        except MediaStreamError:
            pass

    async def create_offer(self) -> str:
        offer = await self.pc.createOffer()
        if self.rewrite_offer is not None:
            offer = RTCSessionDescription(sdp=self.rewrite_offer(offer.sdp), type="offer")
        await self.pc.setLocalDescription(offer)
        return self.pc.localDescription.sdp

    async def accept_answer(self, sdp: str) -> None:
        self.server_descriptions.append(("answer", sdp))
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))

    async def answer_offer(self, sdp: str) -> str:
        self.server_descriptions.append(("offer", sdp))
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return self.pc.localDescription.sdp

    def by_mid(self, mid: str) -> Received | None:
        return next((r for r in self.received if r.mid == mid), None)

    async def close(self) -> None:
        await self.pc.close()
        for reader in self._readers:
            reader.cancel()


class TestRoom:
    """Signaling stand-in: joins clients and relays re-offers and track-map changes."""

    __test__ = False

    def __init__(self, policy: Callable[[str, str, str], bool] | None = None) -> None:
        self.allowed: Callable[[str, str, str], bool] = policy or (lambda s, p, k: True)
        self.clients: dict[str, TestClient] = {}
        self.offers_sent: dict[str, int] = {}
        self.tracks_changed: dict[str, int] = {}
        self.speakers: list[str | None] = []
        self.speakers_shown: dict[str, list[str | None]] = {}  # subscriber -> speakers announced to it
        self.closing = False
        self.router = MediaRouter(
            [],
            network=LOOPBACK,
            policy=lambda s, p, k: self.allowed(s, p, k),
            on_offer_needed=self._offer_needed,
            on_tracks_changed=self._tracks_changed,
            on_active_speaker=self._active_speaker,
        )

    async def join(self, seat: str, **client_options: object) -> TestClient:
        client = TestClient(seat, **client_options)  # type: ignore[arg-type]
        self.clients[seat] = client
        async with client.lock:
            answer = await self.router.accept_offer(seat, await client.create_offer(), reset=True)
            await client.accept_answer(answer)
        return client

    async def leave(self, seat: str) -> None:
        client = self.clients.pop(seat)
        await self.router.remove(seat)
        await client.close()

    async def _offer_needed(self, seat: str) -> None:
        client = self.clients.get(seat)
        if client is None or self.closing:
            return
        async with client.lock:
            offer = await self.router.make_offer(seat)
            if offer is None:
                return
            self.offers_sent[seat] = self.offers_sent.get(seat, 0) + 1
            await self.router.accept_answer(seat, await client.answer_offer(offer))

    async def _tracks_changed(self, seat: str) -> None:
        self.tracks_changed[seat] = self.tracks_changed.get(seat, 0) + 1

    async def _active_speaker(self, subscribers: list[str], seat: str | None) -> None:
        self.speakers.append(seat)
        for subscriber in subscribers:
            self.speakers_shown.setdefault(subscriber, []).append(seat)

    def frames_from(self, subscriber: str, publisher: str, kind: str) -> int:
        """Frames ``subscriber`` received on the mid the router says carries ``publisher``."""
        total = 0
        for entry in self.router.track_map(subscriber):
            if entry["seat"] == publisher and entry["kind"] == kind:
                record = self.clients[subscriber].by_mid(entry["mid"])
                total += record.frames if record else 0
        return total

    async def close(self) -> None:
        self.closing = True
        await self.router.close()
        for client in self.clients.values():
            await client.close()


async def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``condition``; return the seconds it took, fail with ``what`` on timeout."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)
    return time.monotonic() - start
