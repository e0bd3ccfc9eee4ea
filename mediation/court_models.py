"""The court directory's table: the courts a deployment docks with (judicial confirmation and
payment orders go to one of them; clerks and judges belong to one of them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from .errors import InvalidInput
from .models import Base, UtcDateTime


class Court(Base):
    __tablename__ = "med_courts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)  # = Account.court = Case.court = CourtApplication.court
    code: Mapped[str | None] = mapped_column(String(20))  # the court's code in case numbers, e.g. 川0104
    region: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


async def require_listed(s: AsyncSession, court: str) -> str:
    """Next to the table because accounts and court applications both check names against it:
    ``court`` if the directory lists it (or lists no court at all); otherwise a refusal naming the problem."""
    if await s.scalar(select(Court.id).where(Court.name == court)) is not None:
        return court
    if await s.scalar(select(Court.id).limit(1)) is not None:
        raise InvalidInput("unknown_court", f"{court} is not in the court directory: choose one of the listed courts",
                           {"court": court})
    return court
