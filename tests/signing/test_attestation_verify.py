"""POST /api/verify reports the identity attestation each signature cites, looked up in the database
after the sandboxed verifier returns: valid, missing, invalid (tampered) and mismatched (another field)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, AsyncIterator

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select, update

from agreement_server import FIELDS, Server, start_server
from identity.attestation_review import REASON_CODES
from mediation.identity_models import IdentityCheckRow
from verify_page import REPO, browser_page, verify_on_page

PEOPLE = FIELDS[:4]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    srv = await start_server(tmp_path)
    yield srv
    await srv.close()


async def _verify(server: Server, pdf: bytes) -> dict[str, Any]:
    status, report = await server.call("POST", "/api/verify", key=False, data=pdf,
                                       headers={"Content-Type": "application/pdf"})
    assert status == 200, report
    return report


def _by_field(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["field"]: s for s in report["signatures"]}


async def test_each_signature_shows_its_valid_attestation(server: Server) -> None:
    agreement_id, pdf = await server.fully_signed(attested=True)
    report = await _verify(server, pdf)
    assert report["valid"] is True, report["reasons"]
    state = await server.store.current(agreement_id)
    assert report["platform"]["case_id"] == state.case_id  # each attestation is also checked against the case
    signatures = _by_field(report)
    assert signatures["sig_05_organisation"]["attestations"] == []  # the seal is no person's check
    async with server.services.db() as s:
        stored = set((await s.scalars(select(IdentityCheckRow.attestation_sha256)
                                      .where(IdentityCheckRow.agreement_id == agreement_id))).all())
    for name in PEOPLE:
        (summary,) = signatures[name]["attestations"]
        assert summary["status"] == "valid" and summary["reasons"] == [], summary
        assert summary["sha256"] in signatures[name]["identity_check"] and summary["sha256"] in stored
        assert summary["methods"] == ["face_match"] and summary["verdict"] == "passed"
        assert summary["scores"]["face_match"] == {"score": 0.93, "threshold": 0.4}
        assert summary["checked_at"] <= signatures[name]["signing_time"]
        assert "Identity Attestation" in summary["signer"]


def test_every_attestation_code_and_status_is_translated() -> None:
    messages = (REPO / "web_client" / "js" / "verify" / "messages.js").read_text()
    zh, en = messages[messages.index("\n  zh: {"):messages.index("\n  en: {")], messages[messages.index("\n  en: {"):]
    for table in (zh, en):
        for code in REASON_CODES:
            assert f'"reason.{code}":' in table, code
        for status in ("valid", "missing", "invalid", "mismatched"):
            assert f'"verify.attestation.{status}":' in table
        for method in ("face_match", "liveness", "one_time_code", "recorded_session", "provider"):
            assert f'"verify.method.{method}":' in table


async def test_missing_tampered_and_mismatched_attestations_are_reported(server: Server, tmp_path: Path) -> None:
    agreement_id, tokens = await server.locked_agreement()
    cited: dict[str, str] = {}
    for field, token in tokens.items():
        # the applicant's check names the respondent's field: genuine, but not for this signature
        other = "sig_02_party_respondent" if field == "sig_01_party_applicant" else None
        cited[field] = await server.attest_identity(agreement_id, field, attested_field=other)
        status, body = await server.sign_as(token, field, ec.generate_private_key(ec.SECP256R1()))
        assert status == 200, body
    status, body = await server.call("POST", f"/api/agreements/{agreement_id}/seal", json={"version": 1})
    assert status == 200, body
    _, pdf = await server.call("GET", "/api/sign/document.pdf", token=next(iter(tokens.values())))
    async with server.services.db.begin() as s:
        await s.execute(update(IdentityCheckRow).where(IdentityCheckRow.attestation_sha256 == cited[FIELDS[1]])
                        .values(attestation=None))
        blob = await s.scalar(select(IdentityCheckRow.attestation).where(IdentityCheckRow.attestation_sha256 == cited[FIELDS[2]]))
        tampered = bytearray(blob)
        tampered[len(blob) // 3] ^= 0x01
        await s.execute(update(IdentityCheckRow).where(IdentityCheckRow.attestation_sha256 == cited[FIELDS[2]])
                        .values(attestation=bytes(tampered)))
    report = await _verify(server, pdf)
    assert report["valid"] is False
    signatures = _by_field(report)
    (mismatched,) = signatures[FIELDS[0]]["attestations"]
    assert mismatched["status"] == "mismatched"
    assert [r["code"] for r in mismatched["reasons"]] == ["attestation_other_field"]
    assert mismatched["verdict"] == "passed"  # a genuine record, shown as such
    (missing,) = signatures[FIELDS[1]]["attestations"]
    assert missing["status"] == "missing" and missing["reasons"][0]["code"] == "attestation_missing"
    (invalid,) = signatures[FIELDS[2]]["attestations"]
    assert invalid["status"] == "invalid" and invalid["reasons"][0]["code"].startswith("attestation_")
    assert [a["status"] for a in signatures[FIELDS[3]]["attestations"]] == ["valid"]
    codes = {name: {r["code"] for r in signatures[name]["reasons"]} for name in FIELDS}
    assert codes[FIELDS[0]] == {"attestation_mismatched"} and codes[FIELDS[1]] == {"attestation_missing"}
    assert codes[FIELDS[2]] == {"attestation_invalid"} and codes[FIELDS[3]] == set()
    # the verification page shows each, in Chinese by default
    file = tmp_path / "agreement.pdf"
    file.write_bytes(pdf)
    async with browser_page() as page:
        await verify_on_page(page, server.base_url, file, "invalid")
        assert await page.locator("#attestations-section").is_visible()
        rows = await page.locator("#attestations tr").all_inner_texts()
        assert len(rows) == 4
        assert "不对应" in rows[0] and "身份核验证明针对的是另一个签名域" in rows[0] and "人脸比对" in rows[0]
        assert "缺失" in rows[1] and "无效" in rows[2]
        assert "有效" in rows[3] and "score=0.93, threshold=0.4" in rows[3] and cited[FIELDS[3]] in rows[3]
