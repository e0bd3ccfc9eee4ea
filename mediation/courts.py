"""The court directory: the courts this platform docks with. Parties choose the court for a
judicial confirmation or a payment order from it (CPL art. 205: the court that delegated the
case, or a basic-level court where a party lives, the subject matter is or the organisation
sits), and platform administrators place clerks and judges in one of its courts.

A deployment that lists no court yet accepts court names as given, as before the directory
existed; once one court is listed, every new application and court account must name a listed one.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .accounts import Actor, Role
from .clock import Clock
from .court_models import Court
from .errors import Forbidden, InvalidInput
from .text import clean_text

#: A court's code as case numbers carry it: the province's one-character abbreviation and four
#: digits of the administrative division, e.g. 川0104 in (2026)川0104民调1号.
COURT_CODE = re.compile(r"^[\u4e00-\u9fff]\d{4}$")


@dataclass(frozen=True)
class NewCourt:
    name: str
    region: str
    code: str | None = None


@dataclass(frozen=True)
class CourtView:
    id: str
    name: str
    code: str | None
    region: str


def _view(row: Court) -> CourtView:
    return CourtView(row.id, row.name, row.code, row.region)


class CourtDirectory:
    def __init__(self, db: async_sessionmaker[AsyncSession], clock: Clock):
        self.db = db
        self.clock = clock

    async def list(self) -> list[CourtView]:
        """Every listed court, by code then name (courts of one city sort together)."""
        async with self.db() as s:
            rows = (await s.scalars(select(Court))).all()
        return [_view(r) for r in sorted(rows, key=lambda r: (r.code or "\uffff", r.name))]

    def _row(self, new: NewCourt) -> Court:
        code = clean_text(new.code, "code", 20, required=False) if new.code is not None else ""
        if code and not COURT_CODE.match(code):
            raise InvalidInput("invalid_court_code", "a court code is the province's character and four digits, e.g. 川0104")
        return Court(id="ct_" + secrets.token_hex(8), name=clean_text(new.name, "name", 100), code=code or None,
                     region=clean_text(new.region, "region", 100), created_at=self.clock.now())

    async def add(self, actor: Actor, new: NewCourt) -> CourtView:
        if actor.role != Role.PLATFORM_ADMIN:
            raise Forbidden("forbidden", "only platform administrators maintain the court directory")
        row = self._row(new)
        async with self.db.begin() as s:
            if await s.scalar(select(Court.id).where(Court.name == row.name)) is not None:
                raise InvalidInput("name_taken", "a court with this name is already listed")
            s.add(row)
        return _view(row)

    async def ensure(self, actor: Actor, courts: Iterable[NewCourt]) -> list[CourtView]:
        """Add the courts not listed yet (by name) and leave the others: safe to run again."""
        if actor.role != Role.PLATFORM_ADMIN:
            raise Forbidden("forbidden", "only platform administrators maintain the court directory")
        rows = [self._row(new) for new in courts]
        async with self.db.begin() as s:
            listed = set((await s.scalars(select(Court.name))).all())
            s.add_all([row for row in rows if row.name not in listed])
        return await self.list()
