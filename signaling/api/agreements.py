"""Agreements over HTTP: drafting and locking (mediator), the signing ceremony (signers), the seal
(organisation) and the public verifier.

Who is calling:

* the mediator, the organisation and integrating systems are principals (``mediator``,
  ``org_admin``, ``service`` ...) resolved by the auth middleware;
* a signer presents a *signing token* in the ``X-Signing-Token`` header: the room token format
  (:class:`signaling.tokens.TokenIssuer`) under its own secret, so a room invitation can never be
  used to sign, with ``room`` = agreement id and ``seat`` = the signer slot's key. The signing
  link is ``{base}/sign.html#<token>``: the fragment never reaches server logs.

Domain rules live in :mod:`signing.ceremony` and :mod:`signing.agreement_versions`; this module
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
from pyhanko.sign.timestamps import TimeStamper

from identity.gate import IdentityCheck, IdentityCheckRejected, RecordedIdentityGate, gate_for
from signing.agreement import AgreementData, DisputeType, SignerRole
from signing.agreement_pdf import EvidenceAppendix, render_agreement
from signing.agreement_versions import AgreementStore, VersionError, VersionState, VersionStatus
from signing.case_match import match_to_platform
from signing.ceremony import CeremonyRefused, RefusalCode, SigningCeremony, gate_key
from signing.templates import CLOSING_CLAUSES, TEMPLATES
from signing.tsa import InProcessTimeStamper, external_timestamper
from signing.verification import MAX_PDF_BYTES, VerificationError, verify_upload_safely

from ..auth import PUBLIC
from ..config import Settings, ensure_secret
from ..errors import ApiError
from ..openapi import api, principal_of
from ..tokens import JoinClaims, TokenError, TokenIssuer
from .pki import PKI_KEY, TSA_KEY

STORE_KEY = web.AppKey("agreement_store", AgreementStore)
CEREMONY_KEY = web.AppKey("signing_ceremony", SigningCeremony)
GATE_KEY = web.AppKey("identity_gate", RecordedIdentityGate)
SIGNING_TOKENS_KEY = web.AppKey("signing_tokens", TokenIssuer)
AGREEMENT_SETTINGS_KEY = web.AppKey("agreement_settings", Settings)

#: Who drafts, edits, locks and hands out signing links.
DRAFTERS = frozenset({"mediator", "org_admin", "service", "platform_admin"})
#: Who affixes the organisation's seal.
SEALERS = frozenset({"org_admin", "service"})
#: Who reports identity-check results (the identity service).
IDENTITY_REPORTERS = frozenset({"service"})
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


def setup_agreements(app: web.Application, settings: Settings) -> None:
    """Install the agreement store, identity gate and ceremony. Call after ``install_pki``."""
    if PKI_KEY not in app:
        raise RuntimeError("setup_agreements needs the PKI: call signaling.api.pki.install_pki first")
    pki = app[PKI_KEY]
    timestamper: TimeStamper = external_timestamper(settings.tsa_url) if settings.tsa_url \
        else InProcessTimeStamper(app[TSA_KEY])
    store = AgreementStore(settings.data_dir / "agreements")
    gate = gate_for(settings.identity_gate, settings.environment)
    app[STORE_KEY] = store
    app[GATE_KEY] = gate
    app[CEREMONY_KEY] = SigningCeremony(store, pki, gate, timestamper,
                                         id_digest_key=ensure_secret(settings, "id-hash"))
    app[SIGNING_TOKENS_KEY] = TokenIssuer(ensure_secret(settings, "signing-token"), settings.token_ttl_seconds)
    app[AGREEMENT_SETTINGS_KEY] = settings
    app[VERIFY_SLOTS_KEY] = asyncio.Semaphore(CONCURRENT_VERIFICATIONS)


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


class AgreementIn(_In):
    data: AgreementData
    evidence: EvidenceAppendix | None = None


class SlotOut(BaseModel):
    index: int
    field_name: str
    role: SignerRole
    signer_key: str
    name: str
    side: str | None
    signed_at: dt.datetime | None = None
    key_custody: str | None = None


class AgreementOut(BaseModel):
    agreement_id: str
    version: int
    status: VersionStatus
    data: AgreementData
    evidence: EvidenceAppendix
    locked_at: dt.datetime | None
    locked_sha256: str | None
    slots: list[SlotOut]
    effective_at: dt.datetime | None
    completed_at: dt.datetime | None
    final_sha256: str | None


def _slots(state: VersionState) -> list[SlotOut]:
    signed = {s.field_name: s for s in state.signatures}
    return [SlotOut(index=s.index, field_name=s.field_name, role=s.role, signer_key=s.signer_key, name=s.name,
                    side=s.side.value if s.side else None,
                    signed_at=signed[s.field_name].signed_at if s.field_name in signed else None,
                    key_custody=signed[s.field_name].key_custody if s.field_name in signed else None)
            for s in state.slots]


def _agreement_out(state: VersionState) -> AgreementOut:
    return AgreementOut(agreement_id=state.agreement_id, version=state.version, status=state.status,
                        data=state.data, evidence=state.evidence, locked_at=state.locked_at,
                        locked_sha256=state.locked_sha256, slots=_slots(state), effective_at=state.effective_at,
                        completed_at=state.completed_at, final_sha256=state.final_sha256)


def _pdf_response(pdf: bytes, filename: str) -> web.Response:
    return web.Response(body=pdf, content_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{filename}"',
                                 "Cache-Control": "no-store"})


def _current(request: web.Request, agreement_id: str) -> VersionState:
    with _refusals():
        return request.app[STORE_KEY].current(agreement_id)


def _owned_agreement(handler: Callable[[web.Request, Any], Awaitable[Any]]) -> Callable[[web.Request, Any], Awaitable[Any]]:
    """Row-level check for drafters: a mediator reaches only the agreements they created, an
    organisation administrator those of their organisation; integrating systems and platform
    administrators reach all. Anyone else gets the same 404 as for an agreement that does not exist."""

    @functools.wraps(handler)
    async def checked(request: web.Request, body: Any) -> Any:
        principal = principal_of(request)
        if not principal.roles & {"service", "platform_admin"}:
            with _refusals():
                first = request.app[STORE_KEY].version(request.match_info["agreement_id"], 1)
            allowed = ("mediator" in principal.roles and first.created_by == principal.subject) or (
                "org_admin" in principal.roles
                and first.data.organisation.name == principal.attributes.get("organisation"))
            if not allowed:
                raise ApiError(404, "agreement_not_found", "no such agreement")
        return await handler(request, body)

    return checked


# --- mediator: draft, edit, lock, links ---------------------------------------------------------


@api.route("POST", "/api/agreements", summary="Create an agreement draft", allow=DRAFTERS, tag=TAG,
           request=AgreementIn, response=AgreementOut, status=201)
async def create_agreement(request: web.Request, body: AgreementIn) -> AgreementOut:
    """Version 1 as a draft; the template of ``data.dispute_type`` fills clauses left empty."""
    state = await request.app[STORE_KEY].create(body.data, principal_of(request).subject, body.evidence)
    return _agreement_out(state)


@api.route("GET", "/api/agreements/{agreement_id}", summary="The current version of an agreement",
           allow=DRAFTERS, tag=TAG, response=AgreementOut)
@_owned_agreement
async def get_agreement(request: web.Request, _: None) -> AgreementOut:
    return _agreement_out(_current(request, request.match_info["agreement_id"]))


@api.route("PUT", "/api/agreements/{agreement_id}", summary="Edit the text (a new version once locked)",
           allow=DRAFTERS, tag=TAG, request=AgreementIn, response=AgreementOut)
@_owned_agreement
async def edit_agreement(request: web.Request, body: AgreementIn) -> AgreementOut:
    """A draft changes in place; a locked version is superseded by a new draft and its signatures lapse."""
    with _refusals():
        state = await request.app[STORE_KEY].edit(request.match_info["agreement_id"], body.data,
                                                   principal_of(request).subject, body.evidence)
    return _agreement_out(state)


@api.route("GET", "/api/agreements/{agreement_id}/preview.pdf", summary="Render the current draft",
           allow=DRAFTERS, tag=TAG)
@_owned_agreement
async def preview_agreement(request: web.Request, _: None) -> web.Response:
    """The PDF as it would be locked now (not stored, not signable)."""
    state = _current(request, request.match_info["agreement_id"])
    rendered = await asyncio.to_thread(render_agreement, state.data, state.evidence,
                                       agreement_id=state.agreement_id, version=state.version)
    return _pdf_response(rendered.pdf, f"{state.agreement_id}-v{state.version}-preview.pdf")


@api.route("POST", "/api/agreements/{agreement_id}/versions/{version}/lock", summary="Lock the text",
           allow=DRAFTERS, tag=TAG, response=AgreementOut)
@_owned_agreement
async def lock_agreement(request: web.Request, _: None) -> AgreementOut:
    """Render the draft, store the PDF and fix its SHA-256; signing can start."""
    with _refusals():
        state = await request.app[STORE_KEY].lock(request.match_info["agreement_id"],
                                                  _int(request.match_info["version"], "version"))
    return _agreement_out(state)


@api.route("GET", "/api/agreements/{agreement_id}/versions/{version}/pdf",
           summary="A stored PDF revision (default: the newest)", allow=DRAFTERS, tag=TAG)
@_owned_agreement
async def version_pdf(request: web.Request, _: None) -> web.Response:
    store = request.app[STORE_KEY]
    revision = request.query.get("revision")
    with _refusals():
        state = store.version(request.match_info["agreement_id"], _int(request.match_info["version"], "version"))
        pdf = await store.read_pdf(state, _int(revision, "revision") if revision is not None else None)
    return _pdf_response(pdf, f"{state.agreement_id}-v{state.version}.pdf")


class PreviewOut(BaseModel):
    sha256: str
    page_count: int


def _preview_dir(request: web.Request, agreement_id: str) -> Path:
    return request.app[AGREEMENT_SETTINGS_KEY].data_dir / "agreement-previews" / agreement_id


def _keep_only_preview(directory: Path, pdf: bytes, digest: str) -> Path:
    """Store this preview and drop older ones: one agreement keeps one preview on disk."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.iterdir():
        if not old.name.startswith(digest):
            old.unlink()
    path = directory / f"{digest}.pdf"
    path.write_bytes(pdf)
    return path


@api.route("POST", "/api/agreements/{agreement_id}/preview", summary="Render the current text as page images",
           allow=DRAFTERS, tag=TAG, response=PreviewOut)
@_owned_agreement
async def render_preview(request: web.Request, _: None) -> PreviewOut:
    """For the mediator's editor: renders the PDF as it would be locked now; fetch its pages as PNG
    from ``previews/{sha256}/pages/{page}`` (browsers show images everywhere, PDFs not always)."""
    state = _current(request, request.match_info["agreement_id"])
    rendered = await asyncio.to_thread(render_agreement, state.data, state.evidence,
                                       agreement_id=state.agreement_id, version=state.version)
    digest = rendered.sha256
    await asyncio.to_thread(_keep_only_preview, _preview_dir(request, state.agreement_id), rendered.pdf, digest)
    return PreviewOut(sha256=digest, page_count=await asyncio.to_thread(_page_count, rendered.pdf))


@api.route("GET", "/api/agreements/{agreement_id}/previews/{sha256}/pages/{page}",
           summary="One page of a rendered preview as PNG", allow=DRAFTERS, tag=TAG)
@_owned_agreement
async def preview_page(request: web.Request, _: None) -> web.FileResponse:
    agreement_id, digest = request.match_info["agreement_id"], request.match_info["sha256"]
    _current(request, agreement_id)  # the agreement exists (and its id is safe in a path)
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
    """What the editor offers: the clauses a dispute type fills in when the mediator leaves them empty."""
    return TemplatesOut(
        templates=[TemplateOut(dispute_type=t.dispute_type, label_zh=t.label_zh, label_en=t.label_en,
                               facts_hint=t.facts_hint, default_clauses=list(t.default_clauses),
                               confidentiality=t.confidentiality) for t in TEMPLATES.values()],
        closing_clauses=list(CLOSING_CLAUSES))


class SigningLink(BaseModel):
    field_name: str
    signer_key: str
    name: str
    role: SignerRole
    token: str
    url: str
    expires_at: dt.datetime


class SigningLinks(BaseModel):
    links: list[SigningLink]


@api.route("POST", "/api/agreements/{agreement_id}/signing-links", summary="Signing links for every person",
           allow=DRAFTERS, tag=TAG, response=SigningLinks)
@_owned_agreement
async def signing_links(request: web.Request, _: None) -> SigningLinks:
    """One link per party, agent and the mediator of the locked current version (the seal has none)."""
    state = _current(request, request.match_info["agreement_id"])
    if state.status is not VersionStatus.LOCKED:
        raise ApiError(409, "not_locked", "lock the agreement before sending signing links")
    tokens = request.app[SIGNING_TOKENS_KEY]
    base = request.app[AGREEMENT_SETTINGS_KEY].base_url
    links = []
    for slot in state.slots:
        if slot.role is SignerRole.ORGANISATION:
            continue
        token, claims = tokens.issue(state.agreement_id, slot.role.value, slot.name,
                                     slot.side.value if slot.side else None, seat=slot.signer_key)
        links.append(SigningLink(field_name=slot.field_name, signer_key=slot.signer_key, name=slot.name,
                                 role=slot.role, token=token, url=f"{base}/sign.html#{token}",
                                 expires_at=dt.datetime.fromtimestamp(claims.exp, dt.UTC)))
    return SigningLinks(links=links)


class VersionRef(_In):
    version: int = Field(ge=1)


@api.route("POST", "/api/agreements/{agreement_id}/seal", summary="Affix the organisation seal and archive",
           allow=SEALERS, tag=TAG, request=VersionRef, response=AgreementOut)
@_owned_agreement
async def seal_agreement(request: web.Request, body: VersionRef) -> AgreementOut:
    """After every other field is signed: the seal (server-held key), then the B-LTA archive timestamp."""
    with _refusals():
        state = await request.app[CEREMONY_KEY].seal(request.match_info["agreement_id"], body.version)
    return _agreement_out(state)


class IdentityCheckIn(_In):
    signer_key: Annotated[str, Field(min_length=1, max_length=64)]
    method: Annotated[str, Field(min_length=1, max_length=64)]
    checked_at: dt.datetime
    score: float | None = Field(default=None, ge=0, le=1)
    frames_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None


@api.route("POST", "/api/agreements/{agreement_id}/identity-checks", summary="Record a passed identity check",
           allow=IDENTITY_REPORTERS, tag=TAG, request=IdentityCheckIn, status=201, scope="identity-provider")
async def record_identity_check(request: web.Request, body: IdentityCheckIn) -> dict[str, Any]:
    """For the identity service: a check it passed; the ceremony accepts it for a few minutes.
    A ``checked_at`` in the future (``checked_at_in_future``) or already outside the gate's window
    (``checked_at_too_old``) is refused."""
    agreement_id = request.match_info["agreement_id"]
    state = _current(request, agreement_id)
    if body.signer_key not in {s.signer_key for s in state.slots}:
        raise ApiError(404, "unknown_signer", f"the agreement has no signer {body.signer_key!r}")
    if body.checked_at.tzinfo is None:
        raise ApiError(422, "invalid_body", "checked_at needs a time zone")
    try:
        await request.app[GATE_KEY].record(IdentityCheck(signer_key=gate_key(agreement_id, body.signer_key),
                                                         method=body.method, checked_at=body.checked_at,
                                                         score=body.score, frames_sha256=body.frames_sha256))
    except IdentityCheckRejected as exc:
        raise ApiError(422, exc.code, exc.message) from None
    return {"recorded": True}


# --- signer: session, pages, ceremony -----------------------------------------------------------


def _signer(request: web.Request) -> JoinClaims:
    token = request.headers.get(SIGNING_TOKEN_HEADER)
    if not token:
        raise ApiError(401, "unauthenticated", f"send your signing link's token in {SIGNING_TOKEN_HEADER}")
    try:
        return request.app[SIGNING_TOKENS_KEY].verify(token)
    except TokenError as exc:
        raise ApiError(401, exc.code, exc.message) from None


def _int(raw: str, name: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "bad_request", f"{name} must be an integer") from None
    if value < 0:
        raise ApiError(400, "bad_request", f"{name} must not be negative")
    return value


class Refusal(BaseModel):
    code: str
    message: str


class SignerSession(BaseModel):
    agreement_id: str
    case_number: str
    version: int
    status: VersionStatus
    locked_sha256: str | None
    page_count: int
    you: SlotOut | None
    slots: list[SlotOut]
    #: Why you cannot sign right now (``None``: you may sign).
    blocked: Refusal | None
    effective_at: dt.datetime | None


def _page_count(pdf: bytes) -> int:
    return int(PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Count"])


@api.route("GET", "/api/sign/session", summary="What the signer sees: the agreement and their turn",
           allow=PUBLIC, tag=TAG, response=SignerSession)
async def signer_session(request: web.Request, _: None) -> SignerSession:
    """Authenticated by the signing token; tells the page whether its signer may sign now, and why not."""
    claims = _signer(request)
    state = _current(request, claims.room)
    slots = _slots(state)
    you = next((s for s in slots if s.signer_key == claims.seat), None)
    blocked: Refusal | None = None
    pages = 0
    if state.locked_sha256 is not None:
        pages = await asyncio.to_thread(_page_count, await request.app[STORE_KEY].read_pdf(state))
    if you is None:
        blocked = Refusal(code="unknown_signer", message="you are not a signer of the current version")
    else:
        try:
            await request.app[CEREMONY_KEY].turn(state.agreement_id, state.version, claims.seat, you.field_name)
        except CeremonyRefused as exc:
            blocked = Refusal(code=exc.code.value, message=exc.message)
    return SignerSession(agreement_id=state.agreement_id, case_number=state.data.case_number, version=state.version,
                         status=state.status, locked_sha256=state.locked_sha256, page_count=pages, you=you,
                         slots=slots, blocked=blocked, effective_at=state.effective_at)


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
    claims = _signer(request)
    state = _current(request, claims.room)
    page = _int(request.match_info["page"], "page")
    store = request.app[STORE_KEY]
    with _refusals():
        pdf_path = store.pdf_path(state)
    return await _page_png(pdf_path, page, pdf_path.parent / "pages" / f"{pdf_path.stem}-p{page}.png",
                           "the document")


@api.route("GET", "/api/sign/document.pdf", summary="A revision of the signer's agreement (default: newest)",
           allow=PUBLIC, tag=TAG)
async def signer_document(request: web.Request, _: None) -> web.Response:
    """After the seal this is the final B-LTA PDF; ``?revision=0`` is the locked text itself."""
    claims = _signer(request)
    state = _current(request, claims.room)
    revision = request.query.get("revision")
    with _refusals():
        pdf = await request.app[STORE_KEY].read_pdf(state, _int(revision, "revision") if revision is not None else None)
    return _pdf_response(pdf, f"{state.agreement_id}-v{state.version}.pdf")


class SignStep(_In):
    version: int = Field(ge=1)
    field_name: Annotated[str, Field(min_length=1, max_length=64)]


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
    effective_at: dt.datetime | None
    revision: int


def _b64(data: str, name: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "invalid_body", f"{name} is not valid base64") from None


@api.route("POST", "/api/sign/begin", summary="Start key enrollment: a nonce to sign", allow=PUBLIC, tag=TAG,
           request=SignStep, response=ChallengeOut)
async def sign_begin(request: web.Request, body: SignStep) -> ChallengeOut:
    claims = _signer(request)
    with _refusals():
        challenge = request.app[CEREMONY_KEY].begin(claims.room, body.version, claims.seat, body.field_name)
    return ChallengeOut(nonce=base64.b64encode(challenge.nonce).decode(), expires_at=challenge.expires_at)


@api.route("POST", "/api/sign/enroll", summary="Prove possession of the browser key; get the certificate",
           allow=PUBLIC, tag=TAG, request=EnrollIn, response=EnrollOut)
async def sign_enroll(request: web.Request, body: EnrollIn) -> EnrollOut:
    """The proof is the key's signature over nonce‖SPKI; needs a passed identity check."""
    claims = _signer(request)
    spki, proof = _b64(body.spki, "spki"), _b64(body.proof, "proof")
    with _refusals():
        enrollment = await request.app[CEREMONY_KEY].enroll(claims.room, body.version, claims.seat,
                                                            body.field_name, spki, proof)
    return EnrollOut(certificate_pem=enrollment.certificate.public_bytes(Encoding.PEM).decode(),
                     not_after=enrollment.certificate.not_valid_after_utc)


@api.route("POST", "/api/sign/prepare", summary="Fix the next revision; get the signed attributes",
           allow=PUBLIC, tag=TAG, request=SignStep, response=PrepareOut)
async def sign_prepare(request: web.Request, body: SignStep) -> PrepareOut:
    """Download ``/api/sign/prepared.pdf`` next and check messageDigest before signing."""
    claims = _signer(request)
    with _refusals():
        prep = await request.app[CEREMONY_KEY].prepare(claims.room, body.version, claims.seat, body.field_name)
    return PrepareOut(signed_attrs=base64.b64encode(prep.signed_attrs_der).decode(), byte_range=prep.byte_range,
                      expires_at=prep.expires_at)


@api.route("GET", "/api/sign/prepared.pdf", summary="The prepared PDF the signed attributes cover",
           allow=PUBLIC, tag=TAG)
async def sign_prepared_pdf(request: web.Request, _: None) -> web.Response:
    claims = _signer(request)
    version = _int(request.query.get("version", ""), "version")
    field_name = request.query.get("field_name", "")
    with _refusals():
        pdf = request.app[CEREMONY_KEY].prepared_pdf(claims.room, version, claims.seat, field_name)
    return _pdf_response(pdf, "prepared.pdf")


@api.route("POST", "/api/sign/complete", summary="Hand in the signature; it is checked and embedded",
           allow=PUBLIC, tag=TAG, request=CompleteIn, response=CompleteOut)
async def sign_complete(request: web.Request, body: CompleteIn) -> CompleteOut:
    claims = _signer(request)
    signature = _b64(body.signature, "signature")
    with _refusals():
        state = await request.app[CEREMONY_KEY].complete(claims.room, body.version, claims.seat, body.field_name,
                                                         signature)
    record = state.signatures[-1]
    return CompleteOut(field_name=record.field_name, signed_at=record.signed_at, effective_at=state.effective_at,
                       revision=record.revision)


# --- public verifier ----------------------------------------------------------------------------

VERIFY_SLOTS_KEY = web.AppKey("verify_slots", asyncio.Semaphore)
#: Verifications running at once: each is a child process, and the verifier is public.
CONCURRENT_VERIFICATIONS = 2
_CHUNK = 64 * 1024


def _upload_limit(request: web.Request) -> int:
    return min(request.app[AGREEMENT_SETTINGS_KEY].max_upload_bytes, MAX_PDF_BYTES)


async def _read_limited(read: Callable[[int], Awaitable[bytes]], limit: int) -> bytes:
    """Read at most ``limit`` bytes; one byte more is a 413, so a huge upload is never buffered."""
    buf = bytearray()
    while chunk := await read(_CHUNK):
        buf += chunk
        if len(buf) > limit:
            raise ApiError(413, "too_large", f"the file is larger than {limit} bytes", {"limit": limit})
    return bytes(buf)


async def _uploaded_pdf(request: web.Request) -> bytes:
    limit = _upload_limit(request)
    if request.content_length is not None and request.content_length > limit + 64 * 1024:
        raise ApiError(413, "too_large", f"the file is larger than {limit} bytes", {"limit": limit})
    if request.content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            if isinstance(part, BodyPartReader) and part.name == "file":
                return await _read_limited(part.read_chunk, limit)
        raise ApiError(400, "no_file", "send the PDF in a form field named 'file'")
    if request.content_type not in ("application/pdf", "application/octet-stream"):
        raise ApiError(415, "unsupported_media_type",
                       "send the PDF as application/pdf or as multipart/form-data field 'file'")
    return await _read_limited(request.content.read, limit)


@api.route("POST", "/api/verify", summary="Verify a signed agreement PDF (public)", allow=PUBLIC, tag=TAG,
           raw_body=True, content_type="application/pdf")
async def verify_upload(request: web.Request, _: None) -> dict[str, Any]:
    """Every signature, the document timestamps, the expected fields and the verdict. The check runs
    in a child process with time and memory limits: a malformed or hostile file cannot hurt the server.
    ``platform`` matches the file to its agreement and case here (ids, statuses and hashes only), by
    the revision hashes the child computed."""
    pdf = await _uploaded_pdf(request)
    if not pdf:
        raise ApiError(400, "empty_upload", "the upload is empty")
    roots = await asyncio.to_thread(request.app[CEREMONY_KEY].seals.trusted_roots)
    async with request.app[VERIFY_SLOTS_KEY]:
        try:
            verified = await asyncio.to_thread(verify_upload_safely, pdf, roots)
        except VerificationError as exc:
            raise ApiError(422, "unverifiable_pdf", str(exc)) from None
        verified.report.platform = await asyncio.to_thread(match_to_platform, pdf, request.app[STORE_KEY],
                                                           verified.prefix_hashes)
    return verified.report.to_dict()
