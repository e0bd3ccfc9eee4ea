"""One participant's RTCPeerConnection and the offer/answer state around it.

aiortc has no ``negotiationneeded`` event and no rollback, so this class keeps the rules
itself: the client offers first, the server re-offers only when the router asks, there is
never more than one offer outstanding, and a client offer arriving while the server's offer
waits is glare (the browser is the polite peer and rolls back). Every step runs under one
lock, so a re-offer and a client offer never interleave.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpCodecCapability,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
    sdp,
)

from . import aiortc_hooks
from .errors import GlareError, NoOfferPendingError, SdpError
from .ice_policy import IceNetwork
from .sdp_validation import FORWARDED_CODECS, MediaSection, check_candidates, parse_description

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishedTrack:
    """A track the participant sends to the server."""

    kind: str
    track: MediaStreamTrack
    receiver: RTCRtpReceiver


def _codec_preferences(kind: str) -> list[RTCRtpCodecCapability]:
    mime, _ = FORWARDED_CODECS[kind]
    return [
        codec
        for codec in RTCRtpSender.getCapabilities(kind).codecs
        if codec.mimeType.lower() in (mime.lower(), f"{kind}/rtx")
    ]


class ParticipantPeer:
    """Negotiation for one seat; the router decides what is sent and received."""

    def __init__(
        self,
        seat: str,
        configuration: RTCConfiguration,
        *,
        network: IceNetwork,
        on_published: Callable[[PublishedTrack], None],
    ) -> None:
        self.seat = seat
        self.pc = RTCPeerConnection(configuration)
        aiortc_hooks.apply_ice_network(self.pc, network)
        self._network = network
        self._lock = asyncio.Lock()
        self._sections: list[MediaSection] = []
        self._remote_ufrag: str | None = None
        self._offered: list[MediaSection] | None = None
        self._renegotiation_needed = False
        self._numbering = aiortc_hooks.RtpNumbering()
        self._closed = False
        self._on_published = on_published
        self.pc.on("track", self._handle_track)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def negotiated(self) -> bool:
        """True once a first offer/answer exchange has completed."""
        return bool(self._sections)

    def mark_renegotiation_needed(self) -> None:
        self._renegotiation_needed = True

    def add_send_transceiver(self, track: MediaStreamTrack) -> RTCRtpTransceiver:
        """Only call from the ``prepare`` callback of ``make_offer`` (under the lock).

        aiortc gives an unassigned transceiver to the next remote section of its kind, so
        one must never be left waiting outside an offer.
        """
        transceiver = self.pc.addTransceiver(track, direction="sendonly")
        transceiver.setCodecPreferences(_codec_preferences(track.kind))
        return transceiver

    async def accept_offer(self, text: object) -> str:
        """Apply the client's offer and return the answer SDP."""
        async with self._lock:
            if self._closed:
                raise SdpError("this peer connection is closed; send a new offer with reset")
            if self._offered is not None:
                raise GlareError("the server's offer is waiting for an answer; roll back and answer it")
            description = parse_description(
                text, "offer", established=self._sections, ice_ufrag=self._remote_ufrag
            )
            check_candidates(description, self._network.candidates)
            self._refuse_renumbering(description, "offer")
            for media in description.media[len(self._sections):]:
                # Claim each new section with a receive-only transceiver limited to the
                # forwarded codec, so publishers send what every subscriber can receive.
                transceiver = self.pc.addTransceiver(media.kind, direction="recvonly")
                transceiver.setCodecPreferences(_codec_preferences(media.kind))
            try:
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=str(text), type="offer"))
                await self.pc.setLocalDescription(await self.pc.createAnswer())
            except Exception as exc:  # noqa: BLE001 - the stack refused it after our checks
                await self._fail()
                raise SdpError(
                    f"the offer was refused by the WebRTC stack ({type(exc).__name__}: {exc}); "
                    "this peer connection is closed, send a new offer with reset"
                ) from exc
            self._numbering.learn(description)
            self._sections = [MediaSection(m.kind, m.rtp.muxId) for m in description.media]
            self._remote_ufrag = description.media[0].ice.usernameFragment
            return self.pc.localDescription.sdp

    async def make_offer(self, prepare: Callable[[], None]) -> str | None:
        """Create a re-offer if one is needed and none is outstanding, else ``None``.

        ``prepare`` runs under the lock just before the offer is created; the router adds
        its send transceivers there.
        """
        async with self._lock:
            if self._closed or self._offered is not None or not self.negotiated:
                return None
            prepare()
            if not self._renegotiation_needed:
                return None
            try:
                # aiortc's own createOffer would renumber codecs and extensions: see RtpNumbering.
                await self.pc.setLocalDescription(await aiortc_hooks.create_offer(self.pc, self._numbering))
            except Exception:
                log.exception("seat %s: creating a re-offer failed; closing its peer", self.seat)
                await self._fail()
                return None
            self._renegotiation_needed = False
            local = self.pc.localDescription.sdp
            self._offered = [
                MediaSection(m.kind, m.rtp.muxId)
                for m in parse_description(local, "offer", established=self._sections).media
            ]
            return local

    async def accept_answer(self, text: object) -> None:
        """Apply the client's answer to the outstanding server offer."""
        async with self._lock:
            if self._closed or self._offered is None:
                raise NoOfferPendingError("the server has no offer waiting for an answer")
            description = parse_description(
                text, "answer", established=self._offered, ice_ufrag=self._remote_ufrag
            )
            check_candidates(description, self._network.candidates)
            self._refuse_renumbering(description, "answer")
            try:
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=str(text), type="answer"))
            except Exception as exc:  # noqa: BLE001 - the stack refused it after our checks
                await self._fail()
                raise SdpError(
                    f"the answer was refused by the WebRTC stack ({type(exc).__name__}: {exc}); "
                    "this peer connection is closed, send a new offer with reset"
                ) from exc
            self._numbering.learn(description)
            self._sections, self._offered = self._offered, None

    def _refuse_renumbering(self, description: sdp.SessionDescription, kind: str) -> None:
        changes = self._numbering.renumbering(description)
        if changes:
            raise SdpError(
                f"the {kind} gives codecs or header extensions negotiated earlier other numbers "
                f"({'; '.join(changes[:4])}); keep the numbers, or send a new offer with reset"
            )

    async def close(self) -> None:
        self._closed = True
        await self.pc.close()

    async def _fail(self) -> None:
        self._offered = None
        await self.close()

    def _handle_track(self, track: MediaStreamTrack) -> None:
        receiver = next(r for r in self.pc.getReceivers() if r.track is track)
        self._on_published(PublishedTrack(kind=track.kind, track=track, receiver=receiver))
