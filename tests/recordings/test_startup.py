"""The server's start-up closes a recording a previous process left running, and queues again a
review composite a previous process did not finish: the wiring of ``signaling.recordings_setup``
(store, storage, platform TSA) after the migrations."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import av
from aiohttp import web

from mediation.audit import GENESIS
from mediation.models import Case
from recordings.review import PENDING, READY, RENDERING, CompositeState, ReviewComposer
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
    other_node = await store.start_session("CASE-REC", "room-2", {"joint": True}, node="another-node")
    session = await store.start_session("CASE-REC", "room-1", {"joint": True}, node=app[RECORDER_SETTINGS_KEY].node)
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
        # another node's session (its files are not here, it may be recording now) is left alone
        assert [s.id for s in await store.sessions_in_state(RECORDING)] == [other_node.id]
        [segment] = await store.segments(session.id)
        assert segment.recovery == "truncated" and segment.frames > 0
        report = await verify_session(store, runner.app[RECORDING_STORAGE_KEY], session.id, [root])
        assert report.ok, report.findings
    finally:
        await runner.cleanup()


async def test_a_composite_cut_off_by_a_restart_is_resumed_and_its_progress_read_from_the_database(
        tmp_path: Path) -> None:
    runner = await _started(tmp_path)
    store, storage = runner.app[RECORDING_STORE_KEY], runner.app[RECORDING_STORAGE_KEY]
    now = datetime.now(timezone.utc)
    async with store.db.begin() as s:
        s.add(Case(id="CASE-REC", origin="application", dispute_type="loan", claims="-", facts="-", step="counselling",
                   status="open", created_by="test", created_at=now, updated_at=now, audit_seq=0, audit_head=GENESIS))
    session = await store.start_session("CASE-REC", "room-1", {"joint": True},
                                        node=runner.app[RECORDER_SETTINGS_KEY].node)
    seat = Participant("alice", "party", "applicant_party", "Alice")
    await store.record_consent(session.id, seat, CONSENTED)
    track = await store.add_track(session.id, seat, "video", "vp8")
    writer = TrackWriter(storage, session.id, track.id, "video")
    for i, packet in enumerate(vp8_frames(30)):
        writer.write(packet, i * 33_333, bool(packet.is_keyframe))
    await runner.cleanup()

    runner = await _started(tmp_path)  # recovers the session (tracks joined) ...
    store = runner.app[RECORDING_STORE_KEY]
    assert (await store.session(session.id)).state == INTERRUPTED
    # ... whose composite a process then started and died rendering, 40 % done: nothing of it is in
    # this process, yet the state the API reports comes from the database.
    await store.set_composite_job(session.id, RENDERING, 0.4)
    assert ReviewComposer.state(await store.session(session.id)) == CompositeState("rendering", 0.4)
    await runner.cleanup()

    runner = await _started(tmp_path)  # the next start queues it again and renders it
    try:
        store = runner.app[RECORDING_STORE_KEY]
        for _ in range(600):
            done = await store.session(session.id)
            if done.composite_state not in (PENDING, RENDERING):
                break
            await asyncio.sleep(0.1)
        assert (done.composite_state, ReviewComposer.state(done)) == (READY, CompositeState("ready", 1.0))
        path = runner.app[RECORDING_STORAGE_KEY].local_path(done.composite_path)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == done.composite_sha256
        with av.open(str(path)) as container:
            assert sum(1 for _ in container.decode(video=0)) > 0
        manifest = json.loads(runner.app[RECORDING_STORAGE_KEY].local_path(f"{session.id}/manifest.json").read_text())
        assert manifest["composite"]["sha256"] == done.composite_sha256
        assert await store.composite_jobs(node=runner.app[RECORDER_SETTINGS_KEY].node) == []
    finally:
        await runner.cleanup()
