"""The adapter that lets step 4 open real rooms: the room exists in the room store and each link
carries a join token the room server accepts for that room, role, side and name."""

from __future__ import annotations

from pathlib import Path

from signaling.api.cases import RoomServiceScheduler
from signaling.database import create_schema, make_engine
from signaling.room_store import RoomOwner, RoomStore
from signaling.room_store import metadata as room_metadata
from signaling.tokens import TokenIssuer


async def test_rooms_and_links_are_real(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'rooms.sqlite3'}")
    await create_schema(engine, [room_metadata])
    store, tokens = RoomStore(engine), TokenIssuer(b"k" * 32, 3600)
    scheduler = RoomServiceScheduler(store, tokens, "https://accord.example/")
    try:
        room_id = await scheduler.create_room("CASE-1", "a_mediator", "Jinjiang People's Mediation Committee")
        record = await store.get(room_id)
        assert record is not None and record.case_id == "CASE-1"
        assert record.owner == RoomOwner("CASE-1", "a_mediator", "Jinjiang People's Mediation Committee")
        url = await scheduler.invite(room_id, "party", "respondent", "Bob")
        prefix = "https://accord.example/join#"
        assert url.startswith(prefix)
        claims = tokens.verify(url[len(prefix):], room=room_id)
        assert (claims.role, claims.side, claims.name) == ("party", "respondent", "Bob")
    finally:
        await engine.dispose()
