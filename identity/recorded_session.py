"""The signer's live face against the face their seat showed in the case's recorded session.

An identity check at signing proves the signer is the enrolled person; this comparison adds that
the person who signed is the person who spoke for that participant on camera, so the court can tie
the agreement reached in the session to the signature. It runs when the case has an ended
recording session with a video track of that participant (tracks carry the account id); without
one the result is ``no_recording`` and the attestation simply has no such method.

The work is bounded: at most :data:`MAX_SEGMENTS` segment files, spread over the participant's
latest recorded track, and at most :data:`MAX_RECORDED_FRAMES` frames decoded from them (each
segment file starts with a keyframe, so a segment decodes on its own). Decoding and embedding are
CPU-heavy and run in :mod:`identity.worker`'s process pool via :func:`compare_recorded`.

Verdict: for each usable recorded frame, its best cosine against the live faces; the *median* of
those reaches :data:`~identity.face_match.MATCH_THRESHOLD` → ``match``. By default the verdict is
reported, not required (policy method ``session``, :mod:`identity.checks`).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import av
import numpy as np

from identity.face_match import (FRAME_DETECT_MAX_SIDE, MATCH_THRESHOLD, detect_faces, embed, frames_digest,
                                  single_face, spread)
from recordings.storage import RecordingStorage
from recordings.store import RECORDING, RecordingStore

#: Segment files opened at most (evenly spread over the track, first and last included).
MAX_SEGMENTS = 4
#: Recorded frames decoded and compared at most, spread over those segments.
MAX_RECORDED_FRAMES = 8
#: Live faces compared at most (the face check's embeddings, evenly spaced).
MAX_LIVE_FACES = 12


@dataclass(frozen=True)
class RecordedTrack:
    """The participant's recorded video: which session and track, and the segments chosen."""

    session_id: str
    track_id: str
    seat: str
    segment_sha256: tuple[str, ...]
    #: Each chosen segment's local file and its frame count (from the store: WebM headers lack it).
    segments: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class RecordedComparison:
    """What the comparison measured: ``verdict`` is ``match``, ``no_match``, ``no_face`` (no usable
    face on the recorded or the live frames) or ``undecodable``; ``score`` the median and ``best``
    the highest cosine over the usable recorded frames."""

    verdict: str
    score: float | None
    best: float | None
    threshold: float
    frames_used: int
    frames_decoded: int
    frames_sha256: str


async def recorded_track(store: RecordingStore, storage: RecordingStorage, case_id: str,
                         participant_id: str) -> RecordedTrack | None:
    """The participant's video track in the case's latest ended recording session that has one,
    with at most :data:`MAX_SEGMENTS` of its segments; ``None`` when there is no such recording."""
    for session in sorted(await store.sessions_of_case(case_id), key=lambda s: s.started_at, reverse=True):
        if session.state == RECORDING:
            continue
        tracks = [t for t in await store.tracks(session.id) if t.kind == "video" and t.account_id == participant_id]
        if not tracks:
            continue
        segments = await store.segments(session.id)
        for track in sorted(tracks, key=lambda t: t.number, reverse=True):
            own = sorted((s for s in segments if s.track_id == track.id and s.frames > 0), key=lambda s: s.index)
            chosen = spread(own, MAX_SEGMENTS)
            if chosen:
                return RecordedTrack(session_id=session.id, track_id=track.id, seat=track.seat,
                                     segment_sha256=tuple(s.sha256 for s in chosen),
                                     segments=tuple((str(storage.local_path(s.path)), s.frames) for s in chosen))
    return None


def decode_segments(segments: Sequence[tuple[str, int]], max_frames: int = MAX_RECORDED_FRAMES) -> list[np.ndarray]:
    """BGR frames spread over the segment files (``(path, frame count)``): an equal share per
    segment, at evenly spaced frame numbers; each decode stops at its share's last frame."""
    if not segments:
        return []
    share = max(1, math.ceil(max_frames / len(segments)))
    frames: list[np.ndarray] = []
    for path, count in segments:
        wanted = sorted({round(i * (count - 1) / max(1, share - 1)) for i in range(share)} if count > share
                        else range(share))
        with av.open(str(Path(path))) as container:
            stream = container.streams.video[0]
            for number, frame in enumerate(container.decode(stream)):
                if number in wanted:
                    frames.append(frame.to_ndarray(format="bgr24"))
                if number >= wanted[-1] or len(frames) >= max_frames:
                    break
        if len(frames) >= max_frames:
            break
    return frames[:max_frames]


def compare_recorded(live_faces: Sequence[np.ndarray], segments: Sequence[tuple[str, int]]) -> RecordedComparison:
    """Decode the recorded frames and compare their faces with the live faces — the embeddings the
    face check already computed (:attr:`~identity.face_match.FaceMatchResult.embeddings`; from
    frames: :func:`face_embeddings`). Synchronous: run it in :mod:`identity.worker`."""
    try:
        recorded = decode_segments(segments)
    except (av.error.FFmpegError, IndexError):
        recorded = []
    digest = frames_digest(recorded)
    if not recorded:
        return RecordedComparison("undecodable", None, None, MATCH_THRESHOLD, 0, 0, digest)
    live = spread(list(live_faces), MAX_LIVE_FACES)
    mine = face_embeddings(recorded)
    if not live or not mine:
        return RecordedComparison("no_face", None, None, MATCH_THRESHOLD, len(mine), len(recorded), digest)
    live_matrix = np.stack(live)
    scores = [float(np.max(live_matrix @ vector)) for vector in mine]
    score, best = round(statistics.median(scores), 4), round(max(scores), 4)
    verdict = "match" if score >= MATCH_THRESHOLD else "no_match"
    return RecordedComparison(verdict, score, best, MATCH_THRESHOLD, len(mine), len(recorded), digest)


def face_embeddings(frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The embedding of each frame that shows one face of the minimum size."""
    found = []
    for frame in frames:
        face = single_face(detect_faces(frame, FRAME_DETECT_MAX_SIDE))
        if not isinstance(face, str):
            found.append(embed(frame, face))
    return found


