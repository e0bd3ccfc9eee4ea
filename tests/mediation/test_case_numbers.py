"""Case numbers in the court's format: the year, the court's code from the court directory and a
per-court sequence, given when the case is created, unique when cases arrive at once, carried
by the case view and the agreement drafted from the case; existing cases numbered by the migration."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import insert, select, table, column, String, Integer, DateTime

from mediation.accounts import SERVICE_ROLE, Actor, Role
from mediation.clock import ManualClock
from mediation.courts import NewCourt
from mediation.models import Case
from mediation.schema import upgrade_engine
from mediation.services import MediationServices
from signaling.database import make_engine

from .doubles import MemorySms
from .helpers import application, register_party

ADMIN = Actor("a_admin", str(Role.PLATFORM_ADMIN), "管理员")
COURT_SYSTEM = Actor("court-system", SERVICE_ROLE, "法院系统")
JINJIANG = NewCourt("成都市锦江区人民法院", "四川省成都市锦江区", "川0104")
QINGYANG = NewCourt("成都市青羊区人民法院", "四川省成都市青羊区", "川0105")


async def test_numbers_follow_the_court_and_the_year(services: MediationServices, sms: MemorySms,
                                                     clock: ManualClock) -> None:
    await services.courts.ensure(ADMIN, [JINJIANG, QINGYANG, NewCourt("某专门法院", "四川省")])
    zhang = await register_party(services, sms, "zhang", 1)
    li = await register_party(services, sms, "lisi", 2)
    year = clock.now().year

    def delegated(court: str):  # type: ignore[no-untyped-def]
        return services.filing.delegate(COURT_SYSTEM, application(zhang, li, court=court))

    first = await delegated(JINJIANG.name)
    second = await delegated(JINJIANG.name)
    other = await delegated(QINGYANG.name)
    no_code = await delegated("某专门法院")
    applied = await services.filing.apply(zhang.actor, application(zhang, li))
    assert [v.case_number for v in (first, second, other, no_code, applied)] == [
        f"({year})川0104民调1号", f"({year})川0104民调2号", f"({year})川0105民调1号", f"({year})民调1号",
        f"({year})民调2号"]
    listed = {c.id: c.case_number for c in await services.cases.list_cases(COURT_SYSTEM)}
    assert listed[second.id] == f"({year})川0104民调2号"

    # A new year (in China: 16:00 UTC on 31 December is already 1 January there) starts again at 1.
    clock.advance(datetime(year, 12, 31, 16, 0, tzinfo=timezone.utc) - clock.now())
    assert (await delegated(JINJIANG.name)).case_number == f"({year + 1})川0104民调1号"


async def test_cases_created_at_once_get_distinct_consecutive_numbers(services: MediationServices,
                                                                      sms: MemorySms) -> None:
    await services.courts.ensure(ADMIN, [JINJIANG])
    zhang = await register_party(services, sms, "zhang", 1)
    li = await register_party(services, sms, "lisi", 2)
    views = await asyncio.gather(*[services.filing.delegate(COURT_SYSTEM, application(zhang, li, court=JINJIANG.name))
                                   for _ in range(12)])
    numbers = sorted(int(v.case_number.split("民调")[1].rstrip("号")) for v in views if v.case_number)
    assert numbers == list(range(1, 13))


async def test_the_migration_numbers_existing_cases_oldest_first(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        await upgrade_engine(engine, "0009")
        cases = table("med_cases", *(column(n, String) for n in (
            "id", "origin", "court", "dispute_type", "claims", "facts", "step", "status", "created_by", "audit_head")),
            column("created_at", DateTime(timezone=True)), column("updated_at", DateTime(timezone=True)),
            column("audit_seq", Integer))
        courts = table("med_courts", column("id", String), column("name", String), column("code", String),
                       column("region", String), column("created_at", DateTime(timezone=True)))
        start = datetime(2025, 12, 31, 12, 0, tzinfo=timezone.utc)
        async with engine.begin() as conn:
            await conn.execute(insert(courts).values(id="ct_1", name=JINJIANG.name, code="川0104", region="成都",
                                                     created_at=start))
            await conn.execute(insert(cases), [
                dict(id=f"CASE-{n}", origin="court_delegation", court=court, dispute_type="loan", claims="c", facts="f",
                     step="start", status="open", created_by="x", audit_head="0" * 64,
                     created_at=start + timedelta(hours=hours), updated_at=start, audit_seq=0)
                for n, court, hours in ((1, JINJIANG.name, 3), (2, JINJIANG.name, 1), (3, None, 2),
                                        (4, JINJIANG.name, 13))])  # CASE-4: 2026 in China
        await upgrade_engine(engine)
        async with engine.connect() as conn:
            numbers = dict((await conn.execute(select(Case.id, Case.case_number))).all())
            sequences = (await conn.execute(select(table("med_case_number_sequences", column("scope"), column("year"),
                                                         column("last"))))).all()
        assert numbers == {"CASE-2": "(2025)川0104民调1号", "CASE-1": "(2025)川0104民调2号", "CASE-3": "(2025)民调1号",
                           "CASE-4": "(2026)川0104民调1号"}
        assert sorted(sequences) == [("", 2025, 1), ("川0104", 2025, 2), ("川0104", 2026, 1)]
    finally:
        await engine.dispose()
