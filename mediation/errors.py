"""Refusals of the case domain. The HTTP layer maps each kind to a status code; the domain never
speaks HTTP. Every refusal happens before anything is written, so a refused call changes nothing."""

from __future__ import annotations

from typing import Any


class MediationError(Exception):
    """Base class: a stable machine-readable ``code`` and a message for people."""

    kind = "invalid"

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


class InvalidInput(MediationError):
    """The request is well-formed but its content is unacceptable (bad ID number, bad amount...)."""

    kind = "invalid"


class NotFound(MediationError):
    """The thing does not exist *or the caller may not know that it exists* (no leaks)."""

    kind = "not_found"


class Forbidden(MediationError):
    """The caller can see the case but may not take this action on it."""

    kind = "forbidden"


class WrongState(MediationError):
    """The action is not allowed at the case's current step or status."""

    kind = "conflict"


class Unavailable(MediationError):
    """A part the action needs cannot do its work now (e.g. signing the court's ruling); nothing was changed."""

    kind = "unavailable"


class Unauthenticated(MediationError):
    """Credentials (password, one-time code, session) do not check out."""

    kind = "unauthenticated"


class Throttled(MediationError):
    """Too many attempts: refused without looking, until ``details["retry_after"]`` seconds have passed."""

    kind = "throttled"
