"""Tables of the agreements drafted for cases: the agreement, its versions, who signs each version
(the case's participants), the stored PDF revisions, the signatures and the preparation lock.

PDF bytes live in the content-addressed file store (:mod:`mediation.files`); rows hold the
SHA-256 and where the bytes are. ``med_agreement_revisions.sha256`` is indexed: the public
verifier finds an uploaded file's agreement by hash, never by scanning.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UtcDateTime


class AgreementRow(Base):
    __tablename__ = "med_agreements"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: ``None`` only for an agreement imported from an old data directory that no case names.
    case_id: Mapped[str | None] = mapped_column(ForeignKey("med_cases.id"), index=True)
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("med_organisations.id"), index=True)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("med_accounts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    current_version: Mapped[int] = mapped_column(Integer)


class AgreementVersionRow(Base):
    __tablename__ = "med_agreement_versions"
    __table_args__ = (UniqueConstraint("agreement_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agreement_id: Mapped[str] = mapped_column(ForeignKey("med_agreements.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))  # draft | locked | completed | superseded
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str | None] = mapped_column(ForeignKey("med_accounts.id"))
    locked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    locked_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    effective_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    final_sha256: Mapped[str | None] = mapped_column(String(64))
    superseded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class SignerSlotRow(Base):
    """One signature a version needs, keyed by the case participant who gives it."""

    __tablename__ = "med_signer_slots"
    __table_args__ = (UniqueConstraint("version_id", "field_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("med_agreement_versions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # the signing order, 1 first
    field_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    side: Mapped[str | None] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(100))
    signer_key: Mapped[str] = mapped_column(String(64))
    participant_id: Mapped[str | None] = mapped_column(ForeignKey("med_accounts.id"), index=True)
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("med_organisations.id"))


class AgreementRevisionRow(Base):
    """A stored PDF revision of a locked version: 0 is the locked PDF, each signature adds one."""

    __tablename__ = "med_agreement_revisions"
    __table_args__ = (UniqueConstraint("version_id", "revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("med_agreement_versions.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    path: Mapped[str] = mapped_column(String(200))  # relative to the file store's root
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AgreementSignatureRow(Base):
    __tablename__ = "med_agreement_signatures"
    __table_args__ = (UniqueConstraint("version_id", "field_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("med_agreement_versions.id"), index=True)
    field_name: Mapped[str] = mapped_column(String(64))
    signer_key: Mapped[str] = mapped_column(String(64))
    participant_id: Mapped[str | None] = mapped_column(ForeignKey("med_accounts.id"), index=True)
    certificate_sha256: Mapped[str] = mapped_column(String(64))
    key_custody: Mapped[str] = mapped_column(String(10))
    identity: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    signed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    #: The RFC 3161 genTime of the signature's timestamp token (what the law's time is read from).
    timestamp_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revision: Mapped[int] = mapped_column(Integer)
    pdf_sha256: Mapped[str] = mapped_column(String(64))


class SigningPreparationRow(Base):
    """The lock a ``prepare`` takes on an agreement until ``complete`` or its expiry: a row, so
    every server process sees who is signing which revision right now."""

    __tablename__ = "med_signing_preparations"

    agreement_id: Mapped[str] = mapped_column(ForeignKey("med_agreements.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)
    field_name: Mapped[str] = mapped_column(String(64))
    signer_key: Mapped[str] = mapped_column(String(64))
    participant_id: Mapped[str | None] = mapped_column(ForeignKey("med_accounts.id"))
    prepared_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
