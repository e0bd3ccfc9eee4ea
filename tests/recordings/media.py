"""Helpers for the recording tests: a case and a recorder over a live aiortc room, and decoding
what was written with PyAV."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from mediation.services import MediationServices
from recordings.session_recorder import RecorderSettings, SessionRecorder
from recordings.storage import LocalRecordingStorage
from recordings.store import CONSENTED, Participant, RecordingStore
from signing.pki import PlatformPKI
from signing.tsa import InProcessTimeStamper, TimeStampAuthority
from tests.mediation.doubles import MemorySms
from tests.mediation.helpers import case_in_counselling


@dataclass(frozen=True)
class Decoded:
    frames: int
    first_s: float
    last_s: float
    keyframe_first: bool
    loudness: float  # RMS of the samples (audio, full scale = 1), 0 for video


def decode(path: Path) -> Decoded:
    """Decode every frame of a WebM file: times are the file's own (the session clock)."""
    with av.open(str(path)) as container:
        stream = container.streams[0]
        times, loud, first_key = [], [], None
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            if first_key is None:
                first_key = bool(packet.is_keyframe)
            for frame in packet.decode():
                times.append(float(frame.pts * frame.time_base))
                if stream.type == "audio":
                    samples = frame.to_ndarray()
                    scale = float(np.iinfo(samples.dtype).max) if samples.dtype.kind == "i" else 1.0
                    loud.append(float(np.sqrt(np.mean((samples.astype(np.float64) / scale) ** 2))))
    assert times, f"nothing decoded from {path}"
    return Decoded(len(times), min(times), max(times), bool(first_key), float(np.mean(loud)) if loud else 0.0)


async def start_recorder(services: MediationServices, sms: MemorySms, pki: PlatformPKI, root: Path, source: object,
                         settings: RecorderSettings, seat: str = "alice") -> tuple[SessionRecorder, Participant]:
    """A case, a running session of its room and the seat's consent (the product side's job)."""
    case_id, alice, _ = await case_in_counselling(services, sms)
    store = RecordingStore(services.db, services.cases.clock)
    recorder = await SessionRecorder.start(store, LocalRecordingStorage(root), InProcessTimeStamper(
        TimeStampAuthority(pki)), source=source, case_id=case_id, room_id="room-1", policy={"joint": True},
        started_by=alice.id, settings=settings)  # type: ignore[arg-type]
    participant = Participant(seat, "party", "applicant_party", "Alice", alice.id)
    await store.record_consent(recorder.session.id, participant, CONSENTED)
    return recorder, participant
