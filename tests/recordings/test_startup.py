"""The server's start-up closes a recording a previous process left running: the wiring of
``signaling.recordings_setup`` (store, storage, platform TSA) after the migrations."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from aiohttp import web

from mediation.audit import GENESIS
from mediation.models import Case
from recordings.storage import LocalRecordingStorage
from recordings.store import CONSENTED, INTERRUPTED, RECORDING, Participant
from recordings.track_writer import TrackWriter
from recordings.verify import verify_session
from signaling.api.pki import PKI_KEY
from signaling.app import create_app
from signaling.config import load_settings
from signaling.recordings_setup import RECORDER_SETTINGS_KEY, RECORDING_STORAGE_KEY, RECORDING_STORE_KEY
from signing.verification import _as_asn1

from .test_writer import vp8_frames


async def _started(data_dir: Path) -> web.AppRunner:
    app = create_app(load_settings(data_dir=data_dir, port=0, recording_segment_seconds=2.5))
    runner = web.AppRunner(app, shutdown_timeout=2)
    await runner.setup()  # runs on_startup: migrations, then recovery
    return runner


async def test_start_up_recovers_a_recording_left_running(tmp_path: Path) -> None:
    runner = await _started(tmp_path)
    app = runner.app
    store, storage = app[RECORDING_STORE_KEY], app[RECORDING_STORAGE_KEY]
    assert isinstance(storage, LocalRecordingStorage) and storage.root == tmp_path / "recordings"
    assert app[RECORDER_SETTINGS_KEY].segment_seconds == 2.5
    now = datetime.now(timezone.utc)
    async with store.db.begin() as s:  # a case row is all a session needs (no workflow runs here)
        s.add(Case(id="CASE-REC", origin="application", dispute_type="loan", claims="-", facts="-", step="counselling",
                   status="open", created_by="test", created_at=now, updated_at=now, audit_seq=0, audit_head=GENESIS))
    session = await store.start_session("CASE-REC", "room-1", {"joint": True})
    seat = Participant("alice", "party", "applicant_party", "Alice")
    await store.record_consent(session.id, seat, CONSENTED)
    track = await store.add_track(session.id, seat, "video", "vp8")
    writer = TrackWriter(storage, session.id, track.id, "video")
    for i, packet in enumerate(vp8_frames(15)):
        writer.write(packet, i * 33_333, bool(packet.is_keyframe))  # then the process "dies": never cut
    root = _as_asn1(app[PKI_KEY].root_cert)
    await runner.cleanup()

    runner = await _started(tmp_path)
    try:
        store = runner.app[RECORDING_STORE_KEY]
        recovered = await store.session(session.id)
        assert recovered.state == INTERRUPTED and recovered.manifest_sha256 is not None
        assert await store.sessions_in_state(RECORDING) == []
        [segment] = await store.segments(session.id)
        assert segment.recovery == "truncated" and segment.frames > 0
        report = await verify_session(store, runner.app[RECORDING_STORAGE_KEY], session.id, [root])
        assert report.ok, report.findings
    finally:
        await runner.cleanup()
