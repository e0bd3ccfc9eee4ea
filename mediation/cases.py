"""A case and what every step shares: how an actor stands to it, its audit trail, moving it to
a step, its events, and reading it (the case view and case lists). The steps themselves live in
their own modules: ``case_filing.py`` (1), ``mediator_choice.py`` (2), ``counselling.py`` (3),
``case_video.py`` (4), ``case_results.py`` (5), ``case_evaluation.py`` (6), with
``case_documents.py`` and ``litigation.py`` beside them.

Every step's method takes the acting :class:`Actor`, checks that the actor is related to the case (a
stranger gets :class:`NotFound`, so case ids leak nothing), checks the step, and then makes the
change, its audit entry and its deadline bookkeeping in one transaction. Court docking (step 7)
lives in ``court.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from signing.agreement_versions import VersionStatus

from . import audit
from .accounts import SERVICE_ROLE, Actor, Role
from .agreement_store import AgreementInfo, SqlAgreementStore
from .case_documents import DocumentView, readable_documents
from .clock import Clock
from .directory_models import Organisation
from .deadlines import DeadlineView, Responsible, complete_deadlines, deadlines_of, open_deadline
from .errors import Forbidden, InvalidInput, NotFound
from .events import CaseEvents
from .files import FileStore
from .next_actions import NextAction, for_case as who_acts_next
from .models import Account, AgentLink, Case, CaseParty, CaseResult, MediatorChoice
from .pii import PiiCipher, mask_id_number
from .rooms import RoomScheduler
from .sms import SmsGateway
from .text import is_identifier
from .workflow import Step, WorkflowPolicy, check_transition


def other_side(side: str) -> str:
    return "respondent" if side == "applicant" else "applicant"


@dataclass(frozen=True)
class PartyDetails:
    """A party as an application names it. ``id_number`` is a person's resident ID number (``None``:
    the applicant does not know it; the respondent's own account supplies it when they answer) or a
    company's unified social credit code; a company also names its legal ``representative``."""

    name: str
    phone: str
    id_number: str | None
    address: str
    kind: str = "person"
    representative: str | None = None


@dataclass(frozen=True)
class Application:
    dispute_type: str
    claims: str
    facts: str
    applicant: PartyDetails | None  # ``None``: the applicant applying online is who their account says
    respondent: PartyDetails
    amount_fen: int | None = None
    court: str | None = None
    on_behalf_of: str | None = None  # an agent applying names the party account they represent
    applicant_address: str = ""  # where the applicant lives, when their details come from their account


@dataclass(frozen=True)
class PaymentTerms:
    """The monetary obligation in an agreement, as the court's payment-order checks need it."""

    debtor_side: str
    amount_fen: int
    due_date: str  # ISO date
    money_only: bool
    counter_obligation: bool


@dataclass(frozen=True)
class Relation:
    """How the actor stands to a case; an actor with no relation does not see the case at all."""

    sides: frozenset[str] = frozenset()
    mediator: bool = False
    candidate_mediator: bool = False
    organisation: bool = False
    court: bool = False
    oversight: bool = False  # platform administrators and integrating systems

    @property
    def any(self) -> bool:
        return bool(self.sides) or self.mediator or self.candidate_mediator or self.organisation or self.court \
            or self.oversight


@dataclass
class CaseContext:
    case: Case
    parties: dict[str, CaseParty]
    relation: Relation


@dataclass(frozen=True)
class PartyView:
    side: str
    name: str
    id_number: str | None  # masked; ``None`` while the number is unknown
    consent: str
    registered: bool
    kind: str = "person"  # "person" | "company"
    representative: str | None = None


@dataclass(frozen=True)
class ResultView:
    kind: str
    agreement_id: str | None
    agreement_status: str | None
    effective_at: datetime | None
    failure_reasons: list[str] | None
    payment_terms: dict[str, Any] | None
    #: The signed and sealed agreement to open, once it is complete (for those who may read it).
    agreement_pdf_url: str | None = None


@dataclass(frozen=True)
class CaseView:
    id: str
    case_number: str | None
    origin: str
    court: str | None
    dispute_type: str
    claims: str
    amount_fen: int | None
    facts: str
    step: str
    step_number: int
    status: str
    outcome: str | None
    mediator_id: str | None
    organisation: str | None
    room_id: str | None
    created_at: datetime
    parties: list[PartyView]
    your_sides: list[str]
    deadlines: list[DeadlineView]
    result: ResultView | None
    documents: list[DocumentView] = field(default_factory=list)  # those the reader may open
    next_actions: list[NextAction] = field(default_factory=list)  # who must act now, and what


@dataclass(frozen=True)
class CaseSummary:
    """A line of a case list; the full :class:`CaseView` is one request away."""

    id: str
    case_number: str | None
    dispute_type: str
    step: str
    step_number: int
    status: str
    outcome: str | None
    created_at: datetime
    updated_at: datetime
    parties: dict[str, str]  # side -> name
    your_sides: list[str]


class CaseService:
    """What every step shares: who stands how to a case, loading it for an actor, its audit
    trail, moving it to a step, its events, and reading it (the case view and case lists)."""

    def __init__(self, db: async_sessionmaker[AsyncSession], clock: Clock, events: CaseEvents, cipher: PiiCipher,
                 files: FileStore, rooms: RoomScheduler | None, sms: SmsGateway, agreements: SqlAgreementStore,
                 policy: WorkflowPolicy | None = None):
        self.db = db
        self.agreements = agreements
        self.sms = sms
        self.clock = clock
        self.events = events
        self.cipher = cipher
        self.files = files
        self.rooms = rooms
        self.policy = policy or WorkflowPolicy()

    async def relation(self, s: AsyncSession, actor: Actor, case: Case, parties: dict[str, CaseParty]) -> Relation:
        if actor.role in (Role.PLATFORM_ADMIN, SERVICE_ROLE):
            return Relation(oversight=True)
        if actor.role == Role.PARTY:
            return Relation(sides=frozenset(side for side, p in parties.items() if self._is_party(actor, p)))
        if actor.role == Role.AGENT:
            represented = await self.represented(s, actor)
            return Relation(sides=frozenset(side for side, p in parties.items()
                                            if self.represents(represented, p) is not None))
        if actor.role == Role.MEDIATOR:
            if case.mediator_id == actor.id:
                return Relation(mediator=True)
            pending = await s.scalar(select(MediatorChoice.id).where(
                MediatorChoice.case_id == case.id, MediatorChoice.mediator_id == actor.id,
                MediatorChoice.status == "proposed"))
            return Relation(candidate_mediator=pending is not None)
        if actor.role == Role.ORG_ADMIN:
            return Relation(organisation=case.organisation is not None and case.organisation == actor.organisation)
        if actor.role in (Role.COURT_CLERK, Role.JUDGE):
            return Relation(court=case.court is not None and case.court == actor.court)
        return Relation()

    async def may_manage_agreement(self, actor: Actor, agreement: AgreementInfo) -> bool:
        """Row-level access for drafters, following the agreement's case: the case's mediator, the
        administrators of the organisation the agreement names (by directory id; by the case's
        organisation when it is not in the directory), platform administrators and integrating
        systems. An agreement imported without a case stays with whoever created it."""
        if actor.role in (Role.PLATFORM_ADMIN, SERVICE_ROLE):
            return True
        async with self.db() as s:
            case = await s.get(Case, agreement.case_id) if agreement.case_id else None
            if actor.role == Role.MEDIATOR:
                return case.mediator_id == actor.id if case is not None else agreement.created_by == actor.id
            if actor.role != Role.ORG_ADMIN or not actor.organisation:
                return False
            if agreement.organisation_id is not None:
                own = await s.scalar(select(Organisation.id).where(Organisation.name == actor.organisation))
                return own == agreement.organisation_id
            return case is not None and case.organisation == actor.organisation

    @staticmethod
    async def represented(s: AsyncSession, agent: Actor) -> dict[str, str | None]:
        """The party accounts (id -> phone) that gave this agent a power of attorney."""
        rows = (await s.execute(select(Account.id, Account.phone).join(AgentLink, AgentLink.party_id == Account.id)
                                .where(AgentLink.agent_id == agent.id, AgentLink.revoked_at.is_(None)))).all()
        return {account_id: phone for account_id, phone in rows}

    @staticmethod
    def represents(represented: dict[str, str | None], party: CaseParty) -> str | None:
        """The represented account that is this case party (by account, or by phone before they acted)."""
        if party.account_id is not None:
            return party.account_id if party.account_id in represented else None
        return next((a for a, phone in represented.items() if phone == party.phone), None)

    @staticmethod
    def _is_party(actor: Actor, party: CaseParty) -> bool:
        """A party is on a case by account, or, before they first act on it, by their verified phone."""
        if party.account_id is not None:
            return party.account_id == actor.id
        return actor.phone is not None and party.phone == actor.phone

    async def load_context(self, s: AsyncSession, actor: Actor, case_id: str, *, lock: bool = False) -> CaseContext:
        query = select(Case).where(Case.id == case_id)
        case = await s.scalar(query.with_for_update() if lock else query) if is_identifier(case_id) else None
        if case is None:
            raise NotFound("case_not_found", f"no case {case_id} that you can see")
        parties = {p.side: p for p in (await s.scalars(select(CaseParty).where(CaseParty.case_id == case_id))).all()}
        relation = await self.relation(s, actor, case, parties)
        if not relation.any:
            raise NotFound("case_not_found", f"no case {case_id} that you can see")
        return CaseContext(case, parties, relation)

    @staticmethod
    def acting_side(ctx: CaseContext, side: str | None = None) -> str:
        """The side a party or agent acts for; ``side`` picks one when an agent represents both."""
        if not ctx.relation.sides:
            raise Forbidden("not_a_party", "only the parties (or their agents) do this")
        if side is None:
            if len(ctx.relation.sides) > 1:
                raise InvalidInput("side_required", "you act for both sides: say which")
            return next(iter(ctx.relation.sides))
        if side not in ctx.relation.sides:
            raise Forbidden("not_your_side", f"you do not act for the {side}")
        return side

    @staticmethod
    def require_mediator(ctx: CaseContext) -> None:
        if not ctx.relation.mediator:
            raise Forbidden("not_the_mediator", "only the case's mediator does this")

    def record(self, s: AsyncSession, ctx: CaseContext, actor: Actor, action: str, payload: dict[str, Any],
                now: datetime) -> None:
        ctx.case.updated_at = now
        audit.append(s, ctx.case, actor.id, action, payload, now)

    async def enter_step(self, s: AsyncSession, ctx: CaseContext, step: Step, now: datetime) -> None:
        check_transition(Step(ctx.case.step), step)
        await complete_deadlines(s, ctx.case.id, "step:", now)
        ctx.case.step = str(step)
        policy = self.policy.for_step(step)
        open_deadline(s, ctx.case.id, f"step:{step}", policy.standard, now, now + policy.limit,
                      await self.responsible(s, ctx, policy.responsible))

    async def responsible(self, s: AsyncSession, ctx: CaseContext, who: str) -> Responsible:
        if who == "mediator":
            return Responsible(account_ids=(ctx.case.mediator_id,) if ctx.case.mediator_id else ())
        if who == "respondent":
            # Consent is owed by whoever has not answered; before answering they are known by phone.
            pending = [p for p in ctx.parties.values() if p.consent == "pending"]
            ids = set((await s.scalars(select(Account.id).where(
                Account.role == str(Role.PARTY), Account.phone.in_([p.phone for p in pending])))).all())
            court_follow_up = ctx.case.origin == "court_delegation"
            return Responsible(account_ids=tuple(sorted(ids)), role=str(Role.COURT_CLERK) if court_follow_up else None,
                               court=ctx.case.court if court_follow_up else None)
        return Responsible(account_ids=tuple(p.account_id for p in ctx.parties.values() if p.account_id))

    async def publish(self, case_id: str, kind: str, **data: Any) -> None:
        await self.events.publish(case_id, {"kind": kind, "at": self.clock.now().isoformat(), **data})

    def party_id_number(self, party: CaseParty) -> str | None:
        """The party's ID number or credit code in clear, ``None`` while unknown."""
        if party.id_number_enc is None:
            return None
        return self.cipher.decrypt(party.id_number_enc, context="party.id_number")

    def masked_id_number(self, party: CaseParty) -> str | None:
        """What others may see of it (:func:`mask_id_number`), ``None`` while unknown."""
        number = self.party_id_number(party)
        return None if number is None else mask_id_number(number)

    def party_material(self, p: CaseParty) -> dict[str, Any]:
        return {"side": p.side, "kind": p.kind, "name": p.name, "representative": p.representative,
                "id_number": self.masked_id_number(p), "address": p.address, "phone": p.phone}

    @staticmethod
    def reads_final_agreement(relation: Relation) -> bool:
        """Who opens the finished agreement from the case: its parties (and agents), its mediator,
        its organisation, the court it went to, platform administrators and integrating systems."""
        return bool(relation.sides) or relation.mediator or relation.organisation or relation.court \
            or relation.oversight

    async def ensure_access(self, actor: Actor, case_id: str) -> None:
        """Raise exactly as :meth:`view` would for someone who may not read the case, without
        building the view (no decryption, no extra queries)."""
        async with self.db() as s:
            await self.load_context(s, actor, case_id)

    async def view(self, actor: Actor, case_id: str) -> CaseView:
        async with self.db() as s:
            ctx = await self.load_context(s, actor, case_id)
            return await self._view(s, ctx)

    async def _view(self, s: AsyncSession, ctx: CaseContext) -> CaseView:
        case = ctx.case
        result = await s.get(CaseResult, case.id)
        parties = [PartyView(p.side, p.name, self.masked_id_number(p), p.consent, p.account_id is not None, p.kind,
                             p.representative) for p in sorted(ctx.parties.values(), key=lambda p: p.side)]
        pdf_url = None
        if result is not None and result.agreement_id is not None and self.reads_final_agreement(ctx.relation) \
                and await self.agreements.current_status(s, result.agreement_id) is VersionStatus.COMPLETED:
            pdf_url = f"/api/cases/{case.id}/agreement.pdf"
        return CaseView(
            id=case.id, case_number=case.case_number, origin=case.origin, court=case.court,
            dispute_type=case.dispute_type, claims=case.claims, amount_fen=case.amount_fen, facts=case.facts,
            step=case.step, step_number=Step(case.step).number,
            status=case.status, outcome=case.outcome, mediator_id=case.mediator_id, organisation=case.organisation,
            room_id=case.room_id, created_at=case.created_at, parties=parties, your_sides=sorted(ctx.relation.sides),
            deadlines=await deadlines_of(s, case.id),
            result=ResultView(result.kind, result.agreement_id, result.agreement_status, result.effective_at,
                              result.failure_reasons, result.payment_terms, pdf_url) if result is not None else None,
            documents=[doc for doc, _ in await readable_documents(s, ctx)],
            next_actions=await who_acts_next(s, ctx, result, self.clock.now(), signing=self.agreements))

    async def list_cases(self, actor: Actor, limit: int = 100, offset: int = 0) -> list[CaseSummary]:
        """The cases the actor is related to, newest first, as summaries (three queries whatever the page size)."""
        async with self.db() as s:
            query = select(Case)
            represented: dict[str, str | None] = {}
            if actor.role == Role.AGENT:
                represented = await self.represented(s, actor)
            if actor.role == Role.PARTY:
                query = query.where(Case.id.in_(select(CaseParty.case_id).where(
                    (CaseParty.account_id == actor.id) | ((CaseParty.account_id.is_(None)) & (CaseParty.phone == actor.phone)))))
            elif actor.role == Role.AGENT:
                query = query.where(Case.id.in_(select(CaseParty.case_id).where(
                    CaseParty.account_id.in_(list(represented)) | (CaseParty.account_id.is_(None) & CaseParty.phone.in_(
                        [phone for phone in represented.values() if phone is not None])))))
            elif actor.role == Role.MEDIATOR:
                query = query.where((Case.mediator_id == actor.id) | Case.id.in_(select(MediatorChoice.case_id).where(
                    MediatorChoice.mediator_id == actor.id, MediatorChoice.status == "proposed")))
            elif actor.role == Role.ORG_ADMIN:
                query = query.where(Case.organisation == actor.organisation)
            elif actor.role in (Role.COURT_CLERK, Role.JUDGE):
                query = query.where(Case.court == actor.court)
            elif actor.role not in (Role.PLATFORM_ADMIN, SERVICE_ROLE):
                return []
            cases = (await s.scalars(query.order_by(Case.created_at.desc(), Case.id).limit(limit).offset(offset))).all()
            parties = (await s.scalars(select(CaseParty).where(CaseParty.case_id.in_([c.id for c in cases])))).all()
        by_case: dict[str, list[CaseParty]] = {}
        for party in parties:
            by_case.setdefault(party.case_id, []).append(party)

        def yours(party: CaseParty) -> bool:
            if actor.role == Role.AGENT:
                return self.represents(represented, party) is not None
            return actor.role == Role.PARTY and self._is_party(actor, party)

        return [CaseSummary(c.id, c.case_number, c.dispute_type, c.step, Step(c.step).number, c.status, c.outcome,
                            c.created_at, c.updated_at, {p.side: p.name for p in by_case.get(c.id, [])},
                            sorted(p.side for p in by_case.get(c.id, []) if yours(p)))
                for c in cases]


class CasePart:
    """A part of the case system beside :class:`CaseService` (a step, the documents, litigation):
    it works on cases through ``cases`` and shares its database, clock and other dependencies."""

    def __init__(self, cases: CaseService):
        self.cases = cases
        self.db, self.clock, self.cipher, self.policy = cases.db, cases.clock, cases.cipher, cases.policy
        self.rooms, self.sms, self.agreements = cases.rooms, cases.sms, cases.agreements
