"""Sessions as a browser uses them (the ``accord_session`` cookie), and the OpenAPI description."""

from __future__ import annotations

from typing import Any

from aiohttp import CookieJar
from aiohttp.test_utils import TestClient

from signaling.api.cases import SocketIoCaseEvents, may_follow_case
from signaling.auth import ANONYMOUS, Principal
from signaling.openapi import ApiRegistry
from signaling.openapi import api as registry

from .api_client import Api, User, application_body
from .conftest import MEDIATION_TAGS
from .helpers import PASSWORD


async def test_cookie_session_login_use_logout(api: Api) -> None:
    await api.register("alice", 1)
    browser = TestClient(api.client.server, cookie_jar=CookieJar(unsafe=True))
    try:
        login = await browser.post("/api/auth/login", json={"channel": "party", "login": "alice", "password": PASSWORD})
        assert login.status == 200
        cookie = login.cookies["accord_session"]
        assert cookie["httponly"] and cookie["samesite"] == "Strict"
        me = await browser.get("/api/auth/me")
        assert me.status == 200 and (await me.json())["login"] == "alice"
        out = await browser.post("/api/auth/logout", json={})
        assert out.status == 200
        assert (await browser.get("/api/auth/me")).status == 401  # cookie cleared
        # The old token is dead on the server too, not just forgotten by the browser.
        token = cookie.value
        stale = await api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert stale.status == 401
    finally:
        await browser.session.close()


async def test_login_channel_decides_who_may_enter(api: Api) -> None:
    await api.register("alice", 1)
    for channel in ("mediator", "court", "admin"):
        refused = await api.call("POST", "/api/auth/login", json={"channel": channel, "login": "alice",
                                                                  "password": PASSWORD}, expect=401)
        assert refused["error"]["code"] == "bad_credentials"


def test_openapi_documents_every_case_endpoint_with_roles() -> None:
    mine = ApiRegistry([ep for ep in registry.endpoints if ep.tag in MEDIATION_TAGS])
    doc = mine.document("Accord", "test", "http://localhost")
    operations = [op for methods in doc["paths"].values() for op in methods.values()]
    assert len(operations) == len(mine.endpoints)
    assert "CaseApplication" in doc["components"]["schemas"]
    for op in operations:
        assert "x-roles" in op or "security" not in op


async def test_live_progress_reaches_only_those_who_may_read_the_case(api: Api) -> None:
    alice = await api.register("alice", 1)
    bob = await api.register("bob", 2)
    carol = await api.register("carol", 3)
    emitted: list[tuple[str, dict[str, Any], str]] = []

    class Sio:
        async def emit(self, event: str, data: dict[str, Any], room: str) -> None:
            emitted.append((event, data, room))

    api.services.events.subscribe(SocketIoCaseEvents(Sio()))
    cid = (await api.call("POST", "/api/cases", alice, json=application_body(alice, bob), expect=201))["id"]
    assert emitted[0][0] == "case:event" and emitted[0][2] == f"case:{cid}"
    assert emitted[0][1]["kind"] == "case.created" and emitted[0][1]["case_id"] == cid

    def principal(user: User) -> Principal:
        a = user.account
        return Principal(a["id"], frozenset({a["role"]}), "user", a["display_name"], {"phone": a["phone"]})

    assert await may_follow_case(api.services, principal(alice), cid)
    assert await may_follow_case(api.services, principal(bob), cid)
    assert not await may_follow_case(api.services, principal(carol), cid)
    assert not await may_follow_case(api.services, ANONYMOUS, cid)
