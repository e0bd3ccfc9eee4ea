"""The demo data set: built through the domain services (real audit chains), fictional, spread
over the steps, deterministic for a seed, loaded once; and the ``accord demo load`` command."""

from __future__ import annotations

import argparse
import json
import secrets
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mediation.audit import verify_chain
from mediation.clock import ManualClock
from mediation.demo_data import DemoAlreadyLoaded, DemoLoader
from mediation.directory import DirectoryService, MediatorQuery
from mediation.models import Account, Case, CaseParty
from mediation.recommendation import Recommender
from mediation.schema import upgrade_engine
from mediation.services import MediationServices, build_services
from mediation.statistics import Scope, StatisticsService
from signaling.commands import demo
from signaling.database import make_engine

from .doubles import START, MemorySms, RecordingRooms


def _loader(services: MediationServices, sms: MemorySms, clock: ManualClock, seed: int) -> DemoLoader:
    return DemoLoader(services, DirectoryService(services.db, clock), Recommender(services.db, services.cases),
                      sms.last_code, clock, seed=seed)


async def test_demo_goes_through_the_workflow(services: MediationServices, sms: MemorySms,
                                              clock: ManualClock) -> None:
    summary = await _loader(services, sms, clock, seed=7).load(cases=24, mediators=8, parties=6)
    assert summary.cases == 24 and summary.mediators == 8 and summary.organisations == 8
    assert sum(summary.by_step.values()) == 24 and len(summary.by_step) >= 5
    assert summary.ratings > 0 and summary.mediator_logins == []

    stats = await StatisticsService(services.db).case_statistics(Scope())
    assert stats.total == 24
    assert {c.key: c.cases for c in stats.by_step if c.cases} == summary.by_step
    async with services.db() as s:
        case_ids = (await s.scalars(select(Case.id))).all()
        names = set((await s.scalars(select(Account.display_name))).all())
        party_names = set((await s.scalars(select(CaseParty.name))).all())
    assert all(n.startswith("示例") for n in names | party_names)
    for cid in case_ids:
        check = await verify_chain(services.db, cid)
        assert check.ok and check.entries >= 1, check

    with pytest.raises(DemoAlreadyLoaded):
        await _loader(services, sms, clock, seed=7).load(cases=1, mediators=5, parties=2)
    async with services.db() as s:
        assert await s.scalar(select(func.count()).select_from(Case)) == 24  # the refused reload added nothing


async def test_same_seed_same_data_set(services: MediationServices, sms: MemorySms, clock: ManualClock,
                                       tmp_path: Path) -> None:
    first = await _loader(services, sms, clock, seed=11).load(cases=10, mediators=5, parties=4)
    profiles = (await DirectoryService(services.db, clock).search_mediators(MediatorQuery(page_size=100))).items

    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'second.sqlite3'}")
    await upgrade_engine(engine)
    other_clock = ManualClock(START)
    other_sms = MemorySms()
    other = build_services(engine, data_dir=tmp_path / "second", pii_key=secrets.token_bytes(32),
                           code_key=secrets.token_bytes(32), clock=other_clock, sms=other_sms, rooms=RecordingRooms())
    try:
        second = await _loader(other, other_sms, other_clock, seed=11).load(cases=10, mediators=5, parties=4)
        again = (await DirectoryService(other.db, other_clock).search_mediators(MediatorQuery(page_size=100))).items
    finally:
        await engine.dispose()
    assert (first.by_step, first.by_outcome, first.ratings, first.declines) == \
        (second.by_step, second.by_outcome, second.ratings, second.declines)
    strip = [(m.name, m.organisation, m.category, m.specialities, m.languages, m.max_concurrent) for m in profiles]
    assert strip == [(m.name, m.organisation, m.category, m.specialities, m.languages, m.max_concurrent) for m in again]


def test_demo_command_loads_and_refuses_a_second_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path)
    parser.add_argument("--data-dir", type=Path)
    sub = parser.add_subparsers(dest="command", required=True)
    demo.register(sub)
    argv = ["--data-dir", str(tmp_path), "demo", "load", "--cases", "6", "--mediators", "5", "--parties", "3", "--json"]
    args = parser.parse_args(argv)
    assert args.func(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["cases"] == 6 and summary["mediators"] == 5 and summary["parties"] == 3
    args = parser.parse_args(argv)
    assert args.func(args) == 1
    assert "already loaded" in capsys.readouterr().out
    with pytest.raises(ValueError):
        bad = parser.parse_args(["--data-dir", str(tmp_path), "demo", "load", "--cases", "0"])
        bad.func(bad)
