"""Checks on free text and identifiers coming from outside. Besides length limits, NUL
characters are refused: PostgreSQL cannot store them, and no legitimate text contains one."""

from __future__ import annotations

import re

from .errors import InvalidInput

_IDENTIFIER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def clean_text(value: str, name: str, limit: int, *, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise InvalidInput("missing_field", f"{name} is required", {"field": name})
    if len(value) > limit:
        raise InvalidInput("too_long", f"{name} is limited to {limit} characters", {"field": name, "limit": limit})
    if "\x00" in value:
        raise InvalidInput("invalid_text", f"{name} contains a NUL character", {"field": name})
    return value


def is_identifier(value: str) -> bool:
    """Whether ``value`` can be one of our ids (case, account, application); others need no lookup."""
    return bool(_IDENTIFIER.match(value))
