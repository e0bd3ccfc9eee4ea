"""A real recording package stamped by a given PKI's TSA, outside any test fixture: for the
browser test, whose server trusts its own platform root."""

from __future__ import annotations

import asyncio
import io
import secrets
import zipfile
from pathlib import Path

from mediation.clock import ManualClock
from mediation.schema import upgrade_engine
from mediation.services import build_services
from recordings.package import write_package
from recordings.session_recorder import RecorderSettings
from recordings.storage import LocalRecordingStorage
from signaling.database import make_engine
from signing.pki import PlatformPKI
from tests.mediation.doubles import START, MemorySms, RecordingRooms

from .media import start_recorder
from .synthetic import SyntheticSource


async def build_package(pki: PlatformPKI, root: Path, seconds: float = 2.0) -> bytes:
    """About ``seconds`` of VP8 + Opus from the synthetic source, recorded, stopped and packaged."""
    engine = make_engine(f"sqlite+aiosqlite:///{root / 'accord.sqlite3'}")
    await upgrade_engine(engine)
    sms = MemorySms()
    services = build_services(engine, data_dir=root / "data", pii_key=secrets.token_bytes(32),
                              code_key=secrets.token_bytes(32), clock=ManualClock(START), sms=sms,
                              rooms=RecordingRooms(), max_upload_bytes=1024 * 1024)
    try:
        recorder, alice = await start_recorder(services, sms, pki, root / "recordings", SyntheticSource(),
                                               RecorderSettings(segment_seconds=0.7))
        await recorder.record(alice)
        await asyncio.sleep(seconds)
        await recorder.stop()
        package = root / "package.zip"
        await asyncio.to_thread(write_package, LocalRecordingStorage(root / "recordings"), recorder.session.id, package)
        return package.read_bytes()
    finally:
        await engine.dispose()


def flip_in_first_segment(package: bytes) -> tuple[bytes, str]:
    """The package with one byte of its first media segment flipped; and that segment's key."""
    source = zipfile.ZipFile(io.BytesIO(package))
    key = next(n for n in source.namelist() if n.endswith("00000.webm"))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            data = bytearray(source.read(name))
            if name == key:
                data[len(data) // 2] ^= 0x01
            target.writestr(name, bytes(data))
    return out.getvalue(), key
