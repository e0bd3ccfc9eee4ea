"""Friendly HTML pages for browsers: an unknown URL (404) and a server failure (500).

API clients keep the JSON error shape: anything under ``/api/`` and any request that does not
accept ``text/html`` goes on to ``error_middleware``. The pages are static (no template, no
request data echoed), so they need no escaping and obey the pages' CSP; the page's script
translates them like every other page.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from .errors import ApiError

log = logging.getLogger(__name__)

PAGES = Path(__file__).resolve().parent.parent / "web_client" / "errors"
NOT_FOUND_PAGE = PAGES / "404.html"
SERVER_ERROR_PAGE = PAGES / "500.html"


def wants_html(request: web.Request) -> bool:
    """A browser navigation: GET/HEAD outside the API whose ``Accept`` names HTML."""
    return (request.method in ("GET", "HEAD") and not request.path.startswith("/api/")
            and "text/html" in request.headers.get("Accept", ""))


def _page(path: Path, status: int) -> web.FileResponse:
    return web.FileResponse(path, status=status, headers={"Cache-Control": "no-store"})


@web.middleware
async def html_error_pages(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPNotFound:
        if not wants_html(request):
            raise
        return _page(NOT_FOUND_PAGE, 404)
    except (web.HTTPException, ApiError):  # a deliberate answer keeps its own shape
        raise
    except Exception:
        if not wants_html(request):
            raise  # error_middleware logs it and answers the JSON 500
        log.exception("unhandled error", extra={"path": request.path, "method": request.method})
        return _page(SERVER_ERROR_PAGE, 500)
