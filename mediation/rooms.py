"""The seam to the video rooms (``signaling`` owns them). Step 4 asks for a room and for each
participant's invitation through this protocol; the API layer wires the real room service."""

from __future__ import annotations

from typing import Protocol


class RoomScheduler(Protocol):
    async def create_room(self, case_id: str) -> str:
        """Open the case's room and return its id."""
        ...

    async def invite(self, room_id: str, role: str, side: str | None, name: str) -> str:
        """A join URL for one seat: ``role`` is mediator | party | agent | observer."""
        ...
