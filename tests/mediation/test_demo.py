"""The demo data set: built through the domain services and the signing ceremony (real audit
chains, real signed and sealed agreements, real court rulings), fictional, spread over the steps,
deterministic for a seed, with accounts for every role behind one password, and safe to load
again: a second run adds nothing twice, an interrupted one is finished by the next."""

from __future__ import annotations

import argparse
import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from identity.gate import TestIdentityGate
from mediation.accounts import Channel
from mediation.audit import verify_chain
from mediation.demo_data import IDENTITY_METHOD, DemoClock, DemoLoader, DemoOutbox, DemoSigning, DemoSummary
from mediation.directory import DirectoryService, MediatorQuery
from mediation.errors import Unauthenticated
from mediation.models import Account, Case, CaseParty, CaseResult, CourtApplication, StoredFile
from mediation.agreement_models import AgreementRow
from mediation.recommendation import Recommender
from mediation.schema import upgrade_engine
from mediation.services import MediationServices, build_services
from mediation.statistics import Scope, StatisticsService
from signaling.commands import demo
from signaling.database import make_engine
from signing.agreement_versions import VersionStatus
from signing.ceremony import SigningCeremony
from signing.pki import PlatformPKI
from signing.ruling import CourtRulingSigner
from signing.seals import SealRegistry
from signing.tsa import InProcessTimeStamper, TimeStampAuthority
from signing.verification import async_verify_agreement

from .doubles import RecordingRooms

SEED = 6  # its first two signed cases: one ruled on at court (an agent signs there), one filed
CASE_NUMBER = re.compile(r"^\(\d{4}\)川01\d\d民调\d+号$")
PASSWORD = "demo password 1"


@dataclass
class Demo:
    services: MediationServices
    outbox: DemoOutbox
    clock: DemoClock
    signing: DemoSigning

    def loader(self, seed: int = SEED, password: str | None = PASSWORD) -> DemoLoader:
        return DemoLoader(self.services, DirectoryService(self.services.db, self.clock),
                          Recommender(self.services.db, self.services.cases), self.outbox.code_for, self.clock,
                          self.signing, seed=seed, password=password)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PlatformPKI:
    return PlatformPKI.init(tmp_path_factory.mktemp("pki"), "test-passphrase", "http://accord.test", "Accord 测试平台")


def _demo(engine: AsyncEngine, data_dir: Path, pki: PlatformPKI) -> Demo:
    clock, outbox = DemoClock(), DemoOutbox()
    timestamper = InProcessTimeStamper(TimeStampAuthority(pki))
    services = build_services(engine, data_dir=data_dir, pii_key=secrets.token_bytes(32),
                              code_key=secrets.token_bytes(32), clock=clock, sms=outbox, rooms=RecordingRooms(),
                              sign_ruling=CourtRulingSigner(SealRegistry(pki), timestamper))
    gate = TestIdentityGate()
    ceremony = SigningCeremony(services.agreements, pki, gate, timestamper, id_digest_key=secrets.token_bytes(32),
                               on_effective=services.results.signatures_took_effect,
                               on_revision=services.results.agreement_revised)
    return Demo(services, outbox, clock, DemoSigning(ceremony, gate))


@pytest.fixture
def demo_world(engine: AsyncEngine, tmp_path: Path, pki: PlatformPKI) -> Demo:
    return _demo(engine, tmp_path / "data", pki)


async def _count(services: MediationServices, table: type) -> int:
    async with services.db() as s:
        return await s.scalar(select(func.count()).select_from(table)) or 0


async def test_demo_goes_through_the_workflow_with_real_signatures(demo_world: Demo, pki: PlatformPKI) -> None:
    services = demo_world.services
    summary = await demo_world.loader().load(cases=24, mediators=8, parties=6, signed=2)
    assert (summary.cases, summary.cases_created, summary.mediators, summary.organisations) == (24, 24, 8, 8)
    assert sum(summary.by_step.values()) == 24 and len(summary.by_step) >= 5
    assert summary.ratings > 0 and summary.signed_agreements == 2
    assert summary.court_applications == {"ruled": 1, "filed": 1}

    stats = await StatisticsService(services.db).case_statistics(Scope())
    assert stats.total == 24
    assert {c.key: c.cases for c in stats.by_step if c.cases} == summary.by_step
    async with services.db() as s:
        cases = (await s.scalars(select(Case))).all()
        names = set((await s.scalars(select(Account.display_name))).all())
        party_names = set((await s.scalars(select(CaseParty.name))).all())
        results = {r.case_id: r for r in (await s.scalars(select(CaseResult))).all()}
        applications = (await s.scalars(select(CourtApplication))).all()
    assert all(n.startswith("示例") for n in names | party_names)
    assert all(CASE_NUMBER.match(c.case_number or "") for c in cases)
    assert len({c.case_number for c in cases}) == 24
    for case in cases:
        check = await verify_chain(services.db, case.id)
        assert check.ok and check.entries >= 1, check

    # Signed agreements: drafted from the case, signed by each participant, sealed by the
    # organisation, valid for the verifier; the case moved on at the last party signature's time.
    signed = [r for r in results.values() if r.agreement_status == "effective"]
    assert len(signed) == 2
    for result in signed:
        assert result.agreement_id is not None
        state = await services.agreements.current(result.agreement_id)
        case = next(c for c in cases if c.id == result.case_id)
        assert state.status is VersionStatus.COMPLETED and state.data.case_number == case.case_number
        assert result.effective_at == state.effective_at is not None
        assert case.outcome == "settled" and case.step in ("evaluation", "court_docking")
        people = [s for s in state.signatures if s.identity is not None]
        assert people and all(s.identity.method == IDENTITY_METHOD and s.key_custody == "browser" for s in people)
        report = await async_verify_agreement(await services.agreements.read_pdf(state), [pki.root_cert])
        assert report.valid, report.to_dict()
        assert report.signed_fields == report.expected_fields
        assert report.signatures[-1].signer.organisation == case.organisation
    assert any(len(r.signatures) > 4 for r in [await services.agreements.current(x.agreement_id or "")
                                               for x in signed])  # an agent signed next to their party
    # The other settled cases wait at step 5 with their draft: nothing in effect without signatures.
    for result in results.values():
        if result.kind == "agreement" and result.agreement_status != "effective":
            assert (await services.agreements.current(result.agreement_id or "")).status is VersionStatus.DRAFT
            assert next(c for c in cases if c.id == result.case_id).step == "result"
    ruled = next(a for a in applications if a.status == "ruled")
    assert ruled.ruling in ("valid", "rejected") and ruled.materials["agreement"]["sha256"]
    # The ruling is the court-signed PDF, valid for the verifier.
    async with services.db() as s:
        ruling_file = await s.get(StoredFile, ruled.ruling_document_id)
    assert ruling_file is not None
    ruling = await async_verify_agreement(await services.cases.files.read(ruling_file.path), [pki.root_cert])
    assert ruling.valid, ruling.to_dict()

    # Accounts for every role, one password.
    for role, channel in (("platform_admin", Channel.ADMIN), ("org_admin", Channel.MEDIATOR),
                          ("mediator", Channel.MEDIATOR), ("court_clerk", Channel.COURT), ("judge", Channel.COURT),
                          ("party", Channel.PARTY), ("agent", Channel.PARTY)):
        login = summary.accounts.by_role[role][0]
        assert (await services.accounts.login_password(channel, login, PASSWORD)).session.account.login == login

    # Loading again adds nothing twice; a run without --password gives every demo account a new one.
    counts = [await _count(services, t) for t in (Case, Account, AgreementRow, CourtApplication)]
    again = await demo_world.loader(password=None).load(cases=24, mediators=8, parties=6, signed=2)
    assert again.cases_created == 0 and again.by_step == summary.by_step and again.signed_agreements == 2
    assert [await _count(services, t) for t in (Case, Account, AgreementRow, CourtApplication)] == counts
    with pytest.raises(Unauthenticated):
        await services.accounts.login_password(Channel.ADMIN, "demo-admin", PASSWORD)
    await services.accounts.login_password(Channel.ADMIN, "demo-admin", again.accounts.password)


class Interrupted(Exception):
    pass


async def test_an_interrupted_load_is_finished_by_the_next_run(engine: AsyncEngine, tmp_path: Path,
                                                               pki: PlatformPKI) -> None:
    """The first run dies after the parties signed one agreement and before its seal; the second
    run seals it and finishes every case, and the data set is the one an uninterrupted run makes."""
    if engine.dialect.name != "sqlite":
        pytest.skip("one database is enough for the resumption; the workflow test covers PostgreSQL")
    demo_world = _demo(engine, tmp_path / "data", pki)
    seal = demo_world.signing.ceremony.seal

    async def dies(*_: object) -> None:
        raise Interrupted

    demo_world.signing.ceremony.seal = dies  # type: ignore[method-assign]
    with pytest.raises(Interrupted):
        await demo_world.loader().load(cases=16, mediators=6, parties=5, signed=1)
    demo_world.signing.ceremony.seal = seal  # type: ignore[method-assign]
    async with demo_world.services.db() as s:
        created = await s.scalar(select(func.count()).select_from(Case))
        half_signed = (await s.scalars(select(CaseResult).where(CaseResult.agreement_status == "effective"))).one()
    state = await demo_world.services.agreements.current(half_signed.agreement_id or "")
    assert state.status is VersionStatus.LOCKED and state.effective_at is not None  # parties signed, no seal

    finished = await demo_world.loader().load(cases=16, mediators=6, parties=5, signed=1)
    assert finished.cases_created == 16 - (created or 0)
    state = await demo_world.services.agreements.current(half_signed.agreement_id or "")
    assert state.status is VersionStatus.COMPLETED
    assert (await async_verify_agreement(await demo_world.services.agreements.read_pdf(state), [pki.root_cert])).valid

    other_engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'second.sqlite3'}")
    await upgrade_engine(other_engine)
    try:
        whole = await _demo(other_engine, tmp_path / "second", pki).loader().load(cases=16, mediators=6, parties=5,
                                                                                 signed=1)
    finally:
        await other_engine.dispose()
    assert _plan_outcome(finished) == _plan_outcome(whole)


def _plan_outcome(summary: DemoSummary) -> tuple[object, ...]:
    return summary.by_step, summary.by_outcome, summary.signed_agreements, summary.court_applications


async def test_same_seed_same_directory(engine: AsyncEngine, tmp_path: Path, pki: PlatformPKI) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("determinism does not depend on the database")
    profiles = []
    for n in range(2):
        eng = make_engine(f"sqlite+aiosqlite:///{tmp_path / f'{n}.sqlite3'}")
        await upgrade_engine(eng)
        try:
            world = _demo(eng, tmp_path / str(n), pki)
            await world.loader(seed=11).load(cases=3, mediators=5, parties=3, signed=0)
            found = (await DirectoryService(world.services.db, world.clock)
                     .search_mediators(MediatorQuery(page_size=100))).items
        finally:
            await eng.dispose()
        profiles.append([(m.name, m.organisation, m.category, m.specialities, m.languages, m.max_concurrent)
                         for m in found])
    assert profiles[0] == profiles[1] and len(profiles[0]) == 5


def test_demo_command_loads_and_loads_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path)
    parser.add_argument("--data-dir", type=Path)
    sub = parser.add_subparsers(dest="command", required=True)
    demo.register(sub)
    argv = ["--data-dir", str(tmp_path), "demo", "load", "--cases", "6", "--mediators", "5", "--parties", "3",
            "--signed", "0", "--json"]
    args = parser.parse_args(argv)
    assert args.func(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["cases"] == summary["cases_created"] == 6 and summary["mediators"] == 5
    assert len(summary["accounts"]["password"]) >= 10 and summary["accounts"]["by_role"]["judge"]
    args = parser.parse_args(argv)
    assert args.func(args) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["cases_created"] == 0 and again["by_step"] == summary["by_step"]
    args = parser.parse_args(["--data-dir", str(tmp_path), "demo", "load", "--seed", "7", "--cases", "6",
                              "--mediators", "5", "--parties", "3", "--signed", "0"])
    assert args.func(args) == 1
    assert "--seed 2016" in capsys.readouterr().out  # another seed's plan would mix with this one
    for bad in (["--cases", "0"], ["--cases", "3", "--signed", "4"], ["--password", "short"]):
        with pytest.raises(ValueError):
            wrong = parser.parse_args(["--data-dir", str(tmp_path), "demo", "load", *bad])
            wrong.func(wrong)
