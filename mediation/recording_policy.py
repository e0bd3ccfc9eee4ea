"""Each case's recording policy and the audit entries of its recordings (issue 10).

The case's mediator decides whether its video sessions are recorded: ``off`` (the default, also
for a case that never chose), ``joint`` (the joint session only: a caucus is never written) or
``joint_and_caucus``. Starting, stopping, each participant's consent or refusal and every access to
a recording are entries of the case's hash-chained audit trail, written with the case row locked
like any other change to the case. The room (``signaling``) enforces the policy; this module only
keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from . import audit
from .accounts import Actor
from .cases import CaseService
from .errors import Forbidden, InvalidInput, NotFound, WrongState
from .models import Case
from .recording_policy_models import RecordingPolicyRow
from .text import is_identifier

MODES: tuple[str, ...] = ("off", "joint", "joint_and_caucus")


@dataclass(frozen=True)
class RecordingPolicy:
    case_id: str
    mode: str
    set_by: str | None  # None: never chosen (off)
    set_at: datetime | None

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    @property
    def records_caucus(self) -> bool:
        return self.mode == "joint_and_caucus"


class RecordingPolicyService:
    def __init__(self, cases: CaseService):
        self.cases = cases

    @staticmethod
    def _of(case_id: str, row: RecordingPolicyRow | None) -> RecordingPolicy:
        if row is None:
            return RecordingPolicy(case_id, "off", None, None)
        return RecordingPolicy(case_id, row.mode, row.set_by, row.set_at)

    async def view(self, actor: Actor, case_id: str) -> RecordingPolicy:
        """The policy, for anyone who may read the case (the 404 of a missing case for anyone else)."""
        async with self.cases.db() as s:
            await self.cases.load_context(s, actor, case_id)
            return self._of(case_id, await s.get(RecordingPolicyRow, case_id))

    async def of_case(self, case_id: str) -> RecordingPolicy:
        """The policy the case's room enforces (the room already knows its case)."""
        async with self.cases.db() as s:
            return self._of(case_id, await s.get(RecordingPolicyRow, case_id))

    async def set(self, actor: Actor, case_id: str, mode: str) -> RecordingPolicy:
        """Only the case's mediator, only while the case is open; recorded in the audit trail."""
        if mode not in MODES:
            raise InvalidInput("invalid_recording_mode", f"mode is one of {', '.join(MODES)}")
        now = self.cases.clock.now()
        async with self.cases.db.begin() as s:
            ctx = await self.cases.load_context(s, actor, case_id, lock=True)
            if not ctx.relation.mediator:
                raise Forbidden("not_the_mediator", "only the case's mediator decides whether sessions are recorded")
            if ctx.case.status != "open":
                raise WrongState("case_closed", "the case is closed")
            row = await s.get(RecordingPolicyRow, case_id)
            previous = row.mode if row is not None else "off"
            if row is None:
                row = RecordingPolicyRow(case_id=case_id, mode=mode, set_by=actor.id, set_at=now)
                s.add(row)
            else:
                row.mode, row.set_by, row.set_at = mode, actor.id, now
            self.cases.record(s, ctx, actor, "recording.policy", {"mode": mode, "previous": previous}, now)
            policy = self._of(case_id, row)
        await self.cases.publish(case_id, "recording.policy", mode=mode)
        return policy

    async def record(self, case_id: str, actor_id: str, action: str, payload: dict[str, Any], *,
                     publish: bool = True) -> None:
        """Append ``action`` to the case's audit trail for an actor the caller has already checked
        (a room seat, the retention sweep, an access to a recording); ``publish``: tell the case's
        live followers too (not for accesses, which change nothing they show)."""
        now = self.cases.clock.now()
        async with self.cases.db.begin() as s:
            case = await s.scalar(select(Case).where(Case.id == case_id).with_for_update()) \
                if is_identifier(case_id) else None
            if case is None:
                raise NotFound("case_not_found", f"no case {case_id}")
            case.updated_at = now
            audit.append(s, case, actor_id, action, payload, now)
        if publish:
            await self.cases.publish(case_id, action, **{k: v for k, v in payload.items() if k not in ("kind", "at")})
