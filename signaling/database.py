"""The process's database engine and the schema of every package that persists something.

Each package keeps its own SQLAlchemy ``MetaData``; the app registers them here so one engine
(SQLite by default, PostgreSQL by URL) serves all and ``create_all`` builds a fresh database.
"""

from __future__ import annotations

from sqlalchemy import MetaData, event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def make_engine(url: str) -> AsyncEngine:
    """Create the engine; SQLite gets WAL and foreign keys so it behaves like a real database."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True)


async def create_schema(engine: AsyncEngine, metadatas: list[MetaData]) -> None:
    async with engine.begin() as conn:
        for md in metadatas:
            await conn.run_sync(md.create_all)
