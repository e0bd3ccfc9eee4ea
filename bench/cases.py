"""Case-system benchmark: JSON lines ``{"metric", "value", "unit"}``.

* API throughput through the real aiohttp app (accounts, cases, directory endpoints over a
  SQLite file): case writes (``POST /api/cases``) and reads (``GET /api/cases/{id}``) per second,
  each for ``--seconds`` seconds with ``--concurrency`` clients;
* recommendation query time (median and p95 over ``--rounds``) with 10,000 mediators and
  100,000 cases (plus their choices and ratings), bulk-inserted with SQLAlchemy core.

Run from the repository root: ``.venv/bin/python bench/cases.py [--postgres] [--seconds 5]``.
SQLite lives in a temporary directory; ``--postgres`` also measures the recommendation on the
local PostgreSQL in a schema of its own, dropped afterwards. Runtime is bounded (about a minute
for SQLite with the defaults, most of it the bulk insert).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from aiohttp import web  # noqa: E402
from aiohttp.test_utils import TestClient, TestServer  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from mediation.audit import GENESIS  # noqa: E402
from mediation.clock import SystemClock  # noqa: E402
from mediation.demo_data import DemoOutbox  # noqa: E402
from mediation.directory import DISPUTE_TYPES, MEDIATOR_CATEGORIES  # noqa: E402
from mediation.directory_models import MediatorLanguage, MediatorProfile, MediatorSpeciality, Organisation  # noqa: E402
from mediation.id_numbers import check_character  # noqa: E402
from mediation.models import Account, Case, MediatorChoice, Rating  # noqa: E402
from mediation.recommendation import Recommender  # noqa: E402
from mediation.schema import upgrade_engine  # noqa: E402
from mediation.services import build_services  # noqa: E402
from signaling.api.accounts import make_session_resolver  # noqa: E402
from signaling.api.cases import setup_cases  # noqa: E402
from signaling.api.directory import setup_directory  # noqa: E402
from signaling.auth import make_auth_middleware  # noqa: E402
from signaling.config import Settings  # noqa: E402
from signaling.database import make_engine  # noqa: E402
from signaling.errors import error_middleware  # noqa: E402
from signaling.openapi import ApiRegistry  # noqa: E402
from signaling.openapi import api as registry  # noqa: E402
from scratch_postgres import scratch_schema  # noqa: E402

PASSWORD = "bench password 123"
NOW = datetime.now(timezone.utc)
STEPS = ["start", "choose_mediator", "counselling", "video_mediation", "result", "evaluation", "court_docking"]


def emit(metric: str, value: float, unit: str) -> None:
    print(json.dumps({"metric": metric, "value": round(value, 4), "unit": unit}), flush=True)


def id_number(serial: int) -> str:
    first17 = f"51010419800101{serial % 1000:03d}"
    return first17 + check_character(first17)


# --- API throughput ---------------------------------------------------------------------------
async def api_throughput(data_dir: Path, seconds: float, concurrency: int) -> None:
    data_dir.mkdir(parents=True)
    engine = make_engine(f"sqlite+aiosqlite:///{data_dir / 'api.sqlite3'}")
    await upgrade_engine(engine)
    outbox = DemoOutbox()
    services = build_services(engine, data_dir=data_dir, pii_key=secrets.token_bytes(32),
                              code_key=secrets.token_bytes(32), clock=SystemClock(), sms=outbox, rooms=None)
    settings = Settings(data_dir=data_dir)
    app = web.Application(middlewares=[error_middleware,
                                       make_auth_middleware(None, make_session_resolver(services.accounts))])
    setup_cases(app, settings, engine, services, scan_interval=None)
    setup_directory(app, services)
    ApiRegistry([ep for ep in registry.endpoints
                 if ep.tag in ("accounts", "cases", "court", "directory", "statistics")]).install(app)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        people = []
        for serial, login in ((1, "bench-alice"), (2, "bench-bob")):
            phone = f"1700009{serial:04d}"
            await client.post("/api/auth/code", json={"phone": phone})
            await client.post("/api/accounts/register", json={
                "role": "party", "login": login, "display_name": login, "password": PASSWORD, "phone": phone,
                "id_number": id_number(serial), "code": outbox.code_for(phone)})
            login_body = await (await client.post("/api/auth/login", json={
                "channel": "party", "login": login, "password": PASSWORD})).json()
            people.append((login, phone, id_number(serial), {"Authorization": f"Bearer {login_body['token']}"}))
        (_, a_phone, a_id, a_auth), (_, b_phone, b_id, _) = people
        body = {"dispute_type": "loan", "claims": "repay 12,000 yuan", "facts": "lent in 2025", "amount": "12000.00",
                "applicant": {"name": "bench-alice", "phone": a_phone, "id_number": a_id, "address": "Chengdu"},
                "respondent": {"name": "bench-bob", "phone": b_phone, "id_number": b_id, "address": "Chengdu"}}
        created: list[str] = []

        async def run(kind: str) -> int:
            done = 0
            stop = time.perf_counter() + seconds

            async def worker() -> None:
                nonlocal done
                while time.perf_counter() < stop:
                    if kind == "write":
                        response = await client.post("/api/cases", json=body, headers=a_auth)
                        assert response.status == 201, await response.text()
                        created.append((await response.json())["id"])
                    else:
                        response = await client.get(f"/api/cases/{random.choice(created)}", headers=a_auth)
                        assert response.status == 200, await response.text()
                        await response.read()
                    done += 1

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return done

        started = time.perf_counter()
        writes = await run("write")
        emit("api_case_writes_per_second", writes / (time.perf_counter() - started), "1/s")
        started = time.perf_counter()
        reads = await run("read")
        emit("api_case_reads_per_second", reads / (time.perf_counter() - started), "1/s")
    finally:
        await client.close()
        await engine.dispose()


# --- recommendation at scale ------------------------------------------------------------------
async def bulk_load(engine: AsyncEngine, mediators: int, cases: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    types = list(DISPUTE_TYPES)
    categories = list(MEDIATOR_CATEGORIES)
    orgs = [{"id": f"o_{i:04d}", "name": f"示例调解组织{i:04d}", "category": "peoples", "region": f"示例省示例市{i % 20:02d}区",
             "address": "示例路", "contact": "000", "intro": "", "created_at": NOW} for i in range(100)]
    accounts, profiles, specialities, languages = [], [], [], []
    for i in range(mediators):
        mid = f"a_bm{i:06d}"
        org = orgs[i % len(orgs)]
        accounts.append({"id": mid, "role": "mediator", "login": f"bench-m{i}", "display_name": f"示例调解员{i:05d}",
                         "organisation": org["name"], "created_at": NOW})
        profiles.append({"account_id": mid, "organisation_id": org["id"], "category": rng.choice(categories),
                         "region": org["region"], "intro": "", "available": rng.random() > 0.1,
                         "max_concurrent": rng.choice([5, 10, 15]), "updated_at": NOW})
        specialities += [{"dispute_type": t, "account_id": mid} for t in rng.sample(types, rng.randint(1, 3))]
        languages.append({"language": "普通话", "account_id": mid})
    case_rows, choices, ratings = [], [], []
    for i in range(cases):
        cid = f"CASE-B{i:08d}"
        step = rng.choices(STEPS, weights=[5, 5, 10, 8, 7, 15, 50])[0]
        assigned = STEPS.index(step) >= 2
        mediator = f"a_bm{rng.randrange(mediators):06d}" if assigned else None
        outcome = None
        if step in ("evaluation", "court_docking"):
            outcome = "settled" if rng.random() < 0.62 else "failed"
        case_rows.append({"id": cid, "origin": "application", "dispute_type": rng.choice(types), "claims": "c",
                          "facts": "f", "step": step, "status": "closed" if outcome == "failed" else "open",
                          "outcome": outcome, "mediator_id": mediator, "created_by": "bench", "created_at": NOW,
                          "updated_at": NOW, "audit_seq": 0, "audit_head": GENESIS})
        if mediator is not None:
            choices.append({"case_id": cid, "mediator_id": mediator, "chosen_by": "bench", "status": "accepted",
                            "reason": None, "chosen_at": NOW, "answered_at": NOW})
        if rng.random() < 0.1:
            choices.append({"case_id": cid, "mediator_id": f"a_bm{rng.randrange(mediators):06d}", "chosen_by": "bench",
                            "status": "declined", "reason": "busy", "chosen_at": NOW, "answered_at": NOW})
        if outcome is not None and mediator is not None:
            for side in ("applicant", "respondent"):
                ratings.append({"case_id": cid, "side": side, "mediator_id": mediator, "score": rng.randint(2, 5),
                                "comment": "", "rated_by": "bench", "rated_at": NOW})
    async with engine.begin() as conn:
        for model, rows in ((Organisation, orgs), (Account, accounts), (MediatorProfile, profiles),
                            (MediatorSpeciality, specialities), (MediatorLanguage, languages), (Case, case_rows),
                            (MediatorChoice, choices), (Rating, ratings)):
            for start in range(0, len(rows), 5000):
                await conn.execute(insert(model), rows[start:start + 5000])
    if engine.dialect.name == "postgresql":  # the steady state autovacuum reaches: statistics and visibility map
        async with engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.exec_driver_sql("VACUUM ANALYZE")


async def recommendation_time(engine: AsyncEngine, label: str, rounds: int, data_dir: Path) -> None:
    started = time.perf_counter()
    await upgrade_engine(engine)
    await bulk_load(engine, 10_000, 100_000)
    emit(f"{label}_bulk_load_10k_mediators_100k_cases", time.perf_counter() - started, "s")
    services = build_services(engine, data_dir=data_dir, pii_key=secrets.token_bytes(32),
                              code_key=secrets.token_bytes(32), clock=SystemClock(), sms=DemoOutbox(), rooms=None)
    recommender = Recommender(services.db, services.cases)
    types = list(DISPUTE_TYPES)
    await recommender.for_dispute("loan")  # warm the caches and the connection
    times = []
    for i in range(rounds):
        t = time.perf_counter()
        result = await recommender.for_dispute(types[i % len(types)], region="示例省示例市03区" if i % 2 else None)
        times.append(time.perf_counter() - t)
        assert len(result.recommendations) == 5
    emit(f"{label}_recommendation_median_10k_mediators_100k_cases", statistics.median(times) * 1000, "ms")
    emit(f"{label}_recommendation_p95_10k_mediators_100k_cases",
         sorted(times)[max(0, int(len(times) * 0.95) - 1)] * 1000, "ms")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each throughput run")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=20, help="recommendation queries to time")
    parser.add_argument("--postgres", action="store_true", help="also time the recommendation on PostgreSQL")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        await api_throughput(data_dir / "api", args.seconds, args.concurrency)
        engine = make_engine(f"sqlite+aiosqlite:///{data_dir / 'scale.sqlite3'}")
        try:
            await recommendation_time(engine, "sqlite", args.rounds, data_dir / "scale")
        finally:
            await engine.dispose()
        if args.postgres:
            async with scratch_schema("bench_cases") as engine:
                await recommendation_time(engine, "postgresql", args.rounds, data_dir / "pg")


if __name__ == "__main__":
    asyncio.run(main())
