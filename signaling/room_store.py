"""Rooms that exist, persisted so invitations stay valid across restarts.

Live state (who is connected, the lobby, the caucus) lives in memory in :class:`signaling.room.Room`;
only the room's identity, owner, lifecycle and removals are stored. The owner sits in a table of
its own (``room_owners``) so that databases made before owners were recorded gain it at start-up;
their rooms have no owner row, and only platform administrators and integrating systems manage
them. Removals (``room_removals``) are stored because "removed means removed" must hold after a
restart and on every node, and for a person, not only for one link.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import DateTime, ForeignKey, String, or_, select, update
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


class RoomOwnerRow(Base):
    __tablename__ = "room_owners"

    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.room_id"), primary_key=True)
    case_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_by: Mapped[str] = mapped_column(String(100))
    organisation: Mapped[str | None] = mapped_column(String(100), nullable=True)


class RoomRemovalRow(Base):
    """A seat the mediator removed; ``account_id`` keeps the person out whatever seat they come back with."""

    __tablename__ = "room_removals"

    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.room_id"), primary_key=True)
    seat: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    reason: Mapped[str] = mapped_column(String(200))
    removed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class RoomOwner:
    """Who answers for a room.

    ``case_id``: the platform case the room belongs to (step 4 opened it); then the case's mediator
    of the day runs it, as the case system says. ``None`` for a room created directly over the API
    (its ``case_id`` label is whatever the caller wrote): then its creator runs it.
    ``created_by``: the account id, or the API key's subject. ``organisation``: the mediation
    organisation whose administrators oversee the room.
    """

    case_id: str | None
    created_by: str
    organisation: str | None


@dataclass(frozen=True)
class RoomRecord:
    room_id: str
    case_id: str
    title: str
    created_at: datetime
    ended_at: datetime | None
    owner: RoomOwner | None  # None: created before owners were recorded

    @property
    def case_bound(self) -> bool:
        """A platform case's room: its seats are the case's participants, invited from the case."""
        return self.owner is not None and self.owner.case_id is not None

    @classmethod
    def of(cls, row: RoomRow, owner: RoomOwnerRow | None) -> "RoomRecord":
        return cls(row.room_id, row.case_id, row.title, row.created_at, row.ended_at,
                   RoomOwner(owner.case_id, owner.created_by, owner.organisation) if owner else None)


class RoomStore:
    def __init__(self, engine: AsyncEngine):
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def create(self, case_id: str, title: str, owner: RoomOwner) -> RoomRecord:
        row = RoomRow(room_id="r_" + secrets.token_urlsafe(12), case_id=case_id, title=title,
                      created_at=datetime.now(timezone.utc))
        owner_row = RoomOwnerRow(room_id=row.room_id, case_id=owner.case_id, created_by=owner.created_by,
                                 organisation=owner.organisation)
        async with self._sessions.begin() as session:
            session.add(row)
            await session.flush()  # the owner row refers to the room
            session.add(owner_row)
        return RoomRecord.of(row, owner_row)

    async def get(self, room_id: str) -> RoomRecord | None:
        async with self._sessions() as session:
            found = (await session.execute(
                select(RoomRow, RoomOwnerRow).outerjoin(RoomOwnerRow, RoomOwnerRow.room_id == RoomRow.room_id)
                .where(RoomRow.room_id == room_id))).first()
            return RoomRecord.of(*found) if found else None

    async def mark_ended(self, room_id: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(update(RoomRow).where(RoomRow.room_id == room_id, RoomRow.ended_at.is_(None))
                                  .values(ended_at=datetime.now(timezone.utc)))

    async def record_removal(self, room_id: str, seat: str, account_id: str | None, reason: str) -> None:
        async with self._sessions.begin() as session:
            await session.merge(RoomRemovalRow(room_id=room_id, seat=seat, account_id=account_id, reason=reason[:200],
                                               removed_at=datetime.now(timezone.utc)))

    async def is_removed(self, room_id: str, seat: str, account_id: str | None) -> bool:
        """Was this seat, or this account in any seat, removed from the room?"""
        who = RoomRemovalRow.seat == seat
        if account_id is not None:
            who = or_(who, RoomRemovalRow.account_id == account_id)
        async with self._sessions() as session:
            found = await session.scalar(select(RoomRemovalRow.seat).where(RoomRemovalRow.room_id == room_id, who)
                                         .limit(1))
        return found is not None
