"""The outbound real-name provider: selected by configuration, it posts the enrolled name, ID number
and one live frame to the provider (a local aiohttp server here, allow-listed through the webhooks'
outbound policy), accepts only a verdict signed by a trusted certificate that answers this very
request, and records every answer as a ``provider`` check with its signed attestation. A forged,
unsigned, replayed or foreign verdict is refused and recorded as a failure; an internal address
that is not allow-listed is never contacted."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator

import pytest
from aiohttp import web
from sqlalchemy import select

from agreement_server import Server, start_server
from identity.attestation import verify_attestation
from identity.checks import IdentityPolicy, StoredIdentityGate
from identity.enrolment import EnrolledPerson
from identity.face_match import jpeg_bytes
from identity.provider_client import HttpIdentityProvider, ProviderRequest
from identity.recorder import CheckTarget
from mediation.clock import SystemClock
from mediation.identity_models import IdentityCheckRow
from mediation.outbound import OutboundPolicy, OutboundRefused
from provider_keys import ProviderKey
from signaling.api import agreements as agreements_api
from signaling.api.pki import PKI_KEY
from signaling.api.signing_identity import PROVIDER_CLIENT_KEY
from signing.ceremony import slot_subject
from tests.identity.face_samples import grace_hopper

PERSON = EnrolledPerson("张三", "resident_id", "110105198503121234")


@dataclass
class TestProvider:
    """A provider that signs its verdicts with ``key``; ``mode`` makes it misbehave."""

    __test__ = False

    key: ProviderKey
    mode: str = "honest"
    got: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/verify", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/verify"

    async def handle(self, request: web.Request) -> web.Response:
        asked = await request.json()
        self.got.append(asked)
        verdict = {"agreement_id": asked["agreement_id"], "signer_key": asked["signer_key"], "method": "provider:ctid",
                   "checked_at": dt.datetime.now(dt.UTC).isoformat(), "passed": True, "score": 0.97,
                   "nonce": asked["nonce"]}
        if self.mode == "replayed":
            verdict["nonce"] = "an-earlier-request"
        if self.mode == "other_signer":
            verdict["signer_key"] = "party:respondent"
        envelope = self.key.envelope(verdict)
        if self.mode == "forged":  # a pass the provider never signed, under its genuine certificate
            envelope = {**ProviderKey.make().envelope(verdict), "certificate": envelope["certificate"]}
        if self.mode == "unsigned":
            envelope.pop("signature")
        return web.json_response(envelope)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def provider() -> AsyncIterator[TestProvider]:
    p = TestProvider(ProviderKey.make("CTID 测试平台"))
    await p.start()
    yield p
    await p.stop()


@pytest.fixture
async def server(tmp_path: Path, provider: TestProvider) -> AsyncIterator[Server]:
    anchor = provider.key.write(tmp_path / "ctid.pem")
    srv = await start_server(tmp_path / "data", identity_provider_url=provider.url, identity_provider_name="ctid",
                             identity_provider_certificates=(anchor,), webhook_allow_http=True,
                             webhook_allowed_hosts=("127.0.0.1",))
    yield srv
    await srv.close()


async def _target(server: Server) -> CheckTarget:
    agreement_id, _ = await server.locked_agreement()
    state = await server.store.current(agreement_id)
    slot = next(s for s in state.slots if s.signer_key == "party:applicant")
    return CheckTarget(slot_subject(state, slot), state.version, slot.field_name)


async def test_a_signed_verdict_is_recorded_with_its_attestation_and_lets_the_policy_pass(
        server: Server, provider: TestProvider) -> None:
    client = server.app[PROVIDER_CLIENT_KEY]  # selected by configuration
    target = await _target(server)
    photo = jpeg_bytes(grace_hopper())
    recorded = await client.check(server.app[agreements_api.RECORDER_KEY], target, ProviderRequest(
        target.subject.agreement_id, target.subject.signer_key, PERSON, photo))
    assert recorded.passed, recorded
    (asked,) = provider.got
    assert (asked["name"], asked["id_type"], asked["id_number"]) == (PERSON.name, PERSON.id_type, PERSON.id_number)
    assert base64.b64decode(asked["photo"]) == photo and asked["agreement_id"] == target.subject.agreement_id

    async with server.services.db() as s:
        row = await s.scalar(select(IdentityCheckRow).where(IdentityCheckRow.id == recorded.check_id))
    assert row.method == "provider" and row.passed and row.score == 0.97
    checked = await verify_attestation(row.attestation, [server.app[PKI_KEY].root_cert])
    assert checked.valid and checked.attestation.methods == ["provider"]
    evidence = checked.attestation.provider
    assert evidence.method == "provider:ctid" and "CTID" in evidence.provider
    assert evidence.verdict_sha256 == hashlib.sha256(base64.b64decode(row.details["signed_verdict"])).hexdigest()
    gate = StoredIdentityGate(server.services.db, server.app[agreements_api.GATE_KEY].clock,
                              IdentityPolicy.parse("provider"))
    allowed = await gate.check(target.subject)
    assert allowed is not None and [a.sha256 for a in allowed.attestations] == [row.attestation_sha256]


@pytest.mark.parametrize(("mode", "code"), [("forged", "verdict_signature_invalid"), ("unsigned", "verdict_unsigned"),
                                            ("replayed", "verdict_replayed"), ("other_signer", "verdict_other_signer")])
async def test_a_verdict_that_does_not_answer_this_request_is_refused_and_recorded_as_failed(
        server: Server, provider: TestProvider, mode: str, code: str) -> None:
    provider.mode = mode
    target = await _target(server)
    recorded = await server.app[PROVIDER_CLIENT_KEY].check(
        server.app[agreements_api.RECORDER_KEY], target,
        ProviderRequest(target.subject.agreement_id, target.subject.signer_key, PERSON, b"\xff\xd8\xff"))
    assert not recorded.passed and recorded.reason == code
    assert len(provider.got) == 1
    async with server.services.db() as s:
        row = await s.scalar(select(IdentityCheckRow).where(IdentityCheckRow.id == recorded.check_id))
    checked = await verify_attestation(row.attestation, [server.app[PKI_KEY].root_cert])
    assert checked.valid and checked.attestation.verdict == "failed" and checked.attestation.reason == f"provider:{code}"
    assert json.dumps(row.details).find("signed_verdict") == -1  # nothing unauthenticated is kept as a verdict
    gate = StoredIdentityGate(server.services.db, server.app[agreements_api.GATE_KEY].clock,
                              IdentityPolicy.parse("provider"))
    assert await gate.check(target.subject) is None


async def test_an_internal_address_is_never_contacted(provider: TestProvider) -> None:
    with pytest.raises(OutboundRefused):  # not allow-listed: refused when configured
        HttpIdentityProvider(provider.url, "ctid", [provider.key.cert], OutboundPolicy(allow_http=True), SystemClock())
    assert provider.got == []
