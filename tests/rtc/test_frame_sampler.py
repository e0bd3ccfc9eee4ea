"""The frame sampler: encoded VP8 in, a few decoded BGR frames out, bounded, off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from fractions import Fraction

import av
import numpy as np
import pytest

from rtc.frame_sampler import NoFramesError, collect_packets, decode_sampled, sample_video

pytestmark = pytest.mark.timeout(60)


def encode_vp8(frames: int, fps: int = 30) -> list[av.Packet]:
    """Frames whose brightness encodes their index, with RTP-like pts (90 kHz)."""
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 160, 120, "yuv420p"
    encoder.time_base = Fraction(1, fps)
    encoder.gop_size = 10
    packets = []
    for i in range(frames):
        image = np.full((120, 160, 3), 10 + i * 4, dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(image, format="bgr24").reformat(format="yuv420p")
        frame.pts = i
        packets += encoder.encode(frame)
    packets += list(encoder.encode(None))
    for packet in packets:
        packet.pts = packet.pts * 90000 // fps
        packet.time_base = Fraction(1, 90000)
    return packets


def test_decodes_from_the_first_keyframe_and_keeps_only_sampled_frames() -> None:
    packets = encode_vp8(60)  # 2 s at 30 fps
    frames = decode_sampled(packets, fps=5, max_frames=100)
    assert 9 <= len(frames) <= 11
    assert [f.t for f in frames] == sorted(f.t for f in frames) and frames[-1].t <= 2.0
    gaps = [b.t - a.t for a, b in zip(frames, frames[1:])]
    assert all(0.19 <= g <= 0.25 for g in gaps), gaps
    for frame in frames:  # really decoded: the brightness of the frame it was
        index = round(frame.t * 30)
        assert frame.image.shape == (120, 160, 3) and frame.image.dtype == np.uint8
        assert abs(float(frame.image.mean()) - (10 + index * 4)) < 6
    assert len(decode_sampled(packets, fps=30, max_frames=7)) == 7


def test_inter_frames_before_any_keyframe_give_nothing() -> None:
    packets = [p for p in encode_vp8(30) if not p.is_keyframe]
    assert packets and decode_sampled(packets) == []


async def _stream(packets: list[av.Packet], interval: float) -> AsyncIterator[av.Packet]:
    for packet in packets:
        await asyncio.sleep(interval)
        yield packet


async def test_collects_for_the_given_time_after_the_first_frame() -> None:
    collected = await collect_packets(_stream(encode_vp8(60), 0.02), seconds=0.3, wait_for_first=1.0)
    assert 8 <= len(collected) <= 20


async def test_a_silent_seat_gives_no_frames_error_in_bounded_time() -> None:
    async def silent() -> AsyncIterator[av.Packet]:
        await asyncio.sleep(30)
        yield encode_vp8(1)[0]

    loop = asyncio.get_running_loop()
    began = loop.time()
    with pytest.raises(NoFramesError) as error:
        await sample_video(silent(), seconds=0.2, wait_for_first=0.3)
    assert error.value.code == "no_frames" and loop.time() - began < 2
