"""A friendly HTML page for browsers that ask for an unknown URL.

API clients keep the JSON error shape: anything under ``/api/`` and any request that does not
accept ``text/html`` goes on to ``error_middleware``. The page is static (no template, no
request data echoed), so it needs no escaping and obeys the pages' CSP.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

NOT_FOUND_PAGE = Path(__file__).resolve().parent.parent / "web_client" / "errors" / "404.html"


def wants_html(request: web.Request) -> bool:
    """A browser navigation: GET/HEAD outside the API whose ``Accept`` names HTML."""
    return (request.method in ("GET", "HEAD") and not request.path.startswith("/api/")
            and "text/html" in request.headers.get("Accept", ""))


@web.middleware
async def not_found_page(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPNotFound:
        if not wants_html(request):
            raise
        return web.FileResponse(NOT_FOUND_PAGE, status=404, headers={"Cache-Control": "no-store"})
