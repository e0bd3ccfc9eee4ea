"""API keys over HTTP, for platform administrators: the admin page's panel does what
``accord apikey create|list|revoke`` does, through the same :class:`ApiKeyService`.

A new key is in the answer to its creation and nowhere else (the database keeps a keyed hash).
There is no audit trail for platform administration (the audit trail is per case), so creations
and revocations are logged with who did them, the key's id, name and scopes — never the key.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from mediation.api_keys import ApiKeyInfo, ApiKeyService

from ..auth import API_KEYS_KEY, SCOPES
from ..openapi import api, principal_of
from .accounts import Strict, domain_errors

TAG = "api-keys"
ADMINS = frozenset({"platform_admin"})
log = logging.getLogger(__name__)


class ApiKeyOut(BaseModel):
    """A key without the key: what it is for and whether it works."""

    id: str
    name: str
    scopes: list[str]
    state: Literal["active", "expired", "revoked"]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(description="a hint, written at most once a minute per key")


class IssuedApiKeyOut(ApiKeyOut):
    key: str = Field(description="the key itself: shown only in this answer, never again")


class ApiKeysOut(BaseModel):
    keys: list[ApiKeyOut]
    scopes: dict[str, str] = Field(description="every scope a key may be given, with what it allows")


class NewApiKey(Strict):
    name: str = Field(min_length=1, max_length=64, description="who will use it, e.g. court-system "
                                                               "(letters, digits, . _ -; distinct among live keys)")
    scopes: list[str] = Field(min_length=1, max_length=len(SCOPES),
                              json_schema_extra={"items": {"type": "string", "enum": sorted(SCOPES)}})
    expires_in_days: int | None = Field(default=None, ge=1, le=3650, description="omitted: until revoked")


def _keys(request: web.Request) -> ApiKeyService:
    return request.app[API_KEYS_KEY]


def _out(keys: ApiKeyService, info: ApiKeyInfo) -> ApiKeyOut:
    return ApiKeyOut(id=info.id, name=info.name, scopes=list(info.scopes), state=info.state(keys.clock.now()),
                     created_at=info.created_at, expires_at=info.expires_at, revoked_at=info.revoked_at,
                     last_used_at=info.last_used_at)


def _logged(request: web.Request, action: str, info: ApiKeyInfo) -> None:
    log.info("api key %s", action, extra={"key_id": info.id, "key_name": info.name, "scopes": list(info.scopes),
                                          "by": principal_of(request).subject})


@api.route("GET", "/api/admin/api-keys", summary="Every API key with its scopes and state (never the key)",
           allow=ADMINS, tag=TAG, response=ApiKeysOut)
@domain_errors
async def list_api_keys(request: web.Request, _: None) -> ApiKeysOut:
    keys = _keys(request)
    return ApiKeysOut(keys=[_out(keys, info) for info in await keys.list()], scopes=SCOPES)


@api.route("POST", "/api/admin/api-keys", summary="Create an API key (the key is shown only in this answer)",
           allow=ADMINS, tag=TAG, request=NewApiKey, response=IssuedApiKeyOut, status=201)
@domain_errors
async def create_api_key(request: web.Request, body: NewApiKey) -> IssuedApiKeyOut:
    keys = _keys(request)
    lifetime = timedelta(days=body.expires_in_days) if body.expires_in_days is not None else None
    issued = await keys.create(body.name, body.scopes, lifetime)
    _logged(request, "created", issued.info)
    return IssuedApiKeyOut(**_out(keys, issued.info).model_dump(), key=issued.key)


@api.route("DELETE", "/api/admin/api-keys/{key_id}", summary="Revoke an API key at once",
           allow=ADMINS, tag=TAG, response=ApiKeyOut)
@domain_errors
async def revoke_api_key(request: web.Request, _: None) -> ApiKeyOut:
    """``key_id`` is the key's id (the name of a live key is taken too, as on the command line)."""
    keys = _keys(request)
    info = await keys.revoke(request.match_info["key_id"])
    _logged(request, "revoked", info)
    return _out(keys, info)
