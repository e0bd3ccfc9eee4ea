"""The aiortc internals rtc/ relies on: fail loudly when an aiortc upgrade moves them."""

from __future__ import annotations

import asyncio
from fractions import Fraction

import av
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender
from aiortc.codecs import get_capabilities
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

import rtc.router  # noqa: F401 - installs the hooks, as the server does
from rtc import aiortc_hooks
from rtc_test_clients import PatternVideoTrack, wait_for
from tests.support.loopback_media import loopback_peer

VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=97)
H264 = RTCRtpCodecParameters(
    mimeType="video/H264", clockRate=90000, payloadType=99, parameters={"packetization-mode": "1"}
)
OPUS = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=96)


def test_installed_aiortc_has_every_hooked_internal() -> None:
    aiortc_hooks.check_compatibility()


@pytest.mark.parametrize(
    ("owner", "name", "expected"),
    [
        ("sender", "_send_keyframe", "_send_keyframe"),
        ("receiver", "_send_rtcp_pli", "_send_rtcp_pli"),
        ("receiver", "_handle_rtp_packet", "_handle_rtp_packet"),
        ("sender", "_next_encoded_frame", "_next_encoded_frame"),
    ],
)
def test_compatibility_check_names_a_missing_internal(
    monkeypatch: pytest.MonkeyPatch, owner: str, name: str, expected: str
) -> None:
    cls = RTCRtpSender if owner == "sender" else aiortc_hooks.RTCRtpReceiver
    monkeypatch.delattr(cls, name)
    with pytest.raises(aiortc_hooks.AiortcCompatibilityError, match=expected):
        aiortc_hooks.check_compatibility()


def test_compatibility_check_notices_factories_and_changed_signatures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(aiortc_hooks.receiver_module, "get_decoder")
    monkeypatch.delattr(aiortc_hooks.sender_module, "get_encoder")

    async def renamed(self, ssrc):  # type: ignore[no-untyped-def]
        return None

    monkeypatch.setattr(aiortc_hooks.RTCRtpReceiver, "_send_rtcp_pli", renamed)
    with pytest.raises(aiortc_hooks.AiortcCompatibilityError) as error:
        aiortc_hooks.check_compatibility()
    message = str(error.value)
    assert "get_decoder" in message and "get_encoder" in message and "media_ssrc" in message


def test_compatibility_check_notices_what_keeping_the_numbering_relies_on(monkeypatch: pytest.MonkeyPatch) -> None:
    async def offer_without_codecs(self):  # type: ignore[no-untyped-def]
        return None

    monkeypatch.setattr(RTCPeerConnection, "createOffer", offer_without_codecs)
    monkeypatch.delattr(aiortc_hooks.RTCRtpTransceiver, "_get_mline_index")
    monkeypatch.delattr(aiortc_hooks.peer_connection_module, "is_codec_compatible")
    with pytest.raises(aiortc_hooks.AiortcCompatibilityError) as error:
        aiortc_hooks.check_compatibility()
    message = str(error.value)
    assert "createOffer" in message and "_get_mline_index" in message and "is_codec_compatible" in message


def encode_vp8(frames: int) -> list[av.Packet]:
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 160, 120, "yuv420p"
    encoder.time_base = Fraction(1, 30)
    encoder.gop_size = 5
    packets = []
    for i in range(frames):
        image = np.full((120, 160, 3), (i * 20) % 255, dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        packets += encoder.encode(frame)
    return packets + list(encoder.encode(None))


def encode_h264(frames: int) -> list[av.Packet]:
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 160, 120, "yuv420p"
    encoder.time_base = Fraction(1, 30)
    encoder.options = {"keyint": "4", "bframes": "0", "tune": "zerolatency"}
    packets = []
    for i in range(frames):
        frame = av.VideoFrame.from_ndarray(np.full((120, 160, 3), i * 9, dtype=np.uint8), format="rgb24")
        frame = frame.reformat(format="yuv420p")
        frame.pts = i
        packets += encoder.encode(frame)
    return packets + list(encoder.encode(None))


@pytest.mark.parametrize(("codec", "encode"), [(VP8, encode_vp8), (H264, encode_h264)])
def test_pass_through_decoder_flags_real_keyframes(codec, encode) -> None:  # type: ignore[no-untyped-def]
    packets = encode(12)
    expected = [p.is_keyframe for p in packets]
    assert expected[0] and not all(expected), "the encoder should produce key and inter frames"

    decoder = aiortc_hooks.PassThroughDecoder(codec)
    out = [decoder.decode(JitterFrame(data=bytes(p), timestamp=3000 * i))[0] for i, p in enumerate(packets)]
    assert [p.is_keyframe for p in out] == expected
    assert [bytes(p) for p in out] == [bytes(p) for p in packets]
    assert [p.pts for p in out] == [3000 * i for i in range(len(packets))]
    assert all(p.time_base == Fraction(1, 90000) for p in out)


def test_keyframe_detection_on_degenerate_input() -> None:
    assert not aiortc_hooks.is_vp8_keyframe(b"")
    # An inter frame's tail (its first packet lost) whose first byte happens to have bit 0 clear.
    assert not aiortc_hooks.is_vp8_keyframe(b"\x10\x02\x00\x11\x22\x33\x44\x55\x66\x77")
    assert aiortc_hooks.is_vp8_keyframe(b"\x10\x02\x00\x9d\x01\x2a\x80\x02\xe0\x01")
    assert not aiortc_hooks.is_h264_keyframe(b"")
    assert not aiortc_hooks.is_h264_keyframe(b"\x00\x00\x01")
    assert aiortc_hooks.is_h264_keyframe(b"\x00\x00\x00\x01\x67\x00\x00\x01\x65")
    assert not aiortc_hooks.is_h264_keyframe(b"\x00\x00\x01\x41\x9a")


def test_pass_through_encoder_packs_without_opening_a_codec() -> None:
    counters = aiortc_hooks.CodecCounters()
    video = aiortc_hooks.PassThroughEncoder(VP8, counters)
    packet = encode_vp8(1)[0]
    packet.pts, packet.time_base = 3000, Fraction(1, 90000)
    payloads, timestamp = video.pack(packet)
    assert timestamp == 3000 and len(payloads) >= 1
    audio = aiortc_hooks.PassThroughEncoder(OPUS, counters)
    opus = av.Packet(b"\xfc" + bytes(40))
    opus.pts, opus.time_base = 960, Fraction(1, 48000)
    assert audio.pack(opus) == ([bytes(opus)], 960)
    assert counters.encoders_created == 0

    frame = av.VideoFrame.from_ndarray(np.zeros((120, 160, 3), dtype=np.uint8), format="rgb24")
    frame.pts, frame.time_base = 0, Fraction(1, 90000)
    video.encode(frame.reformat(format="yuv420p"))
    assert counters.encoders_created == 1, "a decoded frame reaching a router sender must be counted"


async def connected_pair(owned_counters: aiortc_hooks.CodecCounters | None):  # type: ignore[no-untyped-def]
    sender, receiver = (loopback_peer(RTCPeerConnection(RTCConfiguration(iceServers=[]))) for _ in range(2))
    if owned_counters is not None:
        aiortc_hooks.own_peer(receiver, owned_counters)
    sender.addTrack(PatternVideoTrack())
    frames: list[object] = []

    @receiver.on("track")
    def on_track(track) -> None:  # type: ignore[no-untyped-def]
        async def read() -> None:
            while True:
                frames.append(await track.recv())

        asyncio.ensure_future(read())

    await sender.setLocalDescription(await sender.createOffer())
    await receiver.setRemoteDescription(sender.localDescription)
    await receiver.setLocalDescription(await receiver.createAnswer())
    await sender.setRemoteDescription(receiver.localDescription)
    return sender, receiver, frames


async def test_plain_aiortc_still_decodes_and_an_unrouted_router_receiver_is_counted() -> None:
    counters = aiortc_hooks.CodecCounters()
    plain = await connected_pair(None)
    owned = await connected_pair(counters)
    try:
        await wait_for(lambda: len(plain[2]) >= 3 and len(owned[2]) >= 3, 15, "frames on both pairs")
        assert all(isinstance(f, av.VideoFrame) for f in plain[2] + owned[2])
        # the owned peer's receiver was never routed, so it decoded, and that was counted
        assert counters.decoders_created == 1
    finally:
        for pc in (*plain[:2], *owned[:2]):
            await pc.close()


def test_audio_level_extension_is_read() -> None:
    from aiortc.rtp import RtpPacket

    packet = RtpPacket()
    assert aiortc_hooks.audio_level(packet) is None
    packet.extensions.audio_level = (True, 30)
    assert aiortc_hooks.audio_level(packet) == 30
    assert any(
        ext.uri == aiortc_hooks.AUDIO_LEVEL_URI for ext in get_capabilities("audio").headerExtensions
    )


def rtp(seq: int, timestamp: int, marker: bool = False, data: bytes = b"x") -> "RtpPacket":
    from aiortc.rtp import RtpPacket

    packet = RtpPacket(sequence_number=seq, timestamp=timestamp, marker=int(marker))
    packet._data = data  # what aiortc's depayloader sets
    return packet


def test_forwarding_jitter_buffer_releases_video_at_the_marker_bit() -> None:
    buffer = aiortc_hooks.ForwardingJitterBuffer(capacity=16, is_video=True)
    assert buffer.add(rtp(10, 3000, data=b"a")) == (False, None)
    pli, frame = buffer.add(rtp(11, 3000, marker=True, data=b"b"))
    assert not pli and frame is not None and (frame.data, frame.timestamp) == (b"ab", 3000)
    # reordered packets still assemble
    assert buffer.add(rtp(13, 6000, marker=True, data=b"d"))[1] is None
    assert buffer.add(rtp(12, 6000, data=b"c"))[1].data == b"cd"


def test_forwarding_jitter_buffer_skips_a_lost_packet_after_a_short_wait() -> None:
    now = [0.0]
    buffer = aiortc_hooks.ForwardingJitterBuffer(capacity=16, is_video=True, max_gap_wait=0.25, clock=lambda: now[0])
    buffer.add(rtp(1, 100, marker=True))
    # packet 2 (first half of frame 200) is lost for good
    assert buffer.add(rtp(3, 200, marker=True)) == (False, None)
    assert buffer.add(rtp(4, 300, marker=True)) == (False, None)
    now[0] = 0.3
    pli, frame = buffer.add(rtp(5, 400, data=b"y"))
    assert pli, "skipping a gap must ask the publisher for a keyframe"
    assert frame is not None and frame.timestamp == 300, "the broken frame is dropped, the next one flows"
    assert isinstance(frame, aiortc_hooks.FrameAfterLoss)
    following = buffer.add(rtp(6, 400, marker=True, data=b"z"))[1]
    assert following.data == b"yz" and not isinstance(following, aiortc_hooks.FrameAfterLoss)

    decoder = aiortc_hooks.PassThroughDecoder(VP8)
    inter, key = b"\x01" + bytes(9), b"\x00\x00\x00\x9d\x01\x2a" + bytes(4)
    assert decoder.decode(aiortc_hooks.FrameAfterLoss(inter, 300))[0].is_corrupt
    assert not decoder.decode(aiortc_hooks.FrameAfterLoss(key, 300))[0].is_corrupt
    assert not decoder.decode(following)[0].is_corrupt


def test_forwarding_jitter_buffer_passes_audio_through_and_drops_late_packets() -> None:
    buffer = aiortc_hooks.ForwardingJitterBuffer(capacity=16, is_video=False)
    assert buffer.add(rtp(100, 960, data=b"a"))[1].data == b"a"
    assert buffer.add(rtp(102, 2880, data=b"c"))[1].data == b"c"
    assert buffer.add(rtp(101, 1920, data=b"b")) == (False, None)
    assert buffer.add(rtp(103, 3840, data=b"d"))[1].timestamp == 3840
