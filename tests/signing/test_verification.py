"""Verification for courts: a genuine agreement passes; every kind of tampering fails with its
reason; judged at the timestamp's time once certificates have expired; hostile input is refused fast."""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from datetime import datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.pades import finalize_lta, finish_external, prepare_external, StampText
from signing.verification import (
    AgreementReport,
    VerificationError,
    async_verify_agreement,
    verify_agreement,
    verify_agreement_bytes_safely,
)

from pades_samples import BROWSER_EVIDENCE, SEATS, Platform, blank_pdf, browser_sign


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Platform:
    return Platform.create(tmp_path_factory.mktemp("verify") / "pki")


@pytest.fixture(scope="module")
def agreement(platform: Platform) -> bytes:
    return asyncio.run(platform.full_agreement())


def verify(platform: Platform, pdf: bytes, **options: object) -> AgreementReport:
    return verify_agreement(pdf, [platform.pki.root_cert], **options)  # type: ignore[arg-type]


def codes_of(report: AgreementReport, field: str) -> set[str]:
    return {r.code for s in report.signatures if s.field == field for r in s.reasons}


def test_genuine_agreement(platform: Platform, agreement: bytes) -> None:
    report = verify(platform, agreement)
    assert report.valid, report.to_dict()
    assert report.expected_fields == report.signed_fields == [s.field for s in SEATS]
    first = report.signatures[0]
    assert (first.signer.name, first.signer.role, first.signer.side, first.signer.case_number) == \
        ("张三", "party", "applicant", "CASE-1")
    assert first.chain[-1].endswith("Root CA") and len(first.chain) == 3
    assert first.intact and first.valid and first.trusted and first.timestamp_ok
    assert first.revocation == "good" and first.modification_level == "FORM_FILLING"
    assert datetime.fromisoformat(first.signing_time) <= datetime.fromisoformat(report.document_timestamps[0].time)
    assert report.document_timestamps[0].ok
    # The evidence each signature states in its signed /Reason reaches the report.
    assert [(s.key_custody, s.identity_check) for s in report.signatures] == \
        [("browser", BROWSER_EVIDENCE.identity_check)] * 3 + [("server", None)]
    json.dumps(report.to_dict(), ensure_ascii=False)  # the CLI/HTTP layer serialises it


def test_flipped_byte_in_signed_range(platform: Platform, agreement: bytes) -> None:
    at = agreement.index(b"ReportLab")  # the Info dictionary of the first revision: signed by all
    tampered = agreement[:at] + b"X" + agreement[at + 1:]
    report = verify(platform, tampered)
    assert not report.valid
    for signature in report.signatures:
        assert not signature.intact
        assert "not_intact" in codes_of(report, signature.field)


def _incremental(pdf: bytes, change) -> bytes:  # type: ignore[no-untyped-def]
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    change(writer)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def test_page_text_rewritten_in_an_incremental_update(platform: Platform, agreement: bytes) -> None:
    def rewrite(writer: IncrementalPdfFileWriter) -> None:
        page = writer.root["/Pages"]["/Kids"][0].get_object()
        content = generic.StreamObject(stream_data=b"BT /F1 12 Tf 72 770 Td (the respondent pays 5 CNY) Tj ET")
        page["/Contents"] = writer.add_object(content)
        writer.update_container(page)

    report = verify(platform, _incremental(agreement, rewrite))
    assert not report.valid
    for signature in report.signatures:
        # the AdES indication alone would not notice: only the modification analysis does
        assert signature.intact and signature.ades_indication == "PASSED"
        assert "modified_after_signing" in codes_of(report, signature.field)
    assert any(r.code == "modified_after_timestamp" for r in report.document_timestamps[0].reasons)


def test_added_annotation(platform: Platform, agreement: bytes) -> None:
    def annotate(writer: IncrementalPdfFileWriter) -> None:
        page = writer.root["/Pages"]["/Kids"][0].get_object()
        note = writer.add_object(generic.DictionaryObject({
            generic.NameObject("/Type"): generic.NameObject("/Annot"),
            generic.NameObject("/Subtype"): generic.NameObject("/Text"),
            generic.NameObject("/Rect"): generic.ArrayObject([generic.FloatObject(v) for v in (10, 10, 30, 30)]),
            generic.NameObject("/Contents"): generic.TextStringObject("amount is actually 5 CNY"),
        }))
        annots = page["/Annots"]
        annots.append(note)
        writer.update_container(page)

    report = verify(platform, _incremental(agreement, annotate))
    assert not report.valid
    assert all("modified_after_signing" in codes_of(report, s.field) for s in report.signatures)


def test_cut_back_to_an_earlier_revision(platform: Platform, agreement: bytes) -> None:
    reader = PdfFileReader(BytesIO(agreement))
    second = reader.embedded_regular_signatures[1]
    start, length = second.byte_range[2], second.byte_range[3]
    cut = agreement[:start + length]  # ends at the %%EOF of the revision the second party signed
    assert cut.rstrip().endswith(b"%%EOF")
    report = verify(platform, cut)
    assert not report.valid
    assert report.signed_fields == ["party_applicant", "party_respondent"]
    missing = [r for r in report.reasons if r.code == "field_not_signed"]
    assert {"'mediator'" in r.message or "'seal'" in r.message for r in missing} == {True}
    assert len(missing) == 2
    assert any(r.code == "no_document_timestamp" for r in report.reasons)


async def test_missing_expected_field(platform: Platform) -> None:
    pdf = blank_pdf([s.field for s in SEATS])
    for seat in SEATS[:3]:
        pdf = await platform.sign_in_browser(pdf, seat)
    pdf = await finalize_lta(pdf, platform.timestamper, platform.pki.validation_context())
    report = await async_verify_agreement(pdf, [platform.pki.root_cert])
    assert not report.valid
    assert [r.code for r in report.reasons] == ["field_not_signed"]
    assert all(s.ok for s in report.signatures)
    # the caller's list wins over the document's
    assert (await async_verify_agreement(pdf, [platform.pki.root_cert], [s.field for s in SEATS[:3]])).valid


async def test_revoked_certificate(platform: Platform) -> None:
    """A key reported compromised: its signature made afterwards fails once the current CRL is known."""
    seat = SEATS[0]
    key = ec.generate_private_key(ec.SECP256R1())
    pdf = blank_pdf([seat.field])
    cert = platform.certificate(seat, pdf, key)
    stale_context = platform.pki.validation_context()  # what a forger would embed: before the revocation
    platform.pki.revoke(cert.serial_number, "keyCompromise")
    prepared = await prepare_external(pdf, seat.field, cert, platform.pki.chain, StampText("张三", "申请人"),
                                      platform.timestamper, evidence=BROWSER_EVIDENCE)
    signed = await finish_external(prepared, browser_sign(key, prepared.signed_attrs_der), platform.timestamper,
                                   stale_context)
    current = platform.pki.published_file("signing-ca.crl")
    report = await async_verify_agreement(signed, [platform.pki.root_cert], current_crls=[current],
                                          require_document_timestamp=False)
    assert not report.valid
    assert report.signatures[0].revocation == "revoked"
    assert "revoked" in codes_of(report, seat.field)


async def test_foreign_ca(platform: Platform, tmp_path: Path) -> None:
    """A signature whose certificate comes from another CA (say, a forger's own 'platform')."""
    forger = Platform.create(tmp_path / "forger", org_name=platform.pki.org_name)
    pdf = blank_pdf([s.field for s in SEATS])
    pdf = await platform.sign_in_browser(pdf, SEATS[0])
    pdf = await forger.sign_in_browser(pdf, SEATS[1])
    report = await async_verify_agreement(pdf, [platform.pki.root_cert], require_document_timestamp=False)
    assert not report.valid
    assert "untrusted" in codes_of(report, SEATS[1].field)
    assert not report.signatures[1].trusted
    assert report.signatures[0].ok


async def test_judged_at_timestamp_time_after_expiry(platform: Platform) -> None:
    """Short-lived event certificates have expired when a court checks; the timestamps prove when."""
    seat = SEATS[0]
    key = ec.generate_private_key(ec.SECP256R1())
    blank = blank_pdf([seat.field])
    cert = platform.pki.issue_event_certificate(key.public_key(), platform.identity(seat, blank),
                                                validity=timedelta(minutes=1))
    pdf = await platform.sign_in_browser(blank, seat, key, cert)
    pdf = await finalize_lta(pdf, platform.timestamper, platform.pki.validation_context())
    for later in (timedelta(hours=1), timedelta(days=365)):
        as_of = datetime.now(timezone.utc) + later
        assert as_of > cert.not_valid_after_utc
        report = await async_verify_agreement(pdf, [platform.pki.root_cert], as_of=as_of)
        assert report.valid, (later, report.to_dict())
        assert report.signatures[0].ades_indication == "PASSED"
    assert report.notes and "judged at the last document timestamp" in report.notes[0]


def test_untrusted_root_fails_everything(platform: Platform, agreement: bytes, tmp_path: Path) -> None:
    other = Platform.create(tmp_path / "other")
    report = verify_agreement(agreement, [other.pki.root_cert])
    assert not report.valid
    assert all("untrusted" in codes_of(report, s.field) for s in report.signatures)


# -- hostile input ---------------------------------------------------------------------------


def _pdf(objects: list[bytes], trailer: bytes) -> bytes:
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj " % number + body + b" endobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer " + trailer + b"\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def broken_off(pdf: bytes) -> bytes:
    """``pdf`` broken off in the middle of its middle revision (half its length may fall just
    after a revision's end: that is a genuine earlier document, not a truncated one)."""
    ends = [i + len(b"%%EOF") for i in range(len(pdf)) if pdf.startswith(b"%%EOF", i)]
    middle = len(ends) // 2
    return pdf[: (ends[middle - 1] + ends[middle]) // 2]


def nesting_bomb() -> bytes:
    """100 000 nested arrays in the catalog: a naive recursive parser blows its stack."""
    return _pdf([b"<< /Type /Catalog /Pages 2 0 R /Deep " + b"[" * 100_000 + b"]" * 100_000 + b" >>",
                 b"<< /Type /Pages /Kids [] /Count 0 >>"], b"<< /Size 3 /Root 1 0 R >>")


def flate_bomb() -> bytes:
    """The cross-reference stream (read first) inflates from 16 KiB to 16 MiB of zeros."""
    packed = zlib.compress(bytes(16 << 20), 9)
    out = bytearray(b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
                    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n")
    xref = len(out)
    out += b"3 0 obj << /Type /XRef /Size 4 /W [1 4 2] /Root 1 0 R /Filter /FlateDecode /Length %d >> stream\n" \
        % len(packed)
    out += packed + b"\nendstream endobj\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


@pytest.mark.parametrize("name", ["truncated", "not_a_pdf", "huge", "nesting_bomb", "flate_bomb", "empty"])
def test_malformed_input_is_refused_fast(platform: Platform, agreement: bytes, name: str) -> None:
    data = {
        "truncated": lambda: broken_off(agreement),
        "not_a_pdf": lambda: b"PK\x03\x04 this is a zip file" * 100,
        "huge": lambda: b"%PDF-1.7\n" + b"0" * (50 * 1024 * 1024) + b"\n%%EOF\n",
        "nesting_bomb": nesting_bomb,
        "flate_bomb": flate_bomb,
        "empty": lambda: b"",
    }[name]()
    started = time.monotonic()
    with pytest.raises(VerificationError) as caught:
        verify_agreement_bytes_safely(data, [platform.pki.root_cert], timeout=20)
    assert time.monotonic() - started < 20
    assert str(caught.value)
    if name == "huge":
        assert "at most" in str(caught.value)
    with pytest.raises(VerificationError):  # the in-process entry point refuses them too
        verify_agreement(data, [platform.pki.root_cert])


def test_safe_runner_returns_the_report(platform: Platform, agreement: bytes) -> None:
    report = verify_agreement_bytes_safely(agreement, [platform.pki.root_cert])
    assert report.valid and report.signed_fields == [s.field for s in SEATS]


def test_safe_runner_stops_a_hang(platform: Platform, agreement: bytes) -> None:
    started = time.monotonic()
    with pytest.raises(VerificationError, match="longer than"):
        verify_agreement_bytes_safely(agreement, [platform.pki.root_cert], timeout=0.01)
    assert time.monotonic() - started < 5


@pytest.fixture(scope="module")
def final_ranges(agreement: bytes) -> list[tuple[int, int]]:
    """Byte ranges the closing document timestamp covers."""
    stamp = PdfFileReader(BytesIO(agreement)).embedded_timestamp_signatures[-1]
    a, b, c, d = stamp.byte_range
    return [(a, a + b), (c, c + d)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_damage(platform: Platform, agreement: bytes, final_ranges: list[tuple[int, int]],
                       data: st.DataObject) -> None:
    """Damage anywhere: a VerificationError or a report, never a crash; damage the closing
    timestamp covers is always caught."""
    position = data.draw(st.integers(min_value=0, max_value=len(agreement) - 1))
    junk = data.draw(st.binary(min_size=1, max_size=16))
    damaged = agreement[:position] + junk + agreement[position + len(junk):]
    if damaged == agreement:
        return
    try:
        report = verify(platform, damaged)
    except VerificationError:
        return
    changed = [i for i in range(position, min(position + len(junk), len(agreement))) if damaged[i] != agreement[i]]
    if any(lo <= i < hi for i in changed for lo, hi in final_ranges):
        assert not report.valid
