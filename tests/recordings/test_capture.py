"""Capture with real media: an aiortc participant publishes VP8 and Opus into a MediaRouter, the
recorder writes what the tap gives it without transcoding, and the files decode on one clock."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from pathlib import Path

import pytest

from mediation.services import MediationServices
from recordings.session_recorder import RecorderSettings
from recordings.store import FINISHED
from signing.pki import PlatformPKI
from tests.mediation.doubles import MemorySms

from .media import decode, start_recorder

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "rtc"))
from rtc_test_clients import TestRoom, wait_for  # noqa: E402

pytestmark = [pytest.mark.timeout(90), pytest.mark.parametrize("engine", ["sqlite"], indirect=True)]


async def test_six_seconds_of_a_participant_decode_on_one_clock(services: MediationServices, sms: MemorySms,
                                                                court_pki: PlatformPKI, tmp_path: Path) -> None:
    room = TestRoom()
    try:
        await room.join("alice", loud=True)
        await room.join("bob")
        await wait_for(lambda: room.frames_from("bob", "alice", "video") > 10, 15, "media to flow")
        recorder, alice = await start_recorder(services, sms, court_pki, tmp_path / "rec", room.router,
                                               RecorderSettings(segment_seconds=2.0))
        await recorder.record(alice)
        await asyncio.sleep(6)
        manifest = await recorder.stop()
        assert room.router.stats().decoders_created == 0 and room.router.stats().encoders_created == 0
    finally:
        await room.close()

    session = manifest["session"]
    assert session["state"] == FINISHED
    end_s = session["end_us"] / 1e6
    tracks = {t["kind"]: t for t in manifest["tracks"]}
    assert set(tracks) == {"audio", "video"} and tracks["video"]["codec"] == "vp8" and tracks["audio"]["codec"] == "opus"
    root = tmp_path / "rec"
    decoded = {kind: decode(root / t["joined"]["path"]) for kind, t in tracks.items()}
    for kind, d in decoded.items():
        assert abs((d.last_s - d.first_s) - end_s) < 1.0, (kind, d, end_s)
    video, audio = decoded["video"], decoded["audio"]
    assert 10 <= video.frames / (video.last_s - video.first_s) <= 40  # aiortc sends ~30 fps
    assert audio.loudness > 0.1  # the 440 Hz tone at 12000/32768, not silence
    assert abs(video.first_s - audio.first_s) < 0.1
    for kind, track in tracks.items():
        segments = track["segments"]
        assert len(segments) >= 3 and [s["index"] for s in segments] == list(range(len(segments)))
        for segment in segments:
            path = root / segment["path"]
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
            assert {stat.S_IMODE(os.stat(d).st_mode) for d in (root, path.parent, path.parent.parent)} == {0o700}
            piece = decode(path)  # every segment plays on its own
            assert piece.frames == segment["frames"]
            # players drop Opus's pre-skip (312 samples, 6.5 ms) at the start of each file
            preskip = 312 / 48_000 if kind == "audio" else 0.0
            assert abs(piece.first_s - segment["start_us"] / 1e6 - preskip) < 0.002
            if kind == "video":
                assert piece.keyframe_first
        starts = [s["start_us"] for s in segments]
        assert starts == sorted(starts)
    assert manifest["chain"]["length"] == sum(len(t["segments"]) for t in tracks.values())
    assert manifest["stamps"][-1]["final"] and manifest["stamps"][-1]["chain_head"] == manifest["chain"]["head"]
