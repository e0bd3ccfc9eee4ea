"""``/metrics``: off by default, refused without its bearer token, or served only on its own
address; what it serves parses with prometheus-client's parser and follows rooms, media, API
errors and the event loop."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from signaling.api.rooms import HUB_KEY
from signaling.config import load_settings
from signaling.metrics import SIGNATURE_ROUTES, VERIFICATION_ROUTES
from signaling.openapi import api as registry
from tests.signing.pades_samples import blank_pdf

from .conftest import running_server
from .test_room_media import start_room, wait_all_receiving

TOKEN = "metrics-token-for-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

pytestmark = pytest.mark.timeout(120)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample by (name, sorted labels), through prometheus-client's own parser."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def scrape(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics", headers=headers or {}) as resp:
        return resp.status, await resp.text()


async def test_no_metrics_unless_configured(tmp_path: Path) -> None:
    async with running_server(tmp_path) as server:
        status, _ = await scrape(server.url, AUTH)
        assert status == 404


async def test_metrics_need_their_token(tmp_path: Path) -> None:
    async with running_server(tmp_path, metrics_token=TOKEN) as server:
        for headers in (None, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                        {"Authorization": f"Bearer {TOKEN}x"}):
            status, body = await scrape(server.url, headers)
            assert status == 401 and "accord_" not in body, headers
        status, body = await scrape(server.url, AUTH)
        assert status == 200
        figures = samples(body)
        assert figures[("accord_rooms_live", ())] == 0
        # The refusals above were counted by their stable code.
        assert figures[("accord_api_errors_total", (("code", "metrics_token_required"), ("status", "401")))] == 4
        async with aiohttp.ClientSession() as http, http.get(f"{server.url}/api/statistics/dashboard") as resp:
            code = (await resp.json())["error"]["code"]
        await asyncio.sleep(0.6)  # one lag probe
        figures = samples((await scrape(server.url, AUTH))[1])
        assert figures[("accord_api_errors_total", (("code", code), ("status", "401")))] == 1
        assert figures[("accord_event_loop_lag_distribution_seconds_count", ())] >= 1
        assert 0 <= figures[("accord_event_loop_lag_seconds", ())] < 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_metrics_on_their_own_address_only(tmp_path: Path) -> None:
    port = _free_port()
    async with running_server(tmp_path, metrics_bind=f"127.0.0.1:{port}") as server:
        assert (await scrape(server.url))[0] == 404  # not on the public port
        status, body = await scrape(f"http://127.0.0.1:{port}")
        assert status == 200 and ("accord_participants_connected", ()) in samples(body)


async def test_rooms_participants_and_forwarding(tmp_path: Path) -> None:
    async with running_server(tmp_path, metrics_token=TOKEN) as server:
        room, parts = await start_room(server, n_parties=1)
        try:
            await wait_all_receiving(parts)
            during = samples((await scrape(server.url, AUTH))[1])
            assert during[("accord_rooms_live", ())] == 1
            assert during[("accord_participants_connected", ())] == 2
            assert during[("accord_media_peers", ())] == 2
            for name in ("accord_media_frames_forwarded_total", "accord_media_bytes_forwarded_total",
                         "accord_media_packets_received_total"):
                assert during[(name, ())] > 0, name
            assert during[("accord_media_bytes_forwarded_total", ())] > during[("accord_media_frames_forwarded_total", ())]
            await parts[0].sio.call("mod:end", {})
            for _ in range(50):
                if room not in server.app[HUB_KEY].rooms:
                    break
                await asyncio.sleep(0.1)
            after = samples((await scrape(server.url, AUTH))[1])
        finally:
            for p in parts:
                await p.close()
        assert after[("accord_rooms_live", ())] == 0
        # The ended room's counts stay in the totals: counters never go back.
        for name in ("accord_media_frames_forwarded_total", "accord_media_bytes_forwarded_total",
                     "accord_media_keyframe_requests_total"):
            assert after[(name, ())] >= during[(name, ())], name


def test_configuration_is_checked() -> None:
    with pytest.raises(ValueError, match="16 characters"):
        load_settings(metrics_token="short")
    with pytest.raises(ValueError, match="host:port"):
        load_settings(metrics_bind="9464")


async def test_the_grafana_dashboard_asks_only_for_metrics_we_serve(tmp_path: Path) -> None:
    board = json.loads((Path(__file__).resolve().parents[2] / "docs/grafana-accord-operations.json").read_text())
    asked = {name for panel in board["panels"] for target in panel["targets"]
             for name in re.findall(r"accord_[a-z_]+", target["expr"])}
    async with running_server(tmp_path, metrics_token=TOKEN) as server:
        async with aiohttp.ClientSession() as http, http.get(f"{server.url}/api/no-such") as resp:
            assert resp.status == 404  # an error, so the errors' family has a sample
        served = {name for name, _ in samples((await scrape(server.url, AUTH))[1])}
    assert len(asked) >= 10 and asked <= served, asked - served


async def test_verifications_are_counted_and_the_signature_routes_exist(tmp_path: Path) -> None:
    """The routes the counters watch are the API's own, and a verification served is counted once."""
    paths = {ep.path for ep in registry.endpoints if ep.method == "POST"}
    assert set(SIGNATURE_ROUTES) | VERIFICATION_ROUTES <= paths
    async with running_server(tmp_path, metrics_token=TOKEN) as server:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{server.url}/api/verify", data=blank_pdf(["applicant"]),
                                 headers={"Content-Type": "application/pdf"}) as resp:
                assert resp.status == 200, await resp.text()
                assert (await resp.json())["valid"] is False  # a PDF without signatures: verified, not valid
        figures = samples((await scrape(server.url, AUTH))[1])
    assert figures[("accord_verifications_total", ())] == 1
    assert figures[("accord_signatures_total", (("kind", "party"),))] == 0
