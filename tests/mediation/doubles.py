"""Test doubles for the case system's ports, and fictional identity numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from mediation.id_numbers import check_character
from mediation.rooms import CaseSeat, RoomInvitation

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def id_number(serial: int, birth: str = "19800101", region: str = "510104") -> str:
    """A well-formed (fictional) GB 11643 number."""
    first17 = f"{region}{birth}{serial % 1000:03d}"
    return first17 + check_character(first17)


class MemorySms:
    """The SmsGateway the tests read codes from."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, phone: str, text: str) -> None:
        self.sent.append((phone, text))

    def last_code(self, phone: str) -> str:
        for to, body in reversed(self.sent):
            found = re.search(r"\b(\d{6})\b", body)
            if to == phone and found:
                return found.group(1)
        raise AssertionError(f"no code sent to {phone}")


@dataclass
class RecordingRooms:
    """A RoomScheduler test double that records what the case system asked for."""

    created: list[str] = field(default_factory=list)
    owners: list[tuple[str, str | None]] = field(default_factory=list)
    invites: list[tuple[str, CaseSeat]] = field(default_factory=list)

    async def create_room(self, case_id: str, opened_by: str, organisation: str | None) -> str:
        self.created.append(case_id)
        self.owners.append((opened_by, organisation))
        return f"r_{case_id.lower()}"

    async def invite(self, room_id: str, seat: CaseSeat) -> RoomInvitation:
        self.invites.append((room_id, seat))
        holder = seat.account_id or f"p{seat.participant}"
        return RoomInvitation(room_id, f"s_{holder}", f"https://accord.test/join#{room_id}.{holder}", "token",
                              START + timedelta(hours=4), seat.role, seat.side, seat.name, seat.case_role,
                              seat.account_id, seat.participant)


@dataclass
class RecordingEvents:
    seen: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def publish(self, case_id: str, event: dict[str, Any]) -> None:
        self.seen.append((case_id, event))
