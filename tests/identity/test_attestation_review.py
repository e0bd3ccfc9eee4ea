"""A signature's cited attestations against what its certificate was issued for: each way a genuine
attestation can fail to fit its signature has its own code, a foreign signer is untrusted, and a
signature citing several (face, liveness, code, provider) fails if any one of them does."""

from __future__ import annotations

import datetime as dt

import pytest

from identity.attestation import (AttestationSubject, FaceMatchEvidence, OneTimeCodeEvidence, ProviderEvidence,
                                  RecordedSessionEvidence, make_attestation, sign_attestation)
from identity.attestation_review import REASON_CODES, review_attestations
from identity.face_match import FaceMatchResult
from identity.models import MODEL_SHA256
from identity.recorded_session import RecordedComparison, RecordedTrack
from signaling.commands.verify import _print_attestation
from signing.attestation_key import AttestationKey, AttestationKeyStore
from signing.pki import PlatformPKI
from signing.verification_sandbox import AgreementReport, SignatureReport, SignerInfo

PASS = "correct horse battery staple"
BINDING = {"agreement_id": "ag_1", "version": 2, "field_name": "sig_01_party_zhang", "participant_id": "p_zhang"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PlatformPKI:
    return PlatformPKI.init(tmp_path_factory.mktemp("pki") / "pki", PASS, "https://accord.test/", "测试调解委员会")


@pytest.fixture(scope="module")
def signer(pki: PlatformPKI) -> AttestationKey:
    return AttestationKeyStore(pki).current()


@pytest.fixture(scope="module")
def signed_at(signer: AttestationKey) -> dt.datetime:
    """When the signature under review was made: just after the module's certificates were issued
    (they are backdated by the clock skew only; a time taken at import lies before them when the
    module runs late in a long session)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _report(digest: str, signed_at: dt.datetime) -> AgreementReport:
    """A verified signature whose ``/Reason`` cites ``digest`` (several: comma-separated)."""
    signature = SignatureReport(
        field="sig_01_party_zhang", signer=SignerInfo("张三", "party", None, None, None, None), certificate_serial="1",
        chain=[], intact=True, valid=True, trusted=True, signing_time=signed_at.isoformat(), timestamp_ok=True,
        revocation="good", coverage=None, modification_level=None, docmdp_ok=True, bottom_line=True,
        ades_indication="PASSED", ades_subindication=None, ok=True,
        identity_check=f"face {signed_at:%Y-%m-%dT%H:%M:%SZ} attestation-sha256={digest}", binding=dict(BINDING))
    return AgreementReport(valid=True, expected_fields=[signature.field], signed_fields=[signature.field],
                           signatures=[signature], document_timestamps=[], judged_at=signed_at.isoformat())


async def _review(blob: bytes, digest: str, roots: list, signed_at: dt.datetime,
                  case_id: str | None = None) -> SignatureReport:
    return await _review_all({digest: blob}, [digest], roots, signed_at, case_id)


async def _review_all(blobs: dict[str, bytes], cited: list[str], roots: list, signed_at: dt.datetime,
                      case_id: str | None = None) -> SignatureReport:
    report = _report(",".join(cited), signed_at)

    async def fetch(hashes: set[str]) -> dict[str, bytes]:
        assert hashes == set(cited)
        return {h: blobs[h] for h in hashes if h in blobs}

    await review_attestations(report, fetch, roots, required=True, case_id=case_id)
    return report.signatures[0]


@pytest.mark.parametrize(("changes", "passed", "checked_late", "code"), [
    ({}, True, False, None),
    ({"case_id": "c_2"}, True, False, "attestation_other_case"),
    ({"agreement_id": "ag_2"}, True, False, "attestation_other_agreement"),
    ({"agreement_version": 1}, True, False, "attestation_other_version"),
    ({"slot": "sig_02_party_li"}, True, False, "attestation_other_field"),
    ({"participant_id": "p_li"}, True, False, "attestation_other_participant"),
    ({}, True, True, "attestation_after_signature"),
    ({}, False, False, "attestation_not_passed"),
])
async def test_attestation_fits_its_signature(pki: PlatformPKI, signer: AttestationKey, signed_at: dt.datetime,
                                              changes: dict,
                                              passed: bool, checked_late: bool, code: str | None) -> None:
    subject = AttestationSubject(**{"case_id": "c_1", "participant_id": "p_zhang", "agreement_id": "ag_1",
                                    "agreement_version": 2, "slot": "sig_01_party_zhang", **changes})
    checked = signed_at + dt.timedelta(seconds=30 if checked_late else -30)
    face = FaceMatchEvidence.of(FaceMatchResult(passed, 0.9 if passed else 0.1, 0.4, None if passed else "no_match",
                                                6, "ab" * 32, dict(MODEL_SHA256)))
    signed = await sign_attestation(make_attestation(subject, checked - dt.timedelta(seconds=5), checked,
                                                     face_match=face), signer)
    signature = await _review(signed.blob, signed.sha256, [pki.root_cert], signed_at, case_id="c_1")
    (summary,) = signature.attestations
    if code is None:
        assert summary.status == "valid" and signature.ok and summary.scores["face_match"]["threshold"] == 0.4
    else:
        assert summary.status == "mismatched" and [r.code for r in summary.reasons] == [code]
        assert [r.code for r in signature.reasons] == ["attestation_mismatched"] and not signature.ok
    assert {r.code for r in summary.reasons} <= set(REASON_CODES)


async def test_an_attestation_signed_under_another_root_is_untrusted(signer: AttestationKey, signed_at: dt.datetime,
                                                                      tmp_path_factory: pytest.TempPathFactory) -> None:
    other = PlatformPKI.init(tmp_path_factory.mktemp("other") / "pki", PASS, "https://other.test/", "别的平台")
    subject = AttestationSubject(case_id="c_1", participant_id="p_zhang", agreement_id="ag_1", agreement_version=2,
                                 slot="sig_01_party_zhang")
    face = FaceMatchEvidence.of(FaceMatchResult(True, 0.9, 0.4, None, 6, "ab" * 32, dict(MODEL_SHA256)))
    signed = await sign_attestation(make_attestation(subject, signed_at - dt.timedelta(seconds=9),
                                                     signed_at - dt.timedelta(seconds=5), face_match=face), signer)
    signature = await _review(signed.blob, signed.sha256, [other.root_cert], signed_at)
    assert signature.attestations[0].status == "invalid"
    assert [r.code for r in signature.attestations[0].reasons] == ["attestation_untrusted_signer"]


async def test_the_recorded_session_comparison_is_shown_but_only_decides_when_required(
        pki: PlatformPKI, signer: AttestationKey, signed_at: dt.datetime, capsys: pytest.CaptureFixture[str]) -> None:
    subject = AttestationSubject(case_id="c_1", participant_id="p_zhang", agreement_id="ag_1", agreement_version=2,
                                 slot="sig_01_party_zhang")
    checked = signed_at - dt.timedelta(seconds=30)
    face = FaceMatchEvidence.of(FaceMatchResult(True, 0.9, 0.4, None, 6, "ab" * 32, dict(MODEL_SHA256)))
    track = RecordedTrack("rec_1", "trk_1", "s_zhang", ("cd" * 32, "ef" * 32), (("a.webm", 120), ("b.webm", 120)))
    mismatch = RecordedComparison("no_match", 0.05, 0.12, 0.4, 7, 8, "01" * 32)
    for required, ok in ((False, True), (True, False)):
        record = make_attestation(subject, checked - dt.timedelta(seconds=5), checked, face_match=face,
                                  recorded_session=RecordedSessionEvidence.of(track, mismatch, required=required))
        signed = await sign_attestation(record, signer)
        signature = await _review(signed.blob, signed.sha256, [pki.root_cert], signed_at)
        (summary,) = signature.attestations
        assert summary.recorded_session == {"verdict": "no_match", "required": required, "session_id": "rec_1",
                                            "track_id": "trk_1", "seat": "s_zhang", "score": 0.05, "best": 0.12,
                                            "threshold": 0.4, "segments": 2, "frames_used": 7}
        assert summary.scores["recorded_session"] == {"score": 0.05, "best": 0.12, "threshold": 0.4}
        assert (summary.status == "valid") is ok and signature.ok is ok
        _print_attestation(summary, "")
        assert (f"recorded session rec_1 seat s_zhang: no_match (median 0.05, best 0.12, threshold 0.4; 7 frames of "
                f"2 segments; {'required' if required else 'reported only'})") in capsys.readouterr().out


async def test_every_cited_attestation_is_checked_and_any_bad_one_fails_the_signature(
        pki: PlatformPKI, signer: AttestationKey, signed_at: dt.datetime) -> None:
    """Face, code and a provider's verdict each allowed the signature: all three are shown; one
    missing, altered, failed or for another slot fails the signature, whichever it is."""
    subject = AttestationSubject(case_id="c_1", participant_id="p_zhang", agreement_id="ag_1", agreement_version=2,
                                 slot="sig_01_party_zhang")
    checked = signed_at - dt.timedelta(seconds=30)
    face = FaceMatchEvidence.of(FaceMatchResult(True, 0.9, 0.4, None, 6, "ab" * 32, dict(MODEL_SHA256)))
    provider = ProviderEvidence(passed=True, provider="CN=CTID 接口证书", method="provider:ctid",
                                certificate_sha256="12" * 32, verdict_sha256="34" * 32, score=0.99)

    async def signed(**sections: object) -> tuple[str, bytes]:
        record = make_attestation(sections.pop("subject", subject), checked - dt.timedelta(seconds=5), checked,
                                  **sections)  # type: ignore[arg-type]
        done = await sign_attestation(record, signer)
        return done.sha256, done.blob

    good = [await signed(face_match=face), await signed(one_time_code=OneTimeCodeEvidence(passed=True)),
            await signed(provider=provider)]
    blobs = dict(good)
    cited = [digest for digest, _ in good]
    signature = await _review_all(blobs, cited, [pki.root_cert], signed_at, case_id="c_1")
    assert signature.ok and [a.status for a in signature.attestations] == ["valid"] * 3
    assert [a.methods for a in signature.attestations] == [["face_match"], ["one_time_code"], ["provider"]]
    assert signature.attestations[2].scores == {"provider": {"score": 0.99}}

    failed_code = await signed(one_time_code=OneTimeCodeEvidence(passed=False, reason="wrong_code"))
    other_slot = await signed(provider=provider, subject=subject.model_copy(update={"slot": "sig_02_party_li"}))
    altered = bytearray(good[1][1])
    altered[altered.index(b'"passed":true')] ^= 0x01  # one byte of the signed content
    cases = {
        "missing": ({cited[0]: blobs[cited[0]], cited[2]: blobs[cited[2]]}, cited, "attestation_missing"),
        "failed": ({**blobs, failed_code[0]: failed_code[1]}, [cited[0], failed_code[0], cited[2]],
                   "attestation_mismatched"),
        "other slot": ({**blobs, other_slot[0]: other_slot[1]}, [cited[0], cited[1], other_slot[0]],
                       "attestation_mismatched"),
        "bad signature": ({**blobs, cited[1]: bytes(altered)}, cited, "attestation_invalid"),
    }
    for name, (held, citing, code) in cases.items():
        signature = await _review_all(held, citing, [pki.root_cert], signed_at, case_id="c_1")
        assert not signature.ok and [r.code for r in signature.reasons] == [code], name
        assert len(signature.attestations) == 3 and sum(a.status == "valid" for a in signature.attestations) == 2, name
