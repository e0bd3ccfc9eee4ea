"""PacketLeg and rtp_bytes on hand-made packets: numbering, VP8 ids, NACK, congestion."""

from __future__ import annotations

import aiortc
import pytest
from aiortc.codecs.vpx import VpxPayloadDescriptor
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtp import RTCP_RTPFB_NACK, RtcpReceiverInfo, RtcpRrPacket, RtcpRtpfbPacket, RtpPacket

from rtc._hooks import packet_path
from rtc._hooks.packet_path import ABS_SEND_TIME_URI, MID_URI, SenderParameters
from rtc.packet_leg import BACKOFF_FIRST, HISTORY, PacketLeg
from rtc.rtp_bytes import find_extension, is_vp8_keyframe_start, vp8_ids


class FakeSender:
    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.accept = True

    def send(self, data: bytes) -> bool:
        if self.accept:
            self.sent.append(data)
        return self.accept


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Upstream:
    def __init__(self) -> None:
        self.asked: list[int] = []

    def nack(self, seqs: list[int]) -> None:
        self.asked.extend(seqs)


def vp8(picture_id: int, keyframe: bool, start: bool = True, tl0: int | None = None) -> bytes:
    descriptor = VpxPayloadDescriptor(partition_start=int(start), partition_id=0, picture_id=picture_id,
                                      tl0picidx=tl0)
    return bytes(descriptor) + (b"\x10" if keyframe else b"\x11") + b"\x02\x00\x9d\x01\x2a" + bytes(20)


def make_leg(kind: str = "video", rtx: bool = True) -> tuple[PacketLeg, FakeSender, Clock, list[int]]:
    sender, clock, requests = FakeSender(), Clock(), []
    leg = PacketLeg(kind, sender, on_keyframe_request=lambda: requests.append(1), clock=clock)  # type: ignore[arg-type]
    leg.configure(SenderParameters(ssrc=0xAAAA, rtx_ssrc=0xBBBB, payload_type=97,
                                   rtx_payload_type=98 if rtx else None,
                                   clock_rate=90000 if kind == "video" else 48000,
                                   extension_ids={MID_URI: 1, ABS_SEND_TIME_URI: 3}, mid="4"))
    return leg, sender, clock, requests


def push(leg: PacketLeg, seq: int, ts: int, payload: bytes, source: object = None, marker: int = 0x80) -> None:
    picture_id, tl0 = vp8_ids(payload)
    leg.forward(marker, seq, ts, payload, is_vp8_keyframe_start(payload), picture_id, tl0, b"\x00\x01\x02", None,
                source)


def parsed(data: bytes) -> RtpPacket:
    return RtpPacket.parse(data)


def test_vp8_keyframe_start_and_ids_are_read_from_the_descriptor() -> None:
    assert is_vp8_keyframe_start(vp8(300, keyframe=True))
    assert not is_vp8_keyframe_start(vp8(300, keyframe=False))
    assert not is_vp8_keyframe_start(vp8(300, keyframe=True, start=False))
    assert vp8_ids(vp8(300, keyframe=False, tl0=9)) == (300, 9)
    assert vp8_ids(b"") == (None, None)


def test_a_leg_starts_at_a_keyframe_with_its_own_ssrc_and_extensions() -> None:
    leg, sender, _, _ = make_leg()
    leg.set_active(True)
    push(leg, 1000, 5000, vp8(10, keyframe=False))
    assert sender.sent == []  # waits for a keyframe
    push(leg, 1001, 8000, vp8(11, keyframe=True))
    push(leg, 1002, 11000, vp8(12, keyframe=False))
    first, second = (parsed(d) for d in sender.sent)
    assert first.ssrc == second.ssrc == 0xAAAA and first.payload_type == 97
    assert second.sequence_number == (first.sequence_number + 1) & 0xFFFF
    assert (second.timestamp - first.timestamp) & 0xFFFFFFFF == 3000
    assert find_extension(sender.sent[0], 1) == b"4"  # the subscriber's mid
    assert find_extension(sender.sent[0], 3) == b"\x00\x01\x02"
    assert vp8_ids(first.payload) == (11, None)  # the first run keeps the publisher's ids


def test_numbering_continues_across_a_source_switch() -> None:
    leg, sender, clock, _ = make_leg()
    leg.set_active(True)
    for i in range(3):
        push(leg, 500 + i, 90000 + 3000 * i, vp8(7000 + i, keyframe=i == 0, tl0=40 + i))
    last = parsed(sender.sent[-1])
    leg.restart()
    clock.now += 0.5
    push(leg, 60000, 123, vp8(5, keyframe=True, tl0=200))
    switched = parsed(sender.sent[-1])
    assert switched.sequence_number == (last.sequence_number + 1) & 0xFFFF
    assert (switched.timestamp - last.timestamp) & 0xFFFFFFFF == 45000  # 0.5 s later
    assert vp8_ids(switched.payload) == ((vp8_ids(last.payload)[0] or 0) + 1, 43)
    push(leg, 59999, 0, vp8(4, keyframe=False))  # older than the new run's start
    assert parsed(sender.sent[-1]).sequence_number == switched.sequence_number


def test_nacks_are_answered_with_rtx_from_the_history_and_the_rest_goes_upstream() -> None:
    leg, sender, _, _ = make_leg()
    upstream = Upstream()
    leg.set_active(True)
    for i in range(5):
        push(leg, 100 + i, 3000 * i, vp8(i, keyframe=i == 0), source=upstream)
    wanted = parsed(sender.sent[2])
    lost = [wanted.sequence_number, (parsed(sender.sent[-1]).sequence_number + 1) & 0xFFFF]
    leg.handle_rtcp(RtcpRtpfbPacket(fmt=RTCP_RTPFB_NACK, ssrc=1, media_ssrc=0xAAAA, lost=lost))

    rtx = parsed(sender.sent[-1])
    assert rtx.ssrc == 0xBBBB and rtx.payload_type == 98
    assert rtx.payload[:2] == wanted.sequence_number.to_bytes(2, "big") and rtx.payload[2:] == wanted.payload
    assert upstream.asked == [105]  # the publisher's own number for the one never forwarded
    assert leg.retransmitted == 1 and leg.upstream_nacks == 1


def test_history_is_a_fixed_ring() -> None:
    leg, sender, _, _ = make_leg()
    leg.set_active(True)
    for i in range(3 * HISTORY):
        push(leg, i & 0xFFFF, 3000 * i, vp8(i & 0x7FFF, keyframe=i == 0))
    assert len(leg._history or []) == HISTORY  # noqa: SLF001
    assert len(sender.sent) == 3 * HISTORY


def test_a_subscriber_that_reports_heavy_loss_loses_video_for_a_while() -> None:
    leg, sender, clock, requests = make_leg()
    leg.set_active(True)
    seq = 0

    def one_second() -> None:
        nonlocal seq
        for _ in range(30):
            push(leg, seq, 3000 * seq, vp8(seq, keyframe=seq % 60 == 0))
            seq += 1
        clock.now += 1.0
        leg.handle_rtcp(RtcpRrPacket(ssrc=1, reports=[RtcpReceiverInfo(
            ssrc=0xAAAA, fraction_lost=160, packets_lost=0, highest_sequence=leg._last_seq, jitter=0, lsr=0, dlsr=0)]))
        leg.evaluate(clock.now)

    one_second()
    assert not leg.video_paused
    one_second()
    assert leg.video_paused and leg.video_pauses == 1
    before = len(sender.sent)
    one_second()
    assert len(sender.sent) == before, "video went on during the pause"
    clock.now += BACKOFF_FIRST
    assert leg.resume_due(clock.now)
    push(leg, seq, 0, vp8(seq, keyframe=True))
    assert len(sender.sent) == before + 1 and not leg.video_paused


def test_audio_is_never_paused_for_congestion() -> None:
    leg, sender, clock, _ = make_leg("audio", rtx=False)
    leg.set_active(True)
    for i in range(200):
        leg.forward(0, i, 960 * i, b"opus", True, None, None, b"\x00\x00\x00", b"\x85", None)
        if i % 50 == 49:
            clock.now += 1.0
            leg.evaluate(clock.now)
    assert len(sender.sent) == 200 and leg.video_pauses == 0


def test_a_full_socket_buffer_counts_as_not_keeping_up() -> None:
    leg, sender, clock, _ = make_leg()
    leg.set_active(True)
    push(leg, 0, 0, vp8(0, keyframe=True))
    sender.accept = False
    for i in range(1, 20):
        push(leg, i, 3000 * i, vp8(i, keyframe=False))
    clock.now += 1.0
    leg.evaluate(clock.now)
    assert leg.video_paused and leg.send_failures == 19


def test_the_packet_path_hooks_match_the_installed_aiortc() -> None:
    packet_path.check_compatibility()
    assert aiortc.__version__ == "1.16.0", (
        "rtc/_hooks/packet_path.py is written against aiortc 1.16.0's internals: re-read them "
        "(RTCDtlsTransport._handle_rtp_data/_send_rtp, RtpRouter.route_rtp, the sender's report "
        "fields) before moving the pin in pyproject.toml"
    )


def test_the_compatibility_check_names_a_changed_internal(monkeypatch: pytest.MonkeyPatch) -> None:
    async def send_rtp(self, data: bytes) -> None:  # type: ignore[no-untyped-def]
        await self.transport.send(data)

    async def handle_rtp_data(self, data: bytes) -> None:  # type: ignore[no-untyped-def]
        return None

    monkeypatch.setattr(RTCDtlsTransport, "_send_rtp", send_rtp)
    monkeypatch.setattr(RTCDtlsTransport, "_handle_rtp_data", handle_rtp_data)
    with pytest.raises(packet_path.PacketPathCompatibilityError) as raised:
        packet_path.check_compatibility()
    assert "_send_rtp" in str(raised.value) and "_handle_rtp_data" in str(raised.value)
