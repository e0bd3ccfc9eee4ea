"""The signing ceremony over HTTP, for signers: who is signing (signing link or session), what
they see (the session, pages, the document), and the steps begin, enroll, prepare, complete.

Who signs is a case participant. A signer who is signed in reaches their own slot with their
session (``/api/sign/…?agreement=ID``, the case page's ``sign.html?agreement=ID``); someone
without an account uses a *signing link*: the ``X-Signing-Token`` header carries a token in the
room token format (:class:`signaling.tokens.TokenIssuer`) under its own secret, so a room
invitation can never be used to sign, with ``room`` = agreement id and ``seat`` = the slot's key
and the participant it was issued to (``party:applicant/a_…``). The link is
``{base}/sign.html#<token>``: the fragment never reaches server logs.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
from pathlib import Path
from typing import Annotated

from aiohttp import web
from cryptography.hazmat.primitives.serialization import Encoding
from pydantic import BaseModel, Field

from signing.agreement import SignerSlot
from signing.agreement_versions import VersionState, VersionStatus
from signing.ceremony import CeremonyRefused, Signer

from ..auth import PUBLIC
from ..errors import ApiError
from ..openapi import api, principal_of
from ..tokens import TokenError
from .accounts import actor_for, domain_errors
from .agreements import (AGREEMENT_SERVICES_KEY, AGREEMENT_SETTINGS_KEY, CEREMONY_KEY, SIGNERS, SIGNING_TOKENS_KEY,
                         STORE_KEY, TAG, SlotOut, StrictIn, count_pages, current_version, int_param, page_png,
                         pdf_response, refusals, simulated_checks, slots_out)

SIGNING_TOKEN_HEADER = "X-Signing-Token"


def link_seat(slot: SignerSlot) -> str:
    """A signing link's seat: the slot's key and the participant it is bound to."""
    return f"{slot.signer_key}/{slot.participant_id}" if slot.participant_id else slot.signer_key


def _signer_of_seat(seat: str) -> Signer:
    signer_key, _, participant = seat.partition("/")
    return Signer(signer_key, participant or None)


class SignerContext:
    """Who is signing which agreement: by a signing link (the token names agreement and slot), or
    signed in as a case participant (the agreement comes with the request; the participant's
    slots are those that name their account)."""

    def __init__(self, agreement_id: str, participant_id: str | None, link: Signer | None):
        self.agreement_id = agreement_id
        self.participant_id = participant_id
        self.link = link

    def signer_for(self, state: VersionState, field_name: str) -> Signer:
        """The caller as the ceremony sees them when acting on ``field_name`` (it checks ownership)."""
        if self.link is not None:
            return self.link
        slot = next((s for s in state.slots if s.field_name == field_name), None)
        return Signer(slot.signer_key if slot else "", self.participant_id)

    def own_slots(self, state: VersionState) -> list[SignerSlot]:
        if self.link is not None:
            return [s for s in state.slots if self.link.owns(s)]
        return [s for s in state.slots if s.participant_id == self.participant_id]


async def signer_context(request: web.Request, agreement_id: str | None = None) -> SignerContext:
    """Authenticate a signer: the ``X-Signing-Token`` header, or else a session plus the agreement
    id (``?agreement=`` or the body's ``agreement_id``). A signed-in person with no slot in the
    agreement gets the 404 of an agreement that does not exist."""
    token = request.headers.get(SIGNING_TOKEN_HEADER)
    if token:
        try:
            claims = request.app[SIGNING_TOKENS_KEY].verify(token)
        except TokenError as exc:
            raise ApiError(401, exc.code, exc.message) from None
        return SignerContext(claims.room, None, _signer_of_seat(claims.seat))
    principal = principal_of(request)
    if principal.kind != "user":
        raise ApiError(401, "unauthenticated",
                       f"sign in, or send your signing link's token in {SIGNING_TOKEN_HEADER}")
    agreement_id = agreement_id or request.query.get("agreement")
    if not agreement_id:
        raise ApiError(400, "bad_request", "say which agreement: ?agreement=<id>")
    context = SignerContext(agreement_id, principal.subject, None)
    state = await current_version(request, agreement_id)
    if not principal.roles & SIGNERS or not context.own_slots(state):
        raise ApiError(404, "agreement_not_found", "no such agreement")
    return context


class Refusal(BaseModel):
    code: str
    message: str


class SignerSession(BaseModel):
    agreement_id: str
    case_id: str | None
    case_number: str
    version: int
    status: VersionStatus
    locked_sha256: str | None
    page_count: int
    #: The caller's slot this page signs: their first unsigned one (or their last, once all are signed).
    you: SlotOut | None
    #: Every slot of the caller (an agent acting for both sides has two).
    yours: list[SlotOut]
    slots: list[SlotOut]
    #: Why you cannot sign right now (``None``: you may sign).
    blocked: Refusal | None
    effective_at: dt.datetime | None
    #: This server offers ``POST /api/sign/identity/simulate`` (development, test identity gate only).
    identity_simulation: bool = False


async def _signer_session(request: web.Request, context: SignerContext) -> SignerSession:
    state = await current_version(request, context.agreement_id)
    slots = slots_out(state)
    own = {s.field_name for s in context.own_slots(state)}
    yours = [s for s in slots if s.field_name in own]
    you = next((s for s in yours if s.signed_at is None), yours[-1] if yours else None)
    blocked: Refusal | None = None
    pages = 0
    if state.locked_sha256 is not None:
        pages = await asyncio.to_thread(count_pages, await request.app[STORE_KEY].read_pdf(state))
    if you is None:
        blocked = Refusal(code="unknown_signer", message="you are not a signer of the current version")
    else:
        try:
            await request.app[CEREMONY_KEY].turn(state.agreement_id, state.version,
                                                 context.signer_for(state, you.field_name), you.field_name)
        except CeremonyRefused as exc:
            blocked = Refusal(code=exc.code.value, message=exc.message)
    return SignerSession(agreement_id=state.agreement_id, case_id=state.case_id, case_number=state.data.case_number,
                         version=state.version, status=state.status, locked_sha256=state.locked_sha256,
                         page_count=pages, you=you, yours=yours, slots=slots, blocked=blocked,
                         effective_at=state.effective_at, identity_simulation=simulated_checks(request.app))


@api.route("GET", "/api/sign/session", summary="What the signer sees: the agreement and their turn",
           allow=PUBLIC, tag=TAG, response=SignerSession)
async def signer_session(request: web.Request, _: None) -> SignerSession:
    """By signing link, or signed in with ``?agreement=``; tells the page whether its signer may
    sign now, and why not."""
    return await _signer_session(request, await signer_context(request))


class CaseSigning(BaseModel):
    """The signed-in participant's view of their case's agreement: which slot is theirs, whether
    it is their turn, and the page to sign on."""

    session: SignerSession
    sign_url: str


@api.route("GET", "/api/cases/{case_id}/signing", summary="Your slot in the case's agreement: is it your turn?",
           allow=SIGNERS, tag=TAG, response=CaseSigning)
@domain_errors
async def case_signing(request: web.Request, _: None) -> CaseSigning:
    """For the case page's "sign now": 404 ``no_agreement`` before the mediator drafts one."""
    services = request.app[AGREEMENT_SERVICES_KEY]
    case_id = request.match_info["case_id"]
    await services.cases.ensure_access(actor_for(principal_of(request)), case_id)
    info = await services.agreements.of_case(case_id)
    if info is None:
        raise ApiError(404, "no_agreement", "the mediator has not drafted this case's agreement yet")
    context = await signer_context(request, info.id)
    return CaseSigning(session=await _signer_session(request, context), sign_url=f"/sign.html?agreement={info.id}")


def _page_cache(request: web.Request) -> Path:
    """Rendered pages of stored revisions, named by the revision's SHA-256 (they never change)."""
    return request.app[AGREEMENT_SETTINGS_KEY].data_dir / "agreement-pages"


@api.route("GET", "/api/sign/pages/{page}", summary="One page of the current revision as PNG", allow=PUBLIC,
           tag=TAG)
async def signer_page(request: web.Request, _: None) -> web.FileResponse:
    """Pages as images: headless and mobile browsers all show a PNG, not all show a PDF."""
    context = await signer_context(request)
    state = await current_version(request, context.agreement_id)
    page = int_param(request.match_info["page"], "page")
    with refusals():
        pdf_path = await request.app[STORE_KEY].revision_path(state)
    return await page_png(pdf_path, page, _page_cache(request) / f"{pdf_path.name}-p{page}.png", "the document")


@api.route("GET", "/api/sign/document.pdf", summary="A revision of the signer's agreement (default: newest)",
           allow=PUBLIC, tag=TAG)
async def signer_document(request: web.Request, _: None) -> web.Response:
    """After the seal this is the final B-LTA PDF; ``?revision=0`` is the locked text itself."""
    context = await signer_context(request)
    state = await current_version(request, context.agreement_id)
    revision = request.query.get("revision")
    with refusals():
        pdf = await request.app[STORE_KEY].read_pdf(state, int_param(revision, "revision") if revision is not None else None)
    return pdf_response(pdf, f"{state.agreement_id}-v{state.version}.pdf")


class SignStep(StrictIn):
    version: int = Field(ge=1)
    field_name: Annotated[str, Field(min_length=1, max_length=64)]
    #: Only when signed in (a signing link names its agreement).
    agreement_id: Annotated[str, Field(min_length=1, max_length=32)] | None = None


class ChallengeOut(BaseModel):
    nonce: str  # base64
    expires_at: dt.datetime


class EnrollIn(SignStep):
    spki: Annotated[str, Field(min_length=1, max_length=1024)]  # base64 DER SubjectPublicKeyInfo
    proof: Annotated[str, Field(min_length=1, max_length=256)]  # base64 raw r||s over nonce||spki


class EnrollOut(BaseModel):
    certificate_pem: str
    not_after: dt.datetime


class PrepareOut(BaseModel):
    signed_attrs: str  # base64 DER, first byte 0x31
    byte_range: tuple[int, int, int, int]
    expires_at: dt.datetime


class CompleteIn(SignStep):
    signature: Annotated[str, Field(min_length=1, max_length=256)]  # base64 raw r||s


class CompleteOut(BaseModel):
    field_name: str
    signed_at: dt.datetime
    timestamp_at: dt.datetime | None
    effective_at: dt.datetime | None
    revision: int


def _b64(data: str, name: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "invalid_body", f"{name} is not valid base64") from None


async def _step_signer(request: web.Request, body: SignStep) -> tuple[str, Signer]:
    context = await signer_context(request, body.agreement_id)
    state = await current_version(request, context.agreement_id)
    return context.agreement_id, context.signer_for(state, body.field_name)


@api.route("POST", "/api/sign/begin", summary="Start key enrollment: a nonce to sign", allow=PUBLIC, tag=TAG,
           request=SignStep, response=ChallengeOut)
async def sign_begin(request: web.Request, body: SignStep) -> ChallengeOut:
    agreement_id, signer = await _step_signer(request, body)
    with refusals():
        challenge = await request.app[CEREMONY_KEY].begin(agreement_id, body.version, signer, body.field_name)
    return ChallengeOut(nonce=base64.b64encode(challenge.nonce).decode(), expires_at=challenge.expires_at)


@api.route("POST", "/api/sign/enroll", summary="Prove possession of the browser key; get the certificate",
           allow=PUBLIC, tag=TAG, request=EnrollIn, response=EnrollOut)
async def sign_enroll(request: web.Request, body: EnrollIn) -> EnrollOut:
    """The proof is the key's signature over nonce‖SPKI; needs a passed identity check. The
    certificate is issued only to the slot's own participant."""
    agreement_id, signer = await _step_signer(request, body)
    spki, proof = _b64(body.spki, "spki"), _b64(body.proof, "proof")
    with refusals():
        enrollment = await request.app[CEREMONY_KEY].enroll(agreement_id, body.version, signer, body.field_name,
                                                            spki, proof)
    return EnrollOut(certificate_pem=enrollment.certificate.public_bytes(Encoding.PEM).decode(),
                     not_after=enrollment.certificate.not_valid_after_utc)


@api.route("POST", "/api/sign/prepare", summary="Fix the next revision; get the signed attributes",
           allow=PUBLIC, tag=TAG, request=SignStep, response=PrepareOut)
async def sign_prepare(request: web.Request, body: SignStep) -> PrepareOut:
    """Download ``/api/sign/prepared.pdf`` next and check messageDigest before signing."""
    agreement_id, signer = await _step_signer(request, body)
    with refusals():
        prep = await request.app[CEREMONY_KEY].prepare(agreement_id, body.version, signer, body.field_name)
    return PrepareOut(signed_attrs=base64.b64encode(prep.signed_attrs_der).decode(), byte_range=prep.byte_range,
                      expires_at=prep.expires_at)


@api.route("GET", "/api/sign/prepared.pdf", summary="The prepared PDF the signed attributes cover",
           allow=PUBLIC, tag=TAG)
async def sign_prepared_pdf(request: web.Request, _: None) -> web.Response:
    context = await signer_context(request)
    version = int_param(request.query.get("version", ""), "version")
    field_name = request.query.get("field_name", "")
    state = await current_version(request, context.agreement_id)
    with refusals():
        pdf = request.app[CEREMONY_KEY].prepared_pdf(context.agreement_id, version,
                                                     context.signer_for(state, field_name), field_name)
    return pdf_response(pdf, "prepared.pdf")


@api.route("POST", "/api/sign/complete", summary="Hand in the signature; it is checked and embedded",
           allow=PUBLIC, tag=TAG, request=CompleteIn, response=CompleteOut)
async def sign_complete(request: web.Request, body: CompleteIn) -> CompleteOut:
    agreement_id, signer = await _step_signer(request, body)
    signature = _b64(body.signature, "signature")
    with refusals():
        state = await request.app[CEREMONY_KEY].complete(agreement_id, body.version, signer, body.field_name,
                                                         signature)
    record = state.signatures[-1]
    return CompleteOut(field_name=record.field_name, signed_at=record.signed_at, timestamp_at=record.timestamp_at,
                       effective_at=state.effective_at, revision=record.revision)
