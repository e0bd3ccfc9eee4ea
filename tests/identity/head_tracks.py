"""Synthetic landmark tracks: a 3-D head (5 landmarks of an average adult face, in mm) turned,
nodded and moved in front of a pinhole camera, and the same face printed on a flat card moved and
tilted the same ways — with landmark jitter like a detector's. Used by the liveness tests and to
calibrate its thresholds (README, "Identity checks")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from identity.liveness import TimedLandmarks

FOCAL_PX = 600.0
CENTRE = np.array([320.0, 240.0])
#: Right eye, left eye, nose tip, right and left mouth corner. x: the viewer's right, y: down,
#: z: away from the camera (the nose tip stands 25 mm in front of the eyes).
FACE_MM = np.array([[-32, 0, 0], [32, 0, 0], [0, 35, -25], [-25, 68, -8], [25, 68, -8]], dtype=float)
#: Heads turn about a point behind the face, near the neck's axis.
PIVOT_MM = np.array([0.0, 30.0, 95.0])


@dataclass(frozen=True)
class Pose:
    """``yaw`` > 0: the person turns to their own left; ``pitch`` > 0: chin down; ``distance`` in mm."""

    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    distance: float = 550.0
    shift: tuple[float, float] = (0.0, 0.0)


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    y, p, r = np.radians([-yaw, -pitch, roll])
    turn = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    tilt = np.array([[1, 0, 0], [0, np.cos(p), np.sin(p)], [0, -np.sin(p), np.cos(p)]])
    spin = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return spin @ tilt @ turn


def _project(points_mm: np.ndarray, pose: Pose) -> np.ndarray:
    placed = points_mm + np.array([pose.shift[0], pose.shift[1], pose.distance])
    return FOCAL_PX * placed[:, :2] / placed[:, 2:3] + CENTRE


def head(pose: Pose) -> np.ndarray:
    """The 5 landmarks of a real head in ``pose``, in pixels."""
    return _project((FACE_MM - PIVOT_MM) @ rotation(pose.yaw, pose.pitch, pose.roll).T + PIVOT_MM, pose)


def photo(pose: Pose) -> np.ndarray:
    """The 5 landmarks of a flat picture of the frontal face, held in ``pose``."""
    flat = np.c_[FACE_MM[:, :2] - FACE_MM[:, :2].mean(axis=0), np.zeros(5)]
    return _project(flat @ rotation(pose.yaw, pose.pitch, pose.roll).T, pose)


def track(poses: Iterator[tuple[float, Pose]], flat: bool = False, jitter_px: float = 1.0,
          seed: int = 0) -> list[TimedLandmarks]:
    rng = np.random.default_rng(seed)
    render = photo if flat else head
    out = []
    for t, pose in poses:
        points = render(pose) + rng.normal(0.0, jitter_px, (5, 2))
        out.append(TimedLandmarks(round(t, 3), tuple((float(x), float(y)) for x, y in points)))
    return out


FPS = 10.0


def hold(pose: Pose, seconds: float, start: float) -> Iterator[tuple[float, Pose]]:
    for i in range(int(seconds * FPS)):
        yield start + i / FPS, pose


def gesture(kind: str, start: float, amount: float | None = None, seconds: float = 1.6,
            rest: Pose = Pose()) -> Iterator[tuple[float, Pose]]:
    """One answer: a smooth excursion from ``rest`` and back, ``amount`` degrees for a turn or nod
    (coming closer: to 1/1.4 of the distance, and stays there)."""
    frames = int(seconds * FPS)
    for i in range(frames):
        phase = np.sin(np.pi * i / (frames - 1))  # 0 → 1 → 0
        if kind == "turn_left":
            pose = Pose(yaw=(amount or 25) * phase, distance=rest.distance)
        elif kind == "turn_right":
            pose = Pose(yaw=-(amount or 25) * phase, distance=rest.distance)
        elif kind == "nod":
            pose = Pose(pitch=(amount or 20) * phase, distance=rest.distance)
        elif kind == "come_closer":
            ratio = 1.4
            progress = min(1.0, i / (frames * 0.6))
            pose = Pose(distance=rest.distance / (1 + (ratio - 1) * progress))
        else:
            raise ValueError(kind)
        yield start + i / FPS, pose


def answering(kinds: list[str], delay: float = 1.0, amount: float | None = None,
              start_rest: float = 1.0) -> Iterator[tuple[float, Pose]]:
    """A person who looks at the camera, then answers each prompt ``delay`` s after the previous
    answer finished (about when the next prompt would appear)."""
    t = 0.0
    rest = Pose()
    yield from hold(rest, start_rest, t)
    t += start_rest
    for kind in kinds:
        yield from hold(rest, delay, t)
        t += delay
        frames = list(gesture(kind, t, amount, rest=rest))
        yield from frames
        t = frames[-1][0] + 1 / FPS
        if kind == "come_closer":
            rest = frames[-1][1]
    yield from hold(rest, 1.0, t)


def picture_moves(seed: int, seconds: float = 30.0) -> Iterator[tuple[float, Pose]]:
    """A photo or screen waved about for ``seconds``: turned up to 35°, tilted up to 25°, rotated
    up to 15°, brought from 52 to 35 cm and moved sideways, at a phase drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    phases = rng.uniform(0, 2 * np.pi, 5)
    for i in range(int(seconds * FPS)):
        t = i / FPS
        yield t, Pose(yaw=35 * np.sin(t * 1.3 + phases[0]), pitch=25 * np.sin(t * 0.9 + phases[1]),
                      roll=15 * np.sin(t * 0.7 + phases[2]), distance=520 - 170 * abs(np.sin(t * 0.5 + phases[3])),
                      shift=(40 * np.sin(t * 1.1 + phases[4]), 20 * np.sin(t * 0.8)))
