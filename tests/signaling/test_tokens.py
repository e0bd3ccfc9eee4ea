import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signaling.tokens import TokenError, TokenIssuer

SECRET = b"k" * 32


def issuer() -> TokenIssuer:
    return TokenIssuer(SECRET, default_ttl=600)


def test_round_trip_keeps_every_claim():
    token, claims = issuer().issue("r_1", "party", "张三", "applicant", now=1000)
    got = issuer().verify(token, room="r_1", now=1001)
    assert got == claims
    assert (got.role, got.side, got.name, got.exp) == ("party", "applicant", "张三", 1600)


def test_same_seat_can_be_reissued():
    token, claims = issuer().issue("r_1", "mediator", "李调解", seat="s_fixed", now=1000)
    assert issuer().verify(token, now=1000).seat == "s_fixed"


def test_expired_token_is_refused_with_its_own_code():
    token, _ = issuer().issue("r_1", "party", "A", "respondent", ttl=60, now=1000)
    with pytest.raises(TokenError) as err:
        issuer().verify(token, now=1060)
    assert err.value.code == "token_expired"


def test_wrong_room():
    token, _ = issuer().issue("r_1", "observer", "书记员", now=1000)
    with pytest.raises(TokenError) as err:
        issuer().verify(token, room="r_2", now=1000)
    assert err.value.code == "token_wrong_room"


def test_tampered_claims_are_detected():
    token, _ = issuer().issue("r_1", "party", "A", "applicant", now=1000)
    body, mac = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["role"] = "mediator"
    claims["side"] = None
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(TokenError) as err:
        issuer().verify(f"{forged}.{mac}", now=1000)
    assert err.value.code == "token_invalid"


def test_token_from_another_server_is_refused():
    token, _ = TokenIssuer(b"x" * 32).issue("r_1", "party", "A", "applicant")
    with pytest.raises(TokenError, match="signature"):
        issuer().verify(token)


@pytest.mark.parametrize("role,side", [("party", None), ("agent", "nobody"), ("mediator", "applicant"), ("judge", None)])
def test_inconsistent_role_and_side_cannot_be_issued(role, side):
    with pytest.raises(ValueError):
        issuer().issue("r_1", role, "A", side)


@given(st.one_of(st.text(max_size=300), st.binary(max_size=100).map(lambda b: b.hex()), st.none(), st.integers(),
                 st.lists(st.text(max_size=5))))
def test_garbage_is_always_a_token_error(garbage):
    with pytest.raises(TokenError) as err:
        issuer().verify(garbage)
    assert err.value.code == "token_invalid"


@given(st.integers(min_value=0, max_value=200), st.integers(min_value=0, max_value=255))
def test_any_flipped_byte_breaks_the_token(position, value):
    token, _ = issuer().issue("r_1", "party", "A", "applicant")
    position %= len(token)
    if token[position] == chr(value) or not chr(value).isprintable():
        return
    mutated = token[:position] + chr(value) + token[position + 1:]
    with pytest.raises(TokenError):
        issuer().verify(mutated)
