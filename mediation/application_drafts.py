"""Unfinished applications, kept on the server so an applicant can stop and come back from any device.

One draft per account (the applying party's or the agent's own), the form's fields as the applicant
left them: a draft is not checked (that happens when it is filed), only bounded in size and encrypted
like every other ID number. Filing the application does not delete the draft by itself; the page
deletes it once the case exists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .accounts import Actor, Role
from .application_draft_models import ApplicationDraft
from .clock import Clock
from .errors import Forbidden, InvalidInput, NotFound
from .pii import PiiCipher

#: The largest draft kept, as UTF-8 JSON (under the API's 64 KiB body limit): the form fits with room to spare.
MAX_DRAFT_BYTES = 48 * 1024
_CONTEXT = "application.draft"


@dataclass(frozen=True)
class DraftView:
    data: dict[str, Any]
    updated_at: datetime


class ApplicationDrafts:
    def __init__(self, db: async_sessionmaker[AsyncSession], clock: Clock, cipher: PiiCipher):
        self.db = db
        self.clock = clock
        self.cipher = cipher

    @staticmethod
    def _applicant(actor: Actor) -> None:
        if actor.role not in (Role.PARTY, Role.AGENT):
            raise Forbidden("forbidden", "only parties and agents apply for mediation")

    async def get(self, actor: Actor) -> DraftView:
        self._applicant(actor)
        async with self.db() as s:
            row = await s.get(ApplicationDraft, actor.id)
        if row is None:
            raise NotFound("draft_not_found", "you have no saved application")
        return DraftView(json.loads(self.cipher.decrypt(row.data_enc, context=_CONTEXT)), row.updated_at)

    async def save(self, actor: Actor, data: dict[str, Any]) -> DraftView:
        """Keep ``data`` as the account's draft, replacing the one before."""
        self._applicant(actor)
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        if len(text.encode()) > MAX_DRAFT_BYTES:
            raise InvalidInput("draft_too_large", f"a saved application is limited to {MAX_DRAFT_BYTES} bytes",
                               {"limit": MAX_DRAFT_BYTES})
        now = self.clock.now()
        encrypted = self.cipher.encrypt(text, context=_CONTEXT)
        async with self.db.begin() as s:
            row = await s.get(ApplicationDraft, actor.id, with_for_update=True)
            if row is None:
                s.add(ApplicationDraft(account_id=actor.id, data_enc=encrypted, updated_at=now))
            else:
                row.data_enc, row.updated_at = encrypted, now
        return DraftView(data, now)

    async def delete(self, actor: Actor) -> None:
        """Forget the account's draft (after filing, or when the applicant starts over); none is fine."""
        self._applicant(actor)
        async with self.db.begin() as s:
            row = await s.get(ApplicationDraft, actor.id)
            if row is not None:
                await s.delete(row)
