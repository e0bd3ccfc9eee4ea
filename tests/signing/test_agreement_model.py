"""Agreement data validation: identity numbers, lengths, amounts, references, and the signing order."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from agreement_samples import agreement_dict, resident_id, sample_agreement
from signing.agreement import SignerRole, amount_in_words, signer_order
from signing.id_numbers import IdNumberError, resident_id_check_digit, validate_resident_id


def test_known_resident_id_check_digit() -> None:
    # The worked example from GB 11643-1999.
    assert resident_id_check_digit("11010519491231002") == "X"
    assert validate_resident_id("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("1101051949123100", "has 18 characters, got 16"),
        ("11010519491231002XX", "has 18 characters, got 19"),
        ("1101051949123100AX", "first 17 characters"),
        ("11010519491231002Y", "last character"),
        ("01010519491231002X", "region code"),
        ("110105194913310021", "not a calendar date"),
        ("110105185001010021", "out of range"),
        ("110105194912310021", "check digit is 1, but the first 17 digits require X"),
    ],
)
def test_bad_resident_ids_are_refused_precisely(number: str, message: str) -> None:
    with pytest.raises(IdNumberError, match=message):
        validate_resident_id(number)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789", min_size=17, max_size=17), st.sampled_from("0123456789X"))
def test_exactly_one_check_character_is_accepted(first17: str, last: str) -> None:
    number = first17 + last
    try:
        validate_resident_id(number)
    except IdNumberError as exc:
        if last == resident_id_check_digit(first17):
            assert "check digit" not in str(exc)  # refused for its region or date, never the check digit
        return
    assert last == resident_id_check_digit(first17)


def test_party_with_wrong_check_digit_names_the_field() -> None:
    data = agreement_dict()
    good = data["parties"][0]["id_number"]
    data["parties"][0]["id_number"] = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(ValidationError) as info:
        sample_agreement(**data)
    errors = info.value.errors()
    assert errors[0]["loc"][:2] == ("parties", 0)
    assert "check digit" in errors[0]["msg"]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("facts",), "事" * 5001),
        (("case_number",), "x" * 65),
        (("place",), "地" * 201),
        (("parties", 0, "name"), "名" * 65),
        (("parties", 0, "address"), ""),
    ],
)
def test_overlong_or_empty_fields_are_refused(path: tuple, value: str) -> None:
    data = agreement_dict()
    target = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(ValidationError) as info:
        sample_agreement(**data)
    assert info.value.errors()[0]["loc"] == path


@settings(max_examples=60, deadline=None)
@given(st.decimals(max_value=Decimal(0), allow_nan=False, allow_infinity=False, places=2))
def test_non_positive_amounts_are_refused(amount: Decimal) -> None:
    data = agreement_dict()
    data["monetary"][0]["amount"] = str(amount)
    with pytest.raises(ValidationError, match="greater than 0"):
        sample_agreement(**data)


@pytest.mark.parametrize("amount", ["10.005", "NaN", "Infinity", "1000000000000.01", "abc"])
def test_malformed_amounts_are_refused(amount: str) -> None:
    data = agreement_dict()
    data["monetary"][0]["amount"] = amount
    with pytest.raises(ValidationError):
        sample_agreement(**data)


@settings(max_examples=100, deadline=None)
@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999999999.99"), places=2))
def test_valid_amounts_round_trip_exactly(amount: Decimal) -> None:
    data = agreement_dict()
    data["monetary"][0]["amount"] = str(amount)
    assert sample_agreement(**data).monetary[0].amount == amount
    words = amount_in_words(amount)
    assert words.startswith("人民币") and ("整" in words) == (amount == amount.to_integral_value())


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("50000", "人民币伍万元整"),
        ("10500.30", "人民币壹万零伍佰元叁角"),
        ("100010000", "人民币壹亿零壹万元整"),
        ("1001.05", "人民币壹仟零壹元零伍分"),
        ("110", "人民币壹佰壹拾元整"),
    ],
)
def test_amount_in_words(amount: str, words: str) -> None:
    assert amount_in_words(Decimal(amount)) == words


def test_obligations_must_name_existing_distinct_parties() -> None:
    data = agreement_dict()
    data["monetary"][0]["payer"] = "wang"
    with pytest.raises(ValidationError, match="no party with key 'wang'"):
        sample_agreement(**data)
    data = agreement_dict()
    data["monetary"][0]["payee"] = "li"
    with pytest.raises(ValidationError, match="payer and payee are the same"):
        sample_agreement(**data)


def test_needs_both_sides_unique_keys_and_a_term() -> None:
    data = agreement_dict()
    data["parties"][1]["side"] = "applicant"
    with pytest.raises(ValidationError, match="at least one applicant and one respondent"):
        sample_agreement(**data)
    data = agreement_dict()
    data["parties"][1]["key"] = "zhang"
    with pytest.raises(ValidationError, match="unique"):
        sample_agreement(**data)
    with pytest.raises(ValidationError, match="at least one agreed term"):
        sample_agreement(monetary=[], performance=[])


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        sample_agreement(signature="forged")


def test_signer_order_is_the_legal_order() -> None:
    data = agreement_dict()
    # A second applicant listed after the respondent still signs before every respondent.
    data["parties"].append({"key": "zhou", "side": "applicant", "name": "周五", "id_number": resident_id(seq="555"),
                            "address": "北京市海淀区4号", "contact": "13600000004",
                            "agent": {"name": "不签名代理人", "id_number": resident_id(seq="556"),
                                      "address": "北京", "contact": "136000", "signs": False}})
    slots = signer_order(sample_agreement(**data))
    assert [s.field_name for s in slots] == [
        "sig_01_party_zhang", "sig_02_party_zhou", "sig_03_party_li", "sig_04_agent_li",
        "sig_05_mediator", "sig_06_organisation",
    ]
    assert [s.role for s in slots][-2:] == [SignerRole.MEDIATOR, SignerRole.ORGANISATION]
    assert slots[3].signer_key == "agent:li" and slots[3].name == "王律师"
    assert all(s.field_name.isascii() for s in slots)


def test_legal_person_needs_a_representative() -> None:
    data = agreement_dict()
    data["parties"][1].update(legal_person=True, id_type="credit_code", id_number="91350100M000100Y43")  # GB 32100's own example
    with pytest.raises(ValidationError, match="legal representative"):
        sample_agreement(**data)
    data["parties"][1]["representative"] = "李总"
    assert sample_agreement(**data).parties[1].representative == "李总"


def test_date_fields_parse() -> None:
    agreement = sample_agreement()
    assert agreement.date == dt.date(2026, 11, 29)
    assert agreement.monetary[0].due_date == dt.date(2026, 12, 31)


_DIGITS = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
_SMALL = {"拾": 10, "佰": 100, "仟": 1000}
_BIG = (("万亿", 10**12), ("亿", 10**8), ("万", 10**4))


def _parse_words(words: str) -> Decimal:
    """An independent reader of Chinese capital amounts, to check ``amount_in_words`` both ways."""
    assert words.startswith("人民币")
    text = words[len("人民币"):]
    yuan_text, _, rest = text.partition("元") if "元" in text else ("", "", text)
    total = section = digit = 0
    i = 0
    while i < len(yuan_text):
        big = next(((u, v) for u, v in _BIG if yuan_text.startswith(u, i)), None)
        if big is not None:
            total += (section + digit) * big[1]
            section = digit = 0
            i += len(big[0])
            continue
        ch = yuan_text[i]
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        else:
            section += digit * _SMALL[ch]
            digit = 0
        i += 1
    fen = 0
    for ch, unit in zip(rest, rest[1:]):
        if ch in _DIGITS and unit in "角分":
            fen += _DIGITS[ch] * (10 if unit == "角" else 1)
    return Decimal(total + section + digit) + Decimal(fen) / 100


@settings(max_examples=500, deadline=None)
@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000000000000"), places=2))
def test_amount_in_words_reads_back_and_follows_the_zero_rules(amount: Decimal) -> None:
    words = amount_in_words(amount)
    assert _parse_words(words) == amount, words
    assert "零零" not in words, words
    assert not any(f"零{unit}" in words for unit in "万亿元"), words
