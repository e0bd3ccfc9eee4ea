"""Accounts over HTTP: phone codes, self-registration of parties and agents, staff accounts,
login per role channel, logout, and the session resolver the auth middleware calls.

The domain (``mediation.accounts``) knows nothing of HTTP or of :class:`Principal`; this module
translates both ways.
"""

from __future__ import annotations

import functools
from dataclasses import is_dataclass
from typing import Any, Awaitable, Callable, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from mediation.accounts import AccountInfo, AccountService, Actor, Channel, IssuedSession, NewAccount, Role
from mediation.errors import MediationError
from mediation.services import MediationServices

from ..auth import PUBLIC, SESSION_COOKIE, Principal
from ..case_follow import CASE_FOLLOWERS_KEY
from ..client_address import client_address
from ..config import Settings
from ..errors import ApiError
from ..openapi import Handler, api, principal_of

SERVICES_KEY = web.AppKey("mediation_services", MediationServices)
CASES_SETTINGS_KEY = web.AppKey("mediation_settings", Settings)

ACCOUNT_ROLES = frozenset(str(r) for r in Role)
TAG = "accounts"

_STATUS = {"invalid": 422, "not_found": 404, "forbidden": 403, "conflict": 409, "unauthenticated": 401,
           "unavailable": 503, "throttled": 429}


def domain_errors(handler: Handler) -> Handler:
    """Turn the domain's refusals into the API's one error shape (422/404/403/409/401/503; 429 with
    ``Retry-After``)."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request, body: Any) -> Any:
        try:
            return await handler(request, body)
        except MediationError as err:
            headers = {"Retry-After": str(err.details["retry_after"])} if "retry_after" in err.details else None
            raise ApiError(_STATUS[err.kind], err.code, err.message, err.details, headers) from None

    return wrapped


_adapters: dict[type, TypeAdapter[Any]] = {}


def dump(value: Any) -> Any:
    """A domain result (dataclass, or list of them) as JSON-ready data."""
    if isinstance(value, list):
        return [dump(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        adapter = _adapters.setdefault(type(value), TypeAdapter(type(value)))
        return adapter.dump_python(value, mode="json")
    return value


def services_of(request: web.Request) -> MediationServices:
    return request.app[SERVICES_KEY]


def actor_of(request: web.Request) -> Actor:
    """The domain's view of the caller: an account, or an integrating system (role ``service``)."""
    return actor_for(principal_of(request))


def actor_for(p: Principal) -> Actor:
    if p.kind == "service":
        return Actor(p.subject, "service", p.display_name, court=p.attributes.get("court"))
    (role,) = tuple(p.roles)  # an account has exactly one role
    return Actor(p.subject, role, p.display_name, p.attributes.get("phone"), p.attributes.get("organisation"),
                 p.attributes.get("court"))


def principal_for(account: AccountInfo, channel: Channel) -> Principal:
    attributes = {"channel": str(channel)}
    for key in ("phone", "organisation", "court"):
        if (value := getattr(account, key)) is not None:
            attributes[key] = value
    return Principal(subject=account.id, roles=frozenset({str(account.role)}), kind="user",
                     display_name=account.display_name, attributes=attributes)


def make_session_resolver(accounts: AccountService) -> Callable[[str], Awaitable[Principal | None]]:
    """What ``make_auth_middleware(..., sessions=...)`` calls with a session token."""

    async def resolve(token: str) -> Principal | None:
        info = await accounts.resolve_session(token)
        return None if info is None else principal_for(info.account, info.channel)

    return resolve


def _session_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(SESSION_COOKIE)


# --- bodies -----------------------------------------------------------------------------------
class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


Phone = Field(min_length=6, max_length=16)


class CodeRequest(Strict):
    phone: str = Phone


class Registration(Strict):
    role: Literal["party", "agent"]
    login: str = Field(min_length=3, max_length=64)
    display_name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=10, max_length=256)
    phone: str = Phone
    id_number: str = Field(min_length=18, max_length=18)
    code: str = Field(pattern=r"^\d{6}$")


class StaffAccount(Strict):
    role: Literal["mediator", "org_admin", "court_clerk", "judge", "platform_admin"]
    login: str = Field(min_length=3, max_length=64)
    display_name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=10, max_length=256)
    phone: str | None = Field(default=None, min_length=6, max_length=16)
    organisation: str | None = Field(default=None, max_length=100)
    court: str | None = Field(default=None, max_length=100)


class PasswordLogin(Strict):
    channel: Literal["party", "mediator", "court", "admin"]
    login: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class CodeLogin(Strict):
    channel: Literal["party", "mediator", "court", "admin"]
    phone: str = Phone
    code: str = Field(pattern=r"^\d{6}$")


class Empty(Strict):
    pass


def _login_response(request: web.Request, issued: IssuedSession) -> web.Response:
    response = web.json_response({"token": issued.token, "account": dump(issued.session.account),
                                  "channel": str(issued.session.channel),
                                  "expires_at": issued.session.expires_at.isoformat()})
    settings = request.app[CASES_SETTINGS_KEY]
    response.set_cookie(SESSION_COOKIE, issued.token, httponly=True, samesite="Strict", path="/",
                        secure=settings.scheme == "https",
                        max_age=int(services_of(request).accounts.session_ttl.total_seconds()))
    return response


# --- endpoints --------------------------------------------------------------------------------
@api.route("POST", "/api/auth/code", summary="Text a one-time code to a phone", allow=PUBLIC, tag=TAG,
           request=CodeRequest, status=202)
@domain_errors
async def send_code(request: web.Request, body: CodeRequest) -> dict[str, str]:
    sent = await services_of(request).accounts.send_code(body.phone)
    return {"phone": sent.phone, "expires_at": sent.expires_at.isoformat()}


@api.route("POST", "/api/accounts/register", summary="Register as a party or an agent (with a phone code)",
           allow=PUBLIC, tag=TAG, request=Registration, status=201)
@domain_errors
async def register(request: web.Request, body: Registration) -> Any:
    info = await services_of(request).accounts.register(
        NewAccount(Role(body.role), body.login, body.display_name, body.password, phone=body.phone,
                   id_number=body.id_number), body.code)
    return dump(info)


@api.route("POST", "/api/accounts/staff", summary="Create a mediator, court or administrator account",
           allow=frozenset({"platform_admin", "org_admin"}), tag=TAG, request=StaffAccount, status=201)
@domain_errors
async def create_staff(request: web.Request, body: StaffAccount) -> Any:
    info = await services_of(request).accounts.create_staff(actor_of(request), NewAccount(
        Role(body.role), body.login, body.display_name, body.password, phone=body.phone,
        organisation=body.organisation, court=body.court))
    return dump(info)


@api.route("POST", "/api/auth/login", summary="Sign in with a password through a role's channel", allow=PUBLIC,
           tag=TAG, request=PasswordLogin)
@domain_errors
async def login(request: web.Request, body: PasswordLogin) -> web.Response:
    """Channels: ``party`` (parties, agents), ``mediator`` (mediators, organisation administrators),
    ``court`` (clerks, judges), ``admin``. Sets the ``accord_session`` cookie and returns the token.
    Failed attempts are throttled per login and per client address: 429 ``login_throttled`` with
    ``Retry-After``, also for the right password, until the lockout ends."""
    client = client_address(request, request.app[CASES_SETTINGS_KEY].trusted_proxies)
    issued = await services_of(request).accounts.login_password(Channel(body.channel), body.login, body.password,
                                                                client)
    return _login_response(request, issued)


@api.route("POST", "/api/auth/login/code", summary="Sign in with a phone code through a role's channel",
           allow=PUBLIC, tag=TAG, request=CodeLogin)
@domain_errors
async def login_with_code(request: web.Request, body: CodeLogin) -> web.Response:
    issued = await services_of(request).accounts.login_code(Channel(body.channel), body.phone, body.code)
    return _login_response(request, issued)


@api.route("POST", "/api/auth/logout", summary="End this session", allow=ACCOUNT_ROLES, tag=TAG, request=Empty)
@domain_errors
async def logout(request: web.Request, _: Empty) -> web.Response:
    token = _session_token(request)
    assert token is not None  # the auth middleware resolved it to reach here
    await services_of(request).accounts.logout(token)
    followers = request.app.get(CASE_FOLLOWERS_KEY)
    if followers is not None:  # an app without Socket.IO has no followers to drop
        await followers.session_ended(token)
    response = web.json_response({"ok": True})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


@api.route("GET", "/api/auth/me", summary="The signed-in account", allow=ACCOUNT_ROLES, tag=TAG)
@domain_errors
async def me(request: web.Request, _: None) -> Any:
    return dump(await services_of(request).accounts.get(principal_of(request).subject))


@api.route("POST", "/api/accounts/agents", summary="Authorise an agent: upload the power of attorney",
           allow=frozenset({"party"}), tag=TAG, raw_body=True, content_type="application/pdf", status=201)
@domain_errors
async def authorise_agent(request: web.Request, _: None) -> dict[str, str]:
    """Query: ``agent`` (the agent's login), ``name`` (the file's name). Body: the signed document."""
    agent = request.query.get("agent", "")
    if not agent:
        raise ApiError(422, "missing_field", "say which agent (?agent=<login>)")
    auth = await services_of(request).accounts.authorise_agent(
        actor_of(request), agent, await request.read(), request.query.get("name", "power-of-attorney.pdf"),
        request.content_type)
    return {"agent_id": auth.agent.id, "party_id": auth.party_id, "power_of_attorney_id": auth.power_of_attorney_id,
            "sha256": auth.power_of_attorney_sha256}


@api.route("GET", "/api/mediators", summary="Mediators one can choose (public directory)", allow=PUBLIC, tag=TAG)
@domain_errors
async def list_mediators(request: web.Request, _: None) -> list[dict[str, str | None]]:
    mediators = await services_of(request).accounts.list_by_role(Role.MEDIATOR)
    return [{"id": m.id, "name": m.display_name, "organisation": m.organisation} for m in mediators]
