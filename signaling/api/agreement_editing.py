"""The mediator's side of an agreement: read and edit the text (a new version once locked),
preview it as PDF or page images, lock it, read stored revisions, the clause templates, and
signing links for signers without an account. Each call is for the agreements of the caller's
cases only (:func:`.agreements.managed_agreement`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from mediation.agreement_drafting import IdentityChanged, keep_case_identities
from signing.agreement import AgreementData, DisputeType, SignerRole
from signing.agreement_pdf import EvidenceAppendix, render_agreement
from signing.agreement_versions import VersionStatus
from signing.pki import write_private
from signing.templates import CLOSING_CLAUSES, TEMPLATES

from ..errors import ApiError
from ..openapi import api, parse_model, principal_of
from .accounts import actor_for
from .agreements import (AGREEMENT_SERVICES_KEY, AGREEMENT_SETTINGS_KEY, DRAFTERS, SIGNING_TOKENS_KEY, STORE_KEY, TAG,
                         AgreementOut, StrictIn, agreement_out, count_pages, current_version, int_param,
                         managed_agreement, page_png, pdf_response, refusals)
from .signing_ceremony import link_seat

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class AgreementEdit(StrictIn):
    """What the editor sends. ``data`` is an :class:`~signing.agreement.AgreementData`; the case
    participants' names, ID numbers and accounts may be left out or sent masked as ``GET`` gave
    them: the server keeps its own copy (changing them is refused)."""

    data: dict[str, Any]
    evidence: EvidenceAppendix | None = None


class _Checked(StrictIn):
    data: AgreementData
    evidence: EvidenceAppendix | None = None


def _account_of(request: web.Request) -> str | None:
    """The caller's account id (rows reference accounts; an integrating system has none)."""
    principal = principal_of(request)
    return principal.subject if principal.kind == "user" else None


@api.route("GET", "/api/agreements/{agreement_id}", summary="The current version of an agreement",
           allow=DRAFTERS, tag=TAG, response=AgreementOut)
@managed_agreement
async def get_agreement(request: web.Request, _: None) -> AgreementOut:
    return agreement_out(await current_version(request, request.match_info["agreement_id"]))


@api.route("PUT", "/api/agreements/{agreement_id}", summary="Edit the text (a new version once locked)",
           allow=DRAFTERS, tag=TAG, request=AgreementEdit, response=AgreementOut,
           max_body=1024 * 1024)  # a long agreement in Chinese with its evidence list
@managed_agreement
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
    with refusals():
        state = await request.app[STORE_KEY].edit(agreement_id, checked.data, _account_of(request), checked.evidence)
    return agreement_out(state)


@api.route("GET", "/api/agreements/{agreement_id}/preview.pdf", summary="Render the current draft",
           allow=DRAFTERS, tag=TAG)
@managed_agreement
async def preview_agreement(request: web.Request, _: None) -> web.Response:
    """The PDF as it would be locked now (not stored, not signable)."""
    state = await current_version(request, request.match_info["agreement_id"])
    rendered = await asyncio.to_thread(render_agreement, state.data, state.evidence,
                                       agreement_id=state.agreement_id, version=state.version)
    return pdf_response(rendered.pdf, f"{state.agreement_id}-v{state.version}-preview.pdf")


@api.route("POST", "/api/agreements/{agreement_id}/versions/{version}/lock", summary="Lock the text",
           allow=DRAFTERS, tag=TAG, response=AgreementOut)
@managed_agreement
async def lock_agreement(request: web.Request, _: None) -> AgreementOut:
    """Render the draft, store the PDF and fix its SHA-256; signing can start (the case's trail says so)."""
    with refusals():
        state = await request.app[STORE_KEY].lock(request.match_info["agreement_id"],
                                                  int_param(request.match_info["version"], "version"))
    await request.app[AGREEMENT_SERVICES_KEY].results.agreement_locked(actor_for(principal_of(request)), state)
    return agreement_out(state)


@api.route("GET", "/api/agreements/{agreement_id}/versions/{version}/pdf",
           summary="A stored PDF revision (default: the newest)", allow=DRAFTERS, tag=TAG)
@managed_agreement
async def version_pdf(request: web.Request, _: None) -> web.Response:
    store = request.app[STORE_KEY]
    revision = request.query.get("revision")
    with refusals():
        state = await store.version(request.match_info["agreement_id"],
                                    int_param(request.match_info["version"], "version"))
        pdf = await store.read_pdf(state, int_param(revision, "revision") if revision is not None else None)
    return pdf_response(pdf, f"{state.agreement_id}-v{state.version}.pdf")


class PreviewOut(BaseModel):
    sha256: str
    page_count: int


def _preview_dir(request: web.Request, agreement_id: str) -> Path:
    return request.app[AGREEMENT_SETTINGS_KEY].data_dir / "agreement-previews" / agreement_id


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
@managed_agreement
async def render_preview(request: web.Request, _: None) -> PreviewOut:
    """For the mediator's editor: renders the PDF as it would be locked now; fetch its pages as PNG
    from ``previews/{sha256}/pages/{page}`` (browsers show images everywhere, PDFs not always)."""
    state = await current_version(request, request.match_info["agreement_id"])
    rendered = await asyncio.to_thread(render_agreement, state.data, state.evidence,
                                       agreement_id=state.agreement_id, version=state.version)
    digest = rendered.sha256
    await asyncio.to_thread(_keep_only_preview, _preview_dir(request, state.agreement_id), rendered.pdf, digest)
    return PreviewOut(sha256=digest, page_count=await asyncio.to_thread(count_pages, rendered.pdf))


@api.route("GET", "/api/agreements/{agreement_id}/previews/{sha256}/pages/{page}",
           summary="One page of a rendered preview as PNG", allow=DRAFTERS, tag=TAG)
@managed_agreement
async def preview_page(request: web.Request, _: None) -> web.FileResponse:
    agreement_id, digest = request.match_info["agreement_id"], request.match_info["sha256"]
    page = int_param(request.match_info["page"], "page")
    pdf_path = _preview_dir(request, agreement_id) / f"{digest}.pdf"
    if not _SHA256_HEX.fullmatch(digest) or not pdf_path.exists():
        raise ApiError(404, "preview_not_found", "this preview was replaced by a newer one: render it again")
    return await page_png(pdf_path, page, pdf_path.with_name(f"{digest}-p{page}.png"), "the preview")


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


@api.route("POST", "/api/agreements/{agreement_id}/signing-links",
           summary="Signing links for signers without an account", allow=DRAFTERS, tag=TAG, response=SigningLinks)
@managed_agreement
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
                                     slot.side.value if slot.side else None, seat=link_seat(slot))
        links.append(SigningLink(field_name=slot.field_name, signer_key=slot.signer_key,
                                 participant_id=slot.participant_id, name=slot.name, role=slot.role, token=token,
                                 url=f"{base}/sign.html#{token}",
                                 expires_at=dt.datetime.fromtimestamp(claims.exp, dt.UTC)))
    return SigningLinks(links=links)
