"""Cases through steps 1-6: application or court delegation, the respondent's consent, choosing
the mediator, counselling, the video session, the result and the evaluation.

Every method takes the acting :class:`Actor`, checks that the actor is related to the case (a
stranger gets :class:`NotFound`, so case ids leak nothing), checks the step, and then makes the
change, its audit entry and its deadline bookkeeping in one transaction. Court docking (step 7)
lives in ``court.py``.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from signing.agreement import DisputeType, SignerRole
from signing.agreement_versions import VersionState, VersionStatus

from . import audit
from .accounts import SERVICE_ROLE, Actor, Role, normalise_phone
from .agreement_drafting import draft_from_case
from .agreement_store import AgreementInfo, SqlAgreementStore
from .case_numbers import assign_case_number
from .clock import Clock
from .directory_models import Organisation
from .deadlines import DeadlineView, Responsible, complete_deadlines, deadlines_of, open_deadline
from .errors import Forbidden, InvalidInput, MediationError, NotFound, WrongState
from .events import CaseEvents
from .files import FileStore, clean_file_name
from .id_numbers import validate_credit_code, validate_id_number
from .next_actions import NextAction, for_case as who_acts_next
from .models import (Account, AgentLink, Case, CaseDocument, CaseParty, CaseResult, Complaint, CounsellingMessage,
                     CourtApplication, LitigationPackage, MediatorChoice, Rating, StoredFile)
from .pii import PiiCipher, mask_id_number
from .rooms import CaseSeat, RoomInvitation, RoomScheduler
from .sms import SmsGateway
from .text import clean_text, is_identifier
from .workflow import JC_APPLICATION_WINDOW, Outcome, Step, WorkflowPolicy, check_transition, require_step

log = logging.getLogger(__name__)
SIDES = ("applicant", "respondent")
#: Who moves a case on when its agreement's last party signature is recorded (the audit actor).
SIGNING_ACTOR = Actor("signing", SERVICE_ROLE, "电子签名")
MAX_TEXT = 5000
MAX_SHORT = 200


def other_side(side: str) -> str:
    return "respondent" if side == "applicant" else "applicant"


PARTY_KINDS = ("person", "company")


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
class DocumentView:
    """A document of the case: evidence filed before a mediator was chosen, counselling material,
    or the power of attorney of an agent of one of the case's parties."""

    id: str  # the stored file's id
    name: str
    kind: str  # "evidence" | "counselling" | "power_of_attorney"
    side: str | None
    media_type: str  # as the uploader declared it; what a browser is sent is decided from the bytes
    size: int
    sha256: str
    added_at: datetime
    added_by: str  # the uploader's account
    added_by_name: str | None
    url: str  # opens the file


@dataclass(frozen=True)
class DocumentFile:
    """A document to send: where its bytes lie, and the type to show it as (``None``: download only)."""

    document: DocumentView
    path: Path
    inline_type: str | None


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


@dataclass(frozen=True)
class AssignmentAnswer:
    """A mediator's answer; after declining they no longer see the case, so no case view is returned."""

    case_id: str
    accepted: bool
    reason: str | None


@dataclass(frozen=True)
class MessageView:
    id: int
    side: str
    sender_role: str
    text: str
    sent_at: datetime


class CaseService:
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

    # --- access ---------------------------------------------------------------------------
    async def relation(self, s: AsyncSession, actor: Actor, case: Case, parties: dict[str, CaseParty]) -> Relation:
        if actor.role in (Role.PLATFORM_ADMIN, SERVICE_ROLE):
            return Relation(oversight=True)
        if actor.role == Role.PARTY:
            return Relation(sides=frozenset(side for side, p in parties.items() if self._is_party(actor, p)))
        if actor.role == Role.AGENT:
            represented = await self._represented(s, actor)
            return Relation(sides=frozenset(side for side, p in parties.items()
                                            if self._represents(represented, p) is not None))
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
    async def _represented(s: AsyncSession, agent: Actor) -> dict[str, str | None]:
        """The party accounts (id -> phone) that gave this agent a power of attorney."""
        rows = (await s.execute(select(Account.id, Account.phone).join(AgentLink, AgentLink.party_id == Account.id)
                                .where(AgentLink.agent_id == agent.id, AgentLink.revoked_at.is_(None)))).all()
        return {account_id: phone for account_id, phone in rows}

    @staticmethod
    def _represents(represented: dict[str, str | None], party: CaseParty) -> str | None:
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
    def _require_mediator(ctx: CaseContext) -> None:
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
                      await self._responsible(s, ctx, policy.responsible))

    async def _responsible(self, s: AsyncSession, ctx: CaseContext, who: str) -> Responsible:
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

    # --- step 1: start --------------------------------------------------------------------
    def _party_row(self, case_id: str, side: str, details: PartyDetails, account_id: str | None,
                   consent: str, now: datetime) -> CaseParty:
        if details.kind not in PARTY_KINDS:
            raise InvalidInput("invalid_party_kind", "a party is a person or a company", {"field": f"{side}.kind"})
        representative = None
        if details.kind == "company":
            if details.id_number is None:
                raise InvalidInput("missing_field", "a company is named by its unified social credit code",
                                   {"field": f"{side}.id_number"})
            number: str | None = self._checked(validate_credit_code, details.id_number, f"{side}.id_number")
            representative = clean_text(details.representative or "", f"{side}.representative", 100)
        elif details.id_number is None:
            if side != "respondent":
                raise InvalidInput("missing_field", "the applicant's ID number is required",
                                   {"field": f"{side}.id_number"})
            number = None
        else:
            number = self._checked(validate_id_number, details.id_number, f"{side}.id_number")
        return CaseParty(case_id=case_id, side=side, kind=details.kind, representative=representative,
                         name=clean_text(details.name, f"{side}.name", 100), phone=normalise_phone(details.phone),
                         id_number_enc=None if number is None else self.cipher.encrypt(number, context="party.id_number"),
                         address=clean_text(details.address, f"{side}.address", MAX_SHORT), account_id=account_id,
                         consent=consent, consent_at=now if consent == "given" else None)

    @staticmethod
    def _checked(validate: Callable[[str], str], raw: str, field_name: str) -> str:
        """``validate(raw)``, its refusal naming the form field it concerns."""
        try:
            return validate(raw)
        except InvalidInput as refused:
            refused.details.setdefault("field", field_name)
            raise

    def party_id_number(self, party: CaseParty) -> str | None:
        """The party's ID number or credit code in clear, ``None`` while unknown."""
        if party.id_number_enc is None:
            return None
        return self.cipher.decrypt(party.id_number_enc, context="party.id_number")

    def masked_id_number(self, party: CaseParty) -> str | None:
        """What others may see of it (:func:`mask_id_number`), ``None`` while unknown."""
        number = self.party_id_number(party)
        return None if number is None else mask_id_number(number)

    async def _create(self, actor: Actor, app: Application, origin: str, court: str | None,
                      applicant_account: str | None) -> CaseView:
        dispute_type = clean_text(app.dispute_type, "dispute_type", 40)
        try:
            dispute_type = str(DisputeType(dispute_type))  # old template values map onto the one vocabulary
        except ValueError:
            raise InvalidInput("invalid_dispute_type", f"unknown dispute type {dispute_type!r}; one of "
                                                       f"{', '.join(t.value for t in DisputeType)}") from None
        claims = clean_text(app.claims, "claims", MAX_TEXT)
        facts = clean_text(app.facts, "facts", MAX_TEXT)
        if app.amount_fen is not None and not 0 <= app.amount_fen <= 10**15:
            raise InvalidInput("invalid_amount", "the amount must be between 0 and 10^13 yuan")
        now = self.clock.now()
        case_id = "CASE-" + secrets.token_hex(5).upper()
        applicant_consent = "given" if origin == "application" else "pending"
        assert app.applicant is not None  # filled from the account for online applications
        applicant = self._party_row(case_id, "applicant", app.applicant, applicant_account, applicant_consent, now)
        respondent = self._party_row(case_id, "respondent", app.respondent, None, "pending", now)
        if applicant.phone == respondent.phone:
            raise InvalidInput("same_party", "the applicant and the respondent must be different people")
        async with self.db.begin() as s:
            case = Case(id=case_id, case_number=await assign_case_number(s, court, now), origin=origin, court=court,
                        dispute_type=dispute_type, claims=claims, amount_fen=app.amount_fen, facts=facts,
                        step=str(Step.START), status="open",
                        created_by=actor.id, created_at=now, updated_at=now, audit_seq=0, audit_head=audit.GENESIS)
            s.add(case)
            await s.flush()
            s.add_all([applicant, respondent])
            await s.flush()
            ctx = CaseContext(case, {"applicant": applicant, "respondent": respondent}, Relation(oversight=True))
            policy = self.policy.for_step(Step.START)
            open_deadline(s, case_id, f"step:{Step.START}", policy.standard, now, now + policy.limit,
                          await self._responsible(s, ctx, "respondent"))
            self.record(s, ctx, actor, "case.created", {
                "case_number": case.case_number, "origin": origin, "court": court, "dispute_type": dispute_type,
                "amount_fen": app.amount_fen, "applicant": applicant.name, "respondent": respondent.name}, now)
        await self.publish(case_id, "case.created", step=str(Step.START))
        await self._ask_for_consent(case_id, [p for p in (applicant, respondent) if p.consent == "pending"], now)
        return await self.view(actor, case_id)

    async def _ask_for_consent(self, case_id: str, parties: list[CaseParty], now: datetime) -> None:
        """Tell each party whose consent is needed (by text message: they may have no account yet).
        The case exists whatever happens to the message; a failed send is logged for follow-up."""
        due = (now + self.policy.for_step(Step.START).limit).date().isoformat()
        for party in parties:
            try:
                await self.sms.send(party.phone, f"Accord: you are named in mediation case {case_id}. Sign in with "
                                                 f"this phone to consent or refuse by {due}.")
            except Exception:
                log.exception("consent request not sent", extra={"case_id": case_id, "side": party.side})

    async def apply(self, actor: Actor, app: Application) -> CaseView:
        """A party (or an agent for a party) applies for mediation online."""
        if actor.role == Role.PARTY:
            account = actor.id
            if app.on_behalf_of not in (None, actor.id):
                raise Forbidden("forbidden", "a party applies for themselves")
        elif actor.role == Role.AGENT:
            if app.on_behalf_of is None or not is_identifier(app.on_behalf_of):
                raise InvalidInput("missing_field", "an agent names the party they apply for (on_behalf_of)")
            async with self.db() as s:
                link = await s.scalar(select(AgentLink.id).where(AgentLink.agent_id == actor.id,
                                                                AgentLink.party_id == app.on_behalf_of,
                                                                AgentLink.revoked_at.is_(None)))
            if link is None:
                raise Forbidden("no_power_of_attorney", "you hold no power of attorney from that party")
            account = app.on_behalf_of
        else:
            raise Forbidden("forbidden", "only parties and agents apply; courts delegate")
        async with self.db() as s:
            row = await s.get(Account, account)
        if row is None or row.id_number_enc is None or row.phone is None:
            raise InvalidInput("applicant_unregistered", "the applying account has no verified phone and ID number")
        address = app.applicant.address if app.applicant is not None else \
            clean_text(app.applicant_address, "applicant_address", MAX_SHORT)
        registered = PartyDetails(row.display_name, row.phone,
                                  self.cipher.decrypt(row.id_number_enc, context="account.id_number"), address)
        given = app.applicant
        if given is not None and (given.kind != "person" or given.id_number is None or
                                  normalise_phone(given.phone) != registered.phone or
                                  validate_id_number(given.id_number) != registered.id_number):
            raise InvalidInput("applicant_mismatch", "the applicant's phone and ID number must be those of the "
                                                     "account applying (or of the party the agent represents)")
        return await self._create(actor, replace(app, applicant=given or registered), "application", app.court,
                                  account)

    async def delegate(self, actor: Actor, app: Application) -> CaseView:
        """A court (its clerk, or its case system through the API) delegates a case to mediation."""
        court = actor.court if actor.role == Role.COURT_CLERK else app.court
        if actor.role not in (Role.COURT_CLERK, SERVICE_ROLE):
            raise Forbidden("forbidden", "only a court delegates a case")
        if not court:
            raise InvalidInput("missing_court", "a delegated case names its court")
        if app.applicant is None:
            raise InvalidInput("missing_field", "a delegated case names its applicant", {"field": "applicant"})
        return await self._create(actor, app, "court_delegation", clean_text(court, "court", 100), None)

    async def add_document(self, actor: Actor, case_id: str, data: bytes, file_name: str, media_type: str,
                           side: str | None = None) -> dict[str, Any]:
        """Evidence (before a mediator is chosen) or counselling material (during counselling and video)."""
        async with self.db() as s:
            ctx = await self.load_context(s, actor, case_id)
        name = clean_file_name(file_name)
        step = Step(ctx.case.step)
        require_step(step, Step.START, Step.CHOOSE_MEDIATOR, Step.COUNSELLING, Step.VIDEO_MEDIATION)
        kind = "evidence" if step in (Step.START, Step.CHOOSE_MEDIATOR) else "counselling"
        if ctx.relation.mediator and kind == "counselling":
            doc_side = clean_text(side or "", "side", 12)
            if doc_side not in SIDES:
                raise InvalidInput("invalid_side", "side is applicant or respondent")
        else:
            doc_side = self.acting_side(ctx, side)
        blob = await self.files.put(data)
        now = self.clock.now()
        file_id = "f_" + secrets.token_hex(8)
        async with self.db.begin() as s:
            ctx = await self.load_context(s, actor, case_id, lock=True)
            if Step(ctx.case.step) != step:
                raise WrongState("step_changed", "the case moved on while the file was uploading; try again")
            s.add(StoredFile(id=file_id, sha256=blob.sha256, size=blob.size, media_type=media_type[:100], name=name,
                             path=blob.relative_path, uploaded_by=actor.id, created_at=now))
            await s.flush()
            s.add(CaseDocument(case_id=case_id, file_id=file_id, kind=kind, side=doc_side, added_by=actor.id, added_at=now))
            self.record(s, ctx, actor, "document.added",
                         {"file_id": file_id, "kind": kind, "side": doc_side, "name": name, "sha256": blob.sha256}, now)
        await self.publish(case_id, "document.added", document_kind=kind)
        return {"id": file_id, "kind": kind, "side": doc_side, "name": name, "sha256": blob.sha256, "size": blob.size}

    async def answer_consent(self, actor: Actor, case_id: str, consent: bool, reason: str = "",
                             side: str | None = None) -> CaseView:
        """Online Mediation Rules art. 4: no mediation without consent. A refusal ends the case and
        hands it to litigation; the person consenting must be the one named (same ID number)."""
        reason = clean_text(reason, "reason", 1000, required=not consent)
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.load_context(s, actor, case_id, lock=True)
            require_step(Step(ctx.case.step), Step.START)
            acting = self.acting_side(ctx, side)
            party = ctx.parties[acting]
            if party.consent != "pending":
                raise WrongState("already_answered", f"the {acting} has already answered ({party.consent})")
            account_id = actor.id if actor.role == Role.PARTY else \
                self._represents(await self._represented(s, actor), party)
            account = await s.get(Account, account_id) if account_id is not None else None
            own_number = None if account is None or account.id_number_enc is None else \
                self.cipher.decrypt(account.id_number_enc, context="account.id_number")
            named = self.party_id_number(party)
            # A company answers through the person at the phone the case names (no personal number to
            # match); a person whose number the applicant did not know is identified by their account.
            if own_number is None or (party.kind == "person" and named not in (None, own_number)):
                raise Forbidden("identity_mismatch", f"your ID number is not the one the case names for the {acting}")
            if party.kind == "person" and named is None:
                party.id_number_enc = self.cipher.encrypt(own_number, context="party.id_number")
            party.account_id = account.id
            party.consent = "given" if consent else "refused"
            party.consent_at = now
            self.record(s, ctx, actor, "consent.given" if consent else "consent.refused",
                         {"side": acting, "reason": reason}, now)
            if not consent:
                ctx.case.outcome = str(Outcome.REFUSED)
                await self.enter_step(s, ctx, Step.COURT_DOCKING, now)
                await self._hand_to_litigation(s, ctx, actor, now)
            elif all(p.consent == "given" for p in ctx.parties.values()):
                await self.enter_step(s, ctx, Step.CHOOSE_MEDIATOR, now)
                self.record(s, ctx, actor, "step.entered", {"step": str(Step.CHOOSE_MEDIATOR)}, now)
        await self.publish(case_id, "consent", side=acting, consent=consent)
        return await self.view(actor, case_id)

    # --- step 2: choose the mediator --------------------------------------------------------
    async def choose_mediator(self, actor: Actor, case_id: str, mediator_id: str, side: str | None = None) -> CaseView:
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.load_context(s, actor, case_id, lock=True)
            require_step(Step(ctx.case.step), Step.CHOOSE_MEDIATOR)
            acting = self.acting_side(ctx, side)
            mediator = await s.get(Account, mediator_id) if is_identifier(mediator_id) else None
            if mediator is None or mediator.role != Role.MEDIATOR or mediator.disabled_at is not None:
                raise InvalidInput("not_a_mediator", "no mediator with this id")
            pending = await s.scalar(select(MediatorChoice.id).where(MediatorChoice.case_id == case_id,
                                                                     MediatorChoice.status == "proposed"))
            if pending is not None:
                raise WrongState("choice_pending", "a chosen mediator has not answered yet")
            declined = await s.scalar(select(MediatorChoice.id).where(
                MediatorChoice.case_id == case_id, MediatorChoice.mediator_id == mediator_id,
                MediatorChoice.status == "declined"))
            if declined is not None:
                raise WrongState("mediator_declined", "this mediator already declined the case")
            s.add(MediatorChoice(case_id=case_id, mediator_id=mediator_id, chosen_by=actor.id, status="proposed",
                                 chosen_at=now))
            self.record(s, ctx, actor, "mediator.chosen", {"side": acting, "mediator_id": mediator_id}, now)
        await self.publish(case_id, "mediator.chosen", mediator_id=mediator_id)
        return await self.view(actor, case_id)

    async def answer_assignment(self, actor: Actor, case_id: str, accept: bool, reason: str = "") -> AssignmentAnswer:
        """The chosen mediator accepts, or declines with a reason (declines count in statistics)."""
        reason = clean_text(reason, "reason", 500, required=not accept)
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.load_context(s, actor, case_id, lock=True)
            require_step(Step(ctx.case.step), Step.CHOOSE_MEDIATOR)
            choice = await s.scalar(select(MediatorChoice).where(
                MediatorChoice.case_id == case_id, MediatorChoice.mediator_id == actor.id,
                MediatorChoice.status == "proposed"))
            if choice is None:
                raise Forbidden("not_chosen", "you have not been chosen for this case")
            choice.status = "accepted" if accept else "declined"
            choice.reason = reason or None
            choice.answered_at = now
            self.record(s, ctx, actor, "mediator.accepted" if accept else "mediator.declined", {"reason": reason}, now)
            if accept:
                ctx.case.mediator_id = actor.id
                ctx.case.organisation = actor.organisation
                await self.enter_step(s, ctx, Step.COUNSELLING, now)
                self.record(s, ctx, actor, "step.entered", {"step": str(Step.COUNSELLING)}, now)
        await self.publish(case_id, "mediator.answered", accepted=accept)
        return AssignmentAnswer(case_id, accept, reason or None)

    # --- step 3: counselling ----------------------------------------------------------------
    async def send_message(self, actor: Actor, case_id: str, text: str, side: str | None = None) -> MessageView:
        """Counselling is per side: each side talks with the mediator, the other side does not see it."""
        text = clean_text(text, "text", 2000)
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.load_context(s, actor, case_id, lock=True)
            require_step(Step(ctx.case.step), Step.COUNSELLING, Step.VIDEO_MEDIATION)
            if ctx.relation.mediator:
                if side not in SIDES:
                    raise InvalidInput("invalid_side", "the mediator says which side the message is for")
                conversation = side
            else:
                conversation = self.acting_side(ctx, side)
            msg = CounsellingMessage(case_id=case_id, sender_id=actor.id, sender_role=actor.role, side=conversation,
                                     text=text, sent_at=now)
            s.add(msg)
            await s.flush()
            self.record(s, ctx, actor, "message.sent", {"side": conversation, "message_id": msg.id}, now)
            view = MessageView(msg.id, conversation, actor.role, text, now)
        await self.publish(case_id, "message", side=conversation)
        return view

    async def messages(self, actor: Actor, case_id: str) -> list[MessageView]:
        async with self.db() as s:
            ctx = await self.load_context(s, actor, case_id)
            query = select(CounsellingMessage).where(CounsellingMessage.case_id == case_id)
            if not (ctx.relation.mediator or ctx.relation.oversight):
                if not ctx.relation.sides:
                    raise Forbidden("forbidden", "counselling is between the mediator and each side")
                query = query.where(CounsellingMessage.side.in_(ctx.relation.sides))
            rows = (await s.scalars(query.order_by(CounsellingMessage.id))).all()
        return [MessageView(r.id, r.side, r.sender_role, r.text, r.sent_at) for r in rows]

    # --- step 4: video mediation ------------------------------------------------------------
    async def open_video(self, actor: Actor, case_id: str) -> CaseView:
        """The mediator ends counselling and opens the case's room."""
        async with self.db() as s:
            ctx = await self.load_context(s, actor, case_id)
        self._require_mediator(ctx)
        await self.open_room(actor, ctx)
        return await self.view(actor, case_id)

    async def open_room(self, actor: Actor, ctx: CaseContext) -> None:
        """End counselling and open the case's room for its mediator: when the mediator says so, or
        (``actor`` the schedule) when a participant arrives at a scheduled session's time."""
        if self.rooms is None:
            raise WrongState("rooms_unavailable", "this server has no video room service configured")
        require_step(Step(ctx.case.step), Step.COUNSELLING)
        assert ctx.case.mediator_id is not None  # counselling starts when the mediator accepts
        room_id = await self.rooms.create_room(ctx.case.id, ctx.case.mediator_id, ctx.case.organisation)
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.load_context(s, actor, ctx.case.id, lock=True)
            require_step(Step(ctx.case.step), Step.COUNSELLING)  # not opened meanwhile by someone else
            ctx.case.room_id = room_id
            await self.enter_step(s, ctx, Step.VIDEO_MEDIATION, now)
            self.record(s, ctx, actor, "step.entered", {"step": str(Step.VIDEO_MEDIATION), "room_id": room_id}, now)
        await self.publish(ctx.case.id, "video.opened", room_id=room_id)

    async def may_run_room(self, actor: Actor, case_id: str) -> bool:
        """May ``actor`` manage the case's video room (read it, invite anyone into it, end it)? The
        case's mediator, the administrators of its organisation, and oversight; nobody else, and
        ``False`` for a case that does not exist, so the room looks the same as a missing one."""
        async with self.db() as s:
            try:
                ctx = await self.load_context(s, actor, case_id)
            except NotFound:
                return False
        return ctx.relation.mediator or ctx.relation.organisation or ctx.relation.oversight

    def _room_of(self, ctx: CaseContext) -> tuple[RoomScheduler, str]:
        """The room service and the case's room, once the case is at its video session."""
        if self.rooms is None:
            raise WrongState("rooms_unavailable", "this server has no video room service configured")
        require_step(Step(ctx.case.step), Step.VIDEO_MEDIATION)
        assert ctx.case.room_id is not None  # set when entering the step
        return self.rooms, ctx.case.room_id

    @staticmethod
    def _own_seat(ctx: CaseContext, actor: Actor, side: str | None) -> CaseSeat:
        """Who ``actor`` is in the case's room: a party on their side (under the name the case
        records), an agent on the represented party's side, the mediator, or an observer from the
        case's court. Anyone else related to the case (an organisation administrator) has no seat."""
        if ctx.relation.mediator:
            return CaseSeat("mediator", None, actor.name, "mediator", actor.id, None)
        if ctx.relation.sides:
            acting = CaseService.acting_side(ctx, side)
            party = ctx.parties[acting]
            if actor.role == Role.AGENT:
                return CaseSeat("agent", acting, actor.name, f"{acting}_agent", actor.id, str(party.id))
            return CaseSeat("party", acting, party.name, f"{acting}_party", actor.id, str(party.id))
        if ctx.relation.court and actor.role in (Role.COURT_CLERK, Role.JUDGE):
            return CaseSeat("observer", None, actor.name, str(actor.role), actor.id, None)
        raise Forbidden("no_seat", "you take no part in this case's video session")

    async def invitation(self, actor: Actor, case_id: str, side: str | None = None) -> RoomInvitation:
        """The caller's own seat in the case's room, never anyone else's: the same seat on every call,
        its name and case role taken from the case. Links are never stored."""
        async with self.db() as s:
            ctx = await self.load_context(s, actor, case_id)
        rooms, room_id = self._room_of(ctx)
        return await rooms.invite(room_id, self._own_seat(ctx, actor, side))

    async def guest_invitation(self, actor: Actor, case_id: str, side: str) -> RoomInvitation:
        """The mediator's link for a party who cannot sign in (no account, a borrowed device): bound
        to that case party, it opens the party's own seat under the name the case records, so the
        party is one person in the room however they enter, and a removal holds for both ways in."""
        if side not in SIDES:
            raise InvalidInput("invalid_side", "side is applicant or respondent")
        async with self.db() as s:
            ctx = await self.load_context(s, actor, case_id)
        self._require_mediator(ctx)
        rooms, room_id = self._room_of(ctx)
        party = ctx.parties[side]
        invitation = await rooms.invite(room_id, CaseSeat("party", side, party.name, f"{side}_party", None,
                                                          str(party.id)))
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.load_context(s, actor, case_id, lock=True)
            self.record(s, ctx, actor, "video.guest_link", {"side": side, "participant": party.id,
                                                            "seat": invitation.seat}, now)
        return invitation

    async def conclude_video(self, actor: Actor, case_id: str) -> CaseView:
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.load_context(s, actor, case_id, lock=True)
            self._require_mediator(ctx)
            require_step(Step(ctx.case.step), Step.VIDEO_MEDIATION)
            await self.enter_step(s, ctx, Step.RESULT, now)
            self.record(s, ctx, actor, "step.entered", {"step": str(Step.RESULT)}, now)
        await self.publish(case_id, "step", step=str(Step.RESULT))
        return await self.view(actor, case_id)

    # --- step 5: result ---------------------------------------------------------------------
    async def record_agreement(self, actor: Actor, case_id: str, payment_terms: PaymentTerms | None) -> str:
        """The mediator starts the case's agreement: a draft pre-filled from the case (parties,
        agents, mediator, organisation, dispute type, claims, amount) that they then edit and lock
        in the agreement editor. Returns the agreement id; it takes effect when the parties have signed."""
        terms: dict[str, Any] | None = None
        if payment_terms is not None:
            if payment_terms.debtor_side not in SIDES:
                raise InvalidInput("invalid_side", "the debtor is the applicant or the respondent")
            if payment_terms.amount_fen <= 0:
                raise InvalidInput("invalid_amount", "the amount owed must be positive")
            terms = {"debtor_side": payment_terms.debtor_side, "amount_fen": payment_terms.amount_fen,
                     "due_date": payment_terms.due_date, "money_only": payment_terms.money_only,
                     "counter_obligation": payment_terms.counter_obligation}
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.load_context(s, actor, case_id, lock=True)
            self._require_mediator(ctx)
            require_step(Step(ctx.case.step), Step.RESULT)
            if await s.get(CaseResult, case_id) is not None:
                raise WrongState("result_exists", "a result is already recorded")
            draft = await draft_from_case(s, self.cipher, ctx.case, ctx.parties, now)
            agreement_id = await self.agreements.add_draft(s, draft.data, case_id=case_id,
                                                           organisation_id=draft.organisation_id, created_by=actor.id)
            s.add(CaseResult(case_id=case_id, kind="agreement", agreement_id=agreement_id, agreement_status="drafted",
                             payment_terms=terms, recorded_by=actor.id, recorded_at=now))
            self.record(s, ctx, actor, "agreement.recorded", {"agreement_id": agreement_id, "payment_terms": terms}, now)
        await self.publish(case_id, "agreement.recorded", agreement_id=agreement_id)
        return agreement_id

    async def agreement_took_effect(self, case_id: str, agreement_id: str, effective_at: datetime) -> None:
        """The seam for ``signing/``, called in-process when the last party signature is recorded
        (never over HTTP): every party has signed, so the agreement is in effect from
        ``effective_at`` — that signature's timestamp-token time (Online Mediation Rules art. 19).
        Moves the case to evaluation and starts the 30-day confirmation window (CPL art. 205)."""
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.load_context(s, SIGNING_ACTOR, case_id, lock=True)
            result = await s.get(CaseResult, case_id)
            if result is None or result.kind != "agreement" or result.agreement_id != agreement_id:
                raise NotFound("agreement_not_found", "this case has no such agreement")
            if result.agreement_status == "effective":
                raise WrongState("already_effective", "the agreement has already taken effect")
            result.agreement_status = "effective"
            result.effective_at = effective_at
            ctx.case.outcome = str(Outcome.SETTLED)
            self.record(s, ctx, SIGNING_ACTOR, "agreement.effective",
                        {"agreement_id": agreement_id, "effective_at": effective_at.isoformat()}, now)
            await self.enter_step(s, ctx, Step.EVALUATION, now)
            self.record(s, ctx, SIGNING_ACTOR, "step.entered", {"step": str(Step.EVALUATION)}, now)
            open_deadline(s, case_id, "court:apply", "apply jointly for judicial confirmation (CPL art. 205)",
                          effective_at, effective_at + JC_APPLICATION_WINDOW,
                          Responsible(account_ids=tuple(p.account_id for p in ctx.parties.values() if p.account_id)))
        await self.publish(case_id, "agreement.effective", effective_at=effective_at.isoformat())

    async def agreement_locked(self, actor: Actor, state: VersionState) -> None:
        """The mediator locked the agreement's text: signing can start (the locked PDF's hash in the trail)."""
        await self._agreement_step(state, actor, "agreement.locked", {"sha256": state.locked_sha256})

    async def agreement_revised(self, state: VersionState) -> None:
        """The signing ceremony's ``on_revision`` (in-process, after every stored revision): one more
        signature (the seal among them), or the final archival revision after the seal. The case's
        trail names each signature's field, signer and resulting PDF hash, and every open case page
        learns at once who acts next. The signature stands whatever the case says: a failure here is
        logged, not turned into a refused signature."""
        try:
            await self._record_revision(state)
        except MediationError as exc:
            log.error("agreement signed but not recorded in the case's trail", extra={
                "case_id": state.case_id, "agreement_id": state.agreement_id, "code": exc.code})

    async def _record_revision(self, state: VersionState) -> None:
        if state.status is VersionStatus.COMPLETED:
            await self._agreement_step(state, SIGNING_ACTOR, "agreement.completed", {"sha256": state.final_sha256})
            return
        record = state.signatures[-1]
        slot = next(s for s in state.slots if s.field_name == record.field_name)
        action = "agreement.sealed" if slot.role is SignerRole.ORGANISATION else "agreement.signed"
        await self._agreement_step(state, SIGNING_ACTOR, action, {
            "field": record.field_name, "role": slot.role.value, "side": slot.side.value if slot.side else None,
            "name": slot.name, "participant_id": record.participant_id, "revision": record.revision,
            "sha256": record.pdf_sha256,
            "timestamp_at": record.timestamp_at.isoformat() if record.timestamp_at else None})

    async def _agreement_step(self, state: VersionState, actor: Actor, action: str, payload: dict[str, Any]) -> None:
        if state.case_id is None:
            return
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.load_context(s, SIGNING_ACTOR, state.case_id, lock=True)
            self.record(s, ctx, actor, action, {"agreement_id": state.agreement_id, "version": state.version,
                                                **payload}, now)
        await self.publish(state.case_id, action, agreement_id=state.agreement_id)

    async def signatures_took_effect(self, state: VersionState) -> None:
        """The signing ceremony's ``on_effective``: the last party signature of a case's agreement
        is in, so the case moves on. The signature stands whatever the case says (e.g. a failure
        recorded meanwhile); that is logged for the mediator to resolve."""
        if state.case_id is None or state.effective_at is None:
            return
        try:
            await self.agreement_took_effect(state.case_id, state.agreement_id, state.effective_at)
        except MediationError as exc:
            log.error("agreement signed but the case did not move on", extra={
                "case_id": state.case_id, "agreement_id": state.agreement_id, "code": exc.code})

    async def record_failure(self, actor: Actor, case_id: str, reasons: list[str]) -> CaseView:
        cleaned = [clean_text(r, "reasons[]", 500) for r in reasons]
        if not cleaned or len(cleaned) > 20:
            raise InvalidInput("invalid_reasons", "give 1-20 reasons why mediation failed")
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.load_context(s, actor, case_id, lock=True)
            self._require_mediator(ctx)
            require_step(Step(ctx.case.step), Step.RESULT)
            existing = await s.get(CaseResult, case_id)
            if existing is not None and existing.agreement_status == "effective":
                raise WrongState("result_exists", "the agreement has already taken effect")
            if existing is not None:
                await s.delete(existing)  # an unsigned draft is superseded by the failure record
                await s.flush()
            s.add(CaseResult(case_id=case_id, kind="failure", failure_reasons=cleaned, recorded_by=actor.id,
                             recorded_at=now))
            ctx.case.outcome = str(Outcome.FAILED)
            self.record(s, ctx, actor, "mediation.failed", {"reasons": cleaned}, now)
            await self.enter_step(s, ctx, Step.EVALUATION, now)
            self.record(s, ctx, actor, "step.entered", {"step": str(Step.EVALUATION)}, now)
        await self.publish(case_id, "mediation.failed")
        return await self.view(actor, case_id)

    # --- step 6: evaluation -----------------------------------------------------------------
    async def rate(self, actor: Actor, case_id: str, score: int, comment: str, side: str | None = None) -> CaseView:
        if not 1 <= score <= 5:
            raise InvalidInput("invalid_score", "a rating is 1 to 5")
        comment = clean_text(comment, "comment", 1000, required=False)
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.load_context(s, actor, case_id, lock=True)
            require_step(Step(ctx.case.step), Step.EVALUATION)
            acting = self.acting_side(ctx, side)
            if await s.scalar(select(Rating.id).where(Rating.case_id == case_id, Rating.side == acting)) is not None:
                raise WrongState("already_rated", f"the {acting} has already rated the mediator")
            assert ctx.case.mediator_id is not None  # a case reaches evaluation only with a mediator
            s.add(Rating(case_id=case_id, side=acting, mediator_id=ctx.case.mediator_id, score=score, comment=comment,
                         rated_by=actor.id, rated_at=now))
            await s.flush()
            self.record(s, ctx, actor, "mediator.rated", {"side": acting, "score": score}, now)
            rated = set((await s.scalars(select(Rating.side).where(Rating.case_id == case_id))).all())
            if rated == set(SIDES):
                await self.enter_step(s, ctx, Step.COURT_DOCKING, now)
                self.record(s, ctx, actor, "step.entered", {"step": str(Step.COURT_DOCKING)}, now)
                if ctx.case.outcome == Outcome.FAILED:
                    await self._hand_to_litigation(s, ctx, actor, now)
        await self.publish(case_id, "rated", side=acting)
        return await self.view(actor, case_id)

    async def complain(self, actor: Actor, case_id: str, text: str) -> dict[str, Any]:
        """A complaint about the mediation goes to the mediator's organisation."""
        text = clean_text(text, "text", 2000)
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.load_context(s, actor, case_id, lock=True)
            acting = self.acting_side(ctx)
            if ctx.case.organisation is None:
                raise WrongState("no_organisation", "no mediator (and so no organisation) is on the case yet")
            row = Complaint(case_id=case_id, organisation=ctx.case.organisation, filed_by=actor.id, text=text, filed_at=now)
            s.add(row)
            await s.flush()
            self.record(s, ctx, actor, "complaint.filed", {"side": acting, "complaint_id": row.id}, now)
            out = {"id": row.id, "organisation": row.organisation, "filed_at": now.isoformat()}
        await self.publish(case_id, "complaint.filed")
        return out

    async def complaints(self, actor: Actor) -> list[dict[str, Any]]:
        if actor.role != Role.ORG_ADMIN or not actor.organisation:
            raise Forbidden("forbidden", "complaints are read by the organisation's administrators")
        async with self.db() as s:
            rows = (await s.scalars(select(Complaint).where(Complaint.organisation == actor.organisation)
                                    .order_by(Complaint.id))).all()
        return [{"id": r.id, "case_id": r.case_id, "text": r.text, "filed_at": r.filed_at.isoformat()} for r in rows]

    # --- step 7 hand-off for failed / refused mediation --------------------------------------
    async def _hand_to_litigation(self, s: AsyncSession, ctx: CaseContext, actor: Actor, now: datetime) -> None:
        """Assemble the package a party files with the court, and close the case."""
        docs = (await s.execute(select(CaseDocument, StoredFile).join(StoredFile, StoredFile.id == CaseDocument.file_id)
                                .where(CaseDocument.case_id == ctx.case.id, CaseDocument.kind == "evidence"))).all()
        result = await s.get(CaseResult, ctx.case.id)
        content = {
            "case_id": ctx.case.id,
            "dispute_type": ctx.case.dispute_type,
            "claims": ctx.case.claims,
            "amount_fen": ctx.case.amount_fen,
            "facts": ctx.case.facts,
            "outcome": ctx.case.outcome,
            "failure_reasons": result.failure_reasons if result is not None else None,
            "parties": [self.party_material(p) for p in ctx.parties.values()],
            "evidence": [{"name": f.name, "sha256": f.sha256, "size": f.size, "side": d.side} for d, f in docs],
            "audit_head": ctx.case.audit_head,
        }
        s.add(LitigationPackage(case_id=ctx.case.id, content=content, created_at=now))
        ctx.case.status = "closed"
        await complete_deadlines(s, ctx.case.id, "step:", now)
        self.record(s, ctx, actor, "litigation.package", {"evidence": len(docs)}, now)

    def party_material(self, p: CaseParty) -> dict[str, Any]:
        return {"side": p.side, "kind": p.kind, "name": p.name, "representative": p.representative,
                "id_number": self.masked_id_number(p), "address": p.address, "phone": p.phone}

    async def litigation_package(self, actor: Actor, case_id: str) -> dict[str, Any]:
        async with self.db() as s:
            ctx = await self.load_context(s, actor, case_id)
            package = await s.get(LitigationPackage, case_id)
        if package is None:
            raise NotFound("no_package", "this case has no litigation package (it was not refused or failed)")
        if not (ctx.relation.sides or ctx.relation.oversight or ctx.relation.court or ctx.relation.mediator):
            raise Forbidden("forbidden", "the litigation package is for the parties and the court")
        return package.content

    # --- reading ----------------------------------------------------------------------------
    @staticmethod
    def _reads_final_agreement(relation: Relation) -> bool:
        """Who opens the finished agreement from the case: its parties (and agents), its mediator,
        its organisation, the court it went to, platform administrators and integrating systems."""
        return bool(relation.sides) or relation.mediator or relation.organisation or relation.court \
            or relation.oversight

    async def final_agreement(self, actor: Actor, case_id: str) -> VersionState:
        """The case's agreement once everyone has signed and the organisation has sealed it (the
        final archival PDF is its newest revision). For the people :meth:`_reads_final_agreement`
        names, the organisation matched by the directory id the agreement names (as for managing
        it); anyone else gets the 404 of a case they cannot see."""
        async with self.db() as s:
            ctx = await self.load_context(s, actor, case_id)
            result = await s.get(CaseResult, case_id)
        if not self._reads_final_agreement(ctx.relation):
            raise NotFound("case_not_found", f"no case {case_id} that you can see")
        if result is None or result.agreement_id is None:
            raise NotFound("no_agreement", "this case has no agreement")
        if ctx.relation.organisation and not await self.may_manage_agreement(actor, await self.agreements.info(
                result.agreement_id)):
            raise NotFound("case_not_found", f"no case {case_id} that you can see")
        state = await self.agreements.current(result.agreement_id)
        if state.status is not VersionStatus.COMPLETED:
            raise WrongState("agreement_not_completed", "the agreement is not signed by everyone and sealed yet")
        return state

    @staticmethod
    async def _reads_documents(s: AsyncSession, ctx: CaseContext) -> bool:
        """Who opens the case's documents: its parties (and agents), its mediator, its
        organisation, platform administrators and integrating systems, and the clerks and judges
        of the court once the case has applied to it (their relation is to ``case.court``)."""
        relation = ctx.relation
        if relation.sides or relation.mediator or relation.organisation or relation.oversight:
            return True
        return relation.court and await s.scalar(select(CourtApplication.id).where(
            CourtApplication.case_id == ctx.case.id, CourtApplication.court == ctx.case.court).limit(1)) is not None

    async def _documents(self, s: AsyncSession, ctx: CaseContext) -> list[tuple[DocumentView, str]]:
        """The documents a reader :meth:`_reads_documents` admits may open, oldest first, each with
        its place in the file store. Counselling material is private to its side, as counselling
        messages are: the mediator and oversight see every side's, a party or agent only their own
        side's, nobody else any."""
        relation, case_id = ctx.relation, ctx.case.id
        found: list[tuple[DocumentView, str]] = []

        def add(stored: StoredFile, kind: str, side: str | None, added_by: str, added_by_name: str | None,
                added_at: datetime) -> None:
            found.append((DocumentView(stored.id, stored.name, kind, side, stored.media_type, stored.size,
                                       stored.sha256, added_at, added_by, added_by_name,
                                       f"/api/cases/{case_id}/documents/{stored.id}"), stored.path))

        rows = (await s.execute(select(CaseDocument, StoredFile, Account.display_name)
                                .join(StoredFile, StoredFile.id == CaseDocument.file_id)
                                .outerjoin(Account, Account.id == CaseDocument.added_by)
                                .where(CaseDocument.case_id == case_id).order_by(CaseDocument.id))).tuples().all()
        for doc, stored, name in rows:
            if doc.kind != "counselling" or relation.mediator or relation.oversight or doc.side in relation.sides:
                add(stored, doc.kind, doc.side, doc.added_by, name, doc.added_at)
        # The powers of attorney in force from the case's parties (by account, or by phone before they acted).
        by_account = {p.account_id: p.side for p in ctx.parties.values() if p.account_id is not None}
        by_phone = {p.phone: p.side for p in ctx.parties.values() if p.account_id is None}
        links = (await s.execute(select(AgentLink, StoredFile, Account)
                                 .join(StoredFile, StoredFile.id == AgentLink.power_of_attorney_id)
                                 .join(Account, Account.id == AgentLink.party_id)
                                 .where(AgentLink.revoked_at.is_(None),
                                        AgentLink.party_id.in_(list(by_account)) | Account.phone.in_(list(by_phone)))
                                 .order_by(AgentLink.id))).tuples().all()
        for link, stored, party in links:
            side = by_account.get(party.id) or (by_phone.get(party.phone) if party.phone is not None else None)
            if side is not None:
                add(stored, "power_of_attorney", side, stored.uploaded_by, party.display_name, link.created_at)
        return sorted(found, key=lambda item: item[0].added_at)  # stable: uploads of one instant in their order

    async def readable_documents(self, s: AsyncSession, ctx: CaseContext) -> list[tuple[DocumentView, str]]:
        """:meth:`_documents` for whoever :meth:`_reads_documents` admits, none for anyone else."""
        return await self._documents(s, ctx) if await self._reads_documents(s, ctx) else []

    async def _open_documents(self, actor: Actor, case_id: str) -> list[tuple[DocumentView, str]]:
        """:meth:`_documents` for the actor; the 404 of a case they cannot see for anyone
        :meth:`_reads_documents` leaves out."""
        async with self.db() as s:
            ctx = await self.load_context(s, actor, case_id)
            if not await self._reads_documents(s, ctx):
                raise NotFound("case_not_found", f"no case {case_id} that you can see")
            return await self._documents(s, ctx)

    async def documents(self, actor: Actor, case_id: str) -> list[DocumentView]:
        """The case's documents the actor may open."""
        return [doc for doc, _ in await self._open_documents(actor, case_id)]

    async def document(self, actor: Actor, case_id: str, document_id: str) -> DocumentFile:
        """One document to open, if it is among :meth:`documents`; another side's counselling
        material is as missing as a document that does not exist."""
        found = next(((doc, path) for doc, path in await self._open_documents(actor, case_id) if doc.id == document_id),
                     None)
        if found is None:
            raise NotFound("document_not_found", f"no document {document_id} of this case that you can open")
        doc, path = found
        return DocumentFile(doc, self.files.path(path), await self.files.inline_type(path))

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
        if result is not None and result.agreement_id is not None and self._reads_final_agreement(ctx.relation) \
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
            documents=[doc for doc, _ in await self.readable_documents(s, ctx)],
            next_actions=await who_acts_next(s, ctx, result, self.clock.now(), signing=self.agreements))

    async def list_cases(self, actor: Actor, limit: int = 100, offset: int = 0) -> list[CaseSummary]:
        """The cases the actor is related to, newest first, as summaries (three queries whatever the page size)."""
        async with self.db() as s:
            query = select(Case)
            represented: dict[str, str | None] = {}
            if actor.role == Role.AGENT:
                represented = await self._represented(s, actor)
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
                return self._represents(represented, party) is not None
            return actor.role == Role.PARTY and self._is_party(actor, party)

        return [CaseSummary(c.id, c.case_number, c.dispute_type, c.step, Step(c.step).number, c.status, c.outcome,
                            c.created_at, c.updated_at, {p.side: p.name for p in by_case.get(c.id, [])},
                            sorted(p.side for p in by_case.get(c.id, []) if yours(p)))
                for c in cases]
