"""An agreement's versions: draft → locked → signed revisions, kept as files that survive crashes.

The mediator edits a draft; :meth:`AgreementStore.lock` renders it and fixes the SHA-256 of that
PDF. From then on the text can no longer change: an edit creates version n+1 as a new draft and
the old version is *superseded* — its signatures, if any, no longer count for anything.

Layout under ``data_dir/agreements/<agreement_id>/``::

    agreement.json        which version is current
    v1/state.json         that version's data, status, slots and signatures
    v1/rev-00.pdf         the locked PDF (empty signature fields)
    v1/rev-01.pdf ...     one file per signature added (each an incremental update of the last)

Every write goes to a temporary file that is fsynced and renamed over the old one, so a crash
leaves either the old or the new state, never half of one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import re
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .agreement import AgreementData, SignerSlot, signer_order
from .agreement_pdf import EvidenceAppendix, IdentityEvidence, render_agreement

AGREEMENT_ID = re.compile(r"^ag_[0-9a-f]{16}$")


class VersionStatus(StrEnum):
    DRAFT = "draft"
    LOCKED = "locked"  # text fixed; signatures being collected
    COMPLETED = "completed"  # every field signed and the archive timestamp added
    SUPERSEDED = "superseded"  # edited after locking: replaced by the next version


class VersionError(Exception):
    """A lifecycle rule refused the operation; ``code`` is stable for the API."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class SignatureRecord(BaseModel):
    """The evidence kept for one signature, next to the PDF that carries it."""

    model_config = ConfigDict(extra="forbid")

    field_name: str
    signer_key: str
    signed_at: dt.datetime
    key_custody: Literal["browser", "server"]
    identity: IdentityEvidence | None
    certificate_sha256: str
    revision: int
    pdf_sha256: str


class VersionState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agreement_id: str
    version: int
    status: VersionStatus
    data: AgreementData
    evidence: EvidenceAppendix = Field(default_factory=EvidenceAppendix)
    created_at: dt.datetime
    created_by: str
    locked_at: dt.datetime | None = None
    locked_sha256: str | None = None
    #: Who signs, in order; follows the draft's data and is fixed with the text at lock.
    slots: list[SignerSlot] = Field(default_factory=list)
    signatures: list[SignatureRecord] = Field(default_factory=list)
    #: When the last party (or agent) signed: the agreement takes effect then (Online Mediation Rules art. 19).
    effective_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    final_sha256: str | None = None
    superseded_at: dt.datetime | None = None

    @property
    def revision(self) -> int:
        """The number of the newest PDF revision file (0 = the locked PDF)."""
        return len(self.signatures) + (1 if self.status is VersionStatus.COMPLETED else 0)

    def signed_fields(self) -> set[str]:
        return {s.field_name for s in self.signatures}

    def next_slot(self) -> SignerSlot | None:
        done = self.signed_fields()
        return next((slot for slot in self.slots if slot.field_name not in done), None)


class AgreementPointer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agreement_id: str
    current_version: int
    created_at: dt.datetime


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers and crashes see the old or the new file, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class AgreementStore:
    """Versions and PDF revisions of every agreement, under one data directory.

    Each agreement has its own asyncio lock: all state changes of one agreement are serialised.
    """

    def __init__(self, root: Path):
        self.root = root
        self._locks: dict[str, asyncio.Lock] = {}

    # --- paths and raw I/O ------------------------------------------------------------------

    def _dir(self, agreement_id: str) -> Path:
        if not AGREEMENT_ID.fullmatch(agreement_id):
            raise VersionError("agreement_not_found", "no such agreement")
        return self.root / agreement_id

    def _version_dir(self, agreement_id: str, version: int) -> Path:
        return self._dir(agreement_id) / f"v{version}"

    def lock_for(self, agreement_id: str) -> asyncio.Lock:
        return self._locks.setdefault(agreement_id, asyncio.Lock())

    async def _save(self, state: VersionState) -> None:
        path = self._version_dir(state.agreement_id, state.version) / "state.json"
        await asyncio.to_thread(atomic_write, path, state.model_dump_json(indent=1).encode())

    async def _save_pointer(self, pointer: AgreementPointer) -> None:
        path = self._dir(pointer.agreement_id) / "agreement.json"
        await asyncio.to_thread(atomic_write, path, pointer.model_dump_json(indent=1).encode())

    def _pointer(self, agreement_id: str) -> AgreementPointer:
        path = self._dir(agreement_id) / "agreement.json"
        if not path.exists():
            raise VersionError("agreement_not_found", "no such agreement")
        return AgreementPointer.model_validate_json(path.read_bytes())

    # --- reading ----------------------------------------------------------------------------

    def version(self, agreement_id: str, version: int) -> VersionState:
        path = self._version_dir(agreement_id, version) / "state.json"
        if not path.exists():
            raise VersionError("version_not_found", f"agreement has no version {version}")
        return VersionState.model_validate_json(path.read_bytes())

    def current(self, agreement_id: str) -> VersionState:
        return self.version(agreement_id, self._pointer(agreement_id).current_version)

    def pdf_path(self, state: VersionState, revision: int | None = None) -> Path:
        """The PDF of ``revision`` (default: the newest) of a locked version."""
        if state.locked_sha256 is None:
            raise VersionError("not_locked", "a draft has no fixed PDF yet; lock it first")
        rev = state.revision if revision is None else revision
        if not 0 <= rev <= state.revision:
            raise VersionError("revision_not_found", f"version {state.version} has no revision {rev}")
        return self._version_dir(state.agreement_id, state.version) / f"rev-{rev:02d}.pdf"

    async def read_pdf(self, state: VersionState, revision: int | None = None) -> bytes:
        return await asyncio.to_thread(self.pdf_path(state, revision).read_bytes)

    # --- lifecycle --------------------------------------------------------------------------

    async def create(self, data: AgreementData, created_by: str,
                     evidence: EvidenceAppendix | None = None) -> VersionState:
        agreement_id = "ag_" + secrets.token_hex(8)
        now = _utcnow()
        state = VersionState(agreement_id=agreement_id, version=1, status=VersionStatus.DRAFT, data=data,
                             evidence=evidence or EvidenceAppendix(), created_at=now, created_by=created_by,
                             slots=signer_order(data))
        async with self.lock_for(agreement_id):
            await self._save(state)
            await self._save_pointer(AgreementPointer(agreement_id=agreement_id, current_version=1,
                                                      created_at=now))
        return state

    async def edit(self, agreement_id: str, data: AgreementData, edited_by: str,
                   evidence: EvidenceAppendix | None = None) -> VersionState:
        """Change the text: in place for a draft, as version n+1 once the current one is locked."""
        async with self.lock_for(agreement_id):
            current = self.current(agreement_id)
            new_evidence = evidence if evidence is not None else current.evidence
            if current.status is VersionStatus.DRAFT:
                state = current.model_copy(update={"data": data, "evidence": new_evidence,
                                                   "slots": signer_order(data)})
                await self._save(state)
                return state
            if current.status is VersionStatus.COMPLETED:
                raise VersionError("already_completed",
                                   "this agreement is signed by everyone and in effect; make a new agreement")
            now = _utcnow()
            await self._save(current.model_copy(update={"status": VersionStatus.SUPERSEDED, "superseded_at": now}))
            state = VersionState(agreement_id=agreement_id, version=current.version + 1,
                                 status=VersionStatus.DRAFT, data=data, evidence=new_evidence, created_at=now,
                                 created_by=edited_by, slots=signer_order(data))
            await self._save(state)
            pointer = self._pointer(agreement_id)
            await self._save_pointer(pointer.model_copy(update={"current_version": state.version}))
            return state

    async def lock(self, agreement_id: str, version: int) -> VersionState:
        """Render the draft and fix its hash. ``version`` must be the current draft (no lost edits)."""
        async with self.lock_for(agreement_id):
            current = self.current(agreement_id)
            if current.version != version:
                raise VersionError("version_outdated", f"version {version} is not current (v{current.version} is)")
            if current.status is not VersionStatus.DRAFT:
                raise VersionError("already_locked", f"version {version} is already {current.status.value}")
            rendered = await asyncio.to_thread(render_agreement, current.data, current.evidence,
                                               agreement_id=agreement_id, version=version)
            path = self._version_dir(agreement_id, version) / "rev-00.pdf"
            await asyncio.to_thread(atomic_write, path, rendered.pdf)
            state = current.model_copy(update={"status": VersionStatus.LOCKED, "locked_at": _utcnow(),
                                               "locked_sha256": rendered.sha256, "slots": rendered.slots})
            await self._save(state)
            return state

    async def add_revision(self, state: VersionState, pdf: bytes, record: SignatureRecord | None) -> VersionState:
        """Store the PDF with one more signature (``record``) or, with ``None``, the final archival revision.

        The caller holds :meth:`lock_for` and has checked the ceremony rules; this re-checks only
        that nobody moved the version meanwhile.
        """
        latest = self.version(state.agreement_id, state.version)
        if latest.status is not VersionStatus.LOCKED or latest.revision != state.revision:
            raise VersionError("version_outdated", "the agreement changed while this signature was prepared")
        now = _utcnow()
        update: dict[str, object] = {}
        if record is None:
            update = {"status": VersionStatus.COMPLETED, "completed_at": now,
                      "final_sha256": hashlib.sha256(pdf).hexdigest()}
            rev = latest.revision + 1
        else:
            signatures = [*latest.signatures, record]
            update["signatures"] = signatures
            rev = record.revision
            party_fields = {s.field_name for s in latest.slots if s.is_party_side}
            if latest.effective_at is None and party_fields <= {s.field_name for s in signatures}:
                update["effective_at"] = record.signed_at
        path = self._version_dir(state.agreement_id, state.version) / f"rev-{rev:02d}.pdf"
        await asyncio.to_thread(atomic_write, path, pdf)
        new_state = latest.model_copy(update=update)
        await self._save(new_state)
        return new_state
