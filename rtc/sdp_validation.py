"""Checks an SDP completely before aiortc applies it.

aiortc's ``setRemoteDescription`` mutates the peer connection section by section and raises
half-way through on some bad input (no common codec, a section whose kind changed), which
would leave the peer half-set. Everything aiortc would refuse, and everything the router
cannot forward (other codecs, data channels, unbundled transports), is refused here first,
with a message that names the section and the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from aiortc import sdp

from .errors import IceCandidateRefusedError, SdpError
from .ice_policy import CandidatePolicy

MAX_SDP_CHARS = 65_536
FORWARDED_CODECS = {"audio": ("audio/opus", 48000), "video": ("video/VP8", 90000)}
_ICE_CHARS = re.compile(r"^[a-zA-Z0-9+/]+$")


@dataclass(frozen=True)
class MediaSection:
    """What identifies an m-line across renegotiations."""

    kind: str
    mid: str


def parse_description(
    text: object,
    kind: Literal["offer", "answer"],
    *,
    established: list[MediaSection],
    ice_ufrag: str | None = None,
) -> sdp.SessionDescription:
    """Parse and validate ``text``; ``established`` lists the sections negotiated so far.

    For an answer, ``established`` is the server's outstanding offer and must match
    exactly; for an offer, it must be a prefix (sections can be added, never removed
    or changed). ``ice_ufrag`` is the client's ICE username so far: aiortc cannot
    restart ICE, so a new one is refused rather than silently breaking the connection.
    """
    if not isinstance(text, str) or not text.strip():
        raise SdpError(f"the {kind} SDP is empty or not a string")
    if len(text) > MAX_SDP_CHARS:
        raise SdpError(f"the {kind} SDP is {len(text)} characters, more than {MAX_SDP_CHARS}")
    try:
        description = sdp.SessionDescription.parse(text)
    except Exception as exc:  # noqa: BLE001 - aiortc's parser raises many types on bad input
        raise SdpError(f"the {kind} SDP cannot be parsed: {type(exc).__name__}: {exc}") from exc
    description.type = kind

    if not description.media:
        raise SdpError(f"the {kind} has no media section")
    sections = [_check_media(index, media, kind) for index, media in enumerate(description.media)]
    _check_bundle(description, sections)
    if ice_ufrag is not None and any(media.ice.usernameFragment != ice_ufrag for media in description.media):
        raise SdpError("ICE restart (a new a=ice-ufrag) is not supported; send a new offer with reset")

    if kind == "answer" and sections != established:
        raise SdpError(
            "the answer's media sections "
            f"{_describe(sections)} do not match the offer's {_describe(established)}"
        )
    if kind == "offer" and sections[: len(established)] != established:
        raise SdpError(
            "the offer changes or removes media sections already negotiated: "
            f"expected {_describe(established)} first, got {_describe(sections)}"
        )
    return description


def check_candidates(description: sdp.SessionDescription, policy: CandidatePolicy) -> None:
    """Refuse a description whose ICE candidates are all addresses the server will not contact.

    Some refused candidates next to usable ones are normal (a Windows APIPA adapter gives a
    169.254 host candidate): the ICE hooks drop those silently. When nothing usable is left
    the connection could never work, and the client is told why. mDNS names (``.local``) are
    judged by the hooks once resolved; a description without candidates (peer-reflexive
    discovery only) is left to ICE.
    """
    candidates = [c for media in description.media for c in media.ice_candidates]
    refused = [(c, reason) for c in candidates if (reason := _refusal(c.ip, c.port, policy)) is not None]
    if candidates and len(refused) == len(candidates):
        listed = "; ".join(f"{c.ip}:{c.port} ({reason})" for c, reason in refused[:4])
        raise IceCandidateRefusedError(
            f"every ICE candidate is an address this server refuses to contact: {listed}"
        )


def _refusal(host: str, port: int, policy: CandidatePolicy) -> str | None:
    if host.lower().endswith(".local"):
        return None
    return policy.refusal(host, port)


def _check_media(index: int, media: sdp.MediaDescription, kind: str) -> MediaSection:
    where = f"media section {index}"
    if media.kind not in FORWARDED_CODECS:
        raise SdpError(f"{where} is {media.kind!r}: only audio and video are supported")
    mid = media.rtp.muxId
    if not mid:
        raise SdpError(f"{where} has no a=mid")
    where = f"media section {index} (mid {mid})"
    if media.direction not in sdp.DIRECTIONS:
        raise SdpError(f"{where} has no valid direction attribute")
    if not media.rtcp_mux:
        raise SdpError(f"{where} does not use a=rtcp-mux")
    ice = media.ice
    if ice is None or not ice.usernameFragment or not ice.password:
        raise SdpError(f"{where} lacks a=ice-ufrag or a=ice-pwd")
    if not (4 <= len(ice.usernameFragment) <= 256 and _ICE_CHARS.match(ice.usernameFragment)):
        raise SdpError(f"{where} has a malformed a=ice-ufrag")
    if not (22 <= len(ice.password) <= 256 and _ICE_CHARS.match(ice.password)):
        raise SdpError(f"{where} has a malformed a=ice-pwd")
    if media.dtls is None or not media.dtls.fingerprints:
        raise SdpError(f"{where} has no a=fingerprint")
    allowed_roles = ("client", "server") if kind == "answer" else ("auto", "client", "server")
    if media.dtls.role not in allowed_roles:
        raise SdpError(f"{where} has an a=setup value not allowed in an {kind}")
    mime, clock_rate = FORWARDED_CODECS[media.kind]
    if not any(
        codec.mimeType.lower() == mime.lower() and codec.clockRate == clock_rate
        for codec in media.rtp.codecs
    ):
        raise SdpError(f"{where} does not offer {mime}/{clock_rate}, the only {media.kind} codec forwarded")
    return MediaSection(kind=media.kind, mid=mid)


def _check_bundle(description: sdp.SessionDescription, sections: list[MediaSection]) -> None:
    mids = [section.mid for section in sections]
    if len(set(mids)) != len(mids):
        raise SdpError(f"duplicate a=mid values in {mids}")
    bundle = next((group for group in description.group if group.semantic == "BUNDLE"), None)
    if bundle is None or sorted(bundle.items) != sorted(mids):
        raise SdpError("all media sections must be in one a=group:BUNDLE (max-bundle)")


def _describe(sections: list[MediaSection]) -> str:
    return "[" + ", ".join(f"{s.mid}:{s.kind}" for s in sections) + "]"
