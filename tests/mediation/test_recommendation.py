"""Recommending five mediators: the ranking on a hand-built data set, exclusions, the reasons,
and the case-level access rules (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mediation.directory import DirectoryService, ProfileDetails
from mediation.errors import NotFound, WrongState
from mediation.models import Case, MediatorChoice
from mediation.recommendation import Recommender
from mediation.services import MediationServices

from .directory_data import ADMIN, ORG, History, give_history, mediator, organisations
from .doubles import MemorySms
from .helpers import application, make_staff, register_party


@pytest.fixture
def directory(services: MediationServices) -> DirectoryService:
    return DirectoryService(services.db, services.cases.clock)


@pytest.fixture
def recommender(services: MediationServices) -> Recommender:
    return Recommender(services.db, services.cases)


async def test_ranking_follows_speciality_record_load_and_declines(services: MediationServices,
                                                                   directory: DirectoryService,
                                                                   recommender: Recommender) -> None:
    await organisations(directory)
    db = services.db
    record = History(settled=7, failed=3, ratings=(5, 4, 5, 4))
    star = await mediator(db, directory, "示例调解员01", specialities=("loan",))
    await give_history(db, star, record)
    plain = await mediator(db, directory, "示例调解员02", specialities=("labour",))  # same record, no speciality
    await give_history(db, plain, record)
    busy = await mediator(db, directory, "示例调解员03", specialities=("loan",), capacity=10)
    await give_history(db, busy, History(settled=7, failed=3, ratings=(5, 4, 5, 4), active=8))
    decliner = await mediator(db, directory, "示例调解员04", specialities=("loan",))
    await give_history(db, decliner, History(settled=7, failed=3, ratings=(5, 4, 5, 4), declined=10))
    full = await mediator(db, directory, "示例调解员05", specialities=("loan",), capacity=2)
    await give_history(db, full, History(active=2))
    away = await mediator(db, directory, "示例调解员06", specialities=("loan",), available=False)
    weak = await mediator(db, directory, "示例调解员07", specialities=("loan",))
    await give_history(db, weak, History(settled=1, failed=9, ratings=(2, 1, 2)))

    result = await recommender.for_dispute("loan")

    ids = [r.mediator_id for r in result.recommendations]
    assert result.complete and result.shortfall is None and len(ids) == 5
    assert ids[0] == star  # speciality, good record, idle, never declines
    assert full not in ids and away not in ids  # at capacity / not taking cases
    assert ids.index(star) < ids.index(busy) < ids.index(plain)  # load costs less than lacking the speciality
    assert ids.index(star) < ids.index(decliner)
    assert ids.index(star) < ids.index(weak)
    assert [r.rank for r in result.recommendations] == [1, 2, 3, 4, 5]
    totals = [r.score.total for r in result.recommendations]
    assert totals == sorted(totals, reverse=True)
    top = result.recommendations[0]
    assert top.components.speciality and top.components.settlement_rate == 0.7 and top.components.satisfaction == 4.5
    assert top.components.active_cases == 0 and top.components.capacity == 10
    assert top.score.speciality == pytest.approx(0.35)
    parts = top.score
    assert parts.total == pytest.approx(parts.speciality + parts.settlement + parts.satisfaction + parts.load
                                        + parts.decline + parts.region, abs=1e-3)
    assert top.reason.startswith("擅长民间借贷纠纷；调解成功率 70%")
    assert "满意度 4.5" in top.reason and "当前承办 0 件" in top.reason
    by_id = {r.mediator_id: r for r in result.recommendations}
    assert by_id[decliner].components.decline_rate == 0.5
    assert by_id[decliner].score.decline < top.score.decline
    assert "拒绝率 50%" in by_id[decliner].reason
    assert by_id[busy].components.active_cases == 8 and "当前承办 8 件" in by_id[busy].reason
    assert by_id[plain].reason.startswith("未登记民间借贷纠纷专长")


async def test_region_match_breaks_a_tie(services: MediationServices, directory: DirectoryService,
                                         recommender: Recommender) -> None:
    await organisations(directory)
    here = await mediator(services.db, directory, "示例调解员11", region="四川省成都市锦江区")
    there = await mediator(services.db, directory, "示例调解员12", region="四川省绵阳市涪城区")
    ranked = (await recommender.for_dispute("loan", region="四川省成都市")).recommendations
    assert [r.mediator_id for r in ranked] == [here, there]
    assert ranked[0].components.region_match and "同一地区" in ranked[0].reason
    assert not ranked[1].components.region_match


async def test_fewer_than_five_is_said(services: MediationServices, directory: DirectoryService,
                                       recommender: Recommender) -> None:
    await organisations(directory)
    only = await mediator(services.db, directory, "示例调解员21", specialities=("loan",))
    result = await recommender.for_dispute("loan")
    assert [r.mediator_id for r in result.recommendations] == [only]
    assert not result.complete and result.shortfall is not None and "1" in result.shortfall
    assert result.recommendations[0].reason == "擅长民间借贷纠纷；尚无已结案件；尚无评价；当前承办 0 件（上限 10 件）"

    empty = await recommender.for_dispute("loan", region="新疆")
    assert len(empty.recommendations) == 1  # region only ranks, it does not filter


async def test_for_case_leaves_out_decliners_and_strangers_see_nothing(
        services: MediationServices, sms: MemorySms, directory: DirectoryService, recommender: Recommender) -> None:
    await organisations(directory)
    alice = await register_party(services, sms, "alice", 1)
    bob = await register_party(services, sms, "bob", 2)
    carol = await register_party(services, sms, "carol", 3)
    staff = [await make_staff(services, ADMIN, "mediator", f"med{i}", organisation=ORG) for i in range(6)]
    for m in staff:
        await directory.set_profile(ADMIN, m.id, ProfileDetails("lawyer", "四川省成都市锦江区", ["loan"], ["普通话"]))
    case = await services.filing.apply(alice.actor, application(alice, bob))
    await services.filing.answer_consent(bob.actor, case.id, True)
    first = await recommender.for_case(alice.actor, case.id, region="四川省成都市")
    assert len(first.recommendations) == 5 and first.case_id == case.id
    declined = first.recommendations[0].mediator_id
    await services.mediator_choice.choose_mediator(alice.actor, case.id, declined)
    await services.mediator_choice.answer_assignment(next(m for m in staff if m.id == declined), case.id, False, "conflict")
    again = await recommender.for_case(bob.actor, case.id)
    assert declined not in [r.mediator_id for r in again.recommendations]
    assert len(again.recommendations) == 5

    with pytest.raises(NotFound):
        await recommender.for_case(carol.actor, case.id)
    await services.mediator_choice.choose_mediator(alice.actor, case.id, again.recommendations[0].mediator_id)
    chosen = next(m for m in staff if m.id == again.recommendations[0].mediator_id)
    await services.mediator_choice.answer_assignment(chosen, case.id, True)
    with pytest.raises(WrongState):
        await recommender.for_case(alice.actor, case.id)
    async with services.db() as s:
        assert (await s.scalar(select(Case.step).where(Case.id == case.id))) == "counselling"
        assert len((await s.scalars(select(MediatorChoice).where(MediatorChoice.case_id == case.id))).all()) == 2



async def test_a_strong_generalist_outranks_a_poor_fifth_specialist(services: MediationServices,
                                                                    directory: DirectoryService,
                                                                    recommender: Recommender) -> None:
    await organisations(directory)
    db = services.db
    good = History(settled=8, failed=2, ratings=(5, 4, 5))
    specialists = [await mediator(db, directory, f"示例调解员3{i}", specialities=("loan",)) for i in range(4)]
    for m in specialists:
        await give_history(db, m, good)
    poor = await mediator(db, directory, "示例调解员39", specialities=("loan",))
    await give_history(db, poor, History(failed=10, ratings=(1,) * 10, declined=10, active=9))
    generalist = await mediator(db, directory, "示例调解员40", specialities=("labour",))
    await give_history(db, generalist, History(settled=30, ratings=(5,) * 20))

    ranked = (await recommender.for_dispute("loan", region="四川省成都市")).recommendations
    ids = [r.mediator_id for r in ranked]
    assert sorted(ids[:4]) == sorted(specialists)
    assert ids[4] == generalist and poor not in ids
    assert not ranked[4].components.speciality and ranked[4].score.total > 0.6
    assert recommender.best_without_speciality() == pytest.approx(0.65)
