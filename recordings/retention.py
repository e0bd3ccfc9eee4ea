"""Retention: recordings older than the configured number of days are deleted — never silently.
Each deletion removes the session's files (tracks, segments, composite, manifest), keeps the
session's rows (who took part, who consented, every segment's hash, the chain and its time stamps:
the proof of what existed), marks the session ``deleted``, logs it and appends ``recording.deleted``
to the case's audit trail with the manifest hash the files had."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import update

from mediation.recording_models import RecordingSessionRow
from mediation.recording_policy import RecordingPolicyService

from .storage import RecordingStorage
from .store import FINISHED, INTERRUPTED, SYSTEM_ACTOR, RecordingStore

log = logging.getLogger(__name__)
DELETED = "deleted"


async def sweep(store: RecordingStore, storage: RecordingStorage, desk: RecordingPolicyService, *,
                retention: timedelta, now: datetime) -> list[str]:
    """Delete every ended session that ended before ``now - retention``; returns their ids."""
    cutoff = now - retention
    deleted = []
    for state in (FINISHED, INTERRUPTED):
        for session in await store.sessions_in_state(state):
            if session.ended_at is None or session.ended_at >= cutoff:
                continue
            keys = await asyncio.to_thread(storage.keys, session.id)
            for key in keys:
                await asyncio.to_thread(storage.delete, key)
            async with store.db.begin() as s:
                await s.execute(update(RecordingSessionRow).where(RecordingSessionRow.id == session.id).values(
                    state=DELETED, notes=[*session.notes, {"deleted": now.isoformat(), "files": len(keys)}]))
            await desk.record(session.case_id, SYSTEM_ACTOR, "recording.deleted",
                              {"session": session.id, "reason": "retention", "retention_days": retention.days,
                               "files": len(keys), "manifest_sha256": session.manifest_sha256})
            log.warning("recording deleted at the end of its retention period",
                        extra={"session": session.id, "case_id": session.case_id, "files": len(keys)})
            deleted.append(session.id)
    return deleted
