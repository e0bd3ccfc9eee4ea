"""Fixtures: a migrated database (SQLite file, and PostgreSQL in a schema of its own), the
services over it with a manual clock, an in-memory SMS outbox and a recording room scheduler."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import secrets
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import asyncpg
import pytest
from aiohttp import DummyCookieJar, web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from mediation.api_keys import ApiKeyService
from mediation.clock import ManualClock
from mediation.schema import all_tables
from mediation.schema import upgrade_engine
from mediation.services import MediationServices, build_services
from signaling.api.accounts import make_session_resolver
from recordings.storage import LocalRecordingStorage
from recordings.store import RecordingStore
from signaling.api.recordings import install_access as install_recording_access
from signaling.api.cases import setup_cases
from signaling.api import case_package as _case_package, drafts as _drafts, video_sessions as _video_sessions  # noqa: F401  (register endpoints)
from signaling.auth import SCOPES, make_auth_middleware
from signaling.config import Settings
from signaling.database import make_engine
from signaling.errors import error_middleware
from signaling.openapi import ApiRegistry
from signaling.openapi import api as registry
from signing.pki import PlatformPKI
from signing.ruling import CourtRulingSigner
from signing.seals import SealRegistry
from signing.tsa import InProcessTimeStamper, TimeStampAuthority

from .api_client import Api
from .doubles import START, MemorySms, RecordingEvents, RecordingRooms

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
MEDIATION_TAGS = ("accounts", "cases", "court")


def _in_thread(coro_fn: Any) -> Any:
    """Run a coroutine on its own loop: session fixtures are built while a test loop is running."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro_fn()).result()


def api_key_store(services: MediationServices) -> ApiKeyService:
    """API keys over the test database, on the services' manual clock."""
    return ApiKeyService(services.db, services.cases.clock, secrets.token_bytes(32), SCOPES)


def scopes_for(tags: tuple[str, ...]) -> set[str]:
    """What an integrating system needs to call every endpoint of ``tags`` open to API keys."""
    return {ep.scope for ep in registry.endpoints if ep.tag in tags and ep.scope is not None}


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    schema = f"med_test_{os.getpid()}_{secrets.token_hex(3)}"

    async def create() -> None:
        conn = await asyncpg.connect(PG_DSN)
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        await conn.close()
        engine = create_async_engine(PG_URL, connect_args={"server_settings": {"search_path": schema}})
        await upgrade_engine(engine)
        await engine.dispose()

    async def drop() -> None:
        conn = await asyncpg.connect(PG_DSN)
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()

    _in_thread(create)
    yield schema
    _in_thread(drop)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        eng = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'accord.sqlite3'}")
        await upgrade_engine(eng)
    else:
        schema = request.getfixturevalue("pg_schema")
        eng = create_async_engine(PG_URL, connect_args={"server_settings": {"search_path": schema}})
        async with eng.begin() as conn:
            names = ", ".join(f'"{t.name}"' for t in all_tables().sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    yield eng
    await eng.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def sms() -> MemorySms:
    return MemorySms()


@pytest.fixture
def rooms() -> RecordingRooms:
    return RecordingRooms()


@pytest.fixture
def events() -> RecordingEvents:
    return RecordingEvents()


@pytest.fixture(scope="session")
def court_pki(tmp_path_factory: pytest.TempPathFactory) -> PlatformPKI:
    """A development PKI whose court certificates sign the rulings (one per test session)."""
    return PlatformPKI.init(tmp_path_factory.mktemp("court-pki") / "pki", "test-passphrase", "http://accord.test",
                            "Accord Test")


@pytest.fixture
def services(engine: AsyncEngine, tmp_path: Path, clock: ManualClock, sms: MemorySms, rooms: RecordingRooms,
             events: RecordingEvents, court_pki: PlatformPKI) -> MediationServices:
    signer = CourtRulingSigner(SealRegistry(court_pki), InProcessTimeStamper(TimeStampAuthority(court_pki)))
    built = build_services(engine, data_dir=tmp_path / "data", pii_key=secrets.token_bytes(32),
                           code_key=secrets.token_bytes(32), clock=clock, sms=sms, rooms=rooms,
                           max_upload_bytes=1024 * 1024, sign_ruling=signer)
    built.events.subscribe(events)
    return built


@pytest.fixture
async def api(services: MediationServices, engine: AsyncEngine, tmp_path: Path, sms: MemorySms) -> AsyncIterator[Api]:
    """The HTTP API (accounts, cases, court endpoints) over the services, with an API key for the
    integrating systems (signing service, court case system) and a bootstrapped platform administrator."""
    settings = Settings(data_dir=tmp_path / "data")
    keys = api_key_store(services)
    app = web.Application(middlewares=[error_middleware,
                                       make_auth_middleware(keys, make_session_resolver(services.accounts))])
    setup_cases(app, settings, engine, services, scan_interval=None)
    install_recording_access(app, settings, services, RecordingStore(services.db, services.cases.clock),
                             LocalRecordingStorage(settings.data_dir / "recordings"))
    ApiRegistry([ep for ep in registry.endpoints if ep.tag in MEDIATION_TAGS]).install(app)
    client = TestClient(TestServer(app), cookie_jar=DummyCookieJar())  # each call names its caller
    await client.start_server()
    await services.accounts.bootstrap_admin("root", "Platform Admin", "correct horse battery")
    try:
        yield Api(client, services, sms, (await keys.create("court-system", scopes_for(MEDIATION_TAGS))).key)
    finally:
        await client.close()
