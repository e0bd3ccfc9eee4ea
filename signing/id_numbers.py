"""Identity document numbers, checked one way for the whole project: resident identity card
numbers (GB 11643-1999: 17 digits and an ISO 7064 MOD 11-2 check character) and unified social
credit codes (GB 32100-2015). The agreement model checks the numbers it states with these;
``mediation.id_numbers`` words the same checks as the case system's input errors."""

from __future__ import annotations

import datetime as dt
import re

from pydantic_core import PydanticCustomError

#: GB 11643-1999: weights of the first 17 digits and the check character for (sum mod 11).
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


class IdNumberError(ValueError):
    """An identity number that cannot be right, with the precise reason: ``kind`` names it for
    clients (the validation type ``id_number_<kind>``, worded in their language from ``ctx``)."""

    def __init__(self, kind: str, message: str, **ctx: str | int) -> None:
        super().__init__(message)
        self.kind = kind
        self.ctx = ctx

    def as_field_error(self) -> PydanticCustomError:
        """The problem as pydantic reports it, naming the field first ("id_number: …")."""
        return PydanticCustomError(f"id_number_{self.kind}", "id_number: " + str(self).replace("{", "(").replace("}", ")"),
                                   dict(self.ctx))


def resident_id_check_digit(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of a resident ID number."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def validate_resident_id(number: str) -> str:
    """Return the normalised (upper-case X) 18-character resident ID number or raise ``IdNumberError``."""
    value = number.strip().upper()
    if len(value) != 18:
        raise IdNumberError("length", f"a resident ID number has 18 characters, got {len(value)}", length=len(value))
    if not value[:17].isascii() or not value[:17].isdigit():
        raise IdNumberError("digits", "the first 17 characters of a resident ID number must be digits")
    if not (value[17].isascii() and (value[17].isdigit() or value[17] == "X")):
        raise IdNumberError("last_character", "the last character of a resident ID number must be a digit or X")
    if value[0] not in "123456789":
        raise IdNumberError("region", f"region code {value[:6]} does not exist (first digit is 0)", region=value[:6])
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise IdNumberError("birth_date", f"birth date {value[6:14]} is not a calendar date", birth=value[6:14]) from None
    if born.year < 1900 or born > dt.date.today():
        raise IdNumberError("birth_date", f"birth date {born.isoformat()} is out of range", birth=value[6:14])
    expected = resident_id_check_digit(value[:17])
    if value[17] != expected:
        raise IdNumberError("check_digit", f"check digit is {value[17]}, but the first 17 digits require {expected}",
                            given=value[17], expected=expected)
    return value


# --- unified social credit codes (GB 32100-2015) ------------------------------------------------
#: The code's alphabet: digits and capital letters without I, O, S, V, Z; a character's value is its index.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_SHAPE = re.compile(rf"^[{CREDIT_CODE_ALPHABET}]{{2}}\d{{6}}[{CREDIT_CODE_ALPHABET}]{{10}}$")


def credit_code_check_character(first17: str) -> str:
    """GB 32100 check character: 31 minus the weighted sum modulo 31 (31 itself becomes 0)."""
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(raw: str) -> str:
    """Return the normalised (upper-case, no spaces) unified social credit code of a company or other
    organisation, or raise ``IdNumberError`` saying what is wrong."""
    code = "".join(raw.split()).upper()
    if len(code) != 18:
        raise IdNumberError("credit_code", "a unified social credit code has 18 characters")
    if not _CREDIT_SHAPE.match(code):
        raise IdNumberError("credit_code", "a unified social credit code uses digits and capital letters "
                                           "without I, O, S, V, Z, with the region code (characters 3-8) in digits")
    if credit_code_check_character(code[:17]) != code[17]:
        raise IdNumberError("credit_code_check", "the credit code's check character is wrong (GB 32100)")
    return code
