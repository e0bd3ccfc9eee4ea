"""Who acts next: the server's answer at every step of a case, through the services and the
database, and the rule itself on hand-made states for the turns a walk-through does not take."""

from __future__ import annotations

from datetime import timedelta

from mediation.accounts import Role
from mediation.cases import CaseView, PaymentTerms
from mediation.clock import ManualClock
from mediation.court import PaymentOrderDeclarations
from mediation.next_actions import (SIGNERS, ApplicationState, CaseState, NextAction, PartyState, decide)
from mediation.services import MediationServices
from mediation.workflow import Outcome, Step

from .doubles import START, MemorySms
from .helpers import PASSWORD, application, make_staff, register_party

ORG = "Jinjiang People's Mediation Committee"
COURT = "Chengdu Jinjiang District People's Court"


def who(view: CaseView) -> list[tuple[str, str, str | None, str | None]]:
    return [(a.action, a.role, a.side, a.account_id) for a in view.next_actions]


async def test_who_acts_next_through_every_step(services: MediationServices, sms: MemorySms,
                                                clock: ManualClock) -> None:
    cases, court = services.cases, services.court
    admin = (await services.accounts.bootstrap_admin("root", "Root", PASSWORD)).as_actor()
    alice = await register_party(services, sms, "alice", 1)
    bob = await register_party(services, sms, "bob", 2)
    mediator = await make_staff(services, admin, Role.MEDIATOR, "mediator1", organisation=ORG)
    clerk = await make_staff(services, admin, Role.COURT_CLERK, "clerk1", court=COURT)
    judge = await make_staff(services, admin, Role.JUDGE, "judge1", court=COURT)
    a, b = alice.actor, bob.actor

    # Step 1: the respondent consents; Bob has an account with the phone the case names, not yet on the case.
    view = await services.filing.apply(a, application(alice, bob))
    cid = view.id
    assert who(view) == [("consent", "party", "respondent", b.id)]
    (consent,) = view.next_actions
    assert (consent.due_at, consent.overdue) == (START + timedelta(days=5), False)
    clock.advance(timedelta(days=5, seconds=1))
    assert (await cases.view(b, cid)).next_actions[0].overdue is True  # the server's clock says so, not a scan

    # Step 2: either party chooses; then the chosen mediator answers.
    view = await services.filing.answer_consent(b, cid, True)
    assert who(view) == [("choose_mediator", "party", "applicant", a.id), ("choose_mediator", "party", "respondent", b.id)]
    view = await services.mediator_choice.choose_mediator(a, cid, mediator.id)
    assert who(view) == [("accept_assignment", "mediator", None, mediator.id)]
    await services.mediator_choice.answer_assignment(mediator, cid, True)

    # Steps 3-5: the mediator opens the video session, concludes it and records the result.
    view = await cases.view(a, cid)
    assert who(view) == [("open_video", "mediator", None, mediator.id)]
    assert view.next_actions[0].organisation == ORG
    assert who(await services.video.open_video(mediator, cid)) == [("conclude_video", "mediator", None, mediator.id)]
    assert who(await services.video.conclude_video(mediator, cid)) == [("record_result", "mediator", None, mediator.id)]
    terms = PaymentTerms("respondent", 500_000, clock.now().date().isoformat(), True, False)
    agreement_id = await services.results.record_agreement(mediator, cid, terms)
    view = await cases.view(a, cid)
    assert who(view) == [("lock_agreement", "mediator", None, mediator.id)]  # the agreement's store tells
    assert view.next_actions[0].due_at == clock.now() + timedelta(days=5)  # within step 5's time limit

    # Step 6: both sides rate.
    effective_at = clock.now()
    await services.results.agreement_took_effect(cid, agreement_id, effective_at)  # what the ceremony reports in-process
    view = await cases.view(a, cid)
    assert who(view) == [("rate", "party", "applicant", a.id), ("rate", "party", "respondent", b.id)]
    assert who(await services.evaluation.rate(a, cid, 5, "")) == [("rate", "party", "respondent", b.id)]

    # Step 7: apply jointly within 30 days of the agreement's effect; then the clerk, then the judge.
    view = await services.evaluation.rate(b, cid, 4, "")
    assert who(view) == [("apply_confirmation", "party", "applicant", a.id),
                         ("apply_confirmation", "party", "respondent", b.id)]
    assert {x.due_at for x in view.next_actions} == {effective_at + timedelta(days=30)}
    opened = await court.apply_confirmation(a, cid, COURT)
    view = await cases.view(b, cid)
    assert who(view) == [("join_application", "party", "respondent", b.id)]
    assert (view.next_actions[0].application_id, view.next_actions[0].court) == (opened.id, COURT)
    await court.apply_confirmation(b, cid, None)
    order = await court.apply_payment_order(a, cid, None, PaymentOrderDeclarations(True, True, True))
    view = await cases.view(clerk, cid)
    assert [(x.action, x.role, x.court, x.application_id, x.application_kind) for x in view.next_actions] == [
        ("accept_application", "court_clerk", COURT, opened.id, "judicial_confirmation"),
        ("accept_application", "court_clerk", COURT, order.id, "payment_order")]
    assert view.next_actions[0].due_at == clock.now() + timedelta(days=3)
    assert view.next_actions[1].due_at == clock.now() + timedelta(days=5)  # CPL art. 226
    await court.decide_acceptance(clerk, opened.id, True)
    view = await cases.view(judge, cid)
    assert [(x.action, x.role, x.application_id) for x in view.next_actions] == [
        ("rule", "judge", opened.id), ("accept_application", "court_clerk", order.id)]
    assert view.next_actions[0].due_at == clock.now() + timedelta(days=15)

    # The confirmation ruled: the case is closed and nobody has anything left to do.
    await court.rule(judge, opened.id, True, "")
    assert (await cases.view(a, cid)).next_actions == []


async def test_a_failed_mediation_leaves_only_the_ratings(services: MediationServices, sms: MemorySms) -> None:
    admin = (await services.accounts.bootstrap_admin("root", "Root", PASSWORD)).as_actor()
    alice = await register_party(services, sms, "alice", 1)
    bob = await register_party(services, sms, "bob", 2)
    mediator = await make_staff(services, admin, Role.MEDIATOR, "mediator1", organisation=ORG)
    cid = (await services.filing.apply(alice.actor, application(alice, bob))).id
    await services.filing.answer_consent(bob.actor, cid, True)
    await services.mediator_choice.choose_mediator(bob.actor, cid, mediator.id)
    await services.mediator_choice.answer_assignment(mediator, cid, True)
    await services.video.open_video(mediator, cid)
    await services.video.conclude_video(mediator, cid)
    view = await services.results.record_failure(mediator, cid, ["the amount is disputed"])
    assert [(x.action, x.side) for x in view.next_actions] == [("rate", "applicant"), ("rate", "respondent")]
    await services.evaluation.rate(alice.actor, cid, 3, "")
    view = await services.evaluation.rate(bob.actor, cid, 3, "")
    assert (view.step, view.status, view.next_actions) == ("court_docking", "closed", [])


# --- the rule on hand-made states ---------------------------------------------------------------

def settled(**changes: object) -> CaseState:
    fields: dict[str, object] = dict(
        step=Step.COURT_DOCKING, status="open", outcome=str(Outcome.SETTLED), mediator_id="a_m", organisation=ORG,
        parties={"applicant": PartyState("applicant", "a_1", "given"),
                 "respondent": PartyState("respondent", None, "given")},
        now=START + timedelta(days=10), effective_at=START)
    fields.update(changes)
    return CaseState(**fields)  # type: ignore[arg-type]


def test_a_respondent_without_an_account_is_named_by_side_alone() -> None:
    state = settled(step=Step.START, outcome=None, parties={
        "applicant": PartyState("applicant", "a_1", "given"), "respondent": PartyState("respondent", None, "pending")})
    assert decide(state) == [NextAction("consent", "party", "respondent", None)]


def test_a_court_delegated_case_waits_for_both_parties_consent() -> None:
    state = settled(step=Step.START, outcome=None, parties={
        "applicant": PartyState("applicant", None, "pending"), "respondent": PartyState("respondent", None, "pending")})
    assert [(x.action, x.side) for x in decide(state)] == [("consent", "applicant"), ("consent", "respondent")]


def test_the_thirty_days_to_apply_close() -> None:
    assert [x.action for x in decide(settled())] == ["apply_confirmation", "apply_confirmation"]
    assert decide(settled(now=START + timedelta(days=30, seconds=1))) == []


def test_after_a_refusal_the_parties_may_apply_again() -> None:
    refused = ApplicationState("J-1", "judicial_confirmation", "refused", COURT, ("applicant", "respondent"))
    assert [x.action for x in decide(settled(applications=(refused,)))] == ["apply_confirmation"] * 2


def test_a_payment_order_runs_beside_the_confirmation() -> None:
    confirmation = ApplicationState("J-1", "judicial_confirmation", "awaiting_joint", COURT, ("respondent",))
    order = ApplicationState("P-1", "payment_order", "accepted", COURT, ("applicant",))
    due = START + timedelta(days=12)
    got = decide(settled(applications=(confirmation, order), deadlines={"court:rule:P-1": due}))
    assert [(x.action, x.role, x.side, x.application_id) for x in got] == [
        ("join_application", "party", "applicant", "J-1"), ("rule", "judge", None, "P-1")]
    assert (got[1].due_at, got[1].overdue) == (due, False)


def test_signer_progress_names_the_next_signer_or_the_seal() -> None:
    seal = NextAction("seal", "org_admin", organisation=ORG)
    state = settled(step=Step.RESULT, outcome=None, result_kind="agreement", agreement_status="drafted",
                    signers=(seal,))
    assert decide(state) == [seal]
    unknown = settled(step=Step.RESULT, outcome=None, result_kind="agreement", agreement_status="drafted")
    assert [(x.action, x.role) for x in decide(unknown)] == [("sign", SIGNERS)]  # no progress given: the signers


def test_after_the_parties_the_mediator_and_the_seal_stay_on_the_list() -> None:
    """In effect from the last party signature; the mediator's signature and the seal may follow
    while the parties rate and go to court (a lock of a new draft cannot be pending then)."""
    mediator_signs = NextAction("sign", "mediator", account_id="a_m")
    lock = NextAction("lock_agreement", "mediator", account_id="a_m")
    rating = settled(step=Step.EVALUATION, result_kind="agreement", agreement_status="effective",
                     signers=(mediator_signs,))
    assert [(x.action, x.role) for x in decide(rating)] == [("rate", "party"), ("rate", "party"), ("sign", "mediator")]
    assert [x.action for x in decide(settled(signers=(lock,)))] == ["apply_confirmation"] * 2
    assert decide(settled(signers=(mediator_signs,)))[-1] == mediator_signs


def test_a_closed_case_needs_nobody() -> None:
    assert decide(settled(status="closed")) == []
    assert decide(settled(outcome=str(Outcome.REFUSED))) == []


def test_due_dates_past_now_are_overdue() -> None:
    state = settled(step=Step.COUNSELLING, outcome=None, deadlines={"step:counselling": START + timedelta(days=1)})
    (action,) = decide(state)
    assert (action.action, action.account_id, action.overdue) == ("open_video", "a_m", True)
