"""The review composite of a closed session: which tiles it has (every seat with a written track,
named as it consented), where it is stored, its progress while it renders, and its entry in the
session manifest (the manifest is written again, and audited again, once the composite exists).

The job lives in the session's row (``composite_state``, ``composite_progress``), not in this
process: any node reads the progress from the database, and a composite that a restart cut off
(still ``pending`` or ``rendering``) is queued again at the next start of the node that owns the
session (:meth:`ReviewComposer.resume`)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .composite import CompositeWorker, Tile, read_progress
from .manifest import write_manifest
from .storage import LocalRecordingStorage
from .store import RecordingStore, SessionInfo

log = logging.getLogger(__name__)

PENDING, RENDERING, READY, FAILED = "pending", "rendering", "ready", "failed"
#: How often the rendering node copies the worker's progress into the database.
PROGRESS_SECONDS = 1.0


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
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    async def defer(self, session_id: str) -> None:
        """Ask for the composite without rendering it now (the server is stopping): the next
        start renders it."""
        await self.store.set_composite_job(session_id, PENDING, 0.0)

    async def resume(self, *, node: str | None) -> list[asyncio.Task[None]]:
        """Queue again every composite of ``node``'s sessions that was asked for and not finished."""
        tasks = []
        for session in await self.store.composite_jobs(node=node):
            log.info("resuming the review composite of %s (%s)", session.id, session.composite_state)
            task = asyncio.create_task(self.compose(session.id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            tasks.append(task)
        return tasks

    async def close(self) -> None:
        """Stop queued work; what was cut off stays ``pending``/``rendering`` for the next start."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def compose(self, session_id: str) -> None:
        session = await self.store.session(session_id)
        names = {c.participant.seat: c.participant.name for c in await self.store.consents(session_id)}
        by_seat: dict[str, dict[str, str]] = {}
        for track in await self.store.tracks(session_id):
            if track.joined_path is not None:
                by_seat.setdefault(track.seat, {})[track.kind] = track.joined_path
        if not by_seat or not session.end_us:
            if session.composite_state is not None:
                await self.store.set_composite_job(session_id, None)
            return  # nothing was written: no composite
        tiles = [Tile(names.get(seat, seat),
                      self.storage.local_path(files["video"]) if "video" in files else None,
                      self.storage.local_path(files["audio"]) if "audio" in files else None)
                 for seat, files in sorted(by_seat.items(), key=lambda item: names.get(item[0], item[0]))]
        key = composite_key(session_id)
        progress = self.storage.local_path(_progress_key(session_id))
        await self.store.set_composite_job(session_id, PENDING, 0.0)
        async with self._lock:
            await self.store.set_composite_job(session_id, RENDERING, 0.0)
            reporter = asyncio.create_task(self._report(session_id, progress))
            try:
                await self.worker.render(tiles, session.end_us / 1e6, self.storage.spool(key), progress)
                sha256, _size = await asyncio.to_thread(self.storage.commit, key)
            except Exception:
                self.storage.discard_spool(key)
                log.exception("the review composite of %s failed", session_id)
                await self.store.set_composite_job(session_id, FAILED)
                return
            finally:
                reporter.cancel()
        await self.store.set_composite(session_id, key, sha256)
        await write_manifest(self.store, self.storage, session_id)
        self.storage.delete(_progress_key(session_id))

    async def _report(self, session_id: str, progress: Path) -> None:
        """Copy the worker's progress file into the database while it renders."""
        last: float | None = None
        while True:
            await asyncio.sleep(PROGRESS_SECONDS)
            fraction = read_progress(progress)
            if fraction is not None and fraction != last:
                await self.store.set_composite_job(session_id, RENDERING, fraction)
                last = fraction

    @staticmethod
    def state(session: SessionInfo, deleted: bool = False) -> CompositeState:
        """As the database says, whichever node renders it."""
        if deleted:
            return CompositeState("none", None)
        if session.composite_path is not None:
            return CompositeState("ready", 1.0)
        if session.composite_state == FAILED:
            return CompositeState("failed", None)
        if session.composite_state in (PENDING, RENDERING):
            return CompositeState("rendering", session.composite_progress or 0.0)
        return CompositeState("none", None)
