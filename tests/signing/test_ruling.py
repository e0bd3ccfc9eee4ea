"""The court's ruling as a signed PDF: rendered in Chinese with the embedded CJK font, signed with
its court's certificate as PAdES B-LTA, accepted by pyHanko, ``pyhanko sign adesverify``, poppler's
``pdfsig`` and ``accord verify``; refused when any other certificate carries its seal field."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils.reader import PdfFileReader

from signaling.api.pki import pki_directory, pki_passphrase
from signaling.cli import main as accord
from signaling.config import Settings
from signing.binding import RulingStatement
from signing.pades import KeyCustody, SignatureEvidence, StampText, finalize_lta, sign_with_key
from signing.pki import PlatformPKI
from signing.ruling import COURT_SEAL_FIELD, chinese_date, render_ruling
from signing.seals import Seal
from signing.verification import AgreementReport, verify_agreement

from agreement_server import start_server
from pades_samples import SEATS, Platform
from ruling_samples import COURT, court_signer, ruling_content
from verify_page import assert_codes_explained, browser_page, verify_on_page

VENV_BIN = Path(sys.executable).parent
AGREEMENT_SHA256 = "ab" * 32
RULING_CODES = {"court_seal_not_court_certificate", "court_seal_wrong_court", "ruling_statement_malformed"}


@dataclass(frozen=True)
class Rulings:
    data_dir: Path
    platform: Platform
    genuine: bytes
    forged: dict[str, bytes]


async def _sealed(platform: Platform, pdf: bytes, seal: Seal) -> bytes:
    context = platform.seals.validation_context()
    signed = await sign_with_key(pdf, COURT_SEAL_FIELD, seal.key, seal.cert, seal.chain, StampText(seal.holder.name, "人民法院"),
                                 platform.timestamper, context, evidence=SignatureEvidence(KeyCustody.SERVER))
    return await finalize_lta(signed, platform.timestamper, context)


async def _by_a_person(platform: Platform, pdf: bytes) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = platform.certificate(SEATS[0], pdf, key, field_name=COURT_SEAL_FIELD)
    context = platform.pki.validation_context()
    signed = await sign_with_key(pdf, COURT_SEAL_FIELD, key, cert, platform.pki.chain, StampText("张三", "party"),
                                 platform.timestamper, context, evidence=SignatureEvidence(KeyCustody.SERVER))
    return await finalize_lta(signed, platform.timestamper, context)


@pytest.fixture(scope="module")
def rulings(tmp_path_factory: pytest.TempPathFactory) -> Rulings:
    """A PKI in a server's data directory (``accord verify`` trusts its root by default), a genuine
    ruling and the same ruling with other genuine certificates on its seal field."""
    data_dir = tmp_path_factory.mktemp("rulings")
    settings = Settings(data_dir=data_dir, log_level="WARNING")
    platform = Platform(PlatformPKI.init(pki_directory(settings), pki_passphrase(settings), settings.base_url,
                                         "Accord Test"))
    content = ruling_content(AGREEMENT_SHA256)
    genuine = asyncio.run(court_signer(platform)(content))
    unsigned = render_ruling(content)
    forged = {
        "organisation_seal": asyncio.run(_sealed(platform, unsigned, platform.organisation_seal())),
        "another_courts_certificate": asyncio.run(_sealed(platform, unsigned,
                                                          platform.seals.for_court("示例成都市武侯区人民法院"))),
        "a_persons_certificate": asyncio.run(_by_a_person(platform, unsigned)),
    }
    return Rulings(data_dir, platform, genuine, forged)


def _verify(rulings: Rulings, pdf: bytes) -> AgreementReport:
    return verify_agreement(pdf, [rulings.platform.pki.root_cert])


def test_the_ruling_is_a_court_sealed_b_lta_document(rulings: Rulings) -> None:
    reader = PdfFileReader(BytesIO(rulings.genuine))
    assert [s.field_name for s in reader.embedded_regular_signatures] == [COURT_SEAL_FIELD]
    assert len(reader.embedded_timestamp_signatures) == 1 and "/DSS" in reader.root
    report = _verify(rulings, rulings.genuine)
    assert report.valid, report.to_dict()
    assert (report.document_kind, report.expected_fields, report.agreement_id) == ("ruling", [COURT_SEAL_FIELD], None)
    (seal,) = report.signatures
    assert (seal.signer.organisation, seal.ades_indication, seal.revocation) == (COURT, "PASSED", "good")
    assert seal.binding == {"kind": "court", "holder_id": None, "name": COURT, "credit_code": None}
    assert RulingStatement.model_validate(report.ruling) == ruling_content(AGREEMENT_SHA256).statement


def test_the_ruling_says_who_ruled_what_in_chinese(rulings: Rulings, tmp_path: Path) -> None:
    text = subprocess.run(["pdftotext", "-", "-"], input=rulings.genuine, capture_output=True, check=True).stdout.decode()
    flat = re.sub(r"\s+", "", text)
    for words in (COURT, "民事裁定书", "(2026)川0104民特7号", "申请人：张三", "申请人：李四", "朝阳区人民调解委员会",
                  AGREEMENT_SHA256, "申请人张三、李四经调解达成的上述调解协议有效。", "第二百零五条、第二百零六条",
                  "审判员示例法官", "二〇二六年三月二十日", "J-PKG0000001"):
        assert words in flat, words
    (tmp_path / "ruling.pdf").write_bytes(rulings.genuine)
    pdffonts = subprocess.run(["pdffonts", str(tmp_path / "ruling.pdf")], capture_output=True, text=True).stdout
    assert "WenQuanYi" in pdffonts and " yes " in pdffonts  # the agreement's CJK font, embedded


@pytest.mark.parametrize(("kind", "decision", "title", "words"), [
    ("judicial_confirmation", "rejected", "民事裁定书", ["驳回申请人张三、李四的司法确认申请。", "协议内容不明确", "第三百五十八条"]),
    ("payment_order", "issued", "支付令", ["被申请人：李四", "给付申请人张三人民币伍万元整（¥50,000.00）", "十五日内"]),
    ("payment_order", "rejected", "民事裁定书", ["驳回申请人张三的支付令申请。", "协议内容不明确"]),
])
def test_each_ruling_has_its_own_words(kind: str, decision: str, title: str, words: list[str]) -> None:
    content = ruling_content(AGREEMENT_SHA256, kind=kind, decision=decision, reasons="协议内容不明确")
    assert content.title == title
    text = re.sub(r"\s+", "", subprocess.run(["pdftotext", "-", "-"], input=render_ruling(content), check=True,
                                             capture_output=True).stdout.decode())
    for expected in [title, *words]:
        assert expected in text, expected


def test_dates_in_chinese_numerals() -> None:
    assert chinese_date(date(2026, 3, 20)) == "二〇二六年三月二十日"
    assert chinese_date(date(2030, 10, 1)) == "二〇三〇年十月一日"
    assert chinese_date(date(2026, 12, 31)) == "二〇二六年十二月三十一日"


@pytest.mark.parametrize(("name", "code"), [("organisation_seal", "court_seal_not_court_certificate"),
                                            ("another_courts_certificate", "court_seal_wrong_court"),
                                            ("a_persons_certificate", "court_seal_not_court_certificate")])
def test_only_the_named_courts_certificate_seals_the_ruling(rulings: Rulings, name: str, code: str) -> None:
    report = _verify(rulings, rulings.forged[name])
    assert not report.valid and report.document_kind == "ruling"
    (seal,) = report.signatures
    assert [r.code for r in seal.reasons] == [code], seal.reasons  # a genuine signature otherwise
    assert seal.intact and seal.valid and seal.trusted


@pytest.fixture(scope="module")
def root_pem(rulings: Rulings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("root") / "root.pem"
    path.write_bytes(rulings.platform.pki.root_cert.public_bytes(serialization.Encoding.PEM))
    return path


def test_pyhanko_adesverify_accepts_the_ruling(rulings: Rulings, root_pem: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "ruling.pdf"
    pdf.write_bytes(rulings.genuine)
    run = subprocess.run([str(VENV_BIN / "pyhanko"), "sign", "adesverify", "--trust", str(root_pem),
                          "--trust-replace", str(pdf)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    (line,) = [line for line in run.stdout.splitlines() if line.strip()]
    assert ":INTACT:TRUSTED," in line and "EXTENDED_WITH_LTA_UPDATES" in line, line


def test_pdfsig_accepts_the_ruling(rulings: Rulings, root_pem: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "ruling.pdf"
    pdf.write_bytes(rulings.genuine)
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "accord-root", "-t", "C,C,C", "-i", str(root_pem)],
                   check=True, capture_output=True)
    out = subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(pdf)], capture_output=True, text=True,
                         timeout=120).stdout
    assert out.count("Signature Validation: Signature is Valid.") == 1, out
    assert out.count("Certificate Validation: Certificate is Trusted.") == 1, out
    assert f"Signer Certificate Common Name: {COURT}" in out, out


@pytest.mark.parametrize("name", ["genuine", "another_courts_certificate"])
def test_accord_verify_takes_the_ruling(rulings: Rulings, name: str, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(rulings.genuine if name == "genuine" else rulings.forged[name])
    code = accord(["--data-dir", str(rulings.data_dir), "verify", str(path), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["document_kind"] == "ruling" and report["ruling"]["court"] == COURT
    assert (code, report["valid"]) == ((0, True) if name == "genuine" else (1, False))
    code = accord(["--data-dir", str(rulings.data_dir), "verify", str(path)])
    text = capsys.readouterr().out
    assert f"ruling (2026)川0104民特7号 of {COURT}: judicial_confirmation valid" in text


def test_every_ruling_reason_has_plain_words_in_both_languages() -> None:
    assert_codes_explained(RULING_CODES)


@pytest.mark.browser
async def test_the_verify_page_shows_the_ruling(rulings: Rulings, tmp_path: Path) -> None:
    server = await start_server(rulings.data_dir)
    try:
        async with browser_page() as page:
            for name, pdf in (("genuine", rulings.genuine),
                              ("another_courts_certificate", rulings.forged["another_courts_certificate"])):
                path = tmp_path / f"{name}.pdf"
                path.write_bytes(pdf)
                await verify_on_page(page, server.base_url, path, "valid" if name == "genuine" else "invalid")
                facts = await page.locator("#ruling-facts").inner_text()
                for words in (COURT, "(2026)川0104民特7号", "确认调解协议有效", AGREEMENT_SHA256):
                    assert words in facts, facts
                assert await page.locator("#platform").is_hidden()  # the platform matches agreements only
            reasons = await page.locator("#signatures tr").last.locator("td").last.inner_text()
            assert reasons.startswith("裁判文书的院印属于另一法院") and "court_seal_wrong_court" in reasons
    finally:
        await server.close()
