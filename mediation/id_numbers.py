"""Identity numbers as the case system takes them: the project's one check of each
(``signing.id_numbers``: GB 11643 resident ID numbers, GB 32100 unified social credit codes), its
refusals raised as this package's :class:`InvalidInput` with a stable code."""

from __future__ import annotations

from signing.id_numbers import CREDIT_CODE_ALPHABET, IdNumberError, credit_code_check_character
from signing.id_numbers import resident_id_check_digit as check_character
from signing.id_numbers import validate_credit_code as _validate_credit_code
from signing.id_numbers import validate_resident_id

from .errors import InvalidInput

__all__ = ["CREDIT_CODE_ALPHABET", "check_character", "credit_code_check_character", "validate_credit_code",
           "validate_id_number"]


def validate_id_number(raw: str) -> str:
    """Return the normalised number (upper-case X) or raise :class:`InvalidInput` saying what is wrong."""
    try:
        return validate_resident_id(raw)
    except IdNumberError as exc:
        raise InvalidInput("invalid_id_number", str(exc)) from None


def validate_credit_code(raw: str) -> str:
    """Return the normalised (upper-case, no spaces) unified social credit code of a company or other
    organisation, or raise :class:`InvalidInput` saying what is wrong."""
    try:
        return _validate_credit_code(raw)
    except IdNumberError as exc:
        raise InvalidInput("invalid_credit_code", str(exc)) from None
