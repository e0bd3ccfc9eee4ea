"""The table of unfinished applications: one per account, kept so an applicant can stop and come back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UtcDateTime


class ApplicationDraft(Base):
    """The form as the applicant left it, encrypted (it names people and their ID numbers)."""

    __tablename__ = "med_application_drafts"

    account_id: Mapped[str] = mapped_column(ForeignKey("med_accounts.id"), primary_key=True)
    data_enc: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
