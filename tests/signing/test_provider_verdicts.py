"""An identity provider's verdict counts only when signed by a certificate the deployment trusts for
providers: a bare POST, a forged or altered verdict, a stranger's or an expired certificate, and a
verdict for another agreement are refused with their own codes; a signed one is stored with its
evidence and lets the signer sign."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any, AsyncIterator

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from agreement_server import Server, start_server
from identity.attestation import verify_attestation
from identity.provider import ProviderVerdictRejected, authenticate_verdict
from mediation.identity_models import IdentityCheckRow
from provider_keys import ProviderKey
from signaling.api.pki import PKI_KEY


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    srv = await start_server(tmp_path)
    yield srv
    await srv.close()


def _verdict(agreement_id: str, **changes: Any) -> dict[str, Any]:
    return {"agreement_id": agreement_id, "signer_key": "party:applicant", "method": "provider:ctid",
            "score": 0.99, "checked_at": dt.datetime.now(dt.UTC).isoformat(), **changes}


async def _post(server: Server, agreement_id: str, body: dict[str, Any]) -> tuple[int, Any]:
    return await server.call("POST", f"/api/agreements/{agreement_id}/identity-checks", json=body, key=False,
                             headers={"Authorization": f"Bearer {server.identity_key}"})


async def test_only_signed_verdicts_from_a_trusted_provider_are_recorded(server: Server) -> None:
    agreement_id, tokens = await server.locked_agreement()
    verdict = _verdict(agreement_id)
    payload = base64.b64encode(json.dumps(verdict).encode()).decode()
    good = server.provider.envelope(verdict)

    async def refused(body: dict[str, Any]) -> str:
        status, answer = await _post(server, agreement_id, body)
        assert status == 422, answer
        return answer["error"]["code"]

    # A bare POST of the old kind is not even the right shape; without a signature it is unsigned.
    assert await refused({"signer_key": "party:applicant", "method": "face",
                          "checked_at": verdict["checked_at"]}) == "invalid_body"
    assert await refused({"payload": payload}) == "verdict_unsigned"
    assert await refused({"payload": payload, "signature": good["signature"]}) == "verdict_unsigned"
    # Forged: a failed check turned into a pass after signing keeps the signature of the original.
    failed = server.provider.envelope(_verdict(agreement_id, passed=False, reason="no_match"))
    flipped = base64.b64encode(json.dumps(_verdict(agreement_id, checked_at=json.loads(
        base64.b64decode(failed["payload"]))["checked_at"])).encode()).decode()
    assert await refused({**failed, "payload": flipped}) == "verdict_signature_invalid"
    assert await refused({**good, "signature": base64.b64encode(b"\x30\x06\x02\x01\x01\x02\x01\x01").decode()}) \
        == "verdict_signature_invalid"
    # A certificate nobody configured, even with the provider's name.
    assert await refused(ProviderKey.make().envelope(verdict)) == "provider_untrusted"
    # The anchor's own certificate, expired.
    stale = ProviderKey(server.provider.key, ProviderKey.make(issuer=server.provider).cert)
    assert await refused(stale.envelope(verdict)) == "verdict_signature_invalid"  # a cert for another key
    expired = ProviderKey.make(issuer=server.provider, not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=40))
    assert await refused(expired.envelope(verdict)) == "provider_certificate_expired"
    # Signed, but for another agreement (replayed).
    assert await refused(server.provider.envelope(_verdict("ag_0000000000000000"))) == "verdict_other_agreement"
    assert await refused({**good, "certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"}) \
        == "provider_certificate_invalid"
    async with server.services.db() as s:
        assert (await s.scalars(select(IdentityCheckRow).where(IdentityCheckRow.agreement_id == agreement_id))).all() \
            == []

    # A certificate the anchor issued directly signs a verdict that is stored with its evidence.
    issued = ProviderKey.make("CTID 接口证书", issuer=server.provider)
    status, answer = await _post(server, agreement_id, issued.envelope(_verdict(agreement_id, method="face")))
    assert status == 201, answer
    async with server.services.db() as s:
        row = await s.scalar(select(IdentityCheckRow).where(IdentityCheckRow.id == answer["check_id"]))
    assert row.passed and row.method == "face" and row.score == 0.99
    assert "CTID" in row.details["provider"] and json.loads(base64.b64decode(row.details["signed_verdict"])) \
        ["agreement_id"] == agreement_id
    # ... with the platform's signed attestation of it, naming the provider and the signed bytes by hash.
    checked = await verify_attestation(row.attestation, [server.app[PKI_KEY].root_cert])
    assert checked.valid and checked.sha256 == row.attestation_sha256 and checked.attestation.methods == ["provider"]
    provider = checked.attestation.provider
    assert provider.method == "face" and "CTID" in provider.provider and provider.score == 0.99
    assert provider.verdict_sha256 == hashlib.sha256(base64.b64decode(row.details["signed_verdict"])).hexdigest()
    # ... and the gate lets the signer sign on it.
    status, body = await server.sign_as(tokens["sig_01_party_applicant"], "sig_01_party_applicant",
                                        ec.generate_private_key(ec.SECP256R1()))
    assert status == 200, body
    state = await server.store.current(agreement_id)
    assert [a.sha256 for a in state.signatures[0].identity.attestations] == [row.attestation_sha256]


def test_a_server_without_provider_certificates_trusts_no_verdict() -> None:
    key = ProviderKey.make()
    envelope = key.envelope({"agreement_id": "ag_1"})
    with pytest.raises(ProviderVerdictRejected) as refused:
        authenticate_verdict(envelope["payload"], envelope["signature"], envelope["certificate"], [],
                             dt.datetime.now(dt.UTC))
    assert refused.value.code == "providers_not_configured"
    checked = authenticate_verdict(envelope["payload"], envelope["signature"], envelope["certificate"], [key.cert],
                                   dt.datetime.now(dt.UTC))
    assert json.loads(checked.payload) == {"agreement_id": "ag_1"}
    with pytest.raises(ProviderVerdictRejected) as refused:
        authenticate_verdict("%%%", envelope["signature"], envelope["certificate"], [key.cert], dt.datetime.now(dt.UTC))
    assert refused.value.code == "verdict_malformed"
