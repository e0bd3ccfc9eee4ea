"""The mediator's actions in a case's video room, written to the case's audit trail.

The room lives in memory (:mod:`signaling.room`); what the mediator did there (admitted, muted,
took a side into a caucus, removed someone, ended the session) is part of the case's record, so
each action of a case-bound room becomes an audit entry ``room.<action>`` with the seat acted on.
Rooms made directly over the API have no case and only reach the server log.
"""

from __future__ import annotations

from typing import Any

from mediation import audit
from mediation.services import MediationServices

from .room import Seat
from .room_events import LiveRoom, RoomHub


def install_room_audit(hub: RoomHub, services: MediationServices) -> None:
    async def write(live: LiveRoom, actor: Seat, action: str, details: dict[str, Any]) -> None:
        if not live.case_bound:
            return
        who = actor.account_id or f"seat:{actor.seat}"
        await audit.record(services.db, live.room.case_id, who, f"room.{action}",
                           {"room": live.room.room_id, **details}, services.cases.clock.now())

    hub.moderation_hooks.append(write)
