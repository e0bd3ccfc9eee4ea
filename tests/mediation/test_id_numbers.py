from __future__ import annotations

import pytest
from datetime import date

from hypothesis import given, strategies as st

from mediation.errors import InvalidInput
from mediation.id_numbers import (CREDIT_CODE_ALPHABET, check_character, credit_code_check_character,
                                 validate_credit_code, validate_id_number)

from .doubles import id_number


def test_known_good_number() -> None:
    # The GB 11643-1999 standard's own example number.
    assert validate_id_number("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize("bad, why", [
    ("110105194912310021", "check digit is 1"),
    ("11010519491331002X", "birth date"),
    ("1101051949123100", "18 characters"),
    ("11010519491231002Y", "last character"),
    ("", "18 characters"),
    ("01010519491231002X", "region code"),
])
def test_bad_numbers_say_why(bad: str, why: str) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_id_number(bad)
    assert why in err.value.message


@given(st.integers(0, 999), st.dates(min_value=date(1900, 1, 1),
                                     max_value=date(2020, 12, 31)))
def test_every_wrong_check_character_is_refused(serial: int, birth: date) -> None:
    good = id_number(serial, birth.strftime("%Y%m%d"))
    assert validate_id_number(good) == good
    for wrong in "0123456789X":
        if wrong != check_character(good[:17]):
            with pytest.raises(InvalidInput):
                validate_id_number(good[:17] + wrong)


# --- unified social credit codes --------------------------------------------------------------
@pytest.mark.parametrize("code", [
    "91350100M000100Y43",  # the example code published with GB 32100-2015
    "9144030071526726XG",  # codes on public business licences
    "91330100716105852F",
])
def test_published_credit_codes_are_accepted(code: str) -> None:
    assert validate_credit_code(code.lower()) == code
    assert validate_credit_code(f" {code[:9]} {code[9:]} ") == code  # spaces as printed on some licences


@pytest.mark.parametrize("bad, why", [
    ("91350100M000100Y44", "check character"),
    ("91350100M000100Y4", "18 characters"),
    ("91350100M0001O0Y43", "without I, O, S, V, Z"),
    ("9135A100M000100Y43", "region code"),
])
def test_bad_credit_codes_say_why(bad: str, why: str) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_credit_code(bad)
    assert err.value.code == "invalid_credit_code" and why in err.value.message


@given(st.text(CREDIT_CODE_ALPHABET, min_size=2, max_size=2), st.text("0123456789", min_size=6, max_size=6),
       st.text(CREDIT_CODE_ALPHABET, min_size=9, max_size=9))
def test_exactly_one_check_character_fits_each_credit_code(head: str, region: str, body: str) -> None:
    first17 = head + region + body
    accepted = [c for c in CREDIT_CODE_ALPHABET if _accepts(first17 + c)]
    assert accepted == [credit_code_check_character(first17)]


def _accepts(code: str) -> bool:
    try:
        return validate_credit_code(code) == code
    except InvalidInput:
        return False
