"""Wait for a JavaScript condition in a page that runs under the site's Content-Security-Policy.

Playwright's ``wait_for_function`` compiles its predicate with ``eval`` inside the page, which
``script-src 'self'`` forbids; ``page.evaluate`` goes through the DevTools protocol, outside the
page's policy. So these poll with ``evaluate``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

POLL_S = 0.05


class PageWaitTimeout(AssertionError):
    pass


def _timed_out(expression: str, timeout_ms: float, last: BaseException | None) -> PageWaitTimeout:
    return PageWaitTimeout(f"not true within {timeout_ms:.0f} ms: {expression}"
                           + (f" (last error: {last})" if last else ""))


def wait_js(page: Any, expression: str, timeout: float = 15000) -> None:
    """Sync API: until ``expression`` is truthy (an error, e.g. during navigation, counts as not yet)."""
    deadline = time.monotonic() + timeout / 1000
    last: BaseException | None = None
    while True:
        try:
            if page.evaluate(expression):
                return
        except Exception as exc:  # noqa: BLE001  (Playwright's Error while the page changes)
            last = exc
        if time.monotonic() > deadline:
            raise _timed_out(expression, timeout, last)
        page.wait_for_timeout(POLL_S * 1000)


async def wait_js_async(page: Any, expression: str, timeout: float = 15000) -> None:
    """Async API twin of :func:`wait_js`."""
    deadline = time.monotonic() + timeout / 1000
    last: BaseException | None = None
    while True:
        try:
            if await page.evaluate(expression):
                return
        except Exception as exc:  # noqa: BLE001
            last = exc
        if time.monotonic() > deadline:
            raise _timed_out(expression, timeout, last)
        await asyncio.sleep(POLL_S)
