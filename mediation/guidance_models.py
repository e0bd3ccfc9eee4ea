"""Tables of guidance before filing: the assistant's knowledge base (seeded from
``guidance/knowledge.yaml``, edited by administrators), the questions it could not answer (for the
editors), consultation requests to organisations, and the corpus of past cases for similar-case
search (a fictional demo corpus, or a court's own imported with ``accord guidance import-cases``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UtcDateTime


class GuidanceEntry(Base):
    __tablename__ = "med_guidance_entries"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    topic: Mapped[str] = mapped_column(String(40))
    question_zh: Mapped[str] = mapped_column(String(300))
    question_en: Mapped[str] = mapped_column(String(300))
    answer_zh: Mapped[str] = mapped_column(Text)
    answer_en: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(300))
    keywords: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    updated_by: Mapped[str] = mapped_column(String(64))


class UnansweredQuestion(Base):
    """A question the assistant declined or was unsure about: what the editors should add."""

    __tablename__ = "med_guidance_unanswered"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    question: Mapped[str] = mapped_column(String(300))
    lang: Mapped[str] = mapped_column(String(2))
    outcome: Mapped[str] = mapped_column(String(10))  # "declined" | "unsure"
    confidence: Mapped[float] = mapped_column(Float)
    best_entry: Mapped[str | None] = mapped_column(String(64))
    asked_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class ConsultationRequest(Base):
    """A person asks an organisation for a human consultation (the seed's 调解咨询)."""

    __tablename__ = "med_guidance_consultations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("med_organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))
    question: Mapped[str] = mapped_column(String(1000))
    dispute_type: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class PastCase(Base):
    __tablename__ = "med_past_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    court: Mapped[str] = mapped_column(String(100))
    dispute_type: Mapped[str] = mapped_column(String(40), index=True)
    facts: Mapped[str] = mapped_column(Text)
    claims: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(20))  # "mediated" | "judgment" | "withdrawn" | ...
    result: Mapped[str] = mapped_column(Text)
    amount_yuan: Mapped[int | None] = mapped_column(Integer)
    duration_days: Mapped[int] = mapped_column(Integer)
    decided_on: Mapped[date] = mapped_column(Date)
    #: The search terms of facts and claims, computed once at import (segmenting is the slow part).
    terms: Mapped[str] = mapped_column(Text)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)
