"""Rooms that exist, persisted so invitations stay valid across restarts.

Live state (who is connected, the lobby, the caucus) lives in memory in :class:`signaling.room.Room`;
only the room's identity, owner, lifecycle, removals and chat are stored. The owner sits in a table of
its own (``room_owners``) so that databases made before owners were recorded gain it at start-up;
their rooms have no owner row, and only platform administrators and integrating systems manage
them. Removals (``room_removals``) are stored because "removed means removed" must hold after a
restart and on every node, and for a person, not only for one link. The chat
(``room_chat_messages``) is kept so that a reload, a reconnect or another node shows the
conversation again: the newest :data:`CHAT_KEPT` messages per room, each with the caucus side it
was said in, so that a caucus's words reach only that side and the mediator (:meth:`RoomStore.chat_history`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from typing import Any

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, delete, or_, select, update
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


#: Chat messages kept per room (the oldest go first) and the most a history sends back.
CHAT_KEPT = 500
CHAT_HISTORY = 200


class RoomChatRow(Base):
    """One chat message. ``side``: the caucus side it was said in (``None``: the joint session)."""

    __tablename__ = "room_chat_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("rooms.room_id"), index=True)
    message_id: Mapped[str] = mapped_column(String(24), unique=True)
    seat: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    side: Mapped[str | None] = mapped_column(String(20), nullable=True)
    text: Mapped[str] = mapped_column(String(2000))
    sent_at: Mapped[float] = mapped_column(Float)


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

    async def add_chat(self, room_id: str, message: dict[str, Any], side: str | None) -> None:
        """Keep a message (the ``chat:message`` payload) said in the joint session (``side=None``)
        or in a caucus with ``side``; beyond :data:`CHAT_KEPT` in the room the oldest are deleted."""
        async with self._sessions.begin() as session:
            session.add(RoomChatRow(room_id=room_id, message_id=message["id"], seat=message["seat"],
                                    name=message["name"][:100], role=message["role"], side=side,
                                    text=message["text"], sent_at=message["ts"]))
            await session.flush()
            oldest_kept = await session.scalar(
                select(RoomChatRow.id).where(RoomChatRow.room_id == room_id)
                .order_by(RoomChatRow.id.desc()).offset(CHAT_KEPT - 1).limit(1))
            if oldest_kept is not None:
                await session.execute(delete(RoomChatRow).where(RoomChatRow.room_id == room_id,
                                                                RoomChatRow.id < oldest_kept))

    async def chat_history(self, room_id: str, *, mediator: bool, side: str | None) -> list[dict[str, Any]]:
        """The newest messages a seat may read, oldest first: the joint session's, and a caucus's
        only for the mediator and the side it was held with (an observer has no side)."""
        visible = RoomChatRow.side.is_(None)
        if mediator:
            visible = RoomChatRow.room_id == room_id
        elif side is not None:
            visible = or_(visible, RoomChatRow.side == side)
        async with self._sessions() as session:
            rows = (await session.scalars(select(RoomChatRow).where(RoomChatRow.room_id == room_id, visible)
                                          .order_by(RoomChatRow.id.desc()).limit(CHAT_HISTORY))).all()
        return [{"id": r.message_id, "seat": r.seat, "name": r.name, "role": r.role, "text": r.text,
                 "ts": r.sent_at, "scope": "room" if r.side is None else "caucus"} for r in reversed(rows)]
