"""Tables of the notifications: what each account was told in the app, and how else it wants to
be told (text message, e-mail). They live on the case system's ``Base``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UtcDateTime


class Notification(Base):
    __tablename__ = "med_notifications"
    __table_args__ = (Index("ix_med_notifications_account_read", "account_id", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("med_accounts.id"))
    case_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class NotificationPreference(Base):
    """Absent row: text messages on (to the account's phone), no e-mail."""

    __tablename__ = "med_notification_preferences"

    account_id: Mapped[str] = mapped_column(ForeignKey("med_accounts.id"), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254))
    by_sms: Mapped[bool] = mapped_column(Boolean)
    by_email: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
