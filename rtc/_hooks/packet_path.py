"""The packet-level data plane's hooks into aiortc 1.16 and aioice (version-pinned).

aiortc hands every decrypted RTP packet to ``RTCDtlsTransport._handle_rtp_data``, which
parses it into an ``RtpPacket``, asks ``RtpRouter.route_rtp`` for the receiver and runs that
receiver's depacketiser and jitter buffer. The router's packet plane takes the bytes before
all of that (``intercept_rtp``), and sends with the transport's SRTP session straight to the
nominated ICE pair's socket (``DirectSender``: what ``RTCDtlsTransport._send_rtp`` does, minus
two coroutines per packet). A subscriber's RTCP still arrives through aiortc's RTCP routing,
taken per sender by ``intercept_sender_rtcp``. ``feed_frame_path`` is the receiver's own
depacketise → jitter buffer → decoder-queue step, for the recording and identity taps.

``check_compatibility()`` verifies every private name used here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiortc
import pylibsrtp
from aiortc import clock
from aioice import ice
from aiortc import RTCRtpReceiver, RTCRtpSender
from aiortc.codecs import depayload
from aiortc.rtcdtlstransport import RTCDtlsTransport, RtpRouter, State
from aiortc.rtcrtpparameters import RTCRtpReceiveParameters, RTCRtpSendParameters
from aiortc.rtp import RtcpPacket, RtpPacket, unwrap_rtx

from .introspection import code_names as _names, parameters as _params

log = logging.getLogger(__name__)

MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
# A subscriber whose socket buffer holds more than this is not keeping up: drop, never queue.
SEND_BUFFER_LIMIT = 256 * 1024


class PacketPathCompatibilityError(RuntimeError):
    """The installed aiortc/aioice no longer has the internals the packet plane relies on."""


@dataclass
class SenderParameters:
    """What a sender negotiated, captured when aiortc starts it."""

    ssrc: int
    rtx_ssrc: int
    payload_type: int
    rtx_payload_type: int | None
    clock_rate: int
    extension_ids: dict[str, int]
    mid: str | None


@dataclass
class ReceiverParameters:
    payload_types: dict[int, Any]  # payload type -> RTCRtpCodecParameters
    rtx_ssrcs: dict[int, int]  # rtx ssrc -> media ssrc
    extension_ids: dict[str, int]


def intercept_rtp(transport: RTCDtlsTransport, take: Callable[[bytes, int], bool]) -> None:
    """Call ``take(data, arrival_ms)`` with each decrypted RTP packet of ``transport``.

    ``take`` returns False for what it does not handle (an SSRC it does not know yet);
    aiortc's own path then parses, routes and delivers it as before.
    """
    original = transport._handle_rtp_data

    async def handle(data: bytes, arrival_time_ms: int) -> None:
        if not take(data, arrival_time_ms):
            await original(data, arrival_time_ms=arrival_time_ms)

    transport._handle_rtp_data = handle  # type: ignore[method-assign]


def intercept_datagrams(transport: RTCDtlsTransport, take: Callable[[bytes, int], bool]) -> None:
    """Unprotect and ``take`` SRTP packets as the socket delivers them, skipping aioice's queue.

    aioice puts every datagram on an asyncio queue that the DTLS transport's task awaits:
    a task wake-up and five coroutine frames per packet. Here SRTP (not SRTCP, not DTLS, not
    STUN) is handled in the datagram callback itself; everything else, and everything before
    the DTLS handshake has produced SRTP keys, still takes aioice's queue.
    """
    connection = transport.transport._connection
    queue_it = connection.data_received

    def data_received(data: bytes, component: int) -> None:
        srtp = transport._rx_srtp
        if srtp is None or not 127 < data[0] < 192 or len(data) < 12 or 191 < data[1] < 224:
            queue_it(data, component)  # not SRTP, or SRTCP (payload types 192-223)
            return
        try:
            plain = srtp.unprotect(data)
        except pylibsrtp.Error:
            return  # what aiortc does too (it logs at debug level)
        if not take(plain, 0):
            asyncio.ensure_future(transport._handle_rtp_data(plain, arrival_time_ms=clock.current_ms()))

    connection.data_received = data_received


_stun_datagram_received = ice.StunProtocol.datagram_received


def _demultiplexed_datagram_received(protocol: ice.StunProtocol, data: bytes, addr: tuple[Any, ...]) -> None:
    """RFC 7983: a first byte of 128-191 is RTP or RTCP, never STUN. aioice tries to parse every
    datagram as STUN first and hands it on when that raises; this skips the attempt (and the
    exception) for media, and does exactly what aioice would do with it."""
    if data and 127 < data[0] < 192:
        protocol.receiver.data_received(data, protocol.local_candidate.component)
        return
    _stun_datagram_received(protocol, data, addr)


# STUN still takes aioice's own path: checks of that path (rtc/_hooks/ice.py) read its source.
_demultiplexed_datagram_received.__wrapped__ = _stun_datagram_received  # type: ignore[attr-defined]


def install() -> None:
    """Process-wide and behaviour-preserving (idempotent): the RFC 7983 demultiplexing above."""
    ice.StunProtocol.datagram_received = _demultiplexed_datagram_received  # type: ignore[method-assign]


def route_unknown(transport: RTCDtlsTransport, data: bytes) -> Any | None:
    """The receiver aiortc routes this packet to (learning its SSRC like aiortc does)."""
    try:
        packet = RtpPacket.parse(data, transport._rtp_header_extensions_map)
    except ValueError:
        return None
    router: RtpRouter = transport._rtp_router
    return router.route_rtp(packet)


def on_receiver_start(receiver: RTCRtpReceiver, started: Callable[[ReceiverParameters], None]) -> None:
    """Report the receiver's negotiated codecs, RTX SSRCs and extension ids when it starts."""
    receive = receiver.receive

    async def receive_and_report(parameters: RTCRtpReceiveParameters) -> None:
        await receive(parameters)
        started(ReceiverParameters(
            payload_types={codec.payloadType: codec for codec in parameters.codecs},
            rtx_ssrcs=dict(receiver._RTCRtpReceiver__rtx_ssrc),  # type: ignore[attr-defined]
            extension_ids={e.uri: e.id for e in parameters.headerExtensions},
        ))

    receiver.receive = receive_and_report  # type: ignore[method-assign]


def on_sender_start(sender: RTCRtpSender, started: Callable[[SenderParameters], None]) -> None:
    """Report what ``sender`` negotiated once aiortc starts it (after each answer)."""
    send = sender.send

    async def send_and_report(parameters: RTCRtpSendParameters) -> None:
        await send(parameters)
        codec = parameters.codecs[0]
        started(SenderParameters(
            ssrc=sender._ssrc,
            rtx_ssrc=sender._rtx_ssrc,
            payload_type=codec.payloadType,
            rtx_payload_type=sender._RTCRtpSender__rtx_payload_type,  # type: ignore[attr-defined]
            clock_rate=codec.clockRate,
            extension_ids={e.uri: e.id for e in parameters.headerExtensions},
            mid=parameters.muxId,
        ))

    sender.send = send_and_report  # type: ignore[method-assign]


def intercept_sender_rtcp(sender: RTCRtpSender, handle: Callable[[Any], None]) -> None:
    """Give the subscriber's RTCP for this sender (NACK, PLI, FIR, REMB, RR) to ``handle``.

    aiortc's own handler answers NACKs from a history the packet plane never fills and
    turns PLI into an encoder flag; neither applies to forwarded packets.
    """

    async def handle_rtcp(packet: Any) -> None:
        handle(packet)

    sender._handle_rtcp_packet = handle_rtcp  # type: ignore[method-assign]


def set_sender_report(sender: RTCRtpSender, rtp_timestamp: int, packets: int, octets: int) -> None:
    """What the sender's own RTCP loop puts in its next sender report (NTP time = now).

    aiortc fills these from its packetiser, which the packet plane bypasses; without them
    subscribers get reports mapping RTP time 0 to NTP 0 (no lip sync, no RTT).
    """
    sender._RTCRtpSender__ntp_timestamp = clock.current_ntp_time()  # type: ignore[attr-defined]
    sender._RTCRtpSender__rtp_timestamp = rtp_timestamp  # type: ignore[attr-defined]
    sender._RTCRtpSender__packet_count = packets  # type: ignore[attr-defined]
    sender._RTCRtpSender__octet_count = octets  # type: ignore[attr-defined]


def receiver_rtcp_state(receiver: RTCRtpReceiver) -> tuple[int | None, dict[int, int], dict[int, float]]:
    """(our RTCP SSRC, last SR middle 32 bits per SSRC, when it arrived) for receiver reports."""
    return (
        receiver._RTCRtpReceiver__rtcp_ssrc,  # type: ignore[attr-defined]
        receiver._RTCRtpReceiver__lsr,  # type: ignore[attr-defined]
        receiver._RTCRtpReceiver__lsr_time,  # type: ignore[attr-defined]
    )


def feed_frame_path(receiver: RTCRtpReceiver, data: bytes, rtx_apt: int | None, media_ssrc: int) -> None:
    """aiortc's depacketise → jitter buffer → decoder queue for one packet (no REMB, no NACK,
    no statistics: the packet plane does those). ``rtx_apt`` unwraps a retransmission."""
    if receiver._RTCRtpReceiver__decoder_thread is None:  # type: ignore[attr-defined]
        return
    try:
        packet = RtpPacket.parse(data)
    except ValueError:
        return
    codecs = receiver._RTCRtpReceiver__codecs  # type: ignore[attr-defined]
    if rtx_apt is not None:
        if len(packet.payload) < 2:
            return
        packet = unwrap_rtx(packet, payload_type=rtx_apt, ssrc=media_ssrc)
    codec = codecs.get(packet.payload_type)
    if codec is None:
        return
    try:
        packet._data = depayload(codec, packet.payload) if packet.payload else b""  # type: ignore[attr-defined]
    except ValueError:
        return
    _, frame = receiver._RTCRtpReceiver__jitter_buffer.add(packet)  # type: ignore[attr-defined]
    if frame is not None:
        frame.timestamp = receiver._RTCRtpReceiver__timestamp_mapper.map(frame.timestamp)  # type: ignore[attr-defined]
        receiver._RTCRtpReceiver__decoder_queue.put((codec, frame))  # type: ignore[attr-defined]


class DirectSender:
    """SRTP-protect and ``sendto`` on the subscriber's nominated ICE pair, synchronously.

    Returns False when the packet was not sent (not connected yet, or the socket's buffer
    is over ``SEND_BUFFER_LIMIT``: the subscriber cannot keep up, and asyncio would queue
    without bound). A TURN-relayed pair goes through aioice's coroutine (one task per packet).
    """

    __slots__ = ("_transport", "_dtls", "_srtp", "_udp", "_address", "_relay")

    def __init__(self, transport: Callable[[], RTCDtlsTransport]) -> None:
        """``transport`` is read when the first packet is sent (BUNDLE may still change it)."""
        self._transport = transport
        self._dtls: Any = None
        self._srtp: Any = None
        self._udp: Any = None
        self._address: Any = None
        self._relay: Callable[[bytes, Any], Awaitable[None]] | None = None

    def _resolve(self) -> bool:
        dtls = self._transport()
        if dtls._state is not State.CONNECTED or dtls._tx_srtp is None:
            return False
        pair = dtls.transport._connection._nominated.get(1)
        if pair is None:
            return False
        self._dtls = dtls
        self._srtp = dtls._tx_srtp
        self._address = pair.remote_addr
        if isinstance(pair.protocol, ice.StunProtocol):
            self._udp = pair.protocol.transport
        else:
            self._relay = pair.protocol.send_data
        return True

    def send(self, data: bytes) -> bool:
        if self._srtp is None and not self._resolve():
            return False
        if self._dtls._state is not State.CONNECTED:
            return False
        udp = self._udp
        if udp is not None:
            if udp.get_write_buffer_size() > SEND_BUFFER_LIMIT:
                return False
            udp.sendto(self._srtp.protect(data), self._address)
            return True
        assert self._relay is not None
        asyncio.ensure_future(self._relay(self._srtp.protect(data), self._address))
        return True

    def send_rtcp(self, data: bytes) -> bool:
        if self._srtp is None and not self._resolve():
            return False
        protected = self._srtp.protect_rtcp(data)
        if self._udp is not None:
            self._udp.sendto(protected, self._address)
        else:
            assert self._relay is not None
            asyncio.ensure_future(self._relay(protected, self._address))
        return True


# -- compatibility -------------------------------------------------------------------------


def check_compatibility() -> None:
    """Raise ``PacketPathCompatibilityError`` listing every internal that changed shape."""
    problems: list[str] = []

    def need(ok: bool, what: str) -> None:
        if not ok:
            problems.append(what)

    recv_next = getattr(RTCDtlsTransport, "_recv_next", None)
    need("_rx_srtp" in _names(recv_next) and "is_rtcp" in _names(recv_next),
         "RTCDtlsTransport._recv_next no longer unprotects with self._rx_srtp after is_rtcp()")
    need(_params(getattr(ice.Connection, "data_received", None)) == ["self", "data", "component"]
         and "_queue" in _names(ice.Connection.data_received),
         "aioice Connection.data_received(self, data, component) no longer queues datagrams")
    need("data_received" in _names(_stun_datagram_received) and "parse_message" in _names(_stun_datagram_received)
         and "local_candidate" in _names(_stun_datagram_received),
         "aioice StunProtocol.datagram_received no longer hands data to receiver.data_received")
    need("_handle_rtp_data" in _names(recv_next) and "unprotect" in _names(recv_next),
         "RTCDtlsTransport._recv_next no longer unprotects SRTP and calls self._handle_rtp_data")
    need(_params(getattr(RTCDtlsTransport, "_handle_rtp_data", None)) == ["self", "data", "arrival_time_ms"],
         "RTCDtlsTransport._handle_rtp_data(self, data, arrival_time_ms) changed")
    need({"route_rtp", "_rtp_router", "_rtp_header_extensions_map"} <= set(_names(RTCDtlsTransport._handle_rtp_data)),
         "RTCDtlsTransport._handle_rtp_data no longer routes through self._rtp_router.route_rtp")
    need(_params(getattr(RtpRouter, "route_rtp", None)) == ["self", "packet"]
         and "route_rtcp" in dir(RtpRouter),
         "RtpRouter.route_rtp(self, packet) / route_rtcp changed")
    need({"_tx_srtp", "_state"} <= set(_names(RTCDtlsTransport._send_rtp))
         and {"protect", "protect_rtcp", "_send"} <= set(_names(RTCDtlsTransport._send_rtp)),
         "RTCDtlsTransport._send_rtp no longer protects with self._tx_srtp and sends on transport._send")
    need("_tx_srtp" in _names(RTCDtlsTransport._setup_srtp) and hasattr(State, "CONNECTED"),
         "RTCDtlsTransport no longer keeps its SRTP session in _tx_srtp")
    need("_connection" in _names(aiortc.RTCIceTransport.__init__),
         "RTCIceTransport no longer keeps the aioice Connection in _connection")
    sendto = getattr(ice.Connection, "sendto", None)
    need({"_nominated", "send_data", "remote_addr", "protocol"} <= set(_names(sendto)),
         "aioice Connection.sendto no longer sends on _nominated[component].protocol.send_data(remote_addr)")
    need("sendto" in _names(getattr(ice.StunProtocol, "send_data", None)),
         "aioice StunProtocol.send_data no longer calls transport.sendto")

    receive_names = set(_names(RTCRtpReceiver.receive))
    init_names = set(_names(RTCRtpReceiver.__init__))
    need(_params(RTCRtpReceiver.receive) == ["self", "parameters"],
         "RTCRtpReceiver.receive(self, parameters) changed")
    for private in ("_RTCRtpReceiver__rtx_ssrc", "_RTCRtpReceiver__codecs", "_RTCRtpReceiver__decoder_thread",
                    "_RTCRtpReceiver__decoder_queue", "_RTCRtpReceiver__jitter_buffer",
                    "_RTCRtpReceiver__timestamp_mapper", "_RTCRtpReceiver__rtcp_ssrc",
                    "_RTCRtpReceiver__lsr", "_RTCRtpReceiver__lsr_time"):
        need(private in init_names | receive_names, f"RTCRtpReceiver no longer has {private}")
    need(_params(RTCRtpSender.send) == ["self", "parameters"], "RTCRtpSender.send(self, parameters) changed")
    need("_RTCRtpSender__rtx_payload_type" in _names(RTCRtpSender.send)
         and {"_ssrc", "_rtx_ssrc"} <= set(_names(RTCRtpSender.__init__)),
         "RTCRtpSender no longer has _ssrc, _rtx_ssrc, __rtx_payload_type")
    need(_params(RTCRtpSender._handle_rtcp_packet) == ["self", "packet"]
         and "_handle_rtcp_packet" in _names(RTCDtlsTransport._handle_rtcp_data),
         "RTCDtlsTransport._handle_rtcp_data no longer delivers to sender._handle_rtcp_packet(packet)")
    sender_init = set(_names(RTCRtpSender.__init__))
    for private in ("_RTCRtpSender__ntp_timestamp", "_RTCRtpSender__rtp_timestamp",
                    "_RTCRtpSender__packet_count", "_RTCRtpSender__octet_count"):
        need(private in sender_init and private in _names(RTCRtpSender._run_rtcp),
             f"RTCRtpSender's sender reports no longer read {private}")
    need(callable(getattr(RtcpPacket, "parse", None)) and callable(unwrap_rtx) and callable(depayload),
         "aiortc.rtp RtcpPacket.parse / unwrap_rtx or aiortc.codecs.depayload are gone")
    if problems:
        raise PacketPathCompatibilityError(
            f"aiortc {aiortc.__version__} is incompatible with rtc/_hooks/packet_path.py:\n- "
            + "\n- ".join(problems)
        )
