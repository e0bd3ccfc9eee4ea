"""Active speaker from audio levels, and the encoded-media tap for in-process consumers."""

from __future__ import annotations

import asyncio

import av
import pytest

from rtc.active_speaker import ActiveSpeakerDetector, SpeakerChange
from rtc_test_clients import TestRoom, wait_for

pytestmark = pytest.mark.timeout(60)


def feed(detector: ActiveSpeakerDetector, levels: dict[str, int], start: float, seconds: float) -> list[SpeakerChange]:
    changes = []
    t = start
    while t < start + seconds:
        for seat, level in levels.items():
            detector.observe(seat, level, t)
        if round(t * 50) % 10 == 0:
            change = detector.evaluate(t)
            if change is not None:
                changes.append(change)
        t += 0.02
    return changes


def test_speaker_changes_only_after_the_hold() -> None:
    detector = ActiveSpeakerDetector(hold=1.0)
    assert feed(detector, {"a": 20, "b": 127}, 0.0, 0.5) == [SpeakerChange("a")]
    # b talks louder right away: a keeps the floor for its hold, then b takes it
    changes = feed(detector, {"a": 40, "b": 10}, 0.5, 0.3)
    assert changes == []
    assert feed(detector, {"a": 40, "b": 10}, 0.8, 0.6) == [SpeakerChange("b")]
    assert feed(detector, {"a": 127, "b": 127}, 1.4, 2.0) == [SpeakerChange(None)]


def test_a_seat_that_stops_sending_is_not_the_speaker() -> None:
    detector = ActiveSpeakerDetector(hold=0.5)
    feed(detector, {"a": 10}, 0.0, 0.5)
    assert detector.speaker == "a"
    assert detector.evaluate(5.0) == SpeakerChange(None)


async def test_router_announces_the_participant_who_makes_noise() -> None:
    room = TestRoom()
    try:
        await room.join("quiet")
        await room.join("loud", loud=True)
        await wait_for(lambda: "loud" in room.speakers, 10, "the loud participant to be announced")
        assert "quiet" not in room.speakers
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
