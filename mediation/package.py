"""The case package: everything a court (or another organisation's system) needs to import a
case, as one zip file: ``case.json`` (the case, its court applications, its audit trail and the
head the case records), ``files/`` (every document, named by its SHA-256), ``agreement/`` (the
signed agreement PDF: the newest revision of its current version, the final B-LTA file once
sealed), ``rulings/`` (the court-signed rulings, for those who receive them), ``attestations/`` (every
identity check's signed attestation, ``<sha256>.p7s``, passed or failed, and ``chain.pem``: the
certificates that signed them, so a signature's ``attestation-sha256=`` can be checked without our
database), ``recordings/`` (each ended recording session's manifest as stored — tracks, segment
hashes, the hash chain and its RFC 3161 tokens; not the media, which the recording package
carries) and ``manifest.json``
listing every member with its SHA-256, so the receiver can check that nothing was lost or changed
on the way (``accord verify CASE-PACKAGE.zip``: :mod:`mediation.package_check`)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from asn1crypto import cms, pem
from sqlalchemy import select

from .accounts import Actor
from .audit import read_trail, verify_chain
from .case_documents import readable_documents
from .cases import CaseService
from .court import CourtService
from .errors import Forbidden
from .identity_models import IdentityCheckRow
from .models import CaseResult
from .package_check import ATTESTATION_CHAIN, ATTESTATIONS, FORMAT
from .package_contents import PackageContents, PackageMember, read_contents, read_member
from .recording_citations import recording_citations

#: Reads a recording session's stored manifest bytes (``None`` if the file is gone).
ManifestReader = Callable[[str], Awaitable[bytes | None]]


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str).encode()


def zip_package(members: dict[str, bytes], header: dict[str, Any]) -> bytes:
    """Hash every member into the manifest, then zip: both read every byte, so the caller runs this
    in a worker thread."""
    manifest = {**header, "members": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(members.items())}}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        archive.writestr("manifest.json", _json_bytes(manifest))
    return out.getvalue()


def _certificates_pem(blobs: list[bytes]) -> bytes:
    """The certificates the attestation blobs embed (signer and CA), each once, as PEM."""
    seen: dict[bytes, bytes] = {}
    for blob in blobs:
        for choice in cms.ContentInfo.load(blob)["content"]["certificates"] or []:
            der = choice.chosen.dump()
            seen.setdefault(hashlib.sha256(der).digest(), pem.armor("CERTIFICATE", der))
    return b"".join(seen.values())


async def _attestations(s: Any, case_id: str) -> tuple[dict[str, bytes], list[dict[str, Any]]]:
    """The case's signed identity attestations as members, with one index entry each."""
    rows = (await s.scalars(select(IdentityCheckRow).where(IdentityCheckRow.case_id == case_id,
                                                           IdentityCheckRow.attestation.is_not(None))
                            .order_by(IdentityCheckRow.checked_at, IdentityCheckRow.id))).all()
    members, index = {}, []
    for row in rows:
        path = f"{ATTESTATIONS}{row.attestation_sha256}.p7s"
        members[path] = row.attestation
        index.append({"path": path, "sha256": row.attestation_sha256, "agreement_id": row.agreement_id,
                      "signer_key": row.signer_key, "participant_id": row.participant_id, "method": row.method,
                      "passed": row.passed, "reason": row.reason, "checked_at": row.checked_at.isoformat()})
    if members:
        members[ATTESTATION_CHAIN] = await asyncio.to_thread(_certificates_pem, list(members.values()))
    return members, index


class CasePackager:
    def __init__(self, cases: CaseService, court: CourtService, recording_manifest: ManifestReader | None = None):
        self.cases = cases
        self.court = court
        self.recording_manifest = recording_manifest

    async def export(self, actor: Actor, case_id: str) -> bytes:
        """For the parties, the court of the case and integrating systems (not the mediator's peers)."""
        async with self.cases.db() as s:
            ctx = await self.cases.load_context(s, actor, case_id)
            if not (ctx.relation.sides or ctx.relation.court or ctx.relation.oversight):
                raise Forbidden("forbidden", "the case package is for the parties, the court and integrating systems")
            view = await self.cases._view(s, ctx)  # same session and context: no second load
            docs = await readable_documents(s, ctx)  # another side's counselling material stays out
            result = await s.get(CaseResult, case_id)
            rulings = await self.court.ruling_files(s, actor, ctx)
            head = {"seq": ctx.case.audit_seq, "hash": ctx.case.audit_head}
            attestation_members, attestations = await _attestations(s, case_id)
            citations = await recording_citations(s, case_id)
        trail = (await read_trail(self.cases.db, case_id))[:head["seq"]]  # the trail up to the head read above
        members: dict[str, bytes] = {}
        documents = []
        for doc, stored in docs:
            path = f"files/{doc.sha256}"
            members[path] = await self.cases.files.read(stored)
            documents.append({"path": path, "name": doc.name, "kind": doc.kind, "side": doc.side,
                              "media_type": doc.media_type, "sha256": doc.sha256, "size": doc.size})
        agreement = None
        if result is not None and result.agreement_id is not None:
            state = await self.cases.agreements.current(result.agreement_id)
            agreement = {"agreement_id": state.agreement_id, "version": state.version, "status": state.status.value,
                         "locked_sha256": state.locked_sha256, "effective_at": state.effective_at,
                         "revision": None, "path": None, "sha256": None}
            if state.locked_sha256 is not None:
                path = f"agreement/{state.agreement_id}-v{state.version}.pdf"
                members[path] = await self.cases.agreements.read_pdf(state)
                agreement.update(revision=state.revision, path=path, sha256=state.newest_sha256)
        ruling_entries = []
        for app, stored in rulings:
            path = f"rulings/{app.id}.pdf"
            members[path] = await self.cases.files.read(stored.path)
            ruling_entries.append({"path": path, "application_id": app.id, "kind": app.kind, "ruling": app.ruling,
                                   "court": app.court, "name": stored.name, "sha256": stored.sha256,
                                   "size": stored.size})
        members.update(attestation_members)
        recordings = []
        for citation in citations:
            raw = None if self.recording_manifest is None else await self.recording_manifest(citation.session_id)
            path = f"recordings/{citation.session_id}/manifest.json"
            if raw is not None:
                members[path] = raw
            recordings.append({**citation.to_dict(), "path": path if raw is not None else None})
        members["case.json"] = _json_bytes({
            "format": FORMAT,
            "case": asdict(view),
            "agreement": agreement,
            "documents": documents,
            "court_applications": [asdict(a) for a in await self.court.applications_of_case(actor, case_id)],
            "rulings": ruling_entries,
            "identity_attestations": attestations,
            "recordings": recordings,
            "audit": {"verification": asdict(await verify_chain(self.cases.db, case_id)),
                      "entries": [asdict(e) for e in trail], "head": head},
        })
        header = {"format": FORMAT, "case_id": case_id, "exported_at": self.cases.clock.now().isoformat()}
        return await asyncio.to_thread(zip_package, members, header)

    async def contents(self, actor: Actor, case_id: str) -> PackageContents:
        """What :meth:`export` gives this caller, listed and checked, for the case page."""
        return await asyncio.to_thread(read_contents, await self.export(actor, case_id))

    async def member(self, actor: Actor, case_id: str, sha256: str) -> tuple[PackageMember, bytes]:
        """One PDF or image of what :meth:`export` gives this caller (the same checks)."""
        return await asyncio.to_thread(read_member, await self.export(actor, case_id), sha256)
