"""Work a server repeats on a timer (deadline scan, retention sweep) for as long as it runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

log = logging.getLogger(__name__)


def run_periodically(app: web.Application, name: str, interval: float, work: Callable[[], Awaitable[object]],
                     *, at_start: bool = False) -> None:
    """Await ``work()`` every ``interval`` seconds from start-up to clean-up (``at_start``: also
    once right away); a failure is logged and the next round runs as planned."""

    async def periodic(_: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            if not at_start:
                await asyncio.sleep(interval)
            while True:
                try:
                    await work()
                except Exception:
                    log.exception("%s failed", name)
                await asyncio.sleep(interval)

        task = asyncio.create_task(loop())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(periodic)
