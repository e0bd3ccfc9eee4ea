"""An agreement's versions: draft → locked → signed revisions → completed (or superseded).

The mediator edits a draft; locking renders it and fixes the SHA-256 of that PDF. From then on
the text can no longer change: an edit creates version n+1 as a new draft and the old version is
*superseded* — its signatures, if any, no longer count for anything.

This module holds the state and the interface the ceremony needs (:class:`AgreementStore`);
where the states live is the case system's business (``mediation.agreement_store`` keeps them in
the database, PDF bytes in its content-addressed file store). ``signing`` never imports it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from .agreement import AgreementData, SignerSlot
from .agreement_pdf import EvidenceAppendix, IdentityEvidence

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
    #: The case participant who signed (account id), when the slot names one.
    participant_id: str | None = None
    signed_at: dt.datetime
    #: The RFC 3161 genTime of the signature's timestamp token: the time the TSA vouches for.
    timestamp_at: dt.datetime | None = None
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
    #: The case the agreement was drafted for (``None``: imported from before agreements had cases).
    case_id: str | None = None
    created_at: dt.datetime
    created_by: str | None
    locked_at: dt.datetime | None = None
    locked_sha256: str | None = None
    #: Who signs, in order; follows the draft's data and is fixed with the text at lock.
    slots: list[SignerSlot] = Field(default_factory=list)
    signatures: list[SignatureRecord] = Field(default_factory=list)
    #: When the last party (or agent) signed, by that signature's timestamp token: the agreement
    #: takes effect then (Online Mediation Rules art. 19).
    effective_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    final_sha256: str | None = None
    superseded_at: dt.datetime | None = None

    @property
    def revision(self) -> int:
        """The number of the newest PDF revision (0 = the locked PDF)."""
        return len(self.signatures) + (1 if self.status is VersionStatus.COMPLETED else 0)

    @property
    def newest_sha256(self) -> str | None:
        """SHA-256 of the newest stored revision (``None`` for a draft)."""
        if self.final_sha256 is not None:
            return self.final_sha256
        return self.signatures[-1].pdf_sha256 if self.signatures else self.locked_sha256

    def signed_fields(self) -> set[str]:
        return {s.field_name for s in self.signatures}

    def next_slot(self) -> SignerSlot | None:
        done = self.signed_fields()
        return next((slot for slot in self.slots if slot.field_name not in done), None)

    def party_fields_signed(self) -> bool:
        """Every party (and signing agent) has signed: what makes the agreement effective."""
        return {s.field_name for s in self.slots if s.is_party_side} <= self.signed_fields()


@dataclass(frozen=True)
class PreparationClaim:
    """The lock ``prepare`` takes on an agreement: one signer, one revision, until ``expires_at``."""

    agreement_id: str
    version: int
    revision: int
    field_name: str
    signer_key: str
    participant_id: str | None
    prepared_at: dt.datetime
    expires_at: dt.datetime


@dataclass(frozen=True)
class PlatformVersion:
    """A stored version found by its locked PDF's hash, with what matching a file needs."""

    state: VersionState
    current_version: int
    #: SHA-256 of every stored revision, revision 0 (the locked PDF) first.
    revision_sha256: list[str]


class AgreementStore(Protocol):
    """What the signing ceremony needs from wherever versions are kept."""

    def lock_for(self, agreement_id: str) -> asyncio.Lock:
        """Serialises this process's changes to one agreement (prepare → complete)."""

    async def current(self, agreement_id: str) -> VersionState: ...

    async def version(self, agreement_id: str, version: int) -> VersionState: ...

    async def read_pdf(self, state: VersionState, revision: int | None = None) -> bytes:
        """The PDF of ``revision`` (default: the newest) of a locked version."""

    async def add_revision(self, state: VersionState, pdf: bytes, record: SignatureRecord | None) -> VersionState:
        """Store the PDF with one more signature (``record``) or, with ``None``, the final archival
        revision. Refuses (``version_outdated``) if the version moved since ``state`` was read."""

    async def claim_preparation(self, claim: PreparationClaim) -> None:
        """Record who is preparing which revision; replaces a previous claim on the agreement."""

    async def release_preparation(self, agreement_id: str) -> None: ...


class RevisionLookup(Protocol):
    """Finds the version whose locked PDF has one of these SHA-256 hashes (an index look-up)."""

    async def __call__(self, sha256s: Collection[str]) -> PlatformVersion | None: ...
