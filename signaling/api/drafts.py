"""Saved applications over HTTP: ``/api/me/application-draft``, the applicant's own unfinished form
(one per account; no id in the path, so nobody can name another's)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import Field

from ..openapi import api
from .accounts import Strict, actor_of, domain_errors, dump, services_of
from .cases import PARTIES, TAG

PATH = "/api/me/application-draft"


class DraftIn(Strict):
    data: dict[str, Any] = Field(description="the form's fields as the applicant left them (not checked until "
                                             "filed; at most 48 KiB as JSON)")


@api.route("GET", PATH, summary="Your saved application (404 when there is none)", allow=PARTIES, tag=TAG)
@domain_errors
async def get_draft(request: web.Request, _: None) -> Any:
    return dump(await services_of(request).drafts.get(actor_of(request)))


@api.route("PUT", PATH, summary="Save your unfinished application, to come back to it later", allow=PARTIES,
           tag=TAG, request=DraftIn)
@domain_errors
async def save_draft(request: web.Request, body: DraftIn) -> Any:
    return dump(await services_of(request).drafts.save(actor_of(request), body.data))


@api.route("DELETE", PATH, summary="Forget your saved application", allow=PARTIES, tag=TAG, status=204)
@domain_errors
async def delete_draft(request: web.Request, _: None) -> web.Response:
    await services_of(request).drafts.delete(actor_of(request))
    return web.Response(status=204)
