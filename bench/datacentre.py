"""Data-centre benchmark: JSON lines ``{"metric", "value", "unit"}``.

The whole dashboard (every chart's figures: counts by type, step and outcome, settlement by
month, time per step against its limit, per organisation, per mediator) computed over 100,000
cases: median and p95 over ``--rounds``, for the platform administrator (no filter), with a
period and dispute-type filter, for one organisation's administrator, and the public summary
(computed each time: its cache is expired for the measurement).

The data set is :func:`cases.bulk_load`'s (10,000 mediators in 100 organisations, 100,000 cases
with choices and ratings) plus what the dashboard also reads: each case's organisation, a
result row for each decided case (recorded over 24 months), a step deadline for each step a
case has entered (about 560,000 rows) and complaints on 2 % of the cases.

Run from the repository root: ``.venv/bin/python bench/datacentre.py [--postgres] [--rounds 10]``.
SQLite lives in a temporary directory; ``--postgres`` also measures the local PostgreSQL in a
schema of its own, dropped afterwards. A few minutes per database, most of it the bulk insert.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Awaitable, Callable

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]  # the project's packages first (bench/signing.py is a script)

from cases import NOW, STEPS, bulk_load, emit  # noqa: E402
from scratch_postgres import scratch_schema  # noqa: E402
from sqlalchemy import insert, select, text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker  # noqa: E402

from mediation.accounts import Actor  # noqa: E402
from mediation.dashboard import PUBLIC_CACHE_SECONDS, DashboardService, Filters  # noqa: E402
from mediation.models import Case, CaseResult, Complaint, Deadline  # noqa: E402
from mediation.schema import upgrade_engine  # noqa: E402
from mediation.statistics import StatisticsService  # noqa: E402
from signaling.database import make_engine  # noqa: E402

CASES = 100_000
LIMIT_DAYS = {"start": 5, "choose_mediator": 3, "counselling": 7, "video_mediation": 15, "result": 5,
              "evaluation": 3, "court_docking": 30}


async def add_dashboard_rows(engine: AsyncEngine, seed: int = 2) -> None:
    """What bulk_load leaves out and the dashboard reads: organisations, results, deadlines, complaints."""
    rng = random.Random(seed)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE med_cases SET organisation = (SELECT a.organisation FROM med_accounts a "
                                "WHERE a.id = med_cases.mediator_id) WHERE mediator_id IS NOT NULL"))
        cases = (await conn.execute(select(Case.id, Case.step, Case.outcome))).all()
    results, deadlines, complaints = [], [], []
    for case_id, step, outcome in cases:
        opened = NOW - timedelta(days=rng.uniform(20, 730))
        at = opened
        for entered in STEPS[:STEPS.index(step) + 1]:
            limit = timedelta(days=LIMIT_DAYS[entered])
            spent = limit * rng.uniform(0.1, 1.3)
            done = entered != step
            deadlines.append({"case_id": case_id, "kind": f"step:{entered}", "standard": "bench",
                              "responsible_account_id": None, "responsible_role": None, "responsible_court": None,
                              "started_at": at, "due_at": at + limit, "completed_at": at + spent if done else None,
                              "overdue_at": at + limit if (done and spent > limit) else None})
            if done:
                at += spent
        if outcome is not None:
            results.append({"case_id": case_id, "kind": "agreement" if outcome == "settled" else "failure",
                            "agreement_id": None, "agreement_status": None, "effective_at": None,
                            "failure_reasons": None, "payment_terms": None, "recorded_by": "bench", "recorded_at": at})
        if rng.random() < 0.02:
            complaints.append({"case_id": case_id, "organisation": None, "filed_by": "bench", "text": "bench",
                               "filed_at": at})
    async with engine.begin() as conn:
        for model, rows in ((CaseResult, results), (Deadline, deadlines), (Complaint, complaints)):
            for start in range(0, len(rows), 5000):
                await conn.execute(insert(model), rows[start:start + 5000])
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.exec_driver_sql("VACUUM ANALYZE")


async def timed(label: str, rounds: int, call: Callable[[], Awaitable[Any]]) -> None:
    await call()  # warm the connection and the statement caches
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    emit(f"{label}_median_100k_cases", statistics.median(times) * 1000, "ms")
    emit(f"{label}_p95_100k_cases", sorted(times)[max(0, int(len(times) * 0.95) - 1)] * 1000, "ms")


async def dashboard_time(engine: AsyncEngine, label: str, rounds: int) -> None:
    started = time.perf_counter()
    await upgrade_engine(engine)
    await bulk_load(engine, 10_000, CASES)
    await add_dashboard_rows(engine)
    emit(f"{label}_datacentre_bulk_load_100k_cases", time.perf_counter() - started, "s")
    ticks = itertools.count(step=PUBLIC_CACHE_SECONDS + 1)  # a clock that expires the public summary's cache every call
    service = DashboardService(StatisticsService(async_sessionmaker(engine, expire_on_commit=False)),
                               monotonic=lambda: float(next(ticks)))
    admin = Actor("bench-admin", "platform_admin", "bench")
    org_admin = Actor("bench-org-admin", "org_admin", "bench", organisation="示例调解组织0007")
    year = Filters(since=date.today() - timedelta(days=365), until=date.today(), dispute_type="loan")
    board = await service.dashboard(admin, Filters())
    assert board.cases.total == CASES and len(board.months) >= 20 and board.mediators
    await timed(f"{label}_dashboard_platform", rounds, lambda: service.dashboard(admin, Filters()))
    await timed(f"{label}_dashboard_filtered_year_and_type", rounds, lambda: service.dashboard(admin, year))
    await timed(f"{label}_dashboard_one_organisation", rounds, lambda: service.dashboard(org_admin, Filters()))
    await timed(f"{label}_public_summary", rounds, lambda: service.public_summary(Filters()))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="dashboards to time per variant")
    parser.add_argument("--postgres", action="store_true", help="also time on PostgreSQL")
    parser.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            engine = make_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'datacentre.sqlite3'}")
            try:
                await dashboard_time(engine, "sqlite", args.rounds)
            finally:
                await engine.dispose()
    if args.postgres or args.no_sqlite:
        async with scratch_schema("bench_datacentre") as engine:
            await dashboard_time(engine, "postgresql", args.rounds)


if __name__ == "__main__":
    asyncio.run(main())
