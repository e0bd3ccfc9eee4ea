"""Live case progress over Socket.IO: only people who may read a case receive its events."""

from __future__ import annotations

import aiohttp
import socketio

from mediation.accounts import Actor, NewAccount, Role
from signaling.api.accounts import SERVICES_KEY
from tests.mediation.doubles import id_number

PASSWORD = "correct horse battery"


async def login(server, channel: str, user: str) -> str:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/api/auth/login",
                             json={"channel": channel, "login": user, "password": PASSWORD}) as resp:
            assert resp.status == 200, await resp.text()
            return resp.cookies["accord_session"].value


async def follower(server, cookie: str | None) -> tuple[socketio.AsyncClient, list]:
    client = socketio.AsyncClient(reconnection=False)
    received: list = []
    client.on("case:event", lambda data: received.append(data))
    headers = {"Cookie": f"accord_session={cookie}"} if cookie else {}
    await client.connect(server.url, transports=["websocket"], headers=headers)
    return client, received


def person(name: str, serial: int) -> dict[str, str]:
    return {"name": name, "phone": f"1390000{serial:04d}", "id_number": id_number(serial), "address": "成都市"}


async def delegated_case(server) -> str:
    """A case a court's system delegates over the API (its key has ``cases:write``); its id."""
    court_system = await server.issue_key("court-system", "cases:write")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {court_system}"}) as http:
        async with http.post(f"{server.url}/api/cases/delegations", json={
                "dispute_type": "loan", "claims": "还款一万二千元", "facts": "借款未还", "amount": "12000.00",
                "applicant": person("张三", 1), "respondent": person("李四", 2),
                "court": "成都市武侯区人民法院"}) as resp:
            assert resp.status == 201, await resp.text()
            return (await resp.json())["id"]


async def test_follow_is_authorised_and_events_reach_only_followers(server):
    services = server.app[SERVICES_KEY]
    admin = await services.accounts.bootstrap_admin("root", "Platform Admin", PASSWORD)
    await services.accounts.create_staff(Actor(admin.id, "platform_admin", admin.display_name),
                                         NewAccount(Role.MEDIATOR, "med1", "调解员甲", PASSWORD,
                                                    organisation="示例调解委员会"))
    case_id = await delegated_case(server)

    watcher, seen = await follower(server, await login(server, "admin", "root"))
    outsider, outsider_seen = await follower(server, await login(server, "mediator", "med1"))
    anonymous, _ = await follower(server, None)
    try:
        assert await watcher.call("case:follow", {"case_id": case_id}) == {"ok": True}
        assert (await outsider.call("case:follow", {"case_id": case_id}))["error"]["code"] == "not_found"
        assert (await anonymous.call("case:follow", {"case_id": case_id}))["error"]["code"] == "unauthenticated"
        assert (await watcher.call("case:follow", {"case": case_id}))["error"]["code"] == "bad_event"
        await services.events.publish(case_id, {"kind": "test.progress", "step": 2})
        for _ in range(50):
            if seen:
                break
            await watcher.sleep(0.05)
        assert seen and seen[0]["case_id"] == case_id and seen[0]["kind"] == "test.progress"
        assert outsider_seen == []
    finally:
        for client in (watcher, outsider, anonymous):
            await client.disconnect()


async def test_a_stale_session_cookie_is_treated_as_signed_out(server):
    async with aiohttp.ClientSession(cookies={"accord_session": "stale"}) as http:
        async with http.get(f"{server.url}/healthz") as resp:
            assert resp.status == 200
        async with http.get(f"{server.url}/api/rooms/r_x") as resp:
            assert resp.status == 401 and (await resp.json())["error"]["code"] == "unauthenticated"
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer stale"}) as http:
        async with http.get(f"{server.url}/healthz") as resp:
            assert resp.status == 401 and (await resp.json())["error"]["code"] == "bad_credentials"
