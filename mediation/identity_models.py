"""Tables of identity at signing: who enrolled a reference photo for which case, and every identity
check the server made or an identity provider reported (passed or failed).

Here rather than in ``identity/`` so that the one metadata (and the one Alembic history) of the
case system registers them; the logic lives in :mod:`identity`. The reference photo is
AES-GCM ciphertext bound to its row (never clear on disk, never logged); the retention sweep
replaces it by ``NULL`` and stamps ``reference_deleted_at``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UtcDateTime


class IdentityEnrolment(Base):
    """One case participant's identity for signing: one row per (case, account)."""

    __tablename__ = "idn_enrolments"
    __table_args__ = (UniqueConstraint("case_id", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("med_cases.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("med_accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    id_type: Mapped[str] = mapped_column(String(20))
    id_number_enc: Mapped[bytes] = mapped_column(LargeBinary)
    #: ``id_card`` (the photo of the ID document) or ``portrait`` (taken by the browser's camera).
    reference_source: Mapped[str] = mapped_column(String(10))
    reference_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    reference_sha256: Mapped[str] = mapped_column(String(64))
    consent_text_version: Mapped[str] = mapped_column(String(20))
    consent_at: Mapped[datetime] = mapped_column(UtcDateTime())
    enrolled_at: Mapped[datetime] = mapped_column(UtcDateTime())
    #: When the retention sweep deletes the reference photo.
    delete_after: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    reference_deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class IdentityCheckRow(Base):
    """One identity check of one signer slot, passed or failed; the gate reads these."""

    __tablename__ = "idn_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("med_cases.id"), index=True)
    agreement_id: Mapped[str] = mapped_column(String(32), index=True)
    signer_key: Mapped[str] = mapped_column(String(64))
    participant_id: Mapped[str | None] = mapped_column(String(32), index=True)
    #: ``face``, ``liveness``, ``otp``, ``provider:<name>``, ``test``.
    method: Mapped[str] = mapped_column(String(64))
    passed: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(40))
    score: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    frames_sha256: Mapped[str | None] = mapped_column(String(64))
    #: What the check measured (model hashes, frames used, challenge timings), as JSON.
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    attestation: Mapped[bytes | None] = mapped_column(LargeBinary)
    attestation_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    checked_at: Mapped[datetime] = mapped_column(UtcDateTime())
    recorded_by: Mapped[str] = mapped_column(String(64))
