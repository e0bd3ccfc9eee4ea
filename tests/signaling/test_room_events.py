"""Socket.IO room events against a real server: admission, moderation, caucus, chat, and every
kind of bad input — each answered with a precise error while the room keeps working."""

from __future__ import annotations

import asyncio
import time

import aiohttp
from aiortc import RTCConfiguration, RTCPeerConnection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signaling.tokens import TokenIssuer
from tests.support.loopback_media import loopback_peer


async def joined_room(server, clients):
    room = await server.create_room()
    med = await server.invite(room, "mediator", "李调解员")
    app = await server.invite(room, "party", "张三", "applicant")
    res = await server.invite(room, "party", "王五", "respondent")
    m, a, r = await clients(), await clients(), await clients()
    assert (await m.call("join", {"token": med["token"]}))["you"]["state"] == "admitted"
    ack_a = await a.call("join", {"token": app["token"]})
    assert ack_a["ok"] and ack_a["you"]["state"] == "lobby" and ack_a["room"]["participants"] == []
    await r.call("join", {"token": res["token"]})
    return room, (m, med), (a, app), (r, res)


async def test_lobby_admission_and_snapshots(server, clients):
    room, (m, _), (a, app), (r, res) = await joined_room(server, clients)
    lobby = await m.wait_for("room:state", lambda s: len(s["participants"]) == 3)
    assert {p["state"] for p in lobby["participants"] if p["role"] == "party"} == {"lobby"}
    ack = await m.call("mod:admit", {"seat": app["seat"]})
    assert ack == {"ok": True, "admitted": [app["seat"]]}
    state = await a.wait_for("room:state", lambda s: s["you"]["state"] == "admitted")
    assert {p["seat"] for p in state["participants"]} == {app["seat"], m.last("room:state")["you"]["seat"]}
    assert (await m.call("mod:admit", {"all": True}))["admitted"] == [res["seat"]]


async def test_party_cannot_moderate_and_room_keeps_working(server, clients):
    room, (m, _), (a, app), (r, res) = await joined_room(server, clients)
    await m.call("mod:admit", {"all": True})
    for event, payload in [("mod:mute", {"seat": res["seat"], "kind": "audio", "muted": True}),
                           ("mod:remove", {"seat": res["seat"]}), ("mod:end", {}),
                           ("caucus:start", {"side": "applicant"}), ("mod:admit", {"all": True})]:
        ack = await a.call(event, payload)
        assert ack["ok"] is False and ack["error"]["code"] == "forbidden", (event, ack)
    assert (await a.call("chat:send", {"text": "still here"}))["ok"]


async def test_chat_is_scoped_to_the_caucus(server, clients):
    room, (m, _), (a, app), (r, res) = await joined_room(server, clients)
    await m.call("mod:admit", {"all": True})
    assert (await m.call("caucus:start", {"side": "applicant"}))["ok"]
    waiting = await r.wait_for("room:state", lambda s: s["caucus"] is not None)
    assert waiting["you"]["waiting_for_caucus"] is True
    await a.call("chat:send", {"text": "私下说"})
    msg = await m.wait_for("chat:message", lambda d: d["text"] == "私下说")
    assert msg["scope"] == "caucus"
    refused = await r.call("chat:send", {"text": "我在等"})  # the waiting side's chat is closed, and says why
    assert refused["ok"] is False and refused["error"]["code"] == "caucus_waiting"
    await m.call("caucus:end", {})
    await a.call("chat:send", {"text": "公开"})
    await r.wait_for("chat:message", lambda d: d["text"] == "公开")
    assert not [d for e, d in r.received if e == "chat:message" and d["text"] == "私下说"]
    assert not [d for e, d in a.received if e == "chat:message" and d["text"] == "我在等"]


async def test_remove_disconnects_and_the_token_no_longer_works(server, clients):
    room, (m, _), (a, app), (r, res) = await joined_room(server, clients)
    await m.call("mod:admit", {"all": True})
    assert (await m.call("mod:remove", {"seat": res["seat"], "reason": "disruptive"}))["ok"]
    assert (await r.wait_for("removed"))["reason"] == "disruptive"
    await m.wait_for("room:state", lambda s: all(p["seat"] != res["seat"] or p["state"] == "left"
                                                         for p in s["participants"]))
    again = await clients()
    ack = await again.call("join", {"token": res["token"]})
    assert ack["error"]["code"] == "removed_from_room"


async def test_reconnect_keeps_the_seat_and_others_see_reconnecting(server, clients):
    room, (m, _), (a, app), (r, res) = await joined_room(server, clients)
    await m.call("mod:admit", {"all": True})
    await a.close()
    await m.wait_for("room:state", lambda s: any(p["seat"] == app["seat"] and p["state"] == "reconnecting"
                                                         for p in s["participants"]))
    back = await clients()
    ack = await back.call("join", {"token": app["token"]})
    assert ack["seat"] == app["seat"] and ack["you"]["state"] == "admitted"


async def test_a_second_connection_with_the_same_token_takes_the_seat_over(server, clients):
    room, (m, _), (a, app), _ = await joined_room(server, clients)
    await m.call("mod:admit", {"all": True})
    twin = await clients()
    assert (await twin.call("join", {"token": app["token"]}))["ok"]
    assert (await a.wait_for("removed"))["reason"] == "replaced"


async def test_mediator_drop_does_not_collapse_the_room(server, clients):
    room, (m, med), (a, app), _ = await joined_room(server, clients)
    await m.call("mod:admit", {"all": True})
    await m.close()
    await a.wait_for("room:state", lambda s: s["mediator_present"] is False)
    m2 = await clients()
    assert (await m2.call("join", {"token": med["token"]}))["ok"]
    await a.wait_for("room:state", lambda s: s["mediator_present"] is True)


async def test_end_disconnects_everyone_and_closes_the_room(server, clients):
    room, (m, med), (a, app), _ = await joined_room(server, clients)
    assert (await m.call("mod:end", {}))["ok"]
    await a.wait_for("room:ended")
    late = await clients()
    assert (await late.call("join", {"token": app["token"]}))["error"]["code"] == "room_ended"


async def test_bad_tokens_get_precise_errors(server, clients):
    room = await server.create_room()
    other = await server.create_room("CASE-2")
    c = await clients()
    issuer = next(v for k, v in server.app.items() if isinstance(v, TokenIssuer))
    expired, _ = issuer.issue(room, "party", "A", "applicant", ttl=1, now=time.time() - 10)
    assert (await c.call("join", {"token": expired}))["error"]["code"] == "token_expired"
    good = (await server.invite(other, "party", "A", "applicant"))["token"]
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    assert (await c.call("join", {"token": tampered}))["error"]["code"] == "token_invalid"
    ghost, _ = issuer.issue("r_does_not_exist", "party", "A", "applicant")
    assert (await c.call("join", {"token": ghost}))["error"]["code"] == "room_not_found"
    assert (await c.call("join", {"token": good}))["ok"]


async def test_events_out_of_order_and_malformed(server, clients):
    room, (m, _), (a, app), _ = await joined_room(server, clients)
    stranger = await clients()
    assert (await stranger.call("chat:send", {"text": "hi"}))["error"]["code"] == "not_joined"
    assert (await m.call("rtc:answer", {"sdp": "v=0"}))["error"]["code"] == "no_offer_pending"
    assert (await a.call("rtc:offer", {"sdp": "v=0", "reset": True}))["error"]["code"] == "not_admitted"
    assert (await m.call("chat:send", "just a string"))["error"]["code"] == "bad_event"
    assert (await m.call("chat:send", {"text": "x", "extra": 1}))["error"]["code"] == "bad_event"
    assert (await m.call("chat:send", {"text": "x" * 20000}))["error"]["code"] == "too_large"
    assert (await m.call("no:such:event", {}))["error"]["code"] == "bad_event"
    assert (await m.call("join", {"token": app["token"]}))["error"]["code"] == "bad_event"
    bad = await m.call("rtc:offer", {"sdp": "this is not sdp", "reset": True})
    assert bad["error"]["code"] == "invalid_sdp"
    assert (await m.call("mod:admit", {"all": True}))["ok"]


async def test_rate_limit(server, clients):
    room, (m, _), _, _ = await joined_room(server, clients)
    codes = [(await m.call("media:state", {"audio": True, "video": True}))["ok"] for _ in range(60)]
    assert False in codes
    await asyncio.sleep(1.1)  # the limit is per second: after a pause the client may talk again
    assert (await m.call("media:state", {"audio": False, "video": True}))["ok"]


async def test_http_api_refuses_without_credentials_and_validates(server):
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/api/rooms", json={"case_id": "X"}) as resp:
            assert resp.status == 401 and (await resp.json())["error"]["code"] == "unauthenticated"
        async with http.post(f"{server.url}/api/rooms", json={"case_id": "X"},
                             headers={"Authorization": "Bearer ak_wrong"}) as resp:
            assert resp.status == 401
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {server.api_key}"}) as http:
        async with http.post(f"{server.url}/api/rooms", data=b"{not json",
                             headers={"Content-Type": "application/json"}) as resp:
            assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_json"
        async with http.post(f"{server.url}/api/rooms", data=b'{"case_id": "X"}') as resp:
            assert resp.status == 415 and (await resp.json())["error"]["code"] == "unsupported_media_type"
        room = await server.create_room()
        async with http.post(f"{server.url}/api/rooms/{room}/invites", json={"role": "party", "name": "A"}) as resp:
            assert resp.status == 422
        async with http.post(f"{server.url}/api/rooms/r_nope/invites", json={"role": "mediator", "name": "A"}) as resp:
            assert resp.status == 404
        async with http.get(f"{server.url}/api/openapi.json") as resp:
            doc = await resp.json()
            assert "/api/rooms/{room_id}/invites" in doc["paths"]
        async with http.get(f"{server.url}/healthz") as resp:
            assert (await resp.json())["status"] == "ok"


payloads = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=40),
                        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                            st.sampled_from(["token", "sdp", "seat", "kind", "muted", "all", "text", "side", "x"]),
                            inner, max_size=4), max_leaves=12)
EVENTS = ["join", "leave", "rtc:offer", "rtc:answer", "media:state", "chat:send", "mod:admit", "mod:mute",
          "mod:permit", "mod:remove", "mod:end", "caucus:start", "caucus:end", "nonsense"]


async def test_fuzzed_events_never_break_the_room(server, clients):
    room, (m, _), (a, app), _ = await joined_room(server, clients)
    await m.call("mod:admit", {"all": True})
    fuzzer = await clients()
    await fuzzer.call("join", {"token": (await server.invite(room, "party", "F", "respondent"))["token"]})
    seen: list = []

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(EVENTS), payloads)
    def run(event, payload):
        seen.append((event, payload))

    run()
    for event, payload in seen:
        if event == "leave":
            continue
        ack = await fuzzer.call(event, payload)
        assert isinstance(ack, dict) and "ok" in ack
        if not ack["ok"]:
            assert ack["error"]["code"] and ack["error"]["message"]
        await asyncio.sleep(0.03)
    assert (await m.call("chat:send", {"text": "room alive"}))["ok"]
    await a.wait_for("chat:message", lambda d: d["text"] == "room alive")


async def test_an_offer_naming_only_refused_addresses_gets_ice_candidate_refused(server, clients):
    room, (m, _), _, _ = await joined_room(server, clients)
    pc = loopback_peer(RTCPeerConnection(RTCConfiguration(iceServers=[])))
    try:
        pc.addTransceiver("audio", direction="sendrecv")
        await pc.setLocalDescription(await pc.createOffer())
        metadata = pc.localDescription.sdp.replace("127.0.0.1", "169.254.169.254")
        refused = await m.call("rtc:offer", {"sdp": metadata, "reset": True})
        assert refused["error"]["code"] == "ice_candidate_refused"
        assert "169.254.169.254" in refused["error"]["message"]
        assert (await m.call("rtc:offer", {"sdp": pc.localDescription.sdp, "reset": True}))["ok"]
    finally:
        await pc.close()
