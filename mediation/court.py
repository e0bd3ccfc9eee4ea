"""Step 7, docking with the court: judicial confirmation (CPL arts. 205-206, SPC interpretation
arts. 351-358) and payment orders (CPL arts. 225-227, interpretation art. 427).

The application is assembled from the case itself (the materials art. 354 lists), queued for
the court's clerks (accept or refuse within 3 days) and judges (rule within 15 days, extendable
once by 10). When the judge rules, the ruling document is made at once: a PDF signed with the
court's certificate (:mod:`signing.ruling`, injected as a :data:`RulingSigner`), under the court's
own case number, kept in the case file store.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from signing.binding import RulingStatement
from signing.pades import CHINA_TIME
from signing.ruling import COURT_SEAL_FIELD, PaymentDemand, RulingContent, RulingError, RulingParty

from .accounts import Actor, Role
from .cases import CaseContext, CaseService, other_side
from .court_models import Court, require_listed
from .deadlines import Responsible, complete_deadlines, extend_deadline, open_deadline
from .errors import Forbidden, InvalidInput, NotFound, Unavailable, WrongState
from .models import CaseDocument, CaseResult, CourtApplication, StoredFile
from .recording_citations import recording_citations
from .text import clean_text, is_identifier
from .workflow import (COURT_ACCEPTANCE_LIMIT, COURT_RULING_EXTENSION, COURT_RULING_LIMIT, JC_APPLICATION_WINDOW,
                       JUDICIAL_CONFIRMATION, PAYMENT_ORDER, PAYMENT_ORDER_ACCEPTANCE_LIMIT, PAYMENT_ORDER_LIMIT,
                       Outcome, Step, require_step)


#: Renders a ruling and signs it with its court's certificate (:class:`signing.ruling.CourtRulingSigner`).
RulingSigner = Callable[[RulingContent], Awaitable[bytes]]
#: The case-type characters of the court's case numbers: 民特 (special procedures, among them
#: judicial confirmation) and 民督 (payment orders), as in (2026)川0104民特3号.
CASE_TYPES = {JUDICIAL_CONFIRMATION: "民特", PAYMENT_ORDER: "民督"}
#: How often a ruling is made again when the case moved on (or another ruling of the court took
#: its number) while it was being signed.
RULING_ATTEMPTS = 3


@dataclass(frozen=True)
class PaymentOrderDeclarations:
    """What the creditor states and the platform cannot know (interpretation art. 427)."""

    no_other_debt_dispute: bool
    debtor_reachable_in_china: bool
    no_pre_suit_preservation: bool


@dataclass(frozen=True)
class ConditionCheck:
    """One statutory condition: ``code`` is stable (the client words it), ``condition`` and
    ``basis`` are English for API clients."""

    code: str
    condition: str
    met: bool
    basis: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "condition": self.condition, "met": self.met, "basis": self.basis}


@dataclass(frozen=True)
class ApplicationView:
    id: str
    case_id: str
    kind: str
    court: str
    status: str  # awaiting_joint | filed | accepted | refused | ruled
    joined_sides: list[str]
    materials: dict[str, Any]
    filed_at: datetime | None
    decided_at: datetime | None
    extended: bool
    ruling: str | None
    reasons: str | None
    ruled_at: datetime | None
    ruling_document_id: str | None


@dataclass(frozen=True)
class RulingDocument:
    """Where the ruling's bytes are, and what the file store recorded about them."""

    application_id: str
    name: str
    media_type: str
    path: Path


def _view(app: CourtApplication) -> ApplicationView:
    return ApplicationView(app.id, app.case_id, app.kind, app.court, app.status, list(app.joined_sides), app.materials,
                           app.filed_at, app.decided_at, app.extended, app.ruling, app.reasons, app.ruled_at,
                           app.ruling_document_id)


def payment_order_checks(terms: dict[str, Any] | None, today: date,
                         declarations: PaymentOrderDeclarations) -> list[ConditionCheck]:
    """CPL art. 225 and interpretation art. 427, each condition with its basis."""
    terms = terms or {}
    try:
        due = date.fromisoformat(str(terms.get("due_date", "")))
        is_due = due <= today
    except ValueError:
        is_due = False
    return [
        ConditionCheck("monetary_obligation", "the agreement contains a monetary obligation", bool(terms),
                       "CPL art. 225"),
        ConditionCheck("money_only", "the claim is for money only", bool(terms.get("money_only")), "CPL art. 225"),
        ConditionCheck("debt_due", "the debt is due", is_due, "interpretation art. 427"),
        ConditionCheck("amount_certain", "the amount is certain",
                       isinstance(terms.get("amount_fen"), int) and terms["amount_fen"] > 0, "interpretation art. 427"),
        ConditionCheck("no_counter_performance", "the creditor owes no counter-performance",
                       terms.get("counter_obligation") is False, "interpretation art. 427"),
        ConditionCheck("no_other_dispute", "no other debt dispute between the parties",
                       declarations.no_other_debt_dispute, "CPL art. 225"),
        ConditionCheck("debtor_reachable", "the debtor is in China and can be served",
                       declarations.debtor_reachable_in_china, "CPL art. 225 / interpretation art. 427"),
        ConditionCheck("no_preservation", "no pre-suit preservation was applied for",
                       declarations.no_pre_suit_preservation, "interpretation art. 427"),
    ]


class CourtService:
    def __init__(self, cases: CaseService, sign_ruling: RulingSigner | None = None):
        """Without ``sign_ruling`` judges cannot rule (there would be no ruling document)."""
        self.cases = cases
        self.sign_ruling = sign_ruling

    @property
    def db(self) -> async_sessionmaker[AsyncSession]:
        return self.cases.db

    async def _effective_agreement(self, s: AsyncSession, ctx: CaseContext) -> CaseResult:
        require_step(Step(ctx.case.step), Step.COURT_DOCKING)
        result = await s.get(CaseResult, ctx.case.id)
        if ctx.case.outcome != Outcome.SETTLED or result is None or result.agreement_status != "effective" \
                or result.effective_at is None:
            raise WrongState("no_effective_agreement", "only an agreement that has taken effect goes to the court")
        return result

    async def _materials(self, s: AsyncSession, ctx: CaseContext, result: CaseResult) -> dict[str, Any]:
        """SPC interpretation art. 354: the agreement, proof that the organisation mediated,
        property-right evidence, and the parties' identity, address and contact details; and the
        recordings of the mediation sessions, by manifest hash (Online Mediation Rules art. 22:
        with the parties' consent a recording stands in for the written record)."""
        docs = (await s.execute(select(CaseDocument, StoredFile).join(StoredFile, StoredFile.id == CaseDocument.file_id)
                                .where(CaseDocument.case_id == ctx.case.id, CaseDocument.kind == "evidence")
                                .order_by(CaseDocument.id))).all()
        assert result.effective_at is not None and result.agreement_id is not None
        agreement = await self.cases.agreements.current(result.agreement_id)
        return {
            "agreement": {"agreement_id": result.agreement_id, "effective_at": result.effective_at.isoformat(),
                          "payment_terms": result.payment_terms, "version": agreement.version,
                          "revision": agreement.revision, "sha256": agreement.newest_sha256},
            "mediation_certificate": {"organisation": ctx.case.organisation, "mediator_id": ctx.case.mediator_id,
                                      "case_id": ctx.case.id, "dispute_type": ctx.case.dispute_type,
                                      "audit_head": ctx.case.audit_head, "audit_entries": ctx.case.audit_seq},
            "property_evidence": [{"file_id": f.id, "name": f.name, "sha256": f.sha256, "size": f.size, "side": d.side}
                                  for d, f in docs],
            "parties": [self.cases.party_material(p) for p in sorted(ctx.parties.values(), key=lambda p: p.side)],
            "recordings": [c.to_dict() for c in await recording_citations(s, ctx.case.id)],
        }

    @staticmethod
    async def _court_for(s: AsyncSession, ctx: CaseContext, court: str | None) -> str:
        if ctx.case.court is not None:
            if court not in (None, ctx.case.court):
                raise InvalidInput("wrong_court", f"this case belongs to {ctx.case.court} (the court that delegated it)")
            return ctx.case.court
        if not court:
            raise InvalidInput("missing_court", "name the court (where a party lives, the subject matter is, or the organisation sits)")
        return await require_listed(s, clean_text(court, "court", 100))

    async def apply_confirmation(self, actor: Actor, case_id: str, court: str | None, side: str | None = None) -> ApplicationView:
        """CPL art. 205: both parties apply, jointly, within 30 days of the agreement taking effect.
        The first side opens the application, the second joins it, and only then is it filed."""
        now = self.cases.clock.now()
        async with self.db.begin() as s:
            ctx = await self.cases.load_context(s, actor, case_id, lock=True)
            acting = self.cases.acting_side(ctx, side)
            result = await self._effective_agreement(s, ctx)
            assert result.effective_at is not None
            if now > result.effective_at + JC_APPLICATION_WINDOW:
                raise WrongState("window_closed", "the 30 days to apply for judicial confirmation have passed (CPL art. 205)")
            app = await s.scalar(select(CourtApplication).where(CourtApplication.case_id == case_id,
                                                                CourtApplication.kind == JUDICIAL_CONFIRMATION,
                                                                CourtApplication.status != "refused"))
            if app is None:
                court_name = await self._court_for(s, ctx, court)
                app = CourtApplication(id="J-" + secrets.token_hex(5).upper(), case_id=case_id, kind=JUDICIAL_CONFIRMATION,
                                       court=court_name, status="awaiting_joint", joined_sides=[acting], materials={},
                                       created_at=now, extended=False)
                s.add(app)
                await s.flush()
                self.cases.record(s, ctx, actor, "confirmation.opened", {"application_id": app.id, "side": acting,
                                                                          "court": court_name}, now)
            else:
                if app.status != "awaiting_joint" or acting in app.joined_sides:
                    raise WrongState("already_applied", f"the {acting} has already applied ({app.status})")
                if court not in (None, app.court):
                    raise InvalidInput("wrong_court", f"the other side applied to {app.court}; join that application")
                app.joined_sides = sorted([*app.joined_sides, acting])
                app.status = "filed"
                app.filed_at = now
                app.materials = await self._materials(s, ctx, result)
                ctx.case.court = app.court
                await complete_deadlines(s, case_id, "court:apply", now)
                await complete_deadlines(s, case_id, "step:", now)  # the docking step's standard is met
                open_deadline(s, case_id, f"court:accept:{app.id}", "the clerk accepts or refuses the application",
                              now, now + COURT_ACCEPTANCE_LIMIT, Responsible(role=str(Role.COURT_CLERK), court=app.court))
                self.cases.record(s, ctx, actor, "confirmation.filed", {"application_id": app.id, "side": acting,
                                                                         "materials": sorted(app.materials)}, now)
            view = _view(app)
        await self.cases.publish(case_id, "court.application", application_id=view.id, status=view.status)
        return view

    async def apply_payment_order(self, actor: Actor, case_id: str, court: str | None,
                                  declarations: PaymentOrderDeclarations, side: str | None = None) -> ApplicationView:
        """The creditor applies; every condition of CPL art. 225 / interpretation art. 427 is checked
        and the unmet ones are returned by name."""
        now = self.cases.clock.now()
        async with self.db.begin() as s:
            ctx = await self.cases.load_context(s, actor, case_id, lock=True)
            acting = self.cases.acting_side(ctx, side)
            result = await self._effective_agreement(s, ctx)
            terms = result.payment_terms
            if terms is not None and acting != other_side(terms["debtor_side"]):
                raise Forbidden("not_the_creditor", "only the creditor applies for a payment order")
            checks = payment_order_checks(terms, now.date(), declarations)
            unmet = [c for c in checks if not c.met]
            if unmet:
                raise InvalidInput("payment_order_conditions", "the conditions for a payment order are not met",
                                   {"unmet": [c.as_dict() for c in unmet]})
            existing = await s.scalar(select(CourtApplication.id).where(
                CourtApplication.case_id == case_id, CourtApplication.kind == PAYMENT_ORDER,
                CourtApplication.status.in_(("filed", "accepted"))))
            if existing is not None:
                raise WrongState("already_applied", "a payment order application is already pending")
            court_name = await self._court_for(s, ctx, court)
            materials = await self._materials(s, ctx, result)
            materials["checks"] = [c.as_dict() for c in checks]
            app = CourtApplication(id="P-" + secrets.token_hex(5).upper(), case_id=case_id, kind=PAYMENT_ORDER,
                                   court=court_name, status="filed", joined_sides=[acting], materials=materials,
                                   created_at=now, filed_at=now, extended=False)
            s.add(app)
            await s.flush()
            ctx.case.court = court_name
            open_deadline(s, case_id, f"court:accept:{app.id}", "the clerk accepts or refuses the payment-order application",
                          now, now + PAYMENT_ORDER_ACCEPTANCE_LIMIT, Responsible(role=str(Role.COURT_CLERK), court=court_name))
            self.cases.record(s, ctx, actor, "payment_order.filed", {"application_id": app.id, "side": acting,
                                                                      "amount_fen": terms["amount_fen"] if terms else None}, now)
            view = _view(app)
        await self.cases.publish(case_id, "court.application", application_id=view.id, status=view.status)
        return view

    async def _load_application(self, s: AsyncSession, actor: Actor, application_id: str, *, lock: bool = False
                                ) -> tuple[CourtApplication, CaseContext]:
        app = await s.get(CourtApplication, application_id) if is_identifier(application_id) else None
        if app is None:
            raise NotFound("application_not_found", f"no application {application_id} that you can see")
        try:
            ctx = await self.cases.load_context(s, actor, app.case_id, lock=lock)
        except NotFound:
            raise NotFound("application_not_found", f"no application {application_id} that you can see") from None
        return app, ctx

    @staticmethod
    def _require_court(actor: Actor, app: CourtApplication, role: Role) -> None:
        if actor.role != role or actor.court != app.court:
            raise Forbidden("forbidden", f"only a {role} of {app.court} does this")

    async def decide_acceptance(self, actor: Actor, application_id: str, accept: bool, reasons: str = "") -> ApplicationView:
        reasons = clean_text(reasons, "reasons", 2000, required=not accept)
        now = self.cases.clock.now()
        async with self.db.begin() as s:
            app, ctx = await self._load_application(s, actor, application_id, lock=True)
            self._require_court(actor, app, Role.COURT_CLERK)
            if app.status != "filed":
                raise WrongState("wrong_status", f"the application is {app.status}, not waiting for acceptance")
            app.status = "accepted" if accept else "refused"
            app.decided_at = now
            app.reasons = reasons or None
            await complete_deadlines(s, app.case_id, f"court:accept:{app.id}", now)
            if accept:
                limit = COURT_RULING_LIMIT if app.kind == JUDICIAL_CONFIRMATION else PAYMENT_ORDER_LIMIT
                open_deadline(s, app.case_id, f"court:rule:{app.id}", "the judge rules on the application", now,
                              now + limit, Responsible(role=str(Role.JUDGE), court=app.court))
            self.cases.record(s, ctx, actor, "court.accepted" if accept else "court.refused",
                              {"application_id": app.id, "reasons": reasons}, now)
            view = _view(app)
        await self.cases.publish(app.case_id, "court.application", application_id=view.id, status=view.status)
        return view

    async def extend(self, actor: Actor, application_id: str, reason: str) -> ApplicationView:
        """The ruling limit is extendable once, by 10 days, for judicial confirmation."""
        reason = clean_text(reason, "reason", 1000)
        now = self.cases.clock.now()
        async with self.db.begin() as s:
            app, ctx = await self._load_application(s, actor, application_id, lock=True)
            self._require_court(actor, app, Role.JUDGE)
            if app.kind != JUDICIAL_CONFIRMATION or app.status != "accepted" or app.extended:
                raise WrongState("cannot_extend", "only an accepted confirmation not yet extended can be extended, once")
            assert app.decided_at is not None
            app.extended = True
            await extend_deadline(s, app.case_id, f"court:rule:{app.id}",
                                  app.decided_at + COURT_RULING_LIMIT + COURT_RULING_EXTENSION)
            self.cases.record(s, ctx, actor, "court.extended", {"application_id": app.id, "reason": reason}, now)
            view = _view(app)
        await self.cases.publish(app.case_id, "court.application", application_id=view.id, status=view.status)
        return view

    async def rule(self, actor: Actor, application_id: str, grant: bool, reasons: str) -> ApplicationView:
        """Judicial confirmation: the agreement is valid (CPL art. 206) or the application is rejected
        (interpretation art. 358). Payment order: issued, or rejected.

        The ruling document comes with the ruling: rendered and signed with the court's certificate
        outside any transaction (it takes a few tenths of a second), then stored and attached in the
        transaction that records the ruling, whose audit entry names its SHA-256. If the case's
        trail moved on or another ruling of the court took the case number meanwhile, it is made again."""
        reasons = clean_text(reasons, "reasons", 2000, required=not grant)
        if self.sign_ruling is None:
            raise Unavailable("rulings_unavailable", "this server cannot sign rulings (no court signing is set up)")
        now = self.cases.clock.now()
        async with self.db() as s:
            app, ctx = await self._load_application(s, actor, application_id)
            self._require_rulable(actor, app)
            content = await self._ruling_content(s, app, ctx, actor, grant, reasons, now)
        for _ in range(RULING_ATTEMPTS):
            blob = await self.cases.files.put(await self._signed(content))
            async with self.db.begin() as s:
                app, ctx = await self._load_application(s, actor, application_id, lock=True)
                self._require_rulable(actor, app)
                current = await self._ruling_content(s, app, ctx, actor, grant, reasons, now, lock=True)
                if current != content:
                    content = current
                    continue
                document = StoredFile(id="f_" + secrets.token_hex(8), sha256=blob.sha256, size=blob.size,
                                      media_type="application/pdf", path=blob.relative_path, uploaded_by=actor.id,
                                      name=f"{content.title}{content.statement.court_case_number}.pdf", created_at=now)
                s.add(document)
                await s.flush()
                app.ruling = content.statement.decision
                app.status = "ruled"
                app.reasons = reasons or None
                app.ruled_by = actor.id
                app.ruled_at = now
                app.ruling_document_id = document.id
                await complete_deadlines(s, app.case_id, f"court:rule:{app.id}", now)
                if app.kind == JUDICIAL_CONFIRMATION:
                    ctx.case.status = "closed"
                    await complete_deadlines(s, app.case_id, "step:", now)
                self.cases.record(s, ctx, actor, f"{app.kind}.ruled", {
                    "application_id": app.id, "ruling": app.ruling, "reasons": reasons,
                    "court_case_number": content.statement.court_case_number,
                    "document": {"file_id": document.id, "sha256": document.sha256}}, now)
                view = _view(app)
                break
        else:
            raise WrongState("ruling_contended", "the case kept changing while the ruling was being signed; try again")
        await self.cases.publish(app.case_id, "court.ruling", application_id=view.id, ruling=view.ruling)
        return view

    def _require_rulable(self, actor: Actor, app: CourtApplication) -> None:
        self._require_court(actor, app, Role.JUDGE)
        if app.status != "accepted":
            raise WrongState("wrong_status", f"the application is {app.status}; only accepted ones are ruled on")

    async def _signed(self, content: RulingContent) -> bytes:
        assert self.sign_ruling is not None
        try:
            return await self.sign_ruling(content)
        except RulingError as exc:
            raise Unavailable("ruling_not_signed", str(exc)) from None

    @staticmethod
    async def _court_case_number(s: AsyncSession, app: CourtApplication, ruled_at: datetime, *, lock: bool) -> str:
        """The court's number for this ruling: the year, the court's code, the case type and the next
        number among that court's rulings of this kind in the calendar year (China time). While the
        ruling is recorded the court's directory row is locked, so two rulings of one court cannot
        take the same number."""
        query = select(Court.code).where(Court.name == app.court)
        code = await s.scalar(query.with_for_update() if lock else query)
        year = ruled_at.astimezone(CHINA_TIME).year
        earlier = await s.scalar(select(func.count()).select_from(CourtApplication).where(
            CourtApplication.court == app.court, CourtApplication.kind == app.kind, CourtApplication.status == "ruled",
            CourtApplication.ruled_at >= datetime(year, 1, 1, tzinfo=CHINA_TIME),
            CourtApplication.ruled_at < datetime(year + 1, 1, 1, tzinfo=CHINA_TIME)))
        return f"({year}){code or ''}{CASE_TYPES[app.kind]}{(earlier or 0) + 1}号"

    async def _ruling_content(self, s: AsyncSession, app: CourtApplication, ctx: CaseContext, actor: Actor,
                              grant: bool, reasons: str, ruled_at: datetime, *, lock: bool = False) -> RulingContent:
        """What the ruling says, from the application as filed (its parties and agreement, with
        the agreement file's SHA-256 when the application carries it) and the case's audit head."""
        agreement = app.materials.get("agreement") or {}
        terms = agreement.get("payment_terms")
        if app.kind == JUDICIAL_CONFIRMATION:
            decision, creditor = ("valid" if grant else "rejected"), None
        else:
            decision, creditor = ("issued" if grant else "rejected"), app.joined_sides[0]
        parties = sorted(app.materials.get("parties", []), key=lambda p: (p["side"] != (creditor or "applicant")))
        effective_at = agreement.get("effective_at")
        statement = RulingStatement(
            court=app.court, court_case_number=await self._court_case_number(s, app, ruled_at, lock=lock),
            kind=app.kind, decision=decision, application_id=app.id, case_id=app.case_id,
            agreement_id=agreement.get("agreement_id"), agreement_sha256=agreement.get("sha256"),
            audit_seq=ctx.case.audit_seq, audit_head=ctx.case.audit_head, ruled_at=ruled_at, judge=actor.name,
            seal_field=COURT_SEAL_FIELD)
        return RulingContent(
            statement=statement,
            parties=[RulingParty(title="respondent" if creditor and p["side"] != creditor else "applicant",
                                 name=p["name"], id_number=p.get("id_number"), address=p.get("address"))
                     for p in parties],
            organisation=ctx.case.organisation,
            agreement_effective_at=datetime.fromisoformat(effective_at) if effective_at else None,
            filed_at=app.filed_at, reasons=reasons or None,
            payment=PaymentDemand(amount_fen=terms["amount_fen"], due_date=date.fromisoformat(terms["due_date"]))
            if creditor and terms else None)

    @staticmethod
    def _receives_ruling(actor: Actor, ctx: CaseContext, app: CourtApplication) -> bool:
        """The case's parties (and their agents) and the clerks and judges of the court that ruled;
        the mediator and others who see the case do not receive the ruling."""
        return bool(ctx.relation.sides) or (actor.role in (Role.COURT_CLERK, Role.JUDGE) and actor.court == app.court)

    async def ruling_document(self, actor: Actor, application_id: str) -> RulingDocument:
        """The court-signed ruling, for those who receive it (:meth:`_receives_ruling`)."""
        async with self.db() as s:
            app, ctx = await self._load_application(s, actor, application_id)
            if not self._receives_ruling(actor, ctx, app):
                raise Forbidden("forbidden", "the ruling is served on the parties and kept by the court")
            stored = await s.get(StoredFile, app.ruling_document_id) if app.ruling_document_id else None
        if stored is None:
            raise NotFound("no_ruling_document", "the application has not been ruled on yet: there is no ruling document")
        return RulingDocument(app.id, stored.name, stored.media_type, self.cases.files.path(stored.path))

    async def ruling_files(self, s: AsyncSession, actor: Actor, ctx: CaseContext
                           ) -> list[tuple[CourtApplication, StoredFile]]:
        """The case's ruling documents this caller receives, oldest ruling first (for the case package)."""
        rows = (await s.execute(select(CourtApplication, StoredFile)
                                .join(StoredFile, StoredFile.id == CourtApplication.ruling_document_id)
                                .where(CourtApplication.case_id == ctx.case.id)
                                .order_by(CourtApplication.ruled_at))).tuples().all()
        return [(app, stored) for app, stored in rows if self._receives_ruling(actor, ctx, app)]

    async def application(self, actor: Actor, application_id: str) -> ApplicationView:
        async with self.db() as s:
            app, _ = await self._load_application(s, actor, application_id)
        return _view(app)

    async def applications_of_case(self, actor: Actor, case_id: str) -> list[ApplicationView]:
        async with self.db() as s:
            await self.cases.load_context(s, actor, case_id)
            rows = (await s.scalars(select(CourtApplication).where(CourtApplication.case_id == case_id)
                                    .order_by(CourtApplication.created_at))).all()
        return [_view(r) for r in rows]

    async def queue(self, actor: Actor) -> list[ApplicationView]:
        """A court's work: clerks see applications waiting for acceptance, judges those waiting for a ruling."""
        if actor.role not in (Role.COURT_CLERK, Role.JUDGE) or not actor.court:
            raise Forbidden("forbidden", "the court queue is for court clerks and judges")
        status = "filed" if actor.role == Role.COURT_CLERK else "accepted"
        async with self.db() as s:
            rows = (await s.scalars(select(CourtApplication).where(CourtApplication.court == actor.court,
                                                                   CourtApplication.status == status)
                                    .order_by(CourtApplication.filed_at))).all()
        return [_view(r) for r in rows]
