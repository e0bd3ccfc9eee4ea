"""The room's chat is kept (a reload shows it again, a caucus's words only to that side and the
mediator, the waiting side cannot chat), and the mediator's actions reach the server log and,
in a case's room, the case's audit trail — against a real server over Socket.IO."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from mediation.audit import verify_chain

from .conftest import Client, RunningServer
from .test_case_seats import Node, _call, _case_at_video_step, _invitation, node  # noqa: F401 - the fixture


async def _joined(clients: Any, server: RunningServer, room_id: str, role: str, name: str,
                  side: str | None = None) -> tuple[Client, dict[str, Any]]:
    invite = await server.invite(room_id, role, name, side)
    client = await clients()
    assert (await client.call("join", {"token": invite["token"]}))["ok"]
    return client, invite


def _texts(history: dict[str, Any]) -> list[str]:
    return [m["text"] for m in history["messages"]]


async def test_chat_survives_a_reload_and_keeps_the_caucus_private(server: RunningServer, clients: Any) -> None:
    room_id = await server.create_room("CHAT-1")
    mediator, _ = await _joined(clients, server, room_id, "mediator", "调解员")
    applicant, a_invite = await _joined(clients, server, room_id, "party", "张三", "applicant")
    respondent, r_invite = await _joined(clients, server, room_id, "party", "李四", "respondent")
    observer, o_invite = await _joined(clients, server, room_id, "observer", "旁听")
    assert (await mediator.call("mod:admit", {"all": True}))["ok"]
    # Admitted: each gets the (still empty) history at once.
    assert _texts(await applicant.wait_for("chat:history")) == []
    assert (await mediator.call("mod:permit", {"seat": o_invite["seat"], "publish": True}))["ok"]

    assert (await applicant.call("chat:send", {"text": "大家好"}))["ok"]
    assert (await mediator.call("caucus:start", {"side": "applicant"}))["ok"]
    assert (await applicant.call("chat:send", {"text": "只对调解员说"}))["ok"]
    refused = await respondent.call("chat:send", {"text": "我也想说"})
    assert refused["ok"] is False and refused["error"]["code"] == "caucus_waiting"
    assert (await mediator.call("caucus:end", {}))["ok"]
    assert (await respondent.call("chat:send", {"text": "回到联合调解"}))["ok"]

    async def reload(invite: dict[str, Any]) -> list[str]:
        again = await clients()
        assert (await again.call("join", {"token": invite["token"]}))["ok"]  # replaces the old socket
        return _texts(await again.wait_for("chat:history"))

    assert await reload(a_invite) == ["大家好", "只对调解员说", "回到联合调解"]
    assert await reload(r_invite) == ["大家好", "回到联合调解"]  # the other side's caucus stays private
    assert await reload(o_invite) == ["大家好", "回到联合调解"]  # an observer has no side
    messages = (await (await _rejoin_mediator(clients, server, room_id)).wait_for("chat:history"))["messages"]
    assert [(m["text"], m["scope"]) for m in messages] == [
        ("大家好", "room"), ("只对调解员说", "caucus"), ("回到联合调解", "room")]


async def _rejoin_mediator(clients: Any, server: RunningServer, room_id: str) -> Client:
    """A second mediator seat: sees the whole history, caucuses included."""
    client, _ = await _joined(clients, server, room_id, "mediator", "第二调解员")
    return client


async def test_mediator_actions_reach_the_log_and_the_case_audit_trail(node: Node, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    cast = await _case_at_video_step(node)
    people, cid = cast.people, cast.case_id
    mediator = await _invitation(node, people["mediator"], cid)
    alice = await _invitation(node, people["alice"], cid)
    bob = await _invitation(node, people["bob"], cid)
    m, a, b = await node.client(), await node.client(), await node.client()
    for client, invitation in ((m, mediator), (a, alice), (b, bob)):
        assert (await client.call("join", {"token": invitation["token"]}))["ok"]
    caplog.set_level(logging.INFO, logger="signaling.room_events")
    assert (await m.call("mod:admit", {"all": True}))["ok"]
    assert (await m.call("mod:mute", {"seat": alice["seat"], "kind": "video", "muted": True}))["ok"]
    assert (await m.call("caucus:start", {"side": "respondent"}))["ok"]
    assert (await m.call("caucus:end", {}))["ok"]
    assert (await m.call("mod:remove", {"seat": bob["seat"]}))["ok"]
    assert (await m.call("mod:end", {}))["ok"]

    status, trail = await _call(node, people["mediator"], "GET", f"/api/cases/{cid}/timeline")
    assert status == 200
    room = [e for e in trail if e["action"].startswith("room.")]
    assert [e["action"] for e in room] == ["room.admit", "room.mute", "room.caucus_start", "room.caucus_end",
                                           "room.remove", "room.end"]
    assert room[1]["payload"] | {"room": None} == {"room": None, "seat": alice["seat"], "kind": "video"}
    assert room[2]["payload"]["side"] == "respondent" and room[4]["payload"]["seat"] == bob["seat"]
    assert sorted(room[0]["payload"]["seats"]) == sorted([alice["seat"], bob["seat"]])
    assert (await verify_chain(node.services.db, cid)).ok
    logged = [r for r in caplog.records if r.getMessage() == "moderation"]
    assert [r.action for r in logged] == ["admit", "mute", "caucus_start", "caucus_end", "remove", "end"]  # type: ignore[attr-defined]
    assert all(r.case == cid for r in logged)  # type: ignore[attr-defined]
