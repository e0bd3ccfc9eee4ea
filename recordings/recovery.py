"""Crash recovery: at server start, every session still marked ``recording`` was cut short (the
process died). Its segments are made whole and the session is closed as ``interrupted``:

* a segment committed to storage but not yet in the database (killed in between) is added;
* the spool file of the segment being written is remuxed (no re-encoding) up to the last frame
  that reads back, and added marked ``truncated``; if nothing in it plays it is dropped, and the
  session's notes say so;
* then, as for a normal stop: tracks joined, session ended (its end is the last recorded frame),
  final chain head time-stamped, manifest written and audited.

Call :func:`recover_interrupted` once at start-up, before any new recording starts.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from pyhanko.sign.timestamps import TimeStamper

from .session_recorder import finalise
from .storage import RecordingStorage, sha256_of
from .store import INTERRUPTED, RECORDING, ClosedSegment, RecordingStore, TrackInfo
from .track_writer import remux

log = logging.getLogger(__name__)

_INDEX = re.compile(r"/(\d{5})\.webm$")


def _salvage(storage: RecordingStorage, key: str, kind: str, committed: bool) -> ClosedSegment | None:
    """Blocking: what of ``key`` plays, as a stored segment (``None``: nothing does)."""
    index = int(_INDEX.search(key).group(1))  # type: ignore[union-attr]
    if committed:
        probe = remux([storage.local_path(key)], None, kind)
        if probe.frames == 0 or probe.start_us is None or probe.end_us is None:
            return None
        with storage.open(key) as handle:
            sha256, size = sha256_of(handle)
        return ClosedSegment(index, sha256, size, probe.start_us, probe.end_us, probe.frames, key, "unrecorded")
    crashed = storage.claim_spool(key)
    if crashed is None:
        return None
    result = remux([crashed], storage.spool(key), kind)
    if result.frames == 0 or result.start_us is None or result.end_us is None:
        storage.discard_spool(key)
        storage.drop_claimed(key)
        return None
    sha256, size = storage.commit(key)
    storage.drop_claimed(key)
    return ClosedSegment(index, sha256, size, result.start_us, result.end_us, result.frames, key, "truncated")


async def _recover_track(store: RecordingStore, storage: RecordingStorage, session_id: str, track: TrackInfo,
                         stored: set[str], notes: list[dict[str, Any]]) -> None:
    prefix = f"{session_id}/{track.id}"
    committed = [k for k in await asyncio.to_thread(storage.keys, prefix) if k not in stored and _INDEX.search(k)]
    spooled = [k for k in await asyncio.to_thread(storage.spooled, prefix) if _INDEX.search(k)]
    for key in sorted(committed) + sorted(spooled):
        segment = await asyncio.to_thread(_salvage, storage, key, track.kind, key in committed)
        if segment is None:
            notes.append({"dropped": key, "why": "nothing in it plays"})
            continue
        await store.add_segment(track.id, segment)
        notes.append({segment.recovery or "recovered": key, "frames": segment.frames})


async def recover_interrupted(store: RecordingStore, storage: RecordingStorage,
                              timestamper: TimeStamper) -> list[dict[str, Any]]:
    """Close every session left ``recording``; their manifests (state ``interrupted``)."""
    manifests = []
    for session in await store.sessions_in_state(RECORDING):
        notes: list[dict[str, Any]] = []
        stored = {s.path for s in await store.segments(session.id)}
        for track in await store.tracks(session.id):
            await _recover_track(store, storage, session.id, track, stored, notes)
        end_us = max((t.last_us for t in await store.tracks(session.id) if t.last_us is not None), default=0)
        manifest = await finalise(store, storage, timestamper, session.id, state=INTERRUPTED, end_us=end_us,
                                  note={"reason": "server_restart", "recovery": notes})
        log.warning("recording %s was interrupted; recovered %s", session.id, notes)
        manifests.append(manifest)
    return manifests
