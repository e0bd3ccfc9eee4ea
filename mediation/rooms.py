"""The seam to the video rooms (``signaling`` owns them). Step 4 asks for a room and for each
participant's invitation through this protocol; the API layer wires the real room service.

A room opened here belongs to its case: the room service asks
:meth:`mediation.cases.CaseService.may_run_room` who may manage it, so a change of mediator
carries over and a room id alone grants nothing."""

from __future__ import annotations

from typing import Protocol


class RoomScheduler(Protocol):
    async def create_room(self, case_id: str, opened_by: str, organisation: str | None) -> str:
        """Open the case's room and return its id; ``opened_by`` is the account (or integrating
        system) that opened it, ``organisation`` the case's mediation organisation."""
        ...

    async def invite(self, room_id: str, role: str, side: str | None, name: str) -> str:
        """A join URL for one seat: ``role`` is mediator | party | agent | observer."""
        ...
