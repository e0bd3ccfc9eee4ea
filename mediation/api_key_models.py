"""The table of API keys for integrating systems (court and organisation case systems, the
signing and identity services). Only a keyed hash of each key is stored (see ``api_keys.py``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UtcDateTime

#: A revoked key keeps its row (and its name, for the record); only live keys need distinct names.
_LIVE = text("revoked_at IS NULL")


class ApiKey(Base):
    __tablename__ = "med_api_keys"
    __table_args__ = (Index("uq_med_api_keys_live_name", "name", unique=True, sqlite_where=_LIVE,
                            postgresql_where=_LIVE),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    #: ``hmac-sha256:<hex>`` for keys made here; ``sha256:<hex>`` for keys imported from the old file.
    key_hash: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
