"""Notifications: the people concerned by each case event are told in the app (read/unread, each
only their own), and by text message and e-mail for events that need action, as they prefer."""

from __future__ import annotations

import asyncio
import json
import logging
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any, AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from mediation.clock import ManualClock
from mediation.notifications import DESCRIPTIONS, FileEmailSender, Notifier
from mediation.webhooks import EVENT_KINDS
from mediation.services import MediationServices
from signaling.api.notifications import setup_notifications
from signaling.config import Settings

from .api_client import Api, User, application_body
from .doubles import MemorySms
from .integrations_app import start_api
from .scenario import case_with_filed_confirmation, cast_of_characters

ALICE_EMAIL = "alice@example.test"


class Told:
    """The API and the notifier, and what went out by text message and e-mail."""

    def __init__(self, api: Api, notifier: Notifier, email_outbox: Path):
        self.api = api
        self.notifier = notifier
        self.email_outbox = email_outbox

    async def inbox(self, who: User, **query: str) -> dict[str, Any]:
        await self.notifier.drain()
        path = "/api/notifications" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
        return await self.api.call("GET", path, who, expect=200)

    async def kinds(self, who: User) -> list[str]:
        return [n["kind"] for n in reversed((await self.inbox(who))["notifications"])]

    def texts_to(self, phone: str | None) -> list[str]:
        return [text for to, text in self.api.sms.sent if to == phone and text.startswith("Accord: Case")]

    def emails(self) -> list[dict[str, str]]:
        if not self.email_outbox.exists():
            return []
        return [json.loads(line) for line in self.email_outbox.read_text().splitlines()]


@pytest.fixture
async def told(services: MediationServices, engine: AsyncEngine, tmp_path: Path, sms: MemorySms) -> AsyncIterator[Told]:
    data = tmp_path / "data"
    holder: list[Notifier] = []
    api, _ = await start_api(services, engine, data, sms, ("notifications",),
                             lambda app: holder.append(setup_notifications(app, Settings(data_dir=data), services)))
    try:
        yield Told(api, holder[0], data / "email-outbox.jsonl")
    finally:
        await holder[0].close()
        await api.client.close()


async def test_people_concerned_are_told_in_app_by_text_and_by_email(told: Told) -> None:
    api = told.api
    c = await cast_of_characters(api)
    alice, bob, mediator, clerk = c["alice"], c["bob"], c["mediator"], c["clerk"]
    await api.call("PUT", "/api/notifications/preferences", alice, expect=200,
                   json={"email": ALICE_EMAIL, "by_sms": False, "by_email": True})

    cid = (await api.call("POST", "/api/cases", alice, json=application_body(alice, bob), expect=201))["id"]
    await api.call("POST", f"/api/cases/{cid}/consent", bob, json={"consent": True}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/mediator", alice, json={"mediator_id": mediator.id}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/assignment", mediator, json={"accept": True}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/messages", bob, json={"text": "hello"}, expect=201)
    await api.call("POST", f"/api/cases/{cid}/video", mediator, json={}, expect=200)

    # Bob is told of the case before he first acted on it: he is known by his verified phone.
    party_events = ["case.created", "consent", "mediator.chosen", "mediator.answered"]
    assert (await told.kinds(alice))[:4] == party_events and "video.opened" in await told.kinds(alice)
    assert (await told.kinds(bob))[:4] == party_events
    # The counselling message concerns Bob's side and the mediator, not Alice.
    assert "message" in await told.kinds(bob) and "message" in await told.kinds(mediator)
    assert "message" not in await told.kinds(alice)
    assert (await told.kinds(mediator))[0] == "mediator.chosen"
    assert await told.kinds(clerk) == []
    note = (await told.inbox(bob))["notifications"][-1]
    assert note["case_id"] == cid and note["text"] == f"Case {cid}: The case was opened." and note["read_at"] is None

    # Urgent events go out too: Bob by text (the default), Alice by e-mail only (her choice).
    assert told.texts_to(bob.phone) == [f"Accord: Case {cid}: The mediator accepted the case.",
                                        f"Accord: Case {cid}: The video mediation session is open; join from the "
                                        "case page."]
    assert told.texts_to(alice.phone) == []
    emails = told.emails()
    assert [(e["to"], e["subject"]) for e in emails] == [(ALICE_EMAIL, f"Accord: case {cid}")] * 2
    assert sorted(e["text"].split("\n")[0] for e in emails) == [
        f"Case {cid}: The mediator accepted the case.",
        f"Case {cid}: The video mediation session is open; join from the case page."]
    assert stat.S_IMODE(told.email_outbox.stat().st_mode) == 0o600
    # No personal data leaves by text or e-mail: no ID numbers, no addresses.
    outside = " ".join(told.texts_to(bob.phone) + [e["text"] for e in emails])
    assert bob.id_number not in outside and "Jinjiang Road" not in outside


async def test_reading_marks_only_your_own(told: Told) -> None:
    api = told.api
    c = await cast_of_characters(api)
    alice, bob = c["alice"], c["bob"]
    cid = (await api.call("POST", "/api/cases", alice, json=application_body(alice, bob), expect=201))["id"]
    await api.call("POST", f"/api/cases/{cid}/consent", bob, json={"consent": False, "reason": "court"}, expect=200)
    mine = await told.inbox(alice)
    assert mine["unread"] == len(mine["notifications"]) >= 2
    newest = mine["notifications"][0]
    assert "refused mediation" in newest["text"]

    await api.call("POST", f"/api/notifications/{newest['id']}/read", bob, json={}, expect=404)
    read = await api.call("POST", f"/api/notifications/{newest['id']}/read", alice, json={}, expect=200)
    assert read["read_at"] is not None
    again = await api.call("POST", f"/api/notifications/{newest['id']}/read", alice, json={}, expect=200)
    assert again["read_at"] == read["read_at"]
    after = await told.inbox(alice)
    assert after["unread"] == mine["unread"] - 1
    unread_only = await told.inbox(alice, unread="1")
    assert newest["id"] not in [n["id"] for n in unread_only["notifications"]]
    assert len(unread_only["notifications"]) == after["unread"]

    for bad in ("abc", "-1", "9" * 40):
        answer = await api.call("POST", f"/api/notifications/{bad}/read", alice, json={}, expect=404)
        assert answer["error"]["code"] == "notification_not_found"
    await api.call("GET", "/api/notifications?limit=0", alice, expect=422)
    await api.call("GET", "/api/notifications", None, expect=401)
    await api.call("GET", "/api/notifications", api.service_key, expect=403)


async def test_overdue_steps_are_told_to_the_people_responsible(told: Told, clock: ManualClock) -> None:
    api = told.api
    c = await cast_of_characters(api)
    alice, bob = c["alice"], c["bob"]
    cid = (await api.call("POST", "/api/cases", alice, json=application_body(alice, bob), expect=201))["id"]
    clock.advance(timedelta(days=30))
    await api.services.deadlines.scan()
    await api.sign_in_again(alice, bob)
    assert (await told.kinds(bob))[-1] == "deadline.overdue"  # the respondent owes the consent
    assert "deadline.overdue" not in await told.kinds(alice)
    assert told.texts_to(bob.phone) == [f"Accord: Case {cid}: A time limit has passed and needs your action."]


async def test_later_steps_reach_the_mediator_the_parties_and_the_organisation(told: Told) -> None:
    api = told.api
    c = await cast_of_characters(api)
    alice, mediator, org_admin = c["alice"], c["mediator"], c["org_admin"]
    cid, _ = await case_with_filed_confirmation(api, c)
    await api.call("POST", f"/api/cases/{cid}/complaints", alice, json={"text": "late twice"}, expect=201)
    mediator_kinds = await told.kinds(mediator)
    assert mediator_kinds.count("rated") == 2 and "complaint.filed" not in mediator_kinds
    assert "rated" not in await told.kinds(alice)
    assert {"agreement.effective", "court.application"} <= set(await told.kinds(alice))
    assert await told.kinds(org_admin) == ["complaint.filed"]  # the complaint goes to the organisation
    assert f"Accord: Case {cid}: The mediation agreement took effect." in told.texts_to(c["bob"].phone)


def test_every_event_kind_has_a_description() -> None:
    assert set(DESCRIPTIONS) == EVENT_KINDS


@pytest.mark.parametrize("body, code", [
    ({"email": "not-an-address", "by_sms": True, "by_email": True}, "invalid_email"),
    ({"email": None, "by_sms": True, "by_email": True}, "missing_field"),
    ({"by_sms": True}, "invalid_body"),
    ({"email": "a@b.example", "by_sms": True, "by_email": True, "phone": "1"}, "invalid_body"),
])
async def test_bad_preferences_are_refused_and_nothing_changes(told: Told, body: dict[str, Any], code: str) -> None:
    alice = await told.api.register("alice", 1)
    answer = await told.api.call("PUT", "/api/notifications/preferences", alice, json=body, expect=422)
    assert answer["error"]["code"] == code
    assert await told.api.call("GET", "/api/notifications/preferences", alice, expect=200) == {
        "email": None, "by_sms": True, "by_email": False}


class BrokenSms:
    async def send(self, phone: str, text: str) -> None:
        raise ConnectionError("provider down")


class HangingEmail:
    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.sent: list[str] = []

    async def send(self, to: str, subject: str, text: str) -> None:
        await self.release.wait()
        self.sent.append(to)


async def test_senders_that_fail_or_hang_lose_nothing_and_block_nothing(
        told: Told, services: MediationServices, caplog: pytest.LogCaptureFixture) -> None:
    api = told.api
    c = await cast_of_characters(api)
    alice, bob, mediator = c["alice"], c["bob"], c["mediator"]
    await api.call("PUT", "/api/notifications/preferences", alice, expect=200,
                   json={"email": ALICE_EMAIL, "by_sms": True, "by_email": True})
    email = HangingEmail()
    troubled = Notifier(services.db, services.cases.clock, BrokenSms(), email)
    services.events.subscribe(troubled)
    try:
        cid = (await api.call("POST", "/api/cases", alice, json=application_body(alice, bob), expect=201))["id"]
        await api.call("POST", f"/api/cases/{cid}/consent", bob, json={"consent": True}, expect=200)
        await api.call("POST", f"/api/cases/{cid}/mediator", alice, json={"mediator_id": mediator.id}, expect=200)
        with caplog.at_level(logging.ERROR):
            # The e-mail for this urgent event never finishes until released: the call must not wait for it.
            await asyncio.wait_for(api.call("POST", f"/api/cases/{cid}/assignment", mediator,
                                            json={"accept": True}, expect=200), timeout=20)
            await told.notifier.drain()
            assert email.sent == [] and troubled.tasks.pending > 0
            email.release.set()
            await troubled.drain()
        assert email.sent == [ALICE_EMAIL]
        # Both notifiers stored their in-app notification; the broken SMS lost none of them.
        kinds = await told.kinds(alice)
        assert kinds.count("mediator.answered") == 2
        failures = [r for r in caplog.records if "text message not sent" in r.getMessage()]
        assert failures and all(alice.phone not in r.getMessage() + str(r.__dict__) for r in failures)
    finally:
        await troubled.close()


async def test_file_email_sender_appends_private_lines(tmp_path: Path) -> None:
    sender = FileEmailSender(tmp_path / "fresh")
    await sender.send("a@b.example", "subject", "first")
    await sender.send("c@d.example", "subject", "second")
    lines = [json.loads(line) for line in (tmp_path / "fresh" / "email-outbox.jsonl").read_text().splitlines()]
    assert [(x["to"], x["text"]) for x in lines] == [("a@b.example", "first"), ("c@d.example", "second")]
    assert stat.S_IMODE((tmp_path / "fresh" / "email-outbox.jsonl").stat().st_mode) == 0o600
