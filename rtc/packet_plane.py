"""The router's data plane: publishers' decrypted RTP straight to subscribers' legs.

Per publisher packet: read the header fields (no ``RtpPacket``), unwrap RTX, note losses
(NACKed at once, one RTCP packet per burst), then each allowed leg rewrites, protects and
sends it in the same call — no queue, no task, no jitter buffer, no depacketising. Only
when an in-process consumer (recording, identity check) subscribed to the seat's media does
the packet also go through aiortc's depacketiser and jitter buffer to make frames.

Once a second the plane sends each publisher a receiver report and, for video, a REMB equal
to the lowest estimate among the subscribers it is forwarded to (capped at ``MAX_REMB``;
subscribers whose video is paused for congestion do not hold the others back), and lets each
leg judge its subscriber's congestion.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiortc import RTCRtpReceiver
from aiortc.codecs import is_rtx
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    RtcpPsfbPacket,
    RtcpReceiverInfo,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    pack_remb_fci,
)

from ._hooks import packet_path as hooks
from .packet_leg import PacketLeg
from .rtp_bytes import SEQ_TS_SSRC, UINT16, abs_send_time, find_extension, is_vp8_keyframe_start, vp8_ids

log = logging.getLogger(__name__)

MAX_REMB = 2_500_000  # bps a publisher may send video at when its subscribers allow it
MIN_REMB = 150_000
NACK_WINDOW = 512  # missing sequence numbers older than this are given up


@dataclass(eq=False)
class IngressStream:
    """One published track: its SSRCs, loss and report state, and the legs it feeds."""

    seat: str
    kind: str
    receiver: RTCRtpReceiver
    uplink: hooks.DirectSender
    params: hooks.ReceiverParameters | None = None
    media_ssrc: int | None = None
    legs: list[PacketLeg] = field(default_factory=list)
    frames_wanted: bool = False
    audio_level_id: int | None = None
    packets: int = 0
    # receiver-report state (RFC 3550 A.3)
    base_seq: int | None = None
    max_seq: int = 0
    cycles: int = 0
    expected_prior: int = 0
    received_prior: int = 0
    missing: set[int] = field(default_factory=set)
    nack_pending: list[int] = field(default_factory=list)

    @property
    def video(self) -> bool:
        return self.kind == "video"

    def nack(self, seqs: list[int]) -> None:
        """Ask the publisher to resend these (its sequence numbers)."""
        rtcp_ssrc = hooks.receiver_rtcp_state(self.receiver)[0]
        if rtcp_ssrc is None or self.media_ssrc is None or not seqs:
            return
        packet = RtcpRtpfbPacket(fmt=RTCP_RTPFB_NACK, ssrc=rtcp_ssrc, media_ssrc=self.media_ssrc)
        packet.lost = sorted(set(seqs))
        self.uplink.send_rtcp(bytes(packet))

    def picture_loss(self) -> int:
        """Send the publisher a PLI; returns how many were sent (0 before media flows)."""
        rtcp_ssrc = hooks.receiver_rtcp_state(self.receiver)[0]
        if rtcp_ssrc is None or self.media_ssrc is None:
            return 0
        return int(self.uplink.send_rtcp(bytes(RtcpPsfbPacket(fmt=RTCP_PSFB_PLI, ssrc=rtcp_ssrc,
                                                              media_ssrc=self.media_ssrc))))

    def report(self, subscribers_remb: int | None) -> bytes | None:
        """A receiver report (and REMB for video) for the publisher, as RTCP bytes."""
        rtcp_ssrc, lsr, lsr_time = hooks.receiver_rtcp_state(self.receiver)
        if rtcp_ssrc is None or self.media_ssrc is None or self.base_seq is None:
            return None
        extended = self.cycles | self.max_seq
        expected = extended - self.base_seq + 1
        expected_interval = expected - self.expected_prior
        received_interval = self.packets - self.received_prior
        self.expected_prior, self.received_prior = expected, self.packets
        lost_interval = expected_interval - received_interval
        fraction = (lost_interval << 8) // expected_interval if expected_interval > 0 and lost_interval > 0 else 0
        dlsr = 0
        if self.media_ssrc in lsr:
            delay = time.time() - lsr_time[self.media_ssrc]
            dlsr = int(delay * 65536) if 0 < delay < 65536 else 0
        info = RtcpReceiverInfo(
            ssrc=self.media_ssrc, fraction_lost=min(fraction, 255),
            packets_lost=max(0, min(expected - self.packets, 0x7FFFFF)),
            highest_sequence=extended & 0xFFFFFFFF, jitter=0,
            lsr=lsr.get(self.media_ssrc, 0), dlsr=dlsr,
        )
        data = bytes(RtcpRrPacket(ssrc=rtcp_ssrc, reports=[info]))
        if self.video:
            bitrate = MAX_REMB if subscribers_remb is None else max(MIN_REMB, min(MAX_REMB, subscribers_remb))
            data += bytes(RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0,
                                         fci=pack_remb_fci(bitrate, [self.media_ssrc])))
        return data


class PacketPlane:
    """Ingress streams by SSRC, per publisher transport, and the once-a-second feedback."""

    def __init__(self, on_audio_level: Callable[[str, int], None]) -> None:
        self._on_audio_level = on_audio_level
        self._streams: dict[RTCRtpReceiver, IngressStream] = {}
        self._transports: dict[RTCDtlsTransport, dict[int, tuple[IngressStream, int | None]]] = {}
        self._nack_due: set[IngressStream] = set()
        self.packets_in = 0
        self.losses_nacked = 0  # sequence numbers found missing from publishers and NACKed

    # -- registration ------------------------------------------------------------------------

    def add_stream(self, seat: str, kind: str, receiver: RTCRtpReceiver) -> IngressStream:
        """Runs in aiortc's ``track`` event, before the receiver starts."""
        transport = receiver.transport
        stream = IngressStream(seat, kind, receiver, hooks.DirectSender(lambda: receiver.transport))
        self._streams[receiver] = stream
        if transport not in self._transports:
            ssrcs: dict[int, tuple[IngressStream, int | None]] = {}
            self._transports[transport] = ssrcs
            take = lambda data, arrival: self._take(transport, ssrcs, data)  # noqa: E731
            hooks.intercept_rtp(transport, take)
            hooks.intercept_datagrams(transport, take)

        def started(params: hooks.ReceiverParameters) -> None:
            stream.params = params
            stream.audio_level_id = params.extension_ids.get(hooks.AUDIO_LEVEL_URI)
            for rtx_ssrc, media_ssrc in params.rtx_ssrcs.items():
                self._transports[transport][rtx_ssrc] = (stream, self._apt(stream))

        hooks.on_receiver_start(receiver, started)
        return stream

    def remove_stream(self, receiver: RTCRtpReceiver) -> None:
        stream = self._streams.pop(receiver, None)
        if stream is None:
            return
        ssrcs = self._transports.get(receiver.transport, {})
        for ssrc in [s for s, (owner, _) in ssrcs.items() if owner is stream]:
            del ssrcs[ssrc]
        stream.legs = []
        if not any(other.receiver.transport is receiver.transport for other in self._streams.values()):
            self._transports.pop(receiver.transport, None)  # the peer is gone: keep nothing of it

    def stream(self, receiver: RTCRtpReceiver) -> IngressStream | None:
        return self._streams.get(receiver)

    @staticmethod
    def _apt(stream: IngressStream) -> int | None:
        """The media payload type the stream's RTX codec retransmits."""
        for codec in (stream.params.payload_types.values() if stream.params else ()):
            if is_rtx(codec):
                return int(codec.parameters.get("apt", 0))
        return None

    # -- the hot path ------------------------------------------------------------------------

    def _take(self, transport: RTCDtlsTransport, ssrcs: dict[int, tuple[IngressStream, int | None]],
              data: bytes) -> bool:
        if len(data) < 12:
            return True
        seq, ts, ssrc = SEQ_TS_SSRC.unpack_from(data, 2)
        route = ssrcs.get(ssrc)
        if route is None:
            route = self._learn(transport, ssrcs, data, ssrc)
            if route is None:
                return False
        stream, rtx_apt = route
        self.packets_in += 1
        first = data[0]
        position = 12 + 4 * (first & 0x0F)
        if first & 0x10:
            position += 4 + 4 * UINT16.unpack_from(data, position + 2)[0]
        end = len(data) - data[-1] if first & 0x20 else len(data)
        if rtx_apt is not None:
            if end - position < 2:
                return True  # padding for bandwidth probing
            seq = UINT16.unpack_from(data, position)[0]
            position += 2
            if seq not in stream.missing:
                return True  # a retransmission of something already forwarded
            stream.missing.discard(seq)
            stream.packets += 1  # RFC 3550: a recovered packet counts as received
        else:
            stream.packets += 1
            if not self._sequence(stream, seq):
                return True
        payload = data[position:end]
        level = None
        if stream.video:
            keyframe = is_vp8_keyframe_start(payload)
            picture_id, tl0 = vp8_ids(payload) if payload else (None, None)
        else:
            keyframe, picture_id, tl0 = True, None, None
            if stream.audio_level_id is not None:
                level = find_extension(data, stream.audio_level_id)
                if level:
                    self._on_audio_level(stream.seat, level[0] & 0x7F)
        if stream.legs:
            abs_time = abs_send_time()
            marker = data[1] & 0x80
            for leg in stream.legs:
                leg.forward(marker, seq, ts, payload, keyframe, picture_id, tl0, abs_time, level, stream)
        if stream.frames_wanted:
            hooks.feed_frame_path(stream.receiver, data, rtx_apt, stream.media_ssrc or ssrc)
        return True

    def _sequence(self, stream: IngressStream, seq: int) -> bool:
        """Track the media sequence; False for a duplicate. Gaps in video are NACKed."""
        if stream.base_seq is None:
            stream.base_seq = stream.max_seq = seq
            return True
        delta = (seq - stream.max_seq) & 0xFFFF
        if delta == 0:
            return False
        if delta < 0x8000:
            if seq < stream.max_seq:
                stream.cycles += 1 << 16
            if stream.video and delta > 1:
                gap = [(stream.max_seq + i) & 0xFFFF for i in range(1, min(delta, NACK_WINDOW))]
                stream.missing.update(gap)
                stream.nack_pending.extend(gap)
                self._schedule_nack(stream)
            stream.max_seq = seq
            if len(stream.missing) > NACK_WINDOW:
                stream.missing = {s for s in stream.missing if (seq - s) & 0xFFFF < NACK_WINDOW}
            return True
        if not stream.video:
            return True  # late audio: the subscriber's jitter buffer decides
        if seq in stream.missing:
            stream.missing.discard(seq)
            return True
        return False

    def _schedule_nack(self, stream: IngressStream) -> None:
        if not self._nack_due:
            asyncio.get_running_loop().call_soon(self._send_nacks)
        self._nack_due.add(stream)

    def _send_nacks(self) -> None:
        for stream in self._nack_due:
            self.losses_nacked += len(stream.nack_pending)
            stream.nack(stream.nack_pending)
            stream.nack_pending = []
        self._nack_due.clear()

    def _learn(self, transport: RTCDtlsTransport, ssrcs: dict[int, tuple[IngressStream, int | None]],
               data: bytes, ssrc: int) -> tuple[IngressStream, int | None] | None:
        """An SSRC seen for the first time: let aiortc's router say whose it is."""
        receiver = hooks.route_unknown(transport, data)
        stream = self._streams.get(receiver) if receiver is not None else None
        if stream is None or stream.params is None:
            return None
        codec = stream.params.payload_types.get(data[1] & 0x7F)
        if codec is None:
            return None
        if is_rtx(codec):
            route = (stream, int(codec.parameters.get("apt", 0)))
        else:
            stream.media_ssrc = ssrc
            route = (stream, None)
        ssrcs[ssrc] = route
        return route

    # -- once a second -----------------------------------------------------------------------

    def tick(self, now: float, request_keyframe: Callable[[str], None]) -> None:
        """Receiver reports and REMB to publishers; congestion decisions for every leg."""
        for stream in list(self._streams.values()):
            estimates = []
            for leg in stream.legs:
                leg.evaluate(now)
                if leg.resume_due(now):
                    request_keyframe(stream.seat)
                if leg.video and not leg.video_paused and leg.remb is not None:
                    estimates.append(leg.remb)
            data = stream.report(min(estimates) if estimates else None)
            if data is not None:
                stream.uplink.send_rtcp(data)
