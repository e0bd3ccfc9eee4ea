"""Who must act next on a case, and what: computed on the server from the case's state, so every
page (and every integrating system) says the same thing and no browser re-derives the workflow.

Each :class:`NextAction` names a stable action code, the role that acts (with the side, the
account or the court where known), the application it concerns at the court step, and the time
limit that applies. :func:`decide` is the rule itself, over a plain :class:`CaseState`;
:func:`for_case` reads that state from the database.

Signing is the one step whose order lives outside the case tables: while an agreement waits
for signatures the case says ``sign`` for ``signers`` (the agreement's signers, in the legal
order) unless the caller passes a :class:`SignerProgress` (the agreement store) that names the
mediator who still has to lock the text, the next signer or the seal. The mediator's signature
and the seal come after the parties' (the agreement is in effect by then), so they stay on the
list while the parties rate and go to court.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .accounts import Role
from .models import Account, CaseResult, CourtApplication, Deadline, MediatorChoice, Rating
from .workflow import JC_APPLICATION_WINDOW, JUDICIAL_CONFIRMATION, Outcome, Step

if TYPE_CHECKING:  # cases.py builds its view with this module
    from .cases import CaseContext

#: The role of a ``sign`` action when the next signer is not known here: the agreement's signers.
SIGNERS = "signers"


class Action:
    """The stable action codes (pages translate them; integrations may switch on them)."""

    CONSENT = "consent"
    CHOOSE_MEDIATOR = "choose_mediator"
    ACCEPT_ASSIGNMENT = "accept_assignment"
    OPEN_VIDEO = "open_video"
    CONCLUDE_VIDEO = "conclude_video"
    RECORD_RESULT = "record_result"
    LOCK_AGREEMENT = "lock_agreement"
    SIGN = "sign"
    SEAL = "seal"
    RATE = "rate"
    APPLY_CONFIRMATION = "apply_confirmation"
    JOIN_APPLICATION = "join_application"
    ACCEPT_APPLICATION = "accept_application"
    RULE = "rule"


@dataclass(frozen=True)
class NextAction:
    action: str
    role: str  # party | agent | mediator | org_admin | court_clerk | judge | signers
    side: str | None = None
    account_id: str | None = None
    court: str | None = None
    organisation: str | None = None
    application_id: str | None = None
    application_kind: str | None = None
    due_at: datetime | None = None
    overdue: bool = False


@dataclass(frozen=True)
class PartyState:
    side: str
    account_id: str | None  # the account, or the one account with the party's phone before they acted
    consent: str


@dataclass(frozen=True)
class ApplicationState:
    id: str
    kind: str
    status: str
    court: str
    joined_sides: tuple[str, ...]


@dataclass(frozen=True)
class CaseState:
    """What :func:`decide` needs to know about a case, and nothing else."""

    step: Step
    status: str
    outcome: str | None
    mediator_id: str | None
    organisation: str | None
    parties: dict[str, PartyState]
    now: datetime
    proposed_mediator: str | None = None
    result_kind: str | None = None
    agreement_status: str | None = None
    effective_at: datetime | None = None
    rated_sides: frozenset[str] = frozenset()
    applications: tuple[ApplicationState, ...] = ()
    deadlines: dict[str, datetime] = field(default_factory=dict)  # open deadlines: kind -> due
    signers: tuple[NextAction, ...] | None = None  # from a SignerProgress; None: not known here


class SignerProgress(Protocol):
    """Whoever keeps an agreement's signer slots says who acts on it next: the mediator locking
    the draft (``lock_agreement``), the next signer (``sign``, with the slot's participant) or the
    organisation (``seal``); nobody once it is complete. Time limits are the case's to add."""

    async def next_signers(self, s: AsyncSession, case_id: str, agreement_id: str) -> list[NextAction]: ...


def _act(state: CaseState, action: str, role: str, due_at: datetime | None, **who: str | None) -> NextAction:
    return NextAction(action, role, due_at=due_at, overdue=due_at is not None and due_at <= state.now, **who)


def _for_sides(state: CaseState, action: str, sides: list[str], due_at: datetime | None,
               **about: str | None) -> list[NextAction]:
    return [_act(state, action, str(Role.PARTY), due_at, side=side, account_id=state.parties[side].account_id, **about)
            for side in sides]


def _court_step(state: CaseState) -> list[NextAction]:
    if state.outcome != Outcome.SETTLED:
        return []  # refused or failed: the litigation package is issued and the case closed
    actions: list[NextAction] = []
    # The confirmation (the parties' main route) first, then payment orders, each in filing order.
    live = sorted((a for a in state.applications if a.status != "refused"), key=lambda a: a.kind != JUDICIAL_CONFIRMATION)
    confirmation = next((a for a in live if a.kind == JUDICIAL_CONFIRMATION), None)
    window_end = state.effective_at + JC_APPLICATION_WINDOW if state.effective_at is not None else None
    if confirmation is None and window_end is not None and state.now <= window_end:
        actions += _for_sides(state, Action.APPLY_CONFIRMATION, sorted(state.parties), window_end)
    elif confirmation is not None and confirmation.status == "awaiting_joint":
        missing = [side for side in sorted(state.parties) if side not in confirmation.joined_sides]
        actions += _for_sides(state, Action.JOIN_APPLICATION, missing, window_end, court=confirmation.court,
                              application_id=confirmation.id, application_kind=confirmation.kind)
    for app in live:
        about = {"court": app.court, "application_id": app.id, "application_kind": app.kind}
        if app.status == "filed":
            actions.append(_act(state, Action.ACCEPT_APPLICATION, str(Role.COURT_CLERK),
                                state.deadlines.get(f"court:accept:{app.id}"), **about))
        elif app.status == "accepted":
            actions.append(_act(state, Action.RULE, str(Role.JUDGE), state.deadlines.get(f"court:rule:{app.id}"),
                                **about))
    return actions


def decide(state: CaseState) -> list[NextAction]:
    """Who must act now on a case in ``state``, and what; empty when nobody has to (e.g. closed)."""
    if state.status == "closed":
        return []
    step_due = state.deadlines.get(f"step:{state.step}")
    sides = sorted(state.parties)

    def by_mediator(action: str) -> list[NextAction]:
        return [_act(state, action, str(Role.MEDIATOR), step_due, account_id=state.mediator_id,
                     organisation=state.organisation)]

    if state.step == Step.START:
        return _for_sides(state, Action.CONSENT, [s for s in sides if state.parties[s].consent == "pending"], step_due)
    if state.step == Step.CHOOSE_MEDIATOR:
        if state.proposed_mediator is not None:
            return [_act(state, Action.ACCEPT_ASSIGNMENT, str(Role.MEDIATOR), step_due,
                         account_id=state.proposed_mediator)]
        return _for_sides(state, Action.CHOOSE_MEDIATOR, sides, step_due)
    if state.step == Step.COUNSELLING:
        return by_mediator(Action.OPEN_VIDEO)
    if state.step == Step.VIDEO_MEDIATION:
        return by_mediator(Action.CONCLUDE_VIDEO)
    if state.step == Step.RESULT:
        if state.result_kind is None:
            return by_mediator(Action.RECORD_RESULT)
        if state.result_kind == "agreement" and state.agreement_status != "effective":
            if state.signers is not None:
                return [replace(a, due_at=step_due, overdue=step_due is not None and step_due <= state.now)
                        for a in state.signers]
            return [_act(state, Action.SIGN, SIGNERS, step_due, organisation=state.organisation)]
        return []
    # In effect: the mediator's signature and the seal may still be missing.
    after_parties = [a for a in state.signers or () if a.action in (Action.SIGN, Action.SEAL)]
    if state.step == Step.EVALUATION:
        return _for_sides(state, Action.RATE, [s for s in sides if s not in state.rated_sides], step_due) \
            + after_parties
    return _court_step(state) + after_parties


async def _party_accounts(s: AsyncSession, ctx: CaseContext) -> dict[str, str | None]:
    """Each side's account; before a party first acts, the single party account with their phone."""
    unknown = {p.phone: side for side, p in ctx.parties.items() if p.account_id is None}
    found: dict[str, list[str]] = {}
    if unknown:
        rows = (await s.execute(select(Account.id, Account.phone).where(
            Account.role == str(Role.PARTY), Account.phone.in_(list(unknown)), Account.disabled_at.is_(None)))).all()
        for account_id, phone in rows:
            found.setdefault(unknown[phone], []).append(account_id)
    return {side: p.account_id if p.account_id is not None else
            (found[side][0] if len(found.get(side, [])) == 1 else None) for side, p in ctx.parties.items()}


async def for_case(s: AsyncSession, ctx: CaseContext, result: CaseResult | None, now: datetime,
                   signing: SignerProgress | None = None) -> list[NextAction]:
    """Read what :func:`decide` needs for the case in ``ctx`` (a few small queries) and decide."""
    case = ctx.case
    step = Step(case.step)
    if case.status == "closed":
        return []
    accounts = await _party_accounts(s, ctx)
    deadlines = {d.kind: d.due_at for d in (await s.scalars(select(Deadline).where(
        Deadline.case_id == case.id, Deadline.completed_at.is_(None)).order_by(Deadline.id))).all()}
    proposed = None
    if step == Step.CHOOSE_MEDIATOR:
        proposed = await s.scalar(select(MediatorChoice.mediator_id).where(
            MediatorChoice.case_id == case.id, MediatorChoice.status == "proposed"))
    rated: frozenset[str] = frozenset()
    if step == Step.EVALUATION:
        rated = frozenset((await s.scalars(select(Rating.side).where(Rating.case_id == case.id))).all())
    applications: tuple[ApplicationState, ...] = ()
    if step == Step.COURT_DOCKING:
        rows = (await s.scalars(select(CourtApplication).where(CourtApplication.case_id == case.id)
                                .order_by(CourtApplication.created_at, CourtApplication.id))).all()
        applications = tuple(ApplicationState(a.id, a.kind, a.status, a.court, tuple(a.joined_sides)) for a in rows)
    signers = None
    if signing is not None and step in (Step.RESULT, Step.EVALUATION, Step.COURT_DOCKING) and result is not None \
            and result.kind == "agreement" and result.agreement_id is not None:
        signers = tuple(await signing.next_signers(s, case.id, result.agreement_id))
    return decide(CaseState(
        step=step, status=case.status, outcome=case.outcome, mediator_id=case.mediator_id,
        organisation=case.organisation,
        parties={side: PartyState(side, accounts[side], p.consent) for side, p in ctx.parties.items()},
        now=now, proposed_mediator=proposed, result_kind=result.kind if result else None,
        agreement_status=result.agreement_status if result else None,
        effective_at=result.effective_at if result else None, rated_sides=rated, applications=applications,
        deadlines=deadlines, signers=signers))
