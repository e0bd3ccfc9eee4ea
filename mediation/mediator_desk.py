"""The mediator's to-do list, what their desk shows before the cases: assignments waiting for an
answer, steps of their cases whose time limit has passed with them responsible, and today's video
sessions. Three small queries; the full cases are one request away."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from .accounts import Actor, Role
from .errors import Forbidden
from .models import Case, CaseParty, Deadline, MediatorChoice
from .video_sessions import DeskSession, VideoSessions


@dataclass(frozen=True)
class DeskCase:
    """Which case a to-do is about, as the desk names it."""

    case_id: str
    case_number: str | None
    dispute_type: str
    step: str
    parties: dict[str, str]  # side -> name


@dataclass(frozen=True)
class Assignment:
    case: DeskCase
    chosen_at: datetime


@dataclass(frozen=True)
class OverdueStep:
    case: DeskCase
    kind: str  # the deadline's kind, e.g. "step:counselling"
    standard: str  # the rule that sets the limit
    due_at: datetime


@dataclass(frozen=True)
class Desk:
    assignments: list[Assignment]
    overdue: list[OverdueStep]
    sessions_today: list[DeskSession]


class MediatorDesk:
    def __init__(self, sessions: VideoSessions):
        self.sessions = sessions
        self.db = sessions.db
        self.clock = sessions.clock

    async def desk(self, actor: Actor) -> Desk:
        if actor.role != Role.MEDIATOR:
            raise Forbidden("forbidden", "the desk is the mediators'")
        now = self.clock.now()
        async with self.db() as s:
            choices = (await s.execute(select(MediatorChoice, Case).join(Case, Case.id == MediatorChoice.case_id).where(
                MediatorChoice.mediator_id == actor.id, MediatorChoice.status == "proposed", Case.status == "open")
                .order_by(MediatorChoice.chosen_at))).all()
            # responsible_account_id lists accounts comma-separated: narrowed in SQL, matched exactly below.
            deadlines = (await s.execute(select(Deadline, Case).join(Case, Case.id == Deadline.case_id).where(
                Deadline.completed_at.is_(None), Deadline.due_at <= now,
                Deadline.responsible_account_id.contains(actor.id, autoescape=True)).order_by(Deadline.due_at))).all()
            deadlines = [(d, c) for d, c in deadlines if actor.id in (d.responsible_account_id or "").split(",")]
            case_ids = {c.id for _, c in choices} | {c.id for _, c in deadlines}
            parties = (await s.scalars(select(CaseParty).where(CaseParty.case_id.in_(case_ids)))).all()
        names: dict[str, dict[str, str]] = {}
        for party in parties:
            names.setdefault(party.case_id, {})[party.side] = party.name

        def named(case: Case) -> DeskCase:
            return DeskCase(case.id, case.case_number, case.dispute_type, case.step, names.get(case.id, {}))

        return Desk(assignments=[Assignment(named(case), choice.chosen_at) for choice, case in choices],
                    overdue=[OverdueStep(named(case), d.kind, d.standard, d.due_at) for d, case in deadlines],
                    sessions_today=await self.sessions.today(actor))
