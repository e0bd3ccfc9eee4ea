"""Identity numbers checked the same way everywhere: resident identity card numbers (GB 11643-1999: 17
digits and an ISO 7064 MOD 11-2 check character) and unified social credit codes (GB 32100-2015)."""

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


# --- unified social credit codes (GB 32100-2015) ------------------------------------------------
#: The code's alphabet: digits and capital letters without I, O, S, V, Z; a character's value is its index.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_SHAPE = re.compile(rf"^[{CREDIT_CODE_ALPHABET}]{{2}}\d{{6}}[{CREDIT_CODE_ALPHABET}]{{10}}$")


def credit_code_check_character(first17: str) -> str:
    """GB 32100 check character: 31 minus the weighted sum modulo 31 (31 itself becomes 0)."""
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(raw: str) -> str:
    """Return the normalised (upper-case, no spaces) unified social credit code of a company or other
    organisation, or raise :class:`InvalidInput` saying what is wrong."""
    code = "".join(raw.split()).upper()
    if len(code) != 18:
        raise InvalidInput("invalid_credit_code", "a unified social credit code has 18 characters")
    if not _CREDIT_SHAPE.match(code):
        raise InvalidInput("invalid_credit_code", "a unified social credit code uses digits and capital letters "
                                                  "without I, O, S, V, Z, with the region code (characters 3-8) in digits")
    if credit_code_check_character(code[:17]) != code[17]:
        raise InvalidInput("invalid_credit_code", "the credit code's check character is wrong (GB 32100)")
    return code
