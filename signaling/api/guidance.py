"""Guidance before filing over HTTP and Socket.IO: the assistant (``guide:ask`` on the page's
Socket.IO connection, and ``GET /api/guidance/answer``), diagnosis, the cost estimator, similar
cases, consultation requests (public), and the knowledge base's editing (platform administrators).

Public calls are bounded: sizes by the models below, rates per client address (HTTP) or per
connection (Socket.IO) by :class:`RateLimit` — a per-node window, so a client spread over several
nodes gets the limit on each.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from decimal import Decimal
from typing import Any, Literal

import socketio
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mediation.directory import DISPUTE_TYPES
from mediation.guidance.assistant import Entry, MAX_QUESTION_CHARS
from mediation.guidance.diagnosis import Answers
from mediation.guidance.fees import LawyerFees
from mediation.guidance.service import GuidanceService
from mediation.services import MediationServices

from ..auth import PUBLIC
from ..client_address import client_address
from ..config import Settings
from ..errors import ApiError
from ..openapi import Query, api, query_of
from .accounts import Strict, actor_of, domain_errors, dump
from .notifications import NOTIFIER_KEY

log = logging.getLogger(__name__)

TAG = "guidance"
EDITORS = frozenset({"platform_admin"})
CONSULTATION_READERS = frozenset({"org_admin", "platform_admin"})
GUIDANCE_KEY = web.AppKey("guidance", GuidanceService)
LIMIT_KEY = web.AppKey("guidance_rate_limit", "AddressLimit")
DisputeType = Literal[tuple(DISPUTE_TYPES)]  # type: ignore[valid-type]


class RateLimit:
    """At most ``per_minute`` calls per key in any sliding minute; keys forgotten when idle."""

    def __init__(self, per_minute: int, max_keys: int = 50_000):
        self.per_minute = per_minute
        self.max_keys = max_keys
        self._calls: dict[str, deque[float]] = {}

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        calls = self._calls.get(key)
        if calls is None:
            if len(self._calls) >= self.max_keys:
                self._forget_idle(now)
            calls = self._calls[key] = deque()
        while calls and now - calls[0] > 60:
            calls.popleft()
        if len(calls) >= self.per_minute:
            return False
        calls.append(now)
        return True

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, c in self._calls.items() if not c or now - c[-1] > 60]:
            del self._calls[key]


class AddressLimit:
    """The HTTP side: a :class:`RateLimit` keyed by the client's address (proxies as configured)."""

    def __init__(self, settings: Settings):
        self.limit = RateLimit(settings.guidance_per_minute)
        self.trusted_proxies = settings.trusted_proxies

    def check(self, request: web.Request) -> None:
        if not self.limit.allow(client_address(request, self.trusted_proxies) or "unknown"):
            raise ApiError(429, "rate_limited", "too many guidance requests; wait a minute",
                           headers={"Retry-After": "60"})


def setup_guidance(app: web.Application, settings: Settings, services: MediationServices,
                   sio: socketio.AsyncServer) -> None:
    guidance = GuidanceService(services.db, services.cases.clock, lawyer=LawyerFees(
        Decimal(str(settings.guidance_lawyer_rate)), Decimal(settings.guidance_lawyer_minimum)),
        notifier=app.get(NOTIFIER_KEY))
    app[GUIDANCE_KEY] = guidance
    app[LIMIT_KEY] = AddressLimit(settings)
    GuidanceEvents(sio, guidance, RateLimit(settings.guidance_per_minute))

    async def seed(_: web.Application) -> None:
        await guidance.seed()

    app.on_startup.append(seed)


def _of(request: web.Request) -> GuidanceService:
    return request.app[GUIDANCE_KEY]


def _throttle(request: web.Request) -> None:
    request.app[LIMIT_KEY].check(request)


# --- the assistant ----------------------------------------------------------------------------
class AskQuery(Query):
    q: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    lang: Literal["zh", "en"] | None = None


@api.route("GET", "/api/guidance/answer", summary="The assistant's answer to a question, citing its entry",
           allow=PUBLIC, tag=TAG, query=AskQuery)
@domain_errors
async def answer(request: web.Request, _: None) -> Any:
    """``outcome``: ``answer``, ``unsure`` (below the confidence threshold; a consultation is offered)
    or ``declined`` (not about disputes). Declined and unsure questions are logged for the editors."""
    _throttle(request)
    q: AskQuery = query_of(request)
    return dump(await _of(request).ask(q.q, q.lang))


class Ask(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    lang: Literal["zh", "en"] | None = None


class GuidanceEvents:
    """``guide:ask {question, lang?}`` from any connection, signed in or not: bounded by the model's
    sizes and a per-connection rate; the acknowledgement carries the reply."""

    def __init__(self, sio: socketio.AsyncServer, guidance: GuidanceService, limit: RateLimit):
        self.guidance = guidance
        self.limit = limit
        sio.on("guide:ask", self.on_ask)

    async def on_ask(self, sid: str, data: Any = None, *extra: Any) -> dict[str, Any]:
        if extra or not isinstance(data, dict):
            return _refuse("bad_event", "guide:ask takes one payload object")
        if not self.limit.allow(sid):
            return _refuse("rate_limited", "too many questions; wait a minute")
        try:
            ask = Ask.model_validate(data)
        except ValidationError:
            return _refuse("bad_event", f"invalid guide:ask: a question of 1-{MAX_QUESTION_CHARS} characters")
        if not ask.question.strip():
            return _refuse("bad_event", "invalid guide:ask: the question is blank")
        try:
            reply = await self.guidance.ask(ask.question, ask.lang)
        except Exception:  # a bad event never raises into python-socketio (see room_events.py)
            log.exception("guide:ask failed")
            return _refuse("internal", "the server could not answer now")
        return {"ok": True, "reply": dump(reply)}


def _refuse(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}


# --- knowledge base editing -------------------------------------------------------------------
class EntryIn(Strict):
    topic: str = Field(min_length=1, max_length=40)
    question_zh: str = Field(min_length=1, max_length=300)
    question_en: str = Field(min_length=1, max_length=300)
    answer_zh: str = Field(min_length=1, max_length=4000)
    answer_en: str = Field(min_length=1, max_length=4000)
    source: str = Field(min_length=1, max_length=300)
    keywords: list[str] = Field(default_factory=list, max_length=40)


@api.route("GET", "/api/guidance/entries", summary="The assistant's knowledge base", allow=PUBLIC, tag=TAG,
           query=Query)
@domain_errors
async def entries(request: web.Request, _: None) -> Any:
    return dump(await _of(request).entries())


@api.route("PUT", "/api/guidance/entries/{entry_id}", summary="Create or replace a knowledge-base entry",
           allow=EDITORS, tag=TAG, request=EntryIn)
@domain_errors
async def put_entry(request: web.Request, body: EntryIn) -> Any:
    entry_id = request.match_info["entry_id"]
    if not (0 < len(entry_id) <= 64):
        raise ApiError(422, "bad_entry_id", "an entry id has 1-64 characters")
    return dump(await _of(request).put_entry(actor_of(request), Entry(
        entry_id, body.topic, body.question_zh, body.question_en, body.answer_zh, body.answer_en, body.source,
        tuple(k[:60] for k in body.keywords))))


@api.route("DELETE", "/api/guidance/entries/{entry_id}", summary="Remove a knowledge-base entry",
           allow=EDITORS, tag=TAG, status=204)
@domain_errors
async def delete_entry(request: web.Request, _: None) -> Any:
    await _of(request).delete_entry(actor_of(request), request.match_info["entry_id"])
    return None


class Limited(Query):
    limit: int = Field(default=100, ge=1, le=500)


@api.route("GET", "/api/guidance/unanswered", summary="Questions the assistant declined or was unsure of",
           allow=EDITORS, tag=TAG, query=Limited)
@domain_errors
async def unanswered(request: web.Request, _: None) -> Any:
    q: Limited = query_of(request)
    return await _of(request).unanswered(actor_of(request), q.limit)


# --- consultations ----------------------------------------------------------------------------
class ConsultationIn(Strict):
    organisation_id: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=50)
    phone: str = Field(pattern=r"^\+?[0-9 -]{6,20}$")
    question: str = Field(min_length=1, max_length=1000)
    dispute_type: DisputeType | None = None


@api.route("POST", "/api/guidance/consultations", summary="Ask an organisation for a human consultation",
           allow=PUBLIC, tag=TAG, request=ConsultationIn, status=201)
@domain_errors
async def request_consultation(request: web.Request, body: ConsultationIn) -> Any:
    _throttle(request)
    request_id = await _of(request).request_consultation(body.organisation_id, body.name, body.phone,
                                                         body.question, body.dispute_type)
    return {"id": request_id}


@api.route("GET", "/api/guidance/consultations", summary="Consultation requests to the caller's organisation",
           allow=CONSULTATION_READERS, tag=TAG, query=Limited)
@domain_errors
async def consultations(request: web.Request, _: None) -> Any:
    q: Limited = query_of(request)
    return await _of(request).consultations(actor_of(request), q.limit)


# --- diagnosis, estimate, similar cases -------------------------------------------------------
class DiagnosisIn(Strict):
    dispute_type: DisputeType
    amount: Decimal | None = Field(default=None, ge=0, le=Decimal(10) ** 12)
    relationship: Literal["family", "neighbour", "employment", "business", "consumer", "landlord", "stranger",
                          "other"]
    urgency: Literal["low", "normal", "urgent"] = "normal"
    written_evidence: bool
    arbitration_clause: bool = False


@api.route("POST", "/api/guidance/diagnosis", summary="A recommended path for a dispute, with reasons and law",
           allow=PUBLIC, tag=TAG, request=DiagnosisIn)
@domain_errors
async def diagnosis(request: web.Request, body: DiagnosisIn) -> Any:
    return dump(_of(request).diagnose(Answers(body.dispute_type, body.amount, body.relationship, body.urgency,
                                              body.written_evidence, body.arbitration_clause)))


class EstimateQuery(Query):
    dispute_type: DisputeType
    amount: Decimal = Field(ge=0, le=Decimal(10) ** 12)
    simplified: bool = False
    lawyer: bool = True


@api.route("GET", "/api/guidance/estimate", summary="Litigation cost and time against mediation",
           allow=PUBLIC, tag=TAG, query=EstimateQuery)
@domain_errors
async def estimate(request: web.Request, _: None) -> Any:
    """Court fee by 《诉讼费用交纳办法》 art. 13 (halved if ``simplified``), a typical lawyer fee if
    ``lawyer``, against this platform's settlement rate and median duration for the type."""
    q: EstimateQuery = query_of(request)
    return dump(await _of(request).estimate(q.dispute_type, q.amount, simplified=q.simplified, with_lawyer=q.lawyer))


class SimilarQuery(Query):
    q: str = Field(min_length=2, max_length=1000)
    limit: int = Field(default=5, ge=1, le=20)


@api.route("GET", "/api/guidance/similar-cases", summary="Past cases most similar to a described dispute",
           allow=PUBLIC, tag=TAG, query=SimilarQuery)
@domain_errors
async def similar_cases(request: web.Request, _: None) -> Any:
    _throttle(request)
    q: SimilarQuery = query_of(request)
    return dump(await _of(request).similar(q.q, q.limit))
