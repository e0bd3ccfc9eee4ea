"""The Alembic migrations build exactly the tables the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from mediation.schema import VERSION_TABLE, all_tables, upgrade
from signaling.database import make_engine


async def test_migrated_tables_match_models(engine: AsyncEngine) -> None:
    metadata = all_tables()
    async with engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        columns = await conn.run_sync(lambda c: {t: {col["name"] for col in inspect(c).get_columns(t)}
                                                  for t in metadata.tables})
    assert set(metadata.tables) | {VERSION_TABLE} == tables
    for name, table in metadata.tables.items():
        assert columns[name] == {c.name for c in table.columns}, name


async def test_upgrade_by_url_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}"
    await upgrade(url)
    await upgrade(url)
    engine = make_engine(url)
    async with engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    await engine.dispose()
    assert "med_cases" in tables and VERSION_TABLE in tables
