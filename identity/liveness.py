"""Liveness: a live person answering random prompts, judged from YuNet's 5 landmarks.

The signer is asked, in a random order, to turn their head left, turn it right, nod, and come
closer, each within a time limit. Two things are judged from the landmark track:

- *Did they answer, in order and in time?* Prompt ``i`` is shown when prompt ``i - 1`` was
  answered (the first at the start of the track); an answer counts from :data:`MIN_REACTION_S`
  after that until the prompt's time limit. Making another prompt's gesture while waiting (turning
  right when asked to turn left, nodding when asked to turn) fails the check: a clip recorded for
  another order does not fit.
- *Is it a head or a picture?* (the planarity / parallax check) The eyes and mouth corners of a
  face lie roughly on a plane; the nose tip stands about 2.5 cm in front of it. When a photo (on
  paper or a screen) is moved, tilted or turned, all 5 points move as one plane does — the nose
  stays where an affine map fitted to the other 4 points puts it. When a head turns, the nose moves
  off that prediction, sideways for a turn and up or down for a nod (parallax). Turns and nods are
  therefore *measured* as that parallax, in units of the inter-ocular distance; coming closer is
  measured as the growth of the face. A flat picture has no parallax of its own, but YuNet's
  landmarks on a strongly tilted picture show up to ~0.19 (README, "Identity checks"), so a turn
  must also narrow the face, a nod flatten it, and the eye line stay level (:func:`gestures`): the
  poses where the detector's nose drifted broke these. This raises the bar, it is no proof.

Sign convention: frames are the camera's own (not mirrored; browsers mirror only the local
preview). YuNet's first eye is the person's right eye, on the viewer's left; when a person turns
to *their* left, the nose moves towards the viewer's right, i.e. from the first eye towards the
second. Thresholds were calibrated on synthetic 3-D heads and photos, and on a photo warped in
perspective as YuNet sees it (README, "Identity checks").
"""

from __future__ import annotations

import random
import statistics
from collections import Counter
from dataclasses import dataclass, fields
from typing import Sequence

import numpy as np

from identity.face_match import detect_faces, single_face

CHALLENGE_KINDS = ("turn_left", "turn_right", "nod", "come_closer")
#: Seconds each prompt may take, from when it is shown.
TIME_LIMIT_S = {"turn_left": 6.0, "turn_right": 6.0, "nod": 6.0, "come_closer": 8.0}
#: Nobody answers a prompt faster than this after it appears; earlier frames do not count for it.
MIN_REACTION_S = 0.3
#: Nose parallax (in inter-ocular distances) that counts as a turn (~21° of a real head) or a nod
#: (~16°): about what YuNet's landmarks give a strongly tilted photo, so as high as real answers allow.
TURN_PARALLAX = 0.15
NOD_PARALLAX = 0.12
#: A turn must also narrow the eyes-and-mouth pattern (a real 21° turn: by ~8 %), a nod flatten it
#: (16°: by ~4 %), and the eye line must stay within this many degrees of level; a picture tilted
#: hard enough to make YuNet's nose drift breaks one of these.
TURN_NARROWING = 0.03
NOD_FLATTENING = 0.02
MAX_ROLL_DEG = 10.0
#: A nod must come back below this fraction of its threshold to be complete.
NOD_RETURN = 0.5
#: Face growth (affine scale from the starting pose) that counts as coming closer.
CLOSER_SCALE = 1.2
#: Smaller faces make the landmarks too coarse to see a nose move by a tenth of an eye distance.
MIN_IOD_PX = 40.0
#: Each measure is the median over this many consecutive frames (a gesture must show in most of
#: them: landmark jitter in one or two frames answers nothing). Tracks should have >= 8 frames/s.
SMOOTHING_FRAMES = 5
#: Frames at the start whose median pose is the reference ("looking straight at the camera").
BASELINE_FRAMES = 3
#: Below this much landmark movement (in inter-ocular distances) the face did not move at all.
STILL_MOVEMENT = 0.15

_NOSE = 2
_PLANE = (0, 1, 3, 4)  # eyes and mouth corners


@dataclass(frozen=True)
class Challenge:
    kind: str
    time_limit_s: float


@dataclass(frozen=True)
class TimedLandmarks:
    """One frame's landmarks: seconds since the session started, YuNet's 5 points (``None`` unless
    exactly one face of the minimum size was found), and what was found (``ok``, ``no_face``,
    ``several_faces``, ``face_too_small``)."""

    t: float
    landmarks: tuple[tuple[float, float], ...] | None
    status: str = "ok"


@dataclass(frozen=True)
class ChallengeOutcome:
    """How one prompt went. ``outcome``: ``passed``, ``pending`` (still within its time),
    ``too_slow``, ``out_of_order`` or ``not_reached`` (an earlier prompt failed or is pending).
    ``peak`` is the strongest measure seen while it was asked: nose parallax for turns and nods
    (signed: positive is the person's left, or down), the scale for coming closer."""

    kind: str
    time_limit_s: float
    outcome: str
    shown_at: float | None = None
    answered_at: float | None = None
    peak: float | None = None

    @property
    def response_s(self) -> float | None:
        if self.shown_at is None or self.answered_at is None:
            return None
        return round(self.answered_at - self.shown_at, 3)


@dataclass(frozen=True)
class LivenessResult:
    """The verdict. ``reason`` is ``None`` when passed, ``pending`` while prompts are still within
    their time, else ``no_frames``, ``no_face``, ``several_faces``, ``face_too_small``,
    ``out_of_order``, ``static`` (the face never moved), ``planar`` (it moved as a flat picture
    does) or ``too_slow``. ``max_parallax`` is the largest nose parallax seen (in inter-ocular
    distances): near zero for a picture."""

    passed: bool
    reason: str | None
    challenges: tuple[ChallengeOutcome, ...]
    frames_used: int
    max_parallax: float
    thresholds: dict[str, float]

    @property
    def complete(self) -> bool:
        return self.reason != "pending"


def make_challenges(rng: random.Random | None = None) -> tuple[Challenge, ...]:
    """All four prompts in a random order (from ``rng``; by default the system's CSPRNG, since the
    order is what a pre-recorded clip cannot know)."""
    kinds = list(CHALLENGE_KINDS)
    (rng or random.SystemRandom()).shuffle(kinds)
    return tuple(Challenge(kind, TIME_LIMIT_S[kind]) for kind in kinds)


@dataclass(frozen=True)
class PlaneFit:
    """A frame's face against the starting pose, as :func:`nose_parallax` measures it."""

    along: float     # nose parallax along the eye line; > 0: the person turned to their left
    across: float    # nose parallax across it; > 0: down
    scale: float     # growth of the eyes-and-mouth pattern
    stretch: float   # its width over its height, against the start: < 1 narrower (a turn), > 1 flatter (a nod)
    roll_deg: float  # rotation of the eye line in the image


@dataclass(frozen=True)
class _Pose(PlaneFit):
    t: float = 0.0
    movement: float = 0.0  # mean landmark displacement, in inter-ocular distances


def judge_liveness(challenges: Sequence[Challenge], landmark_track: Sequence[TimedLandmarks],
                   now: float | None = None) -> LivenessResult:
    """Judge the track against the prompts. ``now`` (default: the last frame's time) decides
    whether an unanswered prompt is still ``pending`` or ``too_slow``: call this as frames arrive
    to learn when to show the next prompt, and once more at the end for the verdict."""
    track = sorted(landmark_track, key=lambda item: item.t)
    challenges = tuple(challenges)
    if not track:
        return _verdict("no_frames", _unreached(challenges), 0, 0.0)
    now = track[-1].t if now is None else now
    if any(item.status == "several_faces" for item in track):
        return _verdict("several_faces", _unreached(challenges), 0, 0.0)
    usable = [item for item in track if item.landmarks is not None and _iod(np.asarray(item.landmarks)) >= MIN_IOD_PX]
    if len(usable) < max(BASELINE_FRAMES, (len(track) + 1) // 2):
        refusals = Counter("face_too_small" if item.landmarks is not None else item.status
                           for item in track if item not in usable)
        return _verdict(refusals.most_common(1)[0][0] if refusals else "no_face", _unreached(challenges),
                        len(usable), 0.0)
    poses = _smoothed(_poses(usable))
    max_parallax = max(max(abs(p.along), abs(p.across)) for p in poses)
    outcomes = _answers(challenges, poses, start=track[0].t, now=now)
    failed = next((o for o in outcomes if o.outcome in ("too_slow", "out_of_order")), None)
    if failed is None:
        reason = "pending" if any(o.outcome == "pending" for o in outcomes) else None
    elif failed.outcome == "too_slow" and max(p.movement for p in poses) < STILL_MOVEMENT:
        reason = "static"
    elif failed.outcome == "too_slow" and max_parallax < min(TURN_PARALLAX, NOD_PARALLAX) and \
            failed.kind != "come_closer":
        reason = "planar"
    else:
        reason = failed.outcome
    return _verdict(reason, outcomes, len(usable), max_parallax)


def _answers(challenges: tuple[Challenge, ...], poses: list[_Pose], start: float, now: float) -> list[ChallengeOutcome]:
    outcomes: list[ChallengeOutcome] = []
    shown = start
    for index, challenge in enumerate(challenges):
        deadline = shown + challenge.time_limit_s
        window = [p for p in poses if shown + MIN_REACTION_S <= p.t <= deadline]
        previous = challenges[index - 1].kind if index else None
        answered_at, verdict = _first_answer(challenge.kind, window, previous)
        peak = _peak(challenge.kind, window)
        if answered_at is not None:
            outcomes.append(ChallengeOutcome(challenge.kind, challenge.time_limit_s, "passed", shown, answered_at, peak))
            shown = answered_at
            continue
        outcome = verdict or ("pending" if now < deadline else "too_slow")
        outcomes.append(ChallengeOutcome(challenge.kind, challenge.time_limit_s, outcome, shown, None, peak))
        outcomes.extend(ChallengeOutcome(c.kind, c.time_limit_s, "not_reached") for c in challenges[index + 1:])
        break
    return outcomes


def _first_answer(kind: str, window: list[_Pose], previous: str | None) -> tuple[float | None, str | None]:
    """When ``kind`` was answered in ``window``, or ``out_of_order`` if another gesture came first.
    Still holding or coming back from the previous answer is not another gesture, nor is moving
    closer or back (people do that while turning)."""
    allowed = {kind, "come_closer", previous}
    nodded = False
    for pose in window:
        shown = gestures(pose)
        if kind == "nod":
            if "nod" in shown:
                nodded = True
            elif nodded and abs(pose.across) < NOD_PARALLAX * NOD_RETURN:
                return pose.t, None
        elif kind in shown:
            return pose.t, None
        if shown - allowed and not (kind == "nod" and nodded):
            return None, "out_of_order"
    return None, None


def gestures(pose: PlaneFit) -> set[str]:
    """The gestures a (smoothed) pose shows. A turn must also narrow the face and a nod flatten
    it, with the eye line roughly level: the shapes a head makes, not those of a tilted picture
    whose detected nose drifts."""
    found = set()
    level = abs(pose.roll_deg) <= MAX_ROLL_DEG
    if level and pose.stretch <= 1 - TURN_NARROWING:
        if pose.along >= TURN_PARALLAX:
            found.add("turn_left")
        if pose.along <= -TURN_PARALLAX:
            found.add("turn_right")
    if level and pose.stretch >= 1 + NOD_FLATTENING and abs(pose.across) >= NOD_PARALLAX \
            and abs(pose.along) < TURN_PARALLAX:
        found.add("nod")
    if pose.scale >= CLOSER_SCALE:
        found.add("come_closer")
    return found


def _peak(kind: str, window: list[_Pose]) -> float | None:
    if not window:
        return None
    measure = {"turn_left": lambda p: p.along, "turn_right": lambda p: -p.along,
               "nod": lambda p: abs(p.across), "come_closer": lambda p: p.scale}[kind]
    best = max(window, key=measure)
    value = {"turn_left": best.along, "turn_right": best.along, "nod": best.across, "come_closer": best.scale}[kind]
    return round(value, 4)


def _poses(usable: list[TimedLandmarks]) -> list[_Pose]:
    points = [np.asarray(item.landmarks, dtype=np.float64) for item in usable]
    base = np.median(np.stack(points[:BASELINE_FRAMES]), axis=0)
    base_iod = _iod(base)
    poses = []
    for item, current in zip(usable, points):
        movement = float(np.mean(np.linalg.norm(current - base, axis=1))) / base_iod
        poses.append(_Pose(**vars(nose_parallax(base, current)), t=item.t, movement=movement))
    return poses


def nose_parallax(base: np.ndarray, current: np.ndarray) -> PlaneFit:
    """How far the nose tip is from where a flat picture would put it, and how the rest moved.

    Fits the affine map taking the starting pose's eyes and mouth corners to the current ones
    (least squares, 4 points) and predicts the nose: the miss along and across the current eye line
    (> 0: towards the second eye, i.e. the person's left; and down) is in inter-ocular distances at
    the current scale (square root of the map's determinant). The map also gives how much wider
    than high the pattern became (along and across the starting eye line) and the eye line's
    rotation."""
    plane = list(_PLANE)
    design = np.c_[base[plane], np.ones(len(plane))]
    affine, *_ = np.linalg.lstsq(design, current[plane], rcond=None)
    linear = affine[:2].T
    miss = current[_NOSE] - np.r_[base[_NOSE], 1.0] @ affine
    eye_axis = _unit(current[1] - current[0])
    down = np.array([-eye_axis[1], eye_axis[0]])
    base_axis = _unit(base[1] - base[0])
    base_down = np.array([-base_axis[1], base_axis[0]])
    scale = float(np.sqrt(abs(np.linalg.det(linear))))
    unit = _iod(base) * max(scale, 1e-9)
    stretch = float(np.linalg.norm(linear @ base_axis) / max(float(np.linalg.norm(linear @ base_down)), 1e-9))
    roll = float(np.degrees(np.arctan2(base_axis[0] * eye_axis[1] - base_axis[1] * eye_axis[0],
                                       float(base_axis @ eye_axis))))
    return PlaneFit(along=float(miss @ eye_axis) / unit, across=float(miss @ down) / unit, scale=scale,
                    stretch=stretch, roll_deg=roll)


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-9)


def _smoothed(poses: list[_Pose]) -> list[_Pose]:
    """Median of each measure over :data:`SMOOTHING_FRAMES` frames centred on each frame."""
    half = SMOOTHING_FRAMES // 2
    measures = [f.name for f in fields(_Pose) if f.name != "t"]
    out = []
    for i, pose in enumerate(poses):
        near = poses[max(0, i - half):i + half + 1]
        out.append(_Pose(t=pose.t, **{name: statistics.median(getattr(p, name) for p in near) for name in measures}))
    return out


def _iod(points: np.ndarray) -> float:
    return float(np.linalg.norm(points[1] - points[0]))


def _unreached(challenges: Sequence[Challenge]) -> list[ChallengeOutcome]:
    return [ChallengeOutcome(c.kind, c.time_limit_s, "not_reached") for c in challenges]


def _verdict(reason: str | None, outcomes: Sequence[ChallengeOutcome], used: int, max_parallax: float) -> LivenessResult:
    return LivenessResult(passed=reason is None, reason=reason, challenges=tuple(outcomes), frames_used=used,
                          max_parallax=round(max_parallax, 4),
                          thresholds={"turn_parallax": TURN_PARALLAX, "nod_parallax": NOD_PARALLAX,
                                      "turn_narrowing": TURN_NARROWING, "nod_flattening": NOD_FLATTENING,
                                      "max_roll_deg": MAX_ROLL_DEG, "closer_scale": CLOSER_SCALE,
                                      "min_iod_px": MIN_IOD_PX, "min_reaction_s": MIN_REACTION_S})


def landmark_track(frames: Sequence[np.ndarray], times: Sequence[float]) -> list[TimedLandmarks]:
    """Each BGR frame's landmarks (CPU-heavy: through :func:`identity.worker.landmarks_in_worker`)."""
    if len(frames) != len(times):
        raise ValueError("one time per frame")
    track = []
    for frame, t in zip(frames, times):
        found = single_face(detect_faces(frame))
        if isinstance(found, str):
            track.append(TimedLandmarks(float(t), None, found))
        else:
            track.append(TimedLandmarks(float(t), found.landmarks))
    return track
