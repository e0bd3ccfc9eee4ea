"""Whatever bytes a browser sends as key, proof or signature, the ceremony answers with its own
refusal code and keeps its state: nothing else escapes, nothing is embedded."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agreement_db import ZHANG, create_agreement, open_store
from identity.gate import TestIdentityGate
from mediation.agreement_store import SqlAgreementStore
from pades_samples import ID_DIGEST_KEY, browser_sign
from signing.ceremony import CeremonyRefused, RefusalCode, SigningCeremony, gate_key
from signing.pki import PlatformPKI
from signing.tsa import InProcessTimeStamper, TimeStampAuthority

FIELD, SIGNER = "sig_01_party_zhang", ZHANG


@dataclass
class Prepared:
    ceremony: SigningCeremony
    store: SqlAgreementStore
    agreement_id: str
    key: ec.EllipticCurvePrivateKey
    signed_attrs: bytes


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    """A locked agreement whose first signer has enrolled and prepared (built once, on its own loop)."""
    root: Path = tmp_path_factory.mktemp("fuzz")
    pki = PlatformPKI.init(root / "pki", "test-passphrase", "http://accord.test", "调解委员会")
    gate = TestIdentityGate()
    key = ec.generate_private_key(ec.SECP256R1())
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    async def setup() -> Prepared:
        _, store = await open_store(root, one_loop=False)  # each example runs on a loop of its own
        ceremony = SigningCeremony(store, pki, gate, InProcessTimeStamper(TimeStampAuthority(pki)),
                                   preparation_timeout=dt.timedelta(hours=1),  # however slow the machine
                                   id_digest_key=ID_DIGEST_KEY)
        agreement_id = await create_agreement(store)
        await store.lock(agreement_id, 1)
        await gate.pass_now(gate_key(agreement_id, SIGNER.signer_key))
        challenge = await ceremony.begin(agreement_id, 1, SIGNER, FIELD)
        await ceremony.enroll(agreement_id, 1, SIGNER, FIELD, spki, browser_sign(key, challenge.nonce + spki))
        prep = await ceremony.prepare(agreement_id, 1, SIGNER, FIELD)
        return Prepared(ceremony, store, agreement_id, key, prep.signed_attrs_der)

    return asyncio.run(setup())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spki=st.binary(max_size=200), proof=st.binary(max_size=100))
def test_any_enrollment_bytes_get_a_refusal_code(prepared: Prepared, spki: bytes, proof: bytes) -> None:
    async def attempt() -> None:
        await prepared.ceremony.begin(prepared.agreement_id, 1, SIGNER, FIELD)
        await prepared.ceremony.enroll(prepared.agreement_id, 1, SIGNER, FIELD, spki, proof)

    with pytest.raises(CeremonyRefused) as info:
        asyncio.run(attempt())
    assert info.value.code is RefusalCode.POSSESSION_FAILED


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(signature=st.one_of(st.binary(max_size=120), st.binary(min_size=64, max_size=64)))
def test_any_signature_bytes_but_the_right_ones_are_refused(prepared: Prepared, signature: bytes) -> None:
    with pytest.raises(CeremonyRefused) as info:
        asyncio.run(prepared.ceremony.complete(prepared.agreement_id, 1, SIGNER, FIELD, signature))
    assert info.value.code is RefusalCode.BAD_SIGNATURE
    assert asyncio.run(prepared.store.current(prepared.agreement_id)).signatures == []


def test_after_all_that_the_right_signature_is_still_accepted(prepared: Prepared) -> None:
    state = asyncio.run(prepared.ceremony.complete(prepared.agreement_id, 1, SIGNER, FIELD,
                                                   browser_sign(prepared.key, prepared.signed_attrs)))
    assert [s.field_name for s in state.signatures] == [FIELD]
