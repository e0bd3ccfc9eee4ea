"""The recording tables through ``RecordingStore``: sessions belong to a case and are audited on
it, consents per seat, tracks continue across reconnects, segments extend the chain atomically."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from mediation.audit import read_trail, verify_chain
from mediation.errors import NotFound, WrongState
from mediation.schema import VERSION_TABLE, all_tables
from mediation.services import MediationServices
from recordings import chain
from recordings.store import CONSENTED, FINISHED, REFUSED, ClosedSegment, Participant, RecordingStore
from tests.mediation.doubles import MemorySms
from tests.mediation.helpers import case_in_counselling


def _segment(index: int, start_us: int) -> ClosedSegment:
    return ClosedSegment(index=index, sha256=f"{index:02x}" * 32, size=1000 + index, start_us=start_us,
                         end_us=start_us + 4_000_000, frames=120, path=f"x/{index}.webm")


async def test_migration_matches_the_recording_models(engine: AsyncEngine) -> None:
    def compare(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return [d for d in compare_metadata(context, all_tables()) if "recording" in repr(d)]

    async with engine.connect() as conn:
        assert await conn.run_sync(compare) == []


async def test_a_session_records_consents_tracks_and_a_chain(services: MediationServices, sms: MemorySms,
                                                             store: RecordingStore) -> None:
    case_id, alice, bob = await case_in_counselling(services, sms)
    session = await store.start_session(case_id, "room1", {"joint": True, "caucus": False}, started_by=alice.id)
    with pytest.raises(WrongState):
        await store.start_session(case_id, "room1", {})
    seat_a = Participant("s_alice", "party", "applicant_party", "Alice", alice.id)
    seat_b = Participant("s_bob", "party", "respondent_party", "Bob", bob.id)
    await store.record_consent(session.id, seat_a, CONSENTED)
    await store.record_consent(session.id, seat_b, CONSENTED)
    await store.record_consent(session.id, seat_b, REFUSED)  # a later answer replaces the earlier one
    assert [(c.participant.seat, c.answer) for c in await store.consents(session.id)] == [
        ("s_alice", CONSENTED), ("s_bob", REFUSED)]

    video = await store.add_track(session.id, seat_a, "video", "vp8")
    audio = await store.add_track(session.id, seat_a, "audio", "opus")
    assert (await store.add_track(session.id, seat_a, "video", "vp8")).id == video.id  # reconnect: same track
    links = [(await store.add_segment(track.id, _segment(i, i * 4_000_000)))[1]
             for i in range(3) for track in (video, audio)]
    assert [entry.position for entry in links] == list(range(1, 7))
    assert await store.chain(session.id) == links
    assert chain.check(links) == []
    assert await store.chain_head(session.id) == (6, links[-1].chain_hash)
    tracks = {t.kind: t for t in await store.tracks(session.id)}
    assert (tracks["video"].first_us, tracks["video"].last_us) == (0, 12_000_000)
    assert len(await store.segments(session.id)) == 6

    ended = await store.finish(session.id, state=FINISHED, end_us=12_000_000, note="stopped")
    assert ended.state == FINISHED and ended.notes == ["stopped"]
    with pytest.raises(WrongState):
        await store.finish(session.id, state=FINISHED, end_us=1, note="again")
    await store.set_manifest(session.id, "ab" * 32)
    actions = [e.action for e in await read_trail(services.db, case_id)]
    assert actions[-6:] == ["recording.started", "recording.consented", "recording.consented", "recording.refused",
                            "recording.finished", "recording.manifest"]
    assert (await verify_chain(services.db, case_id)).ok
    assert [s.id for s in await store.sessions_of_case(case_id)] == [session.id]


async def test_concurrent_segments_keep_one_unbroken_chain(services: MediationServices, sms: MemorySms,
                                                           store: RecordingStore) -> None:
    case_id, alice, _ = await case_in_counselling(services, sms)
    session = await store.start_session(case_id, "room2", {})
    seat = Participant("s", "party", "applicant_party", "Alice", alice.id)
    tracks = [await store.add_track(session.id, seat, kind, codec) for kind, codec in (("audio", "opus"),
                                                                                       ("video", "vp8"))]
    await asyncio.gather(*(store.add_segment(t.id, _segment(i, i)) for i in range(5) for t in tracks))
    links = await store.chain(session.id)
    assert len(links) == 10 and chain.check(links) == []


async def test_chain_check_names_what_is_wrong() -> None:
    links, prev = [], chain.GENESIS
    for i in range(3):
        digest = chain.link(prev, f"{i:02x}" * 32, "trk", i)
        links.append(chain.ChainLink(i + 1, "trk", i, f"{i:02x}" * 32, prev, digest))
        prev = digest
    altered = [links[0], chain.ChainLink(2, "trk", 1, "ff" * 32, links[1].prev_hash, links[1].chain_hash), links[2]]
    assert [(p.position, "does not match" in p.reason) for p in chain.check(altered)] == [(2, True)]
    assert [p.position for p in chain.check([links[0], links[2]])] == [2, 3]


async def test_unknown_ids_are_not_found(store: RecordingStore) -> None:
    with pytest.raises(NotFound):
        await store.session("rec_nope")
    with pytest.raises(NotFound):
        await store.add_segment("trk_nope", _segment(0, 0))
