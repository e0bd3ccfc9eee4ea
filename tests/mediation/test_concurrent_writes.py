"""Changes to one case that arrive at once are serialised: each reads the case row ``FOR UPDATE``
and appends the audit chain's next link from what it read. On PostgreSQL that is a row lock; on
SQLite, which has none, the read takes the database's write lock (``signaling.database``) — from
another connection as from another process."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

from mediation.accounts import Actor, Role
from mediation.audit import read_trail, verify_chain
from mediation.services import MediationServices, build_services
from signaling.database import make_engine

from .doubles import MemorySms, RecordingRooms
from .helpers import application, make_staff, register_party


async def _case_in_counselling(services: MediationServices, sms: MemorySms) -> tuple[str, Actor, Actor]:
    alice = await register_party(services, sms, "alice", 1)
    bob = await register_party(services, sms, "bob", 2)
    admin = (await services.accounts.bootstrap_admin("root", "Root", "correct horse battery")).as_actor()
    mediator = await make_staff(services, admin, Role.MEDIATOR, "med", organisation="Org")
    case = await services.cases.apply(alice.actor, application(alice, bob))
    await services.cases.answer_consent(bob.actor, case.id, True)
    await services.cases.choose_mediator(alice.actor, case.id, mediator.id)
    await services.cases.answer_assignment(mediator, case.id, True)
    return case.id, alice.actor, bob.actor


async def test_simultaneous_changes_to_one_case_keep_one_chain(services: MediationServices, sms: MemorySms) -> None:
    case_id, alice, bob = await _case_in_counselling(services, sms)
    before = len(await read_trail(services.db, case_id))
    await asyncio.gather(*[services.cases.send_message(who, case_id, f"message {i}")
                           for i in range(8) for who in (alice, bob)])
    check = await verify_chain(services.db, case_id)
    assert check.ok and check.entries == before + 16, check


async def test_two_engines_on_one_sqlite_file_write_one_chain(tmp_path: Path, services: MediationServices,
                                                              sms: MemorySms) -> None:
    """Two engines stand for the server and ``accord demo load`` in separate processes."""
    if services.db.kw["bind"].dialect.name != "sqlite":
        return
    case_id, alice, bob = await _case_in_counselling(services, sms)
    other_engine = make_engine(str(services.db.kw["bind"].url))
    other = build_services(other_engine, data_dir=tmp_path / "other", pii_key=secrets.token_bytes(32),
                           code_key=secrets.token_bytes(32), clock=services.cases.clock, sms=sms,
                           rooms=RecordingRooms())
    try:
        before = len(await read_trail(services.db, case_id))
        await asyncio.gather(*[svc.cases.send_message(who, case_id, "hello")
                               for _ in range(6) for svc, who in ((services, alice), (other, bob))])
    finally:
        await other_engine.dispose()
    check = await verify_chain(services.db, case_id)
    assert check.ok and check.entries == before + 12, check
