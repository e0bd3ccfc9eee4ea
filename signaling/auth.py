"""Who is calling: principals, roles and the credentials that prove them.

Two kinds of callers reach the HTTP API:

* integrating systems (a court or organisation case system) with an API key
  (``Authorization: Bearer ak_...``), role ``service``;
* people, with a session cookie or bearer session token issued at login (the cases
  package provides the account store; see :class:`SessionResolver`).

Room participants are authorised separately by their join token (``signaling.tokens``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable, Protocol

from aiohttp import web

from .errors import ApiError

#: Roles known to the platform. Account roles come from the cases issue; ``service`` is an API key.
ROLES = frozenset(
    {
        "service",
        "platform_admin",
        "org_admin",
        "mediator",
        "party",
        "agent",
        "court_clerk",
        "judge",
    }
)
PUBLIC = frozenset({"public"})


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    subject: str
    roles: frozenset[str]
    kind: str = "user"  # "user" | "service" | "participant"
    display_name: str = ""
    attributes: dict[str, str] = field(default_factory=dict)

    def has_any(self, roles: frozenset[str]) -> bool:
        return bool(self.roles & roles)


ANONYMOUS = Principal(subject="anonymous", roles=frozenset(), kind="anonymous")


class SessionResolver(Protocol):
    """Turns a session token into a principal (or ``None``). Provided by the accounts layer."""

    async def __call__(self, token: str) -> Principal | None: ...


class ApiKeyStore:
    """API keys for integrating systems, kept as SHA-256 hashes in ``secrets/api-keys.json``."""

    def __init__(self, path: Path):
        self.path = path

    def _load(self) -> dict[str, dict[str, str]]:
        if not self.path.exists():
            return {}
        return json.loads(self.path.read_text())

    def create(self, name: str) -> str:
        """Make a new key and return it: the only time the clear key exists outside the caller."""
        key = "ak_" + secrets.token_urlsafe(32)
        data = self._load()
        data[hashlib.sha256(key.encode()).hexdigest()] = {"name": name}
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2)
        tmp.replace(self.path)
        return key

    def resolve(self, key: str) -> Principal | None:
        digest = hashlib.sha256(key.encode()).hexdigest()
        for known, meta in self._load().items():
            if hmac.compare_digest(known, digest):
                return Principal(subject=f"apikey:{meta['name']}", roles=frozenset({"service"}), kind="service",
                                 display_name=meta["name"])
        return None


SESSION_COOKIE = "accord_session"
PRINCIPAL_KEY = web.RequestKey("principal", Principal)


def make_auth_middleware(
    api_keys: ApiKeyStore, sessions: Callable[[str], Awaitable[Principal | None]] | None
) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Attach ``request[PRINCIPAL_KEY]``; a credential that is present but wrong is a 401 at once."""

    async def resolve(token: str) -> Principal | None:
        if token.startswith("ak_"):
            return api_keys.resolve(token)
        return await sessions(token) if sessions is not None else None

    @web.middleware
    async def auth_middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
        principal = ANONYMOUS
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise ApiError(401, "bad_credentials", "Authorization must be 'Bearer <key or session>'")
            resolved = await resolve(value.strip())
            if resolved is None:
                raise ApiError(401, "bad_credentials", "unknown or expired credential")
            principal = resolved
        elif SESSION_COOKIE in request.cookies:
            # A stale cookie is not an attack: treat its bearer as signed out, so public pages and
            # the login endpoint keep working and protected ones answer 401 "unauthenticated".
            principal = await resolve(request.cookies[SESSION_COOKIE]) or ANONYMOUS
        request[PRINCIPAL_KEY] = principal
        return await handler(request)

    return auth_middleware


def require(principal: Principal, allow: frozenset[str]) -> None:
    """Raise 401/403 unless the principal holds one of ``allow`` (``PUBLIC`` lets anyone in)."""
    if allow == PUBLIC:
        return
    if principal.kind == "anonymous":
        raise ApiError(401, "unauthenticated", "sign in or send an API key")
    if not principal.has_any(allow):
        raise ApiError(403, "forbidden", "your role may not do this", {"allowed": sorted(allow)})
