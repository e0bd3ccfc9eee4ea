"""Cross-site request forgery: a page of another site can make a browser send the session cookie,
but not ``Content-Type: application/json`` and not our ``Origin``. Also the security headers."""

from __future__ import annotations

import json

import aiohttp
import pytest
import socketio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from mediation.accounts import Role
from signaling.api.accounts import SERVICES_KEY
from signaling.app import _security_headers
from signaling.config import load_settings
from signaling.origins import origin_allowed

from .test_case_follow import PASSWORD, delegated_case, follower, login

EVIL = "https://evil.example"


def staff(login_name: str) -> dict[str, str]:
    return {"role": "platform_admin", "login": login_name, "display_name": "Mallory", "password": PASSWORD}


async def admin_cookie(server) -> str:
    await server.app[SERVICES_KEY].accounts.bootstrap_admin("root", "Platform Admin", PASSWORD)
    return await login(server, "admin", "root")


async def test_a_cross_site_text_plain_post_with_the_admin_cookie_creates_nobody(server):
    cookie = await admin_cookie(server)
    async with aiohttp.ClientSession(headers={"Cookie": f"accord_session={cookie}"}) as http:
        # What a form on evil.example can send without a preflight.
        async with http.post(f"{server.url}/api/accounts/staff", data=json.dumps(staff("mallory")),
                             headers={"Content-Type": "text/plain", "Origin": EVIL}) as resp:
            assert resp.status == 403 and (await resp.json())["error"]["code"] == "cross_origin"
        async with http.post(f"{server.url}/api/accounts/staff", json=staff("mallory2"),
                             headers={"Referer": f"{EVIL}/page"}) as resp:
            assert resp.status == 403 and (await resp.json())["error"]["code"] == "cross_origin"
        async with http.post(f"{server.url}/api/accounts/staff", json=staff("nullorigin"),
                             headers={"Origin": "null"}) as resp:
            assert resp.status == 403
        # Even from our own origin, a body that is not declared JSON is not parsed as JSON.
        async with http.post(f"{server.url}/api/accounts/staff", data=json.dumps(staff("plain")),
                             headers={"Content-Type": "text/plain", "Origin": server.url}) as resp:
            assert resp.status == 415 and (await resp.json())["error"]["code"] == "unsupported_media_type"
        # Our own pages (the request's own origin, or the configured public URL) may.
        async with http.post(f"{server.url}/api/accounts/staff", json=staff("colleague"),
                             headers={"Origin": server.url}) as resp:
            assert resp.status == 201, await resp.text()
        async with http.post(f"{server.url}/api/accounts/staff", json=staff("colleague2"),
                             headers={"Referer": f"{server.url}/cases.html"}) as resp:
            assert resp.status == 201, await resp.text()
    admins = await server.app[SERVICES_KEY].accounts.list_by_role(Role.PLATFORM_ADMIN)
    assert sorted(a.login for a in admins) == ["colleague", "colleague2", "root"]


def test_the_public_url_and_the_own_origin_are_ours():
    public = "https://accord.example/"
    assert origin_allowed("https://accord.example", public_url=public, own="http://10.0.0.5:8080")
    assert origin_allowed("https://ACCORD.example:443/cases.html", public_url=public, own="http://10.0.0.5:8080")
    assert origin_allowed("http://10.0.0.5:8080", public_url=public, own="http://10.0.0.5:8080")
    for foreign in ("http://accord.example", "https://accord.example.evil", "https://accord.example:8443",
                    "null", "", "javascript:alert(1)", "https://[::1"):
        assert not origin_allowed(foreign, public_url=public, own="http://10.0.0.5:8080"), foreign


async def test_api_keys_are_not_subject_to_the_origin_check(server):
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {server.api_key}", "Origin": EVIL}) as http:
        async with http.post(f"{server.url}/api/rooms", json={"case_id": "CASE-9"}) as resp:
            assert resp.status == 201, await resp.text()
        async with http.post(f"{server.url}/api/rooms", data=json.dumps({"case_id": "CASE-9"}),
                             headers={"Content-Type": "text/plain"}) as resp:
            assert resp.status == 415


async def test_a_cross_site_websocket_is_refused(server):
    cookie = await admin_cookie(server)
    evil = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await evil.connect(server.url, transports=["websocket"],
                           headers={"Cookie": f"accord_session={cookie}", "Origin": EVIL})
    own = socketio.AsyncClient(reconnection=False)
    await own.connect(server.url, transports=["websocket"],
                      headers={"Cookie": f"accord_session={cookie}", "Origin": server.url})
    await own.disconnect()


async def test_signing_out_ends_case_follow(server):
    services = server.app[SERVICES_KEY]
    cookie = await admin_cookie(server)
    case_id = await delegated_case(server)
    watcher, seen = await follower(server, cookie)
    other_session, other_seen = await follower(server, await login(server, "admin", "root"))
    try:
        assert await watcher.call("case:follow", {"case_id": case_id}) == {"ok": True}
        assert await other_session.call("case:follow", {"case_id": case_id}) == {"ok": True}
        await services.events.publish(case_id, {"kind": "test.before"})
        for _ in range(50):
            if seen and other_seen:
                break
            await watcher.sleep(0.05)
        assert [e["kind"] for e in seen] == ["test.before"]
        async with aiohttp.ClientSession(headers={"Cookie": f"accord_session={cookie}"}) as http:
            async with http.post(f"{server.url}/api/auth/logout", json={}) as resp:
                assert resp.status == 200, await resp.text()
        await services.events.publish(case_id, {"kind": "test.after"})
        for _ in range(50):
            if len(other_seen) == 2:
                break
            await watcher.sleep(0.05)
        assert [e["kind"] for e in other_seen] == ["test.before", "test.after"]  # another session still follows
        assert [e["kind"] for e in seen] == ["test.before"]
        assert (await watcher.call("case:follow", {"case_id": case_id}))["error"]["code"] == "unauthenticated"
    finally:
        await watcher.disconnect()
        await other_session.disconnect()


async def test_pages_and_api_answers_carry_the_security_headers(server):
    async with aiohttp.ClientSession() as http:
        for path in ("/", "/cases.html", "/healthz"):
            async with http.get(f"{server.url}{path}") as resp:
                csp = resp.headers["Content-Security-Policy"]
                assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
                assert resp.headers["X-Content-Type-Options"] == "nosniff"
                assert resp.headers["Referrer-Policy"] == "same-origin"
                assert "Strict-Transport-Security" not in resp.headers  # plain HTTP: HSTS would be ignored


@pytest.mark.parametrize("public_url, hsts", [("https://accord.example", True), (None, False)])
async def test_hsts_only_under_tls(tmp_path, public_url, hsts):
    app = web.Application(middlewares=[_security_headers(load_settings(data_dir=tmp_path, public_url=public_url))])
    async def ok(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.router.add_get("/", ok)
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/")
        assert ("Strict-Transport-Security" in resp.headers) is hsts
