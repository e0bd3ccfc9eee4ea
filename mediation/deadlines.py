"""Stored time limits and overdue detection.

Deadlines are rows, not timers, so they survive restarts; :class:`DeadlineMonitor` is run
periodically (or by a test with a manual clock) and flags each limit that has passed, once, to
the responsible person or the responsible court's staff, with an audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from . import audit
from .accounts import Actor
from .clock import Clock
from .events import CaseEvents
from .models import Case, Deadline, OverdueFlag

SYSTEM_ACTOR = "system:deadlines"


@dataclass(frozen=True)
class Responsible:
    """Who must act: named accounts, or every holder of ``role`` at ``court``."""

    account_ids: tuple[str, ...] = ()
    role: str | None = None
    court: str | None = None


@dataclass(frozen=True)
class DeadlineView:
    kind: str
    standard: str
    started_at: datetime
    due_at: datetime
    completed_at: datetime | None
    overdue: bool


@dataclass(frozen=True)
class FlagView:
    case_id: str
    kind: str
    message: str
    due_at: datetime
    flagged_at: datetime


def open_deadline(s: AsyncSession, case_id: str, kind: str, standard: str, started_at: datetime, due_at: datetime,
                  responsible: Responsible) -> None:
    s.add(Deadline(case_id=case_id, kind=kind, standard=standard,
                   responsible_account_id=",".join(responsible.account_ids) or None,
                   responsible_role=responsible.role, responsible_court=responsible.court,
                   started_at=started_at, due_at=due_at))


async def complete_deadlines(s: AsyncSession, case_id: str, kind_prefix: str, now: datetime) -> None:
    await s.execute(update(Deadline).where(Deadline.case_id == case_id, Deadline.kind.startswith(kind_prefix),
                                           Deadline.completed_at.is_(None)).values(completed_at=now))


async def extend_deadline(s: AsyncSession, case_id: str, kind: str, new_due: datetime) -> None:
    await s.execute(update(Deadline).where(Deadline.case_id == case_id, Deadline.kind == kind,
                                           Deadline.completed_at.is_(None))
                    .values(due_at=new_due, overdue_at=None))


async def deadlines_of(s: AsyncSession, case_id: str) -> list[DeadlineView]:
    rows = (await s.scalars(select(Deadline).where(Deadline.case_id == case_id).order_by(Deadline.id))).all()
    return [DeadlineView(r.kind, r.standard, r.started_at, r.due_at, r.completed_at, r.overdue_at is not None)
            for r in rows]


@dataclass(frozen=True)
class ScanResult:
    flagged: list[FlagView]


class DeadlineMonitor:
    def __init__(self, db: async_sessionmaker[AsyncSession], clock: Clock, events: CaseEvents):
        self.db = db
        self.clock = clock
        self.events = events

    async def scan(self) -> ScanResult:
        """Flag every open deadline that has passed and was not flagged yet."""
        now = self.clock.now()
        flagged: list[FlagView] = []
        async with self.db.begin() as s:
            due = (await s.scalars(select(Deadline).where(Deadline.completed_at.is_(None), Deadline.overdue_at.is_(None),
                                                          Deadline.due_at <= now).order_by(Deadline.id))).all()
            for deadline in due:
                case = await s.scalar(select(Case).where(Case.id == deadline.case_id).with_for_update())
                assert case is not None  # foreign key
                deadline.overdue_at = now
                message = f"overdue since {deadline.due_at.isoformat()}: {deadline.standard}"
                accounts = deadline.responsible_account_id.split(",") if deadline.responsible_account_id else []
                for account_id in accounts:
                    s.add(OverdueFlag(deadline_id=deadline.id, case_id=case.id, account_id=account_id,
                                      message=message, created_at=now))
                if deadline.responsible_role is not None:
                    s.add(OverdueFlag(deadline_id=deadline.id, case_id=case.id, role=deadline.responsible_role,
                                      court=deadline.responsible_court, message=message, created_at=now))
                audit.append(s, case, SYSTEM_ACTOR, "deadline.overdue",
                             {"kind": deadline.kind, "due_at": deadline.due_at.isoformat()}, now)
                flagged.append(FlagView(case.id, deadline.kind, message, deadline.due_at, now))
        for flag in flagged:
            await self.events.publish(flag.case_id, {"kind": "deadline.overdue", "deadline": flag.kind,
                                                     "due_at": flag.due_at.isoformat()})
        return ScanResult(flagged)

    async def flags_for(self, actor: Actor) -> list[FlagView]:
        """Flags addressed to this account, or to its role at its court."""
        conditions = [OverdueFlag.account_id == actor.id]
        if actor.court is not None:
            conditions.append((OverdueFlag.role == actor.role) & (OverdueFlag.court == actor.court))
        async with self.db() as s:
            rows = (await s.execute(select(OverdueFlag, Deadline).join(Deadline, Deadline.id == OverdueFlag.deadline_id)
                                    .where(or_(*conditions)).order_by(OverdueFlag.id))).all()
        return [FlagView(f.case_id, d.kind, f.message, d.due_at, f.created_at) for f, d in rows]
