"""Tables of the case system. This package owns its own ``DeclarativeBase``; the schema is
created and evolved by the Alembic migrations in ``mediation/migrations`` (see ``schema.py``)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, MetaData,
                        String, Text, UniqueConstraint)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in, timezone-aware UTC out, on SQLite (which forgets zones) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


metadata = Base.metadata


class Account(Base):
    __tablename__ = "med_accounts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), index=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(100))
    court: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class LoginSession(Base):
    __tablename__ = "med_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("med_accounts.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class OneTimeCode(Base):
    __tablename__ = "med_one_time_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class LoginThrottle(Base):
    """Failed password sign-ins counted per key (SHA-256 of ``account:<login>`` or ``ip:<address>``):
    in the database, so every node of a cluster sees the same counts and lockouts."""

    __tablename__ = "med_login_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime())
    lockouts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime())


class StoredFile(Base):
    __tablename__ = "med_files"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(200))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AgentLink(Base):
    """An agent may act for a party because the party uploaded a power of attorney naming them."""

    __tablename__ = "med_agent_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("med_accounts.id"), index=True)
    party_id: Mapped[str] = mapped_column(ForeignKey("med_accounts.id"), index=True)
    power_of_attorney_id: Mapped[str] = mapped_column(ForeignKey("med_files.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Case(Base):
    __tablename__ = "med_cases"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: The number people and documents use, e.g. (2026)川0104民调7号 (see ``case_numbers.py``).
    case_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    origin: Mapped[str] = mapped_column(String(20))  # "application" | "court_delegation"
    court: Mapped[str | None] = mapped_column(String(100))
    dispute_type: Mapped[str] = mapped_column(String(40), index=True)
    claims: Mapped[str] = mapped_column(Text)
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    facts: Mapped[str] = mapped_column(Text)
    step: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(10), index=True)  # "open" | "closed"
    outcome: Mapped[str | None] = mapped_column(String(10))
    mediator_id: Mapped[str | None] = mapped_column(ForeignKey("med_accounts.id"), index=True)
    organisation: Mapped[str | None] = mapped_column(String(100))
    room_id: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    audit_seq: Mapped[int] = mapped_column(Integer, default=0)
    audit_head: Mapped[str] = mapped_column(String(64))


class CaseNumberSequence(Base):
    """The last case number given per court code (``""``: no court) and year."""

    __tablename__ = "med_case_number_sequences"

    scope: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class CaseParty(Base):
    __tablename__ = "med_case_parties"
    __table_args__ = (UniqueConstraint("case_id", "side"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("med_cases.id"), index=True)
    side: Mapped[str] = mapped_column(String(12))  # "applicant" | "respondent"
    kind: Mapped[str] = mapped_column(String(10), default="person")  # "person" | "company"
    name: Mapped[str] = mapped_column(String(100))
    #: A company's legal representative (法定代表人), as the applicant names them.
    representative: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    #: A person's ID number or a company's credit code; ``None`` for a person whose number the
    #: applicant did not know, until that person answers with their registered account.
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    address: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[str | None] = mapped_column(ForeignKey("med_accounts.id"), index=True)
    consent: Mapped[str] = mapped_column(String(10))  # "pending" | "given" | "refused"
    consent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class CaseDocument(Base):
    """A file attached to a case: evidence at application time or counselling material."""

    __tablename__ = "med_case_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("med_cases.id"), index=True)
    file_id: Mapped[str] = mapped_column(ForeignKey("med_files.id"))
    kind: Mapped[str] = mapped_column(String(20))  # "evidence" | "counselling"
    side: Mapped[str | None] = mapped_column(String(12))
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CounsellingMessage(Base):
    __tablename__ = "med_counselling_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("med_cases.id"), index=True)
    sender_id: Mapped[str] = mapped_column(String(64))
    sender_role: Mapped[str] = mapped_column(String(20))
    side: Mapped[str] = mapped_column(String(12))  # the side of the conversation: only it and the mediator see it
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime())


class MediatorChoice(Base):
    __tablename__ = "med_mediator_choices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("med_cases.id"), index=True)
    mediator_id: Mapped[str] = mapped_column(ForeignKey("med_accounts.id"), index=True)
    chosen_by: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10))  # "proposed" | "accepted" | "declined"
    reason: Mapped[str | None] = mapped_column(String(500))
    chosen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class CaseResult(Base):
    """Step 5. For an agreement the document and its signatures belong to ``signing/``; this row
    keeps the seam: the agreement's id there, its status, and the payment terms the court needs."""

    __tablename__ = "med_results"

    case_id: Mapped[str] = mapped_column(ForeignKey("med_cases.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # "agreement" | "failure"
    agreement_id: Mapped[str | None] = mapped_column(String(64))
    agreement_status: Mapped[str | None] = mapped_column(String(12))  # "drafted" | "effective"
    effective_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    failure_reasons: Mapped[list[str] | None] = mapped_column(JSON)
    payment_terms: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Rating(Base):
    __tablename__ = "med_ratings"
    __table_args__ = (UniqueConstraint("case_id", "side"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("med_cases.id"), index=True)
    side: Mapped[str] = mapped_column(String(12))
    mediator_id: Mapped[str] = mapped_column(ForeignKey("med_accounts.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(String(1000))
    rated_by: Mapped[str] = mapped_column(String(64))
    rated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Complaint(Base):
    __tablename__ = "med_complaints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("med_cases.id"), index=True)
    organisation: Mapped[str | None] = mapped_column(String(100), index=True)
    filed_by: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CourtApplication(Base):
    """Step 7: a judicial confirmation or payment order application and its course through the court."""

    __tablename__ = "med_court_applications"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("med_cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # "judicial_confirmation" | "payment_order"
    court: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    joined_sides: Mapped[list[str]] = mapped_column(JSON)
    materials: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    filed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    ruling: Mapped[str | None] = mapped_column(String(16))
    reasons: Mapped[str | None] = mapped_column(Text)
    ruled_by: Mapped[str | None] = mapped_column(String(64))
    ruled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ruling_document_id: Mapped[str | None] = mapped_column(String(64))


class LitigationPackage(Base):
    """What a party takes to court when mediation did not settle the dispute."""

    __tablename__ = "med_litigation_packages"

    case_id: Mapped[str] = mapped_column(ForeignKey("med_cases.id"), primary_key=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Deadline(Base):
    """A stored time limit: a step's limit or a statutory court limit. Survives restarts."""

    __tablename__ = "med_deadlines"
    #: Covers the data centre's time per step (mediation/dashboard.py): read in step order, no sort.
    __table_args__ = (Index("ix_med_deadlines_kind_times", "kind", "started_at", "due_at", "completed_at",
                            "overdue_at", "case_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("med_cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # "step:<step>" | "court:accept:<app>" | ...
    standard: Mapped[str] = mapped_column(String(300))
    responsible_account_id: Mapped[str | None] = mapped_column(String(64), index=True)
    responsible_role: Mapped[str | None] = mapped_column(String(20))
    responsible_court: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    due_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    overdue_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class OverdueFlag(Base):
    """A notice to the responsible person (or the court's clerks/judges) that a limit has passed."""

    __tablename__ = "med_overdue_flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("med_deadlines.id"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("med_cases.id"), index=True)
    account_id: Mapped[str | None] = mapped_column(String(64), index=True)
    role: Mapped[str | None] = mapped_column(String(20))
    court: Mapped[str | None] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AuditEntry(Base):
    __tablename__ = "med_audit_entries"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("med_cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[str] = mapped_column(String(40))  # ISO 8601 UTC text: hashed exactly as stored
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(60))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON text, hashed exactly as stored
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))



