"""Step 5: the result of a mediation: the agreement drafted from the case, the signing
ceremony's progress in the case's trail until it takes effect, or the reasons it failed."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from signing.agreement import SignerRole
from signing.agreement_versions import VersionState, VersionStatus

from .accounts import SERVICE_ROLE, Actor
from .agreement_drafting import draft_from_case
from .cases import CasePart, CaseView, PaymentTerms
from .deadlines import Responsible, open_deadline
from .errors import InvalidInput, MediationError, NotFound, WrongState
from .models import CaseResult
from .text import clean_text
from .workflow import SIDES, JC_APPLICATION_WINDOW, Outcome, Step, require_step

log = logging.getLogger(__name__)
#: Who moves a case on when its agreement's last party signature is recorded (the audit actor).
SIGNING_ACTOR = Actor("signing", SERVICE_ROLE, "电子签名")


class CaseResults(CasePart):
    """Records how a mediation ended and follows its agreement to effect."""

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
            ctx = await self.cases.load_context(s, actor, case_id, lock=True)
            self.cases.require_mediator(ctx)
            require_step(Step(ctx.case.step), Step.RESULT)
            if await s.get(CaseResult, case_id) is not None:
                raise WrongState("result_exists", "a result is already recorded")
            draft = await draft_from_case(s, self.cipher, ctx.case, ctx.parties, now)
            agreement_id = await self.agreements.add_draft(s, draft.data, case_id=case_id,
                                                           organisation_id=draft.organisation_id, created_by=actor.id)
            s.add(CaseResult(case_id=case_id, kind="agreement", agreement_id=agreement_id, agreement_status="drafted",
                             payment_terms=terms, recorded_by=actor.id, recorded_at=now))
            self.cases.record(s, ctx, actor, "agreement.recorded", {"agreement_id": agreement_id, "payment_terms": terms}, now)
        await self.cases.publish(case_id, "agreement.recorded", agreement_id=agreement_id)
        return agreement_id

    async def agreement_took_effect(self, case_id: str, agreement_id: str, effective_at: datetime) -> None:
        """The seam for ``signing/``, called in-process when the last party signature is recorded
        (never over HTTP): every party has signed, so the agreement is in effect from
        ``effective_at`` — that signature's timestamp-token time (Online Mediation Rules art. 19).
        Moves the case to evaluation and starts the 30-day confirmation window (CPL art. 205)."""
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.cases.load_context(s, SIGNING_ACTOR, case_id, lock=True)
            result = await s.get(CaseResult, case_id)
            if result is None or result.kind != "agreement" or result.agreement_id != agreement_id:
                raise NotFound("agreement_not_found", "this case has no such agreement")
            if result.agreement_status == "effective":
                raise WrongState("already_effective", "the agreement has already taken effect")
            result.agreement_status = "effective"
            result.effective_at = effective_at
            ctx.case.outcome = str(Outcome.SETTLED)
            self.cases.record(s, ctx, SIGNING_ACTOR, "agreement.effective",
                        {"agreement_id": agreement_id, "effective_at": effective_at.isoformat()}, now)
            await self.cases.enter_step(s, ctx, Step.EVALUATION, now)
            self.cases.record(s, ctx, SIGNING_ACTOR, "step.entered", {"step": str(Step.EVALUATION)}, now)
            open_deadline(s, case_id, "court:apply", "apply jointly for judicial confirmation (CPL art. 205)",
                          effective_at, effective_at + JC_APPLICATION_WINDOW,
                          Responsible(account_ids=tuple(p.account_id for p in ctx.parties.values() if p.account_id)))
        await self.cases.publish(case_id, "agreement.effective", effective_at=effective_at.isoformat())

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
            ctx = await self.cases.load_context(s, SIGNING_ACTOR, state.case_id, lock=True)
            self.cases.record(s, ctx, actor, action, {"agreement_id": state.agreement_id, "version": state.version,
                                                **payload}, now)
        await self.cases.publish(state.case_id, action, agreement_id=state.agreement_id)

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
            ctx = await self.cases.load_context(s, actor, case_id, lock=True)
            self.cases.require_mediator(ctx)
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
            self.cases.record(s, ctx, actor, "mediation.failed", {"reasons": cleaned}, now)
            await self.cases.enter_step(s, ctx, Step.EVALUATION, now)
            self.cases.record(s, ctx, actor, "step.entered", {"step": str(Step.EVALUATION)}, now)
        await self.cases.publish(case_id, "mediation.failed")
        return await self.cases.view(actor, case_id)

    async def final_agreement(self, actor: Actor, case_id: str) -> VersionState:
        """The case's agreement once everyone has signed and the organisation has sealed it (the
        final archival PDF is its newest revision). For the people :meth:`CaseService.reads_final_agreement`
        names, the organisation matched by the directory id the agreement names (as for managing
        it); anyone else gets the 404 of a case they cannot see."""
        async with self.db() as s:
            ctx = await self.cases.load_context(s, actor, case_id)
            result = await s.get(CaseResult, case_id)
        if not self.cases.reads_final_agreement(ctx.relation):
            raise NotFound("case_not_found", f"no case {case_id} that you can see")
        if result is None or result.agreement_id is None:
            raise NotFound("no_agreement", "this case has no agreement")
        if ctx.relation.organisation and not await self.cases.may_manage_agreement(actor, await self.agreements.info(
                result.agreement_id)):
            raise NotFound("case_not_found", f"no case {case_id} that you can see")
        state = await self.agreements.current(result.agreement_id)
        if state.status is not VersionStatus.COMPLETED:
            raise WrongState("agreement_not_completed", "the agreement is not signed by everyone and sealed yet")
        return state
