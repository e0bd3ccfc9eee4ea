"""Step 4: the case's video session: opening its room, each person's own seat in it, the
mediator's guest links, and concluding the session. The room itself lives in ``rooms.py``."""

from __future__ import annotations

from .accounts import Actor, Role
from .cases import CaseContext, CasePart, CaseService, CaseView
from .errors import Forbidden, InvalidInput, NotFound, WrongState
from .rooms import CaseSeat, RoomInvitation, RoomScheduler
from .workflow import SIDES, Step, require_step


class CaseVideo(CasePart):
    """The case's side of its video room: who opens it, who sits where, who may run it."""

    async def open_video(self, actor: Actor, case_id: str) -> CaseView:
        """The mediator ends counselling and opens the case's room."""
        async with self.db() as s:
            ctx = await self.cases.load_context(s, actor, case_id)
        self.cases.require_mediator(ctx)
        await self.open_room(actor, ctx)
        return await self.cases.view(actor, case_id)

    async def open_room(self, actor: Actor, ctx: CaseContext) -> None:
        """End counselling and open the case's room for its mediator: when the mediator says so, or
        (``actor`` the schedule) when a participant arrives at a scheduled session's time."""
        if self.rooms is None:
            raise WrongState("rooms_unavailable", "this server has no video room service configured")
        require_step(Step(ctx.case.step), Step.COUNSELLING)
        assert ctx.case.mediator_id is not None  # counselling starts when the mediator accepts
        room_id = await self.rooms.create_room(ctx.case.id, ctx.case.mediator_id, ctx.case.organisation)
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.cases.load_context(s, actor, ctx.case.id, lock=True)
            require_step(Step(ctx.case.step), Step.COUNSELLING)  # not opened meanwhile by someone else
            ctx.case.room_id = room_id
            await self.cases.enter_step(s, ctx, Step.VIDEO_MEDIATION, now)
            self.cases.record(s, ctx, actor, "step.entered", {"step": str(Step.VIDEO_MEDIATION), "room_id": room_id}, now)
        await self.cases.publish(ctx.case.id, "video.opened", room_id=room_id)

    async def may_run_room(self, actor: Actor, case_id: str) -> bool:
        """May ``actor`` manage the case's video room (read it, invite anyone into it, end it)? The
        case's mediator, the administrators of its organisation, and oversight; nobody else, and
        ``False`` for a case that does not exist, so the room looks the same as a missing one."""
        async with self.db() as s:
            try:
                ctx = await self.cases.load_context(s, actor, case_id)
            except NotFound:
                return False
        return ctx.relation.mediator or ctx.relation.organisation or ctx.relation.oversight

    def _room_of(self, ctx: CaseContext) -> tuple[RoomScheduler, str]:
        """The room service and the case's room, once the case is at its video session."""
        if self.rooms is None:
            raise WrongState("rooms_unavailable", "this server has no video room service configured")
        require_step(Step(ctx.case.step), Step.VIDEO_MEDIATION)
        assert ctx.case.room_id is not None  # set when entering the step
        return self.rooms, ctx.case.room_id

    @staticmethod
    def _own_seat(ctx: CaseContext, actor: Actor, side: str | None) -> CaseSeat:
        """Who ``actor`` is in the case's room: a party on their side (under the name the case
        records), an agent on the represented party's side, the mediator, or an observer from the
        case's court. Anyone else related to the case (an organisation administrator) has no seat."""
        if ctx.relation.mediator:
            return CaseSeat("mediator", None, actor.name, "mediator", actor.id, None)
        if ctx.relation.sides:
            acting = CaseService.acting_side(ctx, side)
            party = ctx.parties[acting]
            if actor.role == Role.AGENT:
                return CaseSeat("agent", acting, actor.name, f"{acting}_agent", actor.id, str(party.id))
            return CaseSeat("party", acting, party.name, f"{acting}_party", actor.id, str(party.id))
        if ctx.relation.court and actor.role in (Role.COURT_CLERK, Role.JUDGE):
            return CaseSeat("observer", None, actor.name, str(actor.role), actor.id, None)
        raise Forbidden("no_seat", "you take no part in this case's video session")

    async def invitation(self, actor: Actor, case_id: str, side: str | None = None) -> RoomInvitation:
        """The caller's own seat in the case's room, never anyone else's: the same seat on every call,
        its name and case role taken from the case. Links are never stored."""
        async with self.db() as s:
            ctx = await self.cases.load_context(s, actor, case_id)
        rooms, room_id = self._room_of(ctx)
        return await rooms.invite(room_id, self._own_seat(ctx, actor, side))

    async def guest_invitation(self, actor: Actor, case_id: str, side: str) -> RoomInvitation:
        """The mediator's link for a party who cannot sign in (no account, a borrowed device): bound
        to that case party, it opens the party's own seat under the name the case records, so the
        party is one person in the room however they enter, and a removal holds for both ways in."""
        if side not in SIDES:
            raise InvalidInput("invalid_side", "side is applicant or respondent")
        async with self.db() as s:
            ctx = await self.cases.load_context(s, actor, case_id)
        self.cases.require_mediator(ctx)
        rooms, room_id = self._room_of(ctx)
        party = ctx.parties[side]
        invitation = await rooms.invite(room_id, CaseSeat("party", side, party.name, f"{side}_party", None,
                                                          str(party.id)))
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.cases.load_context(s, actor, case_id, lock=True)
            self.cases.record(s, ctx, actor, "video.guest_link", {"side": side, "participant": party.id,
                                                            "seat": invitation.seat}, now)
        return invitation

    async def conclude_video(self, actor: Actor, case_id: str) -> CaseView:
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.cases.load_context(s, actor, case_id, lock=True)
            self.cases.require_mediator(ctx)
            require_step(Step(ctx.case.step), Step.VIDEO_MEDIATION)
            await self.cases.enter_step(s, ctx, Step.RESULT, now)
            self.cases.record(s, ctx, actor, "step.entered", {"step": str(Step.RESULT)}, now)
        await self.cases.publish(case_id, "step", step=str(Step.RESULT))
        return await self.cases.view(actor, case_id)
