"""Deadlines are stored: a restarted server (new services over the same database) still flags
them; time limits are configurable per step; each overdue deadline is flagged once."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from mediation.clock import ManualClock
from mediation.services import MediationServices, build_services
from mediation.workflow import DEFAULT_STEPS, Step, WorkflowPolicy

from .doubles import MemorySms, RecordingRooms
from .helpers import application, register_party


async def test_deadlines_survive_a_restart_and_follow_the_policy(engine: AsyncEngine, tmp_path: Path,
                                                                 sms: MemorySms, clock: ManualClock) -> None:
    key = secrets.token_bytes(32)
    policy = WorkflowPolicy({**DEFAULT_STEPS, Step.START: replace(DEFAULT_STEPS[Step.START], limit=timedelta(hours=2))})

    def server() -> MediationServices:
        return build_services(engine, data_dir=tmp_path, pii_key=key, code_key=key, clock=clock, sms=sms,
                              rooms=RecordingRooms(), policy=policy)

    first = server()
    alice = await register_party(first, sms, "alice", 1)
    bob = await register_party(first, sms, "bob", 2)
    case = await first.filing.apply(alice.actor, application(alice, bob))
    (deadline,) = case.deadlines
    assert (deadline.kind, deadline.due_at - deadline.started_at) == ("step:start", timedelta(hours=2))

    clock.advance(timedelta(hours=2, seconds=1))
    restarted = server()
    flagged = (await restarted.deadlines.scan()).flagged
    assert [(f.case_id, f.kind) for f in flagged] == [(case.id, "step:start")]
    assert [f.case_id for f in await restarted.deadlines.flags_for(bob.actor)] == [case.id]
    assert await restarted.deadlines.flags_for(alice.actor) == []
    assert (await restarted.deadlines.scan()).flagged == []
    view = await restarted.cases.view(alice.actor, case.id)
    assert view.deadlines[0].overdue is True

    # Answering closes the deadline and opens the next step's.
    view = await restarted.filing.answer_consent(bob.actor, case.id, True)
    assert [(d.kind, d.completed_at is not None) for d in view.deadlines] == [("step:start", True),
                                                                              ("step:choose_mediator", False)]
