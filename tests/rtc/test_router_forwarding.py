"""Three in-process aiortc participants through a MediaRouter: forwarding, policy, slots."""

from __future__ import annotations

import asyncio

import pytest

from rtc_test_clients import TestRoom, wait_for

pytestmark = pytest.mark.timeout(60)

SEATS = ("alice", "bob", "carol")


@pytest.fixture
async def room():
    room = TestRoom()
    yield room
    await room.close()


def everyone_receives(room: TestRoom, frames: int) -> bool:
    return all(
        room.frames_from(subscriber, publisher, kind) >= frames
        for subscriber in room.clients
        for publisher in room.clients
        if publisher != subscriber
        for kind in ("audio", "video")
    )


async def test_three_participants_receive_each_other_without_codecs(room: TestRoom) -> None:
    for seat in SEATS:
        await room.join(seat)
    await wait_for(lambda: everyone_receives(room, 20), 20, "every participant to receive the others")

    stats = room.router.stats()
    assert stats.peers == 3
    assert stats.frames_forwarded > 0 and stats.packets_in > 0
    assert stats.packets_forwarded >= stats.frames_forwarded > 0  # the packet path carried them
    assert stats.decoders_created == 0
    assert stats.encoders_created == 0
    for seat in SEATS:
        publishers = sorted({entry["seat"] for entry in room.router.track_map(seat)})
        assert publishers == sorted(set(SEATS) - {seat})


async def test_policy_blocks_a_route_and_reopening_it_resumes_within_a_second(room: TestRoom) -> None:
    blocked: set[tuple[str, str, str]] = set()
    room.allowed = lambda s, p, k: (s, p, k) not in blocked
    await room.join("alice")
    await room.join("bob")
    await wait_for(lambda: room.frames_from("bob", "alice", "video") >= 10, 15, "bob to see alice")

    blocked.add(("bob", "alice", "video"))
    room.router.refresh()
    await asyncio.sleep(0.3)  # frames already in flight
    stopped_at = room.frames_from("bob", "alice", "video")
    audio_before = room.frames_from("bob", "alice", "audio")
    await wait_for(lambda: room.frames_from("bob", "alice", "audio") >= audio_before + 25, 5, "audio to keep flowing")
    assert room.frames_from("bob", "alice", "video") == stopped_at, "video kept arriving while blocked"

    requests_before = room.router.stats().keyframe_requests
    blocked.clear()
    room.router.refresh()
    took = await wait_for(lambda: room.frames_from("bob", "alice", "video") > stopped_at + 2, 3, "video to resume")
    assert took < 1.0, f"video resumed only after {took:.2f}s"
    assert room.router.stats().keyframe_requests > requests_before
    assert room.frames_from("alice", "bob", "video") > 0


async def test_third_participant_triggers_renegotiation_for_the_others(room: TestRoom) -> None:
    await room.join("alice")
    await room.join("bob")
    await wait_for(lambda: everyone_receives(room, 5), 15, "alice and bob to see each other")
    offers_before = dict(room.offers_sent)

    await room.join("carol")
    await wait_for(lambda: everyone_receives(room, 5), 15, "all three to see each other")
    assert room.offers_sent["alice"] == offers_before["alice"] + 1
    assert room.offers_sent["bob"] == offers_before["bob"] + 1


async def test_a_leaving_publishers_slot_is_reused_without_renegotiation(room: TestRoom) -> None:
    await room.join("alice")
    await room.join("bob")
    await wait_for(lambda: room.frames_from("alice", "bob", "video") >= 15, 15, "alice to see bob")
    bob_slot = {entry["kind"]: entry["mid"] for entry in room.router.track_map("alice")}
    offers_before = room.offers_sent.get("alice", 0)
    frames_from_bob = room.clients["alice"].by_mid(bob_slot["video"]).frames

    await room.leave("bob")
    assert room.router.track_map("alice") == []
    await room.join("dave")
    await wait_for(
        lambda: room.frames_from("alice", "dave", "video") >= frames_from_bob + 15, 15, "alice to see dave"
    )

    assert {e["kind"]: e["mid"] for e in room.router.track_map("alice")} == bob_slot
    assert room.offers_sent.get("alice", 0) == offers_before, "alice was re-offered"
    assert room.tracks_changed.get("alice", 0) >= 2  # bob's slot idle, then dave's
    record = room.clients["alice"].by_mid(bob_slot["video"])
    assert all(b > a for a, b in zip(record.pts, record.pts[1:])), "pts went backwards across the switch"
    stats = room.router.stats()
    assert stats.decoders_created == 0 and stats.encoders_created == 0


async def test_a_subscribers_picture_loss_report_reaches_the_publisher(room: TestRoom) -> None:
    from aiortc.rtp import RTCP_PSFB_PLI, RtcpPsfbPacket

    from rtc.router import KEYFRAME_REQUEST_INTERVAL

    await room.join("alice")
    await room.join("bob")
    await wait_for(lambda: room.frames_from("bob", "alice", "video") >= 10, 15, "bob to see alice")
    await asyncio.sleep(KEYFRAME_REQUEST_INTERVAL)
    slot = room.router._participants["bob"].slots[0]  # noqa: SLF001 - the server-side sender
    sender = slot.legs["video"].transceiver.sender
    before = room.router.stats().keyframe_requests

    # what aiortc does when bob's browser sends a PLI for that stream
    await sender._handle_rtcp_packet(RtcpPsfbPacket(fmt=RTCP_PSFB_PLI, ssrc=1, media_ssrc=sender._ssrc))
    await wait_for(lambda: room.router.stats().keyframe_requests > before, 2, "a PLI to alice")
