"""The recording part of a room's state: whether a session is being recorded, under which policy,
and each seat's answer to the recording question. Pure logic like :mod:`signaling.room`, which
owns one of these and asks it, in :meth:`~signaling.room.Room.may_record`, whose media may be written.

Consent is asked per recording session: when the mediator starts one, everyone's answer is
pending again (the mediator's own start counts as their consent). A seat answers only for itself,
may change its answer while the session runs, and nothing of a seat is written before it said yes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Consent = Literal["pending", "consented", "refused"]


@dataclass
class RecordingState:
    #: The case's policy as the room last read it (``off``, ``joint``, ``joint_and_caucus``).
    policy: str = "off"
    active: bool = False
    session_id: str | None = None
    started_at: float | None = None  # wall clock, seconds
    started_by: str | None = None  # the mediator's seat
    answers: dict[str, Consent] = field(default_factory=dict)  # seat -> answer, this session only

    @property
    def records_caucus(self) -> bool:
        return self.policy == "joint_and_caucus"

    def start(self, policy: str, mediator_seat: str, now: float) -> None:
        self.active, self.session_id, self.policy = True, None, policy
        self.started_at, self.started_by = now, mediator_seat
        self.answers = {mediator_seat: "consented"}

    def stop(self) -> str | None:
        session_id = self.session_id
        self.active, self.session_id, self.started_at, self.started_by = False, None, None, None
        self.answers = {}
        return session_id

    def answer_of(self, seat: str) -> Consent:
        return self.answers.get(seat, "pending")

    def shared_view(self) -> dict[str, Any]:
        """What every member of a group is shown alike: the indicator, never anyone's answer (a
        group's snapshot is one payload; each browser remembers the answer it gave)."""
        return {"policy": self.policy, "active": self.active, "session_id": self.session_id,
                "started_at": self.started_at}

    def view(self, seat: str, *, mediator: bool, names: dict[str, tuple[str, str, str | None]]) -> dict[str, Any]:
        """What ``seat`` is shown: the indicator and its own answer; the mediator also every answer.
        ``names`` maps the visible seats to (name, role, case role)."""
        out: dict[str, Any] = self.shared_view() | {"your_consent": self.answer_of(seat)}
        if mediator and self.active:
            out["consents"] = [{"seat": s, "name": name, "role": role, "case_role": case_role,
                                "consent": self.answer_of(s)} for s, (name, role, case_role) in names.items()]
        return out
