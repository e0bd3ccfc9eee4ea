"""``kill -9`` while recording, then start-up recovery: the files play up to within one segment of
the kill, the manifest says ``interrupted`` and the chain, hashes and stamps verify."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from mediation.services import MediationServices
from recordings.recovery import recover_interrupted
from recordings.storage import LocalRecordingStorage
from recordings.store import INTERRUPTED, RECORDING, RecordingStore
from recordings.verify import verify_session
from signing.pki import PlatformPKI
from signing.tsa import InProcessTimeStamper, TimeStampAuthority
from signing.verification import _as_asn1
from tests.mediation.doubles import MemorySms
from tests.mediation.helpers import case_in_counselling

from .media import decode

pytestmark = [pytest.mark.timeout(120), pytest.mark.parametrize("engine", ["sqlite"], indirect=True)]
REPO = Path(__file__).resolve().parents[2]


async def test_a_killed_recording_is_recovered_as_interrupted(engine: AsyncEngine, services: MediationServices,
                                                              sms: MemorySms, court_pki: PlatformPKI,
                                                              tmp_path: Path) -> None:
    case_id, alice, _ = await case_in_counselling(services, sms)
    root = tmp_path / "rec"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.recordings.crash_child", str(engine.url), str(root), str(court_pki.directory),
        "test-passphrase", case_id, alice.id, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE)
    try:
        session_id = (await asyncio.wait_for(child.stdout.readline(), 60)).decode().strip()  # type: ignore[union-attr]
        assert session_id.startswith("rec_")
        taken: dict[str, int] = {}
        deadline = asyncio.get_running_loop().time() + 3.5
        while asyncio.get_running_loop().time() < deadline:
            taken = json.loads(await asyncio.wait_for(child.stdout.readline(), 10))  # type: ignore[union-attr]
        child.send_signal(signal.SIGKILL)
        killed_at = datetime.now(timezone.utc)
    finally:
        if child.returncode is None:
            child.kill()
        await child.wait()

    store = RecordingStore(services.db, services.cases.clock)
    storage = LocalRecordingStorage(root)
    session = await store.session(session_id)
    assert session.state == RECORDING  # what the dead process left
    killed_us = int((killed_at - session.started_at).total_seconds() * 1e6)

    manifests = await recover_interrupted(store, storage, InProcessTimeStamper(TimeStampAuthority(court_pki)))
    assert [m["session"]["id"] for m in manifests] == [session_id]
    manifest = manifests[0]
    assert manifest["session"]["state"] == INTERRUPTED
    assert manifest["session"]["notes"][-1]["reason"] == "server_restart"
    assert await recover_interrupted(store, storage, InProcessTimeStamper(TimeStampAuthority(court_pki))) == []

    for track in manifest["tracks"]:
        decoded = decode(root / track["joined"]["path"])
        assert decoded.frames > 0
        # everything the recorder had taken by its last report before the kill (reports come every
        # 0.1 s) plays, but the open segment's last unflushed cluster (0.2 s) and the frames still
        # batched for the writer (0.1 s): far less than one segment (1 s here)
        assert decoded.last_s * 1e6 >= taken[track["id"]] - 400_000, (track["kind"], decoded, taken, killed_us)
        assert track["segments"][-1]["end_us"] <= killed_us + 200_000
        for segment in track["segments"]:
            assert decode(root / segment["path"]).frames == segment["frames"]
    recoveries = [s["recovery"] for t in manifest["tracks"] for s in t["segments"] if s["recovery"]]
    assert recoveries, "the segments open at the kill were salvaged"
    assert not list(root.rglob("*.part")) and not list(root.rglob("*.crashed"))

    report = await verify_session(store, storage, session_id, [_as_asn1(court_pki.root_cert)])
    assert report.ok, report.findings
    assert report.stamps[-1].final and report.stamps[-1].ok
