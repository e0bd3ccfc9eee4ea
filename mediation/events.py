"""Live case progress. The domain publishes an event after each committed change; whoever shows
progress (the Socket.IO room ``case:<id>``, webhooks) subscribes to the hub."""

from __future__ import annotations

import logging
from typing import Any, Protocol

log = logging.getLogger(__name__)


class CaseEvents(Protocol):
    async def publish(self, case_id: str, event: dict[str, Any]) -> None: ...


class CaseEventHub:
    """Fans an event out to every subscriber. A failing subscriber is logged, never undoes the change."""

    def __init__(self) -> None:
        self._subscribers: list[CaseEvents] = []

    def subscribe(self, subscriber: CaseEvents) -> None:
        self._subscribers.append(subscriber)

    async def publish(self, case_id: str, event: dict[str, Any]) -> None:
        for subscriber in self._subscribers:
            try:
                await subscriber.publish(case_id, event)
            except Exception:
                log.exception("case event subscriber failed", extra={"case_id": case_id, "kind": event.get("kind")})
