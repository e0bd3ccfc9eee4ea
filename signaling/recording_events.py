"""Recording in the room over Socket.IO: the mediator starts and stops it, each participant
answers the consent question for themselves, and everyone is told (issue 10).

``rec:start`` and ``rec:stop`` are the room's mediator's alone (checked by the room), and only in
a platform case's room whose policy is not ``off``; ``rec:consent`` answers for the sender's own
seat, never another's (the payload names no seat). Each is an entry of the case's audit trail.
Who may be written is :meth:`signaling.room.Room.may_record`, which the recorder asks per track.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any, Protocol

from . import events as ev
from .room import RoomError
from .room_events import Ack, Connection, EventError, LiveRoom, RoomHub

log = logging.getLogger(__name__)


class PolicyView(Protocol):
    mode: str


class RecordingDesk(Protocol):
    """What the case system provides (:class:`mediation.recording_policy.RecordingPolicyService`)."""

    async def of_case(self, case_id: str) -> PolicyView: ...

    async def record(self, case_id: str, actor_id: str, action: str, payload: dict[str, Any]) -> None: ...


class RoomRecording:
    """Serves the ``rec:*`` events of a :class:`RoomHub` and stops recording when a room closes."""

    def __init__(self, hub: RoomHub, desk: RecordingDesk):
        self.hub = hub
        self.desk = desk
        hub.add_event("rec:start", ev.RecordingStart, self.on_start)
        hub.add_event("rec:stop", ev.RecordingStop, self.on_stop)
        hub.add_event("rec:consent", ev.RecordingConsent, self.on_consent)
        hub.closing_hooks.append(self.on_room_closing)

    @staticmethod
    def _actor(live: LiveRoom, seat_id: str) -> str:
        """The audit trail's actor for a seat: its account, or the seat of a guest who has none."""
        seat = live.room.seats[seat_id]
        return seat.account_id or f"seat:{seat_id}"

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
        session_id = "rs_" + secrets.token_urlsafe(12)
        room.start_recording(conn.seat, session_id, policy.mode, time.time())
        try:
            await self.desk.record(room.case_id, self._actor(live, conn.seat), "recording.started",
                                   {"room_id": room.room_id, "session_id": session_id, "policy": policy.mode,
                                    "seat": conn.seat})
        except Exception:
            room.recording.stop()
            raise
        log.info("recording started", extra={"room": room.room_id, "session": session_id})
        await self._announce(live, conn.seat)
        return {"ok": True, "session_id": session_id}

    async def _stop(self, live: LiveRoom, seat: str, reason: str) -> str:
        room = live.room
        session_id = room.stop_recording(seat)
        await self.desk.record(room.case_id, self._actor(live, seat), "recording.stopped",
                               {"room_id": room.room_id, "session_id": session_id, "reason": reason, "seat": seat})
        log.info("recording stopped", extra={"room": room.room_id, "session": session_id, "reason": reason})
        return session_id

    async def on_stop(self, sid: str, conn: Connection, live: LiveRoom, _: ev.RecordingStop) -> Ack:
        session_id = await self._stop(live, conn.seat, "stopped")
        await self._announce(live, conn.seat)
        return {"ok": True, "session_id": session_id}

    async def on_consent(self, sid: str, conn: Connection, live: LiveRoom, payload: ev.RecordingConsent) -> Ack:
        room = live.room
        room.answer_recording(conn.seat, payload.consent)
        seat = room.seats[conn.seat]
        answer = room.recording.answer_of(conn.seat)
        await self.desk.record(room.case_id, self._actor(live, conn.seat), "recording.consent",
                               {"room_id": room.room_id, "session_id": room.recording.session_id,
                                "seat": conn.seat, "name": seat.name, "case_role": seat.case_role, "answer": answer})
        await self.hub.broadcast_state(live)
        return {"ok": True, "consent": answer}

    async def on_room_closing(self, live: LiveRoom, reason: str) -> None:
        """A room that ends (or a server that stops) while recording stops the recording first, on
        the record, in the name of the mediator who started it."""
        state = live.room.recording
        if not state.active or state.started_by is None:
            return
        try:
            await self._stop(live, state.started_by, reason)
        except RoomError:  # the mediator's seat is gone: still end the session, on the record
            session_id = state.stop()
            await self.desk.record(live.room.case_id, "system", "recording.stopped",
                                   {"room_id": live.room.room_id, "session_id": session_id, "reason": reason})
