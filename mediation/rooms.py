"""The seam to the video rooms (``signaling`` owns them). Step 4 asks for a room and for each
participant's invitation through this protocol; the API layer wires the real room service.

A room opened here belongs to its case: the room service asks
:meth:`mediation.case_video.CaseVideo.may_run_room` who may manage it, so a change of mediator
carries over and a room id alone grants nothing.

Its seats are the case's participants (:class:`CaseSeat`): the case system decides who someone
is in the case, the room service only turns that into a seat and a join link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

#: The part a seat plays in the case, as the room shows it ("申请人 张三").
CASE_ROLES: tuple[str, ...] = ("applicant_party", "respondent_party", "applicant_agent", "respondent_agent",
                               "mediator", "court_clerk", "judge")


@dataclass(frozen=True)
class CaseSeat:
    """One case participant's place in the case's room.

    ``role`` is the room role (mediator | party | agent | observer) that decides what the seat may
    do; ``case_role`` (one of :data:`CASE_ROLES`) who the person is in the case. ``name`` comes from
    the case (a party's name as the case records it, otherwise the account's name), never from a
    request. ``account_id`` is ``None`` only for a guest who has no account and enters by a link
    the mediator made; ``participant`` is the case party row (``med_case_parties.id``) that a
    party, an agent or such a guest speaks for."""

    role: str
    side: str | None
    name: str
    case_role: str
    account_id: str | None
    participant: str | None


@dataclass(frozen=True)
class RoomInvitation:
    """A join link for one seat. A participant's seat is the same on every invitation (a party's is
    their case party's, whether they come signed in or by the mediator's link): opening the room
    again takes the seat over."""

    room_id: str
    seat: str
    url: str
    token: str
    expires_at: datetime
    role: str
    side: str | None
    name: str
    case_role: str
    account_id: str | None
    participant: str | None


class RoomScheduler(Protocol):
    async def create_room(self, case_id: str, opened_by: str, organisation: str | None) -> str:
        """Open the case's room and return its id; ``opened_by`` is the account (or integrating
        system) that opened it, ``organisation`` the case's mediation organisation."""
        ...

    async def invite(self, room_id: str, seat: CaseSeat) -> RoomInvitation:
        """A join link for ``seat``. Raises :class:`~mediation.errors.Forbidden`
        (``removed_from_room``) for a participant the mediator removed from the room."""
        ...
