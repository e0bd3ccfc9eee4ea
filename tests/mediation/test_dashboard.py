"""The data centre's dashboard against the demo data set: every figure equals a count computed
independently with plain SQL (or plain Python over plain SQL rows), on SQLite and PostgreSQL, and
each caller sees only their scope."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from mediation.accounts import Actor
from mediation.dashboard import PUBLIC_CACHE_SECONDS, Dashboard, DashboardService, Filters, csv_export
from mediation.errors import Forbidden
from mediation.models import Case
from mediation.services import MediationServices
from mediation.statistics import StatisticsService
from signing.pki import PlatformPKI

from .doubles import START
from .test_demo import _demo as demo_world
from .test_demo import pki  # noqa: F401  (the fixture: one development PKI for the module)

CASES = 60


@pytest.fixture
async def demo(engine: AsyncEngine, tmp_path: Path, pki: PlatformPKI) -> MediationServices:
    """The demo platform, two of its settled cases signed (a case settles when its agreement takes effect)."""
    world = demo_world(engine, tmp_path / "data", pki)
    await world.loader(seed=13).load(cases=CASES, mediators=10, parties=8, signed=2)
    return world.services


@pytest.fixture
def board_service(demo: MediationServices) -> DashboardService:
    return DashboardService(StatisticsService(demo.db))


async def rows(engine: AsyncEngine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql), params)).all()]


async def one_admin(engine: AsyncEngine) -> Actor:
    (admin,) = (await rows(engine, "SELECT id FROM med_accounts WHERE role = 'platform_admin' LIMIT 1"))[0]
    return Actor(admin, "platform_admin", "admin")


async def check_case_figures_match_plain_sql(engine: AsyncEngine, board_service: DashboardService) -> None:
    board = await board_service.dashboard(await one_admin(engine), Filters())
    assert board.cases.total == CASES
    assert {c.key: c.cases for c in board.cases.by_dispute_type} == dict(await rows(
        engine, "SELECT dispute_type, COUNT(*) FROM med_cases GROUP BY dispute_type"))
    assert {c.key: c.cases for c in board.cases.by_step if c.cases} == dict(await rows(
        engine, "SELECT step, COUNT(*) FROM med_cases GROUP BY step"))
    assert {c.key: c.cases for c in board.cases.by_outcome} == dict(await rows(
        engine, "SELECT COALESCE(outcome, 'pending'), COUNT(*) FROM med_cases GROUP BY COALESCE(outcome, 'pending')"))
    ((settled, decided),) = await rows(engine, "SELECT SUM(CASE WHEN outcome = 'settled' THEN 1 ELSE 0 END), "
                                               "SUM(CASE WHEN outcome IN ('settled', 'failed') THEN 1 ELSE 0 END) FROM med_cases")
    assert (board.cases.settled, board.cases.decided) == (settled, decided) and decided > settled == 2


async def check_settlement_by_month_and_time_per_step_match(engine: AsyncEngine, board_service: DashboardService) -> None:
    board = await board_service.dashboard(await one_admin(engine), Filters())
    months: dict[str, Counter[str]] = defaultdict(Counter)
    for recorded_at, outcome in await rows(engine, "SELECT r.recorded_at, c.outcome FROM med_results r "
                                                   "JOIN med_cases c ON c.id = r.case_id "
                                                   "WHERE c.outcome IN ('settled', 'failed')"):
        months[str(recorded_at)[:7]][outcome] += 1
    assert [(m.month, m.decided, m.settled) for m in board.months] == [
        (m, sum(c.values()), c["settled"]) for m, c in sorted(months.items())]
    assert sum(m.decided for m in board.months) == board.cases.decided

    spent: dict[str, list[float]] = defaultdict(list)
    limits: dict[str, list[float]] = defaultdict(list)
    still_open: Counter[str] = Counter()
    for kind, started, due, completed in await rows(
            engine, "SELECT kind, started_at, due_at, completed_at FROM med_deadlines WHERE kind LIKE 'step:%'"):
        step = kind.removeprefix("step:")
        if completed is None:
            still_open[step] += 1
            continue
        started, due, completed = (_as_datetime(v) for v in (started, due, completed))
        spent[step].append((completed - started) / timedelta(days=1))
        limits[step].append((due - started) / timedelta(days=1))
    checked = 0
    for row in board.steps:
        assert (row.completed, row.open) == (len(spent[row.step]), still_open[row.step]), row
        if spent[row.step]:
            assert row.mean_days == pytest.approx(sum(spent[row.step]) / len(spent[row.step]), abs=0.01)
            assert row.limit_days == pytest.approx(sum(limits[row.step]) / len(limits[row.step]), abs=0.01)
            checked += 1
    assert checked >= 3


def _as_datetime(value: Any) -> Any:
    """SQLite hands back text, PostgreSQL a datetime."""
    from datetime import datetime, timezone

    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)
    return value


async def check_mediator_and_organisation_figures_match(engine: AsyncEngine, board_service: DashboardService) -> None:
    board = await board_service.dashboard(await one_admin(engine), Filters())
    answers = {mid: (acc, dec) for mid, acc, dec in await rows(
        engine, "SELECT mediator_id, SUM(CASE WHEN status = 'accepted' THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN status = 'declined' THEN 1 ELSE 0 END) FROM med_mediator_choices GROUP BY mediator_id")}
    rated = {mid: (n, float(mean)) for mid, n, mean in await rows(
        engine, "SELECT mediator_id, COUNT(*), AVG(score) FROM med_ratings GROUP BY mediator_id")}
    complaints = dict(await rows(engine, "SELECT c.mediator_id, COUNT(*) FROM med_complaints k "
                                         "JOIN med_cases c ON c.id = k.case_id GROUP BY c.mediator_id"))
    assert {m.mediator_id for m in board.mediators} == set(answers)
    for m in board.mediators:
        assert (m.cases_accepted, m.cases_declined) == answers[m.mediator_id]
        n, mean = rated.get(m.mediator_id, (0, None))
        assert m.ratings == n and (m.satisfaction == pytest.approx(mean, abs=0.01) if n else m.satisfaction is None)
        assert m.complaints == complaints.get(m.mediator_id, 0)
    assert sum(m.cases_declined for m in board.mediators) > 0 and sum(m.ratings for m in board.mediators) > 0

    by_org = {org: (n, settled) for org, n, settled in await rows(
        engine, "SELECT organisation, COUNT(*), SUM(CASE WHEN outcome = 'settled' THEN 1 ELSE 0 END) FROM med_cases "
                "WHERE organisation IS NOT NULL GROUP BY organisation")}
    declines = dict(await rows(engine, "SELECT a.organisation, COUNT(*) FROM med_mediator_choices m "
                                       "JOIN med_accounts a ON a.id = m.mediator_id WHERE m.status = 'declined' "
                                       "GROUP BY a.organisation"))
    assert {o.organisation: (o.cases, o.settled) for o in board.organisations} == by_org
    assert {o.organisation: o.declined for o in board.organisations if o.declined} == {
        org: n for org, n in declines.items() if org in by_org}


async def check_filters_narrow_every_figure(engine: AsyncEngine, board_service: DashboardService) -> None:
    admin = await one_admin(engine)
    ((kind, n),) = await rows(engine, "SELECT dispute_type, COUNT(*) FROM med_cases GROUP BY dispute_type "
                                      "ORDER BY COUNT(*) DESC, dispute_type LIMIT 1")
    typed = await board_service.dashboard(admin, Filters(dispute_type=kind))
    assert typed.cases.total == n and [c.key for c in typed.cases.by_dispute_type] == [kind]
    ((org, in_org),) = await rows(engine, "SELECT organisation, COUNT(*) FROM med_cases WHERE organisation IS NOT NULL "
                                          "GROUP BY organisation ORDER BY COUNT(*) DESC, organisation LIMIT 1")
    at_org = await board_service.dashboard(admin, Filters(organisation=org))
    assert at_org.cases.total == in_org and [o.organisation for o in at_org.organisations] == [org]
    created = sorted(_as_datetime(v).date() for (v,) in await rows(engine, "SELECT created_at FROM med_cases"))
    middle = created[len(created) // 2]
    recent = await board_service.dashboard(admin, Filters(since=middle))
    early = await board_service.dashboard(admin, Filters(until=middle - timedelta(days=1)))
    assert recent.cases.total == sum(1 for d in created if d >= middle)
    assert recent.cases.total + early.cases.total == CASES and 0 < early.cases.total
    nothing = await board_service.dashboard(admin, Filters(since=date(1990, 1, 1), until=date(1990, 12, 31)))
    assert (nothing.cases.total, nothing.months, nothing.organisations) == (0, [], [])


async def check_each_caller_sees_their_scope(engine: AsyncEngine, board_service: DashboardService) -> None:
    ((org_admin, org),) = await rows(engine, "SELECT a.id, a.organisation FROM med_accounts a WHERE a.role = 'org_admin' "
                                             "AND a.organisation IN (SELECT organisation FROM med_cases) LIMIT 1")
    board = await board_service.dashboard(Actor(org_admin, "org_admin", "admin", organisation=org), Filters())
    ((n,),) = await rows(engine, "SELECT COUNT(*) FROM med_cases WHERE organisation = :org", org=org)
    assert board.cases.total == n and {o.organisation for o in board.organisations} == {org}
    assert board.mediators and {m.organisation for m in board.mediators} == {org}
    # Asking for another organisation's figures yields nothing of theirs.
    other = await board_service.dashboard(Actor(org_admin, "org_admin", "admin", organisation=org),
                                          Filters(organisation="某个别的组织"))
    assert other.cases.total == 0 and other.organisations == [] and other.mediators == []

    ((mediator, mine),) = await rows(engine, "SELECT mediator_id, COUNT(*) FROM med_cases WHERE mediator_id IS NOT NULL "
                                             "GROUP BY mediator_id ORDER BY COUNT(*) DESC, mediator_id LIMIT 1")
    own = await board_service.dashboard(Actor(mediator, "mediator", "m"), Filters())
    assert own.cases.total == mine and [m.mediator_id for m in own.mediators] == [mediator]
    assert own.organisations == []

    for role in ("party", "agent"):
        with pytest.raises(Forbidden):
            await board_service.dashboard(Actor("x", role, "x"), Filters())


async def check_public_summary_and_csv(engine: AsyncEngine, board_service: DashboardService) -> None:
    summary = await board_service.public_summary(Filters())
    board: Dashboard = await board_service.dashboard(await one_admin(engine), Filters())
    assert summary.cases == board.cases and summary.months == board.months
    ((orgs, mediators),) = await rows(engine, "SELECT COUNT(DISTINCT organisation), COUNT(DISTINCT mediator_id) "
                                              "FROM med_cases")
    assert (summary.organisations, summary.mediators) == (orgs, mediators)

    table = list(csv.DictReader(io.StringIO(csv_export(board, "mediators"))))
    assert [r["mediator_id"] for r in table] == [m.mediator_id for m in board.mediators]
    assert sum(int(r["cases_declined"]) for r in table) == sum(m.cases_declined for m in board.mediators)
    types = list(csv.DictReader(io.StringIO(csv_export(board, "types"))))
    assert sum(int(r["cases"]) for r in types) == CASES


async def test_dashboard_over_the_demo_data(engine: AsyncEngine, board_service: DashboardService) -> None:
    """One demo load (signatures take seconds) checked from every side."""
    await check_case_figures_match_plain_sql(engine, board_service)
    await check_settlement_by_month_and_time_per_step_match(engine, board_service)
    await check_mediator_and_organisation_figures_match(engine, board_service)
    await check_filters_narrow_every_figure(engine, board_service)
    await check_each_caller_sees_their_scope(engine, board_service)
    await check_public_summary_and_csv(engine, board_service)


async def test_the_public_summary_is_cached_for_a_while(engine: AsyncEngine, services: MediationServices) -> None:
    """Every home page visit asks for it: recomputed after PUBLIC_CACHE_SECONDS, not per request."""
    now = [1000.0]
    service = DashboardService(StatisticsService(services.db), monotonic=lambda: now[0])
    assert (await service.public_summary(Filters())).cases.total == 0
    async with engine.begin() as conn:
        await conn.execute(insert(Case).values(
            id="CASE-CACHE", origin="application", dispute_type="loan", claims="c", facts="f", step="start",
            status="open", created_by="test", created_at=START, updated_at=START, audit_seq=0, audit_head="0" * 64))
    now[0] += PUBLIC_CACHE_SECONDS - 1
    assert (await service.public_summary(Filters())).cases.total == 0
    assert (await service.public_summary(Filters(dispute_type="loan"))).cases.total == 1  # another key
    now[0] += 2
    assert (await service.public_summary(Filters())).cases.total == 1
