"""Guidance over the database (SQLite and PostgreSQL): the knowledge base seeded and edited, the
unanswered log, the estimator's platform figures against plain SQL, and similar cases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text

from mediation.accounts import Actor
from mediation.clock import ManualClock
from mediation.errors import Forbidden
from mediation.guidance.assistant import Entry
from mediation.guidance.demo_corpus import demo_cases
from mediation.guidance.service import GuidanceService
from mediation.guidance.similar import ImportError_, parse_lines
from mediation.models import Case, CaseResult
from mediation.notifications import FileEmailSender
from mediation.services import MediationServices

from .doubles import MemorySms

ADMIN = Actor("a_admin", "platform_admin", "Admin")
MEDIATOR = Actor("a_med", "mediator", "M")


@pytest.fixture
def guidance(services: MediationServices) -> GuidanceService:
    return GuidanceService(services.db, services.cases.clock)


async def test_seeded_then_edited_entries_answer(guidance: GuidanceService) -> None:
    assert await guidance.seed() >= 60
    assert await guidance.seed() == 0  # idempotent
    reply = await guidance.ask("申请司法确认要交钱吗")
    assert reply.outcome == "answer" and reply.citation and reply.citation.entry_id == "jc-fee"
    new = Entry("pets-in-rentals", "disputes", "租房能养宠物吗？", "May tenants keep pets?",
                "看租赁合同的约定。", "It depends on the lease.", "《民法典》第七百零九条", ("宠物", "养狗", "猫"))
    with pytest.raises(Forbidden):
        await guidance.put_entry(MEDIATOR, new)
    await guidance.put_entry(ADMIN, new)
    reply = await guidance.ask("家里能不能养宠物狗")
    assert reply.citation and reply.citation.entry_id == "pets-in-rentals"
    await guidance.delete_entry(ADMIN, "pets-in-rentals")
    assert all(e.id != "pets-in-rentals" for e in await guidance.entries())


async def test_declined_and_unsure_questions_are_logged(guidance: GuidanceService, clock: ManualClock) -> None:
    await guidance.seed()
    await guidance.ask("明天成都会下雨吗")
    await guidance.ask("人民调解收费吗")
    logged = await guidance.unanswered(ADMIN)
    assert [q["question"] for q in logged] == ["明天成都会下雨吗"] and logged[0]["outcome"] == "declined"
    with pytest.raises(Forbidden):
        await guidance.unanswered(MEDIATOR)
    clock.advance(dt.timedelta(days=91))  # kept 90 days, then forgotten
    assert await guidance.unanswered(ADMIN) == []


async def _decided_case(services: MediationServices, n: int, kind: str, outcome: str, days: float) -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    async with services.db.begin() as s:
        s.add(Case(id=f"c_g{n}", origin="application", dispute_type=kind, claims="x", facts="y", step="evaluation",
                   status="closed", outcome=outcome, created_by="t", created_at=start, updated_at=start, audit_head="0"))
        s.add(CaseResult(case_id=f"c_g{n}", kind="agreement" if outcome == "settled" else "failure",
                         recorded_by="t", recorded_at=start + dt.timedelta(days=days)))


async def test_estimate_uses_the_platforms_own_figures(services: MediationServices, guidance: GuidanceService) -> None:
    durations = [(3, "settled"), (10, "settled"), (12, "failed"), (20, "settled"), (40, "failed"), (7.5, "settled")]
    for n, (days, outcome) in enumerate(durations):
        await _decided_case(services, n, "loan", outcome, days)
    estimate = await guidance.estimate("loan", Decimal(150_000), simplified=True, with_lawyer=False)
    assert estimate.litigation.acceptance_fee == Decimal("1650.00")
    figures = estimate.mediation
    # Independently, in plain SQL: counts, then the median of the six durations (10 and 12 -> 11).
    async with services.db() as s:
        decided, settled = (await s.execute(text(
            "SELECT count(*), sum(CASE WHEN outcome = 'settled' THEN 1 ELSE 0 END) FROM med_cases "
            "WHERE dispute_type = 'loan' AND outcome IN ('settled', 'failed')"))).one()
    assert (figures.decided, figures.settled) == (decided, settled) == (6, 4)
    assert figures.settlement_rate == round(4 / 6, 4) and figures.median_days == 11.0
    assert "1650.00" in estimate.explanation_zh and "11" in estimate.explanation_en
    assert estimate.court.judgments == 0 and estimate.court.median_days is None  # no past cases imported
    # A type with too few cases falls back to the whole platform's figures.
    assert (await guidance.estimate("medical", Decimal(1000), simplified=False, with_lawyer=True)).mediation.dispute_type is None


async def test_similar_cases_ranked_and_highlighted(services: MediationServices, guidance: GuidanceService) -> None:
    assert await guidance.import_cases(demo_cases(300)) == 300
    court = (await guidance.estimate("tenancy", Decimal(3000), simplified=True, with_lawyer=False)).court
    async with services.db() as s:  # independently: every duration, the median taken in Python
        durations = sorted((await s.execute(text("SELECT duration_days FROM med_past_cases WHERE dispute_type = "
                                                 "'tenancy' AND outcome = 'judgment'"))).scalars())
    assert court.judgments == len(durations) > 0
    middle = durations[(len(durations) - 1) // 2: len(durations) // 2 + 1]
    assert court.median_days == round(sum(middle) / len(middle), 1)
    found = await guidance.similar("房东扣押金不退", limit=3)
    assert found and all(c.dispute_type == "tenancy" for c in found)
    assert any(p.hit and "押金" in p.text for p in found[0].facts + found[0].claims)
    assert "".join(p.text for p in found[0].facts).startswith(found[0].facts[0].text)
    with pytest.raises(Exception):
        await guidance.import_cases(demo_cases(1))  # the same reference again


def test_import_format_is_validated() -> None:
    good = ('{"reference": "R1", "court": "C", "dispute_type": "loan", "facts": "借钱不还", "claims": "还钱", '
            '"outcome": "mediated", "result": "分期", "amount_yuan": 1000, "duration_days": 9, "decided_on": "2025-03-01"}')
    assert [c.reference for c in parse_lines([good, ""], ["loan"])] == ["R1"]
    for bad in (good.replace('"loan"', '"space"'), good.replace('"mediated"', '"won"'),
                good.replace('"2025-03-01"', '"yesterday"'), "[1]", good.replace('"duration_days": 9', '"duration_days": -1')):
        with pytest.raises(ImportError_):
            list(parse_lines([bad], ["loan"]))


async def test_consultation_requests_reach_their_organisation_only(services: MediationServices,
                                                                   guidance: GuidanceService) -> None:
    from mediation.directory_models import Organisation
    from mediation.errors import NotFound

    now = services.cases.clock.now()
    async with services.db.begin() as s:
        for oid, name in (("o_a", "甲调解委员会"), ("o_b", "乙调解中心")):
            s.add(Organisation(id=oid, name=name, category="peoples", region="成都", address="x", contact="y",
                               intro="", created_at=now))
    await guidance.request_consultation("o_a", "张三", "13800000000", "借钱不还怎么办", "loan")
    await guidance.request_consultation("o_b", "李四", "13900000000", "物业费", None)
    with pytest.raises(NotFound):
        await guidance.request_consultation("o_missing", "王五", "13700000000", "?", None)
    mine = await guidance.consultations(Actor("a_oa", "org_admin", "A", organisation="甲调解委员会"))
    assert [c["name"] for c in mine] == ["张三"]
    assert len(await guidance.consultations(ADMIN)) == 2
    with pytest.raises(Forbidden):
        await guidance.consultations(MEDIATOR)


async def test_a_consultation_request_tells_its_organisations_administrators_only(
        services: MediationServices, sms: MemorySms) -> None:
    """In the app, once per unread notice (a burst of requests is one line), without the requester's data."""
    from mediation.directory_models import Organisation
    from mediation.models import Account
    from mediation.notification_models import Notification
    from mediation.notifications import NotificationInbox, Notifier

    now = services.cases.clock.now()
    async with services.db.begin() as s:
        for oid, name in (("o_a", "甲调解委员会"), ("o_b", "乙调解中心")):
            s.add(Organisation(id=oid, name=name, category="peoples", region="成都", address="x", contact="y",
                               intro="", created_at=now))
        for aid, role, org, disabled in (("a_oa1", "org_admin", "甲调解委员会", None),
                                         ("a_oa2", "org_admin", "甲调解委员会", None),
                                         ("a_oaoff", "org_admin", "甲调解委员会", now),
                                         ("a_ob", "org_admin", "乙调解中心", None),
                                         ("a_meda", "mediator", "甲调解委员会", None)):
            s.add(Account(id=aid, role=role, login=aid, display_name=aid, organisation=org, created_at=now,
                          disabled_at=disabled))
    notifier = Notifier(services.db, services.cases.clock, sms, FileEmailSender(Path("/nonexistent")))
    guidance = GuidanceService(services.db, services.cases.clock, notifier=notifier)
    first = await guidance.request_consultation("o_a", "张三", "13800000000", "朋友借了我两万块一直不还", "loan")
    await guidance.request_consultation("o_a", "赵六", "13600000000", "老板拖欠工资怎么办", "labour")
    inbox = NotificationInbox(services.db, services.cases.clock)
    for admin in ("a_oa1", "a_oa2"):
        told = (await inbox.list(admin)).notifications
        assert [n.kind for n in told] == ["consultation.requested"] and first in told[0].text
    async with services.db() as s:
        rows = (await s.scalars(select(Notification))).all()
    assert sorted(r.account_id for r in rows) == ["a_oa1", "a_oa2"]  # not the disabled one, o_b or the mediator
    for r in rows:
        assert not any(private in r.text for private in ("张三", "赵六", "13800000000", "13600000000", "借", "工资"))
    await inbox.mark_read("a_oa1", (await inbox.list("a_oa1")).notifications[0].id)
    await guidance.request_consultation("o_a", "王五", "13700000000", "调解要不要钱", None)
    assert len((await inbox.list("a_oa1")).notifications) == 2  # read, so told again
    assert len((await inbox.list("a_oa2")).notifications) == 1  # still unread: not told twice
    assert sms.sent == []  # in the app only


async def test_the_demo_corpus_goes_only_into_an_empty_table(guidance: GuidanceService) -> None:
    assert await guidance.import_cases_if_none(demo_cases(20)) == 20
    assert await guidance.import_cases_if_none(demo_cases(20, start=21)) == 0
