"""The adapter that lets step 4 open real rooms: the room exists in the room store and each link
carries a join token the room server accepts, for the participant's own, stable seat."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediation.errors import Forbidden
from mediation.rooms import CaseSeat
from signaling.api.cases import RoomServiceScheduler
from signaling.database import create_schema, make_engine
from signaling.room_store import RoomOwner, RoomStore
from signaling.room_store import metadata as room_metadata
from signaling.tokens import TokenIssuer

BOB = CaseSeat("party", "respondent", "Bob", "respondent_party", "a_bob", "7")
BOBS_AGENT = CaseSeat("agent", "respondent", "Carol", "respondent_agent", "a_carol", "7")
GUEST = CaseSeat("party", "applicant", "Alice", "applicant_party", None, "6")
BOB_BY_LINK = CaseSeat("party", "respondent", "Bob", "respondent_party", None, "7")  # the mediator's link for Bob


async def test_rooms_and_links_are_real(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'rooms.sqlite3'}")
    await create_schema(engine, [room_metadata])
    store, tokens = RoomStore(engine), TokenIssuer(b"k" * 32, 3600)
    scheduler = RoomServiceScheduler(store, tokens, "https://accord.example/")
    try:
        room_id = await scheduler.create_room("CASE-1", "a_mediator", "Jinjiang People's Mediation Committee")
        record = await store.get(room_id)
        assert record is not None and record.case_id == "CASE-1" and record.case_bound
        assert record.owner == RoomOwner("CASE-1", "a_mediator", "Jinjiang People's Mediation Committee")
        invitation = await scheduler.invite(room_id, BOB)
        prefix = "https://accord.example/join#"
        assert invitation.url == prefix + invitation.token
        claims = tokens.verify(invitation.token, room=room_id)
        assert (claims.role, claims.side, claims.name, claims.account_id, claims.case_role, claims.participant) == (
            "party", "respondent", "Bob", "a_bob", "respondent_party", "7")
        assert claims.seat == invitation.seat

        # One person, one seat: asking again, or coming by the mediator's link, gives the same seat;
        # the agent and the other party have their own.
        assert (await scheduler.invite(room_id, BOB)).seat == invitation.seat
        assert (await scheduler.invite(room_id, BOB_BY_LINK)).seat == invitation.seat
        seats = {invitation.seat, (await scheduler.invite(room_id, BOBS_AGENT)).seat,
                 (await scheduler.invite(room_id, GUEST)).seat}
        assert len(seats) == 3
        guest = tokens.verify((await scheduler.invite(room_id, GUEST)).token)
        assert (guest.account_id, guest.participant) == (None, "6")
        other_room = await scheduler.create_room("CASE-2", "a_mediator", None)
        assert (await scheduler.invite(other_room, BOB)).seat not in seats

        # Removed means removed: neither the seat nor the account gets a new invitation, by any way in.
        await store.record_removal(room_id, invitation.seat, "a_bob", "removed")
        for again in (BOB, BOB_BY_LINK):
            with pytest.raises(Forbidden) as refused:
                await scheduler.invite(room_id, again)
            assert refused.value.code == "removed_from_room"
        assert await store.is_removed(room_id, "s_any_other_seat", "a_bob")
        assert not await store.is_removed(other_room, invitation.seat, "a_bob")
        assert (await scheduler.invite(room_id, BOBS_AGENT)).seat in seats
    finally:
        await engine.dispose()
