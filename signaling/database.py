"""The process's database engine and the schema of every package that persists something.

Each package keeps its own SQLAlchemy ``MetaData``; the app registers them here so one engine
(SQLite by default, PostgreSQL by URL) serves all and ``create_all`` builds a fresh database.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

#: How long a SQLite connection waits for another connection's (or process's) write lock.
SQLITE_BUSY_TIMEOUT_S = 30


def make_engine(url: str) -> AsyncEngine:
    """Create the engine; SQLite gets WAL, foreign keys and row locks that lock (see
    :func:`_sqlite_lock_for_update`), so it behaves like a real database."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        event.listen(engine.sync_engine, "before_cursor_execute", _sqlite_lock_for_update)
        return engine
    return create_async_engine(url, pool_pre_ping=True)


def _sqlite_lock_for_update(conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any,
                            executemany: bool) -> None:
    """Make ``SELECT … FOR UPDATE`` lock on SQLite, which has no row locks and drops the clause.

    Every change to a case (and to an agreement) reads its row ``with_for_update()`` and writes
    the audit chain's next link from what it read. The SQLite driver starts a transaction only at
    the first write, so without this two writers — two requests, or the server's deadline scan and
    ``accord demo load`` in another process — could read the same head and one link would be lost
    or refused. Here such a read first takes SQLite's write lock (``BEGIN IMMEDIATE``, waiting up
    to the busy timeout), so the read and the writes after it are one serialised transaction, as
    the row lock makes them on PostgreSQL."""
    compiled = getattr(context, "compiled", None)
    if getattr(getattr(compiled, "statement", None), "_for_update_arg", None) is None:
        return
    raw = conn.connection.dbapi_connection
    sqlite_conn = getattr(raw, "_connection", raw)  # aiosqlite's adapter keeps the connection here
    if not sqlite_conn.in_transaction:
        cursor.execute("BEGIN IMMEDIATE")


async def create_schema(engine: AsyncEngine, metadatas: list[MetaData]) -> None:
    async with engine.begin() as conn:
        for md in metadatas:
            await conn.run_sync(md.create_all)
