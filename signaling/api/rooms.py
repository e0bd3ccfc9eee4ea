"""Rooms over HTTP: create a room, issue invitations, end it.

Every room has an owner (:class:`~signaling.room_store.RoomOwner`). A room that belongs to a
platform case is managed by the case's mediator and the administrators of the case's
organisation, as the case system says (:meth:`mediation.case_video.CaseVideo.may_run_room`); a room
created here by its creator and the administrators of the creator's organisation. Platform
administrators and integrating systems manage every room. To anyone else a room is a 404 exactly
like a missing one: room ids appear in case timelines and join tokens and must grant nothing.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..auth import Principal
from ..config import Settings
from ..errors import ApiError
from ..openapi import api, principal_of
from ..room_events import RoomHub
from ..room_store import RoomOwner, RoomRecord, RoomStore
from ..tokens import TokenIssuer
from .accounts import actor_for, services_of

SETTINGS_KEY = web.AppKey("settings", Settings)
ROOM_STORE_KEY = web.AppKey("room_store", RoomStore)
TOKENS_KEY = web.AppKey("tokens", TokenIssuer)
HUB_KEY = web.AppKey("room_hub", RoomHub)

ROOM_MANAGERS = frozenset({"service", "platform_admin", "mediator", "org_admin"})
#: Roles that manage every room.
OVERSIGHT = frozenset({"service", "platform_admin"})


class CreateRoom(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case_id: str = Field(min_length=1, max_length=64, pattern=r"^[\w\-./()（）\u4e00-\u9fff]+$")
    title: str = Field(default="", max_length=200)


class RoomOut(BaseModel):
    room_id: str
    case_id: str
    title: str
    created_at: datetime
    ended_at: datetime | None
    live_participants: int = 0

    @classmethod
    def of(cls, record: RoomRecord, live: int = 0) -> "RoomOut":
        return cls(room_id=record.room_id, case_id=record.case_id, title=record.title,
                   created_at=record.created_at, ended_at=record.ended_at, live_participants=live)


class CreateInvite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["mediator", "party", "agent", "observer"]
    side: Literal["applicant", "respondent"] | None = None
    name: str = Field(min_length=1, max_length=64)
    ttl_seconds: int = Field(default=4 * 3600, ge=60, le=7 * 24 * 3600)

    @model_validator(mode="after")
    def _side_matches_role(self) -> "CreateInvite":
        if self.role in ("party", "agent") and self.side is None:
            raise ValueError(f"a {self.role} needs side applicant or respondent")
        if self.role in ("mediator", "observer") and self.side is not None:
            raise ValueError(f"a {self.role} has no side")
        return self


class InviteOut(BaseModel):
    room_id: str
    seat: str
    role: str
    side: str | None
    name: str
    token: str
    url: str
    expires_at: datetime


async def _may_manage(request: web.Request, principal: Principal, owner: RoomOwner | None) -> bool:
    if principal.has_any(OVERSIGHT):
        return True
    if owner is None:  # made before owners were recorded
        return False
    if owner.case_id is not None:
        return await services_of(request).video.may_run_room(actor_for(principal), owner.case_id)
    if principal.kind == "user" and principal.subject == owner.created_by:
        return True
    return "org_admin" in principal.roles and owner.organisation is not None \
        and principal.attributes.get("organisation") == owner.organisation


async def _room(request: web.Request) -> RoomRecord:
    """The room in the path, if the caller may manage it; otherwise the same 404 as a missing room."""
    record = await request.app[ROOM_STORE_KEY].get(request.match_info["room_id"])
    if record is None or not await _may_manage(request, principal_of(request), record.owner):
        raise ApiError(404, "room_not_found", "no such room")
    return record


@api.route("POST", "/api/rooms", summary="Create a video mediation room", allow=ROOM_MANAGERS,
           tag="rooms", request=CreateRoom, response=RoomOut, status=201)
async def create_room(request: web.Request, body: CreateRoom) -> RoomOut:
    """``case_id`` is a label (e.g. the integrating system's case number): the room belongs to its
    creator and the creator's organisation. A platform case's room is opened by its step 4
    (``POST /api/cases/{case_id}/video``) and belongs to that case."""
    principal = principal_of(request)
    owner = RoomOwner(case_id=None, created_by=principal.subject, organisation=principal.attributes.get("organisation"))
    record = await request.app[ROOM_STORE_KEY].create(body.case_id, body.title, owner)
    return RoomOut.of(record)


@api.route("GET", "/api/rooms/{room_id}", summary="A room and how many people are connected", allow=ROOM_MANAGERS,
           tag="rooms", response=RoomOut)
async def get_room(request: web.Request, _: None) -> RoomOut:
    record = await _room(request)
    live = request.app[HUB_KEY].rooms.get(record.room_id)
    return RoomOut.of(record, len(live.sid_of) if live else 0)


@api.route("POST", "/api/rooms/{room_id}/invites", summary="Issue a join link for one seat", allow=ROOM_MANAGERS,
           tag="rooms", request=CreateInvite, response=InviteOut, status=201)
async def create_invite(request: web.Request, body: CreateInvite) -> InviteOut:
    """The link carries a signed, expiring token in its fragment; one link is one seat. Not for a
    platform case's room: its seats are the case's participants, who enter from the case page (a
    party without an account by the mediator's ``POST /api/cases/{case_id}/video/guest-links``)."""
    record = await _room(request)
    if record.ended_at is not None:
        raise ApiError(409, "room_ended", "the room has ended; create a new one")
    if record.case_bound:
        raise ApiError(409, "case_room", "this room belongs to a case: its participants enter from the case page, "
                                         "and the mediator makes links for parties without an account there",
                       {"case_id": record.case_id})
    token, claims = request.app[TOKENS_KEY].issue(record.room_id, body.role, body.name, body.side,
                                                  ttl=body.ttl_seconds)
    base = request.app[SETTINGS_KEY].base_url
    return InviteOut(room_id=record.room_id, seat=claims.seat, role=claims.role, side=claims.side,
                     name=claims.name, token=token, url=f"{base}/join#{token}",
                     expires_at=datetime.fromtimestamp(claims.exp, timezone.utc))


@api.route("DELETE", "/api/rooms/{room_id}", summary="End the session: everyone is disconnected",
           allow=ROOM_MANAGERS, tag="rooms", response=RoomOut)
async def end_room(request: web.Request, _: None) -> RoomOut:
    record = await _room(request)
    hub = request.app[HUB_KEY]
    live = hub.rooms.get(record.room_id)
    if live is not None:
        async with live.lock:
            await hub.end_room(live)
    else:
        await request.app[ROOM_STORE_KEY].mark_ended(record.room_id)
    return RoomOut.of(await _room(request))
