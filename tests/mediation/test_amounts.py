"""Amounts as applicants write them, parsed to exact fen."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from mediation.amounts import MAX_FEN, parse_amount_fen
from mediation.errors import InvalidInput


@pytest.mark.parametrize("written, fen", [
    ("18600", 1_860_000), ("18,600", 1_860_000), ("1.86万", 1_860_000), ("¥18600.00", 1_860_000),
    ("￥18,600元", 1_860_000), ("１８６００", 1_860_000), ("RMB 18,600.5", 1_860_050), ("0.01", 1),
    ("3亿", 30_000_000_000), ("2千", 200_000), (".5", 50), ("5.", 500), ("1,234,567.89", 123_456_789),
])
def test_usual_formats(written: str, fen: int) -> None:
    assert parse_amount_fen(written) == fen


@pytest.mark.parametrize("written, code", [
    ("", "amount_unreadable"), ("abc", "amount_unreadable"), ("1e5", "amount_unreadable"), ("¥", "amount_unreadable"),
    ("12,34", "amount_grouping"), ("1,23,456", "amount_grouping"), ("12.345", "amount_fraction_of_fen"),
    ("1.2345678万", "amount_fraction_of_fen"), ("-5", "amount_negative"), ("10000000000001", "amount_too_large"),
    ("1" * 41, "amount_unreadable"),
])
def test_refusals_say_what_is_wrong(written: str, code: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_amount_fen(written, field="claim.amount")
    assert err.value.code == code and err.value.details["field"] == "claim.amount"


fen_amounts = st.integers(min_value=0, max_value=MAX_FEN)


def _grouped(whole: int) -> str:
    return f"{whole:,}"


@given(fen_amounts, st.sampled_from(["", "¥", "￥", "RMB "]), st.sampled_from(["", "元"]), st.booleans())
def test_every_fen_amount_written_in_yuan_reads_back(fen: int, prefix: str, suffix: str, grouped: bool) -> None:
    whole, cents = divmod(fen, 100)
    written = f"{prefix}{_grouped(whole) if grouped else whole}.{cents:02d}{suffix}"
    assert parse_amount_fen(written) == fen


@given(fen_amounts)
def test_every_amount_written_in_wan_reads_back_exactly(fen: int) -> None:
    wan = Decimal(fen) / 1_000_000  # 1万 yuan = 10^6 fen; Decimal keeps every digit
    assert parse_amount_fen(f"{wan:f}万") == fen


@given(st.text(max_size=45))
def test_any_text_is_an_amount_or_a_named_refusal(text: str) -> None:
    try:
        fen = parse_amount_fen(text)
    except InvalidInput as err:
        assert err.code.startswith("amount_") and err.details["field"] == "amount"
    else:
        assert 0 <= fen <= MAX_FEN
