"""With ``redis_url`` set, Socket.IO fans out through Redis (python-socketio's manager), so
events still reach every participant. Runs against the real Redis on 127.0.0.1:6379."""

from __future__ import annotations

import asyncio
import secrets

import aiohttp
import pytest
import redis.asyncio as redis
from aiohttp import web

from signaling.api.accounts import SERVICES_KEY
from signaling.app import create_app
from signaling.auth import API_KEYS_KEY
from signaling.config import load_settings

from .conftest import Client, RunningServer
from .test_case_follow import PASSWORD, delegated_case, follower, login

pytestmark = pytest.mark.redis


async def test_events_flow_through_redis(tmp_path):
    prefix = "accord-test-" + secrets.token_hex(4)
    settings = load_settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:6379/0", redis_prefix=prefix)
    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server = RunningServer(f"http://127.0.0.1:{port}", (await app[API_KEYS_KEY].create("t", {"rooms"})).key, app)
    watcher = redis.Redis(host="127.0.0.1", port=6379)
    pubsub = watcher.pubsub()
    await pubsub.subscribe(f"{prefix}-sio")
    try:
        room = await server.create_room()
        m = await Client(server.url).connect()
        a = await Client(server.url).connect()
        await m.call("join", {"token": (await server.invite(room, "mediator", "M"))["token"]})
        await a.call("join", {"token": (await server.invite(room, "party", "A", "applicant"))["token"]})
        await m.call("mod:admit", {"all": True})
        await m.call("chat:send", {"text": "via redis"})
        await a.wait_for("chat:message", lambda d: d["text"] == "via redis")
        published = 0
        for _ in range(50):
            msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
            published += msg is not None
        assert published > 0, "nothing went through the Redis channel"
        await m.close()
        await a.close()
    finally:
        await pubsub.unsubscribe()
        await watcher.aclose()
        await runner.cleanup()


async def _node(data_dir, prefix: str) -> tuple[web.AppRunner, str, web.Application]:
    app = create_app(load_settings(data_dir=data_dir, redis_url="redis://127.0.0.1:6379/0", redis_prefix=prefix))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}", app  # type: ignore[union-attr]


async def test_signing_out_on_one_node_ends_case_subscriptions_on_the_others(tmp_path):
    """Two nodes on one database and one Redis: a socket on node B follows a case with the
    session; the person signs out through node A; case events published afterwards (from B, where
    the socket is) no longer reach it."""
    prefix = "accord-test-" + secrets.token_hex(4)
    first, url_a, app_a = await _node(tmp_path, prefix)
    second, url_b, app_b = await _node(tmp_path, prefix)
    node_b = RunningServer(url_b, "", app_b)
    watcher = None
    try:
        services = app_b[SERVICES_KEY]
        await services.accounts.bootstrap_admin("root", "Platform Admin", PASSWORD)
        case_id = await delegated_case(node_b)
        cookie = await login(node_b, "admin", "root")
        watcher, seen = await follower(node_b, cookie)
        assert await watcher.call("case:follow", {"case_id": case_id}) == {"ok": True}
        await services.events.publish(case_id, {"kind": "test.before", "step": 1})
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.05)
        assert [e["kind"] for e in seen] == ["test.before"]
        async with aiohttp.ClientSession(cookies={"accord_session": cookie}, headers={"Origin": url_a}) as http:
            async with http.post(f"{url_a}/api/auth/logout", json={}) as resp:
                assert resp.status == 200, await resp.text()
        await asyncio.sleep(0.5)  # the end of the session crosses Redis to node B
        await services.events.publish(case_id, {"kind": "test.after", "step": 2})
        await asyncio.sleep(0.5)
        assert [e["kind"] for e in seen] == ["test.before"]
    finally:
        if watcher is not None:
            await watcher.disconnect()
        await second.cleanup()
        await first.cleanup()
