"""The session manifest: everything needed to check a recording without the server — who took
part and consented, each track with its codec and times on the session clock, every segment's
hash, the hash chain, the time-stamp tokens and the composite's hash.

Stored as canonical JSON (sorted keys, no spaces, UTF-8) under ``<session>/manifest.json``; its
SHA-256 goes into the case's audit trail (``recording.manifest``). Writing it again (the
composite arrived) appends another audit entry: the newest one is the manifest of record.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from datetime import datetime
from typing import Any

from mediation.audit import canonical_json

from .storage import RecordingStorage
from .store import RecordingStore

FORMAT = "accord-recording-manifest/1"
CHAIN_RULE = "sha256(prev || segment_sha256 || utf8(track_id) || uint64be(index)), prev of the first = 32 zero bytes"
CLOCK = ("microseconds since session.started_at; a frame's time is its arrival at the server, each track "
         "anchored on its first frame and advanced by the frame's own timestamps")


def manifest_key(session_id: str) -> str:
    return f"{session_id}/manifest.json"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="microseconds")


async def build_manifest(store: RecordingStore, session_id: str) -> dict[str, Any]:
    session = await store.session(session_id)
    consents = await store.consents(session_id)
    segments = await store.segments(session_id)
    links = await store.chain(session_id)
    stamps = await store.stamps(session_id)
    tracks = []
    for track in await store.tracks(session_id):
        tracks.append({
            "id": track.id, "seat": track.seat, "number": track.number, "kind": track.kind, "codec": track.codec,
            "account_id": track.account_id, "party_id": track.party_id,
            "first_us": track.first_us, "last_us": track.last_us,
            "joined": None if track.joined_path is None else {"path": track.joined_path, "sha256": track.joined_sha256},
            "segments": [{"index": s.index, "sha256": s.sha256, "size": s.size, "start_us": s.start_us,
                          "end_us": s.end_us, "frames": s.frames, "path": s.path, "recovery": s.recovery}
                         for s in segments if s.track_id == track.id],
        })
    return {
        "format": FORMAT,
        "session": {"id": session.id, "case_id": session.case_id, "room_id": session.room_id, "state": session.state,
                    "started_at": _iso(session.started_at), "ended_at": _iso(session.ended_at),
                    "end_us": session.end_us, "policy": session.policy, "started_by": session.started_by,
                    "notes": session.notes},
        "clock": CLOCK,
        "participants": [{"seat": c.participant.seat, "role": c.participant.role,
                          "case_role": c.participant.case_role, "name": c.participant.name,
                          "account_id": c.participant.account_id, "party_id": c.participant.party_id,
                          "consent": c.answer, "answered_at": _iso(c.answered_at)} for c in consents],
        "tracks": tracks,
        "chain": {"rule": CHAIN_RULE, "length": len(links), "head": links[-1].chain_hash if links else None,
                  "entries": [{"position": e.position, "track_id": e.track_id, "index": e.index,
                               "segment_sha256": e.segment_sha256, "prev_hash": e.prev_hash,
                               "chain_hash": e.chain_hash} for e in links]},
        "stamps": [{"position": s.position, "chain_head": s.chain_head, "time": _iso(s.stamped_at), "final": s.final,
                    "token": base64.b64encode(s.token).decode()} for s in stamps],
        "composite": None if session.composite_sha256 is None else {"path": session.composite_path,
                                                                    "sha256": session.composite_sha256},
    }


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return canonical_json(manifest).encode()


def manifest_sha256(manifest: dict[str, Any]) -> str:
    return hashlib.sha256(manifest_bytes(manifest)).hexdigest()


async def write_manifest(store: RecordingStore, storage: RecordingStorage, session_id: str) -> dict[str, Any]:
    """Build, store and audit the manifest (again, e.g. once the composite is listed)."""
    manifest = await build_manifest(store, session_id)
    sha256, _size = await asyncio.to_thread(storage.write_bytes, manifest_key(session_id), manifest_bytes(manifest))
    await store.set_manifest(session_id, sha256)
    return manifest
