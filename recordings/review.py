"""The review composite of a closed session: which tiles it has (every seat with a written track,
named as it consented), where it is stored, its progress while it renders, and its entry in the
session manifest (the manifest is written again, and audited again, once the composite exists)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Literal

from .composite import CompositeWorker, Tile, read_progress
from .manifest import write_manifest
from .storage import LocalRecordingStorage
from .store import RecordingStore

log = logging.getLogger(__name__)


def composite_key(session_id: str) -> str:
    return f"{session_id}/composite.webm"


def _progress_key(session_id: str) -> str:
    return f"{session_id}/composite-progress.txt"


@dataclass(frozen=True)
class CompositeState:
    state: Literal["none", "rendering", "ready", "failed"]
    progress: float | None


class ReviewComposer:
    """Renders each closed session's composite in the worker process, one at a time."""

    def __init__(self, store: RecordingStore, storage: LocalRecordingStorage, worker: CompositeWorker):
        self.store = store
        self.storage = storage
        self.worker = worker
        self._failed: set[str] = set()
        self._pending: set[str] = set()  # queued or rendering
        self._lock = asyncio.Lock()

    async def compose(self, session_id: str) -> None:
        session = await self.store.session(session_id)
        names = {c.participant.seat: c.participant.name for c in await self.store.consents(session_id)}
        by_seat: dict[str, dict[str, str]] = {}
        for track in await self.store.tracks(session_id):
            if track.joined_path is not None:
                by_seat.setdefault(track.seat, {})[track.kind] = track.joined_path
        if not by_seat or not session.end_us:
            return  # nothing was written: no composite
        tiles = [Tile(names.get(seat, seat),
                      self.storage.local_path(files["video"]) if "video" in files else None,
                      self.storage.local_path(files["audio"]) if "audio" in files else None)
                 for seat, files in sorted(by_seat.items(), key=lambda item: names.get(item[0], item[0]))]
        key = composite_key(session_id)
        progress = self.storage.local_path(_progress_key(session_id))
        self._pending.add(session_id)
        try:
            async with self._lock:
                await self.worker.render(tiles, session.end_us / 1e6, self.storage.spool(key), progress)
                sha256, _size = await asyncio.to_thread(self.storage.commit, key)
        except Exception:
            self._failed.add(session_id)
            self.storage.discard_spool(key)
            log.exception("the review composite of %s failed", session_id)
            return
        finally:
            self._pending.discard(session_id)
        await self.store.set_composite(session_id, key, sha256)
        await write_manifest(self.store, self.storage, session_id)
        self.storage.delete(_progress_key(session_id))

    def state(self, session_id: str, composite_path: str | None, deleted: bool = False) -> CompositeState:
        if deleted:
            return CompositeState("none", None)
        if composite_path is not None:
            return CompositeState("ready", 1.0)
        if session_id in self._failed:
            return CompositeState("failed", None)
        if session_id not in self._pending:
            return CompositeState("none", None)
        return CompositeState("rendering", read_progress(self.storage.local_path(_progress_key(session_id))) or 0.0)
