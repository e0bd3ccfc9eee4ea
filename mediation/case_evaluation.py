"""Step 6: the parties rate their mediator, and may complain to the mediator's organisation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from .accounts import Actor, Role
from .cases import CasePart, CaseService, CaseView
from .errors import Forbidden, InvalidInput, WrongState
from .litigation import Litigation
from .models import Complaint, Rating
from .text import clean_text
from .workflow import SIDES, Outcome, Step, require_step


class CaseEvaluation(CasePart):
    """Ratings and complaints; the last rating moves the case to court docking."""

    def __init__(self, cases: CaseService, litigation: Litigation):
        super().__init__(cases)
        self.litigation = litigation

    async def rate(self, actor: Actor, case_id: str, score: int, comment: str, side: str | None = None) -> CaseView:
        if not 1 <= score <= 5:
            raise InvalidInput("invalid_score", "a rating is 1 to 5")
        comment = clean_text(comment, "comment", 1000, required=False)
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.cases.load_context(s, actor, case_id, lock=True)
            require_step(Step(ctx.case.step), Step.EVALUATION)
            acting = self.cases.acting_side(ctx, side)
            if await s.scalar(select(Rating.id).where(Rating.case_id == case_id, Rating.side == acting)) is not None:
                raise WrongState("already_rated", f"the {acting} has already rated the mediator")
            assert ctx.case.mediator_id is not None  # a case reaches evaluation only with a mediator
            s.add(Rating(case_id=case_id, side=acting, mediator_id=ctx.case.mediator_id, score=score, comment=comment,
                         rated_by=actor.id, rated_at=now))
            await s.flush()
            self.cases.record(s, ctx, actor, "mediator.rated", {"side": acting, "score": score}, now)
            rated = set((await s.scalars(select(Rating.side).where(Rating.case_id == case_id))).all())
            if rated == set(SIDES):
                await self.cases.enter_step(s, ctx, Step.COURT_DOCKING, now)
                self.cases.record(s, ctx, actor, "step.entered", {"step": str(Step.COURT_DOCKING)}, now)
                if ctx.case.outcome == Outcome.FAILED:
                    await self.litigation.hand_over(s, ctx, actor, now)
        await self.cases.publish(case_id, "rated", side=acting)
        return await self.cases.view(actor, case_id)

    async def complain(self, actor: Actor, case_id: str, text: str) -> dict[str, Any]:
        """A complaint about the mediation goes to the mediator's organisation."""
        text = clean_text(text, "text", 2000)
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.cases.load_context(s, actor, case_id, lock=True)
            acting = self.cases.acting_side(ctx)
            if ctx.case.organisation is None:
                raise WrongState("no_organisation", "no mediator (and so no organisation) is on the case yet")
            row = Complaint(case_id=case_id, organisation=ctx.case.organisation, filed_by=actor.id, text=text, filed_at=now)
            s.add(row)
            await s.flush()
            self.cases.record(s, ctx, actor, "complaint.filed", {"side": acting, "complaint_id": row.id}, now)
            out = {"id": row.id, "organisation": row.organisation, "filed_at": now.isoformat()}
        await self.cases.publish(case_id, "complaint.filed")
        return out

    async def complaints(self, actor: Actor) -> list[dict[str, Any]]:
        if actor.role != Role.ORG_ADMIN or not actor.organisation:
            raise Forbidden("forbidden", "complaints are read by the organisation's administrators")
        async with self.db() as s:
            rows = (await s.scalars(select(Complaint).where(Complaint.organisation == actor.organisation)
                                    .order_by(Complaint.id))).all()
        return [{"id": r.id, "case_id": r.case_id, "text": r.text, "filed_at": r.filed_at.isoformat()} for r in rows]
