"""Runs the face models in worker processes, never on the event loop.

A :class:`~concurrent.futures.ProcessPoolExecutor` (``spawn``: no fork of a process with an event
loop and threads) whose workers load and verify the models once, in the initializer, and use
OpenCV with one thread each so that several checks share the cores instead of fighting over them.
A worker that dies (out of memory, a crash in native code) breaks the pool: the call that saw it
starts a new pool and tries once more.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Sequence

import numpy as np

from identity.face_match import FaceMatchResult, ReferenceFace, match_frames, reference_face, sample_frames, spread
from identity.liveness import TimedLandmarks, landmark_track
from identity.recorded_session import MAX_LIVE_FACES, RecordedComparison, compare_recorded

#: Worker processes (each holds the models, ~40 MB); one per core, at most 2.
DEFAULT_WORKERS = max(1, min(2, os.cpu_count() or 1))
#: Frames sent to a worker in one call for landmarks (~0.9 MB each at 640x480): send a live
#: session's frames in batches as they arrive, not all at the end.
MAX_LANDMARK_BATCH = 64

_pool: ProcessPoolExecutor | None = None


def _initialize_worker() -> None:
    import cv2

    from identity.models import face_models

    cv2.setNumThreads(1)
    face_models()


def pool(max_workers: int = DEFAULT_WORKERS) -> ProcessPoolExecutor:
    """This process's worker pool, started on first use (``max_workers`` counts only then)."""
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(max_workers=max_workers, mp_context=multiprocessing.get_context("spawn"),
                                    initializer=_initialize_worker)
    return _pool


def shutdown() -> None:
    """Stop the workers (on application shutdown); the next call starts a new pool."""
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
        _pool = None


async def _run(function: Callable[..., Any], *args: Any) -> Any:
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(pool(), function, *args)
    except BrokenProcessPool:
        shutdown()
        return await loop.run_in_executor(pool(), function, *args)


async def reference_in_worker(reference_image: bytes) -> ReferenceFace:
    """:func:`~identity.face_match.reference_face` in a worker process: checks an enrolment photo
    (raises :class:`~identity.errors.IdentityInputError` with the reason)."""
    return await _run(reference_face, reference_image)


def _match(reference_image: bytes, frames: list[np.ndarray]) -> FaceMatchResult:
    return match_frames(reference_face(reference_image), frames)


async def match_in_worker(reference_image: bytes, frames: Sequence[np.ndarray]) -> FaceMatchResult:
    """:func:`~identity.face_match.match_frames` against the reference photo, in a worker process
    (only the frames it would examine are sent). Raises
    :class:`~identity.errors.IdentityInputError` if the reference photo is unusable."""
    return await _run(_match, reference_image, sample_frames(frames))


async def landmarks_in_worker(frames: Sequence[np.ndarray], times: Sequence[float]) -> list[TimedLandmarks]:
    """:func:`~identity.liveness.landmark_track` (detection only, no embedding) in a worker process,
    for at most :data:`MAX_LANDMARK_BATCH` frames per call."""
    if len(frames) > MAX_LANDMARK_BATCH:
        raise ValueError(f"at most {MAX_LANDMARK_BATCH} frames per call; send a session's frames in batches")
    return await _run(landmark_track, list(frames), list(times))


async def recorded_in_worker(live_faces: Sequence[np.ndarray],
                             segments: Sequence[tuple[str, int]]) -> RecordedComparison:
    """:func:`~identity.recorded_session.compare_recorded` in a worker process: decodes a few
    recorded segments and compares their faces with the live faces (the face check's embeddings,
    at most :data:`~identity.recorded_session.MAX_LIVE_FACES` of them; nothing is embedded again)."""
    return await _run(compare_recorded, spread(list(live_faces), MAX_LIVE_FACES), list(segments))
