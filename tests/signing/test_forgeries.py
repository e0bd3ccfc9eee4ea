"""Signature substitution: genuine platform certificates on the wrong field are refused.

PAdES validity says nothing about *who* filled *which* field: every forged file below is made of
genuine certificates from the platform PKI, and pyHanko accepts each signature in it. Accord's
verifier must reject each one — offline, from the command line (``accord verify``, exit 1) and
over HTTP (``/api/verify``) — with the forgery's own reason code on the forged field.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Awaitable, Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature

from agreement_server import start_server
from identity.gate import IdentityCheck
from pades_samples import PAGE_TEXT, SEATS, Platform, blank_pdf
from signaling.api.pki import pki_directory, pki_passphrase
from signaling.cli import main as accord
from signaling.config import Settings
from signing.pades import KeyCustody, SignatureEvidence, finalize_lta
from signing.pki import PlatformPKI
from signing.verification import AgreementReport, verify_agreement
from verify_page import assert_codes_explained, browser_page, verify_on_page


APPLICANT, RESPONDENT, MEDIATOR, SEAL = SEATS
FIELDS = [seat.field for seat in SEATS]
#: The reasons that tie a signature to its slot (the forgeries must fail on these and nothing else).
BINDING_CODES = {
    "binding_missing", "certificate_other_case", "certificate_other_agreement", "certificate_other_version",
    "certificate_other_field", "signer_role_mismatch", "signer_side_mismatch", "signer_participant_mismatch",
    "signer_name_mismatch", "identity_check_missing", "identity_check_after_signature", "certificate_reused",
    "seal_by_person_certificate", "seal_wrong_organisation",
}
#: forgery -> (the forged field, the reason code it must be refused with)
FORGERIES = {
    "party_on_other_partys_field": (RESPONDENT.field, "certificate_other_field"),
    "party_on_mediators_field": (MEDIATOR.field, "signer_role_mismatch"),
    "party_on_seal_field": (SEAL.field, "seal_by_person_certificate"),
    "certificate_for_another_case": (APPLICANT.field, "certificate_other_case"),
    "certificate_for_another_agreement": (APPLICANT.field, "certificate_other_agreement"),
    "certificate_for_another_text": (APPLICANT.field, "certificate_other_version"),
    "another_organisations_seal": (SEAL.field, "seal_wrong_organisation"),
    "identity_check_newer_than_signature": (APPLICANT.field, "identity_check_after_signature"),
    "one_certificate_on_two_slots": (RESPONDENT.field, "certificate_reused"),
}

Step = Callable[[bytes], Awaitable[bytes]]


@dataclass
class World:
    data_dir: Path
    platform: Platform
    genuine: bytes
    forged: dict[str, bytes]


def _settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, identity_gate="test", log_level="WARNING")


async def _agreement(platform: Platform, blank: bytes, steps: dict[str, Step]) -> bytes:
    """Every field signed in order, genuinely unless ``steps`` says otherwise, then B-LTA."""
    pdf = blank
    for seat in SEATS:
        if seat.field in steps:
            pdf = await steps[seat.field](pdf)
        elif seat.role == "organisation":
            pdf = await platform.seal(pdf, seat.field)
        else:
            pdf = await platform.sign_in_browser(pdf, seat)
    return await finalize_lta(pdf, platform.timestamper, platform.pki.validation_context())


def _forgeries(platform: Platform, blank: bytes) -> dict[str, dict[str, Step]]:
    key = ec.generate_private_key(ec.SECP256R1())
    applicants = platform.certificate(APPLICANT, blank, key)  # genuine: the applicant's own field
    later = platform.certificate(APPLICANT, blank, key)  # genuine too: a second enrolment of the applicant

    def applicant_on(seat, cert=later) -> Step:  # type: ignore[no-untyped-def]
        return lambda pdf: platform.sign_in_browser(pdf, seat, key, cert)

    other_case = blank_pdf(FIELDS, agreement_id="ag_00000000000000b2", case_number="CASE-2")
    other_agreement = blank_pdf(FIELDS, agreement_id="ag_00000000000000b3")
    other_text = blank_pdf(FIELDS, text=PAGE_TEXT.replace("50000", "5"))
    future_check = IdentityCheck(APPLICANT.participant_id or "", "face",
                                 dt.datetime.now(dt.UTC) + dt.timedelta(days=1), 0.99)
    other_seal = platform.organisation_seal("org-other", "海淀区人民调解委员会", "53110108MJ0000002Y")
    return {
        "party_on_other_partys_field": {RESPONDENT.field: applicant_on(RESPONDENT)},
        "party_on_mediators_field": {MEDIATOR.field: applicant_on(MEDIATOR)},
        "party_on_seal_field": {SEAL.field: applicant_on(SEAL)},
        "certificate_for_another_case": {APPLICANT.field: applicant_on(APPLICANT, platform.certificate(
            APPLICANT, other_case, key, agreement_id="ag_00000000000000b2", case_number="CASE-2"))},
        "certificate_for_another_agreement": {APPLICANT.field: applicant_on(APPLICANT, platform.certificate(
            APPLICANT, other_agreement, key, agreement_id="ag_00000000000000b3"))},
        "certificate_for_another_text": {APPLICANT.field: applicant_on(APPLICANT, platform.certificate(
            APPLICANT, other_text, key))},
        "another_organisations_seal": {SEAL.field: lambda pdf: platform.seal(pdf, SEAL.field, other_seal)},
        "identity_check_newer_than_signature": {APPLICANT.field: lambda pdf: platform.sign_in_browser(
            pdf, APPLICANT, evidence=SignatureEvidence(KeyCustody.BROWSER, future_check.reference()))},
        "one_certificate_on_two_slots": {APPLICANT.field: applicant_on(APPLICANT, applicants),
                                         RESPONDENT.field: applicant_on(RESPONDENT, applicants)},
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The PKI in a server's data directory (the CLI and the server trust its root)."""
    data_dir = tmp_path_factory.mktemp("forgeries")
    settings = _settings(data_dir)
    pki = PlatformPKI.init(pki_directory(settings), pki_passphrase(settings), settings.base_url, "Accord Test")
    platform = Platform(pki)
    blank = blank_pdf(FIELDS)
    genuine = asyncio.run(_agreement(platform, blank, {}))
    forged = {name: asyncio.run(_agreement(platform, blank, steps))
              for name, steps in _forgeries(platform, blank).items()}
    return World(data_dir, platform, genuine, forged)


def _codes(report: AgreementReport, field: str) -> set[str]:
    return {r.code for s in report.signatures if s.field == field for r in s.reasons}


def test_the_genuine_agreement_is_valid(world: World) -> None:
    report = verify_agreement(world.genuine, [world.platform.pki.root_cert])
    assert report.valid, report.to_dict()
    assert report.agreement_id == "ag_00000000000000a1"
    assert [s["field_name"] for s in report.signer_slots] == FIELDS
    assert report.signatures[0].binding is not None and report.signatures[0].binding["field_name"] == APPLICANT.field
    seal = report.signatures[-1]
    assert seal.binding == {"kind": "organisation", "holder_id": "org-chaoyang", "name": SEAL.name,
                            "credit_code": "53110105MJ0000001X"}


@pytest.mark.parametrize("name", FORGERIES)
async def test_pyhanko_alone_accepts_the_forgery(world: World, name: str) -> None:
    """The forged signature is cryptographically perfect: only the binding can tell."""
    field, _ = FORGERIES[name]
    reader = PdfFileReader(BytesIO(world.forged[name]))
    embedded = next(s for s in reader.embedded_regular_signatures if s.field_name == field)
    vc = world.platform.seals.validation_context()
    status = await async_validate_pdf_signature(embedded, vc)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()


@pytest.mark.parametrize("name", FORGERIES)
def test_the_verifier_refuses_the_forgery(world: World, name: str) -> None:
    field, code = FORGERIES[name]
    report = verify_agreement(world.forged[name], [world.platform.pki.root_cert])
    assert not report.valid
    assert code in _codes(report, field), report.to_dict()
    for signature in report.signatures:  # nothing else is wrong with the file
        assert {r.code for r in signature.reasons} <= BINDING_CODES, signature.reasons
    assert all(t.ok for t in report.document_timestamps)
    message = next(r.message for s in report.signatures for r in s.reasons if r.code == code)
    assert field in message


def test_the_reasons_say_what_is_wrong(world: World) -> None:
    report = verify_agreement(world.forged["party_on_other_partys_field"], [world.platform.pki.root_cert])
    codes = _codes(report, RESPONDENT.field)
    assert {"certificate_other_field", "signer_side_mismatch", "signer_name_mismatch",
            "signer_participant_mismatch"} <= codes
    assert "certificate_reused" not in codes  # a second genuine certificate of the applicant
    assert _codes(report, APPLICANT.field) == set()
    report = verify_agreement(world.forged["one_certificate_on_two_slots"], [world.platform.pki.root_cert])
    assert "certificate_reused" in _codes(report, APPLICANT.field)
    report = verify_agreement(world.forged["party_on_mediators_field"], [world.platform.pki.root_cert])
    assert {"certificate_other_field", "signer_role_mismatch"} <= _codes(report, MEDIATOR.field)


@pytest.mark.parametrize("name", [*FORGERIES, "genuine"])
def test_accord_verify_exit_codes(world: World, name: str, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(world.genuine if name == "genuine" else world.forged[name])
    code = accord(["--data-dir", str(world.data_dir), "verify", str(path), "--json"])
    report = json.loads(capsys.readouterr().out)
    if name == "genuine":
        assert code == 0 and report["valid"]
        return
    field, reason = FORGERIES[name]
    assert code == 1 and not report["valid"]
    signature = next(s for s in report["signatures"] if s["field"] == field)
    assert reason in {r["code"] for r in signature["reasons"]}


async def test_api_verify_refuses_every_forgery(world: World) -> None:
    server = await start_server(world.data_dir)
    try:
        status, body = await server.call("POST", "/api/verify", key=False, data=world.genuine,
                                         headers={"Content-Type": "application/pdf"})
        assert status == 200 and body["valid"], body
        for name, (field, reason) in FORGERIES.items():
            status, body = await server.call("POST", "/api/verify", key=False, data=world.forged[name],
                                             headers={"Content-Type": "application/pdf"})
            assert status == 200 and not body["valid"], name
            signature = next(s for s in body["signatures"] if s["field"] == field)
            assert reason in {r["code"] for r in signature["reasons"]}, (name, signature["reasons"])
    finally:
        await server.close()


def test_every_binding_reason_has_plain_words_in_both_languages() -> None:
    """The verify page explains each code in Chinese and English (the list above is the verifier's)."""
    assert_codes_explained(BINDING_CODES | {"signer_slots_unknown", "slot_unknown"})


@pytest.mark.browser
async def test_the_verify_page_explains_a_forgery(world: World, tmp_path: Path) -> None:
    path = tmp_path / "forged.pdf"
    path.write_bytes(world.forged["party_on_seal_field"])
    server = await start_server(world.data_dir)
    try:
        async with browser_page() as page:
            await verify_on_page(page, server.base_url, path, "invalid")
            reasons = await page.locator("#signatures tr").last.locator("td").last.inner_text()
            assert reasons.startswith("印章签名域是用个人的签名证书签署的") and "seal_by_person_certificate" in reasons
    finally:
        await server.close()
