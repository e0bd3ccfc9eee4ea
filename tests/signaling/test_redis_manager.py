"""With ``redis_url`` set, Socket.IO fans out through Redis (python-socketio's manager), so
events still reach every participant. Runs against the real Redis on 127.0.0.1:6379."""

from __future__ import annotations

import secrets

import pytest
import redis.asyncio as redis
from aiohttp import web

from signaling.app import create_app
from signaling.auth import API_KEYS_KEY
from signaling.config import load_settings

from .conftest import Client, RunningServer

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
