"""The packet-level data plane under loss and with a subscriber that cannot keep up.

Real aiortc participants (they encode and decode VP8 and Opus); loss is injected on one
link only, with a seeded random generator, after the SRTP layer of the client concerned.
"""

from __future__ import annotations

import asyncio
import random
import time
import tracemalloc
from collections.abc import Callable

import pytest
from aiortc.rtp import is_rtcp

from rtc.packet_leg import HISTORY
from rtc_test_clients import Received, TestClient, TestRoom, wait_for

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def room():
    room = TestRoom()
    yield room
    await room.close()


def dtls_of(client: TestClient):  # type: ignore[no-untyped-def]
    return client.pc.getTransceivers()[0].receiver.transport


def lose_outgoing_rtp(client: TestClient, rate: float, seed: int) -> Callable[[], int]:
    """Drop ``rate`` of the RTP the client sends (retransmissions too); returns a drop counter."""
    dtls = dtls_of(client)
    send = dtls._send_rtp
    chance = random.Random(seed)
    dropped = 0

    async def lossy(data: bytes) -> None:
        nonlocal dropped
        if not is_rtcp(data) and chance.random() < rate:
            dropped += 1
            return
        await send(data)

    dtls._send_rtp = lossy
    return lambda: dropped


def lose_incoming_rtp(client: TestClient, rate: float, seed: int) -> None:
    """Drop ``rate`` of the RTP the client receives (after SRTP, so nothing is replayed)."""
    dtls = dtls_of(client)
    handle = dtls._handle_rtp_data
    chance = random.Random(seed)

    async def lossy(data: bytes, arrival_time_ms: int) -> None:
        if chance.random() >= rate:
            await handle(data, arrival_time_ms=arrival_time_ms)

    dtls._handle_rtp_data = lossy


def record_of(room: TestRoom, subscriber: str, publisher: str, kind: str) -> Received:
    entry = next(e for e in room.router.track_map(subscriber) if e["seat"] == publisher and e["kind"] == kind)
    record = room.clients[subscriber].by_mid(entry["mid"])
    assert record is not None
    return record


def frames_between(record: Received, start: float, end: float) -> list[float]:
    return [t for t in record.arrivals if start <= t < end]


def longest_gap(arrivals: list[float], start: float, end: float) -> float:
    points = [start, *arrivals, end]
    return max(b - a for a, b in zip(points, points[1:]))


def sent_to(room: TestRoom, subscriber: str) -> dict[str, int]:
    """Packets the server's legs sent ``subscriber`` so far, per kind."""
    legs = [leg.packets for slot in room.router._participants[subscriber].slots  # noqa: SLF001
            for leg in slot.legs.values() if leg.packets is not None]
    return {kind: sum(leg.packets for leg in legs if leg.kind == kind) for kind in ("audio", "video")}


async def test_ten_percent_loss_from_a_publisher_is_recovered_per_leg(room: TestRoom) -> None:
    for seat in ("alice", "bob", "carol"):
        await room.join(seat)
    await wait_for(lambda: room.frames_from("bob", "alice", "video") >= 15, 20, "bob to see alice")
    await wait_for(lambda: room.frames_from("carol", "alice", "video") >= 15, 20, "carol to see alice")
    dropped = lose_outgoing_rtp(room.clients["alice"], 0.10, seed=12)

    await asyncio.sleep(1.0)
    start = time.monotonic()
    await asyncio.sleep(8.0)
    end = time.monotonic()

    assert dropped() > 30, "the loss was not injected"
    stats = room.router.stats()
    assert stats.losses_nacked > 0, "the server never asked alice to resend"
    for subscriber in ("bob", "carol"):
        arrivals = frames_between(record_of(room, subscriber, "alice", "video"), start, end)
        # aiortc sends 30 fps; a stalled decoder (waiting for a keyframe) shows up as a gap
        assert len(arrivals) >= 0.8 * 30 * (end - start), f"{subscriber} decoded only {len(arrivals)} frames"
        assert longest_gap(arrivals, start, end) < 1.0, f"{subscriber}'s video from alice stalled"
    assert stats.decoders_created == 0 and stats.encoders_created == 0


async def test_a_subscribers_losses_are_answered_from_its_legs_history(room: TestRoom) -> None:
    await room.join("alice")
    await room.join("bob")
    await wait_for(lambda: room.frames_from("bob", "alice", "video") >= 15, 20, "bob to see alice")
    lose_incoming_rtp(room.clients["bob"], 0.10, seed=7)

    await asyncio.sleep(1.0)
    start = time.monotonic()
    await asyncio.sleep(6.0)
    end = time.monotonic()

    stats = room.router.stats()
    assert stats.packets_retransmitted > 0, "bob's NACKs were not answered by the server"
    arrivals = frames_between(record_of(room, "bob", "alice", "video"), start, end)
    assert len(arrivals) >= 0.8 * 30 * (end - start), f"bob decoded only {len(arrivals)} frames"
    assert longest_gap(arrivals, start, end) < 1.0
    assert stats.video_pauses == 0, "10 % loss is not a subscriber that cannot keep up"


async def test_a_slow_subscriber_loses_video_not_audio_without_slowing_the_others(room: TestRoom) -> None:
    for seat in ("alice", "bob", "carol"):
        await room.join(seat)
    await wait_for(lambda: room.frames_from("carol", "alice", "video") >= 15, 20, "carol to see alice")
    await wait_for(lambda: room.frames_from("alice", "bob", "video") >= 15, 20, "alice to see bob")
    tracemalloc.start()
    try:
        lose_incoming_rtp(room.clients["carol"], 0.75, seed=3)  # a link far below the stream's rate
        await asyncio.sleep(4.0)
        early = tracemalloc.take_snapshot()
        sent_before, bob_before = sent_to(room, "carol"), sent_to(room, "bob")
        start = time.monotonic()
        await asyncio.sleep(8.0)
        end = time.monotonic()
        sent_after, bob_after = sent_to(room, "carol"), sent_to(room, "bob")
        late = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()

    stats = room.router.stats()
    assert stats.video_pauses >= 1, "the server kept sending video carol cannot take"
    # what the server sent carol: audio on as before (2 publishers x 50 packets/s), video paused
    assert sent_after["audio"] - sent_before["audio"] > 0.9 * 2 * 50 * (end - start), "carol's audio stopped"
    # bob receives streams of the same size (alice's and carol's): carol gets far less video
    carol_video, bob_video = sent_after["video"] - sent_before["video"], bob_after["video"] - bob_before["video"]
    assert carol_video < 0.5 * bob_video, f"carol's video went on ({carol_video} packets, bob {bob_video})"
    for subscriber, publisher in (("alice", "bob"), ("bob", "alice"), ("alice", "carol"), ("bob", "carol")):
        arrivals = frames_between(record_of(room, subscriber, publisher, "video"), start, end)
        assert len(arrivals) >= 0.8 * 30 * (end - start), f"{subscriber} got {len(arrivals)} frames of {publisher}"
        assert longest_gap(arrivals, start, end) < 1.0

    # The server's own state for the room does not grow: packet histories are fixed rings,
    # nothing is queued per subscriber.
    def rtc_bytes(snapshot: tracemalloc.Snapshot) -> int:
        return sum(stat.size for stat in snapshot.statistics("filename") if "/rtc/" in stat.traceback[0].filename)

    assert rtc_bytes(late) - rtc_bytes(early) < 512 * 1024
    for participant in room.router._participants.values():  # noqa: SLF001
        for slot in participant.slots:
            leg = slot.legs["video"].packets
            assert leg is None or len(leg._history or []) in (0, HISTORY)  # noqa: SLF001


async def test_publishers_get_receiver_reports_and_a_remb_their_subscribers_can_take(room: TestRoom) -> None:
    from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, RtcpRrPacket, unpack_remb_fci

    from rtc.packet_plane import MAX_REMB, MIN_REMB

    await room.join("alice")
    await room.join("bob")
    await wait_for(lambda: room.frames_from("bob", "alice", "video") >= 10, 20, "bob to see alice")
    video = next(t.sender for t in room.clients["alice"].pc.getTransceivers() if t.kind == "video")
    handle = video._handle_rtcp_packet
    rembs: list[int] = []
    reports: list[int] = []

    async def observed(packet) -> None:  # type: ignore[no-untyped-def]
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            bitrate, ssrcs = unpack_remb_fci(packet.fci)
            if video._ssrc in ssrcs:
                rembs.append(bitrate)
        elif isinstance(packet, RtcpRrPacket):
            reports.extend(r.highest_sequence for r in packet.reports if r.ssrc == video._ssrc)
        await handle(packet)

    video._handle_rtcp_packet = observed
    await wait_for(lambda: len(rembs) >= 3 and len(reports) >= 3, 10, "three reports and REMBs from the server")
    assert all(MIN_REMB <= bitrate <= MAX_REMB for bitrate in rembs)
    assert reports == sorted(reports) and reports[-1] > reports[0], "the reports' sequence numbers stand still"
    # bob's receiver estimates what he can take (a small stream: far below the cap); alice
    # is then told that, not the cap
    leg = next(slot.legs["video"].packets for slot in room.router._participants["bob"].slots)  # noqa: SLF001
    assert leg is not None
    await wait_for(lambda: leg.remb is not None, 15, "bob's REMB to reach the server")
    told = len(rembs)
    await wait_for(lambda: len(rembs) > told, 5, "the next REMB to alice")
    assert rembs[-1] < MAX_REMB
