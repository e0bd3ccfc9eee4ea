"""The pieces under the recorder: VP8 headers, storage keys, the writer thread's bound, the
consent rule, and recovery of a segment committed but never recorded and of a half-written one."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import zipfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mediation.errors import InvalidInput, WrongState
from mediation.services import MediationServices
from recordings.mux_worker import Frame, MuxWorker, OpenTrack
from recordings.recovery import recover_interrupted
from recordings.session_recorder import RecorderSettings
from recordings.storage import LocalRecordingStorage, check_key
from recordings.store import Participant
from recordings.track_writer import TrackWriter, segment_key, vp8_dimensions
from recordings.verify import verify_package, verify_session
from signing.pki import PlatformPKI
from signing.tsa import InProcessTimeStamper, TimeStampAuthority
from signing.verification import _as_asn1
from tests.mediation.doubles import MemorySms

from .media import decode, start_recorder
from .synthetic import SyntheticSource

sqlite_only = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def vp8_frames(count: int, width: int = 160, height: int = 120) -> list[av.Packet]:
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = Fraction(1, 30)
    encoder.gop_size = 10_000
    packets = []
    for i in range(count):
        image = np.full((height, width, 3), (i * 7) % 255, dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        packets += encoder.encode(frame)
    return packets + list(encoder.encode(None))


def test_vp8_dimensions_come_from_keyframes_only() -> None:
    packets = vp8_frames(3, 320, 180)
    assert vp8_dimensions(bytes(packets[0])) == (320, 180)
    assert vp8_dimensions(bytes(packets[1])) is None and vp8_dimensions(b"") is None


@given(st.text(max_size=40))
def test_storage_keys_never_leave_the_root(key: str) -> None:
    try:
        checked = check_key(key)
    except ValueError:
        return
    assert ".." not in checked and not checked.startswith("/") and "\\" not in checked


async def test_the_writer_thread_drops_frames_when_behind_never_blocks(tmp_path: Path) -> None:
    closed: list[object] = []
    worker = MuxWorker(LocalRecordingStorage(tmp_path), "rec_x", lambda t, s: closed.append(s),
                       lambda t, r: None, capacity=3)
    worker.send(OpenTrack("trk", "video", 0))
    packets = vp8_frames(5)
    accepted = [worker.offer(Frame("trk", p, i * 33_333, bool(p.is_keyframe))) for i, p in enumerate(packets)]
    assert accepted == [True, True, True, False, False] and worker.dropped == 2
    await worker.stop()
    assert len(closed) == 1 and closed[0].frames == 3  # type: ignore[attr-defined]


@sqlite_only
async def test_only_a_consenting_seat_is_recorded(services: MediationServices, sms: MemorySms,
                                                  court_pki: PlatformPKI, tmp_path: Path) -> None:
    recorder, _ = await start_recorder(services, sms, court_pki, tmp_path, SyntheticSource(), RecorderSettings())
    with pytest.raises(WrongState):
        await recorder.record(Participant("bob", "party", "respondent_party", "Bob"))
    manifest = await recorder.stop()
    assert manifest["tracks"] == [] and not list(tmp_path.rglob("*.webm"))


@sqlite_only
async def test_recovery_adds_unrecorded_and_half_written_segments(services: MediationServices, sms: MemorySms,
                                                                  court_pki: PlatformPKI, tmp_path: Path) -> None:
    """A process that died after committing segment 0 (before the database heard of it) and in the
    middle of segment 1 (its spool file holds frames, no end)."""
    recorder, alice = await start_recorder(services, sms, court_pki, tmp_path, SyntheticSource(), RecorderSettings())
    store, storage, session_id = recorder.store, LocalRecordingStorage(tmp_path), recorder.session.id
    await recorder._worker.stop()  # noqa: SLF001 - the process "dies": nothing of the recorder runs on
    recorder._stamper.cancel()  # noqa: SLF001
    recorder._persister.cancel()  # noqa: SLF001
    track = await store.add_track(session_id, alice, "video", "vp8")
    writer = TrackWriter(storage, session_id, track.id, "video")
    for i, packet in enumerate(vp8_frames(20)):
        writer.write(packet, 500_000 + i * 33_333, bool(packet.is_keyframe))
    writer.cut()  # committed: hashed and renamed into place, but never added to the database
    for i, packet in enumerate(vp8_frames(20)):
        writer.write(packet, 1_300_000 + i * 33_333, bool(packet.is_keyframe))
    # no cut: the spool file stays as the crash left it (clusters flushed, no cues, no end)
    part = tmp_path / (segment_key(session_id, track.id, 1) + ".part")
    assert part.exists() and part.stat().st_size > 1000

    timestamper = InProcessTimeStamper(TimeStampAuthority(court_pki))
    [manifest] = await recover_interrupted(store, storage, timestamper)
    segments = manifest["tracks"][0]["segments"]
    assert [(s["index"], s["recovery"]) for s in segments] == [(0, "unrecorded"), (1, "truncated")]
    assert segments[0]["frames"] == 20 and 0 < segments[1]["frames"] <= 20
    assert decode(tmp_path / segments[1]["path"]).frames == segments[1]["frames"]
    assert stat.S_IMODE(os.stat(tmp_path / segments[1]["path"]).st_mode) == 0o600
    assert manifest["session"]["state"] == "interrupted"
    report = await verify_session(store, storage, session_id, [_as_asn1(court_pki.root_cert)])
    assert report.ok, report.findings


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(manifest=st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                             lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                                 st.sampled_from(["session", "tracks", "chain", "stamps", "entries", "segments", "id",
                                                  "path", "sha256", "index", "position", "token", "composite"]),
                                 inner, max_size=4), max_leaves=12))
async def test_a_malformed_package_is_refused_clearly(tmp_path: Path, manifest: object) -> None:
    package = tmp_path / "bad.zip"
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
    try:
        report = await verify_package(package, [])
    except InvalidInput as exc:
        assert exc.code == "bad_recording_package"
    else:
        assert isinstance(report.ok, bool)


async def test_not_a_zip_is_refused_clearly(tmp_path: Path) -> None:
    (tmp_path / "x.zip").write_bytes(b"%PDF-1.7 not a zip")
    with pytest.raises(InvalidInput, match="not a readable recording package"):
        await verify_package(tmp_path / "x.zip", [])


async def test_a_seat_paused_and_resumed_continues_its_tracks(services: MediationServices, sms: MemorySms,
                                                             court_pki: PlatformPKI, tmp_path: Path) -> None:
    """What the room does on every mute or caucus: stop the seat's writers, start them again at once."""
    recorder, alice = await start_recorder(services, sms, court_pki, tmp_path, SyntheticSource(),
                                           RecorderSettings(segment_seconds=0.5))
    first = await recorder.record(alice)
    await asyncio.sleep(1.2)
    await recorder.stop_participant(alice.seat)
    again = await recorder.record(alice)  # before the last close reached the database
    assert {t.id for t in again} == {t.id for t in first}
    await asyncio.sleep(1.2)
    manifest = await recorder.stop()
    for track in manifest["tracks"]:
        indexes = [s["index"] for s in track["segments"]]
        assert indexes == list(range(len(indexes))) and len(indexes) >= 3
        starts = [s["start_us"] for s in track["segments"]]
        assert starts == sorted(starts)
    report = await verify_session(recorder.store, LocalRecordingStorage(tmp_path), recorder.session.id,
                                  [_as_asn1(court_pki.root_cert)])
    assert report.ok, report.findings


async def test_muting_one_kind_stops_only_that_kind(services: MediationServices, sms: MemorySms,
                                                     court_pki: PlatformPKI, tmp_path: Path) -> None:
    """The mediator mutes the seat's video only (``Room.may_record(seat, "video")`` turns false):
    its audio goes on without a gap while no video is written; unmuted, the video continues
    its numbering and every segment still verifies."""
    recorder, alice = await start_recorder(services, sms, court_pki, tmp_path, SyntheticSource(),
                                           RecorderSettings(segment_seconds=0.5))
    await recorder.record(alice)
    await asyncio.sleep(1.2)
    muted_at = recorder.session_us()
    await recorder.stop_participant(alice.seat, ["video"])
    await asyncio.sleep(1.5)
    unmuted_at = recorder.session_us()
    await recorder.record(alice, ["video"])  # audio is already being written: only video starts
    await asyncio.sleep(1.2)
    manifest = await recorder.stop()
    tracks = {t["kind"]: t for t in manifest["tracks"]}
    assert len(manifest["tracks"]) == 2
    video, audio = tracks["video"]["segments"], tracks["audio"]["segments"]
    for segments in (video, audio):
        assert [s["index"] for s in segments] == list(range(len(segments)))
    # no video frame between the mute and the unmute (give the stop a frame's time to land)
    assert not [s for s in video if s["end_us"] > muted_at + 100_000 and s["start_us"] < unmuted_at]
    assert any(s["start_us"] >= unmuted_at for s in video)
    # the audio ran on through the 1.5 s mute: no gap between its segments beyond scheduling jitter
    # (the synthetic source encodes on this busy machine's loop)
    assert all(b["start_us"] - a["end_us"] < 500_000 for a, b in zip(audio, audio[1:])), \
        [(s["start_us"], s["end_us"]) for s in audio]
    assert audio[0]["start_us"] < muted_at and audio[-1]["end_us"] > unmuted_at
    for segment in video:
        assert decode(tmp_path / segment["path"]).frames == segment["frames"]
    report = await verify_session(recorder.store, LocalRecordingStorage(tmp_path), recorder.session.id,
                                  [_as_asn1(court_pki.root_cert)])
    assert report.ok, report.findings


def test_a_committed_file_is_never_overwritten(tmp_path: Path) -> None:
    storage = LocalRecordingStorage(tmp_path)
    key = "rec_1/trk_1/00000.webm"
    storage.spool(key).write_bytes(b"first")
    storage.commit(key)
    storage.spool(key).write_bytes(b"second")
    with pytest.raises(FileExistsError):
        storage.commit(key)
    with storage.open(key) as handle:
        assert handle.read() == b"first"
    assert storage.write_bytes("rec_1/manifest.json", b"{}") == storage.write_bytes("rec_1/manifest.json", b"{}")


class _EndingSource(SyntheticSource):
    """Publishes a few frames, then the room closes (the tap's stream ends)."""

    async def subscribe_encoded(self, publisher_seat: str, kind: str):  # type: ignore[no-untyped-def]
        count = 0
        async for packet in super().subscribe_encoded(publisher_seat, kind):
            yield packet
            count += 1
            if count == 10:
                return


@sqlite_only
async def test_stop_after_the_room_closed_does_not_wait_for_frames(services: MediationServices, sms: MemorySms,
                                                                  court_pki: PlatformPKI, tmp_path: Path) -> None:
    recorder, alice = await start_recorder(services, sms, court_pki, tmp_path, _EndingSource(), RecorderSettings())
    await recorder.record(alice)
    await asyncio.sleep(1.0)
    started = asyncio.get_running_loop().time()
    manifest = await recorder.stop()
    assert asyncio.get_running_loop().time() - started < recorder.settings.drain_seconds
    assert {t["kind"] for t in manifest["tracks"] if t["segments"]} == {"audio", "video"}


def test_a_video_segment_never_starts_without_a_keyframe(tmp_path: Path) -> None:
    """A frame whose first packet was lost can look like a keyframe by its first byte alone."""
    storage = LocalRecordingStorage(tmp_path)
    writer = TrackWriter(storage, "rec_1", "trk_1", "video")
    packets = vp8_frames(6)
    writer.write(av.Packet(b"\x00" + bytes(packets[1])[1:]), 0, True)  # "keyframe" bit, no start code
    for i, packet in enumerate(packets):
        writer.write(packet, (i + 1) * 33_333, bool(packet.is_keyframe))
    closed = writer.cut()
    assert closed is not None and closed.frames == 6 and closed.start_us == 33_333
    assert decode(tmp_path / closed.path).frames == 6
