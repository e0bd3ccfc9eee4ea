"""API keys of integrating systems: named, scoped, optionally expiring, revocable, and stored only
as a keyed hash.

A key reads ``ak_<id>_<secret>``: the public id finds the row, then an HMAC-SHA256 of the whole
key under a server secret (kept outside the database) is compared in constant time. A fast hash
is enough because the secret part carries 256 random bits; the HMAC key means a copy of the table
alone cannot even be used to test a guess. Keys of the earlier JSON file (``ak_<secret>``, stored
as plain SHA-256) are brought over by :meth:`ApiKeyService.import_legacy` with the scopes the
operator grants them, and keep working.

What a scope allows is the HTTP layer's business; this module only keeps the vocabulary it is
given, so a key cannot be created with a scope nothing checks.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .api_key_models import ApiKey
from .clock import Clock
from .errors import InvalidInput, NotFound, Unauthenticated, WrongState

PREFIX = "ak_"
_KEY = re.compile(r"^ak_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$")
_LEGACY_KEY = re.compile(r"^ak_[A-Za-z0-9_-]{43}$")
_LEGACY_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_ID = re.compile(r"^[0-9a-f]{12}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: ``last_used_at`` is a hint for operators, not an audit log: write it at most this often per key.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class ApiKeyInfo:
    """Everything about a key except the key: what ``accord apikey list`` shows."""

    id: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


@dataclass(frozen=True)
class IssuedApiKey:
    """A new key: ``key`` exists only here, never in the database or a log."""

    key: str
    info: ApiKeyInfo


def _info(row: ApiKey) -> ApiKeyInfo:
    return ApiKeyInfo(row.id, row.name, tuple(row.scopes), row.created_at, row.expires_at, row.revoked_at,
                      row.last_used_at)


def _legacy_name(name: str) -> str:
    """The old file took any name; keep what the new rule allows and say where the key came from."""
    kept = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-._")[:56]
    if not kept:
        return "imported"
    return f"imported-{kept}" if _ID.match(kept) else kept


class ApiKeyService:
    def __init__(self, db: async_sessionmaker[AsyncSession], clock: Clock, hmac_key: bytes,
                 known_scopes: Iterable[str]):
        if len(hmac_key) < 32:
            raise ValueError("the API key HMAC secret needs at least 32 bytes")
        self.db = db
        self.clock = clock
        self._hmac_key = hmac_key
        self.known_scopes = frozenset(known_scopes)

    def _digest(self, key: str) -> str:
        return "hmac-sha256:" + hmac.new(self._hmac_key, key.encode(), hashlib.sha256).hexdigest()

    def _scopes(self, scopes: Iterable[str]) -> list[str]:
        chosen = sorted(set(scopes))
        if not chosen:
            raise InvalidInput("missing_scope", "an API key needs at least one scope",
                               {"known": sorted(self.known_scopes)})
        unknown = [s for s in chosen if s not in self.known_scopes]
        if unknown:
            raise InvalidInput("unknown_scope", f"unknown scope(s): {', '.join(unknown)}",
                               {"unknown": unknown, "known": sorted(self.known_scopes)})
        return chosen

    @staticmethod
    def _name(name: str) -> str:
        name = name.strip()
        if not _NAME.match(name):
            raise InvalidInput("invalid_key_name", "a key name is 1-64 letters, digits or . _ - (starting with a "
                                               "letter or digit)")
        if _ID.match(name):
            raise InvalidInput("invalid_key_name", "a key name may not look like a key id (12 hex digits)")
        return name

    async def create(self, name: str, scopes: Iterable[str], expires_in: timedelta | None = None) -> IssuedApiKey:
        """Make a key for ``name`` (distinct among live keys) with exactly ``scopes``, working for
        ``expires_in`` from now (``None``: until revoked). The CLI and the admin page both call this."""
        name, chosen = self._name(name), self._scopes(scopes)
        now = self.clock.now()
        if expires_in is not None and expires_in <= timedelta(0):
            raise InvalidInput("invalid_expiry", "the lifetime of a key must be positive")
        expires_at = now + expires_in if expires_in is not None else None
        key_id = secrets.token_hex(6)
        key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        row = ApiKey(id=key_id, name=name, scopes=chosen, key_hash=self._digest(key), created_at=now,
                     expires_at=expires_at)
        await self._insert([row])
        return IssuedApiKey(key, _info(row))

    async def _insert(self, rows: list[ApiKey]) -> None:
        try:
            async with self.db.begin() as s:
                for row in rows:
                    if await s.scalar(select(ApiKey.id).where(ApiKey.name == row.name, ApiKey.revoked_at.is_(None))):
                        raise WrongState("name_taken", f"a live key is already named {row.name!r}: revoke it first "
                                                       "or choose another name", {"name": row.name})
                    s.add(row)
        except IntegrityError:  # a concurrent create took the name, or the key was imported before
            raise WrongState("name_taken", "a live key already has this name, or this key is stored already") \
                from None

    async def list(self) -> list[ApiKeyInfo]:
        async with self.db() as s:
            rows = (await s.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id))).all()
        return [_info(r) for r in rows]

    async def revoke(self, id_or_name: str) -> ApiKeyInfo:
        """Revoke the key with this id, or the live key with this name; it stops working at once."""
        async with self.db.begin() as s:
            row = await s.scalar(select(ApiKey).where(or_(
                ApiKey.id == id_or_name, (ApiKey.name == id_or_name) & ApiKey.revoked_at.is_(None))))
            if row is None:
                raise NotFound("api_key_not_found", f"no key with the id or live name {id_or_name!r}")
            if row.revoked_at is not None:
                raise WrongState("already_revoked", f"key {row.id} was revoked at {row.revoked_at.isoformat()}")
            row.revoked_at = self.clock.now()
        return _info(row)

    async def resolve(self, key: str) -> ApiKeyInfo:
        """The key's record if it may be used now; :class:`Unauthenticated` (unknown, revoked,
        expired) otherwise. Records when it was last used."""
        now = self.clock.now()
        async with self.db.begin() as s:
            row = await self._find(s, key)
            if row is None:
                raise Unauthenticated("bad_credentials", "unknown API key")
            state = _info(row).state(now)
            if state == "revoked":
                raise Unauthenticated("api_key_revoked", "this API key has been revoked")
            if state == "expired":
                raise Unauthenticated("api_key_expired", "this API key has expired")
            if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
                row.last_used_at = now
        return _info(row)

    async def _find(self, s: AsyncSession, key: str) -> ApiKey | None:
        if match := _KEY.match(key):
            row = await s.get(ApiKey, match.group(1))
            digest = self._digest(key)
        elif _LEGACY_KEY.match(key):
            digest = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
            row = await s.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
        else:
            return None
        return row if row is not None and hmac.compare_digest(row.key_hash, digest) else None

    async def import_legacy(self, digests: Mapping[str, str], scopes: Iterable[str]) -> list[ApiKeyInfo]:
        """Bring keys of the old ``api-keys.json`` (SHA-256 hex of the key → name) over with ``scopes``.
        The old file may name several keys alike: later ones get ``-2``, ``-3``... appended."""
        chosen = self._scopes(scopes)
        now = self.clock.now()
        rows: list[ApiKey] = []
        taken: set[str] = set()
        for digest, name in digests.items():
            if not _LEGACY_DIGEST.match(digest):
                raise InvalidInput("invalid_key_file", "the key file holds an entry that is not a SHA-256 digest")
            base = self._name(_legacy_name(name))
            unique, n = base, 1
            while unique in taken:
                n += 1
                unique = f"{base[:60]}-{n}"
            taken.add(unique)
            rows.append(ApiKey(id=secrets.token_hex(6), name=unique, scopes=chosen, key_hash=f"sha256:{digest}",
                               created_at=now))
        await self._insert(rows)
        return [_info(r) for r in rows]
