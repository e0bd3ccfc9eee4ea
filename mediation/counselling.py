"""Step 3: counselling, a conversation between the mediator and each side on its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from .accounts import Actor
from .cases import CasePart
from .errors import Forbidden, InvalidInput
from .models import CounsellingMessage
from .text import clean_text
from .workflow import SIDES, Step, require_step


@dataclass(frozen=True)
class MessageView:
    id: int
    side: str
    sender_role: str
    text: str
    sent_at: datetime


class Counselling(CasePart):
    """The counselling messages of a case, private to each side and its mediator."""

    async def send_message(self, actor: Actor, case_id: str, text: str, side: str | None = None) -> MessageView:
        """Counselling is per side: each side talks with the mediator, the other side does not see it."""
        text = clean_text(text, "text", 2000)
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.cases.load_context(s, actor, case_id, lock=True)
            require_step(Step(ctx.case.step), Step.COUNSELLING, Step.VIDEO_MEDIATION)
            if ctx.relation.mediator:
                if side not in SIDES:
                    raise InvalidInput("invalid_side", "the mediator says which side the message is for")
                conversation = side
            else:
                conversation = self.cases.acting_side(ctx, side)
            msg = CounsellingMessage(case_id=case_id, sender_id=actor.id, sender_role=actor.role, side=conversation,
                                     text=text, sent_at=now)
            s.add(msg)
            await s.flush()
            self.cases.record(s, ctx, actor, "message.sent", {"side": conversation, "message_id": msg.id}, now)
            view = MessageView(msg.id, conversation, actor.role, text, now)
        await self.cases.publish(case_id, "message", side=conversation)
        return view

    async def messages(self, actor: Actor, case_id: str) -> list[MessageView]:
        async with self.db() as s:
            ctx = await self.cases.load_context(s, actor, case_id)
            query = select(CounsellingMessage).where(CounsellingMessage.case_id == case_id)
            if not (ctx.relation.mediator or ctx.relation.oversight):
                if not ctx.relation.sides:
                    raise Forbidden("forbidden", "counselling is between the mediator and each side")
                query = query.where(CounsellingMessage.side.in_(ctx.relation.sides))
            rows = (await s.scalars(query.order_by(CounsellingMessage.id))).all()
        return [MessageView(r.id, r.side, r.sender_role, r.text, r.sent_at) for r in rows]
