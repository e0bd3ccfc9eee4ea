"""Run by the crash test as a child process: record a synthetic participant until killed, printing
the session id, then every 0.1 s how far each track has been taken (JSON).

argv: database URL, recordings root, PKI directory, PKI passphrase, case id, account id."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from sqlalchemy.ext.asyncio import async_sessionmaker

from mediation.clock import SystemClock
from recordings.session_recorder import RecorderSettings, SessionRecorder
from recordings.storage import LocalRecordingStorage
from recordings.store import CONSENTED, Participant, RecordingStore
from signaling.database import make_engine
from signing.pki import PlatformPKI
from signing.tsa import InProcessTimeStamper, TimeStampAuthority
from tests.recordings.synthetic import SyntheticSource


async def main(url: str, root: str, pki_dir: str, passphrase: str, case_id: str, account_id: str) -> None:
    store = RecordingStore(async_sessionmaker(make_engine(url)), SystemClock())
    timestamper = InProcessTimeStamper(TimeStampAuthority(PlatformPKI.load(Path(pki_dir), passphrase)))
    recorder = await SessionRecorder.start(store, LocalRecordingStorage(Path(root)), timestamper,
                                           source=SyntheticSource(), case_id=case_id, room_id="room-crash",
                                           policy={"joint": True}, settings=RecorderSettings(segment_seconds=1.0))
    participant = Participant("alice", "party", "applicant_party", "Alice", account_id)
    await store.record_consent(recorder.session.id, participant, CONSENTED)
    await recorder.record(participant)
    print(recorder.session.id, flush=True)
    while True:  # what the recorder has taken so far: the parent compares the files with it
        await asyncio.sleep(0.1)
        print(json.dumps(recorder.progress_us()), flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:7]))
