"""Signed webhooks: court and organisation systems learn of case events without polling.

An integrator registers a URL, the event kinds it wants (``["*"]`` for all) and optionally one
case. It receives the subscription's secret once, at creation. Every event then arrives as::

    POST <url>
    Content-Type: application/json
    Accord-Event-Id: evt_...            (the same on every retry: deduplicate on it)
    Accord-Signature: t=1764430000,v1=5257a869e7ec...

    {"id": "evt_...", "case_id": "CASE-...", "kind": "court.ruling", "at": "2026-...", "data": {...}}

``v1`` is the hex HMAC-SHA256, keyed with the secret (its UTF-8 bytes), of ``"<t>." + body``
where ``t`` is the Unix time of *this attempt* and ``body`` the exact bytes received. To verify:
split the header on ``,``, recompute the HMAC over the raw body, compare in constant time with
each ``v1`` value, and refuse a ``t`` more than a few minutes from your clock (replays).
:func:`verify_signature` does exactly that and is short enough to port.

The subscriptions that exist when the event is published get it, each with a delivery row
written at once; the POSTs run in the background (the request that caused the event never waits
for a receiver). Any answer other than 2xx, a timeout or a connection error is retried with
exponential backoff, a bounded number of times. Each event and subscription has a delivery row
whose status ends ``delivered`` or ``failed``. Events carry no personal data, only ids and states.

Destinations obey :mod:`mediation.outbound` (https, public addresses, or the operator's allow-list),
checked at subscription and again after DNS resolution for every connection; a refused destination
is final and logged as ``refused by the outbound policy``. Every failure without an HTTP answer is
logged as the same ``delivery failed: no HTTP answer``, so the log is no port scanner. Deleting a
subscription closes its pending deliveries; no attempt follows.

The row keeps the body and when the next attempt is due, so a delivery cut short by a restart is
resumed (:meth:`WebhookDispatcher.resume`, run at start-up) with the same event id and body,
signed anew at send time. Receivers must therefore deduplicate on ``Accord-Event-Id``: an attempt
cut off mid-request is repeated.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

import aiohttp
from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from yarl import URL

from .accounts import SERVICE_ROLE, Actor, Role
from .background import BackgroundTasks
from .clock import Clock
from .errors import Forbidden, InvalidInput, NotFound
from .outbound import REFUSED_BY_POLICY, OutboundPolicy, OutboundRefused
from .pii import PiiCipher
from .text import is_identifier
from .webhook_models import WebhookDelivery, WebhookSubscription

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Accord-Signature"
EVENT_ID_HEADER = "Accord-Event-Id"
ALL_KINDS = "*"
#: The case events the domain publishes (``mediation.cases``, ``mediation.court``, ``mediation.deadlines``,
#: ``mediation.video_sessions``).
EVENT_KINDS = frozenset({
    "case.created", "document.added", "consent", "mediator.chosen", "mediator.answered", "message",
    "video.opened", "video.scheduled", "video.cancelled", "step", "agreement.recorded", "agreement.effective",
    "mediation.failed", "rated",
    "complaint.filed", "court.application", "court.ruling", "deadline.overdue",
})
MAX_URL = 500
SUBSCRIPTION_DELETED = "subscription deleted before the delivery finished"
SECRET_CONTEXT = "webhook.secret"


# --- signatures -----------------------------------------------------------------------------
def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Accord-Signature`` header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass(frozen=True)
class SignatureCheck:
    valid: bool
    problem: str | None = None  # "malformed" | "too_old" | "mismatch" when not valid
    timestamp: int | None = None


def verify_signature(secret: str, header: str, body: bytes, tolerance: float = 300.0,
                     now: float | None = None) -> SignatureCheck:
    """Check an ``Accord-Signature`` header against the raw body, as a receiver should."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        return SignatureCheck(False, "malformed")
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return SignatureCheck(False, "too_old", timestamp)
    expected = sign(secret, timestamp, body).rpartition("v1=")[2]
    if any(hmac.compare_digest(expected, c) for c in candidates):
        return SignatureCheck(True, None, timestamp)
    return SignatureCheck(False, "mismatch", timestamp)


# --- subscriptions --------------------------------------------------------------------------
@dataclass(frozen=True)
class NewWebhook:
    url: str
    kinds: list[str]
    case_id: str | None = None


@dataclass(frozen=True)
class WebhookView:
    id: str
    url: str
    kinds: list[str]
    case_id: str | None
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class CreatedWebhook:
    """Returned once: ``secret`` is never shown again."""

    webhook: WebhookView
    secret: str


@dataclass(frozen=True)
class DeliveryView:
    event_id: str
    case_id: str
    kind: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class Target:
    """What the dispatcher needs to deliver to one subscription."""

    webhook_id: str
    url: str
    secret: str


def _view(row: WebhookSubscription) -> WebhookView:
    return WebhookView(row.id, row.url, list(row.kinds), row.case_id, row.created_by, row.created_at)


def _check_url(url: str) -> str:
    url = url.strip()
    if len(url) > MAX_URL:
        raise InvalidInput("too_long", f"the url is limited to {MAX_URL} characters", {"field": "url"})
    try:
        parsed = URL(url)
    except ValueError:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host or parsed.user is not None:
        raise InvalidInput("invalid_url", "the url must be an absolute http(s) URL without credentials",
                           {"field": "url"})
    return url


def _check_kinds(kinds: list[str]) -> list[str]:
    wanted = sorted(set(kinds))
    if not wanted:
        raise InvalidInput("missing_field", "say which event kinds you want (or \"*\")", {"field": "kinds"})
    if ALL_KINDS in wanted:
        return [ALL_KINDS]
    unknown = [k for k in wanted if k not in EVENT_KINDS]
    if unknown:
        raise InvalidInput("unknown_kind", f"unknown event kinds: {', '.join(unknown)}",
                           {"field": "kinds", "known": sorted(EVENT_KINDS)})
    return wanted


class WebhookService:
    """Subscriptions. Platform administrators manage all of them; an integrating system (an API
    key, role ``service``) sees and removes only its own."""

    def __init__(self, db: async_sessionmaker[AsyncSession], cipher: PiiCipher, clock: Clock,
                 outbound: OutboundPolicy | None = None):
        self.db = db
        self.cipher = cipher
        self.clock = clock
        self.outbound = outbound or OutboundPolicy()

    @staticmethod
    def _check_actor(actor: Actor) -> None:
        if actor.role not in (Role.PLATFORM_ADMIN, SERVICE_ROLE):
            raise Forbidden("not_an_integrator", "only platform administrators and integrating systems manage webhooks")

    @staticmethod
    def _owned(actor: Actor) -> ColumnElement[bool]:
        condition = WebhookSubscription.deleted_at.is_(None)
        if actor.role == Role.PLATFORM_ADMIN:
            return condition
        return condition & (WebhookSubscription.created_by == actor.id)

    async def create(self, actor: Actor, new: NewWebhook) -> CreatedWebhook:
        self._check_actor(actor)
        url = _check_url(new.url)
        await self.outbound.check_destination(url)
        kinds = _check_kinds(new.kinds)
        if new.case_id is not None and not is_identifier(new.case_id):
            raise InvalidInput("invalid_case_id", "not a case id", {"field": "case_id"})
        secret = "whsec_" + secrets.token_urlsafe(32)
        row = WebhookSubscription(id="wh_" + secrets.token_hex(8), url=url, kinds=kinds, case_id=new.case_id,
                                  secret_enc=self.cipher.encrypt(secret, context=SECRET_CONTEXT),
                                  created_by=actor.id, created_at=self.clock.now())
        async with self.db.begin() as s:
            s.add(row)
        return CreatedWebhook(_view(row), secret)

    async def list(self, actor: Actor) -> list[WebhookView]:
        self._check_actor(actor)
        async with self.db() as s:
            rows = (await s.scalars(select(WebhookSubscription).where(self._owned(actor))
                                    .order_by(WebhookSubscription.created_at, WebhookSubscription.id))).all()
        return [_view(r) for r in rows]

    async def _get(self, s: AsyncSession, actor: Actor, webhook_id: str) -> WebhookSubscription:
        self._check_actor(actor)
        row = await s.scalar(select(WebhookSubscription).where(
            WebhookSubscription.id == webhook_id, self._owned(actor))) if is_identifier(webhook_id) else None
        if row is None:
            raise NotFound("webhook_not_found", f"no webhook {webhook_id} that you manage")
        return row

    async def delete(self, actor: Actor, webhook_id: str) -> WebhookView:
        """Mark the subscription deleted and close its pending deliveries as failed, in one
        transaction: a dispatcher re-reads both before every attempt, so no retry follows."""
        async with self.db.begin() as s:
            row = await self._get(s, actor, webhook_id)
            now = self.clock.now()
            row.deleted_at = now
            await s.execute(update(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id,
                                                          WebhookDelivery.status == "pending")
                            .values(status="failed", last_error=SUBSCRIPTION_DELETED, next_attempt_at=None,
                                    finished_at=now))
        return _view(row)

    async def deliveries(self, actor: Actor, webhook_id: str, limit: int = 100) -> list[DeliveryView]:
        """The newest deliveries first."""
        async with self.db() as s:
            await self._get(s, actor, webhook_id)
            rows = (await s.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
                                    .order_by(WebhookDelivery.id.desc()).limit(limit))).all()
        return [DeliveryView(r.event_id, r.case_id, r.kind, r.status, r.attempts, r.last_status_code, r.last_error,
                             r.created_at, r.finished_at) for r in rows]

    async def targets(self, case_id: str, kind: str) -> list[Target]:
        """The live subscriptions that want this event."""
        async with self.db() as s:
            rows = (await s.scalars(select(WebhookSubscription).where(
                WebhookSubscription.deleted_at.is_(None),
                or_(WebhookSubscription.case_id.is_(None), WebhookSubscription.case_id == case_id)))).all()
        return [self._target(r) for r in rows if ALL_KINDS in r.kinds or kind in r.kinds]

    async def live_target(self, webhook_id: str) -> Target | None:
        """The subscription, or ``None`` once it has been deleted."""
        async with self.db() as s:
            row = await s.scalar(select(WebhookSubscription).where(WebhookSubscription.id == webhook_id,
                                                                   WebhookSubscription.deleted_at.is_(None)))
        return None if row is None else self._target(row)

    def _target(self, row: WebhookSubscription) -> Target:
        return Target(row.id, row.url, self.cipher.decrypt(row.secret_enc, context=SECRET_CONTEXT))


# --- delivery -------------------------------------------------------------------------------
@dataclass(frozen=True)
class RetryPolicy:
    """Attempt ``attempts`` times; wait ``first_delay * factor**n`` (at most ``max_delay``) between them."""

    attempts: int = 6
    first_delay: float = 2.0
    factor: float = 4.0
    max_delay: float = 900.0
    timeout: float = 10.0

    def delay(self, failed_attempts: int) -> float:
        return min(self.first_delay * self.factor ** (failed_attempts - 1), self.max_delay)


@dataclass(frozen=True)
class AttemptOutcome:
    delivered: bool
    status_code: int | None = None
    error: str | None = None
    final: bool = False  # retrying cannot help (refused by the outbound policy)


@dataclass(frozen=True)
class ResumeReport:
    """What :meth:`WebhookDispatcher.resume` found: deliveries restarted and those it closed as failed."""

    resumed: int
    failed: int


NO_STORED_BODY = "payload not stored (created before 0005)"
#: Every failure without an HTTP answer reads the same, so the log tells nothing about the
#: receiver's network (closed or filtered port, reset, timeout, DNS).
NO_ANSWER = "delivery failed: no HTTP answer"


class WebhookDispatcher:
    """Subscribed to the :class:`~mediation.events.CaseEventHub`: turns each event into signed
    POSTs to the subscriptions that want it, in the background."""

    def __init__(self, service: WebhookService, policy: RetryPolicy | None = None,
                 wall_clock: Callable[[], float] = time.time):
        self.service = service
        self.policy = policy or RetryPolicy()
        self.wall_clock = wall_clock  # the signature's t: the receiver compares it with its own clock
        self.tasks = BackgroundTasks("webhook delivery")
        self._http: aiohttp.ClientSession | None = None
        # Deliveries this dispatcher is running, so that resume() never starts one a second time.
        self._running: set[tuple[str, str]] = set()

    async def publish(self, case_id: str, event: dict[str, Any]) -> None:
        """Record a pending delivery for each subscription that exists now and wants the event, and
        start the deliveries in the background: the caller waits for the database, never for a receiver."""
        event = dict(event)
        kind = str(event.pop("kind"))
        at = event.pop("at", None) or self.service.clock.now().isoformat()
        event_id = "evt_" + uuid.uuid4().hex
        body = json.dumps({"id": event_id, "case_id": case_id, "kind": kind, "at": at, "data": event},
                          ensure_ascii=False, separators=(",", ":")).encode()
        targets = await self.service.targets(case_id, kind)
        if not targets:
            return
        now = self.service.clock.now()
        keys = {(t.webhook_id, event_id) for t in targets}
        self._running |= keys  # before the rows exist: a concurrent resume() must not pick them up
        try:
            async with self.service.db.begin() as s:
                s.add_all([WebhookDelivery(webhook_id=t.webhook_id, event_id=event_id, case_id=case_id, kind=kind,
                                           status="pending", attempts=0, created_at=now, body=body,
                                           next_attempt_at=now) for t in targets])
        except BaseException:
            self._running -= keys
            raise
        for target in targets:
            self.tasks.spawn(self._deliver(target, event_id, body))

    async def resume(self) -> ResumeReport:
        """Continue the deliveries a previous run left ``pending``: each waits until its next attempt
        is due and goes on from there. Those that cannot go on (no stored body, subscription deleted,
        no attempts left under the current policy) end ``failed`` without being sent."""
        async with self.service.db() as s:
            rows = (await s.scalars(select(WebhookDelivery).where(WebhookDelivery.status == "pending")
                                    .order_by(WebhookDelivery.id))).all()
        resumed = failed = 0
        for row in rows:
            key = (row.webhook_id, row.event_id)
            if key in self._running:
                continue
            target = await self.service.live_target(row.webhook_id)
            if row.body is None:
                problem = NO_STORED_BODY
            elif target is None:
                problem = SUBSCRIPTION_DELETED
            elif row.attempts >= self.policy.attempts:
                problem = f"retries exhausted after {row.attempts} attempts; last: {row.last_error}"[:300]
            else:
                due = row.next_attempt_at or row.created_at
                wait = max(0.0, (due - self.service.clock.now()).total_seconds())
                self._running.add(key)
                self.tasks.spawn(self._deliver(target, row.event_id, row.body, row.attempts + 1, wait))
                resumed += 1
                continue
            await self._give_up(row.id, problem)
            failed += 1
        if rows:
            log.info("webhook deliveries resumed", extra={"resumed": resumed, "failed": failed})
        return ResumeReport(resumed, failed)

    def resume_in_background(self) -> None:
        """Start :meth:`resume` without waiting for it: start-up must not depend on the database's speed."""
        async def run() -> None:
            await self.resume()
        self.tasks.spawn(run())

    async def _give_up(self, delivery_id: int, error: str) -> None:
        async with self.service.db.begin() as s:
            row = await s.get(WebhookDelivery, delivery_id)
            assert row is not None  # deliveries are never deleted
            row.status = "failed"
            row.last_error = error
            row.next_attempt_at = None
            row.finished_at = self.service.clock.now()
        log.warning("webhook delivery not resumed", extra={"delivery_id": delivery_id, "reason": error})

    async def _deliver(self, target: Target, event_id: str, body: bytes, first_attempt: int = 1,
                       wait: float = 0.0) -> None:
        try:
            await asyncio.sleep(wait)
            await self._attempts(target, event_id, body, first_attempt)
        finally:
            self._running.discard((target.webhook_id, event_id))

    async def _attempts(self, target: Target, event_id: str, body: bytes, first_attempt: int) -> None:
        for attempt in range(first_attempt, self.policy.attempts + 1):
            if await self.service.live_target(target.webhook_id) is None:
                return  # deleted meanwhile: the deletion closed the delivery
            outcome = await self._attempt(target, event_id, body)
            final = outcome.delivered or outcome.final or attempt == self.policy.attempts
            if not await self._record(target.webhook_id, event_id, attempt, outcome, final):
                return
            if final:
                if not outcome.delivered:
                    log.warning("webhook delivery failed for good",
                                extra={"webhook_id": target.webhook_id, "event_id": event_id, "attempts": attempt})
                return
            await asyncio.sleep(self.policy.delay(attempt))

    async def _attempt(self, target: Target, event_id: str, body: bytes) -> AttemptOutcome:
        """One POST. The URL is checked again (the policy may have changed since the subscription,
        and literal addresses never reach the resolver); names are checked after resolution by the
        session's resolver. A refusal is final: no packet goes to that destination, now or later."""
        headers = {"Content-Type": "application/json", EVENT_ID_HEADER: event_id,
                   SIGNATURE_HEADER: sign(target.secret, int(self.wall_clock()), body),
                   "User-Agent": "Accord-Webhooks/1"}
        try:
            url = self.service.outbound.check_url(target.url)
            async with self._session().post(url, data=body, headers=headers, allow_redirects=False,
                                            timeout=aiohttp.ClientTimeout(total=self.policy.timeout)) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return AttemptOutcome(True, response.status)
                return AttemptOutcome(False, response.status, f"HTTP {response.status}")
        except OutboundRefused:
            return AttemptOutcome(False, None, REFUSED_BY_POLICY, final=True)
        except (asyncio.TimeoutError, aiohttp.ClientError):
            return AttemptOutcome(False, None, NO_ANSWER)

    async def _record(self, webhook_id: str, event_id: str, attempt: int, outcome: AttemptOutcome,
                      final: bool) -> bool:
        """Write the attempt; ``False`` when the delivery is no longer pending (its subscription was deleted)."""
        async with self.service.db.begin() as s:
            row = await s.scalar(select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id,
                                                               WebhookDelivery.event_id == event_id,
                                                               WebhookDelivery.status == "pending"))
            if row is None:
                return False
            row.attempts = attempt
            row.last_status_code = outcome.status_code
            row.last_error = outcome.error
            now = self.service.clock.now()
            if final:
                row.status = "delivered" if outcome.delivered else "failed"
                row.finished_at = now
                row.next_attempt_at = None
            else:
                row.next_attempt_at = now + timedelta(seconds=self.policy.delay(attempt))
        return True

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            connector = aiohttp.TCPConnector(resolver=self.service.outbound.http_resolver())
            self._http = aiohttp.ClientSession(connector=connector)
        return self._http

    async def drain(self) -> None:
        """Wait for every delivery started so far, retries included (tests, orderly shutdown)."""
        await self.tasks.drain()

    async def close(self) -> None:
        """Stop: pending deliveries stay ``pending`` in the log, for :meth:`resume` after a restart."""
        await self.tasks.close()
        if self._http is not None:
            await self._http.close()
