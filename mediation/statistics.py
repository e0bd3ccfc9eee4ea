"""The data centre: statistics over all mediation data (the seed: case types, progress,
settlements; per mediator: cases accepted, success rate, rejection rate, party satisfaction,
complaints). Every figure is a grouped SQL aggregate; nothing loops over cases in Python.

Who sees what: platform administrators see the whole platform, an organisation administrator
their organisation's cases and mediators, court staff the cases of their court, a mediator
their own cases and figures. :mod:`mediation.dashboard` adds filters, time series and
per-organisation figures on top of these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .accounts import Actor, Role
from .directory import DirectoryConfig
from .errors import Forbidden
from .models import Account, Case, Complaint, MediatorChoice, Rating
from .workflow import Outcome, Step

DECIDED = (str(Outcome.SETTLED), str(Outcome.FAILED))


@dataclass(frozen=True)
class Scope:
    """Which cases the figures cover: everything, one organisation's, one court's or one mediator's."""

    organisation: str | None = None
    court: str | None = None
    mediator: str | None = None

    @classmethod
    def of(cls, actor: Actor) -> Scope:
        if actor.role == Role.PLATFORM_ADMIN:
            return cls()
        if actor.role == Role.ORG_ADMIN and actor.organisation:
            return cls(organisation=actor.organisation)
        if actor.role in (Role.COURT_CLERK, Role.JUDGE) and actor.court:
            return cls(court=actor.court)
        if actor.role == Role.MEDIATOR:
            return cls(mediator=actor.id)
        raise Forbidden("forbidden", "statistics are for administrators and court staff")

    def cases(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.organisation is not None:
            conditions.append(Case.organisation == self.organisation)
        if self.court is not None:
            conditions.append(Case.court == self.court)
        if self.mediator is not None:
            conditions.append(Case.mediator_id == self.mediator)
        return conditions


@dataclass(frozen=True)
class Count:
    key: str
    label: str
    cases: int


@dataclass(frozen=True)
class CaseStatistics:
    scope: Scope
    total: int
    open: int
    closed: int
    decided: int  # mediation ended with an agreement or a failure record
    settled: int
    settlement_rate: float | None  # settled / decided
    by_dispute_type: list[Count]
    by_step: list[Count]  # all seven steps, in order, zeros included
    by_outcome: list[Count]  # "pending" for cases without an outcome yet


@dataclass(frozen=True)
class MediatorStatistics:
    mediator_id: str
    name: str
    organisation: str | None
    cases_accepted: int
    cases_declined: int
    decline_rate: float | None  # declined / (accepted + declined)
    cases_decided: int
    cases_settled: int
    success_rate: float | None  # settled / decided
    ratings: int
    satisfaction: float | None  # mean rating 1-5
    complaints: int


STEP_LABELS = {
    Step.START: "发起调解", Step.CHOOSE_MEDIATOR: "选择调解员", Step.COUNSELLING: "纠纷辅导",
    Step.VIDEO_MEDIATION: "视频调解", Step.RESULT: "生成调解结果", Step.EVALUATION: "即时评价",
    Step.COURT_DOCKING: "诉调对接",
}
OUTCOME_LABELS = {"settled": "调解成功", "failed": "调解不成", "refused": "不同意调解", "pending": "进行中"}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class StatisticsService:
    def __init__(self, db: async_sessionmaker[AsyncSession], config: DirectoryConfig | None = None):
        self.db = db
        self.config = config or DirectoryConfig()

    async def cases(self, actor: Actor) -> CaseStatistics:
        return await self.case_statistics(Scope.of(actor))

    async def case_statistics(self, scope: Scope, filters: Sequence[ColumnElement[bool]] = ()) -> CaseStatistics:
        """``filters``: further conditions on :class:`Case` (the dashboard's period, type, organisation)."""
        where = [*scope.cases(), *filters]
        async with self.db() as s:
            total, open_, decided, settled = (await s.execute(select(
                func.count(),
                func.coalesce(func.sum(case((Case.status == "open", 1), else_=0)), 0),
                func.coalesce(func.sum(case((Case.outcome.in_(DECIDED), 1), else_=0)), 0),
                func.coalesce(func.sum(case((Case.outcome == str(Outcome.SETTLED), 1), else_=0)), 0),
            ).where(*where))).one()
            by_type = (await s.execute(select(Case.dispute_type, func.count()).where(*where)
                                       .group_by(Case.dispute_type))).all()
            by_step = dict((await s.execute(select(Case.step, func.count()).where(*where).group_by(Case.step))).all())
            outcome = func.coalesce(Case.outcome, "pending")
            by_outcome = (await s.execute(select(outcome, func.count()).where(*where).group_by(outcome))).all()
        return CaseStatistics(
            scope=scope, total=total, open=int(open_), closed=total - int(open_), decided=int(decided),
            settled=int(settled), settlement_rate=_rate(int(settled), int(decided)),
            by_dispute_type=sorted((Count(t, self.config.dispute_label(t), n) for t, n in by_type),
                                   key=lambda c: (-c.cases, c.key)),
            by_step=[Count(str(step), STEP_LABELS[step], by_step.get(str(step), 0)) for step in Step],
            by_outcome=sorted((Count(o, OUTCOME_LABELS.get(o, o), n) for o, n in by_outcome),
                              key=lambda c: (-c.cases, c.key)))

    async def mediators(self, actor: Actor, limit: int = 100, offset: int = 0) -> list[MediatorStatistics]:
        return await self.mediator_statistics(Scope.of(actor), limit, offset)

    async def mediator_statistics(self, scope: Scope, limit: int = 100, offset: int = 0,
                                  filters: Sequence[ColumnElement[bool]] = (),
                                  organisation: str | None = None) -> list[MediatorStatistics]:
        """Per mediator, busiest first. An organisation's scope lists all of its mediators (idle
        ones too) with all their cases (a declined case never joins the organisation, so the
        scope follows the mediator); a court's covers that court's cases and the mediators chosen
        for them; a mediator's their own row; the platform's every mediator ever chosen.
        ``filters`` narrow the cases counted, ``organisation`` the mediators listed."""
        where = [*([Case.court == scope.court] if scope.court is not None else []), *filters]
        choices = (select(MediatorChoice.mediator_id.label("mid"),
                          func.sum(case((MediatorChoice.status == "accepted", 1), else_=0)).label("accepted"),
                          func.sum(case((MediatorChoice.status == "declined", 1), else_=0)).label("declined"))
                   .where(*[MediatorChoice.case_id.in_(select(Case.id).where(*where))] if where else [])
                   .group_by(MediatorChoice.mediator_id).subquery("choices"))
        results = (select(Case.mediator_id.label("mid"),
                          func.sum(case((Case.outcome.in_(DECIDED), 1), else_=0)).label("decided"),
                          func.sum(case((Case.outcome == str(Outcome.SETTLED), 1), else_=0)).label("settled"))
                   .where(Case.mediator_id.is_not(None), *where).group_by(Case.mediator_id).subquery("results"))
        ratings = (select(Rating.mediator_id.label("mid"), func.count().label("n"), func.avg(Rating.score).label("mean"))
                   .where(*[Rating.case_id.in_(select(Case.id).where(*where))] if where else [])
                   .group_by(Rating.mediator_id).subquery("ratings"))
        complaints = (select(Case.mediator_id.label("mid"), func.count().label("n"))
                      .join(Complaint, Complaint.case_id == Case.id)
                      .where(Case.mediator_id.is_not(None), *where).group_by(Case.mediator_id).subquery("complaints"))
        accepted = func.coalesce(choices.c.accepted, 0)
        query = (select(Account.id, Account.display_name, Account.organisation, accepted,
                        func.coalesce(choices.c.declined, 0), func.coalesce(results.c.decided, 0),
                        func.coalesce(results.c.settled, 0), func.coalesce(ratings.c.n, 0), ratings.c.mean,
                        func.coalesce(complaints.c.n, 0))
                 .select_from(Account)
                 .outerjoin(choices, choices.c.mid == Account.id)
                 .outerjoin(results, results.c.mid == Account.id)
                 .outerjoin(ratings, ratings.c.mid == Account.id)
                 .outerjoin(complaints, complaints.c.mid == Account.id)
                 .where(Account.role == str(Role.MEDIATOR)))
        if scope.mediator is not None:
            query = query.where(Account.id == scope.mediator)
        elif scope.organisation is not None:
            query = query.where(Account.organisation == scope.organisation)
        else:
            query = query.where(choices.c.mid.is_not(None))
        if organisation is not None:
            query = query.where(Account.organisation == organisation)
        async with self.db() as s:
            rows = (await s.execute(query.order_by(accepted.desc(), Account.display_name, Account.id)
                                    .limit(limit).offset(offset))).all()
        out = []
        for mid, name, org, acc, dec, decided, settled, n, mean, complained in rows:
            acc, dec, decided, settled = int(acc), int(dec), int(decided), int(settled)
            out.append(MediatorStatistics(mid, name, org, acc, dec, _rate(dec, acc + dec), decided, settled,
                                          _rate(settled, decided), int(n),
                                          round(float(mean), 2) if mean is not None else None, int(complained)))
        return out
