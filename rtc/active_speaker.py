"""Who is speaking, from the audio level header extension, without decoding audio.

Browsers put the level of each Opus packet in the ssrc-audio-level extension (RFC 6464:
0 = loudest, 127 = silence, in -dBov); the router reads it from the RTP header and never
looks at the payload. Levels are smoothed per seat and the speaker changes only after the
current one has held the floor for ``hold`` seconds, so the highlight does not flicker
between two people talking over each other.

Each audience (the seats a subscriber actually hears) has its own speaker: during a caucus
the waiting side's speaker is not hidden by a louder voice in the caucus, and a seat the
mediator muted is nobody's speaker but its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass
class _Loudness:
    value: float  # smoothed loudness: 127 - level, 0 = silence
    at: float


@dataclass
class _Floor:
    """The speaker of one audience and since when."""

    speaker: str | None = None
    since: float = -math.inf


class ActiveSpeakerDetector:
    def __init__(self, *, hold: float = 1.0, threshold_level: int = 50, smoothing: float = 0.3) -> None:
        """``threshold_level``: a seat whose smoothed level is above (quieter than) it is silent."""
        self.hold = hold
        self._threshold = 127 - threshold_level
        self._smoothing = smoothing
        self._loudness: dict[str, _Loudness] = {}
        self._floors: dict[frozenset[str], _Floor] = {}

    def observe(self, seat: str, level: int, now: float) -> None:
        loud = float(127 - max(0, min(127, level)))
        previous = self._loudness.get(seat)
        if previous is None:
            self._loudness[seat] = _Loudness(loud, now)
            return
        weight = 1.0 - math.exp(-max(0.0, now - previous.at) / self._smoothing)
        previous.value += (loud - previous.value) * weight
        previous.at = now

    def forget(self, seat: str) -> None:
        self._loudness.pop(seat, None)

    def speakers(self, audiences: Mapping[str, frozenset[str]], now: float) -> dict[str, str | None]:
        """The speaker each subscriber should see, given the seats each one hears.

        Subscribers who hear the same seats share one floor (one evaluation, one hold);
        floors no subscriber has any more are dropped, so memory follows the room.
        """
        floors: dict[frozenset[str], _Floor] = {}
        shown: dict[str, str | None] = {}
        for subscriber, seats in audiences.items():
            floor = floors.get(seats)
            if floor is None:
                floor = floors[seats] = self._floors.get(seats) or _Floor()
                self._evaluate(floor, seats, now)
            shown[subscriber] = floor.speaker
        self._floors = floors
        return shown

    def _evaluate(self, floor: _Floor, seats: frozenset[str], now: float) -> None:
        audible = {
            seat: entry.value
            for seat in seats
            if (entry := self._loudness.get(seat)) is not None
            # a seat that stopped sending packets is silent, whatever it last sent
            and entry.value >= self._threshold and now - entry.at < self._smoothing * 3
        }
        candidate = max(sorted(audible), key=audible.__getitem__) if audible else None
        if candidate == floor.speaker:
            return
        current_still_here = floor.speaker in seats and floor.speaker in self._loudness
        if floor.speaker is not None and now - floor.since < self.hold and current_still_here:
            return
        floor.speaker, floor.since = candidate, now
