"""Changes to one case that arrive at once are serialised: each reads the case row ``FOR UPDATE``
and appends the audit chain's next link from what it read. On PostgreSQL that is a row lock; on
SQLite, which has none, the read takes the database's write lock (``signaling.database``) — from
another connection as from another process."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

from mediation.audit import read_trail, verify_chain
from mediation.services import MediationServices, build_services
from signaling.database import make_engine

from .doubles import MemorySms, RecordingRooms
from .helpers import case_in_counselling


async def test_simultaneous_changes_to_one_case_keep_one_chain(services: MediationServices, sms: MemorySms) -> None:
    case_id, alice, bob = await case_in_counselling(services, sms)
    before = len(await read_trail(services.db, case_id))
    await asyncio.gather(*[services.counselling.send_message(who, case_id, f"message {i}")
                           for i in range(8) for who in (alice, bob)])
    check = await verify_chain(services.db, case_id)
    assert check.ok and check.entries == before + 16, check


async def test_two_engines_on_one_sqlite_file_write_one_chain(tmp_path: Path, services: MediationServices,
                                                              sms: MemorySms) -> None:
    """Two engines stand for the server and ``accord demo load`` in separate processes."""
    if services.db.kw["bind"].dialect.name != "sqlite":
        return
    case_id, alice, bob = await case_in_counselling(services, sms)
    other_engine = make_engine(str(services.db.kw["bind"].url))
    other = build_services(other_engine, data_dir=tmp_path / "other", pii_key=secrets.token_bytes(32),
                           code_key=secrets.token_bytes(32), clock=services.cases.clock, sms=sms,
                           rooms=RecordingRooms())
    try:
        before = len(await read_trail(services.db, case_id))
        await asyncio.gather(*[svc.counselling.send_message(who, case_id, "hello")
                               for _ in range(6) for svc, who in ((services, alice), (other, bob))])
    finally:
        await other_engine.dispose()
    check = await verify_chain(services.db, case_id)
    assert check.ok and check.entries == before + 12, check
