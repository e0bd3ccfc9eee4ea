"""Tables of the recordings of a case's sessions (what :mod:`recordings` writes and checks).

A session is one recording of one room; its clock starts at ``started_at`` and every time on
it (``*_us``) is microseconds since then, so the tracks of all participants share one timeline.
Media bytes live in the recording storage (:mod:`recordings.storage`); rows hold where, how
big, and the SHA-256. ``med_recording_chain`` links the segments in the order they were
closed; ``med_recording_stamps`` holds the RFC 3161 tokens over chain heads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UtcDateTime


class RecordingSessionRow(Base):
    __tablename__ = "med_recording_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("med_cases.id"), index=True)
    room_id: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(12), index=True)  # recording | finished | interrupted
    #: The session clock's zero (wall clock, UTC).
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: Where the session ended on its own clock.
    end_us: Mapped[int | None] = mapped_column(BigInteger)
    #: The case's recording policy as it was when the session started.
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    started_by: Mapped[str | None] = mapped_column(ForeignKey("med_accounts.id"))
    #: The server node writing it (its files are in that node's data directory): only that node's
    #: start-up recovers it. ``None``: any node (a single-node installation).
    node: Mapped[str | None] = mapped_column(String(32))
    #: Why it ended (``stopped``, ``room_closed``, ``server_restart``...) and what recovery did.
    notes: Mapped[list[Any]] = mapped_column(JSON)
    manifest_sha256: Mapped[str | None] = mapped_column(String(64))
    composite_sha256: Mapped[str | None] = mapped_column(String(64))
    composite_path: Mapped[str | None] = mapped_column(String(200))
    #: The review composite's job, kept here so a restart resumes it and any node reports it:
    #: ``None`` (none asked for), ``pending``, ``rendering``, ``ready`` or ``failed``.
    composite_state: Mapped[str | None] = mapped_column(String(12))
    #: Its progress while rendering (0..1), written by the node rendering it.
    composite_progress: Mapped[float | None] = mapped_column(Float)


class RecordingConsentRow(Base):
    """A participant's answer to the recording question; no row yet means not asked/answered."""

    __tablename__ = "med_recording_consents"
    __table_args__ = (UniqueConstraint("session_id", "seat"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("med_recording_sessions.id"), index=True)
    seat: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[str | None] = mapped_column(ForeignKey("med_accounts.id"), index=True)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("med_case_parties.id"))
    role: Mapped[str] = mapped_column(String(16))
    case_role: Mapped[str] = mapped_column(String(24))
    name: Mapped[str] = mapped_column(String(100))
    answer: Mapped[str] = mapped_column(String(10))  # consented | refused
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RecordingTrackRow(Base):
    __tablename__ = "med_recording_tracks"
    __table_args__ = (UniqueConstraint("session_id", "seat", "kind", "number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("med_recording_sessions.id"), index=True)
    seat: Mapped[str] = mapped_column(String(32))
    #: A seat that publishes again after a gap (reconnect) keeps its track; ``number`` is for a
    #: second simultaneous track of one kind (screen share), 0 otherwise.
    number: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("med_accounts.id"), index=True)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("med_case_parties.id"))
    kind: Mapped[str] = mapped_column(String(8))  # audio | video
    codec: Mapped[str] = mapped_column(String(16))  # vp8 | opus
    first_us: Mapped[int | None] = mapped_column(BigInteger)
    last_us: Mapped[int | None] = mapped_column(BigInteger)
    #: The segments joined into one file per track when the session ended (no re-encoding).
    joined_path: Mapped[str | None] = mapped_column(String(200))
    joined_sha256: Mapped[str | None] = mapped_column(String(64))


class RecordingSegmentRow(Base):
    __tablename__ = "med_recording_segments"
    __table_args__ = (UniqueConstraint("track_id", "index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    track_id: Mapped[str] = mapped_column(ForeignKey("med_recording_tracks.id"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    start_us: Mapped[int] = mapped_column(BigInteger)
    end_us: Mapped[int] = mapped_column(BigInteger)
    frames: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(200))  # relative to the recording storage's root
    #: ``None``, or what crash recovery did to the file (``truncated``: remuxed to what plays).
    recovery: Mapped[str | None] = mapped_column(String(16))


class RecordingChainRow(Base):
    """``chain_hash = SHA-256(prev_hash || segment sha256 || track id || index)`` (see recordings.chain)."""

    __tablename__ = "med_recording_chain"
    __table_args__ = (UniqueConstraint("session_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("med_recording_sessions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1 first
    segment_id: Mapped[int] = mapped_column(ForeignKey("med_recording_segments.id"), unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    chain_hash: Mapped[str] = mapped_column(String(64))


class RecordingStampRow(Base):
    """An RFC 3161 token whose message imprint is the chain head after ``position`` entries."""

    __tablename__ = "med_recording_stamps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("med_recording_sessions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    chain_head: Mapped[str] = mapped_column(String(64))
    token: Mapped[bytes] = mapped_column(LargeBinary)  # DER ContentInfo (SignedData over TSTInfo)
    stamped_at: Mapped[datetime] = mapped_column(UtcDateTime())  # the token's genTime
    final: Mapped[bool] = mapped_column(Boolean)  # the stamp made when the session ended
