"""One subscriber's copy of one publisher stream, at packet level.

Each forwarded packet gets the leg's own SSRC, payload type, sequence number, timestamp and
(VP8) picture id / TL0PICIDX, and the subscriber's header-extension ids (its mid, a fresh
abs-send-time so the subscriber can estimate bandwidth, the audio level); the payload is
untouched. Numbering continues across restarts (policy resume, another publisher taking
the slot, congestion pauses), which begin at a keyframe, so the subscriber sees one stream.

Loss recovery: the last ``HISTORY`` video packets are kept (as sent, unprotected); a NACK is
answered from them (RTX when negotiated), and what is not there is asked of the publisher.
Congestion: a subscriber whose receiver reports heavy loss, whose REMB stays far below what
it is sent, or whose socket buffer is full gets no video for a back-off period (audio goes
on) — a forwarder cannot lower one subscriber's bitrate without simulcast, and queueing
would only add delay and memory.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any

from aiortc.rtp import RTCP_PSFB_APP, RTCP_PSFB_FIR, RTCP_PSFB_PLI, RTCP_RTPFB_NACK, unpack_remb_fci

from ._hooks.packet_path import ABS_SEND_TIME_URI, AUDIO_LEVEL_URI, MID_URI, DirectSender, SenderParameters
from .rtp_bytes import HEADER, UINT16, element, extension_block, header_length, rewrite_vp8_ids

log = logging.getLogger(__name__)

HISTORY = 256  # video packets kept per leg for retransmission: ~1 s at 2.5 Mbps, ~300 KB
# Fraction lost in a receiver report that counts as "cannot keep up". Retransmissions answer
# ordinary loss (aiortc receivers do not count a recovered packet as received, Chrome does),
# so only a subscriber that misses half of what it is sent is judged by loss alone.
CONGESTION_LOSS = 0.5
# REMB below this share of what the leg sends. Delay-based estimates dip well under the
# received rate on a merely busy receiver (aiortc's under CPU load: ~0.45), so only a
# subscriber that says it can take a quarter of what it gets is judged by REMB.
CONGESTION_REMB_RATIO = 0.25
CONGESTION_TICKS = 2  # consecutive bad evaluations before video is paused
BACKOFF_FIRST, BACKOFF_MAX = 2.0, 30.0  # seconds without video after a pause
# A receiver report whose highest sequence number is this far behind what was sent: the
# subscriber is not receiving (its reports go on, its counters stand still).
REPORT_LAG_LIMIT = 300
KEYFRAME_RETRY_INTERVAL = 0.5  # seconds between keyframe requests while a leg waits for one


class PacketLeg:
    """Rewrites, protects and sends one publisher stream's packets to one subscriber."""

    def __init__(
        self,
        kind: str,
        sender: DirectSender,
        *,
        on_keyframe_request: Callable[[], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.kind = kind
        self.video = kind == "video"
        self._sender = sender
        self._on_keyframe_request = on_keyframe_request
        self._clock = clock
        self.params: SenderParameters | None = None
        self.active = False
        self.source: Any = None  # the ingress stream currently fed in (for upstream NACKs)
        self._waiting = True
        self._keyframe_asked_at = clock()
        self._history: list[bytes | None] | None = [None] * HISTORY if self.video else None
        self._mid_element = b""
        self._abs_head: bytes | None = None
        self._level_head: bytes | None = None
        self._payload_type = 0
        self._ssrc = 0
        # numbering: out = in + offset; the run started at _in_start
        self._last_seq = random.randrange(0x8000)
        self._last_ts = random.randrange(1 << 32)
        self._last_picture_id = random.randrange(0x8000)
        self._last_tl0 = random.randrange(256)
        self._last_wall = 0.0
        self._sent_any = False
        self._in_start = 0
        self._seq_offset = self._ts_offset = self._picture_offset = self._tl0_offset = 0
        self._rtx_seq = random.randrange(0x8000)
        # counters and congestion state
        self.packets = self.octets = self.frames = self.retransmitted = self.upstream_nacks = 0
        self.send_failures = 0
        self.video_pauses = 0
        self.remb: int | None = None
        self._remb_at = 0.0
        self._loss = 0.0
        self._report_lag = 0
        self._bad_ticks = 0
        self._paused_until = 0.0
        self._backoff = BACKOFF_FIRST
        self._tick_octets = 0
        self._tick_failures = 0
        self._tick_at = clock()
        self._calm_since = clock()

    # -- set-up and policy -----------------------------------------------------------------

    def configure(self, params: SenderParameters) -> None:
        """Called when aiortc starts the sender (each answer may renumber nothing, but mids)."""
        self.params = params
        self._payload_type = params.payload_type
        self._ssrc = params.ssrc
        ids = params.extension_ids
        self._mid_element = (
            element(ids[MID_URI], params.mid.encode()) if MID_URI in ids and params.mid else b""
        )
        self._abs_head = bytes([(ids[ABS_SEND_TIME_URI] << 4) | 2]) if ABS_SEND_TIME_URI in ids else None
        self._level_head = bytes([ids[AUDIO_LEVEL_URI] << 4]) if AUDIO_LEVEL_URI in ids else None

    def set_active(self, active: bool) -> bool:
        """Apply the policy; True when the leg (re)starts and video needs a keyframe."""
        if active == self.active:
            return False
        self.active = active
        self.restart()
        return active and self.video

    def restart(self) -> None:
        """What follows comes from a new run (source switch, resume): start at a keyframe."""
        self._waiting = True
        self._keyframe_asked_at = self._clock()  # the caller asks now; retries wait a while

    @property
    def video_paused(self) -> bool:
        return self._paused_until > 0.0

    # -- the hot path ----------------------------------------------------------------------

    def forward(
        self,
        marker: int,
        seq: int,
        ts: int,
        payload: bytes,
        keyframe: bool,
        picture_id: int | None,
        tl0: int | None,
        abs_time: bytes,
        level: bytes | None,
        source: Any,
    ) -> None:
        if not self.active or self.params is None:
            return
        if self._waiting:
            if self._paused_until and self._still_paused():
                return
            if not keyframe:
                now = self._clock()
                if now - self._keyframe_asked_at >= KEYFRAME_RETRY_INTERVAL:
                    self._keyframe_asked_at = now  # lost or merged requests: ask again
                    self._on_keyframe_request()
                return
            self._begin(seq, ts, picture_id, tl0, source)
        elif (seq - self._in_start) & 0xFFFF >= 0x8000:
            return  # older than the run's first packet
        out_seq = (seq + self._seq_offset) & 0xFFFF
        out_ts = (ts + self._ts_offset) & 0xFFFFFFFF
        if picture_id is not None or tl0 is not None:
            if self._picture_offset or self._tl0_offset:
                payload = rewrite_vp8_ids(payload, self._picture_offset, self._tl0_offset)
            if picture_id is not None:
                self._last_picture_id = (picture_id + self._picture_offset) & 0x7FFF
            if tl0 is not None:
                self._last_tl0 = (tl0 + self._tl0_offset) & 0xFF
        elements = self._mid_element
        if self._abs_head is not None:
            elements += self._abs_head + abs_time
        if level is not None and self._level_head is not None:
            elements += self._level_head + level
        data = HEADER.pack(0x90 if elements else 0x80, marker | self._payload_type, out_seq, out_ts, self._ssrc)
        data += extension_block(elements) + payload
        if self._history is not None:
            self._history[out_seq % HISTORY] = data
        if self._sender.send(data):
            self.packets += 1
            self.octets += len(payload)
            if marker:
                self.frames += 1
        else:
            self.send_failures += 1
        if (out_seq - self._last_seq) & 0xFFFF < 0x8000:
            self._last_seq = out_seq
            self._last_ts = out_ts
            self._last_wall = self._clock()

    def _begin(self, seq: int, ts: int, picture_id: int | None, tl0: int | None, source: Any) -> None:
        """Number the new run so that it continues the leg's previous one."""
        self._waiting = False
        self.source = source
        self._in_start = seq
        self._seq_offset = (self._last_seq + 1 - seq) & 0xFFFF
        clock_rate = self.params.clock_rate if self.params else 90000
        gap = max(1, int((self._clock() - self._last_wall) * clock_rate)) if self._sent_any else 0
        self._ts_offset = (self._last_ts + gap - ts) & 0xFFFFFFFF
        self._picture_offset = (self._last_picture_id + 1 - picture_id) & 0x7FFF if picture_id is not None else 0
        self._tl0_offset = (self._last_tl0 + 1 - tl0) & 0xFF if tl0 is not None else 0
        if not self._sent_any:  # the first run keeps the publisher's picture ids
            self._picture_offset = self._tl0_offset = 0
        self._sent_any = True

    # -- feedback from the subscriber ------------------------------------------------------

    def handle_rtcp(self, packet: Any) -> None:
        """NACK, PLI/FIR, REMB and receiver reports for this leg (aiortc parsed them)."""
        kind = type(packet).__name__
        if kind == "RtcpRtpfbPacket" and packet.fmt == RTCP_RTPFB_NACK:
            self.answer_nack(packet.lost)
        elif kind == "RtcpPsfbPacket" and packet.fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
            self._on_keyframe_request()
        elif kind == "RtcpPsfbPacket" and packet.fmt == RTCP_PSFB_APP:
            try:
                bitrate, ssrcs = unpack_remb_fci(packet.fci)
            except ValueError:
                return
            if self._ssrc in ssrcs:  # one estimate for all the subscriber's streams: a share each
                self.remb, self._remb_at = bitrate // len(ssrcs), self._clock()
        elif kind in ("RtcpRrPacket", "RtcpSrPacket"):
            for report in packet.reports:
                if report.ssrc == self._ssrc:
                    self._loss = report.fraction_lost / 256
                    self._report_lag = (self._last_seq - report.highest_sequence) & 0xFFFF

    def answer_nack(self, lost: list[int]) -> None:
        """Resend what the history has; ask the publisher for the rest (same run only)."""
        upstream: list[int] = []
        for out_seq in lost:
            data = self._history[out_seq % HISTORY] if self._history is not None else None
            if data is not None and UINT16.unpack_from(data, 2)[0] == out_seq:
                self._retransmit(data)
            elif not self._waiting and (out_seq - self._seq_offset - self._in_start) & 0xFFFF < 0x8000:
                upstream.append((out_seq - self._seq_offset) & 0xFFFF)
        if upstream and self.source is not None:
            self.upstream_nacks += len(upstream)
            self.source.nack(upstream)

    def _retransmit(self, data: bytes) -> None:
        params = self.params
        assert params is not None
        if params.rtx_payload_type is not None:
            start = header_length(data)
            self._rtx_seq = (self._rtx_seq + 1) & 0xFFFF
            data = (
                bytes([data[0], (data[1] & 0x80) | params.rtx_payload_type])
                + UINT16.pack(self._rtx_seq) + data[4:8] + params.rtx_ssrc.to_bytes(4, "big")
                + data[12:start] + data[2:4] + data[start:]
            )
        if self._sender.send(data):
            self.retransmitted += 1

    # -- once a second ---------------------------------------------------------------------

    def evaluate(self, now: float) -> None:
        """Pause video for a subscriber that cannot keep up; resume it after a back-off."""
        if not self.video:
            return
        elapsed = max(now - self._tick_at, 1e-3)
        rate = (self.octets - self._tick_octets) * 8 / elapsed
        failures = self.send_failures - self._tick_failures
        self._tick_at, self._tick_octets, self._tick_failures = now, self.octets, self.send_failures
        if self._paused_until:
            return
        remb_fresh = self.remb is not None and now - self._remb_at < 3.0 and rate > 100_000
        struggling = (
            failures > 0
            or self._loss >= CONGESTION_LOSS
            or REPORT_LAG_LIMIT <= self._report_lag < 0x8000
            or (remb_fresh and self.remb is not None and self.remb < CONGESTION_REMB_RATIO * rate)
        )
        self._bad_ticks = self._bad_ticks + 1 if struggling else 0
        if not struggling and now - self._calm_since > 3 * BACKOFF_MAX:
            self._backoff = BACKOFF_FIRST
        if self._bad_ticks >= CONGESTION_TICKS or failures > 10:
            log.info(
                "subscriber cannot keep up (sending %d kbps; REMB share %s, loss %.0f %%, report lag %d, "
                "send failures %d): no video for %.0f s",
                rate // 1000, self.remb, 100 * self._loss, self._report_lag, failures, self._backoff,
            )
            self.video_pauses += 1
            self._paused_until = now + self._backoff
            self._backoff = min(self._backoff * 2, BACKOFF_MAX)
            self._bad_ticks = 0
            self._loss = 0.0
            self._report_lag = 0
            self.remb = None
            self._calm_since = now
            self._waiting = True

    def _still_paused(self) -> bool:
        if self._clock() < self._paused_until:
            return True
        self._paused_until = 0.0
        return False

    def resume_due(self, now: float) -> bool:
        """A congestion pause just ran out: the caller asks the publisher for a keyframe."""
        return bool(self._paused_until) and now >= self._paused_until

    def sender_report(self, now: float) -> tuple[int, int, int] | None:
        """(RTP timestamp now, packets, octets) for the sender's own RTCP sender reports."""
        if not self._sent_any or self.params is None:
            return None
        elapsed = int(max(0.0, now - self._last_wall) * self.params.clock_rate)
        return (self._last_ts + elapsed) & 0xFFFFFFFF, self.packets, self.octets
