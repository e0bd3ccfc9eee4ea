"""Identity at signing over HTTP: enrolment (case page), and the retention sweep's timer.

A participant enrols only themself (their session names them); the case's mediator sees who has
enrolled, never a photo. The photo travels base64 in JSON and is checked before anything is
stored (``image_unreadable``, ``image_too_large``, ``invalid_id_number``, ``consent_required``…).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from identity.enrolment import (CONSENT_TEXT, CONSENT_VERSION, ID_TYPES, REFERENCE_SOURCES, EnrolmentRequest,
                                EnrolmentService, EnrolmentStatus)
from identity.face_match import MAX_IMAGE_BYTES as MAX_REFERENCE_BYTES
from mediation.pii import PiiCipher
from mediation.services import MediationServices

from ..config import Settings, ensure_secret
from ..errors import ApiError
from ..openapi import api
from ..periodic import run_periodically
from .accounts import Strict, actor_of, domain_errors

ENROLMENT_KEY = web.AppKey("identity_enrolment", EnrolmentService)
TAG = "identity"
#: Who enrols (each only themself) and signs: the parties, their agents and the mediator.
PARTICIPANTS = frozenset({"party", "agent", "mediator"})
SWEEP_INTERVAL = 3600.0


def setup_identity(app: web.Application, settings: Settings, services: MediationServices) -> None:
    """The enrolment service over the case system (its own key for photos: ``secrets/biometric-key``),
    and the hourly sweep that deletes reference photos past ``identity_retention_days``."""
    enrolment = EnrolmentService(services.db, services.cases.clock, services.cases,
                                 services.cases.cipher, PiiCipher(ensure_secret(settings, "biometric-key")),
                                 dt.timedelta(days=settings.identity_retention_days))
    app[ENROLMENT_KEY] = enrolment
    run_periodically(app, "identity reference sweep", SWEEP_INTERVAL, enrolment.sweep)


class ConsentOut(BaseModel):
    version: str
    text: dict[str, str]
    retention_days: int


class EnrolmentIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    id_type: Literal[ID_TYPES]  # type: ignore[valid-type]
    id_number: Annotated[str, Field(min_length=1, max_length=40)]
    reference_source: Literal[REFERENCE_SOURCES]  # type: ignore[valid-type]
    #: The photo (JPEG or PNG), base64.
    photo: Annotated[str, Field(min_length=1, max_length=(MAX_REFERENCE_BYTES * 4) // 3 + 8)]
    consent: bool
    consent_version: Annotated[str, Field(max_length=20)]


class EnrolmentOut(BaseModel):
    account_id: str
    name: str
    id_type: str
    #: Masked.
    id_number: str
    reference_source: str
    consent_text_version: str
    consent_at: dt.datetime
    enrolled_at: dt.datetime
    delete_after: dt.datetime
    reference_kept: bool


class OwnEnrolmentOut(BaseModel):
    enrolment: EnrolmentOut | None
    consent: ConsentOut


class CaseEnrolmentsOut(BaseModel):
    enrolments: list[EnrolmentOut]


def _out(status: EnrolmentStatus) -> EnrolmentOut:
    return EnrolmentOut(account_id=status.account_id, name=status.name, id_type=status.id_type,
                        id_number=status.id_number, reference_source=status.reference_source,
                        consent_text_version=status.consent_text_version, consent_at=status.consent_at,
                        enrolled_at=status.enrolled_at, delete_after=status.delete_after,
                        reference_kept=status.reference_kept)


def _consent(request: web.Request) -> ConsentOut:
    retention = request.app[ENROLMENT_KEY].retention
    return ConsentOut(version=CONSENT_VERSION, text=CONSENT_TEXT, retention_days=retention.days)


@api.route("GET", "/api/cases/{case_id}/identity", summary="Your identity enrolment in this case",
           allow=PARTICIPANTS, tag=TAG, response=OwnEnrolmentOut)
@domain_errors
async def own_enrolment(request: web.Request, _: None) -> OwnEnrolmentOut:
    """Your enrolment (never the photo) and the consent text to agree to before enrolling."""
    status = await request.app[ENROLMENT_KEY].own(actor_of(request), request.match_info["case_id"])
    return OwnEnrolmentOut(enrolment=_out(status) if status else None, consent=_consent(request))


@api.route("PUT", "/api/cases/{case_id}/identity", summary="Enrol yourself for the identity check at signing",
           allow=PARTICIPANTS, tag=TAG, request=EnrolmentIn, response=EnrolmentOut,
           max_body=(MAX_REFERENCE_BYTES * 4) // 3 + 64 * 1024)
@domain_errors
async def enrol(request: web.Request, body: EnrolmentIn) -> EnrolmentOut:
    """Name, ID type and number (GB 11643 for a resident ID card; for a party, the number the case
    names), a reference photo and consent to biometric processing. Enrolling again replaces it."""
    try:
        photo = base64.b64decode(body.photo, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "image_unreadable", "the photo is not valid base64") from None
    status = await request.app[ENROLMENT_KEY].enrol(actor_of(request), request.match_info["case_id"], EnrolmentRequest(
        name=body.name, id_type=body.id_type, id_number=body.id_number, reference_source=body.reference_source,
        photo=photo, consent=body.consent, consent_version=body.consent_version))
    return _out(status)


@api.route("DELETE", "/api/cases/{case_id}/identity", summary="Withdraw consent: delete your reference photo",
           allow=PARTICIPANTS, tag=TAG, status=204)
@domain_errors
async def withdraw(request: web.Request, _: None) -> web.Response:
    """Deleted now, and written into the case's audit trail; signing then needs a new enrolment."""
    await request.app[ENROLMENT_KEY].withdraw(actor_of(request), request.match_info["case_id"])
    return web.Response(status=204)


@api.route("GET", "/api/cases/{case_id}/identity/enrolments", summary="Who has enrolled (the case's mediator)",
           allow=frozenset({"mediator", "platform_admin"}), tag=TAG, response=CaseEnrolmentsOut)
@domain_errors
async def case_enrolments(request: web.Request, _: None) -> CaseEnrolmentsOut:
    """Statuses only: the mediator never receives a photo or a full ID number."""
    statuses = await request.app[ENROLMENT_KEY].of_case(actor_of(request), request.match_info["case_id"])
    return CaseEnrolmentsOut(enrolments=[_out(s) for s in statuses])
