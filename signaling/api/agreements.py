"""Agreements over HTTP, the shared part: the app keys and services :func:`setup_agreements`
installs, who may do what, the response models every agreement endpoint shares, and the helpers
that map the domain's refusals to HTTP statuses and serve PDFs and page images.

The endpoints live by concern: :mod:`.agreement_editing` (the mediator drafts, locks and hands out
signing links), :mod:`.signing_ceremony` (signers), :mod:`.agreement_sealing` (the organisation's
seal and the finished PDF), :mod:`.agreement_identity_checks` (identity checks tied to a signer's
slot) and :mod:`.agreement_verification` (the public verifier).

An agreement is created from its case (``POST /api/cases/{id}/agreement``, :mod:`.cases`) and
belongs to it: who may edit, lock or seal it follows the case (see
:meth:`mediation.cases.CaseService.may_manage_agreement`); anyone else gets the same 404 as for an
agreement that does not exist.

Domain rules live in :mod:`signing.ceremony` and :mod:`mediation.agreement_store`; these modules
only authenticate, translate JSON and bytes, and map refusals to HTTP statuses.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import io
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator

from aiohttp import web
from pydantic import BaseModel, ConfigDict
from pyhanko.pdf_utils.reader import PdfFileReader

from identity.checks import IdentityPolicy, StoredIdentityGate
from identity.provider import load_anchors
from identity.recorder import CheckRecorder
from mediation.agreement_drafting import masked
from mediation.agreement_store import SqlAgreementStore, pending_json_agreements
from mediation.services import MediationServices
from signing.agreement import SignerRole
from signing.agreement_pdf import EvidenceAppendix
from signing.agreement_versions import VersionError, VersionState, VersionStatus
from signing.ceremony import CeremonyRefused, RefusalCode, SigningCeremony

from ..config import Settings, ensure_secret
from ..errors import ApiError
from ..openapi import principal_of
from ..tokens import TokenIssuer
from .accounts import actor_for
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

TAG = "agreements"
PAGE_DPI = 80

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

    async def refuse_unimported(_: web.Application) -> None:
        left = pending_json_agreements(settings.data_dir)
        if left:
            raise JsonAgreementsLeft(
                f"{len(left)} agreement(s) of the former file store are in {settings.data_dir / 'agreements'} "
                f"but not in the database: run `accord agreements import --data-dir {settings.data_dir}` first")

    app.on_startup.insert(0, refuse_unimported)


def _refusal(exc: CeremonyRefused) -> ApiError:
    return ApiError(_REFUSAL_STATUS.get(exc.code, 409), exc.code.value, exc.message)


def _version_error(exc: VersionError) -> ApiError:
    return ApiError(404 if exc.code.endswith("_not_found") else 409, exc.code, exc.message)


@contextmanager
def refusals() -> Iterator[None]:
    """Turn the domain's refusals into API errors with the same codes."""
    try:
        yield
    except CeremonyRefused as exc:
        raise _refusal(exc) from None
    except VersionError as exc:
        raise _version_error(exc) from None


# Request bodies of the agreement endpoints: unknown fields are refused.
class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


def slots_out(state: VersionState) -> list[SlotOut]:
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


def agreement_out(state: VersionState) -> AgreementOut:
    return AgreementOut(agreement_id=state.agreement_id, case_id=state.case_id, version=state.version,
                        status=state.status, data=masked(state.data), evidence=state.evidence,
                        locked_at=state.locked_at, locked_sha256=state.locked_sha256, slots=slots_out(state),
                        effective_at=state.effective_at, completed_at=state.completed_at,
                        final_sha256=state.final_sha256)


def pdf_response(pdf: bytes, filename: str) -> web.Response:
    return web.Response(body=pdf, content_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{filename}"',
                                 "Cache-Control": "no-store"})


async def current_version(request: web.Request, agreement_id: str) -> VersionState:
    with refusals():
        return await request.app[STORE_KEY].current(agreement_id)


def managed_agreement(handler: Callable[[web.Request, Any], Awaitable[Any]]) -> Callable[[web.Request, Any], Awaitable[Any]]:
    """Row-level check for drafters and sealers: the agreement's case decides (see the module
    docstring). Anyone else gets the same 404 as for an agreement that does not exist."""

    @functools.wraps(handler)
    async def checked(request: web.Request, body: Any) -> Any:
        services = request.app[AGREEMENT_SERVICES_KEY]
        with refusals():
            info = await services.agreements.info(request.match_info["agreement_id"])
        if not await services.cases.may_manage_agreement(actor_for(principal_of(request)), info):
            raise ApiError(404, "agreement_not_found", "no such agreement")
        return await handler(request, body)

    return checked


def int_param(raw: str, name: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "bad_request", f"{name} must be an integer") from None
    if value < 0:
        raise ApiError(400, "bad_request", f"{name} must not be negative")
    return value


def count_pages(pdf: bytes) -> int:
    return int(PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Count"])


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


async def page_png(pdf_path: Path, page: int, target: Path, what: str) -> web.FileResponse:
    """Page ``page`` of ``pdf_path`` as a PNG, rendered once into ``target``; counting pages reads the
    PDF, so it happens in a worker thread."""
    count = await asyncio.to_thread(lambda: count_pages(pdf_path.read_bytes()))
    if not 1 <= page <= count:
        raise ApiError(404, "page_not_found", f"{what} has pages 1 to {count}")
    if not target.exists():
        await _render_page(pdf_path, page, target)
    return web.FileResponse(target, headers={"Content-Type": "image/png", "Cache-Control": "no-store"})


def simulated_checks(app: web.Application) -> bool:
    """Whether this server offers simulated identity checks: only with the test gate
    (``identity_gate = "test"``), which settings refuse in production."""
    return GATE_KEY in app and app[GATE_KEY].simulation
