"""The session clock of a track: the sender's spacing is kept, one late frame changes nothing,
a held-up anchor and lasting drift are corrected, and times always increase."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from recordings.session_clock import MIN_STEP_US, TrackClock

FRAME = 33_333


def test_frames_keep_their_spacing_despite_arrival_jitter() -> None:
    clock = TrackClock()
    jitter = [0, 40_000, -5_000, 120_000, 10_000]
    placed = []
    for i, extra in enumerate(jitter):
        at = clock.place(9_000_000 + i * FRAME, 2_000_000 + i * FRAME + extra)
        clock.commit(at)
        placed.append(at)
    assert placed == [2_000_000 + i * FRAME for i in range(5)]


def test_one_late_frame_does_not_move_the_timeline_lasting_lateness_does() -> None:
    clock = TrackClock(resync_us=250_000, hold_us=2_000_000)
    clock.commit(clock.place(0, 1_000_000))
    assert clock.place(FRAME, 1_000_000 + FRAME + 600_000) == 1_000_000 + FRAME  # one frame stuck 0.6 s
    at = 0
    for i in range(2, 100):  # the sender's clock now runs 0.5 s behind ours, for > 2 s
        at = clock.place(i * FRAME, 1_500_000 + i * FRAME)
        clock.commit(at)
    assert at == 1_500_000 + 99 * FRAME


def test_a_held_up_anchor_is_corrected_at_once_without_going_back() -> None:
    clock = TrackClock(resync_us=250_000)
    clock.commit(clock.place(0, 900_000))  # the first frame arrived 0.8 s late
    placed = []
    for i in range(1, 40):
        placed.append(clock.place(i * FRAME, 100_000 + i * FRAME))
        clock.commit(placed[-1])
    assert placed[0] == 900_000 + MIN_STEP_US  # already written frames keep their place
    assert placed[-1] == 100_000 + 39 * FRAME  # then the track runs on the corrected anchor


@given(st.lists(st.tuples(st.integers(0, 10**7), st.integers(0, 10**7)), min_size=1, max_size=50))
def test_times_always_increase(frames: list[tuple[int, int]]) -> None:
    clock, last = TrackClock(), None
    for pts, arrival in frames:
        at = clock.place(pts, arrival)
        clock.commit(at)
        assert last is None or at >= last + MIN_STEP_US
        last = at
