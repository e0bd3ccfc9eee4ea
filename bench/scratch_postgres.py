"""A PostgreSQL schema of its own for one bench run, in the test database the suite uses
(127.0.0.1:5432, trust, database ``test``), dropped afterwards."""
from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@asynccontextmanager
async def scratch_schema(prefix: str) -> AsyncIterator[AsyncEngine]:
    """An engine whose search path is a new schema ``<prefix>_<random>``; the schema is dropped on exit."""
    schema = f"{prefix}_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(PG_DSN)
    await conn.execute(f'CREATE SCHEMA "{schema}"')
    engine = create_async_engine(PG_URL, connect_args={"server_settings": {"search_path": schema}})
    try:
        yield engine
    finally:
        await engine.dispose()
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()
