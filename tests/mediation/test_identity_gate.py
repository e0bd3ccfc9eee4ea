"""The identity gate over checks stored in the database: what allows a signature and what not."""

from __future__ import annotations

import datetime as dt

import pytest

from identity.checks import MAX_FAILURES, CheckOutcome, IdentityPolicy, StoredIdentityGate
from identity.gate import GateSubject, IdentityCheck, IdentityCheckRejected, reference_attestations, reference_time
from mediation.audit import read_trail
from mediation.clock import ManualClock
from mediation.errors import Throttled
from mediation.identity_models import IdentityCheckRow
from mediation.services import MediationServices

from .doubles import MemorySms
from .identity_helpers import TwoCases, two_cases

AGREEMENT = "ag_0123456789abcdef"


@pytest.fixture
async def cases(services: MediationServices, sms: MemorySms) -> TwoCases:
    return await two_cases(services, sms)


def _gate(services: MediationServices, clock: ManualClock, policy: str = "face") -> StoredIdentityGate:
    return StoredIdentityGate(services.db, clock, IdentityPolicy.parse(policy))


def _subject(cases: TwoCases, *, case_id: str | None = None, participant: str | None = None) -> GateSubject:
    return GateSubject(AGREEMENT, case_id or cases.case_id, "party:applicant", participant or cases.alice.actor.id)


def _outcome(subject: GateSubject, at: dt.datetime, *, method: str = "face", passed: bool = True,
             attestation: str | None = "ab" * 32) -> CheckOutcome:
    return CheckOutcome(subject=subject, method=method, passed=passed, checked_at=at, recorded_by="identity",
                        reason=None if passed else "no_match", score=0.71 if passed else 0.12, threshold=0.36,
                        frames_sha256="cd" * 32, attestation_sha256=attestation)


async def test_a_fresh_pass_allows_and_is_cited_by_its_attestation(services: MediationServices, clock: ManualClock,
                                                                   cases: TwoCases) -> None:
    gate = _gate(services, clock)
    subject = _subject(cases)
    assert await gate.check(subject) is None  # no check at all
    await gate.record(_outcome(subject, clock.now() - dt.timedelta(seconds=5)))
    check = await gate.check(subject)
    assert check is not None and check.method == "face" and check.score == pytest.approx(0.71)
    assert reference_attestations(check.reference()) == ["ab" * 32]
    assert reference_time(check.reference()) == (clock.now() - dt.timedelta(seconds=5)).replace(microsecond=0)
    clock.advance(dt.timedelta(minutes=6))  # outside the window
    assert await gate.check(subject) is None


async def test_every_method_of_the_policy_is_required(services: MediationServices, clock: ManualClock,
                                                     cases: TwoCases) -> None:
    gate = _gate(services, clock, "face+otp")
    subject = _subject(cases)
    await gate.record(_outcome(subject, clock.now()))
    assert await gate.check(subject) is None
    assert (await gate.status(subject)).passed == ("face",)
    clock.advance(dt.timedelta(seconds=20))
    await gate.record(_outcome(subject, clock.now(), method="otp", attestation="ef" * 32))
    check = await gate.check(subject)
    # Every check that allowed the signature is cited, in the policy's order.
    assert check is not None and check.method == "face+otp"
    assert [(a.method, a.sha256) for a in check.attestations] == [("face", "ab" * 32), ("otp", "ef" * 32)]
    assert reference_attestations(check.reference()) == ["ab" * 32, "ef" * 32]


async def test_a_newer_failure_voids_an_older_pass(services: MediationServices, clock: ManualClock,
                                                   cases: TwoCases) -> None:
    gate = _gate(services, clock, "face+otp")
    subject = _subject(cases)
    await gate.record(_outcome(subject, clock.now()))
    await gate.record(_outcome(subject, clock.now(), method="otp"))
    assert await gate.check(subject) is not None
    clock.advance(dt.timedelta(seconds=10))
    await gate.record(_outcome(subject, clock.now(), method="face", passed=False))
    assert await gate.check(subject) is None
    status = await gate.status(subject)
    assert status.passed == () and status.last_failure == "no_match" and status.failures_left == MAX_FAILURES - 1


async def test_another_participants_or_another_cases_check_does_not_count(services: MediationServices,
                                                                         clock: ManualClock, cases: TwoCases) -> None:
    gate = _gate(services, clock)
    await gate.record(_outcome(_subject(cases, participant=cases.bob.actor.id), clock.now()))
    await gate.record(_outcome(_subject(cases, case_id=cases.other_case_id), clock.now()))
    assert await gate.check(_subject(cases)) is None
    assert await gate.check(_subject(cases, participant=cases.bob.actor.id)) is not None


async def test_checks_dated_in_the_future_or_too_old_are_refused_and_never_count(
        services: MediationServices, clock: ManualClock, cases: TwoCases) -> None:
    gate = _gate(services, clock)
    subject = _subject(cases)
    with pytest.raises(IdentityCheckRejected) as future:
        await gate.record(_outcome(subject, clock.now() + dt.timedelta(minutes=1)))
    assert future.value.code == "checked_at_in_future"
    with pytest.raises(IdentityCheckRejected) as old:
        await gate.record(_outcome(subject, clock.now() - dt.timedelta(minutes=6)))
    assert old.value.code == "checked_at_too_old"
    async with services.db.begin() as s:  # a row dated in the future, however it got there
        s.add(IdentityCheckRow(case_id=subject.case_id, agreement_id=AGREEMENT, signer_key=subject.signer_key,
                               participant_id=subject.participant_id, method="face", passed=True, details={},
                               checked_at=clock.now() + dt.timedelta(minutes=1), recorded_by="forger"))
    assert await gate.check(subject) is None
    with pytest.raises(ValueError, match="timezone"):
        IdentityCheck("k", "face", dt.datetime.now(), 0.9)


async def test_simulated_checks_count_only_on_a_simulating_gate(services: MediationServices, clock: ManualClock,
                                                               cases: TwoCases) -> None:
    subject = _subject(cases)
    with pytest.raises(IdentityCheckRejected) as refused:
        await _gate(services, clock).record(_outcome(subject, clock.now(), method="test"))
    assert refused.value.code == "simulation_disabled"
    simulating = StoredIdentityGate(services.db, clock, IdentityPolicy.parse("face+liveness+otp"), simulation=True)
    await simulating.record(_outcome(subject, clock.now(), method="test", attestation=None))
    check = await simulating.check(subject)
    assert check is not None and check.method == "test"


async def test_failed_attempts_are_limited_per_slot_and_audited(services: MediationServices, clock: ManualClock,
                                                                cases: TwoCases) -> None:
    gate = _gate(services, clock)
    subject = _subject(cases)
    for _ in range(MAX_FAILURES):
        await gate.ensure_attempts_left(subject)
        await gate.record(_outcome(subject, clock.now(), passed=False))
        clock.advance(dt.timedelta(seconds=30))
    with pytest.raises(Throttled) as exhausted:
        await gate.ensure_attempts_left(subject)
    assert exhausted.value.code == "identity_attempts_exhausted"
    assert 0 < exhausted.value.details["retry_after"] <= 15 * 60
    clock.advance(dt.timedelta(minutes=15))
    await gate.ensure_attempts_left(subject)
    trail = await read_trail(services.db, cases.case_id)
    failed = [e for e in trail if e.action == "identity.check_failed"]
    assert len(failed) == MAX_FAILURES and failed[0].payload["reason"] == "no_match"


def test_the_policy_names_known_methods_only() -> None:
    assert IdentityPolicy.parse("otp+face").label == "face+otp"
    assert IdentityPolicy.parse("face+liveness+otp").methods == ("face", "liveness", "otp")
    for bad in ("", "face+iris", "+"):
        with pytest.raises(ValueError):
            IdentityPolicy.parse(bad)
