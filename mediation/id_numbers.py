"""Resident identity card numbers (GB 11643-1999): 17 digits and an ISO 7064 MOD 11-2 check character."""

from __future__ import annotations

import re
from datetime import date

from .errors import InvalidInput

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


def check_character(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS)) % 11]


def validate_id_number(raw: str) -> str:
    """Return the normalised number (upper-case X) or raise :class:`InvalidInput` saying what is wrong."""
    number = raw.strip().upper()
    if not _SHAPE.match(number):
        raise InvalidInput("invalid_id_number", "an ID number has 17 digits followed by a digit or X")
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidInput("invalid_id_number", "the ID number's birth date (characters 7-14) is not a date") from None
    if check_character(number[:17]) != number[17]:
        raise InvalidInput("invalid_id_number", "the ID number's check character is wrong (GB 11643)")
    return number
