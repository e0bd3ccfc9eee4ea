"""The table of scheduled video sessions: when the mediator meets the parties of a case in its room."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UtcDateTime


class VideoSession(Base):
    __tablename__ = "med_video_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("med_cases.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(500))
    scheduled_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
