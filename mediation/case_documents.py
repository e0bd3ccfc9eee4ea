"""The documents of a case: evidence and counselling material the parties and the mediator
upload, and the powers of attorney of the parties' agents; who may open which."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .accounts import Actor
from .errors import InvalidInput, NotFound, WrongState
from .files import clean_file_name
from .models import Account, AgentLink, CaseDocument, CourtApplication, StoredFile
from .text import clean_text
from .workflow import SIDES, Step, require_step

if TYPE_CHECKING:
    from .cases import CaseContext, CaseService



@dataclass(frozen=True)
class DocumentView:
    """A document of the case: evidence filed before a mediator was chosen, counselling material,
    or the power of attorney of an agent of one of the case's parties."""

    id: str  # the stored file's id
    name: str
    kind: str  # "evidence" | "counselling" | "power_of_attorney"
    side: str | None
    media_type: str  # as the uploader declared it; what a browser is sent is decided from the bytes
    size: int
    sha256: str
    added_at: datetime
    added_by: str  # the uploader's account
    added_by_name: str | None
    url: str  # opens the file


@dataclass(frozen=True)
class DocumentFile:
    """A document to send: where its bytes lie, and the type to show it as (``None``: download only)."""

    document: DocumentView
    path: Path
    inline_type: str | None


async def _reads_documents(s: AsyncSession, ctx: CaseContext) -> bool:
    """Who opens the case's documents: its parties (and agents), its mediator, its
    organisation, platform administrators and integrating systems, and the clerks and judges
    of the court once the case has applied to it (their relation is to ``case.court``)."""
    relation = ctx.relation
    if relation.sides or relation.mediator or relation.organisation or relation.oversight:
        return True
    return relation.court and await s.scalar(select(CourtApplication.id).where(
        CourtApplication.case_id == ctx.case.id, CourtApplication.court == ctx.case.court).limit(1)) is not None


async def _documents(s: AsyncSession, ctx: CaseContext) -> list[tuple[DocumentView, str]]:
    """The documents a reader :func:`_reads_documents` admits may open, oldest first, each with
    its place in the file store. Counselling material is private to its side, as counselling
    messages are: the mediator and oversight see every side's, a party or agent only their own
    side's, nobody else any."""
    relation, case_id = ctx.relation, ctx.case.id
    found: list[tuple[DocumentView, str]] = []

    def add(stored: StoredFile, kind: str, side: str | None, added_by: str, added_by_name: str | None,
            added_at: datetime) -> None:
        found.append((DocumentView(stored.id, stored.name, kind, side, stored.media_type, stored.size,
                                   stored.sha256, added_at, added_by, added_by_name,
                                   f"/api/cases/{case_id}/documents/{stored.id}"), stored.path))

    rows = (await s.execute(select(CaseDocument, StoredFile, Account.display_name)
                            .join(StoredFile, StoredFile.id == CaseDocument.file_id)
                            .outerjoin(Account, Account.id == CaseDocument.added_by)
                            .where(CaseDocument.case_id == case_id).order_by(CaseDocument.id))).tuples().all()
    for doc, stored, name in rows:
        if doc.kind != "counselling" or relation.mediator or relation.oversight or doc.side in relation.sides:
            add(stored, doc.kind, doc.side, doc.added_by, name, doc.added_at)
    # The powers of attorney in force from the case's parties (by account, or by phone before they acted).
    by_account = {p.account_id: p.side for p in ctx.parties.values() if p.account_id is not None}
    by_phone = {p.phone: p.side for p in ctx.parties.values() if p.account_id is None}
    links = (await s.execute(select(AgentLink, StoredFile, Account)
                             .join(StoredFile, StoredFile.id == AgentLink.power_of_attorney_id)
                             .join(Account, Account.id == AgentLink.party_id)
                             .where(AgentLink.revoked_at.is_(None),
                                    AgentLink.party_id.in_(list(by_account)) | Account.phone.in_(list(by_phone)))
                             .order_by(AgentLink.id))).tuples().all()
    for link, stored, party in links:
        side = by_account.get(party.id) or (by_phone.get(party.phone) if party.phone is not None else None)
        if side is not None:
            add(stored, "power_of_attorney", side, stored.uploaded_by, party.display_name, link.created_at)
    return sorted(found, key=lambda item: item[0].added_at)  # stable: uploads of one instant in their order


async def readable_documents(s: AsyncSession, ctx: CaseContext) -> list[tuple[DocumentView, str]]:
    """:func:`_documents` for whoever :func:`_reads_documents` admits, none for anyone else."""
    return await _documents(s, ctx) if await _reads_documents(s, ctx) else []


class CaseDocuments:
    """Uploading a case's documents, and opening them for those who may."""

    def __init__(self, cases: CaseService):
        self.cases = cases
        self.db, self.clock, self.files = cases.db, cases.clock, cases.files

    async def add_document(self, actor: Actor, case_id: str, data: bytes, file_name: str, media_type: str,
                           side: str | None = None) -> dict[str, Any]:
        """Evidence (before a mediator is chosen) or counselling material (during counselling and video)."""
        async with self.db() as s:
            ctx = await self.cases.load_context(s, actor, case_id)
        name = clean_file_name(file_name)
        step = Step(ctx.case.step)
        require_step(step, Step.START, Step.CHOOSE_MEDIATOR, Step.COUNSELLING, Step.VIDEO_MEDIATION)
        kind = "evidence" if step in (Step.START, Step.CHOOSE_MEDIATOR) else "counselling"
        if ctx.relation.mediator and kind == "counselling":
            doc_side = clean_text(side or "", "side", 12)
            if doc_side not in SIDES:
                raise InvalidInput("invalid_side", "side is applicant or respondent")
        else:
            doc_side = self.cases.acting_side(ctx, side)
        blob = await self.files.put(data)
        now = self.clock.now()
        file_id = "f_" + secrets.token_hex(8)
        async with self.db.begin() as s:
            ctx = await self.cases.load_context(s, actor, case_id, lock=True)
            if Step(ctx.case.step) != step:
                raise WrongState("step_changed", "the case moved on while the file was uploading; try again")
            s.add(StoredFile(id=file_id, sha256=blob.sha256, size=blob.size, media_type=media_type[:100], name=name,
                             path=blob.relative_path, uploaded_by=actor.id, created_at=now))
            await s.flush()
            s.add(CaseDocument(case_id=case_id, file_id=file_id, kind=kind, side=doc_side, added_by=actor.id, added_at=now))
            self.cases.record(s, ctx, actor, "document.added",
                         {"file_id": file_id, "kind": kind, "side": doc_side, "name": name, "sha256": blob.sha256}, now)
        await self.cases.publish(case_id, "document.added", document_kind=kind)
        return {"id": file_id, "kind": kind, "side": doc_side, "name": name, "sha256": blob.sha256, "size": blob.size}

    async def _open_documents(self, actor: Actor, case_id: str) -> list[tuple[DocumentView, str]]:
        """:func:`_documents` for the actor; the 404 of a case they cannot see for anyone
        :func:`_reads_documents` leaves out."""
        async with self.db() as s:
            ctx = await self.cases.load_context(s, actor, case_id)
            if not await _reads_documents(s, ctx):
                raise NotFound("case_not_found", f"no case {case_id} that you can see")
            return await _documents(s, ctx)

    async def documents(self, actor: Actor, case_id: str) -> list[DocumentView]:
        """The case's documents the actor may open."""
        return [doc for doc, _ in await self._open_documents(actor, case_id)]

    async def document(self, actor: Actor, case_id: str, document_id: str) -> DocumentFile:
        """One document to open, if it is among :meth:`documents`; another side's counselling
        material is as missing as a document that does not exist."""
        found = next(((doc, path) for doc, path in await self._open_documents(actor, case_id) if doc.id == document_id),
                     None)
        if found is None:
            raise NotFound("document_not_found", f"no document {document_id} of this case that you can open")
        doc, path = found
        return DocumentFile(doc, self.files.path(path), await self.files.inline_type(path))
