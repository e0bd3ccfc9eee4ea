"""The data centre's figures on a known data set, and who sees which scope (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from mediation.accounts import Actor
from mediation.directory import DirectoryService
from mediation.errors import Forbidden
from mediation.services import MediationServices
from mediation.statistics import Scope, StatisticsService

from .directory_data import ORG, OTHER_ORG, History, give_history, mediator, organisations

COURT = "示例法院"


@pytest.fixture
def statistics(services: MediationServices) -> StatisticsService:
    return StatisticsService(services.db)


async def _data(services: MediationServices) -> tuple[str, str, str]:
    directory = DirectoryService(services.db, services.cases.clock)
    await organisations(directory)
    db = services.db
    a = await mediator(db, directory, "示例调解员A")
    b = await mediator(db, directory, "示例调解员B")
    c = await mediator(db, directory, "示例调解员C", organisation=OTHER_ORG)
    await give_history(db, a, History(settled=3, failed=1, active=2, declined=1, ratings=(5, 4, 4, 3), complaints=1))
    await give_history(db, b, History(settled=1, declined=3, ratings=(2,), court=COURT, dispute_type="labour"))
    await give_history(db, c, History(failed=2, ratings=(1, 2, 3, 4), complaints=2), organisation=OTHER_ORG)
    return a, b, c


async def test_case_counts(services: MediationServices, statistics: StatisticsService) -> None:
    await _data(services)
    stats = await statistics.case_statistics(Scope())
    # a: 4 decided + 2 active + 1 declined-and-waiting; b: 1 + 3; c: 2
    assert (stats.total, stats.open, stats.closed) == (13, 10, 3)
    assert (stats.decided, stats.settled, stats.settlement_rate) == (7, 4, pytest.approx(4 / 7, abs=1e-4))
    assert [(c.key, c.cases) for c in stats.by_dispute_type] == [("loan", 9), ("labour", 4)]
    assert stats.by_dispute_type[0].label == "民间借贷纠纷"
    assert [(c.key, c.cases) for c in stats.by_step] == [
        ("start", 0), ("choose_mediator", 4), ("counselling", 2), ("video_mediation", 0), ("result", 0),
        ("evaluation", 4), ("court_docking", 3)]
    assert {c.key: c.cases for c in stats.by_outcome} == {"pending": 6, "settled": 4, "failed": 3}

    court = await statistics.case_statistics(Scope(court=COURT))
    assert (court.total, court.settled, [c.key for c in court.by_dispute_type]) == (4, 1, ["labour"])
    org = await statistics.case_statistics(Scope(organisation=OTHER_ORG))
    assert (org.total, org.decided, org.settlement_rate) == (2, 2, 0.0)


async def test_per_mediator_figures(services: MediationServices, statistics: StatisticsService) -> None:
    a, b, c = await _data(services)
    rows = {r.mediator_id: r for r in await statistics.mediator_statistics(Scope())}
    ra, rb, rc = rows[a], rows[b], rows[c]
    assert (ra.cases_accepted, ra.cases_declined, ra.decline_rate) == (6, 1, pytest.approx(1 / 7, abs=1e-4))
    assert (ra.cases_decided, ra.cases_settled, ra.success_rate) == (4, 3, 0.75)
    assert (ra.ratings, ra.satisfaction, ra.complaints) == (4, 4.0, 1)
    assert (rb.cases_accepted, rb.cases_declined, rb.decline_rate, rb.success_rate) == (1, 3, 0.75, 1.0)
    assert (rc.success_rate, rc.satisfaction, rc.complaints, rc.organisation) == (0.0, 2.5, 2, OTHER_ORG)
    assert [r.mediator_id for r in await statistics.mediator_statistics(Scope())][0] == a  # busiest first

    own = await statistics.mediator_statistics(Scope(organisation=OTHER_ORG))
    assert [r.mediator_id for r in own] == [c]
    court = await statistics.mediator_statistics(Scope(court=COURT))
    assert [(r.mediator_id, r.cases_accepted, r.cases_declined) for r in court] == [(b, 1, 3)]
    assert len(await statistics.mediator_statistics(Scope(), limit=1, offset=1)) == 1


async def test_scope_follows_the_caller(statistics: StatisticsService) -> None:
    assert Scope.of(Actor("x", "platform_admin", "x")) == Scope()
    assert Scope.of(Actor("x", "org_admin", "x", organisation=ORG)) == Scope(organisation=ORG)
    assert Scope.of(Actor("x", "judge", "x", court=COURT)) == Scope(court=COURT)
    assert Scope.of(Actor("m", "mediator", "x")) == Scope(mediator="m")  # their own cases (the data centre)
    for role in ("party", "agent", "service"):
        with pytest.raises(Forbidden):
            await statistics.cases(Actor("x", role, "x"))
        with pytest.raises(Forbidden):
            await statistics.mediators(Actor("x", role, "x"))
