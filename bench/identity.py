"""Identity benchmark: JSON lines for the face models' cost and the checks' error counts.

* milliseconds per 640x480 frame: detection + embedding (the face match, detection at 320x240),
  detection alone at full size (the liveness landmarks) — median wall and CPU time, one OpenCV
  thread as in the workers;
* seconds from request to verdict for :func:`identity.worker.match_in_worker` with 10 frames
  (reference photo decoded and embedded, frames compared), pool warm;
* false rejects / false accepts of the face match over the augmentation set (Grace Hopper's
  altered copies against her photo; other people against it and her copies against theirs), with
  the lowest genuine and highest impostor score;
* false rejects / false accepts of the liveness judge over synthetic tracks (3-D heads answering
  with 25° turns and nods, 1 px landmark jitter; flat pictures moved, turned and tilted);
* the same for a photo as YuNet really sees it: Grace Hopper's photo warped in perspective, the
  nose parallax of single frames in random poses and whole waved-photo tracks judged;
* sign + verify of one attestation.

Run from the repository root: ``.venv/bin/python bench/identity.py [--rounds N]``. The machine is
shared: the 1-minute load average is printed too, and the CPU figures are the comparable ones.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "identity")]

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from face_samples import (AUGMENTATIONS, astronaut, grace_hopper, grace_hopper_jpeg, held_photo, jpeg,  # noqa: E402
                          lfw_enlarged, webcam_frame, write_webm)
from head_tracks import Pose, answering, picture_moves, track  # noqa: E402
from identity import worker  # noqa: E402
from identity.attestation import (AttestationSubject, FaceMatchEvidence, make_attestation, sign_attestation,  # noqa: E402
                                  verify_attestation)
from identity.face_match import (FRAME_DETECT_MAX_SIDE, MATCH_THRESHOLD, detect_faces, embed, match_frames,  # noqa: E402
                                 reference_face, single_face)
from identity.liveness import gestures, judge_liveness, landmark_track, make_challenges, nose_parallax  # noqa: E402
from signing.attestation_key import AttestationKeyStore  # noqa: E402
from signing.pki import PlatformPKI  # noqa: E402


def emit(metric: str, value: float, unit: str) -> None:
    print(json.dumps({"metric": metric, "value": round(value, 4), "unit": unit}), flush=True)


def per_call_ms(step: Callable[[], object], rounds: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of ``step`` (after one warm-up call)."""
    step()
    wall, cpu = [], []
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        step()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000


def frame_costs(rounds: int) -> None:
    cv2.setNumThreads(1)
    frame = webcam_frame(grace_hopper(), 360)

    def detect_and_embed() -> None:
        face = single_face(detect_faces(frame, FRAME_DETECT_MAX_SIDE))
        assert not isinstance(face, str)
        embed(frame, face)

    wall, cpu = per_call_ms(detect_and_embed, rounds)
    emit("identity_detect_embed_640x480_ms_median", wall, "ms")
    emit("identity_detect_embed_640x480_cpu_ms_median", cpu, "ms")
    wall, cpu = per_call_ms(lambda: detect_faces(frame), rounds)
    emit("identity_landmarks_640x480_ms_median", wall, "ms")
    emit("identity_landmarks_640x480_cpu_ms_median", cpu, "ms")


async def recorded_session_latency(live: tuple[np.ndarray, ...], rounds: int) -> None:
    """The recorded-session comparison: 4 segments of 4 s of 640x480 VP8 (30 fps), 8 frames decoded
    from them, embedded and compared with the face check's live embeddings, in the worker pool."""
    with tempfile.TemporaryDirectory() as folder:
        paths = [(str(Path(folder) / f"{i}.webm"), 120) for i in range(4)]
        for path, count in paths:
            write_webm(Path(path), webcam_frame(grace_hopper(), 360), count, fps=30)
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            result = await worker.recorded_in_worker(live, paths)
            times.append(time.perf_counter() - start)
            assert result.verdict == "match" and result.frames_decoded == 8
        emit("identity_recorded_session_4_segments_8_frames_s_median", statistics.median(times), "s")


async def worker_latency(rounds: int) -> None:
    reference = grace_hopper_jpeg()
    frames = [webcam_frame(AUGMENTATIONS[name](grace_hopper()), 360)
              for name in ("original", "brighter_30", "darker_30", "rotate_+10", "rotate_-10", "flip", "crop",
                           "jpeg_q30", "original", "flip")]
    try:
        assert (await worker.match_in_worker(reference, frames)).passed  # starts and warms the pool
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            result = await worker.match_in_worker(reference, frames)
            times.append(time.perf_counter() - start)
            assert result.passed and result.frames_used == 10
        emit("identity_match_in_worker_10_frames_s_median", statistics.median(times), "s")
        await recorded_session_latency(result.embeddings, rounds)
    finally:
        worker.shutdown()


def face_errors() -> None:
    hopper = reference_face(grace_hopper_jpeg())
    copies = {name: change(grace_hopper()) for name, change in AUGMENTATIONS.items()}
    genuine = [match_frames(hopper, [image]) for image in copies.values()]
    others = [astronaut(), webcam_frame(astronaut(), 470), *lfw_enlarged()]
    impostor = [match_frames(hopper, [image]) for image in others]
    crew = reference_face(jpeg(astronaut()))
    impostor += [match_frames(crew, [image]) for image in copies.values()]
    judged = [r for r in impostor if r.score is not None]
    emit("identity_face_genuine_pairs", len(genuine), "pairs")
    emit("identity_face_false_rejects", sum(not r.passed for r in genuine), "pairs")
    emit("identity_face_genuine_min_score", min(r.score for r in genuine if r.score is not None), "cosine")
    emit("identity_face_impostor_pairs_compared", len(judged), "pairs")
    emit("identity_face_false_accepts", sum(r.passed for r in impostor), "pairs")
    emit("identity_face_impostor_max_score", max(r.score for r in judged), "cosine")
    emit("identity_face_impostor_p99_score", float(np.percentile([r.score for r in judged], 99)), "cosine")
    emit("identity_face_threshold", MATCH_THRESHOLD, "cosine")


def liveness_errors(tracks: int) -> None:
    rejects = accepts = 0
    parallax = []
    for seed in range(tracks):
        challenges = make_challenges(random.Random(seed))
        real = judge_liveness(challenges, track(answering([c.kind for c in challenges], amount=25), jitter_px=1.0,
                                                seed=seed))
        rejects += not real.passed
        flat = judge_liveness(challenges, track(picture_moves(seed), flat=True, jitter_px=1.0, seed=seed))
        accepts += flat.passed
        parallax.append(flat.max_parallax)
    emit("identity_liveness_tracks", tracks, "tracks")
    emit("identity_liveness_false_rejects", rejects, "tracks")
    emit("identity_liveness_false_accepts", accepts, "tracks")
    emit("identity_liveness_picture_max_parallax", max(parallax), "iod")


def photo_on_the_detector(poses: int, tracks: int) -> None:
    """A held photo as YuNet sees it: single-frame nose parallax of Grace Hopper's photo warped
    in random poses (turned ±40°, tilted ±30°, rotated ±25°, at 0.6–1.3x the distance), and whole
    waved-photo tracks judged (15 s each)."""
    frame = webcam_frame(grace_hopper(), 420)
    base = np.asarray(single_face(detect_faces(frame)).landmarks)
    rng = np.random.default_rng(1)
    along, across, answering = [], [], 0
    for _ in range(poses):
        warped = held_photo(frame, rng.uniform(-40, 40), rng.uniform(-30, 30), rng.uniform(-25, 25), rng.uniform(0.6, 1.3))
        face = single_face(detect_faces(warped))
        if isinstance(face, str):
            continue
        fit = nose_parallax(base, np.asarray(face.landmarks))
        along.append(fit.along)
        across.append(fit.across)
        answering += bool(gestures(fit) - {"come_closer"})
    emit("identity_photo_poses_detected", len(along), "frames")
    emit("identity_photo_parallax_along_max", max(along), "iod")
    emit("identity_photo_parallax_along_min", min(along), "iod")
    emit("identity_photo_parallax_along_p99", float(np.percentile(np.abs(along), 99)), "iod")
    emit("identity_photo_parallax_across_max_abs", float(np.max(np.abs(across))), "iod")
    emit("identity_photo_frames_showing_a_turn_or_nod", answering, "frames")
    accepts, smoothed = 0, []
    for seed in range(tracks):
        moves = list(picture_moves(seed, seconds=15.0))
        frames = [held_photo(frame, p.yaw, p.pitch, p.roll, p.distance / Pose().distance, p.shift) for _, p in moves]
        result = judge_liveness(make_challenges(random.Random(seed)), landmark_track(frames, [t for t, _ in moves]))
        accepts += result.passed
        smoothed.append(result.max_parallax)
    emit("identity_liveness_photo_tracks_on_detector", tracks, "tracks")
    emit("identity_liveness_photo_false_accepts_on_detector", accepts, "tracks")
    emit("identity_liveness_photo_max_smoothed_parallax_on_detector", max(smoothed), "iod")


async def attestation_cost(rounds: int) -> None:
    pki = PlatformPKI.init(Path(tempfile.mkdtemp()) / "pki", "bench passphrase", "https://accord.test", "Bench")
    signer = AttestationKeyStore(pki).current()
    result = match_frames(reference_face(grace_hopper_jpeg()), [grace_hopper()])
    now = dt.datetime.now(dt.UTC)
    record = make_attestation(AttestationSubject(case_id="case_1", participant_id="acc_1"), now, now,
                              face_match=FaceMatchEvidence.of(result))
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        signed = await sign_attestation(record, signer)
        assert (await verify_attestation(signed.blob, [pki.root_cert])).valid
        times.append(time.perf_counter() - start)
    emit("identity_attestation_sign_verify_ms_median", statistics.median(times) * 1000, "ms")


async def main(rounds: int, tracks: int) -> None:
    emit("load_average_1m", os.getloadavg()[0], "load")
    frame_costs(rounds)
    await worker_latency(max(3, rounds // 4))
    face_errors()
    liveness_errors(tracks)
    photo_on_the_detector(400, 10)
    await attestation_cost(max(3, rounds // 4))
    emit("load_average_1m", os.getloadavg()[0], "load")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--tracks", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.tracks))
