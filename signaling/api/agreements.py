"""Agreements over HTTP: the case's agreement edited and locked by its mediator, the signing
ceremony (signers), the seal (organisation) and the public verifier.

An agreement is created from its case (``POST /api/cases/{id}/agreement``, :mod:`.cases`) and
belongs to it: who may edit, lock or seal it follows the case (see
:meth:`mediation.cases.CaseService.may_manage_agreement`); anyone else gets the same 404 as for an
agreement that does not exist.

Who signs is a case participant. A signer who is signed in reaches their own slot with their
session (``/api/sign/…?agreement=ID``, the case page's ``sign.html?agreement=ID``); someone
without an account uses a *signing link*: the ``X-Signing-Token`` header carries a token in the
room token format (:class:`signaling.tokens.TokenIssuer`) under its own secret, so a room
invitation can never be used to sign, with ``room`` = agreement id and ``seat`` = the slot's key
and the participant it was issued to (``party:applicant/a_…``). The link is
``{base}/sign.html#<token>``: the fragment never reaches server logs.

Domain rules live in :mod:`signing.ceremony` and :mod:`mediation.agreement_store`; this module
only authenticates, translates JSON and bytes, and maps refusals to HTTP statuses.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import functools
import io
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Awaitable, Callable, Iterator

from aiohttp import BodyPartReader, web
from cryptography.hazmat.primitives.serialization import Encoding
from pydantic import BaseModel, ConfigDict, Field
from pyhanko.pdf_utils.reader import PdfFileReader

from identity.checks import SIMULATED, CheckOutcome, IdentityPolicy, StoredIdentityGate
from identity.attestation_review import review_attestations
from identity.gate import IdentityCheckRejected
from identity.provider import accept_verdict, load_anchors
from identity.recorder import CheckRecorder, CheckTarget
from mediation.agreement_drafting import IdentityChanged, keep_case_identities, masked
from mediation.agreement_store import SqlAgreementStore, pending_json_agreements
from mediation.services import MediationServices
from signing.agreement import AgreementData, DisputeType, SignerRole, SignerSlot
from signing.agreement_pdf import EvidenceAppendix, render_agreement
from signing.agreement_versions import VersionError, VersionState, VersionStatus
from signing.case_match import match_to_platform
from signing.ceremony import CeremonyRefused, RefusalCode, Signer, SigningCeremony, gate_key, slot_subject
from signing.pki import write_private
from signing.templates import CLOSING_CLAUSES, TEMPLATES
from signing.verification import MAX_PDF_BYTES, VerificationError, verify_upload_safely

from ..auth import PUBLIC
from ..config import Settings, ensure_secret
from ..errors import ApiError
from ..openapi import api, parse_model, principal_of
from ..recording_upload import is_zip, verify_recording_upload
from ..tokens import TokenError, TokenIssuer
from ..upload_spool import clear_stale, spooled
from .accounts import ACCOUNT_ROLES, actor_for, domain_errors
from .pki import PKI_KEY, TSA_KEY, platform_timestamper

STORE_KEY = web.AppKey("agreement_store", SqlAgreementStore)
AGREEMENT_SERVICES_KEY = web.AppKey("agreement_services", MediationServices)
CEREMONY_KEY = web.AppKey("signing_ceremony", SigningCeremony)
GATE_KEY = web.AppKey("identity_gate", StoredIdentityGate)
#: Certificates trusted to sign identity providers' verdicts (``identity_provider_certificates``).
PROVIDER_ANCHORS_KEY = web.AppKey("identity_provider_anchors", list)
#: Signs and stores every identity check (set by :func:`.signing_identity.setup_signing_identity`).
RECORDER_KEY = web.AppKey("identity_recorder", CheckRecorder)
SIGNING_TOKENS_KEY = web.AppKey("signing_tokens", TokenIssuer)
AGREEMENT_SETTINGS_KEY = web.AppKey("agreement_settings", Settings)

#: Who edits, locks and hands out signing links (each only for the agreements of their cases).
DRAFTERS = frozenset({"mediator", "org_admin", "service", "platform_admin"})
#: Who affixes the organisation's seal.
SEALERS = frozenset({"org_admin", "service"})
#: Who reports identity-check results (the identity service).
IDENTITY_REPORTERS = frozenset({"service"})
#: Case participants who sign with their own session.
SIGNERS = frozenset({"party", "agent", "mediator"})
SIGNING_TOKEN_HEADER = "X-Signing-Token"
TAG = "agreements"
PAGE_DPI = 80
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")

_REFUSAL_STATUS = {
    RefusalCode.NOT_YOUR_FIELD: 403,
    RefusalCode.IDENTITY_CHECK_REQUIRED: 403,
    RefusalCode.SERVER_CUSTODY_DISABLED: 403,
    RefusalCode.UNKNOWN_FIELD: 404,
    RefusalCode.BAD_SIGNATURE: 400,
    RefusalCode.POSSESSION_FAILED: 400,
}


class JsonAgreementsLeft(RuntimeError):
    """Start-up refused: agreements of the former JSON-file store are not in the database yet."""


def setup_agreements(app: web.Application, settings: Settings, services: MediationServices) -> None:
    """Install the identity gate and the ceremony over the case system's agreement store, wire the
    ceremony's "all parties signed" to the case, and refuse to start while JSON agreements of an
    older data directory wait for ``accord agreements import``. Call after ``install_pki``."""
    if PKI_KEY not in app:
        raise RuntimeError("setup_agreements needs the PKI: call signaling.api.pki.install_pki first")
    pki = app[PKI_KEY]
    timestamper = platform_timestamper(settings, app[TSA_KEY])
    if settings.identity_gate == "test" and settings.environment == "production":
        raise ValueError("the test identity gate is refused in production")
    gate = StoredIdentityGate(services.db, services.cases.clock, IdentityPolicy.parse(settings.identity_policy),
                              simulation=settings.identity_gate == "test")

    app[STORE_KEY] = services.agreements
    app[AGREEMENT_SERVICES_KEY] = services
    app[GATE_KEY] = gate
    app[PROVIDER_ANCHORS_KEY] = load_anchors(settings.identity_provider_certificates)
    app[CEREMONY_KEY] = SigningCeremony(services.agreements, pki, gate, timestamper,
                                         id_digest_key=ensure_secret(settings, "id-hash"),
                                         on_effective=services.results.signatures_took_effect,
                                         on_revision=services.results.agreement_revised)
    app[SIGNING_TOKENS_KEY] = TokenIssuer(ensure_secret(settings, "signing-token"), settings.token_ttl_seconds)
    app[AGREEMENT_SETTINGS_KEY] = settings
    clear_stale(settings.data_dir / "tmp")  # uploads to /api/verify a killed process left behind
    app[VERIFY_SLOTS_KEY] = asyncio.Semaphore(CONCURRENT_VERIFICATIONS)

    async def refuse_unimported(_: web.Application) -> None:
        left = pending_json_agreements(settings.data_dir)
        if left:
            raise JsonAgreementsLeft(
                f"{len(left)} agreement(s) of the former file store are in {settings.data_dir / 'agreements'} "
                f"but not in the database: run `accord agreements import --data-dir {settings.data_dir}` first")

    app.on_startup.insert(0, refuse_unimported)


# --- errors -------------------------------------------------------------------------------------


def _refusal(exc: CeremonyRefused) -> ApiError:
    return ApiError(_REFUSAL_STATUS.get(exc.code, 409), exc.code.value, exc.message)


def _version_error(exc: VersionError) -> ApiError:
    return ApiError(404 if exc.code.endswith("_not_found") else 409, exc.code, exc.message)


@contextmanager
def _refusals() -> Iterator[None]:
    """Turn the domain's refusals into API errors with the same codes."""
    try:
        yield
    except CeremonyRefused as exc:
        raise _refusal(exc) from None
    except VersionError as exc:
        raise _version_error(exc) from None


# --- models -------------------------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgreementEdit(_In):
    """What the editor sends. ``data`` is an :class:`~signing.agreement.AgreementData`; the case
    participants' names, ID numbers and accounts may be left out or sent masked as ``GET`` gave
    them: the server keeps its own copy (changing them is refused)."""

    data: dict[str, Any]
    evidence: EvidenceAppendix | None = None


class _Checked(_In):
    data: AgreementData
    evidence: EvidenceAppendix | None = None


class SlotOut(BaseModel):
    index: int
    field_name: str
    role: SignerRole
    signer_key: str
    name: str
    side: str | None
    #: The case participant (account id) who signs here; the organisation id for the seal.
    participant_id: str | None = None
    organisation_id: str | None = None
    signed_at: dt.datetime | None = None
    #: The signature's timestamp-token time (what the effective time is read from).
    timestamp_at: dt.datetime | None = None
    key_custody: str | None = None


class AgreementOut(BaseModel):
    agreement_id: str
    case_id: str | None
    version: int
    status: VersionStatus
    #: The agreement's data with the case participants' ID numbers masked.
    data: dict[str, Any]
    evidence: EvidenceAppendix
    locked_at: dt.datetime | None
    locked_sha256: str | None
    slots: list[SlotOut]
    effective_at: dt.datetime | None
    completed_at: dt.datetime | None
    final_sha256: str | None


def _slots(state: VersionState) -> list[SlotOut]:
    signed = {s.field_name: s for s in state.signatures}
    out = []
    for s in state.slots:
        record = signed.get(s.field_name)
        out.append(SlotOut(index=s.index, field_name=s.field_name, role=s.role, signer_key=s.signer_key, name=s.name,
                           side=s.side.value if s.side else None, participant_id=s.participant_id,
                           organisation_id=s.organisation_id, signed_at=record.signed_at if record else None,
                           timestamp_at=record.timestamp_at if record else None,
                           key_custody=record.key_custody if record else None))
    return out


def _agreement_out(state: VersionState) -> AgreementOut:
    return AgreementOut(agreement_id=state.agreement_id, case_id=state.case_id, version=state.version,
                        status=state.status, data=masked(state.data), evidence=state.evidence,
                        locked_at=state.locked_at, locked_sha256=state.locked_sha256, slots=_slots(state),
                        effective_at=state.effective_at, completed_at=state.completed_at,
                        final_sha256=state.final_sha256)


def _pdf_response(pdf: bytes, filename: str) -> web.Response:
    return web.Response(body=pdf, content_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{filename}"',
                                 "Cache-Control": "no-store"})


async def current_version(request: web.Request, agreement_id: str) -> VersionState:
    with _refusals():
        return await request.app[STORE_KEY].current(agreement_id)


def _account_of(request: web.Request) -> str | None:
    """The caller's account id (rows reference accounts; an integrating system has none)."""
    principal = principal_of(request)
    return principal.subject if principal.kind == "user" else None


def _managed_agreement(handler: Callable[[web.Request, Any], Awaitable[Any]]) -> Callable[[web.Request, Any], Awaitable[Any]]:
    """Row-level check for drafters and sealers: the agreement's case decides (see the module
    docstring). Anyone else gets the same 404 as for an agreement that does not exist."""

    @functools.wraps(handler)
    async def checked(request: web.Request, body: Any) -> Any:
        services = request.app[AGREEMENT_SERVICES_KEY]
        with _refusals():
            info = await services.agreements.info(request.match_info["agreement_id"])
        if not await services.cases.may_manage_agreement(actor_for(principal_of(request)), info):
            raise ApiError(404, "agreement_not_found", "no such agreement")
        return await handler(request, body)

    return checked


# --- mediator: edit, lock, links ----------------------------------------------------------------


@api.route("GET", "/api/agreements/{agreement_id}", summary="The current version of an agreement",
           allow=DRAFTERS, tag=TAG, response=AgreementOut)
@_managed_agreement
async def get_agreement(request: web.Request, _: None) -> AgreementOut:
    return _agreement_out(await current_version(request, request.match_info["agreement_id"]))


@api.route("PUT", "/api/agreements/{agreement_id}", summary="Edit the text (a new version once locked)",
           allow=DRAFTERS, tag=TAG, request=AgreementEdit, response=AgreementOut,
           max_body=1024 * 1024)  # a long agreement in Chinese with its evidence list
@_managed_agreement
async def edit_agreement(request: web.Request, body: AgreementEdit) -> AgreementOut:
    """A draft changes in place; a locked version is superseded by a new draft and its signatures
    lapse. The case participants' identities stay the case's (masked ID numbers are filled in)."""
    agreement_id = request.match_info["agreement_id"]
    current = await current_version(request, agreement_id)
    try:
        merged = keep_case_identities(current.data, body.data)
    except IdentityChanged as exc:
        raise ApiError(422, "invalid_body", "the case participants' identities come from the case",
                       {"errors": [{"field": f, "problem": p} for f, p in exc.problems]}) from None
    checked = parse_model(_Checked, {"data": merged, "evidence": body.evidence})
    assert isinstance(checked, _Checked)
    with _refusals():
        state = await request.app[STORE_KEY].edit(agreement_id, checked.data, _account_of(request), checked.evidence)
    return _agreement_out(state)


@api.route("GET", "/api/agreements/{agreement_id}/preview.pdf", summary="Render the current draft",
           allow=DRAFTERS, tag=TAG)
@_managed_agreement
async def preview_agreement(request: web.Request, _: None) -> web.Response:
    """The PDF as it would be locked now (not stored, not signable)."""
    state = await current_version(request, request.match_info["agreement_id"])
    rendered = await asyncio.to_thread(render_agreement, state.data, state.evidence,
                                       agreement_id=state.agreement_id, version=state.version)
    return _pdf_response(rendered.pdf, f"{state.agreement_id}-v{state.version}-preview.pdf")


@api.route("POST", "/api/agreements/{agreement_id}/versions/{version}/lock", summary="Lock the text",
           allow=DRAFTERS, tag=TAG, response=AgreementOut)
@_managed_agreement
async def lock_agreement(request: web.Request, _: None) -> AgreementOut:
    """Render the draft, store the PDF and fix its SHA-256; signing can start (the case's trail says so)."""
    with _refusals():
        state = await request.app[STORE_KEY].lock(request.match_info["agreement_id"],
                                                  _int(request.match_info["version"], "version"))
    await request.app[AGREEMENT_SERVICES_KEY].results.agreement_locked(actor_for(principal_of(request)), state)
    return _agreement_out(state)


@api.route("GET", "/api/agreements/{agreement_id}/versions/{version}/pdf",
           summary="A stored PDF revision (default: the newest)", allow=DRAFTERS, tag=TAG)
@_managed_agreement
async def version_pdf(request: web.Request, _: None) -> web.Response:
    store = request.app[STORE_KEY]
    revision = request.query.get("revision")
    with _refusals():
        state = await store.version(request.match_info["agreement_id"],
                                    _int(request.match_info["version"], "version"))
        pdf = await store.read_pdf(state, _int(revision, "revision") if revision is not None else None)
    return _pdf_response(pdf, f"{state.agreement_id}-v{state.version}.pdf")


class PreviewOut(BaseModel):
    sha256: str
    page_count: int


def _preview_dir(request: web.Request, agreement_id: str) -> Path:
    return request.app[AGREEMENT_SETTINGS_KEY].data_dir / "agreement-previews" / agreement_id


def _page_cache(request: web.Request) -> Path:
    """Rendered pages of stored revisions, named by the revision's SHA-256 (they never change)."""
    return request.app[AGREEMENT_SETTINGS_KEY].data_dir / "agreement-pages"


def _keep_only_preview(directory: Path, pdf: bytes, digest: str) -> Path:
    """Store this preview and drop older ones: one agreement keeps one preview on disk."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    for old in directory.iterdir():
        if not old.name.startswith(digest):
            old.unlink()
    path = directory / f"{digest}.pdf"
    write_private(path, pdf)  # the agreement's text, ID numbers in it
    return path


@api.route("POST", "/api/agreements/{agreement_id}/preview", summary="Render the current text as page images",
           allow=DRAFTERS, tag=TAG, response=PreviewOut)
@_managed_agreement
async def render_preview(request: web.Request, _: None) -> PreviewOut:
    """For the mediator's editor: renders the PDF as it would be locked now; fetch its pages as PNG
    from ``previews/{sha256}/pages/{page}`` (browsers show images everywhere, PDFs not always)."""
    state = await current_version(request, request.match_info["agreement_id"])
    rendered = await asyncio.to_thread(render_agreement, state.data, state.evidence,
                                       agreement_id=state.agreement_id, version=state.version)
    digest = rendered.sha256
    await asyncio.to_thread(_keep_only_preview, _preview_dir(request, state.agreement_id), rendered.pdf, digest)
    return PreviewOut(sha256=digest, page_count=await asyncio.to_thread(_page_count, rendered.pdf))


@api.route("GET", "/api/agreements/{agreement_id}/previews/{sha256}/pages/{page}",
           summary="One page of a rendered preview as PNG", allow=DRAFTERS, tag=TAG)
@_managed_agreement
async def preview_page(request: web.Request, _: None) -> web.FileResponse:
    agreement_id, digest = request.match_info["agreement_id"], request.match_info["sha256"]
    page = _int(request.match_info["page"], "page")
    pdf_path = _preview_dir(request, agreement_id) / f"{digest}.pdf"
    if not _SHA256_HEX.fullmatch(digest) or not pdf_path.exists():
        raise ApiError(404, "preview_not_found", "this preview was replaced by a newer one: render it again")
    return await _page_png(pdf_path, page, pdf_path.with_name(f"{digest}-p{page}.png"), "the preview")


class TemplateOut(BaseModel):
    dispute_type: DisputeType
    label_zh: str
    label_en: str
    facts_hint: str
    default_clauses: list[str]
    confidentiality: str


class TemplatesOut(BaseModel):
    templates: list[TemplateOut]
    closing_clauses: list[str]


@api.route("GET", "/api/agreement-templates", summary="Clause templates per dispute type", allow=DRAFTERS,
           tag=TAG, response=TemplatesOut)
async def agreement_templates(request: web.Request, _: None) -> TemplatesOut:
    """What the editor offers: the clauses a dispute type fills in when the mediator leaves them
    empty; the dispute types are the cases' own vocabulary."""
    return TemplatesOut(
        templates=[TemplateOut(dispute_type=t.dispute_type, label_zh=t.label_zh, label_en=t.label_en,
                               facts_hint=t.facts_hint, default_clauses=list(t.default_clauses),
                               confidentiality=t.confidentiality) for t in TEMPLATES.values()],
        closing_clauses=list(CLOSING_CLAUSES))


class SigningLink(BaseModel):
    field_name: str
    signer_key: str
    participant_id: str | None
    name: str
    role: SignerRole
    token: str
    url: str
    expires_at: dt.datetime


class SigningLinks(BaseModel):
    links: list[SigningLink]


def _seat(slot: SignerSlot) -> str:
    """A signing link's seat: the slot's key and the participant it is bound to."""
    return f"{slot.signer_key}/{slot.participant_id}" if slot.participant_id else slot.signer_key


def _signer_of_seat(seat: str) -> Signer:
    signer_key, _, participant = seat.partition("/")
    return Signer(signer_key, participant or None)


@api.route("POST", "/api/agreements/{agreement_id}/signing-links",
           summary="Signing links for signers without an account", allow=DRAFTERS, tag=TAG, response=SigningLinks)
@_managed_agreement
async def signing_links(request: web.Request, _: None) -> SigningLinks:
    """One link per party, agent and the mediator of the locked current version (the seal has
    none), each bound to its slot's participant. Signed-in participants need none: they sign
    from their case page."""
    state = await current_version(request, request.match_info["agreement_id"])
    if state.status is not VersionStatus.LOCKED:
        raise ApiError(409, "not_locked", "lock the agreement before sending signing links")
    tokens = request.app[SIGNING_TOKENS_KEY]
    base = request.app[AGREEMENT_SETTINGS_KEY].base_url
    links = []
    for slot in state.slots:
        if slot.role is SignerRole.ORGANISATION:
            continue
        token, claims = tokens.issue(state.agreement_id, slot.role.value, slot.name,
                                     slot.side.value if slot.side else None, seat=_seat(slot))
        links.append(SigningLink(field_name=slot.field_name, signer_key=slot.signer_key,
                                 participant_id=slot.participant_id, name=slot.name, role=slot.role, token=token,
                                 url=f"{base}/sign.html#{token}",
                                 expires_at=dt.datetime.fromtimestamp(claims.exp, dt.UTC)))
    return SigningLinks(links=links)


class VersionRef(_In):
    version: int = Field(ge=1)


@api.route("POST", "/api/agreements/{agreement_id}/seal", summary="Affix the organisation seal and archive",
           allow=SEALERS, tag=TAG, request=VersionRef, response=AgreementOut)
@_managed_agreement
async def seal_agreement(request: web.Request, body: VersionRef) -> AgreementOut:
    """After every other field is signed: the seal (server-held key), then the B-LTA archive timestamp."""
    with _refusals():
        state = await request.app[CEREMONY_KEY].seal(request.match_info["agreement_id"], body.version)
    return _agreement_out(state)


class SignedVerdictIn(_In):
    """A :class:`ProviderVerdict`'s JSON bytes as signed (base64), the signature (base64) and the
    provider's certificate (PEM): :mod:`identity.provider`."""

    payload: Annotated[str, Field(min_length=1, max_length=32 * 1024)]
    signature: Annotated[str, Field(max_length=4096)] | None = None
    certificate: Annotated[str, Field(max_length=16 * 1024)] | None = None


@api.route("POST", "/api/agreements/{agreement_id}/identity-checks", summary="Record an identity provider's check",
           allow=IDENTITY_REPORTERS, tag=TAG, request=SignedVerdictIn, status=201, scope="identity-provider")
async def record_identity_check(request: web.Request, body: SignedVerdictIn) -> dict[str, Any]:
    """For an identity provider holding an API key with the ``identity-provider`` scope (no other
    key may): a check it made, passed or failed, stored with the case like the server's own — only
    when the verdict is signed by a certificate of ``identity_provider_certificates`` (codes in
    :mod:`identity.provider`) and names this agreement. A ``checked_at`` in the future
    (``checked_at_in_future``) or already outside the gate's window (``checked_at_too_old``) is refused."""
    agreement_id = request.match_info["agreement_id"]
    state = await current_version(request, agreement_id)
    gate = request.app[GATE_KEY]
    try:
        accepted = accept_verdict(body.payload, body.signature, body.certificate, request.app[PROVIDER_ANCHORS_KEY],
                                  gate.clock.now(), agreement_id)
    except IdentityCheckRejected as exc:
        raise ApiError(422, exc.code, exc.message) from None
    verdict = accepted.verdict
    slot = next((s for s in state.slots if s.signer_key == verdict.signer_key), None)
    if slot is None:
        raise ApiError(404, "unknown_signer", f"the agreement has no signer {verdict.signer_key!r}")
    subject = slot_subject(state, slot)
    if subject.case_id is None or subject.participant_id is None:
        raise ApiError(422, "not_a_case_participant", "identity checks are made for a case participant: this "
                                                      "agreement's slot names none")
    try:
        recorded = await request.app[RECORDER_KEY].provider(
            CheckTarget(subject, state.version, slot.field_name), verdict.checked_at, accepted.evidence(),
            recorded_by=principal_of(request).subject, extra=accepted.envelope())
    except IdentityCheckRejected as exc:
        raise ApiError(422, exc.code, exc.message) from None
    check_id = recorded.check_id
    return {"recorded": True, "check_id": check_id}


def _simulated_checks(app: web.Application) -> bool:
    """Whether this server offers simulated identity checks: only with the test gate
    (``identity_gate = "test"``), which settings refuse in production."""
    return GATE_KEY in app and app[GATE_KEY].simulation


class SimulatedCheckIn(_In):
    field_name: Annotated[str, Field(min_length=1, max_length=64)]
    #: Only when signed in (a signing link names its agreement).
    agreement_id: Annotated[str, Field(min_length=1, max_length=32)] | None = None


class SimulatedCheckOut(BaseModel):
    field_name: str
    method: str
    checked_at: dt.datetime
    valid_until: dt.datetime


@api.route("POST", "/api/sign/identity/simulate",
           summary="Development only: record a simulated identity check for your own signature field",
           allow=PUBLIC, tag=TAG, request=SimulatedCheckIn, response=SimulatedCheckOut, only_if=_simulated_checks)
async def simulate_identity_check(request: web.Request, body: SimulatedCheckIn) -> SimulatedCheckOut:
    """Exists only on a server running the test identity gate (never in production), so that signing
    can be tried without a camera. Stores a check with method ``test`` for the caller's own slot
    (signing link or session), which every signature it allows states; anyone else's field is the
    404 of a field that does not exist."""
    context = await signer_context(request, body.agreement_id)
    state = await current_version(request, context.agreement_id)
    slot = next((s for s in context.own_slots(state) if s.field_name == body.field_name), None)
    if slot is None:
        raise ApiError(404, "unknown_field", f"you have no signature field {body.field_name!r}")
    gate = request.app[GATE_KEY]
    now = gate.clock.now()
    await gate.record(CheckOutcome(subject=slot_subject(state, slot), method=SIMULATED, passed=True, checked_at=now,
                                   recorded_by=slot.participant_id or "signing-link", score=1.0))
    return SimulatedCheckOut(field_name=slot.field_name, method=SIMULATED, checked_at=now,
                             valid_until=now + gate.window)


# --- signer: session, pages, ceremony -----------------------------------------------------------


def _int(raw: str, name: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "bad_request", f"{name} must be an integer") from None
    if value < 0:
        raise ApiError(400, "bad_request", f"{name} must not be negative")
    return value


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


def _page_count(pdf: bytes) -> int:
    return int(PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Count"])


async def _signer_session(request: web.Request, context: SignerContext) -> SignerSession:
    state = await current_version(request, context.agreement_id)
    slots = _slots(state)
    own = {s.field_name for s in context.own_slots(state)}
    yours = [s for s in slots if s.field_name in own]
    you = next((s for s in yours if s.signed_at is None), yours[-1] if yours else None)
    blocked: Refusal | None = None
    pages = 0
    if state.locked_sha256 is not None:
        pages = await asyncio.to_thread(_page_count, await request.app[STORE_KEY].read_pdf(state))
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
                         effective_at=state.effective_at, identity_simulation=_simulated_checks(request.app))


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


@api.route("GET", "/api/cases/{case_id}/agreement.pdf", summary="The case's signed and sealed agreement",
           allow=ACCOUNT_ROLES, tag=TAG)
@domain_errors
async def case_agreement_pdf(request: web.Request, _: None) -> web.Response:
    """The final archival PDF once everyone has signed and the seal is on (the case view's
    ``result.agreement_pdf_url``): for the case's parties and agents, its mediator, its
    organisation's administrators, the court it went to and platform administrators; the 404 of a
    case one cannot see for anyone else; 409 ``agreement_not_completed`` before."""
    services = request.app[AGREEMENT_SERVICES_KEY]
    state = await services.results.final_agreement(actor_for(principal_of(request)), request.match_info["case_id"])
    with _refusals():
        pdf = await request.app[STORE_KEY].read_pdf(state)
    return _pdf_response(pdf, f"{state.agreement_id}-v{state.version}.pdf")


async def _render_page(pdf_path: Path, page: int, target: Path) -> None:
    """``pdftoppm`` in a subprocess: poppler renders CJK reliably and the event loop stays free."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        out = Path(tmp) / "page"
        proc = await asyncio.create_subprocess_exec(
            "pdftoppm", "-f", str(page), "-l", str(page), "-r", str(PAGE_DPI), "-png", "-singlefile",
            str(pdf_path), str(out), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        _, err = await proc.communicate()
        if proc.returncode != 0:
            raise ApiError(500, "render_failed", f"could not render page {page}: {err.decode(errors='replace')[:200]}")
        (out.with_suffix(".png")).replace(target)


async def _page_png(pdf_path: Path, page: int, target: Path, what: str) -> web.FileResponse:
    """Page ``page`` of ``pdf_path`` as a PNG, rendered once into ``target``; counting pages reads the
    PDF, so it happens in a worker thread."""
    count = await asyncio.to_thread(lambda: _page_count(pdf_path.read_bytes()))
    if not 1 <= page <= count:
        raise ApiError(404, "page_not_found", f"{what} has pages 1 to {count}")
    if not target.exists():
        await _render_page(pdf_path, page, target)
    return web.FileResponse(target, headers={"Content-Type": "image/png", "Cache-Control": "no-store"})


@api.route("GET", "/api/sign/pages/{page}", summary="One page of the current revision as PNG", allow=PUBLIC,
           tag=TAG)
async def signer_page(request: web.Request, _: None) -> web.FileResponse:
    """Pages as images: headless and mobile browsers all show a PNG, not all show a PDF."""
    context = await signer_context(request)
    state = await current_version(request, context.agreement_id)
    page = _int(request.match_info["page"], "page")
    with _refusals():
        pdf_path = await request.app[STORE_KEY].revision_path(state)
    return await _page_png(pdf_path, page, _page_cache(request) / f"{pdf_path.name}-p{page}.png", "the document")


@api.route("GET", "/api/sign/document.pdf", summary="A revision of the signer's agreement (default: newest)",
           allow=PUBLIC, tag=TAG)
async def signer_document(request: web.Request, _: None) -> web.Response:
    """After the seal this is the final B-LTA PDF; ``?revision=0`` is the locked text itself."""
    context = await signer_context(request)
    state = await current_version(request, context.agreement_id)
    revision = request.query.get("revision")
    with _refusals():
        pdf = await request.app[STORE_KEY].read_pdf(state, _int(revision, "revision") if revision is not None else None)
    return _pdf_response(pdf, f"{state.agreement_id}-v{state.version}.pdf")


class SignStep(_In):
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
    with _refusals():
        challenge = await request.app[CEREMONY_KEY].begin(agreement_id, body.version, signer, body.field_name)
    return ChallengeOut(nonce=base64.b64encode(challenge.nonce).decode(), expires_at=challenge.expires_at)


@api.route("POST", "/api/sign/enroll", summary="Prove possession of the browser key; get the certificate",
           allow=PUBLIC, tag=TAG, request=EnrollIn, response=EnrollOut)
async def sign_enroll(request: web.Request, body: EnrollIn) -> EnrollOut:
    """The proof is the key's signature over nonce‖SPKI; needs a passed identity check. The
    certificate is issued only to the slot's own participant."""
    agreement_id, signer = await _step_signer(request, body)
    spki, proof = _b64(body.spki, "spki"), _b64(body.proof, "proof")
    with _refusals():
        enrollment = await request.app[CEREMONY_KEY].enroll(agreement_id, body.version, signer, body.field_name,
                                                            spki, proof)
    return EnrollOut(certificate_pem=enrollment.certificate.public_bytes(Encoding.PEM).decode(),
                     not_after=enrollment.certificate.not_valid_after_utc)


@api.route("POST", "/api/sign/prepare", summary="Fix the next revision; get the signed attributes",
           allow=PUBLIC, tag=TAG, request=SignStep, response=PrepareOut)
async def sign_prepare(request: web.Request, body: SignStep) -> PrepareOut:
    """Download ``/api/sign/prepared.pdf`` next and check messageDigest before signing."""
    agreement_id, signer = await _step_signer(request, body)
    with _refusals():
        prep = await request.app[CEREMONY_KEY].prepare(agreement_id, body.version, signer, body.field_name)
    return PrepareOut(signed_attrs=base64.b64encode(prep.signed_attrs_der).decode(), byte_range=prep.byte_range,
                      expires_at=prep.expires_at)


@api.route("GET", "/api/sign/prepared.pdf", summary="The prepared PDF the signed attributes cover",
           allow=PUBLIC, tag=TAG)
async def sign_prepared_pdf(request: web.Request, _: None) -> web.Response:
    context = await signer_context(request)
    version = _int(request.query.get("version", ""), "version")
    field_name = request.query.get("field_name", "")
    state = await current_version(request, context.agreement_id)
    with _refusals():
        pdf = request.app[CEREMONY_KEY].prepared_pdf(context.agreement_id, version,
                                                     context.signer_for(state, field_name), field_name)
    return _pdf_response(pdf, "prepared.pdf")


@api.route("POST", "/api/sign/complete", summary="Hand in the signature; it is checked and embedded",
           allow=PUBLIC, tag=TAG, request=CompleteIn, response=CompleteOut)
async def sign_complete(request: web.Request, body: CompleteIn) -> CompleteOut:
    agreement_id, signer = await _step_signer(request, body)
    signature = _b64(body.signature, "signature")
    with _refusals():
        state = await request.app[CEREMONY_KEY].complete(agreement_id, body.version, signer, body.field_name,
                                                         signature)
    record = state.signatures[-1]
    return CompleteOut(field_name=record.field_name, signed_at=record.signed_at, timestamp_at=record.timestamp_at,
                       effective_at=state.effective_at, revision=record.revision)


# --- public verifier ----------------------------------------------------------------------------

VERIFY_SLOTS_KEY = web.AppKey("verify_slots", asyncio.Semaphore)
#: Verifications running at once: each is a child process, and the verifier is public.
CONCURRENT_VERIFICATIONS = 2
#: Room for a multipart envelope around the file.
_ENVELOPE = 64 * 1024


def _pdf_limit(settings: Settings) -> int:
    return min(settings.max_upload_bytes, MAX_PDF_BYTES)


def _verify_body_limit(app: web.Application) -> int:
    """The largest body ``/api/verify`` reads: a recording package's limit (a PDF's is smaller)."""
    settings = app[AGREEMENT_SETTINGS_KEY]
    return max(_pdf_limit(settings), settings.max_package_bytes) + _ENVELOPE


async def _upload_reader(request: web.Request) -> Callable[[int], Awaitable[bytes]]:
    """How to read the uploaded file: the raw body, or the form field ``file``."""
    if request.content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            if isinstance(part, BodyPartReader) and part.name == "file":
                return part.read_chunk
        raise ApiError(400, "no_file", "send the PDF in a form field named 'file'")
    if request.content_type not in ("application/pdf", "application/octet-stream", "application/zip"):
        raise ApiError(415, "unsupported_media_type",
                       "send the PDF as application/pdf or as multipart/form-data field 'file'")
    return request.content.read


@api.route("POST", "/api/verify", summary="Verify a signed agreement PDF or a recording package zip (public)",
           allow=PUBLIC, tag=TAG,
           raw_body=True, content_type="application/pdf", max_body_of=_verify_body_limit)
async def verify_upload(request: web.Request, _: None) -> dict[str, Any]:
    """Every signature, the document timestamps, the expected fields and the verdict. The check runs
    in a child process with time and memory limits: a malformed or hostile file cannot hurt the server.
    Each signature citing identity attestations gets ``attestations``, one per check that allowed it
    (status ``valid``, ``missing``, ``invalid`` or ``mismatched``, reason codes, methods, verdict,
    scores and thresholds, challenges, time), checked here against the blobs stored with the case. ``platform`` matches the file to its agreement and case here (ids, statuses and hashes only), by
    the revision hashes the child computed. The body is streamed to a private temporary file: a
    PDF may be at most ``min(max_upload_bytes, 20 MiB)``, a recording package zip (recognised by its
    first bytes) at most ``max_package_bytes``; ``x-max-body-bytes`` is the larger plus a form envelope."""
    settings = request.app[AGREEMENT_SETTINGS_KEY]

    def limit_for(head: bytes) -> int:
        return settings.max_package_bytes if is_zip(head) else _pdf_limit(settings)

    read = await _upload_reader(request)
    async with spooled(read, settings.data_dir / "tmp", limit_for) as upload:
        if not upload.size:
            raise ApiError(400, "empty_upload", "the upload is empty")
        roots = await asyncio.to_thread(request.app[CEREMONY_KEY].seals.trusted_roots)
        if is_zip(upload.head):  # a downloaded recording package, recognised by its content
            async with request.app[VERIFY_SLOTS_KEY]:
                return await verify_recording_upload(upload.path, roots)
        pdf = await asyncio.to_thread(upload.path.read_bytes)  # at most the PDF limit
    async with request.app[VERIFY_SLOTS_KEY]:
        try:
            verified = await asyncio.to_thread(verify_upload_safely, pdf, roots)
        except VerificationError as exc:
            raise ApiError(422, "unverifiable_pdf", str(exc)) from None
        verified.report.platform = await match_to_platform(pdf, request.app[STORE_KEY].locked_with,
                                                           prefixes=verified.prefix_hashes)
    # The attestations cited by the signatures, from the database (never in the sandboxed child):
    # an agreement of this platform must find each of them here.
    await review_attestations(verified.report, request.app[GATE_KEY].attestations, roots,
                              required=verified.report.platform.found, case_id=verified.report.platform.case_id)
    return verified.report.to_dict()
