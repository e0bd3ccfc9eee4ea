"""Scheduled video sessions and the mediator's desk: the mediator sets a time, the parties are told
and see it, the room opens for them at that time; the desk lists what the mediator must do."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from mediation.audit import read_trail
from mediation.clock import ManualClock

from .api_client import Api, User, application_body
from .doubles import RecordingRooms
from .scenario import cast_of_characters
from .test_notifications import Told, told  # noqa: F401  (the fixture)


def at(moment: datetime) -> str:
    return moment.isoformat()


async def desk(api: Api, mediator: User) -> dict[str, Any]:
    return await api.call("GET", "/api/me/desk", mediator, expect=200)


async def test_scheduling_telling_seeing_and_joining(told: Told, clock: ManualClock, rooms: RecordingRooms,
                                                     engine: AsyncEngine) -> None:
    api = told.api
    c = await cast_of_characters(api)
    alice, bob, mediator = c["alice"], c["bob"], c["mediator"]
    cid = (await api.call("POST", "/api/cases", alice, json=application_body(alice, bob), expect=201))["id"]
    await api.call("POST", f"/api/cases/{cid}/consent", bob, json={"consent": True}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/mediator", alice, json={"mediator_id": mediator.id}, expect=200)
    waiting = await desk(api, mediator)
    assert [a["case"]["case_id"] for a in waiting["assignments"]] == [cid]
    assert waiting["assignments"][0]["case"]["parties"] == {"applicant": "Alice", "respondent": "Bob"}
    path = f"/api/cases/{cid}/sessions"
    # Before accepting, the chosen mediator is not yet the case's mediator.
    await api.call("POST", path, mediator, json={"starts_at": at(clock.now() + timedelta(hours=2))}, expect=403)
    await api.call("POST", f"/api/cases/{cid}/assignment", mediator, json={"accept": True}, expect=200)
    assert (await desk(api, mediator))["assignments"] == []

    starts = clock.now() + timedelta(hours=2)  # 19:00 China time, the same day
    refusals = [(alice, {"starts_at": at(starts)}, 403, "forbidden"),
                (mediator, {"starts_at": at(clock.now() - timedelta(minutes=1))}, 422, "session_in_past"),
                (mediator, {"starts_at": at(clock.now() + timedelta(days=181))}, 422, "session_too_far"),
                (mediator, {"starts_at": starts.replace(tzinfo=None).isoformat()}, 422, "invalid_session_time"),
                (mediator, {"starts_at": at(starts), "duration_minutes": 5}, 422, "invalid_body")]
    for who, sent, status, code in refusals:
        assert (await api.call("POST", path, who, json=sent, expect=status))["error"]["code"] == code
    session = await api.call("POST", path, mediator, expect=201, json={
        "starts_at": at(starts), "duration_minutes": 90, "note": "have the IOU at hand"})
    assert session["open_now"] is False
    assert datetime.fromisoformat(session["ends_at"]) == starts + timedelta(minutes=90)

    # The parties are told (in the app and by text message, in China time) and see it on their case.
    assert "video.scheduled" in await told.kinds(bob)
    assert any("2026-03-03 19:00" not in text and "2026-03-02 19:00 (China time" in text
               for text in told.texts_to(bob.phone)), told.texts_to(bob.phone)
    seen = await api.call("GET", path, bob, expect=200)
    assert [(s["id"], s["note"]) for s in seen] == [(session["id"], "have the IOU at hand")]
    assert [s["session"]["id"] for s in (await desk(api, mediator))["sessions_today"]] == [session["id"]]

    # Too early to enter: the case is still in counselling and the room is not open.
    assert (await api.call("GET", f"/api/cases/{cid}/invitation", bob, expect=409))["error"]["code"] == "wrong_step"
    clock.advance(timedelta(hours=1, minutes=50))  # ten minutes before the start
    await api.sign_in_again(alice, bob, mediator)
    assert (await api.call("GET", path, bob, expect=200))[0]["open_now"] is True
    invitation = await api.call("GET", f"/api/cases/{cid}/invitation", bob, expect=200)
    assert invitation["side"] == "respondent" and rooms.created == [cid]
    assert rooms.owners == [(mediator.id, "Jinjiang People's Mediation Committee")]  # the mediator's room
    case = await api.call("GET", f"/api/cases/{cid}", alice, expect=200)
    assert case["step"] == "video_mediation"
    opened = [e for e in await read_trail(api.services.db, cid) if e.action == "step.entered"][-1]
    assert opened.actor == "schedule"
    await api.call("GET", f"/api/cases/{cid}/invitation", alice, expect=200)
    assert rooms.created == [cid]  # the second arrival enters the same room


async def test_cancelling_and_the_overdue_list(told: Told, clock: ManualClock) -> None:
    api = told.api
    c = await cast_of_characters(api)
    alice, bob, mediator = c["alice"], c["bob"], c["mediator"]
    cid = (await api.call("POST", "/api/cases", alice, json=application_body(alice, bob), expect=201))["id"]
    await api.call("POST", f"/api/cases/{cid}/consent", bob, json={"consent": True}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/mediator", alice, json={"mediator_id": mediator.id}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/assignment", mediator, json={"accept": True}, expect=200)
    session = await api.call("POST", f"/api/cases/{cid}/sessions", mediator, expect=201,
                             json={"starts_at": at(clock.now() + timedelta(days=2))})
    cancel = f"/api/cases/{cid}/sessions/{session['id']}/cancel"
    await api.call("POST", cancel, alice, json={}, expect=403)
    assert (await api.call("POST", cancel, mediator, json={}, expect=200))["cancelled_at"] is not None
    assert (await api.call("POST", cancel, mediator, json={}, expect=409))["error"]["code"] == "session_cancelled"
    await api.call("POST", f"/api/cases/{cid}/sessions/VS-NOPE/cancel", mediator, json={}, expect=404)
    assert "video.cancelled" in await told.kinds(alice)
    assert (await desk(api, mediator))["overdue"] == []
    clock.advance(timedelta(days=2, hours=1))
    await api.sign_in_again(bob, mediator)
    # A cancelled session opens nothing.
    assert (await api.call("GET", f"/api/cases/{cid}/invitation", bob, expect=409))["error"]["code"] == "wrong_step"
    clock.advance(timedelta(days=6))  # counselling is limited to 7 days, the mediator responsible
    await api.sign_in_again(mediator)
    overdue = (await desk(api, mediator))["overdue"]
    assert [(o["case"]["case_id"], o["kind"]) for o in overdue] == [(cid, "step:counselling")]
    assert (await desk(api, mediator))["sessions_today"] == []
