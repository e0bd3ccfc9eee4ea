"""Tables of the signed webhooks: who wants which case events where, and what became of each delivery.

They live on the case system's ``Base`` (one metadata, one Alembic chain). The signing secret is
stored encrypted (:class:`mediation.pii.PiiCipher`, context ``webhook.secret``): a leaked
database must not let anyone forge events to the integrators.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UtcDateTime


class WebhookSubscription(Base):
    __tablename__ = "med_webhooks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    kinds: Mapped[list[str]] = mapped_column(JSON)  # event kinds, or ["*"] for all
    case_id: Mapped[str | None] = mapped_column(String(64), index=True)  # only this case's events
    secret_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # kept for the delivery log


class WebhookDelivery(Base):
    """One event to one subscription: ``pending`` while attempts remain, then ``delivered`` or ``failed``.

    ``body`` (the exact bytes that get signed) and ``next_attempt_at`` let a restarted server resume
    a pending delivery with the same event; rows written before migration 0005 have no body."""

    __tablename__ = "med_webhook_deliveries"
    __table_args__ = (UniqueConstraint("webhook_id", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    webhook_id: Mapped[str] = mapped_column(ForeignKey("med_webhooks.id"), index=True)
    event_id: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
