"""The table of each case's recording policy (issue 10). A case without a row is not recorded."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UtcDateTime


class RecordingPolicyRow(Base):
    """What the case's mediator decided may be recorded in the case's video sessions."""

    __tablename__ = "med_recording_policies"

    case_id: Mapped[str] = mapped_column(ForeignKey("med_cases.id"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(20))  # see recording_policy.MODES
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(UtcDateTime())
