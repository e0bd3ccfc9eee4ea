"""The front-end dependencies the server hands out: pdf.js's module, worker, character maps and
standard fonts with the right types, and nothing else of the npm package (no path tricks)."""

from __future__ import annotations

import aiohttp

from .conftest import RunningServer


async def test_pdfjs_module_worker_and_data_are_served(server: RunningServer) -> None:
    async with aiohttp.ClientSession() as http:
        for path, kind in (("build/pdf.min.mjs", "text/javascript"), ("build/pdf.worker.min.mjs", "text/javascript"),
                           ("cmaps/UniGB-UCS2-H.bcmap", "application/octet-stream"),
                           ("standard_fonts/FoxitSerif.pfb", "application/octet-stream")):
            async with http.get(f"{server.url}/vendor/pdfjs/{path}") as resp:
                assert (resp.status, resp.content_type) == (200, kind), path
                assert len(await resp.read()) > 1000, path
                assert "script-src 'self'" in resp.headers["Content-Security-Policy"]


async def test_nothing_else_of_the_package_is_served(server: RunningServer) -> None:
    async with aiohttp.ClientSession() as http:
        for path in ("package.json", "web/pdf_viewer.mjs", "build/..%2Fpackage.json", "wasm/openjpeg.wasm",
                     "build/.hidden", "legacy/build/pdf.mjs"):
            async with http.get(f"{server.url}/vendor/pdfjs/{path}", headers={"Accept": "application/json"}) as resp:
                assert resp.status == 404, path
