"""Recording in a case's room (issue 10, policy and consent), against a real server: the case's
mediator sets the policy; only the room's mediator starts and stops; everyone is told and sees the
indicator; each participant answers only for themselves, and only those who said yes may be
written; a caucus is not written unless the policy says so; every step is in the audit trail."""

from __future__ import annotations

import asyncio
from typing import Any

from recordings.store import RecordingStore
from signaling.api.rooms import HUB_KEY
from signaling.auth import API_KEYS_KEY
from signaling.recording_events import RoomRecording

from .conftest import Client
from .test_case_seats import Cast, Node, _case_at_video_step, _invitation, node  # noqa: F401  (fixture)
from .test_rooms_ownership import Caller, _call


async def _policy(node: Node, who: Caller, case_id: str, mode: str | None = None, expect: int = 200) -> Any:
    if mode is None:
        status, body = await _call(node, who, "GET", f"/api/cases/{case_id}/recording-policy")
    else:
        status, body = await _call(node, who, "PUT", f"/api/cases/{case_id}/recording-policy", {"mode": mode})
    assert status == expect, (who.name, body)
    return body


async def _trail(node: Node, who: Caller, case_id: str, prefix: str = "recording.") -> list[dict[str, Any]]:
    status, trail = await _call(node, who, "GET", f"/api/cases/{case_id}/timeline")
    assert status == 200
    return [e for e in trail if e["action"].startswith(prefix)]


def _store(node: Node) -> RecordingStore:
    return RecordingStore(node.services.db, node.services.cases.clock)


async def _settled_trail(node: Node, who: Caller, case_id: str) -> list[dict[str, Any]]:
    """The case's recording entries once every session of the case is closed (its manifest written; a
    composite writes it again)."""
    for _ in range(100):
        entries = await _trail(node, who, case_id)
        started = sum(e["action"] == "recording.started" for e in entries)
        if started and sum(e["action"] == "recording.manifest" for e in entries) >= started:
            return entries
        await asyncio.sleep(0.1)
    raise AssertionError(f"sessions not closed: {[e['action'] for e in entries]}")


async def _enter(node: Node, cast: Cast, *names: str) -> dict[str, tuple[Client, dict[str, Any]]]:
    """Each named person enters from the case page; the mediator admits everyone."""
    inside: dict[str, tuple[Client, dict[str, Any]]] = {}
    for name in names:
        invitation = await _invitation(node, cast.people[name], cast.case_id)
        client = await node.client()
        assert (await client.call("join", {"token": invitation["token"]}))["ok"]
        inside[name] = (client, invitation)
    mediator = inside["mediator"][0]
    assert (await mediator.call("mod:admit", {"all": True}))["ok"]
    return inside


async def test_the_case_mediator_sets_the_policy(node: Node) -> None:
    cast = await _case_at_video_step(node)
    people, cid = cast.people, cast.case_id
    assert (await _policy(node, people["alice"], cid))["mode"] == "off"  # never chosen
    assert (await _policy(node, people["alice"], cid, "joint", 403))["error"]["code"] == "forbidden"  # role
    for outsider in ("colleague", "carol"):
        assert (await _policy(node, people[outsider], cid, expect=404))["error"]["code"] == "case_not_found"
    refused = await _policy(node, people["colleague"], cid, "joint", 404)
    assert refused["error"]["code"] == "case_not_found"
    assert (await _policy(node, people["mediator"], cid, "sometimes", 422))["error"]["code"] == "invalid_body"
    set_ = await _policy(node, people["mediator"], cid, "joint")
    assert (set_["mode"], set_["set_by"]) == ("joint", people["mediator"].actor.id)
    assert (await _policy(node, people["clerk"], cid))["mode"] == "joint"
    await _policy(node, people["mediator"], cid, "joint_and_caucus")
    entries = await _trail(node, people["mediator"], cid)
    assert [(e["action"], e["payload"]) for e in entries] == [
        ("recording.policy", {"mode": "joint", "previous": "off"}),
        ("recording.policy", {"mode": "joint_and_caucus", "previous": "joint"})]
    status, audit = await _call(node, people["mediator"], "GET", f"/api/cases/{cid}/audit")
    assert status == 200 and audit["ok"]


async def test_start_consent_indicator_and_stop(node: Node) -> None:
    cast = await _case_at_video_step(node)
    people, cid = cast.people, cast.case_id
    inside = await _enter(node, cast, "mediator", "alice", "bob")
    (m, mi), (a, ai), (b, bi) = inside["mediator"], inside["alice"], inside["bob"]
    live = node.app[HUB_KEY].rooms[mi["room_id"]]  # type: ignore[index]

    refused = await m.call("rec:start", {})
    assert refused["error"]["code"] == "recording_off"  # the policy is off until the mediator chose
    await _policy(node, people["mediator"], cid, "joint")
    refused = await a.call("rec:start", {})
    assert refused["ok"] is False and refused["error"]["code"] == "forbidden"  # not the mediator
    assert (await a.call("rec:consent", {"consent": True}))["error"]["code"] == "not_recording"
    assert (await a.call("rec:consent", {"consent": True, "seat": bi["seat"]}))["error"]["code"] == "bad_event"

    started = await m.call("rec:start", {})
    assert started["ok"], started
    session = started["session_id"]
    for client in (m, a, b):  # announced to all, and the indicator is in everyone's snapshot
        assert (await client.wait_for("rec:changed"))["active"] is True
        state = await client.wait_for("room:state", lambda s: s["recording"]["active"])
        assert state["recording"]["session_id"] == session
    # A group's shared snapshot carries nobody's answer; a seat's own view (join, reconnect) its own.
    assert "your_consent" not in a.last("room:state")["recording"]
    assert live.room.snapshot_for(ai["seat"])["recording"]["your_consent"] == "pending"
    assert "consents" not in a.last("room:state")["recording"]  # only the mediator sees everyone's answers
    assert (await m.call("rec:start", {}))["error"]["code"] == "already_recording"
    # Nothing of anyone who has not said yes may be written; the mediator's start is their own yes.
    assert not live.room.may_record(ai["seat"], "audio") and not live.room.may_record(bi["seat"], "video")
    assert live.room.may_record(mi["seat"], "video")

    assert (await a.call("rec:consent", {"consent": True}))["consent"] == "consented"
    assert (await b.call("rec:consent", {"consent": False}))["consent"] == "refused"
    seen = await m.wait_for("room:state", lambda s: {c["consent"] for c in s["recording"].get("consents", [])}
                            == {"consented", "refused"})
    answers = {c["seat"]: c["consent"] for c in seen["recording"]["consents"]}
    assert answers == {mi["seat"]: "consented", ai["seat"]: "consented", bi["seat"]: "refused"}
    assert live.room.may_record(ai["seat"], "audio") and live.room.may_record(ai["seat"], "video")
    assert not live.room.may_record(bi["seat"], "audio") and not live.room.may_record(bi["seat"], "video")

    # Server mute and the caucus stop the writing too (the policy is the joint session only).
    assert (await m.call("mod:mute", {"seat": ai["seat"], "kind": "video", "muted": True}))["ok"]
    assert not live.room.may_record(ai["seat"], "video") and live.room.may_record(ai["seat"], "audio")
    # ... and the recorder follows per kind: Alice's audio is still written, her video is not.
    hub = node.app[HUB_KEY]  # type: ignore[index]
    recording = next(h.__self__ for h in hub.state_hooks if isinstance(getattr(h, "__self__", None), RoomRecording))
    writing = recording.running[live.room.room_id].writing
    for _ in range(100):
        if (ai["seat"], "video") not in writing:
            break
        await asyncio.sleep(0.05)
    assert (ai["seat"], "audio") in writing and (ai["seat"], "video") not in writing
    assert (mi["seat"], "video") in writing
    assert (await m.call("mod:mute", {"seat": ai["seat"], "kind": "video", "muted": False}))["ok"]
    for _ in range(100):
        if (ai["seat"], "video") in writing:
            break
        await asyncio.sleep(0.05)
    assert {(ai["seat"], "audio"), (ai["seat"], "video")} <= writing
    assert (await m.call("caucus:start", {"side": "applicant"}))["ok"]
    assert not live.room.may_record(ai["seat"], "audio") and not live.room.may_record(mi["seat"], "audio")
    assert (await m.call("caucus:end", {}))["ok"]
    assert live.room.may_record(ai["seat"], "audio")

    # Alice changes her mind: her media stops being written at once.
    assert (await a.call("rec:consent", {"consent": False}))["consent"] == "refused"
    assert not live.room.may_record(ai["seat"], "audio")

    assert (await a.call("rec:stop", {}))["error"]["code"] == "forbidden"
    stopped = await m.call("rec:stop", {})
    assert stopped == {"ok": True, "session_id": session}
    for client in (m, a, b):
        await client.wait_for("rec:changed", lambda d: d["active"] is False)
    assert not live.room.may_record(mi["seat"], "audio")
    assert (await m.call("rec:stop", {}))["error"]["code"] == "not_recording"

    # The recorder closes the session in the background: joined tracks, final stamp, manifest.
    entries = await _settled_trail(node, people["mediator"], cid)
    assert [(e["action"], e["payload"].get("seat")) for e in entries] == [
        ("recording.policy", None),
        ("recording.started", None),
        ("recording.consented", mi["seat"]),
        ("recording.consented", ai["seat"]),
        ("recording.refused", bi["seat"]),
        ("recording.refused", ai["seat"]),
        ("recording.stopped", mi["seat"]),
        ("recording.finished", None),
        ("recording.manifest", None)]
    assert {e["actor"] for e in entries if e["action"] in ("recording.consented", "recording.refused")} == {
        people["mediator"].actor.id, people["alice"].actor.id, people["bob"].actor.id}
    assert all(e["payload"].get("session", e["payload"].get("session_id", session)) == session for e in entries[1:])
    consents = {c.participant.seat: c.answer for c in await _store(node).consents(session)}
    assert consents == {mi["seat"]: "consented", ai["seat"]: "refused", bi["seat"]: "refused"}


async def test_a_new_session_asks_again_and_ending_the_room_stops_it(node: Node) -> None:
    cast = await _case_at_video_step(node)
    people, cid = cast.people, cast.case_id
    await _policy(node, people["mediator"], cid, "joint_and_caucus")
    inside = await _enter(node, cast, "mediator", "alice")
    (m, mi), (a, ai) = inside["mediator"], inside["alice"]
    live = node.app[HUB_KEY].rooms[mi["room_id"]]  # type: ignore[index]
    first = (await m.call("rec:start", {}))["session_id"]
    assert (await a.call("rec:consent", {"consent": True}))["ok"]
    assert (await m.call("caucus:start", {"side": "applicant"}))["ok"]
    assert live.room.may_record(ai["seat"], "audio")  # this policy covers the caucus
    assert (await m.call("rec:stop", {}))["ok"]
    second = (await m.call("rec:start", {}))["session_id"]
    assert second != first
    await a.wait_for("room:state", lambda s: s["recording"]["session_id"] == second)
    assert live.room.snapshot_for(ai["seat"])["recording"]["your_consent"] == "pending"
    assert not live.room.may_record(ai["seat"], "audio")
    assert (await m.call("mod:end", {}))["ok"]
    entries = await _settled_trail(node, people["mediator"], cid)
    stops = [(e["payload"]["session_id"], e["payload"]["reason"]) for e in entries if e["action"] == "recording.stopped"]
    assert stops == [(first, "stopped"), (second, "room_ended")]
    assert [(s.id, s.state) for s in await _store(node).sessions_of_case(cid)] == [(first, "finished"),
                                                                                  (second, "finished")]


async def test_a_room_outside_the_case_system_is_not_recorded(node: Node) -> None:
    service = Caller("service", (await node.app[API_KEYS_KEY].create("tests", {"rooms"})).key)  # type: ignore[index]
    room = (await _call(node, service, "POST", "/api/rooms", {"case_id": "EXT-1"}))[1]["room_id"]
    mediator = (await _call(node, service, "POST", f"/api/rooms/{room}/invites",
                            {"role": "mediator", "name": "调解员"}))[1]
    m = await node.client()
    assert (await m.call("join", {"token": mediator["token"]}))["ok"]
    assert (await m.call("rec:start", {}))["error"]["code"] == "recording_unavailable"


async def test_a_recording_stops_when_its_empty_room_leaves_memory(node: Node) -> None:
    cast = await _case_at_video_step(node)
    people, cid = cast.people, cast.case_id
    await _policy(node, people["mediator"], cid, "joint")
    inside = await _enter(node, cast, "mediator")
    m, mi = inside["mediator"]
    hub = node.app[HUB_KEY]  # type: ignore[index]
    session = (await m.call("rec:start", {}))["session_id"]
    assert (await m.call("leave", {}))["ok"]
    deadline = asyncio.get_running_loop().time() + 3 * hub.settings.reconnect_grace_seconds + 2
    while mi["room_id"] in hub.rooms and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.2)
    assert mi["room_id"] not in hub.rooms
    entries = await _settled_trail(node, people["mediator"], cid)
    assert ("recording.stopped", "room_closed") in [(e["action"], e["payload"].get("reason")) for e in entries]
    assert [(s.id, s.state) for s in await _store(node).sessions_of_case(cid)] == [(session, "finished")]
