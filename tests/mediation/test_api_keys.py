"""API keys in the database (SQLite and PostgreSQL): only a keyed hash is stored, scopes are from a
known vocabulary, expiry and revocation hold at the next use, and keys of the old JSON file keep
working once imported."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from mediation.api_key_models import ApiKey
from mediation.api_keys import ApiKeyService
from mediation.clock import ManualClock
from mediation.errors import InvalidInput, NotFound, Unauthenticated, WrongState
from mediation.schema import VERSION_TABLE, alembic_config, all_tables, upgrade_engine
from mediation.services import MediationServices
from signaling.database import make_engine

from .conftest import api_key_store


@pytest.fixture
def keys(services: MediationServices) -> ApiKeyService:
    return api_key_store(services)


async def _row(keys: ApiKeyService, key_id: str) -> ApiKey:
    async with keys.db() as s:
        row = await s.get(ApiKey, key_id)
    assert row is not None
    return row


async def test_a_key_resolves_to_its_record_and_only_a_keyed_hash_is_stored(keys: ApiKeyService) -> None:
    issued = await keys.create("court-system", ["court", "cases:read"])
    assert issued.key.startswith(f"ak_{issued.info.id}_")
    assert issued.info.scopes == ("cases:read", "court")
    assert (await keys.resolve(issued.key)).id == issued.info.id
    row = await _row(keys, issued.info.id)
    secret = issued.key.removeprefix(f"ak_{issued.info.id}_")  # url-safe: may itself contain "_"
    assert secret not in row.key_hash and row.key_hash.startswith("hmac-sha256:")
    assert row.key_hash.split(":")[1] != hashlib.sha256(issued.key.encode()).hexdigest()  # keyed, not plain
    # The same key under another server secret is unknown: the table alone does not verify guesses.
    other = ApiKeyService(keys.db, keys.clock, secrets.token_bytes(32), keys.known_scopes)
    with pytest.raises(Unauthenticated):
        await other.resolve(issued.key)


async def test_a_wrong_secret_behind_a_real_id_is_unknown(keys: ApiKeyService) -> None:
    issued = await keys.create("court-system", ["court"])
    forged = issued.key[:-4] + ("AAAA" if not issued.key.endswith("AAAA") else "BBBB")
    for key in (forged, "ak_" + "0" * 12 + "_" + "A" * 43, "ak_short", "as_session", ""):
        with pytest.raises(Unauthenticated) as refused:
            await keys.resolve(key)
        assert refused.value.code == "bad_credentials"


async def test_expiry_and_revocation_hold_at_the_next_use(keys: ApiKeyService, clock: ManualClock) -> None:
    expiring = await keys.create("temporary", ["rooms"], expires_in=timedelta(days=1))
    lasting = await keys.create("lasting", ["rooms"])
    await keys.resolve(expiring.key)
    clock.advance(timedelta(days=1))
    with pytest.raises(Unauthenticated) as refused:
        await keys.resolve(expiring.key)
    assert refused.value.code == "api_key_expired"
    await keys.resolve(lasting.key)
    revoked = await keys.revoke("lasting")
    assert revoked.revoked_at == clock.now() and revoked.state(clock.now()) == "revoked"
    with pytest.raises(Unauthenticated) as refused:
        await keys.resolve(lasting.key)
    assert refused.value.code == "api_key_revoked"
    with pytest.raises(WrongState):
        await keys.revoke(lasting.info.id)  # by id, a revoked key is found and said to be revoked
    with pytest.raises(NotFound):
        await keys.revoke("lasting")  # by name, only live keys count
    # The name is free again once the key is revoked, and the new key is a different one.
    again = await keys.create("lasting", ["rooms"])
    assert again.info.id != lasting.info.id
    assert sorted((k.name, k.state(clock.now())) for k in await keys.list()) == [
        ("lasting", "active"), ("lasting", "revoked"), ("temporary", "expired")]


async def test_last_use_is_recorded_at_most_once_a_minute(keys: ApiKeyService, clock: ManualClock) -> None:
    issued = await keys.create("court-system", ["court"])
    assert (await _row(keys, issued.info.id)).last_used_at is None
    first = clock.now()
    await keys.resolve(issued.key)
    clock.advance(timedelta(seconds=30))
    await keys.resolve(issued.key)
    assert (await _row(keys, issued.info.id)).last_used_at == first
    clock.advance(timedelta(seconds=30))
    await keys.resolve(issued.key)
    assert (await _row(keys, issued.info.id)).last_used_at == clock.now()


async def test_bad_names_scopes_and_expiries_are_refused(keys: ApiKeyService) -> None:
    cases = [
        (dict(name="court system", scopes=["court"]), "invalid_key_name"),
        (dict(name="0123456789ab", scopes=["court"]), "invalid_key_name"),  # would read as a key id
        (dict(name="x" * 65, scopes=["court"]), "invalid_key_name"),
        (dict(name="ok", scopes=[]), "missing_scope"),
        (dict(name="ok", scopes=["court", "admin"]), "unknown_scope"),
        (dict(name="ok", scopes=["court"], expires_in=timedelta(0)), "invalid_expiry"),
    ]
    for kwargs, code in cases:
        with pytest.raises(InvalidInput) as refused:
            await keys.create(**kwargs)
        assert refused.value.code == code, kwargs
    await keys.create("court-system", ["court"])
    with pytest.raises(WrongState) as taken:
        await keys.create("court-system", ["rooms"])
    assert taken.value.code == "name_taken"
    assert [k.name for k in await keys.list()] == ["court-system"]


async def test_keys_of_the_old_file_work_after_import_with_the_scopes_given(keys: ApiKeyService) -> None:
    old = ["ak_" + secrets.token_urlsafe(32) for _ in range(3)]
    digests = {hashlib.sha256(k.encode()).hexdigest(): name
               for k, name in zip(old, ["tests", "tests", "法院 系统"])}
    imported = await keys.import_legacy(digests, ["rooms"])
    assert [i.name for i in imported] == ["tests", "tests-2", "imported"]
    for key, info in zip(old, imported):
        resolved = await keys.resolve(key)
        assert resolved.id == info.id and resolved.scopes == ("rooms",)
    with pytest.raises(WrongState):  # importing the same keys twice
        await keys.import_legacy(dict(list(digests.items())[:1]), ["rooms"])
    with pytest.raises(InvalidInput):
        await keys.import_legacy({"not a digest": "x"}, ["rooms"])
    with pytest.raises(InvalidInput):
        await keys.import_legacy(digests, [])
    await keys.revoke(imported[0].id)
    with pytest.raises(Unauthenticated):
        await keys.resolve(old[0])


async def test_migration_matches_the_model(engine: AsyncEngine, keys: ApiKeyService, clock: ManualClock) -> None:
    def compare(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return [d for d in compare_metadata(context, all_tables()) if "med_api_keys" in repr(d)]

    async with engine.connect() as conn:
        assert await conn.run_sync(compare) == []

    def row(key_id: str, revoked: bool) -> ApiKey:
        return ApiKey(id=key_id, name="same", scopes=["rooms"], key_hash=f"sha256:{key_id * 4}",
                      created_at=clock.now(), revoked_at=clock.now() if revoked else None)

    # The database itself keeps live names distinct: a race past the service's check ends there.
    async with keys.db.begin() as s:
        s.add_all([row("a" * 16, True), row("b" * 16, True), row("c" * 16, False)])
    with pytest.raises(IntegrityError):
        async with keys.db.begin() as s:
            s.add(row("d" * 16, False))


async def test_migration_downgrades_and_upgrades(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'steps.sqlite3'}")
    try:
        await upgrade_engine(engine)
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0007-1"))
            assert "med_api_keys" not in await conn.run_sync(lambda c: inspect(c).get_table_names())
        await upgrade_engine(engine)
        async with engine.connect() as conn:
            assert (await conn.execute(select(ApiKey.id))).all() == []
    finally:
        await engine.dispose()
