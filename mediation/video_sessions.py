"""Scheduled video sessions: the mediator sets a date and time, the parties are told (in the app, by
text message and e-mail through the notifier, as every case event is), and see the session on their
case page. From a quarter of an hour before it starts until it ends, whoever takes part in the
case and asks to enter finds the room open: if the mediator has not opened it yet, the schedule
opens it for them (the case moves from counselling to its video session, in the audit trail as
the schedule's doing).

Times are stored in UTC; the texts people read give China time (Asia/Shanghai).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from .accounts import SERVICE_ROLE, Actor, Role
from .case_video import CaseVideo
from .cases import CaseService
from .errors import InvalidInput, NotFound, WrongState
from .models import Case, CaseParty
from .text import clean_text, is_identifier
from .video_session_models import VideoSession
from .workflow import Step, require_step

CHINA = ZoneInfo("Asia/Shanghai")
#: Who opens a case's room when a participant arrives at a scheduled session's time (the audit actor).
SCHEDULE_ACTOR = Actor("schedule", SERVICE_ROLE, "视频调解预约")
#: How early before the start the room can be entered.
JOIN_EARLY = timedelta(minutes=15)
MIN_MINUTES, MAX_MINUTES = 15, 240
#: How far ahead a session may be set, and how many may be pending on one case at once.
MAX_AHEAD = timedelta(days=180)
MAX_UPCOMING = 10
SCHEDULING_STEPS = (Step.COUNSELLING, Step.VIDEO_MEDIATION)


@dataclass(frozen=True)
class SessionView:
    id: str
    case_id: str
    starts_at: datetime
    ends_at: datetime
    duration_minutes: int
    note: str | None
    scheduled_by: str
    created_at: datetime
    cancelled_at: datetime | None
    #: Enter now: within the session's time (from :data:`JOIN_EARLY` before it) and not cancelled.
    open_now: bool


@dataclass(frozen=True)
class DeskSession:
    """A session on the mediator's desk, with the case it belongs to."""

    session: SessionView
    case_number: str | None
    parties: dict[str, str]  # side -> name


def china_time(at: datetime) -> str:
    return at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


class VideoSessions:
    def __init__(self, cases: CaseService, video: CaseVideo):
        self.cases = cases
        self.video = video
        self.db = cases.db
        self.clock = cases.clock

    def _view(self, row: VideoSession, now: datetime) -> SessionView:
        ends_at = row.starts_at + timedelta(minutes=row.duration_minutes)
        return SessionView(row.id, row.case_id, row.starts_at, ends_at, row.duration_minutes, row.note,
                           row.scheduled_by, row.created_at, row.cancelled_at,
                           row.cancelled_at is None and row.starts_at - JOIN_EARLY <= now < ends_at)

    async def schedule(self, actor: Actor, case_id: str, starts_at: datetime, duration_minutes: int,
                       note: str = "") -> SessionView:
        """The case's mediator sets a session during counselling or the video step; the parties are told."""
        if starts_at.tzinfo is None:
            raise InvalidInput("invalid_session_time", "give the time with its time zone", {"field": "starts_at"})
        if not MIN_MINUTES <= duration_minutes <= MAX_MINUTES:
            raise InvalidInput("invalid_session_duration", f"a session lasts {MIN_MINUTES} to {MAX_MINUTES} minutes",
                               {"field": "duration_minutes"})
        note = clean_text(note, "note", 500, required=False)
        now = self.clock.now()
        if starts_at < now:
            raise InvalidInput("session_in_past", "the session's time has already passed", {"field": "starts_at"})
        if starts_at > now + MAX_AHEAD:
            raise InvalidInput("session_too_far", "a session is set at most 180 days ahead", {"field": "starts_at"})
        async with self.db.begin() as s:
            ctx = await self.cases.load_context(s, actor, case_id, lock=True)
            self.cases.require_mediator(ctx)
            require_step(Step(ctx.case.step), *SCHEDULING_STEPS)
            upcoming = await s.scalar(select(func.count()).select_from(VideoSession).where(
                VideoSession.case_id == case_id, VideoSession.cancelled_at.is_(None), VideoSession.starts_at > now))
            if (upcoming or 0) >= MAX_UPCOMING:
                raise WrongState("too_many_sessions", f"a case has at most {MAX_UPCOMING} sessions ahead")
            row = VideoSession(id="VS-" + secrets.token_hex(6).upper(), case_id=case_id, starts_at=starts_at,
                               duration_minutes=duration_minutes, note=note or None, scheduled_by=actor.id,
                               created_at=now)
            s.add(row)
            self.cases.record(s, ctx, actor, "video.scheduled", {
                "session_id": row.id, "starts_at": starts_at.isoformat(), "duration_minutes": duration_minutes}, now)
        await self.cases.publish(case_id, "video.scheduled", session_id=row.id, starts_at=starts_at.isoformat(),
                                 china_time=china_time(starts_at), duration_minutes=duration_minutes)
        return self._view(row, now)

    async def cancel(self, actor: Actor, case_id: str, session_id: str) -> SessionView:
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.cases.load_context(s, actor, case_id, lock=True)
            self.cases.require_mediator(ctx)
            row = await s.get(VideoSession, session_id) if is_identifier(session_id) else None
            if row is None or row.case_id != case_id:
                raise NotFound("session_not_found", f"no session {session_id} on this case")
            if row.cancelled_at is not None:
                raise WrongState("session_cancelled", "the session is already cancelled")
            row.cancelled_at = now
            self.cases.record(s, ctx, actor, "video.cancelled", {"session_id": row.id}, now)
        await self.cases.publish(case_id, "video.cancelled", session_id=row.id, starts_at=row.starts_at.isoformat(),
                                 china_time=china_time(row.starts_at))
        return self._view(row, now)

    async def of_case(self, actor: Actor, case_id: str) -> list[SessionView]:
        """The case's sessions, earliest first, for everyone who may read the case."""
        async with self.db() as s:
            await self.cases.load_context(s, actor, case_id)
            rows = (await s.scalars(select(VideoSession).where(VideoSession.case_id == case_id)
                                    .order_by(VideoSession.starts_at, VideoSession.id))).all()
        now = self.clock.now()
        return [self._view(r, now) for r in rows]

    async def open_if_due(self, actor: Actor, case_id: str) -> None:
        """Before ``actor`` is given their seat: at a scheduled session's time, a case still in
        counselling has its room opened by the schedule (see the module docstring). Otherwise nothing."""
        async with self.db() as s:
            ctx = await self.cases.load_context(s, actor, case_id)
            if ctx.case.step != Step.COUNSELLING or not (ctx.relation.sides or ctx.relation.mediator):
                return
            now = self.clock.now()
            near = (await s.scalars(select(VideoSession).where(
                VideoSession.case_id == case_id, VideoSession.cancelled_at.is_(None),
                VideoSession.starts_at <= now + JOIN_EARLY,
                VideoSession.starts_at > now - timedelta(minutes=MAX_MINUTES)))).all()
        if not any(self._view(row, now).open_now for row in near):
            return
        try:
            await self.video.open_room(SCHEDULE_ACTOR, ctx)
        except WrongState:
            pass  # another participant arriving at the same moment opened it first

    async def today(self, actor: Actor) -> list[DeskSession]:
        """The mediator's sessions of the current day (China time), on the cases they mediate."""
        if actor.role != Role.MEDIATOR:
            return []
        now = self.clock.now()
        start = now.astimezone(CHINA).replace(hour=0, minute=0, second=0, microsecond=0)
        async with self.db() as s:
            rows = (await s.execute(select(VideoSession, Case).join(Case, Case.id == VideoSession.case_id).where(
                Case.mediator_id == actor.id, VideoSession.cancelled_at.is_(None),
                VideoSession.starts_at >= start, VideoSession.starts_at < start + timedelta(days=1))
                .order_by(VideoSession.starts_at))).all()
            parties = (await s.scalars(select(CaseParty).where(
                CaseParty.case_id.in_([case.id for _, case in rows])))).all()
        names: dict[str, dict[str, str]] = {}
        for party in parties:
            names.setdefault(party.case_id, {})[party.side] = party.name
        return [DeskSession(self._view(row, now), case.case_number, names.get(case.id, {})) for row, case in rows]
