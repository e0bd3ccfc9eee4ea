"""Room broadcasts against a real server: one emit per group however many people are in it, and
a caucus keeps its members' media switches from the waiting side, and an empty room leaves memory."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from signaling.api.rooms import HUB_KEY

from .conftest import RunningServer

PARTIES = 8


async def _room(server: RunningServer, clients: Any) -> tuple[Any, list[Any], list[dict]]:
    room = await server.create_room()
    mediator = await clients()
    assert (await mediator.call("join", {"token": (await server.invite(room, "mediator", "调解员"))["token"]}))["ok"]
    people, invites = [], []
    for i in range(PARTIES):
        invite = await server.invite(room, "party", f"当事人{i}", "applicant" if i % 2 == 0 else "respondent")
        client = await clients()
        assert (await client.call("join", {"token": invite["token"]}))["ok"]
        people.append(client)
        invites.append(invite)
    assert len((await mediator.call("mod:admit", {"all": True}))["admitted"]) == PARTIES
    for client in people:
        await client.wait_for("room:state", lambda s: s["you"] and s["you"]["state"] == "admitted")
    return mediator, people, invites


def _count_emits(server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    sio = server.app[HUB_KEY].sio
    calls: list[tuple[str, Any]] = []
    emit = sio.emit

    async def counting(event: str, data: Any = None, **kwargs: Any) -> None:
        calls.append((event, kwargs.get("to")))
        await emit(event, data, **kwargs)

    monkeypatch.setattr(sio, "emit", counting)
    return calls


async def test_a_state_change_is_one_emit_per_group(server: RunningServer, clients: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    mediator, people, invites = await _room(server, clients)
    calls = _count_emits(server, monkeypatch)
    assert (await people[0].call("media:state", {"audio": True, "video": False}))["ok"]
    for client in [mediator, *people]:
        state = await client.wait_for("room:state", lambda s: any(p["seat"] == invites[0]["seat"] and p["audio"]
                                                                   for p in s["participants"]))
        assert state["you"]["seat"] == client.seat
    states = [to for event, to in calls if event == "room:state"]
    assert len(states) == 2, states  # the mediator's own view, and one for the joint room (was 1 + PARTIES)
    calls.clear()
    assert (await people[1].call("chat:send", {"text": "大家好"}))["ok"]
    for client in [mediator, *people]:
        await client.wait_for("chat:message", lambda m: m["text"] == "大家好")
    assert [event for event, _ in calls] == ["chat:message"]


async def test_the_waiting_side_does_not_receive_caucus_media_switches(server: RunningServer, clients: Any) -> None:
    mediator, people, invites = await _room(server, clients)
    applicant, respondent = people[0], people[1]
    assert (await mediator.call("caucus:start", {"side": "applicant"}))["ok"]
    await respondent.wait_for("room:state", lambda s: s["caucus"] is not None)
    assert (await applicant.call("media:state", {"audio": True, "video": True}))["ok"]
    await mediator.wait_for("room:state", lambda s: any(p["seat"] == invites[0]["seat"] and p["video"]
                                                         for p in s["participants"]))
    assert (await mediator.call("caucus:end", {}))["ok"]
    await respondent.wait_for("room:state", lambda s: s["caucus"] is None)
    during = [s for e, s in respondent.received if e == "room:state" and s["caucus"] is not None]
    assert during and not any(p["audio"] or p["video"] for s in during for p in s["participants"]
                              if p["seat"] == invites[0]["seat"])
    after = respondent.last("room:state")
    assert next(p for p in after["participants"] if p["seat"] == invites[0]["seat"])["video"] is True


async def test_an_empty_room_leaves_memory_after_the_grace_period(server: RunningServer, clients: Any) -> None:
    hub = server.app[HUB_KEY]
    room = await server.create_room()
    invite = await server.invite(room, "mediator", "调解员")
    first = await clients()
    assert (await first.call("join", {"token": invite["token"]}))["ok"]
    assert (await first.call("leave", {}))["ok"]
    assert room in hub.rooms
    grace = server.app[HUB_KEY].settings.reconnect_grace_seconds
    deadline = asyncio.get_running_loop().time() + 3 * grace + 2
    while room in hub.rooms and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.2)
    assert room not in hub.rooms
    again = await clients()
    assert (await again.call("join", {"token": invite["token"]}))["you"]["state"] == "admitted"
    assert room in hub.rooms
