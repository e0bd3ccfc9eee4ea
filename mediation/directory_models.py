"""Tables of the public directory: mediation organisations and mediator profiles.

They live on the case system's ``Base`` (one metadata, one Alembic chain). A mediator profile
extends a ``med_accounts`` row of role ``mediator``; the organisation is joined by its unique
name, which is what accounts and cases already carry. Specialities and languages are rows of
their own (keyed by the value first) so that "who handles loan disputes" is an index seek.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, Case, MediatorChoice, Rating, UtcDateTime


class Organisation(Base):
    __tablename__ = "med_organisations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)  # = Account.organisation = Case.organisation
    category: Mapped[str] = mapped_column(String(40), index=True)
    region: Mapped[str] = mapped_column(String(100), index=True)
    address: Mapped[str] = mapped_column(String(200))
    #: 统一社会信用代码, printed in agreements and the seal certificate's subject once known.
    credit_code: Mapped[str | None] = mapped_column(String(18))
    contact: Mapped[str] = mapped_column(String(100))
    intro: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class MediatorProfile(Base):
    __tablename__ = "med_mediator_profiles"

    account_id: Mapped[str] = mapped_column(ForeignKey("med_accounts.id"), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("med_organisations.id"), index=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    region: Mapped[str] = mapped_column(String(100), index=True)
    intro: Mapped[str] = mapped_column(Text)
    available: Mapped[bool] = mapped_column(Boolean, index=True)
    max_concurrent: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class MediatorSpeciality(Base):
    __tablename__ = "med_mediator_specialities"

    dispute_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("med_mediator_profiles.account_id"), primary_key=True,
                                            index=True)


class MediatorLanguage(Base):
    __tablename__ = "med_mediator_languages"

    language: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("med_mediator_profiles.account_id"), primary_key=True,
                                            index=True)


# Covering indexes for the recommendation and statistics aggregates over the case tables: each
# per-mediator count is then read from an index alone, not from 100,000 case rows.
Index("ix_med_cases_mediator_load", Case.mediator_id, Case.step, Case.outcome)
Index("ix_med_mediator_choices_mediator_status", MediatorChoice.mediator_id, MediatorChoice.status)
Index("ix_med_ratings_mediator_score", Rating.mediator_id, Rating.score)
