"""Step 2: a party chooses a mediator, who accepts (counselling starts) or declines with a reason."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from .accounts import Actor, Role
from .cases import CasePart, CaseView
from .errors import Forbidden, InvalidInput, WrongState
from .models import Account, MediatorChoice
from .text import clean_text, is_identifier
from .workflow import Step, require_step


@dataclass(frozen=True)
class AssignmentAnswer:
    """A mediator's answer; after declining they no longer see the case, so no case view is returned."""

    case_id: str
    accepted: bool
    reason: str | None


class MediatorChoices(CasePart):
    """Who mediates a case: the parties' choice and the chosen mediator's answer."""

    async def choose_mediator(self, actor: Actor, case_id: str, mediator_id: str, side: str | None = None) -> CaseView:
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.cases.load_context(s, actor, case_id, lock=True)
            require_step(Step(ctx.case.step), Step.CHOOSE_MEDIATOR)
            acting = self.cases.acting_side(ctx, side)
            mediator = await s.get(Account, mediator_id) if is_identifier(mediator_id) else None
            if mediator is None or mediator.role != Role.MEDIATOR or mediator.disabled_at is not None:
                raise InvalidInput("not_a_mediator", "no mediator with this id")
            pending = await s.scalar(select(MediatorChoice.id).where(MediatorChoice.case_id == case_id,
                                                                     MediatorChoice.status == "proposed"))
            if pending is not None:
                raise WrongState("choice_pending", "a chosen mediator has not answered yet")
            declined = await s.scalar(select(MediatorChoice.id).where(
                MediatorChoice.case_id == case_id, MediatorChoice.mediator_id == mediator_id,
                MediatorChoice.status == "declined"))
            if declined is not None:
                raise WrongState("mediator_declined", "this mediator already declined the case")
            s.add(MediatorChoice(case_id=case_id, mediator_id=mediator_id, chosen_by=actor.id, status="proposed",
                                 chosen_at=now))
            self.cases.record(s, ctx, actor, "mediator.chosen", {"side": acting, "mediator_id": mediator_id}, now)
        await self.cases.publish(case_id, "mediator.chosen", mediator_id=mediator_id)
        return await self.cases.view(actor, case_id)

    async def answer_assignment(self, actor: Actor, case_id: str, accept: bool, reason: str = "") -> AssignmentAnswer:
        """The chosen mediator accepts, or declines with a reason (declines count in statistics)."""
        reason = clean_text(reason, "reason", 500, required=not accept)
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.cases.load_context(s, actor, case_id, lock=True)
            require_step(Step(ctx.case.step), Step.CHOOSE_MEDIATOR)
            choice = await s.scalar(select(MediatorChoice).where(
                MediatorChoice.case_id == case_id, MediatorChoice.mediator_id == actor.id,
                MediatorChoice.status == "proposed"))
            if choice is None:
                raise Forbidden("not_chosen", "you have not been chosen for this case")
            choice.status = "accepted" if accept else "declined"
            choice.reason = reason or None
            choice.answered_at = now
            self.cases.record(s, ctx, actor, "mediator.accepted" if accept else "mediator.declined", {"reason": reason}, now)
            if accept:
                ctx.case.mediator_id = actor.id
                ctx.case.organisation = actor.organisation
                await self.cases.enter_step(s, ctx, Step.COUNSELLING, now)
                self.cases.record(s, ctx, actor, "step.entered", {"step": str(Step.COUNSELLING)}, now)
        await self.cases.publish(case_id, "mediator.answered", accepted=accept)
        return AssignmentAnswer(case_id, accept, reason or None)
