"""Guidance through the running server: the assistant over HTTP and over Socket.IO (``guide:ask``,
no join needed), bounded sizes and per-client rates, the estimator and diagnosis endpoints."""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator

import aiohttp
import pytest
import socketio
from aiohttp import web

from signaling.app import create_app
from signaling.config import load_settings

PER_MINUTE = 5


@pytest.fixture
async def url(tmp_path: Path) -> AsyncIterator[str]:
    app = create_app(load_settings(data_dir=tmp_path / "data", port=0, guidance_per_minute=PER_MINUTE,
                                   guidance_lawyer_rate=0.1, guidance_lawyer_minimum=1000))
    runner = web.AppRunner(app, shutdown_timeout=2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    await runner.cleanup()


async def test_http_answers_cite_and_the_rate_is_bounded(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/api/guidance/answer", params={"q": "支付令是什么"}) as resp:
            assert resp.status == 200
            reply = await resp.json()
        assert reply["outcome"] == "answer" and reply["citation"]["entry_id"] == "po-what"
        assert "民事诉讼法" in reply["citation"]["source"]
        async with http.get(f"{url}/api/guidance/answer", params={"q": "x" * 301}) as resp:
            assert resp.status == 422
        statuses = []
        for _ in range(PER_MINUTE):
            async with http.get(f"{url}/api/guidance/answer", params={"q": "调解收费吗"}) as resp:
                statuses.append(resp.status)
        assert statuses.count(200) == PER_MINUTE - 1 and statuses[-1] == 429  # the first call counted too
        async with http.get(f"{url}/api/guidance/estimate",
                            params={"dispute_type": "loan", "amount": "100000", "simplified": "true"}) as resp:
            estimate = await resp.json()
        assert estimate["litigation"]["acceptance_fee"] == "1150.00" and estimate["mediation"]["fee"] == "0"
        assert estimate["litigation"]["lawyer_fee"] == "10000.00"  # the configured 10 %
        async with http.post(f"{url}/api/guidance/diagnosis", json={
                "dispute_type": "loan", "amount": 20000, "relationship": "family", "written_evidence": False}) as resp:
            diagnosis = await resp.json()
        assert diagnosis["recommended"]["path"] == "peoples_mediation"
        assert any("人民调解法" in b for b in diagnosis["recommended"]["legal_basis"])


async def test_socket_questions_need_no_join_and_are_bounded(url: str) -> None:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(url, transports=["websocket"])
    try:
        ack = await client.call("guide:ask", {"question": "Is people's mediation free?"}, timeout=10)
        assert ack["ok"] and ack["reply"]["lang"] == "en" and ack["reply"]["citation"]["entry_id"]
        assert (await client.call("guide:ask", {"question": "q" * 301}, timeout=10))["error"]["code"] == "bad_event"
        assert (await client.call("guide:ask", {"question": "x", "extra": 1}, timeout=10))["error"]["code"] == "bad_event"
        answers = [await client.call("guide:ask", {"question": "什么是司法确认"}, timeout=10) for _ in range(PER_MINUTE)]
        assert [a["ok"] for a in answers].count(True) == PER_MINUTE - 3  # the 3 calls above counted, refused ones too
        assert answers[-1]["error"]["code"] == "rate_limited"
    finally:
        await client.disconnect()
