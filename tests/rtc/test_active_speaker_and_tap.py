"""Active speaker from audio levels, and the encoded-media tap for in-process consumers."""

from __future__ import annotations

import asyncio

import av
import pytest

from aiortc import rtp
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters

from rtc import aiortc_hooks
from rtc.active_speaker import ActiveSpeakerDetector
from rtc_test_clients import TestRoom, wait_for

pytestmark = pytest.mark.timeout(60)

EVERYONE = frozenset({"a", "b"})


def feed(
    detector: ActiveSpeakerDetector, levels: dict[str, int], start: float, seconds: float,
    audiences: dict[str, frozenset[str]] | None = None,
) -> list[dict[str, str | None]]:
    """Levels every 20 ms, evaluated every 200 ms; returns each evaluation whose answer changed."""
    audiences = audiences or {"viewer": EVERYONE}
    changes, last = [], None
    t = start
    while t < start + seconds:
        for seat, level in levels.items():
            detector.observe(seat, level, t)
        if round(t * 50) % 10 == 0:
            shown = detector.speakers(audiences, t)
            if shown != last:
                changes.append(shown)
            last = shown
        t += 0.02
    return changes


def test_speaker_changes_only_after_the_hold() -> None:
    detector = ActiveSpeakerDetector(hold=1.0)
    assert feed(detector, {"a": 20, "b": 127}, 0.0, 0.5) == [{"viewer": "a"}]
    # b talks louder right away: a keeps the floor for its hold, then b takes it
    assert feed(detector, {"a": 40, "b": 10}, 0.5, 0.3) == [{"viewer": "a"}]
    assert feed(detector, {"a": 40, "b": 10}, 0.8, 0.6)[-1] == {"viewer": "b"}
    assert feed(detector, {"a": 127, "b": 127}, 1.4, 2.0)[-1] == {"viewer": None}


def test_a_seat_that_stops_sending_is_not_the_speaker() -> None:
    detector = ActiveSpeakerDetector(hold=0.5)
    feed(detector, {"a": 10}, 0.0, 0.5)
    assert detector.speakers({"viewer": EVERYONE}, 0.5) == {"viewer": "a"}
    assert detector.speakers({"viewer": EVERYONE}, 5.0) == {"viewer": None}


def test_each_audience_has_its_own_speaker() -> None:
    """A caucus (a, b) and the waiting side (c, d) both talking; m, muted, heard by nobody."""
    detector = ActiveSpeakerDetector(hold=1.0)
    caucus, waiting = frozenset({"a", "b"}), frozenset({"c", "d"})
    audiences = {"a": caucus, "b": caucus, "c": waiting, "d": waiting, "m": frozenset({"m"})}
    changes = feed(detector, {"a": 30, "c": 40, "m": 5}, 0.0, 1.0, audiences)
    assert changes[-1] == {"a": "a", "b": "a", "c": "c", "d": "c", "m": "m"}
    # the caucus ends: everyone hears everyone but m, and the loudest of them takes the floor
    joint = frozenset({"a", "b", "c", "d"})
    changes = feed(detector, {"a": 60, "c": 20, "m": 5}, 1.0, 2.0, {seat: joint for seat in "abcd"})
    assert changes[-1] == {seat: "c" for seat in "abcd"}


def rtp_with_audio_level(extension_id: int, level: int, voice: bool, payload: bytes) -> bytes:
    """An RTP packet built by hand: RFC 3550 header, RFC 8285 one-byte extension, RFC 6464 level."""
    header = bytes([0x90, 111, 0x12, 0x34]) + (48000).to_bytes(4, "big") + (0xCAFE).to_bytes(4, "big")
    element = bytes([extension_id << 4 | 0, (0x80 if voice else 0) | level, 0, 0])  # padded to 32 bits
    return header + b"\xbe\xde" + (len(element) // 4).to_bytes(2, "big") + element + payload


@pytest.mark.parametrize(("extension_id", "level", "voice"), [(1, 25, True), (2, 0, False), (14, 127, False)])
def test_the_level_is_read_from_a_real_rtp_header(extension_id: int, level: int, voice: bool) -> None:
    """As the server's transport parses a packet, with the id the participant negotiated; the
    payload is not Opus at all (it is never looked at)."""
    negotiated = rtp.HeaderExtensionsMap()
    negotiated.configure(RTCRtpParameters(headerExtensions=[
        RTCRtpHeaderExtensionParameters(id=extension_id, uri=aiortc_hooks.AUDIO_LEVEL_URI)
    ]))
    data = rtp_with_audio_level(extension_id, level, voice, payload=b"\xff" * 40)
    packet = rtp.RtpPacket.parse(data, negotiated)
    assert aiortc_hooks.audio_level(packet) == level
    assert packet.payload == b"\xff" * 40
    not_negotiated = rtp.RtpPacket.parse(data, rtp.HeaderExtensionsMap())
    assert aiortc_hooks.audio_level(not_negotiated) is None


async def test_the_servers_answer_and_re_offers_negotiate_the_audio_level() -> None:
    room = TestRoom()
    try:
        alice = await room.join("alice")
        await room.join("bob")
        await wait_for(lambda: room.offers_sent.get("alice", 0) > 0, 10, "a re-offer to alice")
        audio_sections = [
            section for kind, description in alice.server_descriptions
            for section in description.split("m=")[1:] if section.startswith("audio")
        ]
        assert len(audio_sections) >= 2  # the answer's and the re-offered slot's
        assert all(aiortc_hooks.AUDIO_LEVEL_URI in section for section in audio_sections)
    finally:
        await room.close()


async def test_router_announces_the_participant_who_makes_noise() -> None:
    room = TestRoom()
    try:
        await room.join("quiet")
        await room.join("loud", loud=True)
        await wait_for(lambda: "loud" in room.speakers, 10, "the loud participant to be announced")
        assert "quiet" not in room.speakers
        await wait_for(lambda: room.speakers_shown.get("quiet", [])[-1:] == ["loud"], 10, "quiet to be told")
    finally:
        await room.close()


async def test_a_caucus_hears_its_own_speaker_and_the_muted_are_nobodys() -> None:
    """aiortc participants through the router: two groups talk at once, a third seat is muted."""
    groups = {"a1": 1, "a2": 1, "b1": 2, "b2": 2, "muted": 3}
    room = TestRoom(policy=lambda subscriber, publisher, kind: groups[subscriber] == groups[publisher])
    try:
        for seat in groups:
            await room.join(seat, loud=seat in ("a1", "b1", "muted"))
        expected = {"a1": "a1", "a2": "a1", "b1": "b1", "b2": "b1", "muted": "muted"}
        await wait_for(
            lambda: all(room.speakers_shown.get(s, [])[-1:] == [w] for s, w in expected.items()), 20,
            f"each group to be told its own speaker (told so far: {room.speakers_shown})",
        )
        assert not {"b1", "muted"} & set(room.speakers_shown["a2"])
        assert not {"a1", "muted"} & set(room.speakers_shown["b2"])
    finally:
        await room.close()


async def test_media_tap_yields_encoded_video_starting_at_a_keyframe() -> None:
    room = TestRoom()
    try:
        await room.join("alice")
        received: list[av.Packet] = []

        async def consume() -> None:
            async for packet in room.router.subscribe_encoded("alice", "video"):
                received.append(packet)
                if len(received) >= 30:
                    return

        await asyncio.wait_for(consume(), 15)
        assert received[0].is_keyframe
        assert all(isinstance(p, av.Packet) and p.size > 0 for p in received)
        pts = [p.pts for p in received]
        assert pts == sorted(set(pts))
        assert room.router.stats().decoders_created == 0
        assert room.router._tap._subscriptions == {}  # noqa: SLF001 - the subscription was released
    finally:
        await room.close()
