"""A real Accord server on a free port, and Socket.IO clients that talk to it."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator

import aiohttp
import pytest
import socketio
from aiohttp import web

from signaling.app import create_app
from signaling.auth import API_KEYS_KEY
from signaling.config import load_settings
from tests.support.loopback_media import SETTINGS as LOOPBACK_MEDIA
from tests.support.room_state import with_you


@dataclass
class RunningServer:
    url: str
    api_key: str  # an integrating system's key with the scope ``rooms``
    app: web.Application

    async def issue_key(self, name: str, *scopes: str) -> str:
        return (await self.app[API_KEYS_KEY].create(name, scopes)).key

    async def create_room(self, case_id: str = "CASE-1") -> str:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {self.api_key}"}) as http:
            async with http.post(f"{self.url}/api/rooms", json={"case_id": case_id}) as resp:
                assert resp.status == 201, await resp.text()
                return (await resp.json())["room_id"]

    async def invite(self, room_id: str, role: str, name: str, side: str | None = None, **extra: Any) -> dict:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {self.api_key}"}) as http:
            body = {"role": role, "name": name, "side": side, **extra}
            async with http.post(f"{self.url}/api/rooms/{room_id}/invites", json=body) as resp:
                assert resp.status == 201, await resp.text()
                return await resp.json()


@asynccontextmanager
async def running_server(tmp_path: Path, **settings_overrides: Any) -> AsyncIterator[RunningServer]:
    """The app on a free port of 127.0.0.1, with these settings on top of the tests' defaults."""
    settings = load_settings(**{"data_dir": tmp_path / "data", "port": 0, "reconnect_grace_seconds": 2.0,
                                "max_event_bytes": 16 * 1024, **LOOPBACK_MEDIA, **settings_overrides})
    app = create_app(settings)
    runner = web.AppRunner(app, shutdown_timeout=2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    key = (await app[API_KEYS_KEY].create("tests", {"rooms"})).key
    try:
        yield RunningServer(url=f"http://127.0.0.1:{port}", api_key=key, app=app)
    finally:
        await runner.cleanup()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    async with running_server(tmp_path) as running:
        yield running


class Client:
    """A Socket.IO participant that records every server event it receives."""

    def __init__(self, url: str):
        self.url = url
        self.sio = socketio.AsyncClient(reconnection=False)
        self.received: list[tuple[str, Any]] = []
        self.seat: str | None = None
        self.sio.on("*", self._record)

    async def _record(self, event: str, data: Any = None) -> None:
        if event == "room:state" and isinstance(data, dict):
            data = with_you(data, self.seat)
        self.received.append((event, data))

    async def connect(self) -> "Client":
        await self.sio.connect(self.url, transports=["websocket"])
        return self

    async def call(self, event: str, data: Any = None, timeout: float = 10) -> Any:
        ack = await self.sio.call(event, data, timeout=timeout)
        if event == "join" and isinstance(ack, dict) and ack.get("ok"):
            self.seat = ack["seat"]
        return ack

    def last(self, event: str) -> Any:
        for name, data in reversed(self.received):
            if name == event:
                return data
        raise AssertionError(f"no {event} received; got {[n for n, _ in self.received]}")

    async def wait_for(self, event: str, predicate=lambda d: True, timeout: float = 10) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen = 0
        while loop.time() < deadline:
            for name, data in self.received[seen:]:
                if name == event and predicate(data):
                    return data
            seen = 0
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out waiting for {event}; got {[n for n, _ in self.received]}")

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


@pytest.fixture
async def clients(server: RunningServer) -> AsyncIterator[Any]:
    made: list[Client] = []

    async def make() -> Client:
        client = await Client(server.url).connect()
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()
