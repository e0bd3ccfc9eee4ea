"""The data centre's dashboard: the statistics of :mod:`mediation.statistics` under filters (period,
dispute type, organisation), the settlement rate month by month, time spent per step against its
limit, per-organisation figures, a public summary and a CSV export.

Every figure is a grouped SQL aggregate (``GROUP BY`` in the database); Python only merges a few
grouped rows (one per month, step or organisation). Dates are bucketed and subtracted in SQL with
the dialect's own functions (SQLite stores UTC text, PostgreSQL ``timestamptz``). The period
filters on when a case was filed, so every chart describes the same cohort of cases.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from time import monotonic as monotonic_clock

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .accounts import Actor
from .models import Account, Case, CaseResult, Complaint, Deadline, MediatorChoice, Rating
from .statistics import DECIDED, STEP_LABELS, CaseStatistics, MediatorStatistics, Scope, StatisticsService, _rate
from .workflow import Outcome, Step

#: The most mediators one dashboard lists (busiest first); the CSV export has the same bound.
MEDIATOR_ROWS = 500
ORGANISATION_ROWS = 500
CSV_TABLES = ("mediators", "organisations", "types", "steps", "months")
#: The public summary is asked for by every visit to the home page: computed at most this often
#: per filter combination, for at most this many combinations.
PUBLIC_CACHE_SECONDS = 300.0
PUBLIC_CACHE_ENTRIES = 64


@dataclass(frozen=True)
class Filters:
    """What the person narrowed the dashboard to. ``until`` is inclusive (a whole day)."""

    since: date | None = None
    until: date | None = None
    dispute_type: str | None = None
    organisation: str | None = None

    def cases(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.since is not None:
            conditions.append(Case.created_at >= datetime.combine(self.since, time(), timezone.utc))
        if self.until is not None:
            conditions.append(Case.created_at < datetime.combine(self.until + timedelta(days=1), time(), timezone.utc))
        if self.dispute_type is not None:
            conditions.append(Case.dispute_type == self.dispute_type)
        if self.organisation is not None:
            conditions.append(Case.organisation == self.organisation)
        return conditions


@dataclass(frozen=True)
class Month:
    month: str  # "2026-03": when the result (agreement or failure record) was recorded
    decided: int
    settled: int
    settlement_rate: float | None


@dataclass(frozen=True)
class StepTime:
    step: str
    label: str
    completed: int  # step limits met or passed (the case moved on)
    open: int  # cases in the step now
    mean_days: float | None  # mean time spent by the completed ones
    limit_days: float | None  # mean limit they had
    overdue: int  # completed late, or still open past the limit when last scanned


@dataclass(frozen=True)
class OrganisationStatistics:
    organisation: str
    cases: int
    decided: int
    settled: int
    success_rate: float | None
    accepted: int  # choices of its mediators they accepted
    declined: int
    decline_rate: float | None
    ratings: int
    satisfaction: float | None
    complaints: int


@dataclass(frozen=True)
class Dashboard:
    scope: Scope
    filters: Filters
    cases: CaseStatistics
    months: list[Month]
    steps: list[StepTime]
    organisations: list[OrganisationStatistics]
    mediators: list[MediatorStatistics]


@dataclass(frozen=True)
class PublicSummary:
    """What the platform publishes: totals and shapes, no person and no organisation named."""

    cases: CaseStatistics
    months: list[Month]
    steps: list[StepTime]
    organisations: int  # organisations and mediators that had cases in the period
    mediators: int


def _month(s: AsyncSession, column: ColumnElement[datetime]) -> ColumnElement[str]:
    if s.bind.dialect.name == "sqlite":
        return func.strftime("%Y-%m", column)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM")


def _seconds(s: AsyncSession, later: ColumnElement[datetime], earlier: ColumnElement[datetime]) -> ColumnElement[float]:
    if s.bind.dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def _days(seconds: float | None) -> float | None:
    return round(float(seconds) / 86400, 2) if seconds is not None else None


class DashboardService:
    def __init__(self, statistics: StatisticsService, monotonic: Callable[[], float] = monotonic_clock):
        self.statistics = statistics
        self.db = statistics.db
        self._monotonic = monotonic
        self._public: OrderedDict[Filters, tuple[float, PublicSummary]] = OrderedDict()

    async def dashboard(self, actor: Actor, filters: Filters) -> Dashboard:
        """Everything the data centre page draws, for what ``actor`` oversees (Forbidden otherwise).
        The parts run at once, each on its own connection (reads only: on SQLite, WAL readers)."""
        scope = Scope.of(actor)
        where = [*scope.cases(), *filters.cases()]
        parts = [self.statistics.case_statistics(scope, filters.cases()),
                 self.statistics.mediator_statistics(scope, MEDIATOR_ROWS, 0, filters.cases(),
                                                     organisation=filters.organisation),
                 self.months(where), self.steps(where)]
        if scope.mediator is None:  # a mediator's figures have no organisations table
            parts.append(self.organisations(scope, filters))
        stats, mediators, months, steps, *organisations = await asyncio.gather(*parts)
        return Dashboard(scope, filters, stats, months, steps, organisations[0] if organisations else [], mediators)

    async def public_summary(self, filters: Filters) -> PublicSummary:
        """The published figures, from a short-lived cache (see :data:`PUBLIC_CACHE_SECONDS`)."""
        now = self._monotonic()
        cached = self._public.get(filters)
        if cached is not None and now - cached[0] < PUBLIC_CACHE_SECONDS:
            return cached[1]
        summary = await self._compute_public_summary(filters)
        self._public[filters] = (now, summary)
        self._public.move_to_end(filters)
        while len(self._public) > PUBLIC_CACHE_ENTRIES:
            self._public.popitem(last=False)
        return summary

    async def _compute_public_summary(self, filters: Filters) -> PublicSummary:
        where = filters.cases()
        stats, months, steps, (organisations, mediators) = await asyncio.gather(
            self.statistics.case_statistics(Scope(), where), self.months(where), self.steps(where),
            self._involved(where))
        return PublicSummary(stats, months, steps, organisations, mediators)

    async def _involved(self, where: Sequence[ColumnElement[bool]]) -> tuple[int, int]:
        """How many organisations and mediators had cases."""
        async with self.db() as s:
            organisations, mediators = (await s.execute(select(
                func.count(func.distinct(Case.organisation)), func.count(func.distinct(Case.mediator_id)))
                .where(*where))).one()
        return int(organisations), int(mediators)

    async def months(self, where: Sequence[ColumnElement[bool]]) -> list[Month]:
        """Results recorded per calendar month (UTC), with the share that settled."""
        async with self.db() as s:
            month = _month(s, CaseResult.recorded_at)
            rows = (await s.execute(
                select(month, func.count(),
                       func.sum(case((Case.outcome == str(Outcome.SETTLED), 1), else_=0)))
                .select_from(CaseResult).join(Case, Case.id == CaseResult.case_id)
                .where(Case.outcome.in_(DECIDED), *where).group_by(month).order_by(month))).all()
        return [Month(m, int(n), int(settled), _rate(int(settled), int(n))) for m, n, settled in rows]

    async def steps(self, where: Sequence[ColumnElement[bool]]) -> list[StepTime]:
        """Per step: how long cases stayed, against the limit the step set (its stored deadline).
        Read from the deadlines' covering index (``kind`` as a range, so it is searched in order);
        cases are consulted only when there is a condition on them."""
        async with self.db() as s:
            done = Deadline.completed_at.is_not(None)
            spent = _seconds(s, Deadline.completed_at, Deadline.started_at)
            limit = _seconds(s, Deadline.due_at, Deadline.started_at)
            late = (Deadline.overdue_at.is_not(None)) | (done & (Deadline.completed_at > Deadline.due_at))
            query = (select(Deadline.kind, func.sum(case((done, 1), else_=0)), func.sum(case((done, 0), else_=1)),
                            func.avg(case((done, spent), else_=None)), func.avg(case((done, limit), else_=None)),
                            func.sum(case((late, 1), else_=0)))
                     .where(Deadline.kind >= "step:", Deadline.kind < "step;").group_by(Deadline.kind))
            if where:
                query = query.where(Deadline.case_id.in_(select(Case.id).where(*where)))
            rows = (await s.execute(query)).all()
        by_step = {kind.removeprefix("step:"): row for kind, *row in rows}
        out = []
        for step in Step:
            completed, open_, mean, mean_limit, overdue = by_step.get(str(step), (0, 0, None, None, 0))
            out.append(StepTime(str(step), STEP_LABELS[step], int(completed), int(open_), _days(mean),
                                _days(mean_limit), int(overdue)))
        return out

    async def organisations(self, scope: Scope, filters: Filters) -> list[OrganisationStatistics]:
        """Per organisation (of the case): its cases' results, its mediators' answers to being
        chosen, its cases' ratings and complaints. Four grouped queries merged by name. A declined
        case never joins the organisation, so answers follow the mediator's organisation."""
        where = [*scope.cases(), *filters.cases()]
        answered_cases = [*Scope(court=scope.court).cases(), *replace(filters, organisation=None).cases()]
        answered = [Account.organisation == org for org in (scope.organisation, filters.organisation) if org is not None]
        if answered_cases:
            answered.append(MediatorChoice.case_id.in_(select(Case.id).where(*answered_cases)))
        async with self.db() as s:
            results = (await s.execute(
                select(Case.organisation, func.count(),
                       func.sum(case((Case.outcome.in_(DECIDED), 1), else_=0)),
                       func.sum(case((Case.outcome == str(Outcome.SETTLED), 1), else_=0)))
                .where(Case.organisation.is_not(None), *where).group_by(Case.organisation)
                .limit(ORGANISATION_ROWS))).all()
            answers = dict((org, (int(a), int(d))) for org, a, d in (await s.execute(
                select(Account.organisation,
                       func.sum(case((MediatorChoice.status == "accepted", 1), else_=0)),
                       func.sum(case((MediatorChoice.status == "declined", 1), else_=0)))
                .select_from(MediatorChoice).join(Account, Account.id == MediatorChoice.mediator_id)
                .where(Account.organisation.is_not(None), *answered).group_by(Account.organisation))).all())
            ratings = dict((org, (int(n), mean)) for org, n, mean in (await s.execute(
                select(Case.organisation, func.count(), func.avg(Rating.score))
                .select_from(Rating).join(Case, Case.id == Rating.case_id).where(*where).group_by(Case.organisation))).all())
            complaints = dict((await s.execute(
                select(Case.organisation, func.count()).select_from(Complaint).join(Case, Case.id == Complaint.case_id)
                .where(*where).group_by(Case.organisation))).all())
        out = []
        for org, n, decided, settled in results:
            accepted, declined = answers.get(org, (0, 0))
            rated, mean = ratings.get(org, (0, None))
            out.append(OrganisationStatistics(
                org, int(n), int(decided), int(settled), _rate(int(settled), int(decided)), accepted, declined,
                _rate(declined, accepted + declined), rated, round(float(mean), 2) if mean is not None else None,
                int(complaints.get(org, 0))))
        return sorted(out, key=lambda o: (-o.cases, o.organisation))


def csv_export(board: Dashboard, table: str) -> str:
    """One table of the dashboard as CSV (a header row, then one row per item)."""
    rows: list[dict[str, object]]
    if table == "mediators":
        rows = [asdict(m) for m in board.mediators]
    elif table == "organisations":
        rows = [asdict(o) for o in board.organisations]
    elif table == "types":
        rows = [{"dispute_type": c.key, "label": c.label, "cases": c.cases} for c in board.cases.by_dispute_type]
    elif table == "steps":
        counts = {c.key: c.cases for c in board.cases.by_step}
        rows = [{**asdict(t), "cases_now": counts.get(t.step, 0)} for t in board.steps]
    elif table == "months":
        rows = [asdict(m) for m in board.months]
    else:
        raise ValueError(f"no table {table!r}: one of {', '.join(CSV_TABLES)}")
    out = io.StringIO()
    columns = list(rows[0]) if rows else ["empty"]
    writer = csv.DictWriter(out, columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)
    return out.getvalue()

