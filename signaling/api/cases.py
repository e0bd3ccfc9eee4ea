"""Mediation cases over HTTP: the 7 steps, the court queue, deadlines and the audit trail.

Every endpoint declares the roles that may call it; the domain then checks the caller's relation
to the case (a case the caller has no part in is a 404, whatever its id). ``setup_cases`` is
what the app factory calls.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Literal
from urllib.parse import quote

from aiohttp import web
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from mediation.amounts import parse_amount_fen
from mediation.audit import read_trail, verify_chain
from mediation.cases import Application, PartyDetails, PaymentTerms
from mediation.clock import Clock, SystemClock
from mediation.court import PaymentOrderDeclarations, RulingSigner
from mediation.courts import NewCourt
from mediation.errors import Forbidden, MediationError
from mediation.rooms import CaseSeat, RoomInvitation, RoomScheduler
from mediation.schema import upgrade_engine
from mediation.services import MediationServices, build_services
from mediation.sms import LoggingSmsGateway, SmsGateway

from ..auth import PUBLIC, Principal
from ..config import Settings, ensure_secret, pii_key
from ..errors import ApiError
from ..openapi import Query, api, query_of
from ..periodic import run_periodically
from ..room_store import RoomOwner, RoomStore
from ..tokens import TokenIssuer
from .accounts import (ACCOUNT_ROLES, CASES_SETTINGS_KEY, SERVICES_KEY, Empty, Strict, actor_for, actor_of,
                       domain_errors, dump, services_of)

TAG = "cases"
COURT_TAG = "court"

PARTIES = frozenset({"party", "agent"})
MEDIATOR = frozenset({"mediator"})
COURT_STAFF = frozenset({"court_clerk", "judge"})
EVERYONE = ACCOUNT_ROLES | {"service"}
OVERSIGHT = frozenset({"platform_admin", "service"})


# --- wiring -----------------------------------------------------------------------------------
class RoomServiceScheduler:
    """The case system's :class:`RoomScheduler` over this server's rooms: a room per video session,
    and for each case participant a join token for their own seat."""

    def __init__(self, store: RoomStore, tokens: TokenIssuer, base_url: str):
        self.store = store
        self.tokens = tokens
        self.base_url = base_url.rstrip("/")

    async def create_room(self, case_id: str, opened_by: str, organisation: str | None) -> str:
        owner = RoomOwner(case_id=case_id, created_by=opened_by, organisation=organisation)
        return (await self.store.create(case_id, f"Mediation {case_id}", owner)).room_id

    def seat_of(self, room_id: str, seat: CaseSeat) -> str:
        """The participant's seat, the same every time: a party's is their case party's (signed in or
        by the mediator's link, one person is one seat), anyone else's their account's in that role."""
        if seat.role == "party" and seat.participant is not None:
            holder = f"party:{seat.participant}"
        elif seat.account_id is not None:
            holder = f"account:{seat.account_id}:{seat.role}:{seat.side}"
        else:
            raise ValueError("a seat without an account must be bound to a case party")
        return self.tokens.stable_seat(room_id, holder)

    async def invite(self, room_id: str, seat: CaseSeat) -> RoomInvitation:
        seat_id = self.seat_of(room_id, seat)
        if await self.store.is_removed(room_id, seat_id, seat.account_id):
            raise Forbidden("removed_from_room", "the mediator removed you from this video session")
        token, claims = self.tokens.issue(room_id, seat.role, seat.name[:64], seat.side, seat=seat_id,
                                          account_id=seat.account_id, case_role=seat.case_role,
                                          participant=seat.participant)
        return RoomInvitation(room_id=room_id, seat=seat_id, url=f"{self.base_url}/join#{token}", token=token,
                              expires_at=datetime.fromtimestamp(claims.exp, timezone.utc), role=claims.role,
                              side=claims.side, name=claims.name, case_role=seat.case_role,
                              account_id=seat.account_id, participant=seat.participant)


class SocketIoCaseEvents:
    """Publishes case progress to the Socket.IO room ``case:<id>`` as the event ``case:event``."""

    def __init__(self, sio: Any):  # socketio.AsyncServer
        self.sio = sio

    async def publish(self, case_id: str, event: dict[str, Any]) -> None:
        await self.sio.emit("case:event", {"case_id": case_id, **event}, room=f"case:{case_id}")


async def may_follow_case(services: MediationServices, principal: Principal, case_id: str) -> bool:
    """For the Socket.IO layer: may this caller join ``case:<id>``? Exactly those who may read the case."""
    if principal.kind not in ("user", "service"):
        return False
    try:
        await services.cases.ensure_access(actor_for(principal), case_id)
    except MediationError:
        return False
    return True


def create_case_services(settings: Settings, engine: AsyncEngine, *, rooms: RoomScheduler | None,
                         clock: Clock | None = None, sms: SmsGateway | None = None,
                         sign_ruling: RulingSigner | None = None) -> MediationServices:
    """The case system for this server: PII and one-time-code keys from the data directory, SMS
    codes to a file there unless a real gateway is given; judges rule only with ``sign_ruling``."""
    return build_services(engine, data_dir=settings.data_dir, pii_key=pii_key(settings),
                          code_key=ensure_secret(settings, "one-time-code.key"),
                          clock=clock or SystemClock(), sms=sms or LoggingSmsGateway(settings.data_dir), rooms=rooms,
                          max_upload_bytes=settings.max_upload_bytes, sign_ruling=sign_ruling)


def setup_cases(app: web.Application, settings: Settings, engine: AsyncEngine, services: MediationServices, *,
                scan_interval: float | None = 60.0) -> None:
    """Make the services reachable from handlers, migrate the tables at start-up, and scan for
    overdue deadlines every ``scan_interval`` seconds (``None``: only on ``POST /api/deadlines/scan``)."""
    app[SERVICES_KEY] = services
    app[CASES_SETTINGS_KEY] = settings

    async def migrate(_: web.Application) -> None:
        await upgrade_engine(engine, pii_key=pii_key(settings))

    app.on_startup.append(migrate)
    if scan_interval is not None:
        run_periodically(app, "deadline scan", scan_interval, services.deadlines.scan)


def _case_id(request: web.Request) -> str:
    return request.match_info["case_id"]


def _application_id(request: web.Request) -> str:
    return request.match_info["application_id"]


def content_disposition(disposition: Literal["inline", "attachment"], name: str, fallback: str) -> str:
    """``inline``/``attachment`` with the file's own name (RFC 5987/6266 ``filename*``, so Chinese
    names survive) and a plain ASCII ``fallback`` for clients that read only ``filename``."""
    plain = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in fallback)
    return f"{disposition}; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


Side = Literal["applicant", "respondent"]


# --- bodies -----------------------------------------------------------------------------------
class PartyIn(Strict):
    kind: Literal["person", "company"] = "person"
    name: str = Field(min_length=1, max_length=100, description="a person's name or a company's registered name")
    phone: str = Field(min_length=6, max_length=16, description="a company's: the phone of the person who answers for it")
    id_number: str | None = Field(default=None, min_length=1, max_length=32,
                                  description="a person's resident ID number (a respondent's may be left out when "
                                              "unknown), or a company's unified social credit code")
    address: str = Field(min_length=1, max_length=200)
    representative: str | None = Field(default=None, max_length=100, description="a company's legal representative")

    def domain(self) -> PartyDetails:
        return PartyDetails(self.name, self.phone, self.id_number, self.address, self.kind, self.representative)


class CaseApplication(Strict):
    dispute_type: str = Field(min_length=1, max_length=40)
    claims: str = Field(min_length=1, max_length=5000)
    facts: str = Field(min_length=1, max_length=5000)
    amount: str | None = Field(default=None, max_length=40,
                               description="yuan as people write it: 18600, 18,600.50, ¥18600.00, 1.86万")
    applicant: PartyIn | None = Field(default=None, description="required for delegations; an online applicant's "
                                                                "name, phone and ID number come from their account")
    applicant_address: str = Field(default="", max_length=200, description="an online applicant's address")
    respondent: PartyIn
    court: str | None = Field(default=None, max_length=100)
    on_behalf_of: str | None = Field(default=None, max_length=32)

    def domain(self) -> Application:
        amount_fen = None if self.amount in (None, "") else parse_amount_fen(self.amount)
        return Application(self.dispute_type, self.claims, self.facts,
                           None if self.applicant is None else self.applicant.domain(), self.respondent.domain(),
                           amount_fen, self.court, self.on_behalf_of, self.applicant_address)


class ConsentIn(Strict):
    consent: bool
    reason: str = Field(default="", max_length=1000)
    side: Side | None = None


class ChooseMediator(Strict):
    mediator_id: str = Field(min_length=1, max_length=32)
    side: Side | None = None


class AssignmentIn(Strict):
    accept: bool
    reason: str = Field(default="", max_length=500)


class MessageIn(Strict):
    text: str = Field(min_length=1, max_length=2000)
    side: Side | None = None


class PaymentTermsIn(Strict):
    debtor_side: Side
    amount_fen: int = Field(gt=0, le=10**15)
    due_date: date
    money_only: bool
    counter_obligation: bool


class GuestLinkIn(Strict):
    side: Side


class VideoInvitation(BaseModel):
    """A join link for one seat of the case's room and who that seat is."""

    room_id: str
    seat: str = Field(description="the same for a person on every invitation")
    url: str = Field(description="open it to enter the room: /join#<token>")
    token: str
    expires_at: datetime
    role: Literal["mediator", "party", "agent", "observer"]
    side: Side | None
    name: str = Field(description="as the room shows it: the case party's or the account's name")
    case_role: str = Field(description="applicant_party, respondent_party, applicant_agent, respondent_agent, "
                                       "mediator, court_clerk or judge")
    account_id: str | None = Field(description="null for a guest without an account")
    participant: str | None = Field(description="the case party (row id) a party, agent or guest speaks for")

    @classmethod
    def of(cls, invitation: RoomInvitation) -> "VideoInvitation":
        return cls.model_validate(invitation, from_attributes=True)


class CaseDocumentOut(BaseModel):
    """A document of the case that the caller may open."""

    id: str = Field(description="the stored file's id")
    name: str
    kind: Literal["evidence", "counselling", "power_of_attorney"] = Field(
        description="evidence filed before a mediator was chosen, counselling material (private to its side), "
                    "or the power of attorney of an agent of one of the case's parties")
    side: Side | None
    media_type: str = Field(description="as the uploader declared it; the file opens in the browser only when its "
                                        "content is a PDF or an image, anything else downloads")
    size: int
    sha256: str
    added_at: datetime
    added_by: str = Field(description="the uploader's account id")
    added_by_name: str | None
    url: str = Field(description="GET it for the file")


class CaseDocumentsOut(BaseModel):
    documents: list[CaseDocumentOut]


class AgreementIn(Strict):
    """The agreement itself is drafted from the case; ``payment_terms`` are what the court's
    payment-order checks read (CPL art. 225)."""

    payment_terms: PaymentTermsIn | None = None


class FailureIn(Strict):
    reasons: list[str] = Field(min_length=1, max_length=20)


class RatingIn(Strict):
    score: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=1000)
    side: Side | None = None


class ComplaintIn(Strict):
    text: str = Field(min_length=1, max_length=2000)


class ConfirmationIn(Strict):
    court: str | None = Field(default=None, max_length=100)
    side: Side | None = None


class PaymentOrderIn(Strict):
    court: str | None = Field(default=None, max_length=100)
    side: Side | None = None
    no_other_debt_dispute: bool
    debtor_reachable_in_china: bool
    no_pre_suit_preservation: bool


class DecisionIn(Strict):
    accept: bool
    reasons: str = Field(default="", max_length=2000)


class ExtensionIn(Strict):
    reason: str = Field(min_length=1, max_length=1000)


class RulingIn(Strict):
    grant: bool
    reasons: str = Field(default="", max_length=2000)


class CourtIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    region: str = Field(min_length=1, max_length=100)
    code: str | None = Field(default=None, max_length=20, description="the court's code in case numbers, e.g. 川0104")


# --- step 1 -----------------------------------------------------------------------------------
@api.route("POST", "/api/cases", summary="Apply for mediation (step 1)", allow=PARTIES, tag=TAG,
           request=CaseApplication, status=201)
@domain_errors
async def apply_for_mediation(request: web.Request, body: CaseApplication) -> Any:
    return dump(await services_of(request).filing.apply(actor_of(request), body.domain()))


@api.route("POST", "/api/cases/delegations", summary="A court delegates a case to mediation (step 1)",
           allow=frozenset({"court_clerk", "service"}), tag=TAG, request=CaseApplication, status=201)
@domain_errors
async def delegate_case(request: web.Request, body: CaseApplication) -> Any:
    return dump(await services_of(request).filing.delegate(actor_of(request), body.domain()))


class CasePage(Query):
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=10_000_000)


@api.route("GET", "/api/cases", summary="The cases you take part in", allow=EVERYONE, tag=TAG, query=CasePage)
@domain_errors
async def list_cases(request: web.Request, _: None) -> Any:
    """Query: ``limit`` (1-200, default 50), ``offset``."""
    page: CasePage = query_of(request)
    return dump(await services_of(request).cases.list_cases(actor_of(request), page.limit, page.offset))


@api.route("GET", "/api/cases/{case_id}", summary="A case: step, parties, deadlines, result", allow=EVERYONE, tag=TAG)
@domain_errors
async def get_case(request: web.Request, _: None) -> Any:
    return dump(await services_of(request).cases.view(actor_of(request), _case_id(request)))


@api.route("GET", "/api/cases/{case_id}/timeline", summary="Everything that happened on the case (audit trail)",
           allow=EVERYONE, tag=TAG)
@domain_errors
async def case_timeline(request: web.Request, _: None) -> Any:
    services = services_of(request)
    await services.cases.ensure_access(actor_of(request), _case_id(request))
    return dump(await read_trail(services.db, _case_id(request)))


@api.route("GET", "/api/cases/{case_id}/audit", summary="Verify the case's hash-chained audit trail",
           allow=EVERYONE, tag=TAG)
@domain_errors
async def verify_case_audit(request: web.Request, _: None) -> Any:
    services = services_of(request)
    await services.cases.ensure_access(actor_of(request), _case_id(request))
    return dump(await verify_chain(services.db, _case_id(request)))


@api.route("POST", "/api/cases/{case_id}/documents", summary="Upload evidence or counselling material",
           allow=PARTIES | MEDIATOR, tag=TAG, raw_body=True, content_type="application/octet-stream", status=201)
@domain_errors
async def upload_document(request: web.Request, _: None) -> Any:
    """Query: ``name`` (file name), ``side`` (when the uploader acts for both sides, or is the mediator)."""
    side = request.query.get("side")
    if side not in (None, "applicant", "respondent"):
        raise ApiError(422, "invalid_side", "side is applicant or respondent")
    return await services_of(request).documents.add_document(
        actor_of(request), _case_id(request), await request.read(), request.query.get("name", ""),
        request.content_type, side)


@api.route("GET", "/api/cases/{case_id}/documents", summary="The case's documents you may open", allow=EVERYONE,
           tag=TAG, response=CaseDocumentsOut)
@domain_errors
async def list_documents(request: web.Request, _: None) -> CaseDocumentsOut:
    """Evidence and the powers of attorney of the parties' agents for everyone who may open the
    case's documents (its parties and agents, mediator, organisation administrators, the clerks and
    judges of the court once the case applied to it, platform administrators, integrating systems);
    counselling material only for its own side, the mediator and oversight. Anyone else: the 404
    of a case that does not exist."""
    documents = await services_of(request).documents.documents(actor_of(request), _case_id(request))
    return CaseDocumentsOut(documents=[CaseDocumentOut.model_validate(d, from_attributes=True) for d in documents])


@api.route("GET", "/api/cases/{case_id}/documents/{document_id}", summary="Open one of the case's documents",
           allow=EVERYONE, tag=TAG)
@domain_errors
async def open_document(request: web.Request, _: None) -> web.FileResponse:
    """The file, streamed from the store. A PDF or an image (judged by its bytes, not its name or
    declared type) opens in the browser; anything else is sent as ``application/octet-stream`` to
    download, so an uploaded web page never runs on this origin."""
    found = await services_of(request).documents.document(actor_of(request), _case_id(request),
                                                      request.match_info["document_id"])
    disposition = "inline" if found.inline_type is not None else "attachment"
    return web.FileResponse(found.path, headers={
        "Content-Type": found.inline_type or "application/octet-stream",
        "Content-Disposition": content_disposition(disposition, found.document.name, found.document.name),
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


@api.route("POST", "/api/cases/{case_id}/consent", summary="Consent to or refuse mediation (step 1)",
           allow=PARTIES, tag=TAG, request=ConsentIn)
@domain_errors
async def answer_consent(request: web.Request, body: ConsentIn) -> Any:
    return dump(await services_of(request).filing.answer_consent(actor_of(request), _case_id(request), body.consent,
                                                                 body.reason, body.side))


# --- step 2 -----------------------------------------------------------------------------------
@api.route("POST", "/api/cases/{case_id}/mediator", summary="Choose the mediator (step 2)", allow=PARTIES, tag=TAG,
           request=ChooseMediator)
@domain_errors
async def choose_mediator(request: web.Request, body: ChooseMediator) -> Any:
    return dump(await services_of(request).mediator_choice.choose_mediator(actor_of(request), _case_id(request),
                                                                  body.mediator_id, body.side))


@api.route("POST", "/api/cases/{case_id}/assignment", summary="The chosen mediator accepts or declines",
           allow=MEDIATOR, tag=TAG, request=AssignmentIn)
@domain_errors
async def answer_assignment(request: web.Request, body: AssignmentIn) -> Any:
    return dump(await services_of(request).mediator_choice.answer_assignment(actor_of(request), _case_id(request), body.accept,
                                                                    body.reason))


# --- step 3 -----------------------------------------------------------------------------------
@api.route("POST", "/api/cases/{case_id}/messages", summary="Counselling message between a side and the mediator",
           allow=PARTIES | MEDIATOR, tag=TAG, request=MessageIn, status=201)
@domain_errors
async def send_message(request: web.Request, body: MessageIn) -> Any:
    return dump(await services_of(request).counselling.send_message(actor_of(request), _case_id(request), body.text,
                                                               body.side))


@api.route("GET", "/api/cases/{case_id}/messages", summary="Counselling messages you may read",
           allow=PARTIES | MEDIATOR | {"platform_admin"}, tag=TAG)
@domain_errors
async def list_messages(request: web.Request, _: None) -> Any:
    return dump(await services_of(request).counselling.messages(actor_of(request), _case_id(request)))


# --- step 4 -----------------------------------------------------------------------------------
@api.route("POST", "/api/cases/{case_id}/video", summary="Open the case's video room (step 4)", allow=MEDIATOR,
           tag=TAG, request=Empty)
@domain_errors
async def open_video(request: web.Request, _: Empty) -> Any:
    return dump(await services_of(request).video.open_video(actor_of(request), _case_id(request)))


@api.route("GET", "/api/cases/{case_id}/invitation",
           summary="Enter the case's video room: a join link for your own seat (party, agent, mediator, court observer)",
           allow=PARTIES | MEDIATOR | COURT_STAFF, tag=TAG, response=VideoInvitation)
@domain_errors
async def video_invitation(request: web.Request, _: None) -> VideoInvitation:
    """Only the caller's own seat: a party on their side, an agent on the represented party's side,
    the case's mediator, a clerk or judge of the case's court as an observer. The seat is the same
    on every call (the newest connection takes it over) and the name comes from the case. Query
    ``side`` only for an agent who represents both sides. At a scheduled session's time a case still
    in counselling has its room opened first (the schedule opens it for the mediator)."""
    side = request.query.get("side")
    if side not in (None, "applicant", "respondent"):
        raise ApiError(422, "invalid_side", "side is applicant or respondent")
    services, actor = services_of(request), actor_of(request)
    await services.sessions.open_if_due(actor, _case_id(request))
    return VideoInvitation.of(await services.video.invitation(actor, _case_id(request), side))


@api.route("POST", "/api/cases/{case_id}/video/guest-links",
           summary="A join link for a party who cannot sign in, bound to that case party", allow=MEDIATOR, tag=TAG,
           request=GuestLinkIn, response=VideoInvitation, status=201)
@domain_errors
async def video_guest_link(request: web.Request, body: GuestLinkIn) -> VideoInvitation:
    """For the case's mediator to pass on to a party who cannot sign in: the link opens that case
    party's own seat under the name the case records (the seat they also get signed in), so a
    removal holds whichever way they come back. The only link anyone copies; recorded in the audit trail."""
    return VideoInvitation.of(await services_of(request).video.guest_invitation(actor_of(request), _case_id(request),
                                                                                 body.side))


@api.route("POST", "/api/cases/{case_id}/video/conclude", summary="End video mediation, go to the result (step 5)",
           allow=MEDIATOR, tag=TAG, request=Empty)
@domain_errors
async def conclude_video(request: web.Request, _: Empty) -> Any:
    return dump(await services_of(request).video.conclude_video(actor_of(request), _case_id(request)))


# --- step 5 -----------------------------------------------------------------------------------
@api.route("POST", "/api/cases/{case_id}/agreement",
           summary="Draft the case's agreement from the case (step 5); it takes effect when the parties have signed",
           allow=MEDIATOR, tag=TAG, request=AgreementIn, status=201)
@domain_errors
async def record_agreement(request: web.Request, body: AgreementIn) -> Any:
    """Returns ``agreement_id``, where the mediator edits it (``editor_url``) and the case."""
    terms = None
    if body.payment_terms is not None:
        t = body.payment_terms
        terms = PaymentTerms(t.debtor_side, t.amount_fen, t.due_date.isoformat(), t.money_only, t.counter_obligation)
    services, actor = services_of(request), actor_of(request)
    agreement_id = await services.results.record_agreement(actor, _case_id(request), terms)
    return {"agreement_id": agreement_id, "editor_url": f"/agreement.html#{agreement_id}",
            "case": dump(await services.cases.view(actor, _case_id(request)))}


@api.route("POST", "/api/cases/{case_id}/failure", summary="Record that mediation failed, with reasons (step 5)",
           allow=MEDIATOR, tag=TAG, request=FailureIn)
@domain_errors
async def record_failure(request: web.Request, body: FailureIn) -> Any:
    return dump(await services_of(request).results.record_failure(actor_of(request), _case_id(request), body.reasons))


# --- step 6 -----------------------------------------------------------------------------------
@api.route("POST", "/api/cases/{case_id}/rating", summary="Rate the mediator 1-5 (step 6)", allow=PARTIES, tag=TAG,
           request=RatingIn)
@domain_errors
async def rate_mediator(request: web.Request, body: RatingIn) -> Any:
    return dump(await services_of(request).evaluation.rate(actor_of(request), _case_id(request), body.score, body.comment,
                                                       body.side))


@api.route("POST", "/api/cases/{case_id}/complaints", summary="Complain to the mediator's organisation",
           allow=PARTIES, tag=TAG, request=ComplaintIn, status=201)
@domain_errors
async def file_complaint(request: web.Request, body: ComplaintIn) -> Any:
    return await services_of(request).evaluation.complain(actor_of(request), _case_id(request), body.text)


@api.route("GET", "/api/complaints", summary="Complaints about your organisation's mediators",
           allow=frozenset({"org_admin"}), tag=TAG)
@domain_errors
async def list_complaints(request: web.Request, _: None) -> Any:
    return await services_of(request).evaluation.complaints(actor_of(request))


# --- step 7 -----------------------------------------------------------------------------------
@api.route("GET", "/api/cases/{case_id}/litigation-package", summary="The package for filing a lawsuit",
           allow=EVERYONE, tag=COURT_TAG)
@domain_errors
async def litigation_package(request: web.Request, _: None) -> Any:
    return await services_of(request).litigation.package(actor_of(request), _case_id(request))


@api.route("POST", "/api/cases/{case_id}/court/confirmation",
           summary="Apply (jointly) for judicial confirmation (step 7, CPL art. 205)", allow=PARTIES, tag=COURT_TAG,
           request=ConfirmationIn, status=201)
@domain_errors
async def apply_confirmation(request: web.Request, body: ConfirmationIn) -> Any:
    return dump(await services_of(request).court.apply_confirmation(actor_of(request), _case_id(request), body.court,
                                                                     body.side))


@api.route("POST", "/api/cases/{case_id}/court/payment-order",
           summary="Apply for a payment order (step 7, CPL art. 225)", allow=PARTIES, tag=COURT_TAG,
           request=PaymentOrderIn, status=201)
@domain_errors
async def apply_payment_order(request: web.Request, body: PaymentOrderIn) -> Any:
    declarations = PaymentOrderDeclarations(body.no_other_debt_dispute, body.debtor_reachable_in_china,
                                            body.no_pre_suit_preservation)
    return dump(await services_of(request).court.apply_payment_order(actor_of(request), _case_id(request), body.court,
                                                                      declarations, body.side))


@api.route("GET", "/api/cases/{case_id}/court/applications", summary="The case's court applications",
           allow=EVERYONE, tag=COURT_TAG)
@domain_errors
async def case_applications(request: web.Request, _: None) -> Any:
    return dump(await services_of(request).court.applications_of_case(actor_of(request), _case_id(request)))


@api.route("GET", "/api/court/queue", summary="Applications waiting for you (clerks: acceptance, judges: ruling)",
           allow=frozenset({"court_clerk", "judge"}), tag=COURT_TAG)
@domain_errors
async def court_queue(request: web.Request, _: None) -> Any:
    return dump(await services_of(request).court.queue(actor_of(request)))


@api.route("GET", "/api/court/applications/{application_id}", summary="One court application", allow=EVERYONE,
           tag=COURT_TAG)
@domain_errors
async def get_application(request: web.Request, _: None) -> Any:
    return dump(await services_of(request).court.application(actor_of(request), _application_id(request)))


@api.route("POST", "/api/court/applications/{application_id}/acceptance",
           summary="The clerk accepts or refuses (within 3 days)", allow=frozenset({"court_clerk"}), tag=COURT_TAG,
           request=DecisionIn)
@domain_errors
async def decide_acceptance(request: web.Request, body: DecisionIn) -> Any:
    return dump(await services_of(request).court.decide_acceptance(actor_of(request), _application_id(request),
                                                                    body.accept, body.reasons))


@api.route("POST", "/api/court/applications/{application_id}/extension",
           summary="The judge extends the ruling limit by 10 days (once)", allow=frozenset({"judge"}), tag=COURT_TAG,
           request=ExtensionIn)
@domain_errors
async def extend_ruling(request: web.Request, body: ExtensionIn) -> Any:
    return dump(await services_of(request).court.extend(actor_of(request), _application_id(request), body.reason))


@api.route("POST", "/api/court/applications/{application_id}/ruling",
           summary="The judge rules (within 15 days); the court-signed ruling PDF is made with it",
           allow=frozenset({"judge"}), tag=COURT_TAG, request=RulingIn)
@domain_errors
async def rule_on_application(request: web.Request, body: RulingIn) -> Any:
    return dump(await services_of(request).court.rule(actor_of(request), _application_id(request), body.grant,
                                                       body.reasons))


@api.route("GET", "/api/court/applications/{application_id}/ruling.pdf",
           summary="The court-signed ruling (parties; the clerks and judges of that court)",
           allow=PARTIES | {"court_clerk", "judge"}, tag=COURT_TAG)
@domain_errors
async def ruling_pdf(request: web.Request, _: None) -> web.FileResponse:
    ruling = await services_of(request).court.ruling_document(actor_of(request), _application_id(request))
    disposition = content_disposition("inline", ruling.name, f"ruling-{ruling.application_id}.pdf")
    return web.FileResponse(ruling.path, headers={"Content-Type": ruling.media_type, "Content-Disposition": disposition,
                                                  "Cache-Control": "private, no-store"})


# --- the court directory ----------------------------------------------------------------------
@api.route("GET", "/api/courts", summary="The courts one can apply to (and court staff belong to)", allow=PUBLIC,
           tag=COURT_TAG)
@domain_errors
async def list_courts(request: web.Request, _: None) -> Any:
    return dump(await services_of(request).courts.list())


@api.route("POST", "/api/courts", summary="List a court in the court directory", allow=frozenset({"platform_admin"}),
           tag=COURT_TAG, request=CourtIn, status=201)
@domain_errors
async def add_court(request: web.Request, body: CourtIn) -> Any:
    return dump(await services_of(request).courts.add(actor_of(request), NewCourt(body.name, body.region, body.code)))


# --- deadlines --------------------------------------------------------------------------------
@api.route("GET", "/api/me/flags", summary="Overdue steps you are responsible for", allow=ACCOUNT_ROLES, tag=TAG)
@domain_errors
async def my_flags(request: web.Request, _: None) -> Any:
    return dump(await services_of(request).deadlines.flags_for(actor_of(request)))


@api.route("POST", "/api/deadlines/scan", summary="Flag overdue deadlines now (also runs periodically)",
           allow=OVERSIGHT, tag=TAG, request=Empty)
@domain_errors
async def scan_deadlines(request: web.Request, _: Empty) -> Any:
    result = await services_of(request).deadlines.scan()
    return {"flagged": dump(result.flagged)}
