"""Signed webhooks, delivered to a real HTTP receiver on 127.0.0.1: events arrive signed, a
tampered body fails verification, failures are retried with backoff, and a receiver that hangs
or is gone never holds up the API call that caused the event."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from yarl import URL

from mediation.clock import ManualClock
from mediation.services import MediationServices
from mediation.outbound import OutboundPolicy
from mediation.webhook_models import WebhookDelivery
from mediation.webhooks import (EVENT_ID_HEADER, NO_ANSWER, NO_STORED_BODY, SIGNATURE_HEADER, SUBSCRIPTION_DELETED,
                                RetryPolicy, WebhookDispatcher, sign, verify_signature)
from signaling.api.webhooks import setup_webhooks

from .api_client import Api, User, application_body
from .doubles import MemorySms
from .integrations_app import start_api

FAST = RetryPolicy(attempts=3, first_delay=0.02, factor=2.0, max_delay=0.1, timeout=30.0)
#: The receivers here listen on 127.0.0.1 over http: the operator's allow-list must say so.
LOOPBACK = OutboundPolicy(allow_http=True, allowed=("127.0.0.1",))


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An integrator's endpoint: answers with ``statuses`` in turn (then 200), optionally holding
    each request until ``release`` is set."""

    statuses: list[int] = field(default_factory=list)
    hold: bool = False
    got: list[Received] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""
    runner: web.AppRunner | None = None

    async def start(self, port: int = 0) -> None:
        """Listen on ``port`` (0: any free one; the same port again after :meth:`stop`)."""
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/hook"

    async def stop(self) -> None:
        """The integrator's server goes down: connections are refused."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def handle(self, request: web.Request) -> web.Response:
        self.got.append(Received(dict(request.headers), await request.read()))
        self.arrived.set()
        if self.hold:
            await self.release.wait()
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

    def kinds(self) -> list[str]:
        return [r.json["kind"] for r in self.got]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    await rec.start()
    yield rec
    rec.release.set()
    await rec.stop()


@dataclass
class Hooks:
    api: Api
    dispatcher: WebhookDispatcher
    admin: User


@asynccontextmanager
async def serve_hooks(services: MediationServices, engine: AsyncEngine, data_dir: Path, sms: MemorySms,
                      outbound: OutboundPolicy, policy: RetryPolicy = FAST) -> AsyncIterator[Hooks]:
    """The webhook API over the test services, delivering under ``outbound``."""
    holder: list[WebhookDispatcher] = []
    api, _ = await start_api(services, engine, data_dir, sms, ("webhooks",),
                             lambda app: holder.append(setup_webhooks(app, services, policy, outbound)))
    try:
        yield Hooks(api, holder[0], await api.login("admin", "root"))
    finally:
        await holder[0].close()
        await api.client.close()


@pytest.fixture
async def hooks(services: MediationServices, engine: AsyncEngine, tmp_path: Path,
                sms: MemorySms) -> AsyncIterator[Hooks]:
    async with serve_hooks(services, engine, tmp_path / "data", sms, LOOPBACK) as h:
        yield h


async def _parties(api: Api) -> tuple[User, User]:
    return await api.register("alice", 1), await api.register("bob", 2)


async def _open_case(api: Api, applicant: User, respondent: User) -> str:
    return (await api.call("POST", "/api/cases", applicant, json=application_body(applicant, respondent),
                           expect=201))["id"]


async def _subscribe(h: Hooks, url: str, kinds: list[str] | None = None, who: User | str | None = None,
                     **extra: Any) -> dict[str, Any]:
    return await h.api.call("POST", "/api/webhooks", who or h.admin, expect=201,
                            json={"url": url, "kinds": kinds or ["*"], **extra})


async def test_events_arrive_signed_and_verifiable(hooks: Hooks, receiver: Receiver) -> None:
    created = await _subscribe(hooks, receiver.url)
    secret = created["secret"]
    assert secret.startswith("whsec_") and created["kinds"] == ["*"]
    applicant, respondent = await _parties(hooks.api)
    case_id = await _open_case(hooks.api, applicant, respondent)
    await hooks.api.call("POST", f"/api/cases/{case_id}/consent", respondent, json={"consent": True}, expect=200)
    await hooks.dispatcher.drain()

    assert sorted(receiver.kinds()) == ["case.created", "consent"]
    by_kind = {r.json["kind"]: r for r in receiver.got}
    for got in receiver.got:
        check = verify_signature(secret, got.headers[SIGNATURE_HEADER], got.body)
        assert check.valid, check
        assert got.headers["Content-Type"] == "application/json"
        assert got.headers[EVENT_ID_HEADER] == got.json["id"]
        assert set(got.json) == {"id", "case_id", "kind", "at", "data"} and got.json["case_id"] == case_id
    assert by_kind["consent"].json["data"] == {"side": "respondent", "consent": True}
    assert by_kind["case.created"].json["at"] == hooks.api.services.cases.clock.now().isoformat()

    listed = await hooks.api.call("GET", "/api/webhooks", hooks.admin, expect=200)
    assert [w["id"] for w in listed] == [created["id"]] and "secret" not in listed[0]
    assert secret not in json.dumps(listed)
    log = await hooks.api.call("GET", f"/api/webhooks/{created['id']}/deliveries", hooks.admin, expect=200)
    assert [(d["kind"], d["status"], d["attempts"], d["last_status_code"]) for d in log] == [
        ("consent", "delivered", 1, 200), ("case.created", "delivered", 1, 200)]


async def test_tampered_body_stale_time_and_wrong_secret_fail(hooks: Hooks, receiver: Receiver) -> None:
    secret = (await _subscribe(hooks, receiver.url))["secret"]
    applicant, respondent = await _parties(hooks.api)
    await _open_case(hooks.api, applicant, respondent)
    await hooks.dispatcher.drain()
    (got,) = receiver.got
    header = got.headers[SIGNATURE_HEADER]
    tampered = got.body.replace(b'"case.created"', b'"court.ruling"')
    assert tampered != got.body
    assert verify_signature(secret, header, tampered).problem == "mismatch"
    assert verify_signature(secret + "x", header, got.body).problem == "mismatch"
    stamp = verify_signature(secret, header, got.body).timestamp
    assert stamp is not None and abs(stamp - time.time()) < 60
    assert verify_signature(secret, header, got.body, tolerance=300, now=stamp + 301).problem == "too_old"
    assert verify_signature(secret, header.replace("t=", "x="), got.body).problem == "malformed"
    # A rotated secret: any of several v1 values may match.
    both = sign("whsec_old", stamp, got.body) + "," + header.split(",")[1]
    assert verify_signature(secret, both, got.body, now=stamp).valid


@given(header=st.text(max_size=200), body=st.binary(max_size=200))
def test_verification_never_raises_on_arbitrary_headers(header: str, body: bytes) -> None:
    assert not verify_signature("whsec_x", header, body).valid


@pytest.mark.parametrize("stamp", ["²", "١٢٣", "", "-5", "1e9"])
def test_only_ascii_digits_are_a_timestamp(stamp: str) -> None:
    assert verify_signature("whsec_x", f"t={stamp},v1=00", b"{}").problem == "malformed"


async def test_a_failing_receiver_gets_the_event_on_the_third_try(hooks: Hooks, receiver: Receiver) -> None:
    created = await _subscribe(hooks, receiver.url, ["case.created"])
    receiver.statuses = [500, 500, 200]
    applicant, respondent = await _parties(hooks.api)
    await _open_case(hooks.api, applicant, respondent)
    await hooks.dispatcher.drain()

    assert len(receiver.got) == 3
    assert len({r.headers[EVENT_ID_HEADER] for r in receiver.got}) == 1  # the same event, retried
    assert all(verify_signature(created["secret"], r.headers[SIGNATURE_HEADER], r.body).valid for r in receiver.got)
    (delivery,) = await hooks.api.call("GET", f"/api/webhooks/{created['id']}/deliveries", hooks.admin, expect=200)
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == ("delivered", 3, 200)


async def test_retries_are_bounded_and_logged_as_failed(hooks: Hooks, receiver: Receiver) -> None:
    created = await _subscribe(hooks, receiver.url, ["case.created"])
    receiver.statuses = [503] * 10
    applicant, respondent = await _parties(hooks.api)
    await _open_case(hooks.api, applicant, respondent)
    await hooks.dispatcher.drain()
    assert len(receiver.got) == FAST.attempts
    (delivery,) = await hooks.api.call("GET", f"/api/webhooks/{created['id']}/deliveries", hooks.admin, expect=200)
    assert (delivery["status"], delivery["attempts"], delivery["last_error"]) == ("failed", 3, "HTTP 503")
    assert delivery["finished_at"] is not None


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    policy = RetryPolicy(attempts=6, first_delay=2.0, factor=4.0, max_delay=100.0)
    assert [policy.delay(n) for n in range(1, 6)] == [2.0, 8.0, 32.0, 100.0, 100.0]


async def test_a_hanging_receiver_does_not_hold_up_the_api_call(hooks: Hooks, receiver: Receiver) -> None:
    created = await _subscribe(hooks, receiver.url, ["case.created"])
    receiver.hold = True
    applicant, respondent = await _parties(hooks.api)
    # If the API call waited for the delivery it would wait for ``release``, which only comes after it.
    case_id = await asyncio.wait_for(_open_case(hooks.api, applicant, respondent), timeout=20)
    await asyncio.wait_for(receiver.arrived.wait(), timeout=20)
    (pending,) = await hooks.api.call("GET", f"/api/webhooks/{created['id']}/deliveries", hooks.admin, expect=200)
    assert (pending["case_id"], pending["status"], pending["attempts"]) == (case_id, "pending", 0)
    receiver.release.set()
    await hooks.dispatcher.drain()
    (done,) = await hooks.api.call("GET", f"/api/webhooks/{created['id']}/deliveries", hooks.admin, expect=200)
    assert (done["status"], done["attempts"]) == ("delivered", 1)


async def test_a_dead_receiver_fails_in_the_background(hooks: Hooks) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/hook"
    created = await _subscribe(hooks, dead)
    applicant, respondent = await _parties(hooks.api)
    await asyncio.wait_for(_open_case(hooks.api, applicant, respondent), timeout=20)
    await hooks.dispatcher.drain()
    (delivery,) = await hooks.api.call("GET", f"/api/webhooks/{created['id']}/deliveries", hooks.admin, expect=200)
    assert (delivery["status"], delivery["attempts"], delivery["last_error"]) == ("failed", 3, NO_ANSWER)


async def test_kind_and_case_filters_and_deletion(hooks: Hooks, receiver: Receiver) -> None:
    applicant, respondent = await _parties(hooks.api)
    first = await _open_case(hooks.api, applicant, respondent)
    only_consent = await _subscribe(hooks, receiver.url + "?only=consent", ["consent"])
    only_first = await _subscribe(hooks, receiver.url + "?only=first", ["*"], case_id=first)
    removed = await _subscribe(hooks, receiver.url + "?removed", ["*"])
    await hooks.api.call("DELETE", f"/api/webhooks/{removed['id']}", hooks.admin, expect=200)

    second = await _open_case(hooks.api, applicant, respondent)
    for case_id in (first, second):
        await hooks.api.call("POST", f"/api/cases/{case_id}/consent", respondent, json={"consent": True}, expect=200)
    await hooks.dispatcher.drain()

    def seen(secret: str) -> list[tuple[str, str]]:
        return sorted((r.json["case_id"], r.json["kind"]) for r in receiver.got
                      if verify_signature(secret, r.headers[SIGNATURE_HEADER], r.body).valid)

    assert seen(only_consent["secret"]) == sorted([(first, "consent"), (second, "consent")])
    assert seen(only_first["secret"]) == [(first, "consent")]
    assert seen(removed["secret"]) == []
    assert len(receiver.got) == 3
    listed = await hooks.api.call("GET", "/api/webhooks", hooks.admin, expect=200)
    assert {w["id"] for w in listed} == {only_consent["id"], only_first["id"]}


async def test_who_may_manage_webhooks(hooks: Hooks, receiver: Receiver) -> None:
    api = hooks.api
    applicant, _ = await _parties(api)
    body = {"url": receiver.url, "kinds": ["*"]}
    await api.call("POST", "/api/webhooks", None, json=body, expect=401)
    await api.call("POST", "/api/webhooks", applicant, json=body, expect=403)
    await api.call("GET", "/api/webhooks", applicant, expect=403)

    own = await _subscribe(hooks, receiver.url, who=api.service_key)
    by_admin = await _subscribe(hooks, receiver.url)
    # An integrating system sees and removes only its own; the administrator sees all.
    assert [w["id"] for w in await api.call("GET", "/api/webhooks", api.service_key, expect=200)] == [own["id"]]
    assert len(await api.call("GET", "/api/webhooks", hooks.admin, expect=200)) == 2
    await api.call("DELETE", f"/api/webhooks/{by_admin['id']}", api.service_key, expect=404)
    await api.call("GET", f"/api/webhooks/{by_admin['id']}/deliveries", api.service_key, expect=404)
    await api.call("DELETE", f"/api/webhooks/{own['id']}", hooks.admin, expect=200)
    await api.call("DELETE", f"/api/webhooks/{own['id']}", hooks.admin, expect=404)


@pytest.mark.parametrize("body, code", [
    ({"url": "ftp://127.0.0.1/hook", "kinds": ["*"]}, "invalid_url"),
    ({"url": "http://user:pw@127.0.0.1/hook", "kinds": ["*"]}, "invalid_url"),
    ({"url": "not a url at all", "kinds": ["*"]}, "invalid_url"),
    ({"url": "http://127.0.0.1/hook", "kinds": ["case.created", "case.exploded"]}, "unknown_kind"),
    ({"url": "http://127.0.0.1/hook", "kinds": ["*"], "case_id": "../etc"}, "invalid_case_id"),
    ({"url": "http://127.0.0.1/hook", "kinds": []}, "invalid_body"),
    ({"url": "http://127.0.0.1/" + "a" * 600, "kinds": ["*"]}, "invalid_body"),
    ({"url": "http://127.0.0.1/hook", "kinds": ["*"], "secret": "mine"}, "invalid_body"),
])
async def test_bad_subscriptions_are_refused_and_nothing_is_stored(hooks: Hooks, body: dict[str, Any],
                                                                   code: str) -> None:
    answer = await hooks.api.call("POST", "/api/webhooks", hooks.admin, json=body, expect=422)
    assert answer["error"]["code"] == code
    assert await hooks.api.call("GET", "/api/webhooks", hooks.admin, expect=200) == []


# --- resuming after a restart ---------------------------------------------------------------
async def _delivery(services: MediationServices, webhook_id: str) -> WebhookDelivery:
    async with services.db() as s:
        return (await s.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id))).one()


async def _interrupted(h: Hooks, webhook_id: str, policy: RetryPolicy, attempts: int,
                       before_last: Callable[[], Awaitable[None]] | None = None) -> WebhookDelivery:
    """Publish one event through a dispatcher with ``policy`` and stop it (the server shuts down)
    once ``attempts`` attempts are recorded; ``before_last`` runs once the one before is."""
    first = WebhookDispatcher(h.dispatcher.service, policy)
    try:
        await first.publish("CASE-RESUME", {"kind": "case.created", "by": "test"})
        async with asyncio.timeout(30):
            while (await _delivery(h.api.services, webhook_id)).attempts < attempts - 1:
                await asyncio.sleep(0.01)
            if before_last is not None:
                await before_last()
            while (await _delivery(h.api.services, webhook_id)).attempts < attempts:
                await asyncio.sleep(0.01)
    finally:
        await first.close()
    row = await _delivery(h.api.services, webhook_id)
    assert (row.status, row.attempts) == ("pending", attempts)
    return row


async def _restart(services: MediationServices, policy: RetryPolicy = FAST) -> None:
    """A new server over the same database: its start-up resumes what the last one left pending."""
    app = web.Application()
    dispatcher = setup_webhooks(app, services, policy, LOOPBACK)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await asyncio.wait_for(dispatcher.drain(), timeout=30)
    finally:
        await runner.cleanup()


async def test_a_delivery_cut_short_by_a_restart_is_resumed_exactly_once(hooks: Hooks, receiver: Receiver,
                                                                         clock: ManualClock) -> None:
    created = await _subscribe(hooks, receiver.url, ["case.created"])
    receiver.statuses = [503]
    port = URL(receiver.url).port
    # Attempt 1 gets a 503, attempt 2 finds the receiver down; the server stops during the 10 s wait.
    slow = RetryPolicy(attempts=3, first_delay=1.0, factor=10.0, max_delay=600.0)
    row = await _interrupted(hooks, created["id"], slow, 2, before_last=receiver.stop)
    assert row.last_error == NO_ANSWER
    assert row.next_attempt_at == clock.now() + timedelta(seconds=10)
    (original,) = receiver.got
    assert row.body == original.body and row.event_id == original.headers[EVENT_ID_HEADER]

    await receiver.start(port)
    clock.advance(timedelta(seconds=10))  # the third attempt is due
    await _restart(hooks.api.services)

    assert len(receiver.got) == 2
    resumed = receiver.got[1]
    assert resumed.headers[EVENT_ID_HEADER] == row.event_id
    assert resumed.body == original.body
    check = verify_signature(created["secret"], resumed.headers[SIGNATURE_HEADER], resumed.body)
    assert check.valid, check
    done = await _delivery(hooks.api.services, created["id"])
    assert (done.status, done.attempts, done.last_status_code, done.next_attempt_at) == ("delivered", 3, 200, None)


async def test_a_delivery_with_no_attempts_left_fails_without_being_sent(hooks: Hooks, receiver: Receiver) -> None:
    created = await _subscribe(hooks, receiver.url, ["case.created"])
    receiver.statuses = [503]
    await _interrupted(hooks, created["id"], RetryPolicy(attempts=5, first_delay=60.0), 1)
    await _restart(hooks.api.services, RetryPolicy(attempts=1))  # restarted with fewer attempts allowed
    assert len(receiver.got) == 1
    row = await _delivery(hooks.api.services, created["id"])
    assert (row.status, row.attempts, row.last_error) == ("failed", 1,
                                                          "retries exhausted after 1 attempts; last: HTTP 503")
    assert row.finished_at is not None


async def test_a_deleted_subscription_gets_nothing_after_a_restart(hooks: Hooks, receiver: Receiver) -> None:
    created = await _subscribe(hooks, receiver.url, ["case.created"])
    receiver.statuses = [503]
    await _interrupted(hooks, created["id"], RetryPolicy(attempts=5, first_delay=60.0), 1)
    await hooks.api.call("DELETE", f"/api/webhooks/{created['id']}", hooks.admin, expect=200)
    await _restart(hooks.api.services)
    assert len(receiver.got) == 1
    row = await _delivery(hooks.api.services, created["id"])
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, SUBSCRIPTION_DELETED)


async def test_a_delivery_from_before_0005_fails_for_want_of_its_body(hooks: Hooks, receiver: Receiver,
                                                                      clock: ManualClock) -> None:
    created = await _subscribe(hooks, receiver.url, ["case.created"])
    async with hooks.api.services.db.begin() as s:  # as migration 0005 leaves an older pending row
        s.add(WebhookDelivery(webhook_id=created["id"], event_id="evt_old", case_id="CASE-OLD", kind="case.created",
                              status="pending", attempts=0, created_at=clock.now()))
    await _restart(hooks.api.services)
    assert receiver.got == []
    row = await _delivery(hooks.api.services, created["id"])
    assert (row.status, row.last_error) == ("failed", NO_STORED_BODY) and row.finished_at is not None
