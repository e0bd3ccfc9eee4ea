"""Rooms that exist, persisted so invitations stay valid across restarts.

Live state (who is connected, the lobby, the caucus) lives in memory in :class:`signaling.room.Room`;
only the room's identity and lifecycle are stored.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import DateTime, String, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


metadata = Base.metadata


class RoomRow(Base):
    __tablename__ = "rooms"

    room_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


@dataclass(frozen=True)
class RoomRecord:
    room_id: str
    case_id: str
    title: str
    created_at: datetime
    ended_at: datetime | None

    @classmethod
    def of(cls, row: RoomRow) -> "RoomRecord":
        return cls(row.room_id, row.case_id, row.title, row.created_at, row.ended_at)


class RoomStore:
    def __init__(self, engine: AsyncEngine):
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def create(self, case_id: str, title: str = "") -> RoomRecord:
        row = RoomRow(room_id="r_" + secrets.token_urlsafe(12), case_id=case_id, title=title,
                      created_at=datetime.now(timezone.utc))
        async with self._sessions.begin() as session:
            session.add(row)
        return RoomRecord.of(row)

    async def get(self, room_id: str) -> RoomRecord | None:
        async with self._sessions() as session:
            row = await session.get(RoomRow, room_id)
            return RoomRecord.of(row) if row else None

    async def list_for_case(self, case_id: str) -> list[RoomRecord]:
        async with self._sessions() as session:
            rows = (await session.scalars(select(RoomRow).where(RoomRow.case_id == case_id))).all()
            return [RoomRecord.of(r) for r in rows]

    async def mark_ended(self, room_id: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(update(RoomRow).where(RoomRow.room_id == room_id, RoomRow.ended_at.is_(None))
                                  .values(ended_at=datetime.now(timezone.utc)))
