"""Media through a real server with aiortc participants: everyone receives everyone, the caucus
and server mute stop forwarding, a rejoin restores media, and nothing is transcoded."""

from __future__ import annotations

import asyncio

import pytest

from signaling.api.rooms import HUB_KEY
from tests.support.aiortc_participant import Participant

pytestmark = pytest.mark.timeout(120)


async def start_room(server, n_parties: int = 2):
    room = await server.create_room()
    people = [await server.invite(room, "mediator", "调解员")]
    people.append(await server.invite(room, "party", "申请人", "applicant"))
    if n_parties > 1:
        people.append(await server.invite(room, "party", "被申请人", "respondent"))
    parts = [Participant(server.url, p["token"]) for p in people]
    for p in parts:
        await p.join()
    await parts[0].sio.call("mod:admit", {"all": True})
    for p in parts:
        await p.wait_admitted()
        await p.start_media()
    return room, parts


async def wait_all_receiving(parts, timeout: float = 15) -> None:
    seats = [p.seat for p in parts]

    def complete() -> bool:
        return all(p.frames[(s, k)] > 3 for p in parts for s in seats if s != p.seat for k in ("audio", "video"))

    await parts[0].until(complete, timeout)


async def test_everyone_receives_everyone_without_transcoding(server):
    room, parts = await start_room(server)
    try:
        await wait_all_receiving(parts)
        # Media keeps flowing after the start (a 3 s window: on a loaded 2-core machine one stall of
        # a second or so between keyframe requests has been seen once).
        window = await parts[1].snapshot(3)
        assert window[(parts[0].seat, "video")] > 5 and window[(parts[2].seat, "audio")] > 20
        stats = server.app[HUB_KEY].rooms[room].router.stats()
        assert stats.frames_forwarded > 100
        assert stats.decoders_created == 0 and stats.encoders_created == 0
    finally:
        for p in parts:
            await p.close()


async def test_caucus_and_server_mute_stop_forwarding_and_media_resumes(server):
    room, parts = await start_room(server)
    mediator, applicant, respondent = parts
    try:
        await wait_all_receiving(parts)
        assert (await mediator.sio.call("caucus:start", {"side": "applicant"}))["ok"]
        await asyncio.sleep(0.5)
        during = await respondent.snapshot(2.0)
        assert during[(mediator.seat, "video")] == 0 and during[(applicant.seat, "audio")] == 0
        inside = await applicant.snapshot(1.0)
        assert inside[(mediator.seat, "video")] > 0
        outside = await mediator.snapshot(1.0)
        assert outside[(respondent.seat, "video")] == 0
        assert (await mediator.sio.call("caucus:end", {}))["ok"]
        await asyncio.sleep(1.0)
        after = await respondent.snapshot(1.5)
        assert after[(mediator.seat, "video")] > 0 and after[(applicant.seat, "audio")] > 0

        assert (await mediator.sio.call("mod:mute", {"seat": respondent.seat, "kind": "audio", "muted": True}))["ok"]
        await asyncio.sleep(0.5)
        muted = await applicant.snapshot(1.5)
        assert muted[(respondent.seat, "audio")] == 0 and muted[(respondent.seat, "video")] > 0
        assert (await mediator.sio.call("mod:mute", {"seat": respondent.seat, "kind": "audio", "muted": False}))["ok"]
        await asyncio.sleep(0.5)
        assert (await applicant.snapshot(1.5))[(respondent.seat, "audio")] > 0
    finally:
        for p in parts:
            await p.close()


async def test_rejoin_with_the_same_token_restores_media(server):
    room, parts = await start_room(server)
    mediator, applicant, respondent = parts
    try:
        await wait_all_receiving(parts)
        await applicant.close()
        back = Participant(server.url, applicant.token)
        parts[1] = back
        ack = await back.join()
        assert ack["you"]["state"] == "admitted" and back.seat == applicant.seat
        await back.start_media()
        await back.until(lambda: back.frames[(mediator.seat, "video")] > 3 and back.frames[(respondent.seat, "audio")] > 3, 15)
        gained = await mediator.snapshot(2.0)
        assert gained[(back.seat, "video")] > 0 and gained[(back.seat, "audio")] > 0
    finally:
        for p in parts:
            await p.close()
