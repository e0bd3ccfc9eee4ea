"""Forwarding benchmark: N participants each publishing pre-encoded 640x480 30 fps VP8 + Opus.

``--server router`` (default) measures both data planes of ``MediaRouter`` one after the
other in one run — ``frame.*`` (reassembled frames through aiortc's packetiser) and
``packet.*`` (RTP rewritten and sent per packet) — then this machine's own limit for one
forwarding leg in Python (``limit.*``: SRTP unprotect + header rewrite + protect + sendto on
1,100-byte packets, with pylibsrtp, as the server does) and the packet path's ratio to it.

All participants are aiortc peers in this process; the server is another process:
- ``--server accord``: the real ``accord serve`` on a free loopback port, with a
  throw-away data dir and API key; participants join a room over Socket.IO exactly as
  docs/protocol.md says (one mediator, the rest parties, all admitted).
- ``--server router`` (default): a bare ``MediaRouter`` process driven over a multiprocessing pipe,
  instrumented to measure latency inside the server (below).
Everything runs on loopback and stops by itself after ``--warmup`` + ``--seconds``.

Clients never encode or decode during the run: the clip is encoded once with PyAV, the
publisher tracks return ``av.Packet``s, and subscribers use rtc.aiortc_hooks' pass-through
receive path, so the client process costs as little CPU as possible (it shares the machine
with the server). "Forwarded packets" are the RTP packets the subscribers received.

Latency comes from a 20-byte trailer appended to every encoded frame (``ACRD`` + 8-byte
frame serial + 8-byte CLOCK_MONOTONIC send time; nobody decodes, so it is harmless):
- ``server_latency_*`` (router mode only): inside the server process, from the arrival of
  the RTP packet that completes a frame (it carries the trailer) to the moment the server
  hands the last RTP packet of that frame to SRTP for one subscriber (retransmissions not
  counted). Network excluded; reassembly, the thread hop of aiortc's receiver, the fan-out
  queue and packing included. ``server_receive_queue_delay_*`` adds what comes before it:
  how long each datagram waited in aioice's (unbounded) receive queue.
- ``end_to_end_latency_*``: publisher pack time to subscriber reassembly (both in this
  process, same clock): both loopback legs, both sides' RTP stacks and the server.
The machine's load average is printed too: on a shared 2-core machine, CPU contention
from other processes shows up directly as latency and loss.

Output: JSON lines ``{"metric", "value", "unit"}`` on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import json
import math
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import av  # noqa: E402
import numpy as np  # noqa: E402
import psutil  # noqa: E402
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack  # noqa: E402

from tests.support.loopback_media import ENVIRONMENT as LOOPBACK_ENV, NETWORK as LOOPBACK, loopback_peer  # noqa: E402
from tests.support.room_state import with_you  # noqa: E402

MAGIC = b"ACRD"
TRAILER = struct.Struct("!4sQd")
FPS = 30
WIDTH, HEIGHT = 640, 480


PREFIX = {"path": ""}  # "frame." / "packet." while that data plane is measured
RESULTS: dict[str, float] = {}


def emit(metric: str, value: float | None, unit: str) -> None:
    """One JSON line; ``None`` when nothing was measured (JSON has no NaN)."""
    shown = None if value is None or math.isnan(value) else round(value, 3)
    name = PREFIX["path"] + metric
    if shown is not None:
        RESULTS[name] = shown
    print(json.dumps({"metric": name, "value": shown, "unit": unit}), flush=True)


def read_trailer(data: bytes) -> tuple[int, float] | None:
    if len(data) < TRAILER.size or data[-TRAILER.size : -TRAILER.size + 4] != MAGIC:
        return None
    _, serial, sent = TRAILER.unpack(data[-TRAILER.size :])
    return serial, sent


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- server process -------------------------------------------------------------------


class ServerProbe:
    """Bench-only instrumentation of the server's RTP path (arrival and send by trailer)."""

    def __init__(self) -> None:
        self.arrivals: dict[int, tuple[float, str]] = {}
        self.latencies: dict[str, list[float]] = {"audio": [], "video": []}
        self.feedback: dict[tuple[int, int], int] = {}
        self.sent: set[tuple[int, int]] = set()  # (subscriber transport, frame serial)
        self.queue_delays: list[float] = []
        self.recording = False

    def install_packet_path(self) -> None:
        """Arrival where the packet plane takes a decrypted packet; departure per leg."""
        from rtc._hooks.packet_path import DirectSender
        from rtc.packet_plane import PacketPlane

        probe = self
        take, send, send_rtcp = PacketPlane._take, DirectSender.send, DirectSender.send_rtcp

        def taking(plane: Any, transport: Any, ssrcs: Any, data: bytes) -> bool:
            if len(data) > 12 and data[1] & 0x80:
                found = read_trailer(data)
                if found is not None:
                    route = ssrcs.get(int.from_bytes(data[8:12], "big"))
                    probe.arrivals[found[0]] = (time.monotonic(), route[0].kind if route else "video")
            return take(plane, transport, ssrcs, data)

        def sending(sender: Any, data: bytes) -> bool:
            if probe.recording:
                found = read_trailer(data)
                if found is not None and (id(sender), found[0]) not in probe.sent:
                    probe.sent.add((id(sender), found[0]))
                    arrival = probe.arrivals.get(found[0])
                    if arrival is not None:
                        probe.latencies[arrival[1]].append((time.monotonic() - arrival[0]) * 1000)
            return send(sender, data)

        def sending_rtcp(sender: Any, data: bytes) -> bool:
            if probe.recording:
                key = (data[1], data[0] & 0x1F)
                probe.feedback[key] = probe.feedback.get(key, 0) + 1
            return send_rtcp(sender, data)

        PacketPlane._take = taking  # type: ignore[method-assign]
        DirectSender.send = sending  # type: ignore[method-assign]
        DirectSender.send_rtcp = sending_rtcp  # type: ignore[method-assign]

    def install(self) -> None:
        from aiortc import RTCRtpReceiver
        from aiortc.rtcdtlstransport import RTCDtlsTransport
        from aiortc.rtp import is_rtcp

        probe = self
        handle_rtp = RTCRtpReceiver._handle_rtp_packet
        send_rtp = RTCDtlsTransport._send_rtp

        async def arrived(self: Any, packet: Any, arrival_time_ms: int) -> None:
            if packet.marker:
                found = read_trailer(packet.payload)
                if found is not None:
                    kind = "video" if self.track is not None and self.track.kind == "video" else "audio"
                    probe.arrivals[found[0]] = (time.monotonic(), kind)
            await handle_rtp(self, packet, arrival_time_ms=arrival_time_ms)

        async def sending(transport: Any, data: bytes) -> None:
            if probe.recording and is_rtcp(data):
                key = (data[1], data[0] & 0x1F)  # (packet type, feedback format) of the first packet
                probe.feedback[key] = probe.feedback.get(key, 0) + 1
            elif probe.recording:
                found = read_trailer(data)
                if found is not None and (id(transport), found[0]) not in probe.sent:
                    probe.sent.add((id(transport), found[0]))  # retransmissions are not latency
                    arrival = probe.arrivals.get(found[0])
                    if arrival is not None:
                        probe.latencies[arrival[1]].append((time.monotonic() - arrival[0]) * 1000)
            await send_rtp(transport, data)

        # Datagrams wait in aioice's unbounded queue before aiortc sees them: time that too.
        from aioice import ice

        data_received = ice.Connection.data_received
        recvfrom = ice.Connection.recvfrom

        def enqueued(connection: Any, data: bytes, component: int) -> None:
            connection.__dict__.setdefault("bench_arrivals", collections.deque()).append(time.monotonic())
            data_received(connection, data, component)

        async def dequeued(connection: Any) -> Any:
            result = await recvfrom(connection)
            arrivals = connection.__dict__.get("bench_arrivals")
            if arrivals:
                waited = time.monotonic() - arrivals.popleft()
                if probe.recording:
                    probe.queue_delays.append(waited * 1000)
            return result

        RTCRtpReceiver._handle_rtp_packet = arrived  # type: ignore[method-assign]
        RTCDtlsTransport._send_rtp = sending  # type: ignore[method-assign]
        ice.Connection.data_received = enqueued  # type: ignore[method-assign]
        ice.Connection.recvfrom = dequeued  # type: ignore[method-assign]


def serve(conn: multiprocessing.connection.Connection, packet_path: bool) -> None:
    """The server process: a MediaRouter driven by messages on ``conn``."""
    from rtc.router import MediaRouter  # checks aiortc before the probe wraps it

    import logging

    logging.basicConfig(level=logging.WARNING, format="server %(levelname)s %(name)s: %(message)s")
    logging.getLogger("rtc.packet_leg").setLevel(logging.INFO)  # congestion pauses, with their reason
    probe = ServerProbe()
    probe.install()
    if packet_path:
        probe.install_packet_path()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        loop.add_reader(conn.fileno(), lambda: inbox.put_nowait(conn.recv()))

        async def offer_needed(seat: str) -> None:
            sdp = await router.make_offer(seat)
            if sdp is not None:
                conn.send(("offer", seat, sdp))

        router = MediaRouter([], network=LOOPBACK, policy=lambda s, p, k: True, on_offer_needed=offer_needed,
                             packet_path=packet_path)
        while True:
            message = await inbox.get()
            command = message[0]
            if command == "offer":
                _, seat, sdp = message
                conn.send(("answer", seat, await router.accept_offer(seat, sdp, reset=True)))
            elif command == "answer":
                _, seat, sdp = message
                await router.accept_answer(seat, sdp)
            elif command == "record":
                probe.recording = message[1]
                conn.send(("recording", router.stats().frames_dropped))
            elif command == "stop":
                stats = router.stats()
                await router.close()
                conn.send(("stats", dataclasses.asdict(stats), probe.latencies, probe.feedback, probe.queue_delays))
                return

    asyncio.run(main())


# -- client side ----------------------------------------------------------------------


def encode_clip(seconds: int = 2) -> tuple[list[bytes], list[bool], list[bytes]]:
    """VP8 frames (with keyframe flags) and 20 ms Opus packets, encoded once."""
    video = av.CodecContext.create("libvpx", "w")
    video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    video.time_base = Fraction(1, FPS)
    video.bit_rate = 1_000_000
    video.gop_size = FPS
    video.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    frames, keys = [], []
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH]
    for i in range(seconds * FPS):
        image = np.stack([(xs + i * 8) % 256, (ys + i * 4) % 256, (xs ^ ys) % 256], axis=-1).astype(np.uint8)
        frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        for packet in video.encode(frame):
            frames.append(bytes(packet))
            keys.append(packet.is_keyframe)
    audio = av.CodecContext.create("libopus", "w")
    audio.sample_rate, audio.layout, audio.format = 48000, "stereo", "s16"
    audio.bit_rate = 32000
    opus = []
    for i in range(seconds * 50):
        t = (np.arange(960) + i * 960) / 48000
        tone = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(np.repeat(tone[None, :], 2, axis=1), format="s16", layout="stereo")
        frame.sample_rate, frame.pts = 48000, i * 960
        opus += [bytes(p) for p in audio.encode(frame)]
    return frames, keys, opus


class ClipTrack(MediaStreamTrack):
    """Returns pre-encoded packets in real time, each with the benchmark trailer."""

    def __init__(self, kind: str, payloads: list[bytes], keys: list[bool], serial_base: int) -> None:
        super().__init__()
        self.kind = kind
        self._payloads, self._keys = payloads, keys
        self._rate = 90000 if kind == "video" else 48000
        self._step = self._rate // FPS if kind == "video" else 960
        self._interval = 1 / FPS if kind == "video" else 0.02
        self._n = 0
        self._serial = serial_base
        self._start: float | None = None
        self.counting = False
        self.sent = 0

    async def recv(self) -> av.Packet:
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        await asyncio.sleep(max(0.0, self._start + self._n * self._interval - loop.time()))
        i = self._n % len(self._payloads)
        self._serial += 1
        packet = av.Packet(self._payloads[i] + TRAILER.pack(MAGIC, self._serial, time.monotonic()))
        packet.pts, packet.time_base = self._n * self._step, Fraction(1, self._rate)
        packet.is_keyframe = self._keys[i]
        self._n += 1
        self.sent += self.counting
        return packet


class Participant:
    """One aiortc peer publishing the clip and counting (never decoding) what it receives."""

    def __init__(self, index: int, clip: tuple[list[bytes], list[bool], list[bytes]]) -> None:
        from rtc import aiortc_hooks

        aiortc_hooks.install()  # subscribers here count encoded frames, they never decode
        self.index = index
        self.pc = loopback_peer(RTCPeerConnection(RTCConfiguration(iceServers=[])))
        aiortc_hooks.own_peer(self.pc, aiortc_hooks.CodecCounters())
        frames, keys, opus = clip
        self.sources = {
            "audio": ClipTrack("audio", opus, [True] * len(opus), (index << 40) | (1 << 39)),
            "video": ClipTrack("video", frames, keys, index << 40),
        }
        for source in self.sources.values():
            self.pc.addTrack(source)
        self.received = {"audio": 0, "video": 0}
        self.rtp_received = 0
        self.latencies: dict[str, list[float]] = {"audio": [], "video": []}
        self.recording = False
        self.negotiating = asyncio.Lock()
        self._readers: list[asyncio.Task[None]] = []

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            receiver = next(r for r in self.pc.getReceivers() if r.track is track)
            aiortc_hooks.route_receiver(receiver, track.kind, on_rtp=self._count_rtp)
            self._readers.append(asyncio.ensure_future(self._read(track)))

    def _count_rtp(self, packet: Any) -> None:
        self.rtp_received += self.recording

    def record(self, on: bool) -> None:
        self.recording = on
        for source in self.sources.values():
            source.counting = on

    async def _read(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                packet = await track.recv()
                found = read_trailer(bytes(packet))
                if self.recording:
                    self.received[track.kind] += 1
                    if found is not None:
                        self.latencies[track.kind].append((time.monotonic() - found[1]) * 1000)
        except MediaStreamError:
            pass

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def answer(self, offer: str) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return self.pc.localDescription.sdp

    async def close(self) -> None:
        for reader in self._readers:
            reader.cancel()
        await self.pc.close()


@dataclasses.dataclass
class Window:
    """What one measurement window observed."""

    wall: float
    server_cpu: float
    client_cpu: float


async def measure(participants: list[Participant], server: psutil.Process, seconds: float) -> Window:
    clients = psutil.Process()
    for participant in participants:
        participant.record(True)
    server_before, client_before, start = server.cpu_times(), clients.cpu_times(), time.monotonic()
    await asyncio.sleep(seconds)
    server_after, client_after, wall = server.cpu_times(), clients.cpu_times(), time.monotonic() - start
    for participant in participants:
        participant.record(False)

    def used(after: Any, before: Any) -> float:
        return (after.user - before.user) + (after.system - before.system)

    return Window(wall, used(server_after, server_before), used(client_after, client_before))


def report(participants: list[Participant], window: Window) -> None:
    n = len(participants)
    packets = sum(p.rtp_received for p in participants)
    emit("participants", n, "peers")
    emit("measured_seconds", window.wall, "s")
    emit("forwarded_rtp_packets_per_second", packets / window.wall, "packets/s")
    emit("forwarded_packets_per_server_cpu_second",
         packets / window.server_cpu if window.server_cpu else float("nan"), "packets/cpu-s")
    emit("server_cpu", 100 * window.server_cpu / window.wall, "% of one core")
    emit("client_process_cpu", 100 * window.client_cpu / window.wall, "% of one core")
    emit("machine_load_average_1m", os.getloadavg()[0], "runnable processes")
    for kind in ("video", "audio"):
        expected = (n - 1) * sum(p.sources[kind].sent for p in participants)
        got = sum(p.received[kind] for p in participants)
        emit(f"{kind}_frames_delivered_ratio", got / expected if expected else float("nan"), "ratio")
        e2e = [v for p in participants for v in p.latencies[kind]]
        emit(f"end_to_end_latency_{kind}_p50", percentile(e2e, 0.5), "ms")
        emit(f"end_to_end_latency_{kind}_p99", percentile(e2e, 0.99), "ms")


# -- with a bare MediaRouter process ----------------------------------------------------


async def run_with_router_process(args: argparse.Namespace, packet_path: bool) -> None:
    context = multiprocessing.get_context("spawn")
    conn, theirs = context.Pipe()
    process = context.Process(target=serve, args=(theirs, packet_path), name="accord-bench-server", daemon=True)
    process.start()
    theirs.close()  # so that the server exiting shows up here as end-of-file
    loop = asyncio.get_running_loop()
    replies: dict[int, asyncio.Queue[tuple[Any, ...]]] = {}
    control: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
    server_gone: asyncio.Future[None] = loop.create_future()
    clip = encode_clip()
    participants = [Participant(i, clip) for i in range(args.participants)]

    async def receive(queue: asyncio.Queue[tuple[Any, ...]]) -> tuple[Any, ...]:
        getter = asyncio.ensure_future(queue.get())
        await asyncio.wait([getter, server_gone], return_when=asyncio.FIRST_COMPLETED)
        if not getter.done():
            getter.cancel()
            server_gone.result()
        return getter.result()

    async def answer_server_offer(index: int, sdp: str) -> None:
        participant = participants[index]
        async with participant.negotiating:  # like a browser, finish applying the answer first
            conn.send(("answer", f"p{index}", await participant.answer(sdp)))

    def on_message() -> None:
        try:
            message = conn.recv()
        except EOFError:
            loop.remove_reader(conn.fileno())
            server_gone.set_exception(RuntimeError("the server process exited; see its traceback above"))
            return
        if message[0] == "offer":
            loop.create_task(answer_server_offer(int(message[1][1:]), message[2]))
        elif message[0] == "answer":
            replies[int(message[1][1:])].put_nowait(message)
        else:
            control.put_nowait(message)

    loop.add_reader(conn.fileno(), on_message)
    try:
        for participant in participants:
            replies[participant.index] = asyncio.Queue()
            async with participant.negotiating:
                conn.send(("offer", f"p{participant.index}", await participant.offer()))
                _, _, answer = await receive(replies[participant.index])
                await participant.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

        await asyncio.sleep(args.warmup)
        conn.send(("record", True))
        _, dropped_before = await receive(control)
        window = await measure(participants, psutil.Process(process.pid), args.seconds)
        conn.send(("record", False))
        _, dropped_after = await receive(control)
        conn.send(("stop",))
        _, stats, server_latency, feedback, queue_delays = await receive(control)
    finally:
        loop.remove_reader(conn.fileno())
        for participant in participants:
            await participant.close()
        process.join(timeout=10)
        if process.is_alive():
            process.terminate()

    report(participants, window)
    for kind in ("video", "audio"):
        emit(f"server_latency_{kind}_p50", percentile(server_latency[kind], 0.5), "ms")
        emit(f"server_latency_{kind}_p99", percentile(server_latency[kind], 0.99), "ms")
    emit("server_receive_queue_delay_p50", percentile(queue_delays, 0.5), "ms")
    emit("server_receive_queue_delay_p99", percentile(queue_delays, 0.99), "ms")
    emit("frames_dropped", dropped_after - dropped_before, "frames")
    # feedback the server sent to publishers: NACK = packets it lost, PLI = keyframe requests
    emit("server_sent_nack", feedback.get((205, 1), 0), "rtcp packets")
    emit("server_sent_pli", feedback.get((206, 1), 0), "rtcp packets")
    emit("decoders_created", stats["decoders_created"], "codecs")
    emit("encoders_created", stats["encoders_created"], "codecs")
    emit("packets_retransmitted_by_server", stats["packets_retransmitted"], "packets")
    emit("subscriber_video_pauses", stats["video_pauses"], "pauses")


# -- this machine's limit ------------------------------------------------------------------


def forwarding_limit(seconds: float = 2.0, size: int = 1100) -> tuple[float, float]:
    """Packets per CPU-second one Python forwarding leg can do: (with sendto, without).

    Each packet is SRTP-unprotected, gets a new SSRC/sequence number/timestamp, is protected
    with another session and sent to a loopback socket — the packet path's minimum work.
    """
    from pylibsrtp import Policy, Session

    from rtc.rtp_bytes import HEADER

    inbound_key, outbound_key = os.urandom(30), os.urandom(30)
    publisher = Session(Policy(key=inbound_key, ssrc_type=Policy.SSRC_ANY_OUTBOUND))
    batch = [publisher.protect(HEADER.pack(0x80, 96, seq, seq * 3000, 0x1234) + os.urandom(size - 12))
             for seq in range(1000)]
    context = multiprocessing.get_context("spawn")
    conn, theirs = context.Pipe()
    drainer = context.Process(target=drain, args=(theirs,), daemon=True)  # a real receiver
    drainer.start()
    address = ("127.0.0.1", conn.recv())
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    results = []
    for send in (True, False):
        policy = Policy(key=outbound_key, ssrc_type=Policy.SSRC_ANY_OUTBOUND)
        policy.allow_repeat_tx = True
        subscriber = Session(policy)
        count, seq, start = 0, 0, time.process_time()
        while time.process_time() - start < seconds:
            inbound = Session(Policy(key=inbound_key, ssrc_type=Policy.SSRC_ANY_INBOUND))  # replay window
            for protected in batch:
                data = inbound.unprotect(protected)
                seq = (seq + 1) & 0xFFFF
                packet = subscriber.protect(HEADER.pack(0x80, 96, seq, seq * 3000, 0x5678) + data[12:])
                if send:
                    out.sendto(packet, address)
            count += len(batch)
        results.append(count / (time.process_time() - start))
    out.close()
    drainer.terminate()
    return results[0], results[1]


def drain(conn: multiprocessing.connection.Connection) -> None:
    """Receive and discard datagrams (another process: its CPU is not the forwarder's)."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    conn.send(sink.getsockname()[1])
    while True:
        sink.recv(2048)


# -- with the real server ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def run_with_accord(args: argparse.Namespace) -> None:
    """``accord serve`` in its own process; participants speak docs/protocol.md over Socket.IO."""
    import aiohttp
    import socketio

    root = Path(__file__).resolve().parent.parent
    cli = [sys.executable, "-m", "signaling.cli"]
    with tempfile.TemporaryDirectory(prefix="accord-bench-") as data_dir:
        base = [*cli, "--data-dir", data_dir]
        key = subprocess.run([*base, "apikey", "create", "bench", "--scope", "rooms"], cwd=root, check=True,
                             capture_output=True, text=True).stdout.strip()
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([*base, "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=root,
                                  env={**os.environ, **LOOPBACK_ENV},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        clip = encode_clip()
        participants = [Participant(i, clip) for i in range(args.participants)]
        sockets: list[socketio.AsyncClient] = []
        try:
            async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as http:
                for _ in range(100):
                    try:
                        async with http.get(f"{url}/api/openapi.json") as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientConnectionError:
                        pass
                    if server.poll() is not None:
                        raise RuntimeError(f"accord serve exited with status {server.returncode}")
                    await asyncio.sleep(0.1)
                async with http.post(f"{url}/api/rooms", json={"case_id": "BENCH-1"}) as response:
                    room = (await response.json())["room_id"]
                tokens = []
                for participant in participants:
                    if participant.index == 0:
                        invite = {"role": "mediator", "name": "mediator"}
                    else:
                        side = ("applicant", "respondent")[participant.index % 2]
                        invite = {"role": "party", "side": side, "name": f"party {participant.index}"}
                    async with http.post(f"{url}/api/rooms/{room}/invites", json=invite) as response:
                        tokens.append((await response.json())["token"])

            admitted = [asyncio.Event() for _ in participants]
            seats: dict[int, str] = {}  # participant index -> seat, from the join ack
            for participant, token in zip(participants, tokens):
                sio = socketio.AsyncClient(reconnection=False)
                sockets.append(sio)

                def on_state(state: dict[str, Any], done: asyncio.Event = admitted[participant.index],
                             index: int = participant.index) -> None:
                    you = with_you(state, seats.get(index))["you"]
                    if you is not None and you["state"] == "admitted":
                        done.set()

                async def on_offer(data: dict[str, Any], participant: Participant = participant,
                                   sio: socketio.AsyncClient = sio) -> None:
                    async with participant.negotiating:
                        ack = await sio.call("rtc:answer", {"sdp": await participant.answer(data["sdp"])})
                        if not ack.get("ok"):
                            raise RuntimeError(f"rtc:answer refused: {ack}")

                sio.on("room:state", on_state)
                sio.on("rtc:offer", on_offer)
                await sio.connect(url, transports=["websocket"])
                ack = await sio.call("join", {"token": token})
                if not ack.get("ok"):
                    raise RuntimeError(f"join refused: {ack}")
                seats[participant.index] = ack["seat"]
            ack = await sockets[0].call("mod:admit", {"all": True})
            await asyncio.wait_for(asyncio.gather(*(event.wait() for event in admitted)), 15)
            for participant, sio in zip(participants, sockets):
                async with participant.negotiating:
                    ack = await sio.call("rtc:offer", {"sdp": await participant.offer(), "reset": True})
                    if not ack.get("ok"):
                        raise RuntimeError(f"rtc:offer refused: {ack}")
                    await participant.pc.setRemoteDescription(RTCSessionDescription(sdp=ack["sdp"], type="answer"))

            await asyncio.sleep(args.warmup)
            window = await measure(participants, psutil.Process(server.pid), args.seconds)
        finally:
            for sio in sockets:
                await sio.disconnect()
            for participant in participants:
                await participant.close()
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
    report(participants, window)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--server", choices=("accord", "router"), default="router",
                        help="accord: the real server over Socket.IO; router: a bare MediaRouter "
                             "process over a pipe, instrumented for server-side latency")
    parser.add_argument("--paths", default="frame,packet",
                        help="router mode: the data planes to measure, in order (frame, packet)")
    args = parser.parse_args(argv)
    if args.participants < 2:
        parser.error("--participants must be at least 2")
    if args.server == "accord":
        asyncio.run(asyncio.wait_for(run_with_accord(args), args.seconds + args.warmup + 90))
        return
    for path in args.paths.split(","):
        PREFIX["path"] = f"{path}."
        asyncio.run(asyncio.wait_for(run_with_router_process(args, path == "packet"),
                                     args.seconds + args.warmup + 90))
    PREFIX["path"] = "limit."
    with_socket, without_socket = forwarding_limit()
    emit("single_leg_srtp_rewrite_sendto", with_socket, "packets/cpu-s")
    emit("single_leg_srtp_rewrite_no_socket", without_socket, "packets/cpu-s")
    PREFIX["path"] = ""
    for path in args.paths.split(","):
        rate = RESULTS.get(f"{path}.forwarded_packets_per_server_cpu_second")
        cpu = RESULTS.get(f"{path}.server_cpu")
        if rate is not None:
            emit(f"{path}_path_share_of_single_leg_limit", rate / with_socket, "ratio")
        if cpu:
            emit(f"{path}_path_{args.participants}_person_640x480_rooms_per_core", 100 / cpu, "rooms")


if __name__ == "__main__":
    main()
