"""Where a frame sits on the session clock (microseconds since the session started).

A track is anchored on its first frame (``offset = arrival - pts``); after that the frame's own
RTP-derived pts advance it (they keep running through a pause, and the tap carries them across a
reconnect), so the spacing the sender produced is kept and arrival jitter does not enter the file.
It is re-anchored to arrival when frames arrive *earlier* than predicted by more than
``resync_us`` (the anchor frame itself was held up) or stay *later* by more than that for
``hold_us`` (the sender's clock drifts from ours): one late frame (a loaded loop) never moves the
timeline. Times of a track always increase by at least ``MIN_STEP_US`` (WebM keeps milliseconds).
"""

from __future__ import annotations

MIN_STEP_US = 1_000


class TrackClock:
    def __init__(self, resync_us: int = 250_000, hold_us: int = 2_000_000):
        self.resync_us = resync_us
        self.hold_us = hold_us
        self.offset_us: int | None = None
        self.last_us: int | None = None
        self._late_since_us: int | None = None

    def place(self, pts_us: int, arrival_us: int) -> int:
        """The session time of a frame with these pts that arrived at ``arrival_us``."""
        if self.offset_us is None or self._drifted(arrival_us - (pts_us + self.offset_us), arrival_us):
            self.offset_us = arrival_us - pts_us
            self._late_since_us = None
        at_us = pts_us + self.offset_us
        if self.last_us is not None and at_us < self.last_us + MIN_STEP_US:
            at_us = self.last_us + MIN_STEP_US
        return at_us

    def commit(self, at_us: int) -> None:
        """The frame placed at ``at_us`` was written (a dropped one does not hold the clock back)."""
        self.last_us = at_us

    def _drifted(self, lateness_us: int, now_us: int) -> bool:
        if lateness_us < -self.resync_us:
            return True
        if lateness_us <= self.resync_us:
            self._late_since_us = None
            return False
        if self._late_since_us is None:
            self._late_since_us = now_us
        return now_us - self._late_since_us >= self.hold_us
