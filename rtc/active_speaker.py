"""Who is speaking, from the audio level header extension, without decoding audio.

Browsers put the level of each Opus packet in the ssrc-audio-level extension (0 = loudest,
127 = silence, in -dBov). Levels are smoothed per seat and the speaker changes only after
the current one has held the floor for ``hold`` seconds, so the highlight does not flicker
between two people talking over each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class SpeakerChange:
    """The active speaker changed to ``seat`` (``None``: nobody is speaking)."""

    seat: str | None


@dataclass
class _Loudness:
    value: float  # smoothed loudness: 127 - level, 0 = silence
    at: float


class ActiveSpeakerDetector:
    def __init__(self, *, hold: float = 1.0, threshold_level: int = 50, smoothing: float = 0.3) -> None:
        """``threshold_level``: a seat whose smoothed level is above (quieter than) it is silent."""
        self.hold = hold
        self._threshold = 127 - threshold_level
        self._smoothing = smoothing
        self._loudness: dict[str, _Loudness] = {}
        self._speaker: str | None = None
        self._since = -math.inf

    @property
    def speaker(self) -> str | None:
        return self._speaker

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

    def evaluate(self, now: float) -> SpeakerChange | None:
        """The change to announce, or ``None`` when the speaker stays the same."""
        audible = {
            seat: entry.value
            for seat, entry in self._loudness.items()
            # a seat that stopped sending packets is silent, whatever it last sent
            if entry.value >= self._threshold and now - entry.at < self._smoothing * 3
        }
        candidate = max(audible, key=audible.__getitem__) if audible else None
        if candidate == self._speaker:
            return None
        if self._speaker is not None and now - self._since < self.hold and self._speaker in self._loudness:
            return None
        self._speaker = candidate
        self._since = now
        return SpeakerChange(candidate)
