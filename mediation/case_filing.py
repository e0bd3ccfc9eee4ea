"""Step 1: a party applies online or a court delegates a case, and each party named answers
whether they consent to mediation (Online Mediation Rules art. 4)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace
from datetime import datetime
from typing import Callable

from sqlalchemy import select

from signing.agreement import DisputeType

from . import audit
from .accounts import SERVICE_ROLE, Actor, Role, normalise_phone
from .case_numbers import assign_case_number
from .cases import Application, CaseContext, CasePart, CaseService, CaseView, PartyDetails, Relation
from .deadlines import open_deadline
from .errors import Forbidden, InvalidInput, WrongState
from .id_numbers import validate_credit_code, validate_id_number
from .litigation import Litigation
from .models import Account, AgentLink, Case, CaseParty
from .text import clean_text, is_identifier
from .workflow import Outcome, Step, require_step

log = logging.getLogger(__name__)
MAX_TEXT = 5000
MAX_SHORT = 200
PARTY_KINDS = ("person", "company")


class CaseFiling(CasePart):
    """Opens cases and collects the parties' consent; a refusal hands the case to litigation."""

    def __init__(self, cases: CaseService, litigation: Litigation):
        super().__init__(cases)
        self.litigation = litigation

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
                          await self.cases.responsible(s, ctx, "respondent"))
            self.cases.record(s, ctx, actor, "case.created", {
                "case_number": case.case_number, "origin": origin, "court": court, "dispute_type": dispute_type,
                "amount_fen": app.amount_fen, "applicant": applicant.name, "respondent": respondent.name}, now)
        await self.cases.publish(case_id, "case.created", step=str(Step.START))
        await self._ask_for_consent(case_id, [p for p in (applicant, respondent) if p.consent == "pending"], now)
        return await self.cases.view(actor, case_id)

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

    async def answer_consent(self, actor: Actor, case_id: str, consent: bool, reason: str = "",
                             side: str | None = None) -> CaseView:
        """Online Mediation Rules art. 4: no mediation without consent. A refusal ends the case and
        hands it to litigation; the person consenting must be the one named (same ID number)."""
        reason = clean_text(reason, "reason", 1000, required=not consent)
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.cases.load_context(s, actor, case_id, lock=True)
            require_step(Step(ctx.case.step), Step.START)
            acting = self.cases.acting_side(ctx, side)
            party = ctx.parties[acting]
            if party.consent != "pending":
                raise WrongState("already_answered", f"the {acting} has already answered ({party.consent})")
            account_id = actor.id if actor.role == Role.PARTY else \
                self.cases.represents(await self.cases.represented(s, actor), party)
            account = await s.get(Account, account_id) if account_id is not None else None
            own_number = None if account is None or account.id_number_enc is None else \
                self.cipher.decrypt(account.id_number_enc, context="account.id_number")
            named = self.cases.party_id_number(party)
            # A company answers through the person at the phone the case names (no personal number to
            # match); a person whose number the applicant did not know is identified by their account.
            if own_number is None or (party.kind == "person" and named not in (None, own_number)):
                raise Forbidden("identity_mismatch", f"your ID number is not the one the case names for the {acting}")
            if party.kind == "person" and named is None:
                party.id_number_enc = self.cipher.encrypt(own_number, context="party.id_number")
            party.account_id = account.id
            party.consent = "given" if consent else "refused"
            party.consent_at = now
            self.cases.record(s, ctx, actor, "consent.given" if consent else "consent.refused",
                         {"side": acting, "reason": reason}, now)
            if not consent:
                ctx.case.outcome = str(Outcome.REFUSED)
                await self.cases.enter_step(s, ctx, Step.COURT_DOCKING, now)
                await self.litigation.hand_over(s, ctx, actor, now)
            elif all(p.consent == "given" for p in ctx.parties.values()):
                await self.cases.enter_step(s, ctx, Step.CHOOSE_MEDIATOR, now)
                self.cases.record(s, ctx, actor, "step.entered", {"step": str(Step.CHOOSE_MEDIATOR)}, now)
        await self.cases.publish(case_id, "consent", side=acting, consent=consent)
        return await self.cases.view(actor, case_id)
