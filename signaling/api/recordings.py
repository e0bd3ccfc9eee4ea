"""Recordings of a case's video sessions over HTTP (issue 10): the case's recording policy, which
its mediator sets; the recordings themselves (list, play, download) follow below.

Access follows the case: whoever may not read the case gets the 404 of a case that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from mediation.recording_policy import RecordingPolicy

from ..openapi import api
from .accounts import Strict, actor_of, domain_errors, services_of
from .cases import EVERYONE, MEDIATOR

TAG = "cases"

Mode = Literal["off", "joint", "joint_and_caucus"]


class RecordingPolicyIn(Strict):
    mode: Mode = Field(description="off; joint: the joint session only (a caucus is never written); "
                                   "joint_and_caucus: the caucus too")


class RecordingPolicyOut(BaseModel):
    case_id: str
    mode: Mode
    set_by: str | None = Field(description="the mediator's account; null while the case never chose (off)")
    set_at: datetime | None

    @classmethod
    def of(cls, policy: RecordingPolicy) -> "RecordingPolicyOut":
        return cls.model_validate(policy, from_attributes=True)


def _case_id(request: web.Request) -> str:
    return request.match_info["case_id"]


@api.route("GET", "/api/cases/{case_id}/recording-policy", summary="Whether the case's video sessions are recorded",
           allow=EVERYONE, tag=TAG, response=RecordingPolicyOut)
@domain_errors
async def get_recording_policy(request: web.Request, _: None) -> RecordingPolicyOut:
    """For everyone who may read the case."""
    return RecordingPolicyOut.of(await services_of(request).recording_policy.view(actor_of(request),
                                                                                  _case_id(request)))


@api.route("PUT", "/api/cases/{case_id}/recording-policy",
           summary="The case's mediator decides whether its video sessions are recorded", allow=MEDIATOR, tag=TAG,
           request=RecordingPolicyIn, response=RecordingPolicyOut)
@domain_errors
async def set_recording_policy(request: web.Request, body: RecordingPolicyIn) -> RecordingPolicyOut:
    """Only the case's mediator, while the case is open; recorded in the case's audit trail. The
    room reads it when the mediator starts recording; nobody is recorded without their consent."""
    return RecordingPolicyOut.of(await services_of(request).recording_policy.set(actor_of(request), _case_id(request),
                                                                                 body.mode))
