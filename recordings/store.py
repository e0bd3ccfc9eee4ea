"""``RecordingStore``: the recording tables (:mod:`mediation.recording_models`) as the recorder,
crash recovery, verification and the HTTP layer use them.

Every segment is added together with its chain entry in one transaction that holds the session
row locked, so the chain has no gaps and no two writers can extend it at once. Refusals are
:mod:`mediation.errors` kinds, which the HTTP layer already maps.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mediation import audit
from mediation.clock import Clock
from mediation.errors import NotFound, WrongState
from mediation.models import Case
from mediation.recording_models import (RecordingChainRow, RecordingConsentRow, RecordingSegmentRow,
                                        RecordingSessionRow, RecordingStampRow, RecordingTrackRow)

from . import chain

RECORDING, FINISHED, INTERRUPTED = "recording", "finished", "interrupted"
CONSENTED, REFUSED = "consented", "refused"
SYSTEM_ACTOR = "system:recordings"


@dataclass(frozen=True)
class SessionInfo:
    id: str
    case_id: str
    room_id: str
    state: str
    started_at: datetime
    ended_at: datetime | None
    end_us: int | None
    policy: dict[str, Any]
    started_by: str | None
    node: str | None
    notes: list[Any]
    manifest_sha256: str | None
    composite_sha256: str | None
    composite_path: str | None
    composite_state: str | None = None
    composite_progress: float | None = None


@dataclass(frozen=True)
class Participant:
    """Who sits in a seat, as the case knows them (:class:`mediation.rooms.CaseSeat`)."""

    seat: str
    role: str
    case_role: str
    name: str
    account_id: str | None = None
    party_id: int | None = None


@dataclass(frozen=True)
class Consent:
    participant: Participant
    answer: str  # consented | refused
    answered_at: datetime


@dataclass(frozen=True)
class TrackInfo:
    id: str
    session_id: str
    seat: str
    number: int
    kind: str
    codec: str
    account_id: str | None
    party_id: int | None
    first_us: int | None
    last_us: int | None
    joined_path: str | None
    joined_sha256: str | None


@dataclass(frozen=True)
class SegmentInfo:
    id: int
    track_id: str
    index: int
    sha256: str
    size: int
    start_us: int
    end_us: int
    frames: int
    path: str
    recovery: str | None


@dataclass(frozen=True)
class ClosedSegment:
    """What the writer reports for a segment file it has closed and hashed."""

    index: int
    sha256: str
    size: int
    start_us: int
    end_us: int
    frames: int
    path: str
    recovery: str | None = None


@dataclass(frozen=True)
class StampInfo:
    position: int
    chain_head: str
    token: bytes
    stamped_at: datetime
    final: bool


def _session(row: RecordingSessionRow) -> SessionInfo:
    return SessionInfo(row.id, row.case_id, row.room_id, row.state, row.started_at, row.ended_at, row.end_us,
                       dict(row.policy), row.started_by, row.node, list(row.notes), row.manifest_sha256, row.composite_sha256,
                       row.composite_path, row.composite_state, row.composite_progress)


def _track(row: RecordingTrackRow) -> TrackInfo:
    return TrackInfo(row.id, row.session_id, row.seat, row.number, row.kind, row.codec, row.account_id, row.party_id,
                     row.first_us, row.last_us, row.joined_path, row.joined_sha256)


def _segment(row: RecordingSegmentRow) -> SegmentInfo:
    return SegmentInfo(row.id, row.track_id, row.index, row.sha256, row.size, row.start_us, row.end_us, row.frames,
                       row.path, row.recovery)


class RecordingStore:
    def __init__(self, db: async_sessionmaker[AsyncSession], clock: Clock):
        self.db = db
        self.clock = clock

    # --- sessions ---------------------------------------------------------------------------

    async def start_session(self, case_id: str, room_id: str, policy: dict[str, Any], *,
                            started_by: str | None = None, node: str | None = None) -> SessionInfo:
        """A new session in state ``recording``; its clock starts now. Audited on the case."""
        now = self.clock.now()
        async with self.db.begin() as s:
            case = await self._case(s, case_id)
            if await s.scalar(select(RecordingSessionRow.id).where(RecordingSessionRow.room_id == room_id,
                                                                   RecordingSessionRow.state == RECORDING)):
                raise WrongState("recording_running", "this room is already being recorded")
            row = RecordingSessionRow(id="rec_" + secrets.token_hex(8), case_id=case_id, room_id=room_id,
                                      state=RECORDING, started_at=now, policy=policy, started_by=started_by,
                                      node=node, notes=[])
            s.add(row)
            audit.append(s, case, started_by or SYSTEM_ACTOR, "recording.started",
                         {"session": row.id, "room": room_id}, now)
            return _session(row)

    async def finish(self, session_id: str, *, state: str, end_us: int, note: str | dict[str, Any]) -> SessionInfo:
        """End a running session (``finished`` or ``interrupted``); audited on the case."""
        if state not in (FINISHED, INTERRUPTED):
            raise ValueError(state)
        now = self.clock.now()
        async with self.db.begin() as s:
            row = await self._session_row(s, session_id, lock=True)
            if row.state != RECORDING:
                raise WrongState("recording_ended", "this recording has already ended")
            row.state, row.ended_at, row.end_us = state, now, end_us
            row.notes = [*row.notes, note]
            case = await self._case(s, row.case_id)
            audit.append(s, case, SYSTEM_ACTOR, f"recording.{state}", {"session": session_id, "end_us": end_us}, now)
            return _session(row)

    async def add_note(self, session_id: str, note: str | dict[str, Any]) -> None:
        async with self.db.begin() as s:
            row = await self._session_row(s, session_id, lock=True)
            row.notes = [*row.notes, note]

    async def set_manifest(self, session_id: str, sha256: str, *, actor: str = SYSTEM_ACTOR) -> None:
        """Record the manifest's hash and append it to the case's audit trail."""
        now = self.clock.now()
        async with self.db.begin() as s:
            row = await self._session_row(s, session_id, lock=True)
            row.manifest_sha256 = sha256
            case = await self._case(s, row.case_id)
            audit.append(s, case, actor, "recording.manifest", {"session": session_id, "sha256": sha256}, now)

    async def set_composite(self, session_id: str, path: str, sha256: str) -> None:
        async with self.db.begin() as s:
            row = await self._session_row(s, session_id, lock=True)
            row.composite_path, row.composite_sha256 = path, sha256
            row.composite_state, row.composite_progress = "ready", 1.0

    async def set_composite_job(self, session_id: str, state: str | None, progress: float | None = None) -> None:
        """The composite job's state (``pending``, ``rendering``, ``failed``; ``None``: nothing to render) and progress."""
        async with self.db.begin() as s:
            row = await self._session_row(s, session_id, lock=True)
            row.composite_state, row.composite_progress = state, progress

    async def composite_jobs(self, *, node: str | None) -> list[SessionInfo]:
        """Composites asked for and not done (``pending``/``rendering``) of ``node``'s sessions
        (and those of no particular node): at start-up, a rendering one was cut off by the restart."""
        query = (select(RecordingSessionRow)
                 .where(RecordingSessionRow.composite_state.in_(("pending", "rendering")))
                 .where(or_(RecordingSessionRow.node == node, RecordingSessionRow.node.is_(None)))
                 .order_by(RecordingSessionRow.ended_at))
        async with self.db() as s:
            return [_session(r) for r in await s.scalars(query)]

    async def session(self, session_id: str) -> SessionInfo:
        async with self.db() as s:
            return _session(await self._session_row(s, session_id))

    async def sessions_of_case(self, case_id: str) -> list[SessionInfo]:
        async with self.db() as s:
            rows = await s.scalars(select(RecordingSessionRow).where(RecordingSessionRow.case_id == case_id)
                                   .order_by(RecordingSessionRow.started_at))
            return [_session(r) for r in rows]

    async def sessions_in_state(self, state: str, *, node: str | None = None) -> list[SessionInfo]:
        """Sessions in ``state``; with ``node``, only that node's and those of no particular node."""
        query = select(RecordingSessionRow).where(RecordingSessionRow.state == state)
        if node is not None:
            query = query.where(or_(RecordingSessionRow.node == node, RecordingSessionRow.node.is_(None)))
        async with self.db() as s:
            rows = await s.scalars(query.order_by(RecordingSessionRow.started_at))
            return [_session(r) for r in rows]

    # --- consents ---------------------------------------------------------------------------

    async def record_consent(self, session_id: str, participant: Participant, answer: str) -> Consent:
        """A seat's answer; a later answer replaces an earlier one. Audited on the case."""
        if answer not in (CONSENTED, REFUSED):
            raise ValueError(answer)
        now = self.clock.now()
        async with self.db.begin() as s:
            session = await self._session_row(s, session_id, lock=True)
            row = await s.scalar(select(RecordingConsentRow).where(RecordingConsentRow.session_id == session_id,
                                                                   RecordingConsentRow.seat == participant.seat))
            if row is None:
                row = RecordingConsentRow(session_id=session_id, seat=participant.seat)
                s.add(row)
            row.account_id, row.party_id = participant.account_id, participant.party_id
            row.role, row.case_role, row.name = participant.role, participant.case_role, participant.name
            row.answer, row.answered_at = answer, now
            case = await self._case(s, session.case_id)
            audit.append(s, case, participant.account_id or f"seat:{participant.seat}", f"recording.{answer}",
                         {"session": session_id, "seat": participant.seat}, now)
        return Consent(participant, answer, now)

    async def consents(self, session_id: str) -> list[Consent]:
        async with self.db() as s:
            rows = await s.scalars(select(RecordingConsentRow).where(RecordingConsentRow.session_id == session_id)
                                   .order_by(RecordingConsentRow.id))
            return [Consent(Participant(r.seat, r.role, r.case_role, r.name, r.account_id, r.party_id), r.answer,
                            r.answered_at) for r in rows]

    # --- tracks, segments, chain ------------------------------------------------------------

    async def add_track(self, session_id: str, participant: Participant, kind: str, codec: str,
                        number: int = 0) -> TrackInfo:
        """The seat's track of this kind, created on first use (a reconnect continues it)."""
        async with self.db.begin() as s:
            await self._session_row(s, session_id)
            row = await s.scalar(select(RecordingTrackRow).where(
                RecordingTrackRow.session_id == session_id, RecordingTrackRow.seat == participant.seat,
                RecordingTrackRow.kind == kind, RecordingTrackRow.number == number))
            if row is None:
                row = RecordingTrackRow(id="trk_" + secrets.token_hex(8), session_id=session_id, seat=participant.seat,
                                        number=number, account_id=participant.account_id,
                                        party_id=participant.party_id, kind=kind, codec=codec)
                s.add(row)
            return _track(row)

    async def add_segment(self, track_id: str, closed: ClosedSegment) -> tuple[SegmentInfo, chain.ChainLink]:
        """Store a closed segment and append it to its session's chain, atomically."""
        async with self.db.begin() as s:
            track = await s.get(RecordingTrackRow, track_id)
            if track is None:
                raise NotFound("track_not_found", f"no recording track {track_id}")
            await self._session_row(s, track.session_id, lock=True)
            last = await s.scalar(select(RecordingChainRow).where(RecordingChainRow.session_id == track.session_id)
                                  .order_by(RecordingChainRow.position.desc()).limit(1))
            prev = last.chain_hash if last is not None else chain.GENESIS
            position = (last.position if last is not None else 0) + 1
            segment = RecordingSegmentRow(track_id=track_id, index=closed.index, sha256=closed.sha256,
                                          size=closed.size, start_us=closed.start_us, end_us=closed.end_us,
                                          frames=closed.frames, path=closed.path, recovery=closed.recovery)
            s.add(segment)
            await s.flush()
            digest = chain.link(prev, closed.sha256, track_id, closed.index)
            s.add(RecordingChainRow(session_id=track.session_id, position=position, segment_id=segment.id,
                                    prev_hash=prev, chain_hash=digest))
            track.first_us = closed.start_us if track.first_us is None else min(track.first_us, closed.start_us)
            track.last_us = closed.end_us if track.last_us is None else max(track.last_us, closed.end_us)
            return _segment(segment), chain.ChainLink(position, track_id, closed.index, closed.sha256, prev, digest)

    async def set_joined(self, track_id: str, path: str, sha256: str) -> None:
        async with self.db.begin() as s:
            track = await s.get(RecordingTrackRow, track_id)
            if track is None:
                raise NotFound("track_not_found", f"no recording track {track_id}")
            track.joined_path, track.joined_sha256 = path, sha256

    async def tracks(self, session_id: str) -> list[TrackInfo]:
        async with self.db() as s:
            rows = await s.scalars(select(RecordingTrackRow).where(RecordingTrackRow.session_id == session_id)
                                   .order_by(RecordingTrackRow.seat, RecordingTrackRow.kind, RecordingTrackRow.number))
            return [_track(r) for r in rows]

    async def segments(self, session_id: str) -> list[SegmentInfo]:
        """Every segment of the session, by track then index."""
        async with self.db() as s:
            rows = await s.scalars(select(RecordingSegmentRow).join(RecordingTrackRow)
                                   .where(RecordingTrackRow.session_id == session_id)
                                   .order_by(RecordingSegmentRow.track_id, RecordingSegmentRow.index))
            return [_segment(r) for r in rows]

    async def chain(self, session_id: str) -> list[chain.ChainLink]:
        async with self.db() as s:
            rows = (await s.execute(
                select(RecordingChainRow, RecordingSegmentRow).join(RecordingSegmentRow)
                .where(RecordingChainRow.session_id == session_id).order_by(RecordingChainRow.position))).all()
            return [chain.ChainLink(c.position, g.track_id, g.index, g.sha256, c.prev_hash, c.chain_hash)
                    for c, g in rows]

    async def chain_head(self, session_id: str) -> tuple[int, str]:
        """(entries, head hash); ``(0, GENESIS)`` for an empty chain."""
        async with self.db() as s:
            last = await s.scalar(select(RecordingChainRow).where(RecordingChainRow.session_id == session_id)
                                  .order_by(RecordingChainRow.position.desc()).limit(1))
        return (last.position, last.chain_hash) if last is not None else (0, chain.GENESIS)

    # --- time stamps ------------------------------------------------------------------------

    async def add_stamp(self, session_id: str, stamp: StampInfo) -> None:
        async with self.db.begin() as s:
            s.add(RecordingStampRow(session_id=session_id, position=stamp.position, chain_head=stamp.chain_head,
                                    token=stamp.token, stamped_at=stamp.stamped_at, final=stamp.final))

    async def stamps(self, session_id: str) -> list[StampInfo]:
        async with self.db() as s:
            rows = await s.scalars(select(RecordingStampRow).where(RecordingStampRow.session_id == session_id)
                                   .order_by(RecordingStampRow.id))
            return [StampInfo(r.position, r.chain_head, r.token, r.stamped_at, r.final) for r in rows]

    # --- internals --------------------------------------------------------------------------

    @staticmethod
    async def _session_row(s: AsyncSession, session_id: str, *, lock: bool = False) -> RecordingSessionRow:
        query = select(RecordingSessionRow).where(RecordingSessionRow.id == session_id)
        row = await s.scalar(query.with_for_update() if lock else query)
        if row is None:
            raise NotFound("recording_not_found", f"no recording {session_id}")
        return row

    @staticmethod
    async def _case(s: AsyncSession, case_id: str) -> Case:
        case = await s.scalar(select(Case).where(Case.id == case_id).with_for_update())
        if case is None:
            raise NotFound("case_not_found", f"no case {case_id}")
        return case
