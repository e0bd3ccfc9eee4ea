"""Finishing an agreement: the organisation's seal with the archive timestamp, and the final PDF
of a case for everyone who may see the case.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import Field

from ..openapi import api, principal_of
from .accounts import ACCOUNT_ROLES, actor_for, domain_errors
from .agreements import (AGREEMENT_SERVICES_KEY, CEREMONY_KEY, SEALERS, STORE_KEY, TAG, AgreementOut, StrictIn,
                         agreement_out, managed_agreement, pdf_response, refusals)

class VersionRef(StrictIn):
    version: int = Field(ge=1)


@api.route("POST", "/api/agreements/{agreement_id}/seal", summary="Affix the organisation seal and archive",
           allow=SEALERS, tag=TAG, request=VersionRef, response=AgreementOut)
@managed_agreement
async def seal_agreement(request: web.Request, body: VersionRef) -> AgreementOut:
    """After every other field is signed: the seal (server-held key), then the B-LTA archive timestamp."""
    with refusals():
        state = await request.app[CEREMONY_KEY].seal(request.match_info["agreement_id"], body.version)
    return agreement_out(state)


@api.route("GET", "/api/cases/{case_id}/agreement.pdf", summary="The case's signed and sealed agreement",
           allow=ACCOUNT_ROLES, tag=TAG)
@domain_errors
async def case_agreement_pdf(request: web.Request, _: None) -> web.Response:
    """The final archival PDF once everyone has signed and the seal is on (the case view's
    ``result.agreement_pdf_url``): for the case's parties and agents, its mediator, its
    organisation's administrators, the court it went to and platform administrators; the 404 of a
    case one cannot see for anyone else; 409 ``agreement_not_completed`` before."""
    services = request.app[AGREEMENT_SERVICES_KEY]
    state = await services.results.final_agreement(actor_for(principal_of(request)), request.match_info["case_id"])
    with refusals():
        pdf = await request.app[STORE_KEY].read_pdf(state)
    return pdf_response(pdf, f"{state.agreement_id}-v{state.version}.pdf")
