"""Refusals of the identity checks, in the project's one hierarchy (:mod:`mediation.errors`).

An unusable reference photo is bad input (``kind = "invalid"``: the HTTP layer answers 422 with
``code``). A live check that finds no face or the wrong face is *not* an error: it is a failed
:class:`~identity.face_match.FaceMatchResult`, because a failed check is evidence too (it gets an
attestation and counts against the attempt limit).
"""

from __future__ import annotations

from typing import Any

from mediation.errors import InvalidInput

#: Stable codes of :class:`IdentityInputError`; the web client words each for people.
INPUT_ERROR_CODES = frozenset({"image_unreadable", "image_too_large", "no_face", "several_faces",
                               "face_too_small", "no_frames"})


class IdentityInputError(InvalidInput):
    """An image or frame set the checks cannot work on; nothing was stored.

    Crosses the worker-process boundary: :meth:`__reduce__` keeps ``code`` and ``details``."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None):
        if code not in INPUT_ERROR_CODES:
            raise ValueError(f"unknown identity input error code {code!r}")
        super().__init__(code, message, details)

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.code, self.message, self.details))
