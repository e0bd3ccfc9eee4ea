"""The case's ended recording sessions as the court and the agreement cite them: session id,
start and end, state, the SHA-256 of the manifest of record (the one the audit trail's newest
``recording.manifest`` entry names), the hash chain's head and the time of its last stamp.

Read from the recording tables in the caller's transaction, so that an application's materials
or an agreement's appendix cite exactly what the database held at that moment. Sessions still
being written, or without a manifest yet, are not cited (nothing final to point at).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .recording_models import RecordingChainRow, RecordingSessionRow, RecordingStampRow

ENDED = ("finished", "interrupted")


@dataclass(frozen=True)
class RecordingCitation:
    session_id: str
    state: str
    started_at: str
    ended_at: str | None
    manifest_sha256: str
    chain_length: int
    chain_head: str | None
    last_stamp_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")


async def recording_citations(s: AsyncSession, case_id: str, *,
                              ended_by: datetime | None = None) -> list[RecordingCitation]:
    """The case's ended sessions with a manifest, oldest first; with ``ended_by``, only those
    that had ended by then (an agreement cites what was finished before it was locked)."""
    query = (select(RecordingSessionRow).where(RecordingSessionRow.case_id == case_id,
                                               RecordingSessionRow.state.in_(ENDED),
                                               RecordingSessionRow.manifest_sha256.is_not(None))
             .order_by(RecordingSessionRow.started_at, RecordingSessionRow.id))
    if ended_by is not None:
        query = query.where(RecordingSessionRow.ended_at <= ended_by)
    out = []
    for row in (await s.scalars(query)).all():
        length = await s.scalar(select(func.max(RecordingChainRow.position))
                                .where(RecordingChainRow.session_id == row.id)) or 0
        head = await s.scalar(select(RecordingChainRow.chain_hash).where(
            RecordingChainRow.session_id == row.id, RecordingChainRow.position == length)) if length else None
        stamped = await s.scalar(select(func.max(RecordingStampRow.stamped_at))
                                 .where(RecordingStampRow.session_id == row.id))
        assert row.manifest_sha256 is not None
        out.append(RecordingCitation(row.id, row.state, _iso(row.started_at) or "", _iso(row.ended_at),
                                     row.manifest_sha256, length, head, _iso(stamped)))
    return out
