"""Every use of aiortc private internals, in one place, checked at import.

aiortc always decodes what it receives and only encodes what it sends; a forwarding server
needs neither. The hooks below make the router's receivers yield encoded ``av.Packet``s and
its senders packetise them unchanged, let the router ask a publisher for a keyframe, see
subscribers' PLI/FIR, and read the audio level header extension. They are per receiver /
per sender: aiortc used elsewhere in the process (tests, tools) keeps decoding and encoding.
``create_offer`` keeps each participant's payload types and header-extension ids in the
server's re-offers, which aiortc's own ``createOffer`` resets to its defaults.

``check_compatibility()`` verifies every private name and shape used here; the pin
``aiortc==1.16.0`` in pyproject.toml exists because of this module. The aioice hooks (where
ICE gathers, which remote candidates it contacts) live in ``rtc/_hooks/ice.py``.
"""

from __future__ import annotations

import copy
import inspect
import logging
import sys
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import aiortc
import aiortc.codecs
import aiortc.rtcrtpreceiver as receiver_module
import aiortc.rtcrtpsender as sender_module
import aiortc.rtcpeerconnection as peer_connection_module
import av
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender, RTCRtpTransceiver, RTCSessionDescription, sdp
from aiortc.codecs import is_rtx
from aiortc.codecs.base import Decoder, Encoder
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.mediastreams import convert_timebase
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpHeaderExtensionParameters
from aiortc.rtp import RtpPacket
from aiortc.utils import uint16_add

from ._hooks import ice as _ice
from ._hooks.ice import apply_ice_network  # noqa: F401 - every hook is reached through this module
from ._hooks.introspection import code_names as _names, parameters as _params

log = logging.getLogger(__name__)

AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

# aiortc's originals, kept before anything is replaced.
_original_get_decoder = aiortc.codecs.get_decoder
_original_get_encoder = aiortc.codecs.get_encoder


DYNAMIC_PAYLOAD_TYPES = range(96, 128)
ONE_BYTE_EXTENSION_IDS = range(1, 15)  # RFC 8285 one-byte form, the only one aiortc writes


class AiortcCompatibilityError(RuntimeError):
    """The installed aiortc no longer has the private internals this module relies on."""


@dataclass
class CodecCounters:
    """Real codec instances created for one router's peer connections.

    Incremented from aiortc's decoder threads as well as the event loop, hence the lock.
    """

    decoders_created: int = 0
    encoders_created: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count_decoder(self) -> None:
        with self._lock:
            self.decoders_created += 1

    def count_encoder(self) -> None:
        with self._lock:
            self.encoders_created += 1


# -- keyframe detection ---------------------------------------------------------------


def is_vp8_keyframe(frame: bytes) -> bool:
    """RFC 6386 §9.1: bit 0 of the frame tag is 0 for a key frame, and a key frame's tag is
    followed by the start code ``9d 01 2a``. The bit alone is a coin toss on a frame that lost
    its first packet (half of them would be forwarded to subscribers as keyframes)."""
    return len(frame) >= 10 and frame[0] & 0x01 == 0 and frame[3:6] == b"\x9d\x01\x2a"


def is_h264_keyframe(frame: bytes) -> bool:
    """True when the Annex B access unit contains an IDR slice (NAL unit type 5)."""
    start = frame.find(b"\x00\x00\x01")
    while start != -1 and start + 3 < len(frame):
        if frame[start + 3] & 0x1F == 5:
            return True
        start = frame.find(b"\x00\x00\x01", start + 3)
    return False


def keyframe_detector(codec: RTCRtpCodecParameters) -> Callable[[bytes], bool]:
    """Audio frames are all independently decodable, so every one counts as a keyframe."""
    mime = codec.mimeType.lower()
    if mime == "video/vp8":
        return is_vp8_keyframe
    if mime == "video/h264":
        return is_h264_keyframe
    if mime.startswith("audio/"):
        return lambda frame: True
    raise ValueError(f"no keyframe detection for {codec.mimeType}")


# -- pass-through codecs ------------------------------------------------------------------


class FrameAfterLoss(JitterFrame):
    """A frame released after ``ForwardingJitterBuffer`` gave up on a lost packet."""


class PassThroughDecoder(Decoder):
    """Turns a reassembled encoded frame into an ``av.Packet`` instead of decoding it.

    A video inter frame that follows a lost frame references a picture the subscribers
    never got: it is flagged ``is_corrupt`` so forwarding resumes at the next keyframe.
    """

    def __init__(self, codec: RTCRtpCodecParameters) -> None:
        self._time_base = Fraction(1, codec.clockRate)
        self._is_keyframe = keyframe_detector(codec)

    def decode(self, encoded_frame: JitterFrame) -> list[Any]:
        packet = av.Packet(encoded_frame.data)
        packet.pts = encoded_frame.timestamp
        packet.time_base = self._time_base
        packet.is_keyframe = self._is_keyframe(encoded_frame.data)
        packet.is_corrupt = isinstance(encoded_frame, FrameAfterLoss) and not packet.is_keyframe
        return [packet]


class PassThroughEncoder(Encoder):
    """Packetises ``av.Packet``s without ever opening an encoder.

    aiortc's video encoders open their codec lazily, so one is reused for its packetiser
    (VP8 picture ids, H.264 STAP-A/FU-A). aiortc's Opus encoder opens libopus in its
    constructor, so audio is packed here: one packet is one RTP payload. Should a decoded
    frame ever reach ``encode()``, a real encoder is created and counted, which is what
    makes ``encoders_created`` a real measurement rather than a constant.
    """

    def __init__(self, codec: RTCRtpCodecParameters, counters: CodecCounters) -> None:
        self._codec = codec
        self._counters = counters
        self._clock = Fraction(1, codec.clockRate)
        self._packer: Encoder | None = (
            _original_get_encoder(codec) if codec.mimeType.lower().startswith("video/") else None
        )
        self._fallback: Encoder | None = None

    def pack(self, packet: av.Packet) -> tuple[list[bytes], int]:
        if self._packer is not None:
            return self._packer.pack(packet)
        return [bytes(packet)], convert_timebase(packet.pts, packet.time_base, self._clock)

    def encode(self, frame: av.frame.Frame, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        if self._fallback is None:
            self._fallback = _original_get_encoder(self._codec)
            self._counters.count_encoder()
            log.warning("router sender received a decoded %s frame: encoding it", self._codec.mimeType)
        return self._fallback.encode(frame, force_keyframe)


class ForwardingJitterBuffer(JitterBuffer):
    """Releases each frame as soon as it is complete, and never waits long for a lost packet.

    aiortc's buffer releases a frame only when the next one starts (video: one frame
    interval), holds four audio frames (80 ms) before releasing one, and waits for a
    missing video packet until the buffer overflows (512 packets: seconds of frozen video
    for everyone downstream when a retransmission is lost too). A forwarder leaves jitter
    smoothing to the subscriber. Video frames are complete at the packet carrying the RTP
    marker bit (or when the timestamp changes, should a marker be lost); a gap older than
    ``max_gap_wait`` is skipped with the frame it broke, and a PLI is requested. Each audio
    packet is one Opus frame and is passed on at once; late ones are dropped.
    """

    def __init__(
        self,
        capacity: int,
        *,
        is_video: bool,
        max_gap_wait: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(capacity=capacity, prefetch=0, is_video=is_video)
        self._max_gap_wait = max_gap_wait
        self._clock = clock
        self._gap_since: float | None = None
        self._lost = False

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        if not self._is_video:
            if self._origin is not None and uint16_add(packet.sequence_number, -self._origin) >= 0x8000:
                return False, None  # older than what was already forwarded
            self._origin = uint16_add(packet.sequence_number, 1)
            return False, JitterFrame(data=packet._data, timestamp=packet.timestamp)  # type: ignore[attr-defined]
        pli, frame = super().add(packet)
        if frame is None and self._gap_too_old():
            self._skip_gap()
            return True, self._remove_frame(packet.sequence_number)
        return pli, frame

    def _gap_too_old(self) -> bool:
        if self._packets[self._origin % self._capacity] is not None:
            self._gap_since = None
            return False
        now = self._clock()
        if self._gap_since is None:
            self._gap_since = now
        return now - self._gap_since > self._max_gap_wait

    def _skip_gap(self) -> None:
        """Drop the missing packets and the rest of the frame they broke."""
        self._gap_since = None
        self._lost = True
        present = [
            (count, packet)
            for count in range(self._capacity)
            if (packet := self._packets[(self._origin + count) % self._capacity]) is not None
        ]
        if not present:
            return
        broken = present[0][1].timestamp
        next_frame = next((count for count, packet in present if packet.timestamp != broken), None)
        self.remove(next_frame if next_frame is not None else present[-1][0] + 1)

    def _remove_frame(self, sequence_number: int) -> JitterFrame | None:
        packets: list[RtpPacket] = []
        for count in range(self._capacity):
            packet = self._packets[(self._origin + count) % self._capacity]
            if packet is None:
                return None
            if packets and packet.timestamp != packets[0].timestamp:
                break
            packets.append(packet)
            if packet.marker:
                break
        else:
            return None
        self.remove(len(packets))
        self._gap_since = None
        frame_type, self._lost = (FrameAfterLoss if self._lost else JitterFrame), False
        return frame_type(
            data=b"".join(p._data for p in packets),  # type: ignore[attr-defined]
            timestamp=packets[0].timestamp,
        )


# -- keeping the participant's numbering --------------------------------------------------


class NumberingExhaustedError(RuntimeError):
    """No free dynamic payload type or header-extension id is left in the participant's BUNDLE."""


@dataclass
class RtpNumbering:
    """The payload types and header-extension ids used in one participant's BUNDLE.

    aiortc's ``createOffer`` numbers every section with its own defaults (opus 96, VP8 97,
    rtx 98; mid 1, audio-level 2, abs-send-time 3) whatever was negotiated. Browsers refuse
    a re-offer that moves an extension id, and a renumbered payload type is dropped by the
    receivers aiortc already started, whose codec maps never change. So the numbering is
    learned from every description the participant sends and only ever extended: a codec or
    extension the participant never numbered gets a number it has not used for anything else
    (one-byte ids and payload types are shared by every section of a BUNDLE).
    """

    codecs: dict[str, list[RTCRtpCodecParameters]] = field(default_factory=dict)
    extension_ids: dict[str, int] = field(default_factory=dict)

    def learn(self, description: sdp.SessionDescription) -> None:
        """Record the participant's numbers; the first number seen for a codec or URI stays."""
        for media in description.media:
            known = self.codecs.setdefault(media.kind, [])
            taken = self._payload_types_taken()
            known.extend(copy.deepcopy(c) for c in media.rtp.codecs if c.payloadType not in taken)
            for extension in media.rtp.headerExtensions:
                self.extension_ids.setdefault(extension.uri, extension.id)

    def renumbering(self, description: sdp.SessionDescription) -> list[str]:
        """The lines of ``description`` that give a known codec or extension another number.

        aiortc cannot follow that: started receivers keep their payload-type map, and the
        BUNDLE's one header-extension map would then misread the participant's packets.
        """
        changes: list[str] = []
        uris = {number: uri for uri, number in self.extension_ids.items()}
        by_payload_type = {codec.payloadType: codec for codecs in self.codecs.values() for codec in codecs}
        for media in description.media:
            for extension in media.rtp.headerExtensions:
                if self.extension_ids.get(extension.uri, extension.id) != extension.id or (
                    uris.get(extension.id, extension.uri) != extension.uri
                ):
                    changes.append(f"a=extmap:{extension.id} {extension.uri}")
            matched: set[int] = set()
            for codec in media.rtp.codecs:
                if is_rtx(codec):
                    continue
                line = f"a=rtpmap:{codec.payloadType} {codec.mimeType.split('/')[-1]}"
                same_number = by_payload_type.get(codec.payloadType)
                if same_number is not None and not (
                    not is_rtx(same_number) and peer_connection_module.is_codec_compatible(same_number, codec)
                ):
                    changes.append(line)
                    continue
                known = next(
                    (
                        k
                        for k in self.codecs.get(media.kind, [])
                        if not is_rtx(k) and peer_connection_module.is_codec_compatible(k, codec)
                    ),
                    None,
                )
                if known is not None and id(known) not in matched:
                    matched.add(id(known))
                    if known.payloadType != codec.payloadType:
                        changes.append(line)
        return changes

    def number_codecs(self, kind: str, codecs: list[RTCRtpCodecParameters]) -> list[RTCRtpCodecParameters]:
        """Copies of aiortc's ``codecs`` (bases before their rtx) with the participant's numbers."""
        known = self.codecs.setdefault(kind, [])
        renumbered: dict[int, int] = {}
        numbered: list[RTCRtpCodecParameters] = []
        for codec in codecs:
            codec = copy.deepcopy(codec)
            if is_rtx(codec):
                base = renumbered.get(codec.parameters.get("apt"))  # type: ignore[arg-type]
                if base is None:
                    continue  # its base codec is not offered
                codec.parameters["apt"] = base
                match = next((c for c in known if is_rtx(c) and c.parameters.get("apt") == base), None)
            elif codec.payloadType in DYNAMIC_PAYLOAD_TYPES:
                used = {c.payloadType for c in numbered}
                match = next(
                    (
                        c
                        for c in known
                        if not is_rtx(c)
                        and c.payloadType not in used
                        and peer_connection_module.is_codec_compatible(c, codec)
                    ),
                    None,
                )
            else:
                match = codec  # a static payload type means the same codec everywhere
            original = codec.payloadType
            if match is None:
                codec.payloadType = self._free_payload_type()
                known.append(copy.deepcopy(codec))
            else:
                codec.payloadType = match.payloadType
            renumbered[original] = codec.payloadType
            numbered.append(codec)
        return numbered

    def number_extensions(
        self, extensions: list[RTCRtpHeaderExtensionParameters]
    ) -> list[RTCRtpHeaderExtensionParameters]:
        numbered = []
        for extension in extensions:
            if extension.uri not in self.extension_ids:
                self.extension_ids[extension.uri] = self._free_extension_id()
            numbered.append(RTCRtpHeaderExtensionParameters(id=self.extension_ids[extension.uri], uri=extension.uri))
        return numbered

    def _payload_types_taken(self) -> set[int]:
        return {codec.payloadType for codecs in self.codecs.values() for codec in codecs}

    def _free_payload_type(self) -> int:
        taken = self._payload_types_taken()
        free = next((pt for pt in DYNAMIC_PAYLOAD_TYPES if pt not in taken), None)
        if free is None:
            raise NumberingExhaustedError("every dynamic payload type (96-127) is already in use")
        return free

    def _free_extension_id(self) -> int:
        taken = set(self.extension_ids.values())
        free = next((i for i in ONE_BYTE_EXTENSION_IDS if i not in taken), None)
        if free is None:
            raise NumberingExhaustedError("every one-byte header extension id (1-14) is already in use")
        return free


async def create_offer(pc: RTCPeerConnection, numbering: RtpNumbering) -> RTCSessionDescription:
    """``pc.createOffer()`` with every section, new ones included, in ``numbering``.

    The transceivers' negotiated codecs and extensions are what aiortc sends and receives
    with once the answer arrives, so they are renumbered along with the SDP.
    """
    offer = await pc.createOffer()
    description = sdp.SessionDescription.parse(offer.sdp)
    for transceiver in pc.getTransceivers():
        index = transceiver._get_mline_index()
        if transceiver.stopped or index is None or index >= len(description.media):
            continue
        media = description.media[index]
        transceiver._codecs = numbering.number_codecs(transceiver.kind, transceiver._codecs)
        transceiver._headerExtensions = numbering.number_extensions(transceiver._headerExtensions)
        media.fmt = [codec.payloadType for codec in transceiver._codecs]
        media.rtp.codecs = transceiver._codecs
        media.rtp.headerExtensions = transceiver._headerExtensions
    return RTCSessionDescription(sdp=str(description), type="offer")


# -- registries ---------------------------------------------------------------------------

_lock = threading.Lock()
_owned_peers: weakref.WeakKeyDictionary[RTCPeerConnection, CodecCounters] = weakref.WeakKeyDictionary()
_routed_receivers: weakref.WeakSet[RTCRtpReceiver] = weakref.WeakSet()
_routed_senders: weakref.WeakSet[RTCRtpSender] = weakref.WeakSet()


def own_peer(pc: RTCPeerConnection, counters: CodecCounters) -> None:
    """Attribute every codec created for ``pc``'s receivers and senders to ``counters``."""
    with _lock:
        _owned_peers[pc] = counters


def route_receiver(receiver: RTCRtpReceiver, kind: str, on_rtp: Callable[[RtpPacket], None]) -> None:
    """Make ``receiver``'s track yield encoded ``av.Packet``s; call ``on_rtp`` per RTP packet.

    Must run before the first packet arrives (the router calls it from the ``track`` event,
    which aiortc emits before it starts the receiver).
    """
    with _lock:
        _routed_receivers.add(receiver)
    buffer: JitterBuffer = receiver._RTCRtpReceiver__jitter_buffer  # type: ignore[attr-defined]
    receiver._RTCRtpReceiver__jitter_buffer = ForwardingJitterBuffer(  # type: ignore[attr-defined]
        capacity=buffer.capacity, is_video=kind == "video"
    )
    handle = receiver._handle_rtp_packet

    async def observed(packet: RtpPacket, arrival_time_ms: int) -> None:
        on_rtp(packet)
        await handle(packet, arrival_time_ms=arrival_time_ms)

    receiver._handle_rtp_packet = observed  # type: ignore[method-assign]


def route_sender(sender: RTCRtpSender, on_keyframe_request: Callable[[], None]) -> None:
    """Make ``sender`` pack ``av.Packet``s unchanged and report the subscriber's PLI/FIR.

    aiortc answers PLI/FIR only by flagging its encoder; a forwarder must ask the publisher.
    """
    with _lock:
        _routed_senders.add(sender)
    sender._send_keyframe = on_keyframe_request  # type: ignore[method-assign]


def audio_level(packet: RtpPacket) -> int | None:
    """The ssrc-audio-level value (0 = loudest, 127 = silence, in -dBov), if present."""
    level = packet.extensions.audio_level
    return None if level is None else int(level[1])


async def request_keyframe(receiver: RTCRtpReceiver) -> int:
    """Send a PLI for every media SSRC seen on ``receiver``; returns how many were sent."""
    if receiver._RTCRtpReceiver__rtcp_ssrc is None:  # type: ignore[attr-defined]
        return 0  # not connected yet: aiortc would silently send nothing
    streams: dict[int, Any] = receiver._RTCRtpReceiver__remote_streams  # type: ignore[attr-defined]
    rtx: dict[int, int] = receiver._RTCRtpReceiver__rtx_ssrc  # type: ignore[attr-defined]
    ssrcs = [ssrc for ssrc in list(streams) if ssrc not in rtx]
    for ssrc in ssrcs:
        await receiver._send_rtcp_pli(ssrc)
    return len(ssrcs)


# -- factory wrappers ----------------------------------------------------------------------


def _owned_receivers() -> list[tuple[RTCRtpReceiver, CodecCounters]]:
    with _lock:
        peers = list(_owned_peers.items())
    return [(receiver, counters) for pc, counters in peers for receiver in pc.getReceivers()]


def _routed_get_decoder(codec: RTCRtpCodecParameters) -> Decoder:
    """Runs in the receiver's decoder thread, which is how the receiver is identified."""
    current = threading.current_thread()
    for receiver, counters in _owned_receivers():
        if getattr(receiver, "_RTCRtpReceiver__decoder_thread", None) is current:
            if receiver in _routed_receivers:
                return PassThroughDecoder(codec)
            counters.count_decoder()
            break
    return _original_get_decoder(codec)


def _routed_get_encoder(codec: RTCRtpCodecParameters) -> Encoder:
    """Called from ``RTCRtpSender._next_encoded_frame``; the caller's ``self`` is the sender."""
    sender = sys._getframe(1).f_locals.get("self")
    if isinstance(sender, RTCRtpSender):
        with _lock:
            peers = list(_owned_peers.items())
        for pc, counters in peers:
            if sender in pc.getSenders():
                if sender in _routed_senders:
                    return PassThroughEncoder(codec, counters)
                counters.count_encoder()
                break
    return _original_get_encoder(codec)


def install() -> None:
    """Replace aiortc's codec factories with the routing wrappers (idempotent)."""
    receiver_module.get_decoder = _routed_get_decoder  # type: ignore[assignment]
    sender_module.get_encoder = _routed_get_encoder  # type: ignore[assignment]


# -- compatibility -----------------------------------------------------------------------


_SDP_PROBE = (
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=mid:0\r\na=extmap:2 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=sendrecv\r\na=rtcp-mux\r\n"
    "a=rtpmap:96 opus/48000/2\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwxyz\r\n"
    "a=fingerprint:sha-256 00:11\r\na=setup:actpass\r\n"
)


def check_compatibility() -> None:
    """Raise ``AiortcCompatibilityError`` listing every hooked internal that changed shape."""
    problems: list[str] = []

    def need(ok: bool, what: str) -> None:
        if not ok:
            problems.append(what)

    worker = getattr(receiver_module, "decoder_worker", None)
    need(callable(getattr(receiver_module, "get_decoder", None)),
         "aiortc.rtcrtpreceiver.get_decoder (decoder factory) is missing")
    need("get_decoder" in _names(worker),
         "aiortc.rtcrtpreceiver.decoder_worker no longer calls the module-level get_decoder")
    need("_RTCRtpReceiver__decoder_thread" in _names(getattr(RTCRtpReceiver, "receive", None)),
         "RTCRtpReceiver.receive no longer stores its thread in __decoder_thread")
    need(worker is not None and "target=decoder_worker" in inspect.getsource(RTCRtpReceiver.receive),
         "RTCRtpReceiver.receive no longer runs decoder_worker in its own thread")
    init_names = _names(RTCRtpReceiver.__init__)
    for private in ("_RTCRtpReceiver__remote_streams", "_RTCRtpReceiver__rtx_ssrc", "_RTCRtpReceiver__rtcp_ssrc"):
        need(private in init_names, f"RTCRtpReceiver no longer has {private}")
    need(inspect.iscoroutinefunction(getattr(RTCRtpReceiver, "_send_rtcp_pli", None))
         and _params(RTCRtpReceiver._send_rtcp_pli) == ["self", "media_ssrc"],
         "RTCRtpReceiver._send_rtcp_pli(self, media_ssrc) coroutine is missing or changed")
    need(inspect.iscoroutinefunction(getattr(RTCRtpReceiver, "_handle_rtp_packet", None))
         and _params(RTCRtpReceiver._handle_rtp_packet) == ["self", "packet", "arrival_time_ms"],
         "RTCRtpReceiver._handle_rtp_packet(self, packet, arrival_time_ms) is missing or changed")
    need("_handle_rtp_packet" in _names(getattr(RTCDtlsTransport, "_handle_rtp_data", None)),
         "RTCDtlsTransport._handle_rtp_data no longer dispatches to receiver._handle_rtp_packet")

    need(callable(getattr(sender_module, "get_encoder", None)),
         "aiortc.rtcrtpsender.get_encoder (encoder factory) is missing")
    next_frame = getattr(RTCRtpSender, "_next_encoded_frame", None)
    need({"get_encoder", "pack"} <= set(_names(next_frame)) and _params(next_frame)[:1] == ["self"],
         "RTCRtpSender._next_encoded_frame no longer calls get_encoder() and encoder.pack()")
    need(callable(getattr(RTCRtpSender, "_send_keyframe", None))
         and "_send_keyframe" in _names(getattr(RTCRtpSender, "_handle_rtcp_packet", None)),
         "RTCRtpSender._handle_rtcp_packet no longer calls self._send_keyframe() on PLI/FIR")

    for mime, params in (("video/VP8", {}), ("video/H264", {"packetization-mode": "1"})):
        codec = RTCRtpCodecParameters(mimeType=mime, clockRate=90000, payloadType=97, parameters=params)
        try:
            packer = _original_get_encoder(codec)
            need(getattr(packer, "codec", "missing") is None and callable(getattr(packer, "pack", None)),
                 f"aiortc's {mime} encoder now opens its codec in the constructor or lost pack()")
        except Exception as exc:  # noqa: BLE001 - any failure here is a compatibility problem
            problems.append(f"cannot create aiortc's {mime} encoder: {exc!r}")

    need("_RTCRtpReceiver__jitter_buffer" in init_names
         and "_RTCRtpReceiver__jitter_buffer" in _names(getattr(RTCRtpReceiver, "_handle_rtp_packet", None)),
         "RTCRtpReceiver no longer keeps its JitterBuffer in __jitter_buffer")
    try:
        buffer = JitterBuffer(capacity=16, prefetch=0, is_video=True)
        need(all(hasattr(buffer, name) for name in ("_origin", "_packets", "_capacity", "_is_video", "capacity"))
             and _params(JitterBuffer._remove_frame) == ["self", "sequence_number"]
             and callable(getattr(JitterBuffer, "remove", None)),
             "JitterBuffer's internals (_origin, _packets, _remove_frame, remove) changed")
    except Exception as exc:  # noqa: BLE001
        problems.append(f"cannot create aiortc's JitterBuffer: {exc!r}")
    frame = JitterFrame(data=b"", timestamp=0)
    need(hasattr(frame, "data") and hasattr(frame, "timestamp"), "JitterFrame lost data/timestamp")
    need(hasattr(RtpPacket().extensions, "audio_level"), "RtpPacket.extensions.audio_level is gone")
    need(any(ext.uri == AUDIO_LEVEL_URI for ext in aiortc.codecs.HEADER_EXTENSIONS.get("audio", [])),
         "aiortc no longer negotiates the ssrc-audio-level header extension")

    offer_names = set(_names(getattr(RTCPeerConnection, "createOffer", None)))
    need({"_codecs", "_headerExtensions", "_set_mline_index"} <= offer_names,
         "RTCPeerConnection.createOffer no longer (re)sets transceivers' _codecs/_headerExtensions/mline index")
    for private in ("_RTCPeerConnection__localRtp", "_RTCPeerConnection__remoteRtp"):
        need({"_codecs", "_headerExtensions"} <= set(_names(getattr(RTCPeerConnection, private, None))),
             f"RTCPeerConnection.{private} no longer reads the transceiver's _codecs/_headerExtensions")
    transceiver = RTCRtpTransceiver("audio", sender=None, receiver=None)  # type: ignore[arg-type]
    need(isinstance(getattr(transceiver, "_codecs", None), list)
         and isinstance(getattr(transceiver, "_headerExtensions", None), list)
         and callable(getattr(transceiver, "_get_mline_index", None)),
         "RTCRtpTransceiver lost _codecs, _headerExtensions or _get_mline_index()")
    need(_params(getattr(peer_connection_module, "is_codec_compatible", None)) == ["a", "b"],
         "aiortc.rtcpeerconnection.is_codec_compatible(a, b) is missing or changed")
    try:
        description = sdp.SessionDescription.parse(_SDP_PROBE)
        media = description.media[0]
        media.fmt = [111]
        media.rtp.codecs = [RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=111)]
        media.rtp.headerExtensions = [RTCRtpHeaderExtensionParameters(id=4, uri=AUDIO_LEVEL_URI)]
        written = str(description)
        need("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" in written and "a=rtpmap:111 opus/48000/2" in written
             and f"a=extmap:4 {AUDIO_LEVEL_URI}" in written and "a=rtpmap:96" not in written,
             "aiortc.sdp no longer writes a section from its fmt, rtp.codecs and rtp.headerExtensions")
    except Exception as exc:  # noqa: BLE001
        problems.append(f"cannot parse and rewrite an SDP with aiortc.sdp: {exc!r}")

    problems.extend(_ice.compatibility_problems())
    if problems:
        raise AiortcCompatibilityError(
            f"aiortc {aiortc.__version__} is incompatible with rtc/aiortc_hooks.py:\n- "
            + "\n- ".join(problems)
        )

