from __future__ import annotations

import pytest
from datetime import date

from hypothesis import given, strategies as st

from mediation.errors import InvalidInput
from mediation.id_numbers import check_character, validate_id_number

from .doubles import id_number


def test_known_good_number() -> None:
    # The GB 11643-1999 standard's own example number.
    assert validate_id_number("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize("bad, why", [
    ("110105194912310021", "check character"),
    ("11010519491331002X", "birth date"),
    ("1101051949123100", "17 digits"),
    ("11010519491231002Y", "17 digits"),
    ("", "17 digits"),
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
