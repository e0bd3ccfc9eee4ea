"""Scheduled video sessions and the mediator's desk over HTTP. The case's mediator schedules and
cancels; everyone who may read the case sees its sessions; the desk is the caller's own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import Field

from ..openapi import api
from .accounts import Empty, Strict, actor_of, domain_errors, dump, services_of
from .cases import EVERYONE, MEDIATOR, TAG


def _case_id(request: web.Request) -> str:
    return request.match_info["case_id"]


class SessionIn(Strict):
    starts_at: datetime = Field(description="with its time zone, e.g. 2026-12-10T14:00:00+08:00")
    duration_minutes: int = Field(default=60, ge=15, le=240)
    note: str = Field(default="", max_length=500, description="for the parties, e.g. what to prepare")


@api.route("POST", "/api/cases/{case_id}/sessions",
           summary="Schedule a video session (step 3-4); the parties are told and see it on their case page",
           allow=MEDIATOR, tag=TAG, request=SessionIn, status=201)
@domain_errors
async def schedule_session(request: web.Request, body: SessionIn) -> Any:
    return dump(await services_of(request).sessions.schedule(actor_of(request), _case_id(request), body.starts_at,
                                                              body.duration_minutes, body.note))


@api.route("GET", "/api/cases/{case_id}/sessions", summary="The case's scheduled video sessions", allow=EVERYONE,
           tag=TAG)
@domain_errors
async def list_sessions(request: web.Request, _: None) -> Any:
    return dump(await services_of(request).sessions.of_case(actor_of(request), _case_id(request)))


@api.route("POST", "/api/cases/{case_id}/sessions/{session_id}/cancel", summary="Cancel a scheduled video session",
           allow=MEDIATOR, tag=TAG, request=Empty)
@domain_errors
async def cancel_session(request: web.Request, _: Empty) -> Any:
    return dump(await services_of(request).sessions.cancel(actor_of(request), _case_id(request),
                                                            request.match_info["session_id"]))


@api.route("GET", "/api/me/desk",
           summary="The mediator's to-do list: assignments to answer, overdue steps, today's sessions",
           allow=MEDIATOR, tag=TAG)
@domain_errors
async def mediator_desk(request: web.Request, _: None) -> Any:
    return dump(await services_of(request).desk.desk(actor_of(request)))
