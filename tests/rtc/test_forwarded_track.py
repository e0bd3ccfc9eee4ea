"""ForwardedTrack: bounded queue, keyframe gating, pauses and monotonic timestamps."""

from __future__ import annotations

import asyncio
from fractions import Fraction

import av
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtc.forwarded_track import ForwardedTrack, ForwardingCounters


def packet(pts: int, keyframe: bool = False, rate: int = 90000) -> av.Packet:
    p = av.Packet(bytes([0 if keyframe else 1]) + bytes(10))
    p.pts, p.time_base, p.is_keyframe = pts, Fraction(1, rate), keyframe
    return p



async def take(track: ForwardedTrack) -> list[av.Packet]:
    out = []
    while track._queue:  # noqa: SLF001
        out.append(await track.recv())
    return out


async def test_paused_track_yields_nothing_and_video_starts_at_a_keyframe() -> None:
    track = ForwardedTrack("video", on_keyframe_needed=lambda: None)
    track.push(packet(0, keyframe=True))
    pending = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0.05)
    assert not pending.done(), "a paused track produced a frame"

    track.resume()
    track.push(packet(3000))  # inter frame before any keyframe: undecodable, dropped
    track.push(packet(6000, keyframe=True))
    track.push(packet(9000))
    first = await asyncio.wait_for(pending, 1)
    assert first.is_keyframe
    assert (await track.recv()).pts == first.pts + 3000
    track.stop()


async def test_a_track_still_waiting_for_a_keyframe_asks_again_once_a_second() -> None:
    now = [100.0]
    requests: list[float] = []
    track = ForwardedTrack("video", on_keyframe_needed=lambda: requests.append(now[0]), clock=lambda: now[0])
    track.resume()  # the router asks for the first keyframe itself
    for step in range(30):  # 3 s of inter frames at 10 fps, the requested keyframe never comes
        now[0] = 100.0 + step / 10
        track.push(packet(3000 * step))
    assert requests == [101.0, 102.0]
    track.push(packet(90000, keyframe=True))
    now[0] = 104.0
    track.push(packet(93000))
    assert requests == [101.0, 102.0], "asked again after the keyframe arrived"
    assert [p.is_keyframe for p in await take(track)] == [True, False]
    track.stop()


async def test_audio_overflow_drops_the_oldest() -> None:
    counters = ForwardingCounters()
    track = ForwardedTrack("audio", on_keyframe_needed=lambda: None, counters=counters, capacity=3)
    track.resume()
    for i in range(5):
        track.push(packet(960 * i, keyframe=True, rate=48000))
    out = await take(track)
    assert [bytes(p) for p in out] == [bytes(packet(0, True))] * 3
    assert [p.pts for p in out] == [960 * 2, 960 * 3, 960 * 4]
    assert counters.frames_dropped == 2 and counters.frames_forwarded == 3


async def test_video_overflow_drops_until_the_next_keyframe_and_asks_for_one() -> None:
    requests = []
    track = ForwardedTrack("video", on_keyframe_needed=lambda: requests.append(1), capacity=3)
    track.resume()
    track.push(packet(0, keyframe=True))
    for i in range(1, 6):
        track.push(packet(3000 * i))
    assert requests == [1]
    assert await take(track) == []
    track.push(packet(30000, keyframe=True))
    (resumed,) = await take(track)
    assert resumed.is_keyframe


async def test_source_switch_and_pause_keep_pts_moving_forward() -> None:
    track = ForwardedTrack("video", on_keyframe_needed=lambda: None)
    track.resume()
    track.push(packet(900_000, keyframe=True))
    track.push(packet(903_000))
    before = await take(track)
    track.switch_source()  # the new publisher's clock starts at 0
    track.push(packet(0, keyframe=True))
    track.pause()
    track.resume()
    track.push(packet(3000, keyframe=True))
    after = await take(track)
    pts = [p.pts for p in before + after]
    assert len(pts) == 3 and pts == sorted(set(pts))


operations = st.lists(
    st.one_of(
        st.tuples(st.just("push"), st.integers(-(2**31), 2**31), st.booleans()),
        st.tuples(st.just("switch"), st.none(), st.none()),
        st.tuples(st.just("pause"), st.none(), st.none()),
        st.tuples(st.just("resume"), st.none(), st.none()),
        st.tuples(st.just("recv"), st.none(), st.none()),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from(["audio", "video"]), ops=operations)
def test_any_sequence_keeps_the_queue_bounded_and_pts_increasing(kind: str, ops) -> None:  # type: ignore[no-untyped-def]
    async def run() -> list[int]:
        track = ForwardedTrack(kind, on_keyframe_needed=lambda: None, capacity=4)
        sent: list[int] = []
        for op, pts, key in ops:
            if op == "push":
                track.push(packet(pts, key, 90000 if kind == "video" else 48000))
            elif op == "switch":
                track.switch_source()
            elif op == "pause":
                track.pause()
            elif op == "resume":
                track.resume()
            else:
                sent += [p.pts for p in await take(track)]
            assert len(track._queue) <= 4  # noqa: SLF001
        return sent + [p.pts for p in await take(track)]

    sent = asyncio.run(run())
    assert all(b > a for a, b in zip(sent, sent[1:]))


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        ForwardedTrack("data", on_keyframe_needed=lambda: None)


async def test_a_frame_after_upstream_loss_stops_video_until_the_next_keyframe() -> None:
    requests = []
    track = ForwardedTrack("video", on_keyframe_needed=lambda: requests.append(1))
    track.resume()
    track.push(packet(0, keyframe=True))
    after_loss = packet(6000)
    after_loss.is_corrupt = True
    track.push(after_loss)
    track.push(packet(9000))
    assert requests == [1]
    track.push(packet(12000, keyframe=True))
    assert [p.is_keyframe for p in await take(track)] == [True, True]
