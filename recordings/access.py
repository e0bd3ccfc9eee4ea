"""Who may see a case's recordings, the short-lived links that play or download them, and the
audit entry each access leaves (issue 10).

Readers are the case's mediator, its parties and their agents, and the clerks and judges of the
case's court; anyone else (another mediator, another case's party, the organisation's
administrators, platform administrators, integrating systems) gets the 404 of a case that does not
exist. A link names one file of one session, the account it was issued to and its expiry, under an
HMAC: it opens nothing for anyone else, nothing after it expires, and is useless without that
account's session. Starting to play or download a file (a request that starts at the file's first
byte) is an entry of the case's audit trail; the range requests of a player seeking are not, nor is
the list of what was recorded.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mediation.accounts import Actor
from mediation.cases import CaseContext, CaseService
from mediation.errors import NotFound
from mediation.recording_policy import RecordingPolicyService

from .manifest import manifest_key
from .package import write_package
from .retention import DELETED
from .review import ReviewComposer
from .storage import LocalRecordingStorage
from .store import Consent, RecordingStore, SessionInfo, TrackInfo

Purpose = Literal["play", "download"]
COMPOSITE = "composite"
#: The session's recording package (manifest + every file it lists), for the verification page.
PACKAGE = "package"


@dataclass(frozen=True)
class LinkClaims:
    session_id: str
    file: str  # a track id, "composite" or "package"
    account_id: str
    purpose: Purpose
    expires: int  # Unix seconds


class LinkSigner:
    """``base64url(json claims).base64url(HMAC-SHA256)`` under a secret of the data directory."""

    def __init__(self, secret: bytes, ttl_seconds: int):
        self._secret = secret
        self.ttl_seconds = ttl_seconds

    def issue(self, session_id: str, file: str, account_id: str, purpose: Purpose, now: float | None = None) -> str:
        claims = {"s": session_id, "f": file, "a": account_id, "p": purpose,
                  "e": int((now if now is not None else time.time()) + self.ttl_seconds)}
        body = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).rstrip(b"=")
        return f"{body.decode()}.{self._mac(body)}"

    def verify(self, token: str, account_id: str, now: float | None = None) -> LinkClaims:
        """The claims of a link issued to ``account_id`` that has not expired; ``NotFound`` otherwise,
        whatever the reason (a link grants nothing, so it explains nothing)."""
        body, _, mac = token.partition(".")
        if not body or not hmac.compare_digest(mac.encode(), self._mac(body.encode()).encode()):
            raise NotFound("link_invalid", "this recording link is not valid")
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        if claims["a"] != account_id:
            raise NotFound("link_invalid", "this recording link is not valid")
        if claims["e"] < (now if now is not None else time.time()):
            raise NotFound("link_expired", "this recording link has expired: open the case's recordings again")
        return LinkClaims(claims["s"], claims["f"], claims["a"], claims["p"], claims["e"])

    def _mac(self, body: bytes) -> str:
        return base64.urlsafe_b64encode(hmac.new(self._secret, body, hashlib.sha256).digest()).rstrip(b"=").decode()


@dataclass(frozen=True)
class SessionRecordings:
    """One session as a reader sees it."""

    session: SessionInfo
    consents: list[Consent]
    tracks: list[TrackInfo]  # those with a playable file
    names: dict[str, str]  # seat -> name (from the consents)


@dataclass(frozen=True)
class MediaFile:
    path: Path
    name: str
    claims: LinkClaims


def may_read(ctx: CaseContext) -> bool:
    """The case's mediator, its parties and agents, the clerks and judges of its court."""
    return ctx.relation.mediator or bool(ctx.relation.sides) or ctx.relation.court


class RecordingAccess:
    def __init__(self, cases: CaseService, desk: RecordingPolicyService, store: RecordingStore,
                 storage: LocalRecordingStorage, links: LinkSigner, composer: ReviewComposer):
        self.cases = cases
        self.composer = composer
        self.desk = desk
        self.store = store
        self.storage = storage
        self.links = links
        self._packing: dict[str, asyncio.Lock] = {}

    async def _ensure_reader(self, actor: Actor, case_id: str) -> None:
        async with self.cases.db() as s:
            ctx = await self.cases.load_context(s, actor, case_id)
        if not may_read(ctx):
            raise NotFound("case_not_found", f"no case {case_id} that you can see")

    async def sessions(self, actor: Actor, case_id: str) -> list[SessionRecordings]:
        """The case's recording sessions, oldest first (what was recorded, not yet the recording:
        opening a file is the audited access)."""
        await self._ensure_reader(actor, case_id)
        found = []
        for session in await self.store.sessions_of_case(case_id):
            consents = await self.store.consents(session.id)
            tracks = [] if session.state == DELETED else \
                [t for t in await self.store.tracks(session.id) if t.joined_path is not None]
            found.append(SessionRecordings(session, consents, tracks,
                                           {c.participant.seat: c.participant.name for c in consents}))
        return found

    async def _package(self, session: SessionInfo) -> str | None:
        """The session's package under its manifest's hash (made once per manifest, in a worker
        thread; under the session's prefix, so retention deletes it with the rest)."""
        if session.manifest_sha256 is None or session.state == DELETED:
            return None
        key = f"{session.id}/package-{session.manifest_sha256[:16]}.zip"
        async with self._packing.setdefault(session.id, asyncio.Lock()):
            await asyncio.to_thread(self._write_package, session.id, key)
        return key

    def _write_package(self, session_id: str, key: str) -> None:
        if self.storage.exists(key):
            return
        try:
            write_package(self.storage, session_id, self.storage.spool(key))
            self.storage.commit(key)
        finally:
            self.storage.discard_spool(key)

    async def stored_manifest(self, session_id: str) -> bytes | None:
        """The manifest bytes as stored (whose hash the audit trail records) for the case package;
        ``None`` if the file is gone. The package's caller has checked who may export the case."""
        return await asyncio.to_thread(self._read, manifest_key(session_id))

    def _read(self, key: str) -> bytes | None:
        if not self.storage.exists(key):
            return None
        with self.storage.open(key) as handle:
            return handle.read()

    def link(self, actor: Actor, session_id: str, file: str, purpose: Purpose) -> str:
        return self.links.issue(session_id, file, actor.id, purpose)

    async def open(self, actor: Actor, token: str, *, first_byte: bool) -> MediaFile:
        """The file a link names, for the account it was issued to, if that account may still read
        the case; a request from the first byte is audited as ``recording.played``/``downloaded``."""
        claims = self.links.verify(token, actor.id)
        session = await self.store.session(claims.session_id)
        await self._ensure_reader(actor, session.case_id)
        if claims.file == COMPOSITE:
            key, name = session.composite_path, f"{session.id}-composite.webm"
        elif claims.file == PACKAGE:
            key, name = await self._package(session), f"{session.id}-recording-package.zip"
        else:
            track = next((t for t in await self.store.tracks(session.id) if t.id == claims.file), None)
            key, name = (track.joined_path, f"{session.id}-{track.seat}-{track.kind}.webm") if track else (None, "")
        if key is None or not self.storage.exists(key):
            raise NotFound("recording_file_missing", "this recording file does not exist (any more)")
        if first_byte:
            action = "recording.played" if claims.purpose == "play" else "recording.downloaded"
            await self.desk.record(session.case_id, actor.id, action, {"session": session.id, "file": claims.file},
                                   publish=False)
        return MediaFile(self.storage.local_path(key), name, claims)
