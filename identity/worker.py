"""Runs the face models in worker processes, never on the event loop.

A :class:`~concurrent.futures.ProcessPoolExecutor` (``spawn``: no fork of a process with an event
loop and threads) whose workers load and verify the models once, in the initializer, and use
OpenCV with one thread each so that several checks share the cores instead of fighting over them.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Sequence

import numpy as np

from identity.face_match import FaceMatchResult, match_frames, reference_face
from identity.liveness import TimedLandmarks, landmark_track

#: Worker processes (each holds the models, ~40 MB); one per core, at most 2.
DEFAULT_WORKERS = max(1, min(2, os.cpu_count() or 1))

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


def _match(reference_image: bytes, frames: list[np.ndarray]) -> FaceMatchResult:
    return match_frames(reference_face(reference_image), frames)


async def match_in_worker(reference_image: bytes, frames: Sequence[np.ndarray]) -> FaceMatchResult:
    """:func:`~identity.face_match.match_frames` against the reference photo, in a worker process.
    Raises :class:`~identity.errors.IdentityInputError` if the reference photo is unusable."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(pool(), _match, reference_image, list(frames))


async def landmarks_in_worker(frames: Sequence[np.ndarray], times: Sequence[float]) -> list[TimedLandmarks]:
    """:func:`~identity.liveness.landmark_track` (detection only, no embedding) in a worker process."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(pool(), landmark_track, list(frames), list(times))
