"""Recording links: bound to one account, expiring, unforgeable; any other string is the same 404."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mediation.errors import NotFound
from recordings.access import LinkSigner

SIGNER = LinkSigner(b"k" * 32, ttl_seconds=600)


def test_a_link_opens_for_its_account_until_it_expires() -> None:
    token = SIGNER.issue("rec_1", "trk_1", "a_alice", "play", now=1000.0)
    claims = SIGNER.verify(token, "a_alice", now=1500.0)
    assert (claims.session_id, claims.file, claims.purpose, claims.expires) == ("rec_1", "trk_1", "play", 1600)
    with pytest.raises(NotFound) as other:
        SIGNER.verify(token, "a_bob", now=1500.0)
    assert other.value.code == "link_invalid"
    with pytest.raises(NotFound) as late:
        SIGNER.verify(token, "a_alice", now=1601.0)
    assert late.value.code == "link_expired"
    with pytest.raises(NotFound):
        LinkSigner(b"x" * 32, 600).verify(token, "a_alice", now=1500.0)  # another server's key


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_other_string_is_an_invalid_link(token: str) -> None:
    with pytest.raises(NotFound) as refused:
        SIGNER.verify(token, "a_alice", now=0.0)
    assert refused.value.code == "link_invalid"


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=64))
def test_a_tampered_body_is_refused(noise: bytes) -> None:
    token = SIGNER.issue("rec_1", "trk_1", "a_alice", "download", now=0.0)
    body, mac = token.split(".")
    forged = body[:-2] + noise.hex()[:2] if len(body) > 2 else body
    if forged != body:
        with pytest.raises(NotFound):
            SIGNER.verify(f"{forged}.{mac}", "a_alice", now=0.0)
