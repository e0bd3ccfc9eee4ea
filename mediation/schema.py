"""Create and evolve the case system's tables with Alembic, from code.

The migrations keep their own version table (``mediation_alembic_version``) so other packages'
migrations can share the database.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "mediation_alembic_version"


def all_tables() -> MetaData:
    """The package's metadata with every ``*models`` module imported, so each table is registered."""
    package = Path(__file__).parent
    for module in pkgutil.iter_modules([str(package)]):
        if module.name.endswith("models"):
            importlib.import_module(f"{__package__}.{module.name}")
    from .models import metadata

    return metadata


def alembic_config(connection: Connection | None = None, url: str | None = None, *,
                   pii_key: bytes | None = None) -> Config:
    """``pii_key``: for migrations that encrypt data already stored (0015, agreement ID numbers)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url)
    if connection is not None:
        cfg.attributes["connection"] = connection
    if pii_key is not None:
        cfg.attributes["pii_key"] = pii_key
    return cfg


async def upgrade_engine(engine: AsyncEngine, revision: str = "head", *, pii_key: bytes | None = None) -> None:
    """Bring the database behind ``engine`` (with its connect arguments, e.g. a search_path) up to
    ``revision``; a database holding agreements needs ``pii_key`` to encrypt their ID numbers."""
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync_conn: command.upgrade(alembic_config(sync_conn, pii_key=pii_key), revision))


async def upgrade(database_url: str, revision: str = "head") -> None:
    """``alembic upgrade head`` for a database URL (SQLite via aiosqlite or PostgreSQL via asyncpg)."""
    engine = create_async_engine(database_url)
    try:
        await upgrade_engine(engine, revision)
    finally:
        await engine.dispose()
