"""The room state machine: who is in the lobby, who is admitted, who may see and hear whom.

Pure logic, no I/O: the Socket.IO layer (``room_events``) calls these methods and then
broadcasts snapshots and asks the media router to re-evaluate ``may_forward``. Keeping the
rules here makes them unit-testable and the single source of truth for both signalling
(chat scope, snapshots) and media (forwarding policy).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

from .room_recording import RecordingState
from .tokens import JoinClaims

SeatState = Literal["lobby", "admitted", "reconnecting", "left"]
Kind = Literal["audio", "video"]
KINDS: tuple[str, ...] = ("audio", "video")


class RoomError(Exception):
    """A refused room operation; ``code`` is the protocol's error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Seat:
    """One invited person's place in the room; survives disconnects (reconnect gets it back)."""

    seat: str
    name: str
    role: str
    side: str | None
    case_role: str | None = None  # who they are in the case: applicant_party, respondent_agent, court_clerk...
    account_id: str | None = None  # None: a guest by link (or a room outside the case system)
    participant: str | None = None  # the case party (row id) a party, agent or guest speaks for
    state: SeatState = "lobby"
    audio: bool = True
    video: bool = True
    muted_by_mediator: dict[str, bool] = field(default_factory=lambda: {"audio": False, "video": False})
    publish_permitted: bool = False
    disconnected_at: float | None = None

    @property
    def present(self) -> bool:
        """Admitted and not gone: counts for media and chat (reconnecting keeps its routes)."""
        return self.state in ("admitted", "reconnecting")

    @property
    def can_publish(self) -> bool:
        return self.role != "observer" or self.publish_permitted


@dataclass
class Room:
    """A mediation room bound to one case."""

    room_id: str
    case_id: str
    status: Literal["open", "ended"] = "open"
    seats: dict[str, Seat] = field(default_factory=dict)
    caucus_side: str | None = None
    recording: RecordingState = field(default_factory=RecordingState)

    # ----------------------------------------------------------------- membership
    def join(self, claims: JoinClaims) -> Seat:
        """Seat the token holder: a new seat goes to the lobby (the mediator is admitted at once);
        a known seat (rejoin, reload) keeps its previous state."""
        if self.status == "ended":
            raise RoomError("room_ended", "the mediation session has ended")
        seat = self.seats.get(claims.seat)
        if seat is None:
            seat = Seat(seat=claims.seat, name=claims.name, role=claims.role, side=claims.side,
                        case_role=claims.case_role, account_id=claims.account_id, participant=claims.participant)
            self.seats[claims.seat] = seat
        elif seat.state == "left" and seat.role != "mediator":
            raise RoomError("forbidden", "you were removed from this room")
        if seat.role == "mediator":
            seat.state = "admitted"
        elif seat.state == "reconnecting":
            seat.state = "admitted"
        seat.disconnected_at = None
        return seat

    def disconnect(self, seat_id: str, now: float | None = None) -> None:
        """The connection dropped: keep the seat, show ``reconnecting`` to the others."""
        seat = self.seats.get(seat_id)
        if seat is None or seat.state == "left":
            return
        if seat.state == "lobby":
            del self.seats[seat_id]
            return
        seat.state = "reconnecting"
        seat.disconnected_at = now if now is not None else time.monotonic()

    def leave(self, seat_id: str) -> None:
        """A deliberate leave: the seat is freed; the token can still rejoin through the lobby."""
        seat = self.seats.pop(seat_id, None)
        if seat is not None and self.caucus_side is not None and not self._caucus_has_members():
            self.caucus_side = None

    def expire_reconnecting(self, grace: float, now: float | None = None) -> list[str]:
        """Seats gone longer than ``grace`` seconds leave for good; the mediator's seat waits."""
        now = now if now is not None else time.monotonic()
        gone = [s.seat for s in self.seats.values()
                if s.state == "reconnecting" and s.role != "mediator"
                and s.disconnected_at is not None and now - s.disconnected_at >= grace]
        for seat_id in gone:
            self.leave(seat_id)
        return gone

    # ----------------------------------------------------------------- moderation
    def _require_mediator(self, actor: str) -> None:
        seat = self.seats.get(actor)
        if seat is None or seat.role != "mediator" or not seat.present:
            raise RoomError("forbidden", "only the mediator may do this")

    def _target(self, seat_id: str) -> Seat:
        seat = self.seats.get(seat_id)
        if seat is None or seat.state == "left":
            raise RoomError("unknown_seat", f"no participant {seat_id!r} in this room")
        return seat

    def admit(self, actor: str, seat_id: str | None = None) -> list[str]:
        """Admit one seat from the lobby, or everyone waiting when ``seat_id`` is None."""
        self._require_mediator(actor)
        if seat_id is None:
            waiting = [s for s in self.seats.values() if s.state == "lobby"]
        else:
            target = self._target(seat_id)
            if target.state != "lobby":
                raise RoomError("not_in_lobby", f"{target.name} is not waiting in the lobby")
            waiting = [target]
        for seat in waiting:
            seat.state = "admitted"
        return [s.seat for s in waiting]

    def set_mute(self, actor: str, seat_id: str, kind: str, muted: bool) -> None:
        """Server-enforced mute: the router stops forwarding that kind of media from the seat."""
        self._require_mediator(actor)
        if kind not in KINDS:
            raise RoomError("bad_event", "kind must be audio or video")
        target = self._target(seat_id)
        if target.role == "mediator":
            raise RoomError("forbidden", "the mediator cannot be muted by the server")
        target.muted_by_mediator[kind] = muted

    def permit(self, actor: str, seat_id: str, publish: bool) -> None:
        self._require_mediator(actor)
        target = self._target(seat_id)
        if target.role != "observer":
            raise RoomError("bad_event", "only observers need permission to publish")
        target.publish_permitted = publish

    def remove(self, actor: str, seat_id: str) -> Seat:
        self._require_mediator(actor)
        target = self._target(seat_id)
        if target.role == "mediator":
            raise RoomError("forbidden", "the mediator cannot remove themselves; end the session instead")
        target.state = "left"
        if self.caucus_side is not None and not self._caucus_has_members():
            self.caucus_side = None
        return target

    def end(self, actor: str) -> None:
        self._require_mediator(actor)
        self.status = "ended"
        self.caucus_side = None

    def set_self_media(self, seat_id: str, audio: bool, video: bool) -> None:
        seat = self._target(seat_id)
        seat.audio, seat.video = audio, video

    # ----------------------------------------------------------------- caucus (背对背)
    def start_caucus(self, actor: str, side: str) -> None:
        """Take one side (its parties and agents) into a private session with the mediator."""
        self._require_mediator(actor)
        if side not in ("applicant", "respondent"):
            raise RoomError("bad_event", "side must be applicant or respondent")
        self.caucus_side = side

    def end_caucus(self, actor: str) -> None:
        self._require_mediator(actor)
        self.caucus_side = None

    def _caucus_has_members(self) -> bool:
        return any(s.side == self.caucus_side and s.present for s in self.seats.values())

    def group_of(self, seat: Seat) -> str:
        """``joint`` normally; during a caucus ``caucus`` (mediator + that side) or ``waiting``."""
        if self.caucus_side is None:
            return "joint"
        if seat.role == "mediator" or seat.side == self.caucus_side:
            return "caucus"
        return "waiting"

    # ----------------------------------------------------------------- who sees whom
    def may_forward(self, subscriber: str, publisher: str, kind: str) -> bool:
        """The forwarding policy the media router asks for every route, every refresh."""
        if self.status != "open" or subscriber == publisher:
            return False
        sub, pub = self.seats.get(subscriber), self.seats.get(publisher)
        if sub is None or pub is None or not sub.present or not pub.present:
            return False
        if not pub.can_publish or pub.muted_by_mediator.get(kind, True):
            return False
        return self.group_of(sub) == self.group_of(pub)

    # ----------------------------------------------------------------- recording
    def start_recording(self, actor: str, policy: str, now: float) -> None:
        """The mediator starts recording under the case's ``policy``; everyone else is asked again.
        The session id follows once the recorder opened the session."""
        self._require_mediator(actor)
        if policy == "off":
            raise RoomError("recording_off", "the case's recording policy is off")
        if self.recording.active:
            raise RoomError("already_recording", "this session is already being recorded")
        self.recording.start(policy, actor, now)

    def stop_recording(self, actor: str) -> str:
        self._require_mediator(actor)
        if not self.recording.active:
            raise RoomError("not_recording", "nothing is being recorded")
        session_id = self.recording.stop()
        assert session_id is not None, "a running recording has its session"
        return session_id

    def answer_recording(self, seat_id: str, consent: bool) -> None:
        """A participant answers the recording question for themselves (and may change their mind)."""
        seat = self._target(seat_id)
        if not seat.present:
            raise RoomError("not_admitted", "wait until the mediator admits you")
        if not self.recording.active:
            raise RoomError("not_recording", "nothing is being recorded")
        self.recording.answers[seat_id] = "consented" if consent else "refused"

    def may_record(self, publisher: str, kind: str) -> bool:
        """The recording policy the recorder asks for every track: a session runs, the seat said yes,
        its media is forwarded at all (present, may publish, not muted by the mediator), and it is the
        joint session unless the case's policy covers the caucus too."""
        pub = self.seats.get(publisher)
        if self.status != "open" or not self.recording.active or pub is None or not pub.present:
            return False
        if self.recording.answer_of(publisher) != "consented":
            return False
        if not pub.can_publish or pub.muted_by_mediator.get(kind, True):
            return False
        return self.caucus_side is None or self.recording.records_caucus

    def chat_recipients(self, sender: str) -> tuple[str, list[str]]:
        """Scope (``room`` or ``caucus``) and seats that receive a chat message from ``sender``."""
        seat = self._target(sender)
        if not seat.present:
            raise RoomError("not_admitted", "wait until the mediator admits you")
        if not seat.can_publish:
            raise RoomError("forbidden", "observers may not chat unless the mediator allows it")
        group = self.group_of(seat)
        if group == "waiting":
            raise RoomError("caucus_waiting", "the mediator is in a private session with the other side; "
                                              "the chat opens again when it ends")
        recipients = [s.seat for s in self.seats.values() if s.present and self.group_of(s) == group]
        return ("room" if group == "joint" else "caucus"), recipients

    @property
    def mediator_present(self) -> bool:
        return any(s.role == "mediator" and s.state == "admitted" for s in self.seats.values())

    # ----------------------------------------------------------------- snapshots
    def _seat_view(self, seat: Seat, viewer_group: str | None = None) -> dict[str, Any]:
        """``viewer_group``: the group of a viewer who is not the mediator. During a caucus the
        other group's microphone and camera switches (and the mediator's mutes) are not theirs to
        know: they are shown as off, as the media they would describe is not forwarded anyway."""
        group = self.group_of(seat)
        hidden = viewer_group is not None and group != viewer_group
        return {
            "seat": seat.seat, "name": seat.name, "role": seat.role, "side": seat.side, "case_role": seat.case_role,
            "state": seat.state,
            "audio": False if hidden else seat.audio, "video": False if hidden else seat.video,
            "muted_by_mediator": {"audio": False, "video": False} if hidden else dict(seat.muted_by_mediator),
            "in_caucus": group == "caucus", "can_publish": seat.can_publish,
        }

    def audience_of(self, seat_id: str) -> str | None:
        """The group whose members all receive :meth:`shared_snapshot` of it (``joint``, ``caucus``,
        ``waiting``); ``None`` for a seat with a view of its own (the mediator, the lobby)."""
        me = self.seats[seat_id]
        return self.group_of(me) if me.present and me.role != "mediator" else None

    def shared_snapshot(self, group: str) -> dict[str, Any]:
        """What every present participant of ``group`` but the mediator may know, naming nobody as
        ``you`` (each finds itself in ``participants``): one payload for the whole group."""
        return {
            "room_id": self.room_id, "case_id": self.case_id, "status": self.status,
            "caucus": {"side": self.caucus_side} if self.caucus_side else None,
            "mediator_present": self.mediator_present,
            "recording": self.recording.shared_view(),
            "you": None,
            "participants": [self._seat_view(s, group) for s in self.seats.values() if s.present],
        }

    def snapshot_for(self, seat_id: str) -> dict[str, Any]:
        """What one participant may know about the room (lobby people see only themselves)."""
        me = self.seats[seat_id]
        you = self._seat_view(me) | {"waiting_for_caucus": self.group_of(me) == "waiting"}
        group = self.audience_of(seat_id)
        if group is not None:
            shared = self.shared_snapshot(group)
            recording = shared["recording"] | {"your_consent": self.recording.answer_of(seat_id)}
            return shared | {"you": you, "recording": recording}
        visible = [s for s in self.seats.values() if s.state != "left"] if me.present else []
        return {
            "room_id": self.room_id, "case_id": self.case_id, "status": self.status,
            "caucus": {"side": self.caucus_side} if self.caucus_side else None,
            "mediator_present": self.mediator_present,
            "recording": self.recording.view(seat_id, mediator=me.role == "mediator" and me.present,
                                             names={s.seat: (s.name, s.role, s.case_role) for s in visible}),
            "you": you,
            "participants": [self._seat_view(s) for s in visible],
        }
