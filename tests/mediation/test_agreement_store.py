"""Agreements in the database, on SQLite and PostgreSQL: the draft made from its case, lock and
supersede, the hash index the public verifier uses, the rule that keeps the case's identities,
row-level access, and the import of an older data directory's JSON agreements."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from mediation.accounts import Actor, Role
from mediation.agreement_models import SigningPreparationRow
from mediation.agreement_drafting import IdentityChanged, keep_case_identities, masked
from mediation.agreement_store import IMPORTED_DIR, import_json_agreements, pending_json_agreements
from mediation.directory import DirectoryService, NewOrganisation
from mediation.errors import NotFound, WrongState
from mediation.models import CaseResult
from mediation.schema import VERSION_TABLE, all_tables
from mediation.services import MediationServices
from recordings.store import FINISHED, RecordingStore
from signing.agreement import AgreementData, DisputeType
from signing.agreement_versions import PreparationClaim, VersionError, VersionState, VersionStatus

from .doubles import START, MemorySms, id_number
from .helpers import Person, application, make_staff, register_party
from .legacy_agreements import write_legacy_agreement

ORG = "锦江区人民调解委员会"
CREDIT_CODE = "12510104MB0000000X"
AGREEMENT_TABLES = {"med_agreements", "med_agreement_versions", "med_signer_slots", "med_agreement_revisions",
                    "med_agreement_signatures", "med_signing_preparations"}


class Cast:
    def __init__(self, admin: Actor, org_admin: Actor, mediator: Actor, alice: Person, bob: Person, lawyer: Person,
                 organisation_id: str):
        self.admin, self.org_admin, self.mediator = admin, org_admin, mediator
        self.alice, self.bob, self.lawyer = alice, bob, lawyer
        self.organisation_id = organisation_id


async def _cast(services: MediationServices, sms: MemorySms) -> Cast:
    admin = (await services.accounts.bootstrap_admin("root", "Admin", "correct horse battery")).as_actor()
    listed = await DirectoryService(services.db, services.cases.clock).add_organisation(admin, NewOrganisation(
        ORG, "peoples", "四川省成都市锦江区", "成都市锦江区调解路1号", "028-00000000", credit_code=CREDIT_CODE))
    org_admin = await make_staff(services, admin, Role.ORG_ADMIN, "orgadmin", organisation=ORG)
    mediator = await make_staff(services, admin, Role.MEDIATOR, "mediator1", organisation=ORG)
    alice = await register_party(services, sms, "alice", 1)
    bob = await register_party(services, sms, "bob", 2)
    lawyer = await register_party(services, sms, "lawyer", 3, role=Role.AGENT)
    await services.accounts.authorise_agent(bob.actor, "lawyer", b"%PDF power of attorney", "poa.pdf",
                                            "application/pdf")
    return Cast(admin, org_admin, mediator, alice, bob, lawyer, listed.id)


async def _case_at_result(services: MediationServices, c: Cast) -> str:
    view = await services.filing.apply(c.alice.actor, application(c.alice, c.bob))
    await services.filing.answer_consent(c.bob.actor, view.id, True)
    await services.mediator_choice.choose_mediator(c.alice.actor, view.id, c.mediator.id)
    await services.mediator_choice.answer_assignment(c.mediator, view.id, True)
    await services.video.open_video(c.mediator, view.id)
    await services.video.conclude_video(c.mediator, view.id)
    return view.id


async def _with_mediator_id(services: MediationServices, agreement_id: str) -> VersionState:
    """The mediator's staff account has no ID number: they type their own once, in the editor."""
    store = services.agreements
    current = await store.current(agreement_id)
    data = keep_case_identities(current.data, {**masked(current.data), "mediator": {
        **masked(current.data)["mediator"], "id_number": id_number(9)}})
    return await store.edit(agreement_id, AgreementData.model_validate(data), None)


async def test_the_draft_is_made_from_the_case(services: MediationServices, sms: MemorySms) -> None:
    c = await _cast(services, sms)
    case_id = await _case_at_result(services, c)
    agreement_id = await services.results.record_agreement(c.mediator, case_id, None)
    view = await services.cases.view(c.mediator, case_id)
    assert view.result is not None and (view.result.agreement_id, view.result.agreement_status) == (
        agreement_id, "drafted")
    state = await services.agreements.current(agreement_id)
    info = await services.agreements.info(agreement_id)
    assert (state.case_id, state.version, state.status, state.created_by) == (case_id, 1, VersionStatus.DRAFT,
                                                                              c.mediator.id)
    assert (info.case_id, info.organisation_id, info.created_by) == (case_id, c.organisation_id, c.mediator.id)
    data = state.data
    applicant, respondent = data.parties
    assert (applicant.key, applicant.name, applicant.id_number, applicant.contact, applicant.participant_id) == (
        "applicant", "Alice", c.alice.id_number, c.alice.phone, c.alice.actor.id)
    assert (respondent.address, respondent.participant_id) == ("2 Jinjiang Road, Chengdu", c.bob.actor.id)
    assert respondent.agent is not None and (respondent.agent.name, respondent.agent.id_number,
                                             respondent.agent.participant_id, respondent.agent.signs) == (
        "Lawyer", c.lawyer.id_number, c.lawyer.actor.id, False)
    assert applicant.agent is None
    assert (data.mediator.name, data.mediator.participant_id, data.mediator.id_number) == (
        "Mediator1", c.mediator.id, None)
    assert data.organisation.model_dump() == {"name": ORG, "credit_code": CREDIT_CODE,
                                              "address": "成都市锦江区调解路1号", "organisation_id": c.organisation_id}
    case_number = (await services.cases.view(c.mediator, case_id)).case_number
    assert data.dispute_type is DisputeType.LOAN and data.case_number == case_number is not None
    assert "lent on 2025-01-10" in data.facts and "repay the loan of 12,000 yuan" in data.facts
    (money,) = data.monetary
    assert (money.payer, money.payee, money.amount) == ("respondent", "applicant", Decimal("12000.00"))
    assert [(s.field_name, s.participant_id) for s in state.slots] == [
        ("sig_01_party_applicant", c.alice.actor.id), ("sig_02_party_respondent", c.bob.actor.id),
        ("sig_03_mediator", c.mediator.id), ("sig_04_organisation", c.organisation_id)]
    assert state.slots[-1].organisation_id == c.organisation_id


async def test_lock_supersede_and_find_by_hash(services: MediationServices, sms: MemorySms) -> None:
    c = await _cast(services, sms)
    store = services.agreements
    agreement_id = await services.results.record_agreement(c.mediator, await _case_at_result(services, c), None)
    with pytest.raises(VersionError) as info:
        await store.lock(agreement_id, 1)
    assert info.value.code == "mediator_id_number_required"
    draft = await _with_mediator_id(services, agreement_id)
    assert draft.version == 1 and draft.data.mediator.id_number == id_number(9)
    with pytest.raises(VersionError) as info:
        await store.revision_path(draft)
    assert info.value.code == "not_locked"
    locked = await store.lock(agreement_id, 1)
    pdf = await store.read_pdf(locked)
    assert hashlib.sha256(pdf).hexdigest() == locked.locked_sha256 and locked.status is VersionStatus.LOCKED
    assert locked.slots[0].participant_id == c.alice.actor.id
    found = await store.locked_with({"0" * 64, locked.locked_sha256})
    assert found is not None and (found.state.agreement_id, found.current_version) == (agreement_id, 1)
    assert found.revision_sha256 == [locked.locked_sha256]
    assert await store.locked_with({"0" * 64}) is None

    v2 = await store.edit(agreement_id, locked.data.model_copy(update={"place": "成都"}), c.mediator.id)
    assert (v2.version, v2.status, v2.data.place) == (2, VersionStatus.DRAFT, "成都")
    old = await store.version(agreement_id, 1)
    assert old.status is VersionStatus.SUPERSEDED and old.superseded_at is not None
    assert await store.read_pdf(old) == pdf  # the old text stays on record
    found = await store.locked_with({locked.locked_sha256})
    assert found is not None and (found.state.version, found.current_version) == (1, 2)
    for version, code in ((1, "version_outdated"), (3, "version_outdated")):
        with pytest.raises(VersionError) as info:
            await store.lock(agreement_id, version)
        assert info.value.code == code
    await store.lock(agreement_id, 2)
    with pytest.raises(VersionError) as info:
        await store.lock(agreement_id, 2)
    assert info.value.code == "already_locked"
    for bad in ("../etc", "ag_0123", "AG_0123456789ABCDEF", "ag_0000000000000000"):
        with pytest.raises(VersionError) as info:
            await store.current(bad)
        assert info.value.code == "agreement_not_found"


async def test_the_hash_lookup_is_an_index_seek(services: MediationServices, engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the query plan is checked on SQLite; PostgreSQL plans a tiny table as a scan")
    async with engine.connect() as conn:
        for table, column in (("med_agreement_versions", "locked_sha256"), ("med_agreement_revisions", "sha256")):
            plan = " ".join(str(row) for row in (await conn.execute(text(
                f"EXPLAIN QUERY PLAN SELECT * FROM {table} WHERE {column} IN ('a', 'b')"))).all())
            assert f"SEARCH {table} USING INDEX ix_{table}_{column}" in plan, plan


async def test_the_case_identities_survive_the_editor(services: MediationServices, sms: MemorySms) -> None:
    c = await _cast(services, sms)
    agreement_id = await services.results.record_agreement(c.mediator, await _case_at_result(services, c), None)
    stored = (await services.agreements.current(agreement_id)).data
    shown = masked(stored)
    assert shown["parties"][0]["id_number"] == c.alice.id_number[:3] + "*" * 13 + c.alice.id_number[-2:]
    assert c.alice.id_number not in json.dumps(shown) and c.lawyer.id_number not in json.dumps(shown)
    assert AgreementData.model_validate(keep_case_identities(stored, shown)) == stored
    without = json.loads(json.dumps(shown))
    del without["parties"][1]["agent"]["id_number"]
    without["parties"][1]["side"] = "applicant"  # sides of case parties are the case's too
    assert AgreementData.model_validate(keep_case_identities(stored, without)) == stored
    for change, field in (
            (lambda d: d["parties"][0].update(id_number=c.bob.id_number), "data.parties.0.id_number"),
            (lambda d: d["parties"][1]["agent"].update(name="Mallory"), "data.parties.1.agent.name"),
            (lambda d: d["parties"][0].update(participant_id=c.bob.actor.id), "data.parties.0.participant_id"),
            (lambda d: d["mediator"].update(participant_id=c.alice.actor.id), "data.mediator.participant_id"),
            (lambda d: d["organisation"].update(name="另一个调委会"), "data.organisation.name"),
            (lambda d: d["parties"].pop(1), "data.parties"),
            (lambda d: d["parties"].append({**d["parties"][0], "key": "third", "participant_id": c.lawyer.actor.id}),
             "data.parties.2.participant_id")):
        edited = json.loads(json.dumps(shown))
        change(edited)
        with pytest.raises(IdentityChanged) as info:
            keep_case_identities(stored, edited)
        assert field in [f for f, _ in info.value.problems], info.value.problems


async def test_access_follows_the_case(services: MediationServices, sms: MemorySms) -> None:
    c = await _cast(services, sms)
    agreement_id = await services.results.record_agreement(c.mediator, await _case_at_result(services, c), None)
    info = await services.agreements.info(agreement_id)
    other_mediator = await make_staff(services, c.admin, Role.MEDIATOR, "mediator2", organisation=ORG)
    other_admin = await make_staff(services, c.admin, Role.ORG_ADMIN, "orgadmin2", organisation="武侯区人民调解委员会")
    allowed = {who.id: await services.cases.may_manage_agreement(who, info) for who in (
        c.mediator, c.org_admin, c.admin, other_mediator, other_admin, c.alice.actor, c.lawyer.actor)}
    assert allowed == {c.mediator.id: True, c.org_admin.id: True, c.admin.id: True, other_mediator.id: False,
                       other_admin.id: False, c.alice.actor.id: False, c.lawyer.actor.id: False}
    # An organisation administrator is matched by the directory id the agreement holds, not by the
    # name printed in the agreement (which the mediator's editor shows but cannot change).
    impostor = Actor("a_impostor", str(Role.ORG_ADMIN), "x", organisation="武侯区人民调解委员会")
    assert not await services.cases.may_manage_agreement(impostor, info)


async def test_only_the_case_mediator_drafts_once_at_step_five(services: MediationServices, sms: MemorySms) -> None:
    c = await _cast(services, sms)
    case_id = await _case_at_result(services, c)
    other = await make_staff(services, c.admin, Role.MEDIATOR, "mediator2", organisation=ORG)
    with pytest.raises(NotFound):
        await services.results.record_agreement(other, case_id, None)
    await services.results.record_agreement(c.mediator, case_id, None)
    assert (await services.agreements.of_case(case_id)) is not None
    with pytest.raises(WrongState) as info:
        await services.results.record_agreement(c.mediator, case_id, None)
    assert info.value.code == "result_exists"


async def test_json_agreements_of_an_older_data_dir_are_imported(services: MediationServices, sms: MemorySms,
                                                                 tmp_path: Path) -> None:
    c = await _cast(services, sms)
    case_id = await _case_at_result(services, c)
    data_dir = tmp_path / "old-data"
    legacy = AgreementData.model_validate({
        "case_number": "（2025）川0104民调12号", "dispute_type": "private_lending",  # the old template vocabulary
        "parties": [{"key": "zhang", "side": "applicant", "name": "张三", "id_number": id_number(11),
                     "address": "成都市1号", "contact": "13800000011"},
                    {"key": "li", "side": "respondent", "name": "李四", "id_number": id_number(12),
                     "address": "成都市2号", "contact": "13800000012"}],
        "mediator": {"name": "赵调解", "id_number": id_number(13)},
        "organisation": {"name": ORG, "address": "成都市锦江区调解路1号"},
        "facts": "借款未还。", "monetary": [{"payer": "li", "payee": "zhang", "amount": "100.00",
                                          "due_date": "2026-01-01"}],
        "date": "2025-12-01", "place": "成都"})
    linked, loose = "ag_00000000000000a1", "ag_00000000000000a2"
    sha_linked = write_legacy_agreement(data_dir, linked, legacy)
    write_legacy_agreement(data_dir, loose, legacy)
    (data_dir / "agreements" / "not-an-agreement").mkdir()
    async with services.db.begin() as s:  # the old server recorded the agreement id as free text
        s.add(CaseResult(case_id=case_id, kind="agreement", agreement_id=linked, agreement_status="drafted",
                         recorded_by=c.mediator.id, recorded_at=START))
    assert [p.name for p in pending_json_agreements(data_dir)] == [linked, loose]

    report = await import_json_agreements(services.agreements, data_dir)
    assert (sorted(report.imported), report.already_present, report.failed) == ([linked, loose], [], {})
    assert report.moved_to == data_dir / IMPORTED_DIR and pending_json_agreements(data_dir) == []
    info = await services.agreements.info(linked)
    assert (info.case_id, info.organisation_id, info.created_by, info.current_version) == (
        case_id, c.organisation_id, None, 2)
    assert (await services.agreements.info(loose)).case_id is None
    v1 = await services.agreements.version(linked, 1)
    assert v1.status is VersionStatus.SUPERSEDED and v1.locked_sha256 == sha_linked
    assert v1.data.dispute_type is DisputeType.LOAN and v1.data.parties[0].id_number == id_number(11)
    assert hashlib.sha256(await services.agreements.read_pdf(v1)).hexdigest() == sha_linked
    found = await services.agreements.locked_with({sha_linked})
    assert found is not None and found.state.agreement_id in (linked, loose) and found.current_version == 2
    assert (await services.agreements.current(linked)).status is VersionStatus.DRAFT
    # The case's mediator now reaches the imported agreement through its case.
    assert await services.cases.may_manage_agreement(c.mediator, info)

    # Run again on a restored copy: nothing is imported twice.
    (data_dir / IMPORTED_DIR).rename(data_dir / "agreements")
    again = await import_json_agreements(services.agreements, data_dir)
    assert (again.imported, sorted(again.already_present)) == ([], [linked, loose])


async def test_a_damaged_json_agreement_is_reported_and_nothing_of_it_written(
        services: MediationServices, sms: MemorySms, tmp_path: Path) -> None:
    await _cast(services, sms)
    data_dir = tmp_path / "old-data"
    directory = data_dir / "agreements" / "ag_00000000000000b1"
    directory.mkdir(parents=True)
    (directory / "agreement.json").write_text('{"agreement_id": "ag_00000000000000b1", "current_version": 1, '
                                              f'"created_at": "{START.isoformat()}"}}')
    (directory / "v1").mkdir()
    (directory / "v1" / "state.json").write_text("{not json")
    report = await import_json_agreements(services.agreements, data_dir)
    assert list(report.failed) == ["ag_00000000000000b1"] and report.moved_to is None
    assert pending_json_agreements(data_dir) == [directory]
    with pytest.raises(VersionError):
        await services.agreements.current("ag_00000000000000b1")


async def test_migration_matches_the_agreement_models(engine: AsyncEngine) -> None:
    def compare(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return [d for d in compare_metadata(context, all_tables())
                if any(name in repr(d) for name in AGREEMENT_TABLES | {"credit_code"})]

    async with engine.connect() as conn:
        assert await conn.run_sync(compare) == []


async def test_a_preparation_is_a_row_with_an_expiry(services: MediationServices, sms: MemorySms) -> None:
    c = await _cast(services, sms)
    agreement_id = await services.results.record_agreement(c.mediator, await _case_at_result(services, c), None)
    store, now = services.agreements, services.cases.clock.now()
    claim = PreparationClaim(agreement_id, 1, 0, "sig_01_party_applicant", "party:applicant", c.alice.actor.id,
                             now, now + dt.timedelta(seconds=120))
    await store.claim_preparation(claim)
    assert await store.preparation(agreement_id) == claim
    await store.claim_preparation(claim)  # a retry replaces it
    async with services.db.begin() as s:
        await s.execute(update(SigningPreparationRow).values(expires_at=now - dt.timedelta(seconds=1)))
    assert await store.preparation(agreement_id) is None  # expired: nobody holds the lock
    await store.release_preparation(agreement_id)


async def test_lock_cites_the_recordings_finished_before_it(services: MediationServices, sms: MemorySms) -> None:
    c = await _cast(services, sms)
    case_id = await _case_at_result(services, c)
    recordings = RecordingStore(services.db, services.cases.clock)
    finished = await recordings.start_session(case_id, "room-a", {"mode": "joint"})
    await recordings.finish(finished.id, state=FINISHED, end_us=9_000_000, note="stopped")
    await recordings.set_manifest(finished.id, "ab" * 32)
    running = await recordings.start_session(case_id, "room-b", {"mode": "joint"})  # nothing final to cite yet
    agreement_id = await services.results.record_agreement(c.mediator, case_id, None)
    await _with_mediator_id(services, agreement_id)

    locked = await services.agreements.lock(agreement_id, 1)
    (cited,) = locked.evidence.recordings
    assert (cited.name, cited.sha256) == (f"录像 {finished.id}", "ab" * 32)
    assert cited.started_at is not None and cited.ended_at is not None and cited.started_at <= cited.ended_at
    pdf = await services.agreements.read_pdf(locked)
    text = subprocess.run(["pdftotext", "-q", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()
    flat = re.sub(r"\s+", "", text)
    assert finished.id in flat and "ab" * 32 in flat and running.id not in flat
