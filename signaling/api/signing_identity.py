"""The identity check on the signing page: the live-capture session (WebRTC offer/answer over
HTTP), its verdict, the one-time code, and where the signer stands against the policy.

The signer is authenticated as for signing (signing link or session, :func:`.signing_ceremony.signer_context`)
and acts only on their own signature field; anyone else's field is the 404 of a field that does
not exist. Results come from the server's own checks, never from the browser.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated

from aiohttp import web
from aiortc import RTCIceServer
from pydantic import BaseModel, Field

from identity.checks import StoredIdentityGate
from identity.provider_client import HttpIdentityProvider
from identity.recorder import CheckRecorder, CheckTarget
from identity.worker import shutdown as stop_workers
from mediation.errors import InvalidInput
from mediation.outbound import OutboundPolicy
from rtc.errors import RtcError
from signing.attestation_key import AttestationKeyStore
from signing.ceremony import slot_subject

from ..auth import PUBLIC
from ..config import Settings, ice_network
from ..errors import ApiError
from ..identity_capture import LIFETIME, CaptureSession, IdentityCapture
from ..openapi import api
from ..recordings_setup import RECORDING_STORAGE_KEY, RECORDING_STORE_KEY
from .accounts import Strict, domain_errors, services_of
from .agreements import AGREEMENT_SETTINGS_KEY, GATE_KEY, PROVIDER_ANCHORS_KEY, RECORDER_KEY, current_version
from .identity import ENROLMENT_KEY
from .pki import PKI_KEY
from .signing_ceremony import signer_context

CAPTURE_KEY = web.AppKey("identity_capture", IdentityCapture)
#: The configured real-name provider (``identity_provider_url``), when there is one.
PROVIDER_CLIENT_KEY = web.AppKey("identity_provider_client", HttpIdentityProvider)
TAG = "identity"


def setup_signing_identity(app: web.Application, settings: Settings) -> None:
    """Live capture and the code on the signing page. Call after the agreements, the PKI, the
    recordings and :func:`.identity.setup_identity`."""
    recorder = CheckRecorder(app[GATE_KEY], AttestationKeyStore(app[PKI_KEY]))
    ice = [RTCIceServer(urls=s.urls, username=s.username, credential=s.credential) for s in settings.ice_servers]
    provider = None
    if settings.identity_provider_url:
        provider = HttpIdentityProvider(settings.identity_provider_url, settings.identity_provider_name,
                                        app[PROVIDER_ANCHORS_KEY],
                                        OutboundPolicy(settings.webhook_allow_http, settings.webhook_allowed_hosts),
                                        app[GATE_KEY].clock)
        app[PROVIDER_CLIENT_KEY] = provider
    capture = IdentityCapture(ice, app[GATE_KEY], app[ENROLMENT_KEY], recorder,
                              (app[RECORDING_STORE_KEY], app[RECORDING_STORAGE_KEY]), ice_network(settings),
                              provider)
    app[RECORDER_KEY] = recorder
    app[CAPTURE_KEY] = capture

    async def close(_: web.Application) -> None:
        await capture.close()
        if provider is not None:
            await provider.close()

    async def stop(_: web.Application) -> None:
        await asyncio.to_thread(stop_workers)

    app.on_shutdown.append(close)
    app.on_cleanup.append(stop)


class SlotRef(Strict):
    field_name: Annotated[str, Field(min_length=1, max_length=64)]
    #: Only when signed in (a signing link names its agreement).
    agreement_id: Annotated[str, Field(min_length=1, max_length=32)] | None = None


class OfferIn(SlotRef):
    sdp: Annotated[str, Field(min_length=1, max_length=20_000)]


class CodeIn(SlotRef):
    code: Annotated[str, Field(min_length=4, max_length=8, pattern=r"^\s*\d+\s*$")]


class SessionOut(BaseModel):
    session_id: str
    #: ``waiting`` (for the connection and video), ``checking``, ``done``.
    state: str
    passed: bool | None
    #: Why it failed: ``no_face``, ``several_faces``, ``face_too_small``, ``no_match``, ``no_frames``, …
    reason: str | None
    score: float | None
    lifetime_seconds: float
    #: The checks this session runs (``face``, ``liveness``).
    methods: list[str]
    #: While ``liveness``: the prompt to show now (``turn_left``, ``turn_right``, ``nod``,
    #: ``come_closer``), its number from 1, and how many there are.
    prompt: str | None
    prompt_index: int
    prompt_count: int


class AnswerOut(BaseModel):
    sdp: str


class StandingOut(BaseModel):
    """The policy's checks, which of them this signer passed within the last minutes, and the
    failed attempts left before a pause."""

    required: list[str]
    passed: list[str]
    last_failure: str | None
    failures_left: int
    ice_servers: list[dict[str, object]]


class CodeSentOut(BaseModel):
    phone: str  # masked
    expires_at: dt.datetime


class CodeResultOut(BaseModel):
    passed: bool
    reason: str | None


async def _target(request: web.Request, field_name: str, agreement_id: str | None) -> CheckTarget:
    context = await signer_context(request, agreement_id)
    state = await current_version(request, context.agreement_id)
    slot = next((s for s in context.own_slots(state) if s.field_name == field_name), None)
    if slot is None:
        raise ApiError(404, "unknown_field", f"you have no signature field {field_name!r}")
    return CheckTarget(slot_subject(state, slot), state.version, slot.field_name)


def _query_target(request: web.Request) -> tuple[str, str | None]:
    field_name = request.query.get("field", "")
    if not field_name:
        raise ApiError(400, "bad_request", "say which signature field: ?field=<name>")
    return field_name, request.query.get("agreement")


def _session_out(session: CaptureSession) -> SessionOut:
    return SessionOut(session_id=session.session_id, state=session.state, passed=session.passed,
                      reason=session.reason, score=session.score, lifetime_seconds=LIFETIME,
                      methods=list(session.methods), prompt=session.prompt, prompt_index=session.prompt_index,
                      prompt_count=session.prompt_count)


def _gate(request: web.Request) -> StoredIdentityGate:
    return request.app[GATE_KEY]


@api.route("GET", "/api/sign/identity", summary="Your identity checks for a signature field: required, passed",
           allow=PUBLIC, tag=TAG, response=StandingOut)
async def identity_standing(request: web.Request, _: None) -> StandingOut:
    """``?field=`` (and ``?agreement=`` when signed in)."""
    target = await _target(request, *_query_target(request))
    status = await _gate(request).status(target.subject)
    settings = request.app[AGREEMENT_SETTINGS_KEY]
    return StandingOut(required=list(status.required), passed=list(status.passed), last_failure=status.last_failure,
                       failures_left=status.failures_left,
                       ice_servers=[s.to_browser() for s in settings.ice_servers])


@api.route("POST", "/api/sign/identity/sessions", summary="Start a live face check on this server",
           allow=PUBLIC, tag=TAG, request=SlotRef, response=SessionOut, status=201)
@domain_errors
async def open_session(request: web.Request, body: SlotRef) -> SessionOut:
    """Then send the camera's WebRTC offer to ``…/offer``; the server samples a few seconds of
    video and stores the verdict. Refused before enrolment (``not_enrolled``) and after too many
    failed attempts (``identity_attempts_exhausted``, 429)."""
    target = await _target(request, body.field_name, body.agreement_id)
    session = await request.app[CAPTURE_KEY].open(target)
    return _session_out(session)


@api.route("POST", "/api/sign/identity/sessions/{session_id}/offer",
           summary="The camera's WebRTC offer (publish only); the answer comes back",
           allow=PUBLIC, tag=TAG, request=OfferIn, response=AnswerOut)
@domain_errors
async def session_offer(request: web.Request, body: OfferIn) -> AnswerOut:
    target = await _target(request, body.field_name, body.agreement_id)
    capture = request.app[CAPTURE_KEY]
    session = capture.get(request.match_info["session_id"], target)
    try:
        return AnswerOut(sdp=await capture.answer(session, body.sdp))
    except RtcError as exc:
        raise ApiError(400, exc.code, exc.message) from None


@api.route("GET", "/api/sign/identity/sessions/{session_id}", summary="Where the live face check is, and its verdict",
           allow=PUBLIC, tag=TAG, response=SessionOut)
@domain_errors
async def session_status(request: web.Request, _: None) -> SessionOut:
    """``?field=`` (and ``?agreement=`` when signed in)."""
    target = await _target(request, *_query_target(request))
    return _session_out(request.app[CAPTURE_KEY].get(request.match_info["session_id"], target))


@api.route("POST", "/api/sign/identity/code", summary="Text a one-time code to your phone",
           allow=PUBLIC, tag=TAG, request=SlotRef, response=CodeSentOut, status=201)
@domain_errors
async def send_code(request: web.Request, body: SlotRef) -> CodeSentOut:
    """To the phone of the participant's account (``no_phone`` without one); at most one a minute."""
    target = await _target(request, body.field_name, body.agreement_id)
    if target.subject.participant_id is None:
        raise InvalidInput("no_phone", "this signature is not bound to an account with a phone")
    await _gate(request).ensure_attempts_left(target.subject)
    accounts = services_of(request).accounts
    sent = await accounts.send_code(await accounts.phone_of(target.subject.participant_id))
    return CodeSentOut(phone=sent.phone[:3] + "****" + sent.phone[-4:], expires_at=sent.expires_at)


@api.route("POST", "/api/sign/identity/code/verify", summary="Check the one-time code",
           allow=PUBLIC, tag=TAG, request=CodeIn, response=CodeResultOut)
@domain_errors
async def verify_code(request: web.Request, body: CodeIn) -> CodeResultOut:
    """Right or wrong, the attempt is stored as a check with its attestation (``wrong_code``,
    ``no_code`` when none is valid: ask for a new one)."""
    target = await _target(request, body.field_name, body.agreement_id)
    if target.subject.participant_id is None:
        raise InvalidInput("no_phone", "this signature is not bound to an account with a phone")
    gate = _gate(request)
    await gate.ensure_attempts_left(target.subject)
    started = gate.clock.now()
    refusal = await services_of(request).accounts.confirm_code(target.subject.participant_id, body.code.strip())
    recorded = await request.app[RECORDER_KEY].one_time_code(target, started, refusal)
    return CodeResultOut(passed=recorded.passed, reason=recorded.reason)
