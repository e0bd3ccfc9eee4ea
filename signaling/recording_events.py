"""Recording in the room over Socket.IO: the mediator starts and stops it, each participant
answers the consent question for themselves, everyone is told, and the recorder writes exactly the
seats :meth:`signaling.room.Room.may_record` allows (issue 10).

``rec:start`` and ``rec:stop`` are the room's mediator's alone (checked by the room), and only in
a platform case's room whose policy is not ``off``; ``rec:consent`` answers for the sender's own
seat, never another's (the payload names no seat). The session, its consents and its end are
entries of the case's audit trail (written by :class:`recordings.store.RecordingStore`); the
mediator's stop, with its reason, is one too. After every change of the room (consent, caucus,
mute, a seat leaving) the set of recorded seats follows :meth:`Room.may_record`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from pyhanko.sign.timestamps import TimeStamper

from mediation.background import BackgroundTasks
from recordings.review import ReviewComposer
from recordings.session_recorder import KINDS, RecorderSettings, SessionRecorder
from recordings.storage import RecordingStorage
from recordings.store import CONSENTED, REFUSED, SYSTEM_ACTOR, Participant, RecordingStore

from . import events as ev
from .room import Seat
from .room_events import Ack, Connection, EventError, LiveRoom, RoomHub

log = logging.getLogger(__name__)


class PolicyView(Protocol):
    mode: str


class RecordingDesk(Protocol):
    """What the case system provides (:class:`mediation.recording_policy.RecordingPolicyService`)."""

    async def of_case(self, case_id: str) -> PolicyView: ...

    async def record(self, case_id: str, actor_id: str, action: str, payload: dict[str, Any]) -> None: ...


@dataclass
class _Running:
    recorder: SessionRecorder
    writing: set[tuple[str, str]] = field(default_factory=set)  # (seat, kind) being written


def participant_of(seat: Seat) -> Participant:
    """The seat as the case knows it, for the recording's consent and track rows."""
    return Participant(seat.seat, seat.role, seat.case_role or seat.role, seat.name, seat.account_id,
                       int(seat.participant) if seat.participant and seat.participant.isdigit() else None)


class RoomRecording:
    """Serves the ``rec:*`` events of a :class:`RoomHub`, keeps each room's recorder writing the
    seats the room allows, and ends the recording when a room closes or the server stops."""

    def __init__(self, hub: RoomHub, desk: RecordingDesk, store: RecordingStore, storage: RecordingStorage,
                 timestamper: TimeStamper, composer: ReviewComposer, settings: RecorderSettings | None = None):
        self.hub = hub
        self.desk = desk
        self.store = store
        self.storage = storage
        self.timestamper = timestamper
        self.composer = composer
        self.settings = settings or RecorderSettings()
        self.running: dict[str, _Running] = {}  # by room id
        #: Rooms whose last session is still being closed: a new one starts once it is.
        self.stopping: dict[str, asyncio.Event] = {}
        #: Sessions being closed (tracks joined, final stamp, manifest, composite) after the room moved on.
        self.closing = BackgroundTasks("recording close")
        hub.add_event("rec:start", ev.RecordingStart, self.on_start)
        hub.add_event("rec:stop", ev.RecordingStop, self.on_stop)
        hub.add_event("rec:consent", ev.RecordingConsent, self.on_consent)
        hub.state_hooks.append(self.follow)
        hub.closing_hooks.append(self.on_room_closing)

    async def _announce(self, live: LiveRoom, by: str) -> None:
        """Everyone connected, the lobby included, hears that recording started or stopped."""
        state = live.room.recording
        name = live.room.seats[by].name if by in live.room.seats else None
        for sid in list(live.sid_of.values()):
            await self.hub.sio.emit("rec:changed", {"active": state.active, "session_id": state.session_id,
                                                    "by": name}, to=sid)
        await self.hub.broadcast_state(live)

    async def on_start(self, sid: str, conn: Connection, live: LiveRoom, _: ev.RecordingStart) -> Ack:
        if not live.case_bound:
            raise EventError("recording_unavailable", "only a case's video session can be recorded")
        room = live.room
        policy = await self.desk.of_case(room.case_id)
        room.start_recording(conn.seat, policy.mode, time.time())
        mediator = room.seats[conn.seat]
        try:
            if (previous := self.stopping.get(room.room_id)) is not None:
                await previous.wait()  # the room's last session is still being closed
            recorder = await SessionRecorder.start(
                self.store, self.storage, self.timestamper, source=live.router, case_id=room.case_id,
                room_id=room.room_id, policy={"mode": policy.mode}, started_by=mediator.account_id,
                settings=self.settings)
            await self.store.record_consent(recorder.session.id, participant_of(mediator), CONSENTED)
        except Exception:
            room.recording.stop()
            raise
        room.recording.session_id = recorder.session.id
        self.running[room.room_id] = _Running(recorder)
        log.info("recording started", extra={"room": room.room_id, "session": recorder.session.id})
        await self._announce(live, conn.seat)
        return {"ok": True, "session_id": recorder.session.id}

    async def on_consent(self, sid: str, conn: Connection, live: LiveRoom, payload: ev.RecordingConsent) -> Ack:
        room = live.room
        room.answer_recording(conn.seat, payload.consent)
        session_id = room.recording.session_id
        assert session_id is not None, "a running recording has its session"
        await self.store.record_consent(session_id, participant_of(room.seats[conn.seat]),
                                        CONSENTED if payload.consent else REFUSED)
        await self.hub.broadcast_state(live)
        return {"ok": True, "consent": room.recording.answer_of(conn.seat)}

    async def follow(self, live: LiveRoom) -> None:
        """Write exactly the seats the room allows now: start the newly allowed, stop the others.
        While nothing is recorded, keep the case's policy the room shows the mediator current."""
        if live.case_bound and not live.room.recording.active:
            live.room.recording.policy = (await self.desk.of_case(live.room.case_id)).mode
        running = self.running.get(live.room.room_id)
        if running is None:
            return
        room = live.room
        allowed = {(seat, kind) for seat in room.seats for kind in KINDS if room.may_record(seat, kind)}
        try:
            for seat, kind in sorted(running.writing - allowed):
                running.writing.discard((seat, kind))
                await running.recorder.stop_participant(seat, [kind])
            starting: dict[str, list[str]] = {}
            for seat, kind in sorted(allowed - running.writing):
                starting.setdefault(seat, []).append(kind)
            for seat, kinds in starting.items():  # a seat's kinds together: its audio waits for its video
                running.writing.update((seat, kind) for kind in kinds)
                await running.recorder.record(participant_of(room.seats[seat]), kinds)
        except Exception:  # the room goes on; the session's notes and segments say what was written
            log.exception("the recorder could not follow the room", extra={"room": room.room_id})

    async def _stop(self, live: LiveRoom, seat: str | None, reason: str) -> str | None:
        """End the room's recording on the record; the recorder closes the session in the background
        (joining each track, the final time stamp and the manifest take a few seconds)."""
        room = live.room
        session_id = room.stop_recording(seat) if seat is not None else room.recording.stop()
        running = self.running.pop(room.room_id, None)
        if running is not None:  # first, so that the session ends at this moment, not after the audit write
            self.stopping[room.room_id] = asyncio.Event()
            self.closing.spawn(self._close(room.room_id, running.recorder, reason))
        actor = (room.seats[seat].account_id or f"seat:{seat}") if seat is not None else SYSTEM_ACTOR
        await self.desk.record(room.case_id, actor,
                               "recording.stopped", {"room_id": room.room_id, "session_id": session_id,
                                                     "reason": reason, "seat": seat})
        log.info("recording stopped", extra={"room": room.room_id, "session": session_id, "reason": reason})
        return session_id

    async def _close(self, room_id: str, recorder: SessionRecorder, reason: str) -> None:
        """Close the session, then render its review composite in the worker process."""
        try:
            await recorder.stop(reason)
        finally:
            self.stopping.pop(room_id).set()
        if reason == "server_shutdown":
            await self.composer.defer(recorder.session.id)  # rendered at the next start
        else:
            await self.composer.compose(recorder.session.id)

    async def on_stop(self, sid: str, conn: Connection, live: LiveRoom, _: ev.RecordingStop) -> Ack:
        session_id = await self._stop(live, conn.seat, "stopped")
        await self._announce(live, conn.seat)
        return {"ok": True, "session_id": session_id}

    async def on_room_closing(self, live: LiveRoom, reason: str) -> None:
        """A room that ends (or a server that stops) while recording ends the recording first; on
        shutdown the server waits until every session is closed."""
        if live.room.recording.active:
            await self._stop(live, None, reason)
        if reason == "server_shutdown":
            await self.closing.drain()
