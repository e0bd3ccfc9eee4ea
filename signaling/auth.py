"""Who is calling: principals, roles and the credentials that prove them.

Two kinds of callers reach the HTTP API:

* integrating systems (a court or organisation case system, the signing or identity service) with
  an API key (``Authorization: Bearer ak_...``), role ``service``, limited to the key's scopes
  (:data:`SCOPES`; the keys themselves are kept by :mod:`mediation.api_keys`);
* people, with a session cookie or bearer session token issued at login (the cases
  package provides the account store; see :class:`SessionResolver`).

Room participants are authorised separately by their join token (``signaling.tokens``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Awaitable, Callable, Protocol

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mediation.api_keys import PREFIX as KEY_PREFIX
from mediation.api_keys import ApiKeyInfo, ApiKeyService
from mediation.clock import SystemClock
from mediation.errors import Unauthenticated

from .config import Settings, ensure_secret
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
    #: What an API key was granted; people have none (their role and the domain decide).
    scopes: frozenset[str] = frozenset()

    def has_any(self, roles: frozenset[str]) -> bool:
        return bool(self.roles & roles)


ANONYMOUS = Principal(subject="anonymous", roles=frozenset(), kind="anonymous")


class SessionResolver(Protocol):
    """Turns a session token into a principal (or ``None``). Provided by the accounts layer."""

    async def __call__(self, token: str) -> Principal | None: ...


#: What an API key may be granted. Every endpoint open to the ``service`` role names the one scope
#: it needs (``scope=`` on :meth:`signaling.openapi.ApiRegistry.route`, or its tag's default).
SCOPES: dict[str, str] = {
    "cases:read": "read cases, their timelines, audit trails, mediator recommendations and package exports",
    "cases:write": "delegate cases from a court's case system; run the deadline scan",
    "court": "court applications of cases, litigation packages, ruling documents",
    "agreements": "draft, lock and seal agreements, issue signing links; report that an agreement took effect",
    "identity-provider": "record that a signer passed an identity check",
    "webhooks": "subscribe to case events and read the delivery log",
    "rooms": "create video rooms, issue join links, end sessions",
}
#: Where the keys lived before they moved into the database; its presence stops the server.
LEGACY_KEY_FILE = "api-keys.json"
API_KEYS_KEY = web.AppKey("api_keys", ApiKeyService)


def open_api_keys(settings: Settings, db: async_sessionmaker[AsyncSession]) -> ApiKeyService:
    """The key store of this data directory (its HMAC secret lives in ``secrets/``, not in the database)."""
    return ApiKeyService(db, SystemClock(), ensure_secret(settings, "api-key-hmac"), SCOPES)


def refuse_legacy_key_file(settings: Settings) -> None:
    """Keys of the old JSON file had no scopes: granting them everything would keep the hole open,
    granting nothing would cut integrations off without a word. The operator decides."""
    path = settings.secret_file(LEGACY_KEY_FILE)
    if path.exists():
        raise ValueError(f"{path} holds API keys of an earlier version, which had no scopes: run "
                         "`accord apikey import --scope SCOPE [--scope ...]` to move them into the database "
                         "with the scopes their systems need (or delete the file to drop them)")


def principal_for_key(info: ApiKeyInfo) -> Principal:
    return Principal(subject=f"apikey:{info.name}", roles=frozenset({"service"}), kind="service",
                     display_name=info.name, scopes=frozenset(info.scopes))


SESSION_COOKIE = "accord_session"
PRINCIPAL_KEY = web.RequestKey("principal", Principal)


def cookie_authenticated(request: web.Request) -> bool:
    """Does the session cookie speak for this request? (A header credential always wins, and a
    browser never adds one on another site's behalf.)"""
    return "Authorization" not in request.headers and SESSION_COOKIE in request.cookies


#: Paths that check a credential of their own (``/metrics``: the metrics bearer token), which is
#: neither an API key nor a session: the general check leaves them to it.
OWN_CREDENTIAL_PATHS = frozenset({"/metrics"})


def make_auth_middleware(
    api_keys: ApiKeyService | None, sessions: Callable[[str], Awaitable[Principal | None]] | None
) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Attach ``request[PRINCIPAL_KEY]``; a credential that is present but wrong is a 401 at once.
    API keys count only in the ``Authorization`` header, never as a cookie."""

    async def resolve_bearer(token: str) -> Principal | None:
        if not token.startswith(KEY_PREFIX):
            return await sessions(token) if sessions is not None else None
        if api_keys is None:
            return None
        try:
            return principal_for_key(await api_keys.resolve(token))
        except Unauthenticated as refused:
            raise ApiError(401, refused.code, refused.message) from None

    @web.middleware
    async def auth_middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
        principal = ANONYMOUS
        header = request.headers.get("Authorization", "")
        if request.path in OWN_CREDENTIAL_PATHS:
            header = ""
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise ApiError(401, "bad_credentials", "Authorization must be 'Bearer <key or session>'")
            resolved = await resolve_bearer(value.strip())
            if resolved is None:
                raise ApiError(401, "bad_credentials", "unknown or expired credential")
            principal = resolved
        elif SESSION_COOKIE in request.cookies:
            # A stale cookie is not an attack: treat its bearer as signed out, so public pages and
            # the login endpoint keep working and protected ones answer 401 "unauthenticated".
            cookie = request.cookies[SESSION_COOKIE]
            session = await sessions(cookie) if sessions is not None and not cookie.startswith(KEY_PREFIX) else None
            principal = session or ANONYMOUS
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


def require_scope(principal: Principal, scope: str | None) -> None:
    """API keys only: 403 unless the key was granted ``scope``. An endpoint that names no scope is
    closed to keys (the registry test makes sure none does while allowing ``service``)."""
    if principal.kind != "service":
        return
    if scope is None:
        raise ApiError(403, "insufficient_scope", "no API key scope grants this endpoint", {"scope": None})
    if scope not in principal.scopes:
        raise ApiError(403, "insufficient_scope", f"this API key lacks the scope {scope!r}",
                       {"scope": scope, "granted": sorted(principal.scopes)})
