"""PAdES signing: browser-held keys (interrupted signing), the server-held seal, B-LTA,
and independent validators (pyHanko's adesverify CLI, poppler's pdfsig) accepting the result."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fontTools.ttLib import TTFont
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.fonts import cjk_stamp_font
from signing.pades import (
    KeyCustody,
    SignatureEvidence,
    SigningError,
    StampText,
    document_digest,
    finalize_lta,
    finish_external,
    prepare_external,
    renew_archive_timestamp,
    sign_with_key,
    stamp_time,
)
from signing.verification import async_verify_agreement, verify_agreement

from pades_samples import BROWSER_EVIDENCE, SEAL_EVIDENCE, SEATS, Platform, blank_pdf, browser_sign

VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Platform:
    return Platform.create(tmp_path_factory.mktemp("pades") / "pki")


@pytest.fixture(scope="module")
def agreement(platform: Platform) -> bytes:
    return asyncio.run(platform.full_agreement())


@pytest.fixture(scope="module")
def root_pem(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("root") / "root.pem"
    path.write_bytes(platform.pki.root_cert.public_bytes(serialization.Encoding.PEM))
    return path


async def test_prepared_signature_is_what_the_browser_checks(platform: Platform) -> None:
    pdf = blank_pdf(["party_applicant"])
    key = ec.generate_private_key(ec.SECP256R1())
    cert = platform.pki.issue_event_certificate(key.public_key(), platform.identity(SEATS[0]))
    prepared = await prepare_external(pdf, "party_applicant", cert, platform.pki.chain,
                                      StampText("张三", "申请人"), platform.timestamper,
                                      evidence=BROWSER_EVIDENCE)
    assert prepared.signed_attrs_der[0] == 0x31
    # the page recomputes the digest over the byte ranges of the PDF it was shown ...
    assert document_digest(prepared.prepared_pdf, prepared.byte_range) == prepared.document_digest
    # ... and finds it as the messageDigest inside what it signs
    assert prepared.document_digest in prepared.signed_attrs_der
    assert prepared.prepared_pdf.startswith(pdf)


async def test_wrong_signature_is_rejected_before_embedding(platform: Platform) -> None:
    pdf = blank_pdf(["party_applicant"])
    key = ec.generate_private_key(ec.SECP256R1())
    cert = platform.pki.issue_event_certificate(key.public_key(), platform.identity(SEATS[0]))
    prepared = await prepare_external(pdf, "party_applicant", cert, platform.pki.chain,
                                      StampText("张三", "申请人"), platform.timestamper,
                                      evidence=BROWSER_EVIDENCE)
    vc = platform.pki.validation_context()
    impostor = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(SigningError, match="does not verify"):
        await finish_external(prepared, browser_sign(impostor, prepared.signed_attrs_der), platform.timestamper, vc)
    with pytest.raises(SigningError, match="does not verify"):
        await finish_external(prepared, browser_sign(key, prepared.signed_attrs_der + b"x"), platform.timestamper, vc)
    with pytest.raises(SigningError, match="neither raw"):
        await finish_external(prepared, b"\x01" * 10, platform.timestamper, vc)
    # a DER signature (non-WebCrypto clients) is accepted as well, once
    der = key.sign(prepared.signed_attrs_der, ec.ECDSA(hashes.SHA256()))
    signed = await finish_external(prepared, der, platform.timestamper, vc)
    assert [s.field_name for s in PdfFileReader(BytesIO(signed)).embedded_regular_signatures] == ["party_applicant"]
    with pytest.raises(SigningError, match="already finished"):
        await finish_external(prepared, der, platform.timestamper, vc)


async def test_unknown_or_signed_field_is_refused(platform: Platform, agreement: bytes) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = platform.pki.issue_event_certificate(key.public_key(), platform.identity(SEATS[0]))
    with pytest.raises(SigningError, match="no signature field 'nope'"):
        await prepare_external(blank_pdf(["a"]), "nope", cert, platform.pki.chain, StampText("x", "y"),
                               platform.timestamper, evidence=BROWSER_EVIDENCE)
    with pytest.raises(SigningError, match="already signed"):
        await prepare_external(agreement, "mediator", cert, platform.pki.chain, StampText("x", "y"),
                               platform.timestamper, evidence=BROWSER_EVIDENCE)
    with pytest.raises(SigningError, match="cannot be read"):
        await prepare_external(b"%PDF-1.7 nonsense", "a", cert, platform.pki.chain, StampText("x", "y"),
                               platform.timestamper, evidence=BROWSER_EVIDENCE)


async def test_revoked_certificate_cannot_finish(platform: Platform) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = platform.pki.issue_event_certificate(key.public_key(), platform.identity(SEATS[0]))
    platform.pki.revoke(cert.serial_number, "keyCompromise")
    with pytest.raises(SigningError, match="revoked"):
        await platform.sign_in_browser(blank_pdf(["party_applicant"]), SEATS[0], key, cert)


def test_full_agreement_is_b_lta(agreement: bytes, platform: Platform) -> None:
    reader = PdfFileReader(BytesIO(agreement))
    assert [s.field_name for s in reader.embedded_regular_signatures] == [s.field for s in SEATS]
    assert len(reader.embedded_timestamp_signatures) == 1
    assert "/DSS" in reader.root
    report = verify_agreement(agreement, [platform.pki.root_cert])
    assert report.valid, report.to_dict()
    assert [s.signer.name for s in report.signatures] == ["张三", "李四", "赵调解", SEATS[3].name]
    assert all(s.ades_indication == "PASSED" and s.revocation == "good" for s in report.signatures)


def test_pyhanko_adesverify_accepts(agreement: bytes, root_pem: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "agreement.pdf"
    pdf.write_bytes(agreement)
    run = subprocess.run([str(VENV_BIN / "pyhanko"), "sign", "adesverify", "--trust", str(root_pem),
                          "--trust-replace", str(pdf)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stdout.splitlines() if line.strip()]
    assert len(lines) == len(SEATS)
    for line in lines:
        assert ":INTACT:TRUSTED," in line and "ACCEPTABLE_MODIFICATIONS" in line, line


def test_pdfsig_accepts(agreement: bytes, root_pem: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "agreement.pdf"
    pdf.write_bytes(agreement)
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    # NSS trust flags are SSL,email,object-signing: document signers need the email (S/MIME) flag.
    subprocess.run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "accord-root", "-t", "C,C,C", "-i", str(root_pem)],
                   check=True, capture_output=True)
    run = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(pdf)], capture_output=True, text=True, timeout=120)
    out = run.stdout
    assert out.count("Signature Validation: Signature is Valid.") == len(SEATS), out
    assert out.count("Certificate Validation: Certificate is Trusted.") == len(SEATS), out


async def test_renew_archive_timestamp(agreement: bytes, platform: Platform) -> None:
    renewed = await renew_archive_timestamp(agreement, platform.timestamper, platform.pki.validation_context())
    reader = PdfFileReader(BytesIO(renewed))
    assert len(reader.embedded_timestamp_signatures) == 2
    report = await async_verify_agreement(renewed, [platform.pki.root_cert])
    assert report.valid, report.to_dict()


async def test_finalize_refuses_a_document_without_signatures(platform: Platform) -> None:
    with pytest.raises(SigningError, match="no signatures"):
        await finalize_lta(blank_pdf(["a"]), platform.timestamper, platform.pki.validation_context())


async def test_stamp_with_characters_outside_gb2312(platform: Platform) -> None:
    """喆 and 堃 are common in names but not in GB2312: the stamp font must still have them."""
    seat = SEATS[0]
    pdf = blank_pdf([seat.field])
    key = ec.generate_private_key(ec.SECP256R1())
    cert = platform.pki.issue_event_certificate(key.public_key(), platform.identity(seat))
    prepared = await prepare_external(pdf, seat.field, cert, platform.pki.chain, StampText("王喆堃", "申请人"),
                                      platform.timestamper, evidence=BROWSER_EVIDENCE)
    assert b"NotoSansCJK" in prepared.prepared_pdf[len(pdf):]  # the subset font is embedded
    cmap = TTFont(str(cjk_stamp_font("王喆堃"))).getBestCmap()
    assert ord("喆") in cmap and ord("堃") in cmap
    assert ord("喆") not in TTFont(str(cjk_stamp_font())).getBestCmap()


def test_stamp_time_is_china_time_with_its_offset() -> None:
    moment = datetime(2026, 11, 29, 15, 56, 52, tzinfo=timezone.utc)
    assert stamp_time(moment) == "2026-11-29 23:56:52 (UTC+8)"
    assert stamp_time(moment, ZoneInfo("Asia/Kolkata")) == "2026-11-29 21:26:52 (UTC+5:30)"
    assert stamp_time(moment, ZoneInfo("America/New_York")) == "2026-11-29 10:56:52 (UTC-5)"
    with pytest.raises(ValueError, match="time zone"):
        stamp_time(datetime(2026, 11, 29, 15, 56, 52))
    assert StampText("张三", "申请人", signed_at=moment).params()["when"] == "2026-11-29 23:56:52 (UTC+8)"


async def test_visible_stamp_and_reason_in_the_signed_pdf(platform: Platform, tmp_path: Path) -> None:
    """pyHanko replaces a ``ts`` stamp parameter with its own UTC time: read the stamp back from
    the PDF's appearance stream (poppler's text extraction) to prove China time is printed."""
    moment = datetime(2026, 11, 29, 15, 56, 52, tzinfo=timezone.utc)
    seat = SEATS[0]
    key = ec.generate_private_key(ec.SECP256R1())
    cert = platform.pki.issue_event_certificate(key.public_key(), platform.identity(seat))
    context = platform.pki.validation_context()
    prepared = await prepare_external(blank_pdf([seat.field]), seat.field, cert, platform.pki.chain,
                                      StampText("张三", "申请人", signed_at=moment), platform.timestamper,
                                      evidence=BROWSER_EVIDENCE, validation_context=context)
    signed = await finish_external(prepared, browser_sign(key, prepared.signed_attrs_der), platform.timestamper,
                                   context)
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "时间：2026-11-29 23:56:52 (UTC+8)" in text, text
    assert "签署人：张三" in text and "身份：申请人" in text
    assert "15:56:52" not in text
    embedded = PdfFileReader(BytesIO(signed)).embedded_regular_signatures[0]
    assert embedded.sig_object["/Reason"] == BROWSER_EVIDENCE.reason()
    assert SignatureEvidence.parse(embedded.sig_object["/Reason"]) == BROWSER_EVIDENCE


_REFERENCE = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=";"), min_size=1,
                     max_size=80).filter(lambda t: t.strip() != "")


@settings(max_examples=200, deadline=None)
@given(custody=st.sampled_from(list(KeyCustody)), reference=st.none() | _REFERENCE)
def test_signature_evidence_round_trips(custody: KeyCustody, reference: str | None) -> None:
    evidence = SignatureEvidence(custody, reference)
    assert SignatureEvidence.parse(evidence.reason()) == evidence


@given(st.text(max_size=200))
def test_foreign_reasons_are_not_mistaken_for_evidence(reason: str) -> None:
    parsed = SignatureEvidence.parse(reason)
    assert parsed is None or reason.startswith("key-custody=")


def test_evidence_refuses_a_reference_that_would_not_parse_back() -> None:
    for bad in ("a; b", "", "   "):
        with pytest.raises(ValueError):
            SignatureEvidence(KeyCustody.BROWSER, bad)


_stamp_threads: list[int] = []


class _ThreadRecordingStamp(StampText):
    """A stamp that notes which thread pyHanko lays it out on (layout is part of the signing work)."""

    def style(self):  # type: ignore[no-untyped-def]
        _stamp_threads.append(threading.get_ident())
        return super().style()


async def test_signing_work_runs_off_the_event_loop(platform: Platform) -> None:
    """The ceremony awaits these directly in aiohttp handlers: pyHanko must not run on the loop."""
    _stamp_threads.clear()
    seat = SEATS[0]
    key = ec.generate_private_key(ec.SECP256R1())
    cert = platform.pki.issue_event_certificate(key.public_key(), platform.identity(seat))
    context = platform.pki.validation_context()
    prepared = await prepare_external(blank_pdf([seat.field]), seat.field, cert, platform.pki.chain,
                                      _ThreadRecordingStamp("张三", "申请人"), platform.timestamper,
                                      evidence=BROWSER_EVIDENCE, validation_context=context)
    await finish_external(prepared, browser_sign(key, prepared.signed_attrs_der), platform.timestamper, context)
    seal = platform.organisation_seal()
    await sign_with_key(blank_pdf(["seal"]), "seal", seal.key, seal.cert, seal.chain,
                        _ThreadRecordingStamp("调解委员会", "调解组织"), platform.timestamper, context,
                        evidence=SEAL_EVIDENCE)
    assert len(_stamp_threads) >= 2 and threading.get_ident() not in _stamp_threads
