"""Liveness on synthetic landmark tracks (tests/identity/head_tracks.py): a 3-D head answering
the prompts passes; a still face, a flat picture moved and tilted every way, wrong-order and late
answers fail — each with its reason."""

from __future__ import annotations

import random

import numpy as np
import pytest

from face_samples import grace_hopper, held_photo, webcam_frame
from head_tracks import Pose, answering, hold, picture_moves, track
from identity import worker
from identity.liveness import (CHALLENGE_KINDS, NOD_PARALLAX, TURN_PARALLAX, Challenge, PlaneFit, gestures, TimedLandmarks, judge_liveness,
                               landmark_track, make_challenges, nose_parallax)
from identity.face_match import detect_faces

ORDER = ("turn_left", "nod", "come_closer", "turn_right")
CHALLENGES = tuple(Challenge(kind, 6.0) for kind in ORDER)


def test_challenges_are_all_four_in_a_random_order():
    orders = {tuple(c.kind for c in make_challenges(random.Random(seed))) for seed in range(40)}
    assert all(sorted(order) == sorted(CHALLENGE_KINDS) for order in orders)
    assert len(orders) > 10
    assert all(c.time_limit_s > 0 for c in make_challenges())


@pytest.mark.parametrize("seed", range(20))
def test_a_real_head_answering_in_order_passes(seed):
    order = [c.kind for c in make_challenges(random.Random(seed))]
    challenges = tuple(Challenge(kind, 6.0) for kind in order)
    result = judge_liveness(challenges, track(answering(order), jitter_px=1.0, seed=seed))
    assert result.passed, result
    assert [o.outcome for o in result.challenges] == ["passed"] * 4
    assert all(0.3 <= o.response_s <= 6.0 for o in result.challenges)
    assert result.max_parallax >= TURN_PARALLAX


def test_the_outcome_records_when_each_prompt_was_shown_and_answered():
    result = judge_liveness(CHALLENGES, track(answering(list(ORDER))))
    shown = [o.shown_at for o in result.challenges]
    answered = [o.answered_at for o in result.challenges]
    assert shown[0] == 0.0 and shown[1:] == answered[:-1]  # each prompt follows the previous answer
    left, nod, closer, right = result.challenges
    assert left.peak > TURN_PARALLAX and right.peak < -TURN_PARALLAX and abs(nod.peak) > 0.08
    assert closer.peak > 1.3


def test_a_still_face_fails_as_static():
    result = judge_liveness(CHALLENGES, track(hold(Pose(), 30, 0.0)))
    assert not result.passed and result.reason == "static"
    assert [o.outcome for o in result.challenges] == ["too_slow", "not_reached", "not_reached", "not_reached"]


@pytest.mark.parametrize("seed", range(20))
def test_a_flat_picture_turned_tilted_and_moved_fails_as_planar(seed):
    challenges = make_challenges(random.Random(seed))
    result = judge_liveness(challenges, track(picture_moves(seed), flat=True, jitter_px=1.0, seed=seed))
    assert not result.passed
    assert result.max_parallax < TURN_PARALLAX
    assert not any(o.outcome == "passed" for o in result.challenges if o.kind != "come_closer")
    failed = next(o for o in result.challenges if o.outcome != "passed")
    # a picture may be too slow to come closer (it started close); a turn or nod it cannot answer at all
    assert result.reason == ("too_slow" if failed.kind == "come_closer" else "planar"), result


def test_the_nose_of_a_flat_picture_never_leaves_the_plane_and_a_heads_does():
    from head_tracks import head, photo
    frontal = head(Pose())
    for pose in (Pose(yaw=35), Pose(pitch=25, roll=10), Pose(yaw=-30, distance=350, shift=(50, 10))):
        fit = nose_parallax(frontal, photo(pose))
        assert abs(fit.along) < 0.03 and abs(fit.across) < 0.03
    left, right = nose_parallax(frontal, head(Pose(yaw=25))), nose_parallax(frontal, head(Pose(yaw=-25)))
    assert left.along > TURN_PARALLAX and right.along < -TURN_PARALLAX  # the person's left: towards the second eye
    assert left.stretch < 0.95 and right.stretch < 0.95 and abs(left.roll_deg) < 1
    nod = nose_parallax(frontal, head(Pose(pitch=20)))
    assert nod.across > NOD_PARALLAX and nod.stretch > 1.03  # chin down: the nose drops, the face flattens
    assert abs(nose_parallax(frontal, head(Pose(roll=20))).roll_deg - 20) < 1


@pytest.mark.parametrize("seed", [0, 1])
def test_a_photo_waved_in_front_of_the_camera_fails_on_real_detections(seed):
    """The same motions as above, but rendered: Grace Hopper's photo in a 640x480 frame, warped in
    perspective as a held picture is, and YuNet's own landmarks judged — its landmark errors on a
    tilted picture are the parallax a photo attack gets for free."""
    frame = webcam_frame(grace_hopper(), 420)
    times, frames = [], []
    for t, pose in picture_moves(seed, seconds=15.0):
        times.append(t)
        frames.append(held_photo(frame, pose.yaw, pose.pitch, pose.roll, pose.distance / Pose().distance,
                                 pose.shift))
    landmarks = landmark_track(frames, times)
    assert sum(item.status == "ok" for item in landmarks) > 0.9 * len(frames)  # really detected and judged
    challenges = make_challenges(random.Random(seed))
    result = judge_liveness(challenges, landmarks)
    assert not result.passed and result.reason in {"planar", "too_slow"}
    assert not any(o.outcome == "passed" for o in result.challenges if o.kind != "come_closer")
    assert 0.0 < result.max_parallax < TURN_PARALLAX


def test_a_turn_must_look_like_a_head_turning():
    """Parallax alone is not enough: the face must narrow and the eye line stay level, which a
    tilted picture whose detected nose drifts does not do."""
    from head_tracks import head
    frontal = head(Pose())
    assert gestures(nose_parallax(frontal, head(Pose(yaw=25)))) == {"turn_left"}
    assert gestures(nose_parallax(frontal, head(Pose(yaw=-25)))) == {"turn_right"}
    assert gestures(nose_parallax(frontal, head(Pose(pitch=20)))) == {"nod"}
    assert gestures(nose_parallax(frontal, head(Pose(yaw=25, roll=20)))) == set()
    drift = PlaneFit(along=0.2, across=0.0, scale=1.0, stretch=1.0, roll_deg=0.0)  # parallax, no narrowing
    assert gestures(drift) == set()
    assert gestures(PlaneFit(along=0.0, across=0.2, scale=1.0, stretch=1.0, roll_deg=0.0)) == set()


def test_answers_in_another_order_fail():
    recorded = ["turn_right", "nod", "come_closer", "turn_left"]  # a clip made for another order
    result = judge_liveness(CHALLENGES, track(answering(recorded)))
    assert not result.passed and result.reason == "out_of_order"
    assert result.challenges[0].outcome == "out_of_order"


def test_a_nod_when_a_turn_is_asked_fails():
    result = judge_liveness(CHALLENGES, track(answering(["nod", "turn_left", "come_closer", "turn_right"])))
    assert not result.passed and result.reason == "out_of_order"


def test_answers_after_the_time_limit_fail():
    result = judge_liveness(CHALLENGES, track(answering(list(ORDER), delay=7.0)))
    assert not result.passed and result.reason == "too_slow"
    assert result.challenges[0].outcome == "too_slow"


def test_too_small_a_turn_does_not_answer():
    result = judge_liveness(CHALLENGES, track(answering(list(ORDER), amount=6, delay=0.5), jitter_px=0.5))
    assert not result.passed and result.challenges[0].outcome == "too_slow"


def test_progress_while_frames_arrive():
    full = track(answering(list(ORDER)))
    first_answer = judge_liveness(CHALLENGES, full).challenges[0].answered_at
    early = [item for item in full if item.t <= first_answer - 0.5]
    result = judge_liveness(CHALLENGES, early)
    assert not result.passed and result.reason == "pending" and not result.complete
    assert result.challenges[0].outcome == "pending"
    later = [item for item in full if item.t <= first_answer + 0.1]
    result = judge_liveness(CHALLENGES, later)
    assert result.reason == "pending" and [o.outcome for o in result.challenges[:2]] == ["passed", "pending"]
    # the same frames judged long after the deadline: too slow
    assert judge_liveness(CHALLENGES, later, now=first_answer + 30).reason == "too_slow"


def test_frames_without_a_usable_face():
    assert judge_liveness(CHALLENGES, []).reason == "no_frames"
    nothing = [TimedLandmarks(i / 10, None, "no_face") for i in range(30)]
    assert judge_liveness(CHALLENGES, nothing).reason == "no_face"
    good = track(answering(list(ORDER)))
    crowded = good[:10] + [TimedLandmarks(good[10].t, None, "several_faces")] + good[11:]
    assert judge_liveness(CHALLENGES, crowded).reason == "several_faces"
    far = track(answering(list(ORDER)))
    tiny = [TimedLandmarks(item.t, tuple((x / 3, y / 3) for x, y in item.landmarks)) for item in far]
    assert judge_liveness(CHALLENGES, tiny).reason == "face_too_small"


def test_landmarks_from_real_frames():
    frames = [webcam_frame(grace_hopper(), 400), np.full((480, 640, 3), 90, np.uint8)]
    result = landmark_track(frames, [0.0, 0.1])
    assert result[0].status == "ok" and result[1] == TimedLandmarks(0.1, None, "no_face")
    assert result[0].landmarks == detect_faces(frames[0])[0].landmarks
    right_eye, left_eye = result[0].landmarks[:2]
    assert right_eye[0] < left_eye[0]  # YuNet's first eye is the person's right, on the viewer's left


async def test_landmarks_in_worker_takes_bounded_batches():
    with pytest.raises(ValueError):
        await worker.landmarks_in_worker([np.zeros((4, 4, 3), np.uint8)] * (worker.MAX_LANDMARK_BATCH + 1),
                                         [0.0] * (worker.MAX_LANDMARK_BATCH + 1))


async def test_landmarks_in_worker():
    frames = [webcam_frame(grace_hopper(), 400)] * 2
    try:
        result = await worker.landmarks_in_worker(frames, [0.0, 0.2])
    finally:
        worker.shutdown()
    assert result == landmark_track(frames, [0.0, 0.2])
