"""Amounts of money as people write them in an application: "18600", "18,600", "1.86万", "¥18,600.00",
"18600元", full-width digits. Parsed with :class:`~decimal.Decimal` to exact fen (cents), never
through floats, and refused with a code that says what is wrong rather than guessed at."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from .errors import InvalidInput

#: The largest amount a case records, in fen (10^13 yuan), as the database's BIGINT comfortably holds.
MAX_FEN = 10**15
MAX_LENGTH = 40
_UNITS = {"": Decimal(1), "千": Decimal(1_000), "万": Decimal(10_000), "亿": Decimal(100_000_000)}
_CURRENCY_PREFIX = re.compile(r"^(?:¥|￥|RMB|CNY|人民币)")
_CURRENCY_SUFFIX = re.compile(r"(?:元整?|块|圆|RMB|CNY)$")
_NUMBER = re.compile(r"^(?P<sign>[-+]?)(?P<whole>\d[\d,]*)?(?:\.(?P<fraction>\d*))?(?P<unit>[千万亿]?)$")
_GROUPED = re.compile(r"^\d{1,3}(?:,\d{3})+$")


def parse_amount_fen(raw: str, *, field: str = "amount") -> int:
    """The amount ``raw`` names, in fen. Raises :class:`InvalidInput` with one of the codes
    ``amount_unreadable``, ``amount_grouping``, ``amount_fraction_of_fen``, ``amount_negative``,
    ``amount_too_large`` (``details["field"]`` names the form field)."""
    try:
        return _parse(raw)
    except InvalidInput as refused:
        refused.details["field"] = field
        raise


def _parse(raw: str) -> int:
    if len(raw) > MAX_LENGTH:
        raise InvalidInput("amount_unreadable", f"an amount is at most {MAX_LENGTH} characters")
    # NFKC: full-width digits, commas and the full-width yen sign become their ASCII forms.
    text = "".join(unicodedata.normalize("NFKC", raw).split()).upper().replace("￥", "¥")
    text = _CURRENCY_SUFFIX.sub("", _CURRENCY_PREFIX.sub("", text))
    match = _NUMBER.match(text)
    if not text or match is None or (match["whole"] is None and not match["fraction"]):
        raise InvalidInput("amount_unreadable", "write the amount in digits, e.g. 18600, 18,600.50 or 1.86万")
    whole = match["whole"] or "0"
    if "," in whole and not _GROUPED.match(whole):
        raise InvalidInput("amount_grouping", "commas separate groups of three digits, e.g. 1,234,567")
    if match["sign"] == "-":
        raise InvalidInput("amount_negative", "the amount cannot be negative")
    yuan = Decimal(f"{whole.replace(',', '')}.{match['fraction'] or '0'}") * _UNITS[match["unit"]]
    fen = yuan * 100
    if fen != fen.to_integral_value():
        raise InvalidInput("amount_fraction_of_fen", "the amount is more precise than one fen (0.01 yuan)")
    if fen > MAX_FEN:
        raise InvalidInput("amount_too_large", "the amount is at most 10^13 yuan")
    return int(fen)
