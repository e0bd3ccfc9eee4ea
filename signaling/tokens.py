"""Join tokens: signed, expiring claims that admit one person to one seat of one room.

Format: ``base64url(json claims) "." base64url(HMAC-SHA256(secret, first part))``. A compact
HMAC token rather than a JWT library: the server is the only issuer and verifier, and the
format leaves no algorithm choice to an attacker.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Literal

Role = Literal["mediator", "party", "agent", "observer"]
Side = Literal["applicant", "respondent"]
ROLES: tuple[str, ...] = ("mediator", "party", "agent", "observer")
SIDES: tuple[str, ...] = ("applicant", "respondent")
TOKEN_VERSION = 1
MAX_TOKEN_LENGTH = 2048
_REFERENCE = re.compile(r"[A-Za-z0-9_-]{1,64}")


class TokenError(Exception):
    """Why a token was refused; ``code`` is the protocol's error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class JoinClaims:
    """What a join token grants.

    ``account_id``, ``case_role`` and ``participant`` say who the seat is in a platform case's room:
    the account that entered from its case page (``None`` for a guest who has no account and came
    by a link the mediator made), the part they play in the case (``applicant_party``,
    ``respondent_agent``, ``mediator``, ``court_clerk``...), and the case party row
    (``med_case_parties.id``) a party, an agent or a guest speaks for. Rooms outside the case
    system leave them ``None``.
    """

    room: str
    seat: str
    role: str
    side: str | None
    name: str
    iat: int
    exp: int
    v: int = TOKEN_VERSION
    account_id: str | None = None
    case_role: str | None = None
    participant: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if self.role in ("party", "agent"):
            if self.side not in SIDES:
                raise ValueError(f"a {self.role} needs side applicant or respondent")
        elif self.side is not None:
            raise ValueError(f"a {self.role} has no side")
        if not self.name.strip() or len(self.name) > 64:
            raise ValueError("name must be 1-64 characters")
        for label, value in (("account_id", self.account_id), ("case_role", self.case_role),
                             ("participant", self.participant)):
            if value is not None and not _REFERENCE.fullmatch(value):
                raise ValueError(f"{label} must be 1-64 letters, digits, '_' or '-'")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_seat_id() -> str:
    return "s_" + secrets.token_urlsafe(9)


class TokenIssuer:
    """Issues and verifies join tokens with one secret key."""

    def __init__(self, secret: bytes, default_ttl: int = 4 * 3600):
        if len(secret) < 16:
            raise ValueError("token secret must be at least 16 bytes")
        self._secret = secret
        self.default_ttl = default_ttl

    def __repr__(self) -> str:
        return "TokenIssuer(<secret>)"

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._secret, body.encode("ascii"), hashlib.sha256).digest())

    def stable_seat(self, room: str, holder: str) -> str:
        """The seat id of ``holder`` (e.g. an account in one role) in ``room``: the same on every
        invitation, so reopening the room takes the seat over and a removal sticks to the person.
        Keyed, so a seat id seen in a room says nothing about the account behind it."""
        digest = hmac.new(self._secret, f"seat\x00{room}\x00{holder}".encode(), hashlib.sha256).digest()
        return "s_" + _b64(digest[:12])

    def issue(self, room: str, role: str, name: str, side: str | None = None, *,
              seat: str | None = None, ttl: int | None = None, now: float | None = None,
              account_id: str | None = None, case_role: str | None = None,
              participant: str | None = None) -> tuple[str, JoinClaims]:
        issued = int(now if now is not None else time.time())
        claims = JoinClaims(room=room, seat=seat or new_seat_id(), role=role, side=side, name=name.strip(),
                            iat=issued, exp=issued + (ttl if ttl is not None else self.default_ttl),
                            account_id=account_id, case_role=case_role, participant=participant)
        body = _b64(json.dumps(asdict(claims), separators=(",", ":"), ensure_ascii=False).encode())
        return f"{body}.{self._mac(body)}", claims

    def verify(self, token: object, *, room: str | None = None, now: float | None = None) -> JoinClaims:
        """Return the claims, or raise :class:`TokenError` saying precisely what is wrong."""
        if not isinstance(token, str) or not token:
            raise TokenError("token_invalid", "token must be a non-empty string")
        if len(token) > MAX_TOKEN_LENGTH:
            raise TokenError("token_invalid", "token is too long")
        if not token.isascii():
            raise TokenError("token_invalid", "token contains non-ASCII characters")
        body, dot, mac = token.partition(".")
        if not dot or not body or not mac:
            raise TokenError("token_invalid", "token is not in the form <claims>.<signature>")
        if not hmac.compare_digest(self._mac(body), mac):
            raise TokenError("token_invalid", "token signature does not match (tampered or from another server)")
        try:
            raw = json.loads(_unb64(body))
            claims = JoinClaims(**raw)
        except (ValueError, TypeError) as exc:
            raise TokenError("token_invalid", f"token claims are malformed: {exc}") from None
        if claims.v != TOKEN_VERSION:
            raise TokenError("token_invalid", f"token version {claims.v} is not supported")
        if (now if now is not None else time.time()) >= claims.exp:
            raise TokenError("token_expired", "this invitation has expired; ask the mediator for a new link")
        if room is not None and claims.room != room:
            raise TokenError("token_wrong_room", "this invitation is for another room")
        return claims
