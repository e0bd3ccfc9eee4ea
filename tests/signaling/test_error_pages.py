"""Unknown URLs and failures: browsers get friendly HTML pages (404, 500, same CSP), API clients the JSON shape."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from signaling.app import create_app
from signaling.config import load_settings

from .conftest import RunningServer

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


async def test_a_browser_gets_the_html_page_for_an_unknown_url(server: RunningServer) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}/no/such/page", headers=BROWSER) as resp:
        body = await resp.text()
        assert resp.status == 404
        assert resp.content_type == "text/html"
        assert 'data-i18n="notFound.title"' in body and "/js/public/not_found.js" in body
        assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
        assert "<script>" not in body  # no inline script: the CSP would block it


async def test_api_paths_stay_json_even_for_a_browser(server: RunningServer) -> None:
    async with aiohttp.ClientSession() as http:
        for path in ("/api/no-such-endpoint", "/api/directory/mediators/nobody"):
            async with http.get(f"{server.url}{path}", headers=BROWSER) as resp:
                assert resp.status == 404, path
                assert resp.content_type == "application/json", path
                assert set((await resp.json())["error"]) >= {"code", "message"}, path


async def test_clients_that_do_not_ask_for_html_get_json(server: RunningServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/no/such/page", headers={"Accept": "application/json"}) as resp:
            assert resp.status == 404
            assert (await resp.json())["error"]["code"] == "not_found"
        async with http.post(f"{server.url}/no/such/page", headers=BROWSER) as resp:  # not a page load
            assert resp.content_type == "application/json"


async def test_the_page_itself_is_not_served_as_a_page(server: RunningServer) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}/errors/404.html", headers=BROWSER) as resp:
        assert resp.status == 404  # the 404 page exists only as the answer to an unknown URL


async def test_a_failure_is_a_friendly_page_for_a_browser_and_json_for_api_clients(tmp_path: Path) -> None:
    """A handler that fails: the browser gets the 500 page (translated by its script), an API
    client the JSON ``internal`` error; neither sees the exception's text."""
    app = create_app(load_settings(data_dir=tmp_path / "data", port=0))

    async def broken(_: web.Request) -> web.Response:
        raise RuntimeError("secret detail of the failure")

    app.router.add_get("/broken-page", broken)
    async with TestClient(TestServer(app)) as client:
        page = await client.get("/broken-page", headers=BROWSER)
        body = await page.text()
        assert page.status == 500 and page.content_type == "text/html"
        assert 'data-i18n="serverError.title"' in body and "secret detail" not in body
        api = await client.get("/broken-page", headers={"Accept": "application/json"})
        assert api.status == 500 and (await api.json())["error"]["code"] == "internal"
        assert "secret detail" not in await api.text()
