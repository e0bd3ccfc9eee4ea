"""Chromium's fake microphone fed a WAV: a steady tone (someone speaking) or silence.

Chromium's own fake microphone beeps for a few milliseconds a second, which a speaker detector
rightly ignores; a steady tone is what makes one participant the active speaker.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

SAMPLE_RATE = 48000


def make_fake_microphone(path: Path, *, loud: bool, seconds: float = 4.0) -> Path:
    """A looping mono 16-bit WAV: 440 Hz at about -12 dBov, or digital silence."""
    t = np.arange(int(SAMPLE_RATE * seconds)) / SAMPLE_RATE
    samples = (np.sin(2 * np.pi * 440 * t) * 8000 * loud).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(samples.tobytes())
    return path
