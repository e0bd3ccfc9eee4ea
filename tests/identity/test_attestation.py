"""Signed identity attestations: a record signed with the platform's identity-attestation
certificate verifies against the platform root, and fails when its content, its signer or the
signer's purpose is not what it should be."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import stat
from pathlib import Path

import pytest
from asn1crypto import cms
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from cryptography.hazmat.primitives.asymmetric import ec

from head_tracks import answering, track
from identity.attestation import (AttestationSubject, FaceMatchEvidence, LivenessEvidence, OneTimeCodeEvidence,
                                  attestation_sha256, make_attestation, sign_attestation, verify_attestation)
from identity.face_match import FaceMatchResult
from identity.liveness import judge_liveness, make_challenges
from identity.models import MODEL_SHA256
from signing import oids
from signing.attestation_key import AttestationKey, AttestationKeyStore
from signing.binding import SignerBinding
from signing.pki import PlatformPKI, SignerIdentity

PASS = "correct horse battery staple"
NOW = dt.datetime(2026, 12, 5, 15, 40, 12, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PlatformPKI:
    return PlatformPKI.init(tmp_path_factory.mktemp("pki") / "pki", PASS, "https://accord.test/", "测试调解委员会")


@pytest.fixture(scope="module")
def signer(pki: PlatformPKI) -> AttestationKey:
    return AttestationKeyStore(pki).current()


def face(passed: bool = True) -> FaceMatchEvidence:
    return FaceMatchEvidence.of(FaceMatchResult(passed=passed, score=0.91 if passed else 0.18, threshold=0.4,
                                                reason=None if passed else "no_match", frames_used=8,
                                                frames_sha256="ab" * 32, model_sha256=dict(MODEL_SHA256)))


def liveness() -> LivenessEvidence:
    challenges = make_challenges(random.Random(4))
    result = judge_liveness(challenges, track(answering([c.kind for c in challenges])))
    assert result.passed
    return LivenessEvidence.of(result, frames_sha256="cd" * 32)


def attestation(**changes):
    subject = AttestationSubject(case_id="case_0001", participant_id="acc-zhang", agreement_id="ag_00000000000000a1",
                                 agreement_version=2, slot="sig_01_party_zhang")
    values = dict(face_match=face(), liveness=liveness(), one_time_code=OneTimeCodeEvidence(passed=True))
    values.update(changes)
    return make_attestation(subject, NOW - dt.timedelta(seconds=25), NOW, attestation_id="att_test", **values)


async def test_round_trip(pki: PlatformPKI, signer: AttestationKey) -> None:
    record = attestation()
    assert record.verdict == "passed" and record.reason is None
    assert record.methods == ["face_match", "liveness", "one_time_code"]
    signed = await sign_attestation(record, signer)
    assert signed.sha256 == attestation_sha256(signed.blob)
    check = await verify_attestation(signed.blob, [pki.root_cert])
    assert check.valid and check.problem is None, check
    assert check.attestation == record
    assert check.sha256 == signed.sha256
    assert "Identity Attestation" in check.signer_subject
    assert abs(check.signed_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    # the platform's full validation context (with its CRLs, revocation required) accepts it too
    strict = await verify_attestation(signed.blob, pki.validation_context())
    assert strict.valid, strict


async def test_the_content_is_canonical_json_of_the_record(signer: AttestationKey) -> None:
    record = attestation()
    signed = await sign_attestation(record, signer)
    payload = cms.ContentInfo.load(signed.blob)["content"]["encap_content_info"]["content"].native
    assert payload == json.dumps(json.loads(payload), sort_keys=True, separators=(",", ":"),
                                 ensure_ascii=False).encode()
    body = json.loads(payload)
    assert body["subject"]["slot"] == "sig_01_party_zhang" and body["checked_at"] == "2026-12-05T15:40:12Z"
    assert body["face_match"]["model_sha256"] == MODEL_SHA256
    assert [c["kind"] for c in body["liveness"]["challenges"]] == [c.kind for c in make_challenges(random.Random(4))]
    assert all(c["response_s"] > 0 for c in body["liveness"]["challenges"])


async def test_a_failed_check_is_attested_with_its_reason(pki: PlatformPKI, signer: AttestationKey) -> None:
    record = attestation(face_match=face(passed=False))
    assert record.verdict == "failed" and record.reason == "face_match:no_match"
    check = await verify_attestation((await sign_attestation(record, signer)).blob, [pki.root_cert])
    assert check.valid and check.attestation.verdict == "failed"


async def test_a_tampered_payload_fails(pki: PlatformPKI, signer: AttestationKey) -> None:
    signed = await sign_attestation(attestation(face_match=face(passed=False)), signer)
    tampered = signed.blob.replace(b'"verdict":"failed"', b'"verdict":"passed"')
    assert tampered != signed.blob and len(tampered) == len(signed.blob)
    check = await verify_attestation(tampered, [pki.root_cert])
    assert not check.valid and check.problem == "bad_signature" and check.attestation is None


async def test_a_signature_by_another_platforms_key_fails(pki: PlatformPKI, signer: AttestationKey,
                                                           tmp_path: Path) -> None:
    other = PlatformPKI.init(tmp_path / "other", PASS, "https://elsewhere.test/", "别的平台")
    signed = await sign_attestation(attestation(), AttestationKeyStore(other).current())
    check = await verify_attestation(signed.blob, [pki.root_cert])
    assert not check.valid and check.problem == "untrusted_signer"
    assert (await verify_attestation(signed.blob, [other.root_cert])).valid


async def test_a_platform_certificate_without_the_attestation_purpose_fails(pki: PlatformPKI) -> None:
    """A signer's event certificate chains to the same root but may not attest identities."""
    key = ec.generate_private_key(ec.SECP256R1())
    binding = SignerBinding(agreement_id="ag_00000000000000a1", version=1, version_sha256="ab" * 32,
                            field_name="sig_01_party_zhang", role="party", side="applicant",
                            participant_id="acc-zhang", case_number="（2026）京0105民调字第0042号")
    cert = pki.issue_event_certificate(key.public_key(), SignerIdentity(
        name="张三", id_number_digest="0" * 64, role="party", case_number="（2026）京0105民调字第0042号",
        side="applicant", binding=binding))
    signed = await sign_attestation(attestation(), AttestationKey(key, cert, pki.chain))
    check = await verify_attestation(signed.blob, [pki.root_cert])
    assert not check.valid and check.problem == "untrusted_signer"


@pytest.mark.parametrize("blob", [b"", b"not der", b"\x30\x03\x02\x01\x01", bytes(300 * 1024)])
async def test_garbage_is_malformed(pki: PlatformPKI, blob: bytes) -> None:
    check = await verify_attestation(blob, [pki.root_cert])
    assert not check.valid and check.problem == "malformed"


def test_the_attestation_key_is_encrypted_private_and_reused(pki: PlatformPKI, signer: AttestationKey) -> None:
    folder = pki.directory / "identity-attestation"
    key_file = folder / "attestation.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in key_file.read_bytes()
    again = AttestationKeyStore(pki).current()
    assert again.cert == signer.cert
    eku = signer.cert.extensions.get_extension_for_class(__import__("cryptography").x509.ExtendedKeyUsage)
    assert eku.critical and [o.dotted_string for o in eku.value] == [oids.IDENTITY_ATTESTATION_EKU]
    assert (pki.directory / "issued" / f"{signer.cert.serial_number:x}.crt").exists()


def test_an_expiring_certificate_is_renewed(pki: PlatformPKI, signer: AttestationKey) -> None:
    renewed = AttestationKeyStore(pki, renew_before=dt.timedelta(days=3650)).current()
    assert renewed.cert.serial_number != signer.cert.serial_number
    assert AttestationKeyStore(pki).current().cert == renewed.cert


def test_make_attestation_needs_evidence_and_aware_times() -> None:
    subject = AttestationSubject(case_id="c", participant_id="p")
    with pytest.raises(ValueError):
        make_attestation(subject, NOW, NOW)
    with pytest.raises(ValueError):
        make_attestation(subject, NOW.replace(tzinfo=None), NOW, face_match=face())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damage=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4))
async def test_a_damaged_blob_never_verifies_a_changed_record_and_never_raises(pki: PlatformPKI, signed_blob: bytes, damage) -> None:
    blob = bytearray(signed_blob)
    for position, value in damage:
        blob[position % len(blob)] = value
    check = await verify_attestation(bytes(blob), [pki.root_cert])
    if bytes(blob) == signed_blob:
        assert check.valid
    elif check.valid:
        # only bytes outside the signed content can change unnoticed (e.g. the unsigned list of
        # digest algorithms): the record is the original, and the changed blob has its own hash
        assert check.attestation == attestation() and check.sha256 != attestation_sha256(signed_blob)
    else:
        assert check.problem in {"malformed", "bad_signature", "untrusted_signer", "not_an_attestation"}


@pytest.fixture(scope="module")
def signed_blob(signer: AttestationKey) -> bytes:
    import asyncio

    return asyncio.run(sign_attestation(attestation(), signer)).blob


def test_a_liveness_check_still_pending_is_not_attested() -> None:
    challenges = make_challenges(random.Random(1))
    pending = judge_liveness(challenges, track(answering([c.kind for c in challenges]))[:15])
    assert pending.reason == "pending"
    with pytest.raises(ValueError):
        attestation(liveness=LivenessEvidence.of(pending))
