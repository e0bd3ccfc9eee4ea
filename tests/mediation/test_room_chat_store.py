"""The room's kept chat on SQLite and PostgreSQL: bounded per room (oldest first out), other rooms
untouched, and a caucus's messages only for the mediator and the side it was held with."""

from __future__ import annotations

from typing import Any, AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from signaling import room_store
from signaling.database import create_schema
from signaling.room_store import RoomOwner, RoomStore


def _message(prefix: str, n: int) -> dict[str, Any]:
    return {"id": f"m_{prefix}{n}", "seat": "s_1", "name": "张三", "role": "party", "text": f"{prefix}{n}", "ts": 1.0 + n}


@pytest.fixture
async def room_tables(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The room tables beside the case tables, dropped afterwards: the PostgreSQL schema is shared
    by the session's tests, and the case schema's own test expects only the migrated tables."""
    await create_schema(engine, [room_store.metadata])
    yield engine
    async with engine.begin() as conn:
        await conn.run_sync(room_store.metadata.drop_all)


async def test_the_kept_chat_is_bounded_per_room_and_filtered_by_caucus(
        room_tables: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = room_tables
    store = RoomStore(engine)
    monkeypatch.setattr(room_store, "CHAT_KEPT", 5)
    owner = RoomOwner(None, "tests", None)
    busy, quiet = await store.create("B-1", "", owner), await store.create("Q-1", "", owner)
    await store.add_chat(quiet.room_id, _message(quiet.room_id, 0), None)
    for n in range(12):  # odd ones said in a caucus with the applicant
        await store.add_chat(busy.room_id, _message(busy.room_id, n), "applicant" if n % 2 else None)

    def texts(history: list[dict[str, Any]]) -> list[str]:
        return [m["text"].removeprefix(busy.room_id) for m in history]

    kept = await store.chat_history(busy.room_id, mediator=True, side=None)
    assert texts(kept) == ["7", "8", "9", "10", "11"]  # the newest five, oldest first
    assert [m["scope"] for m in kept] == ["caucus", "room", "caucus", "room", "caucus"]
    assert texts(await store.chat_history(busy.room_id, mediator=False, side="applicant")) == ["7", "8", "9", "10", "11"]
    assert texts(await store.chat_history(busy.room_id, mediator=False, side="respondent")) == ["8", "10"]
    assert texts(await store.chat_history(busy.room_id, mediator=False, side=None)) == ["8", "10"]  # an observer
    assert len(await store.chat_history(quiet.room_id, mediator=False, side=None)) == 1  # not trimmed by the other
