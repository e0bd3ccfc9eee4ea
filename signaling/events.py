"""Schemas of the Socket.IO events a client may send (see ``docs/protocol.md``).

Every payload is validated here before any handler logic runs; unknown fields are refused so a
typo in a client fails loudly instead of being ignored.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

MAX_SDP_LENGTH = 32 * 1024


class Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Join(Event):
    token: str = Field(min_length=1, max_length=2048)


class Leave(Event):
    pass


class Offer(Event):
    sdp: str = Field(min_length=1, max_length=MAX_SDP_LENGTH)
    reset: bool = False


class Answer(Event):
    sdp: str = Field(min_length=1, max_length=MAX_SDP_LENGTH)


class MediaState(Event):
    audio: bool
    video: bool


class ChatSend(Event):
    text: str = Field(min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _not_blank(self) -> "ChatSend":
        if not self.text.strip():
            raise ValueError("text must not be blank")
        return self


SeatId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class Admit(Event):
    seat: SeatId | None = None
    all: bool = False

    @model_validator(mode="after")
    def _one_target(self) -> "Admit":
        if (self.seat is None) == (not self.all):
            raise ValueError("give either seat or all: true")
        return self


class Mute(Event):
    seat: SeatId
    kind: Literal["audio", "video"]
    muted: bool


class Permit(Event):
    seat: SeatId
    publish: bool


class Remove(Event):
    seat: SeatId
    reason: str | None = Field(default=None, max_length=200)


class End(Event):
    pass


class CaucusStart(Event):
    side: Literal["applicant", "respondent"]


class CaucusEnd(Event):
    pass


class RecordingStart(Event):
    pass


class RecordingStop(Event):
    pass


class RecordingConsent(Event):
    consent: bool
