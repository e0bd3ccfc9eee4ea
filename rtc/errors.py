"""Negotiation errors the signaling layer turns into protocol error codes.

Each carries the ``code`` of docs/protocol.md so ``signaling/`` can forward it unchanged.
"""

from __future__ import annotations


class RtcError(Exception):
    """Base class: a refused negotiation step; the peer is left as it was before the call."""

    code = "rtc_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SdpError(RtcError):
    """The SDP could not be parsed or cannot be used by this server."""

    code = "invalid_sdp"


class GlareError(RtcError):
    """The client offered while the server's own offer was still waiting for an answer."""

    code = "glare"


class NoOfferPendingError(RtcError):
    """An answer arrived but the server has no offer outstanding for that seat."""

    code = "no_offer_pending"


class IceCandidateRefusedError(RtcError):
    """Every ICE candidate the client sent is an address the server refuses to contact."""

    code = "ice_candidate_refused"
