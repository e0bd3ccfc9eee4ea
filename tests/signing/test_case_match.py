"""Matching an uploaded PDF to its case: POST /api/verify's platform section and `accord verify --platform`."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any, AsyncIterator

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from cryptography.hazmat.primitives.serialization import Encoding

from agreement_samples import agreement_dict
from agreement_server import Server, start_server
from mediation.agreement_models import AgreementVersionRow
from mediation.models import Case
from pades_samples import eof_flood
from signaling.api.pki import PKI_KEY
from signaling.cli import main as accord
from signing.agreement import AgreementData
from signing.agreement_pdf import EvidenceAppendix, render_agreement
from signing.case_match import RevisionMatch, match_to_platform
from signing.verification import MAX_REVISIONS, VerificationError, revision_prefix_hashes
from verify_page import browser_page, verify_on_page

EVIDENCE = {
    "identity_checks": [{"signer_key": "zhang", "method": "face", "checked_at": "2026-11-29T08:00:00+00:00",
                         "score": 0.95, "frames_sha256": "1f" * 32}],
    "recordings": [{"name": "session-1", "sha256": "2e" * 32}],
    "audit_head_sha256": "3d" * 32,
}


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    srv = await start_server(tmp_path / "a")
    yield srv
    await srv.close()


async def _platform(server: Server, pdf: bytes) -> dict[str, Any]:
    status, report = await server.call("POST", "/api/verify", key=False, data=pdf,
                                       headers={"Content-Type": "application/pdf"})
    assert status == 200, report
    return report["platform"]


async def _locked_with_evidence(server: Server) -> tuple[str, bytes]:
    _, agreement_id = await server.drafted_agreement()
    status, current = await server.call("GET", f"/api/agreements/{agreement_id}")
    status, edited = await server.call("PUT", f"/api/agreements/{agreement_id}",
                                       json={"data": current["data"], "evidence": EVIDENCE})
    assert status == 200, edited
    status, locked = await server.call("POST", f"/api/agreements/{agreement_id}/versions/1/lock")
    assert status == 200, locked
    status, pdf = await server.call("GET", f"/api/agreements/{agreement_id}/versions/1/pdf")
    assert status == 200 and pdf[:5] == b"%PDF-"
    return agreement_id, pdf


def _names_and_ids() -> list[str]:
    data = agreement_dict()
    return [p["name"] for p in data["parties"]] + [p["id_number"] for p in data["parties"]]


@given(st.binary(max_size=300), st.sampled_from([b"", b"\n", b"\r\n", b"\r"]), st.binary(max_size=300))
def test_the_first_revision_is_found_whatever_follows(body: bytes, eol: bytes, update: bytes) -> None:
    first = b"%PDF-1.7\n" + body + b"%%EOF" + eol
    hashes = revision_prefix_hashes(first + update)
    assert hashlib.sha256(first).hexdigest() in hashes
    assert hashes == list(dict.fromkeys(hashes))  # each cut once


def test_prefix_hashes_take_one_pass_and_refuse_a_flood() -> None:
    """20 MB with as many markers as allowed, each followed by a long run of line ends, hash in one
    pass (three cuts per marker); one marker more is refused."""
    body = b"%PDF-1.7\n" + (b"%%EOF" + b"\r\n" * 50_000) * MAX_REVISIONS
    started = time.perf_counter()
    hashes = revision_prefix_hashes(body)
    assert time.perf_counter() - started < 2
    assert len(hashes) == 3 * MAX_REVISIONS and len(set(hashes)) == len(hashes)
    assert hashes[-1] == hashlib.sha256(body[:body.rindex(b"%%EOF") + 7]).hexdigest()
    with pytest.raises(VerificationError, match="end-of-file markers"):
        revision_prefix_hashes(body + b"%%EOF\n")
    started = time.perf_counter()
    with pytest.raises(VerificationError):
        revision_prefix_hashes(eof_flood())
    assert time.perf_counter() - started < 0.5


async def test_a_flood_of_eof_markers_is_refused_quickly_while_the_server_answers(server: Server) -> None:
    """Issue 8 item 3: 240 KB of ``%%EOF`` lines took 33 s of the server's CPU (a list search per
    cut, outside the verifier's child). Now the child refuses it at once, and /healthz answers meanwhile."""
    small = await server.call("POST", "/api/verify", key=False, data=eof_flood(600),
                              headers={"Content-Type": "application/pdf"})
    assert small[0] == 200  # within the limit; and the verifier's fork server is up, as on a running server
    loop = asyncio.get_running_loop()
    started = loop.time()
    upload = asyncio.create_task(server.call("POST", "/api/verify", key=False, data=eof_flood(),
                                             headers={"Content-Type": "application/pdf"}))
    slowest = 0.0
    while not upload.done() and loop.time() - started < 60:
        asked = loop.time()
        status, health = await server.call("GET", "/healthz", key=False)
        assert status == 200 and health["status"] == "ok"
        slowest = max(slowest, loop.time() - asked)
        await asyncio.sleep(0.1)
    status, body = await upload
    assert loop.time() - started < 5
    assert slowest < 2
    assert status == 422 and body["error"]["code"] == "unverifiable_pdf", body
    assert "end-of-file markers" in body["error"]["message"]


async def test_a_fully_signed_agreement_matches_its_case(server: Server) -> None:
    agreement_id, pdf = await server.fully_signed()
    match = await _platform(server, pdf)
    state = await server.store.current(agreement_id)
    assert match["found"] and match["consistent"], match["reasons"]
    assert (match["agreement_id"], match["version"], match["current"]) == (agreement_id, 1, True)
    async with server.store.db() as s:
        case = await s.get(Case, state.case_id)
    assert case is not None and match["case_number"] == state.data.case_number == case.case_number
    assert match["version_status"] == "completed" and match["revision"] == "latest"
    assert match["revision_number"] == state.revision and match["stored_revisions"] == state.revision + 1
    assert match["final_sha256"] == state.final_sha256 == match["file_sha256"]
    assert match["locked_sha256"] == state.locked_sha256 in revision_prefix_hashes(pdf)
    public = json.dumps(match, ensure_ascii=False)
    assert not [leak for leak in _names_and_ids() if leak in public]

    # The same agreement cut back to the revision after the first signature: matched, but not the latest.
    earlier = await server.store.read_pdf(state, 1)
    cut = await match_to_platform(earlier, server.store.locked_with)
    assert cut.found and cut.agreement_id == agreement_id and not cut.consistent
    assert (cut.revision, cut.revision_number) == (RevisionMatch.EARLIER, 1)
    assert "earlier_revision" in {r.code for r in cut.reasons}

    # Bytes appended after our last revision: still this agreement, but not a file the platform produced.
    extended = await match_to_platform(pdf + b"\n% appended\n%%EOF\n", server.store.locked_with)
    assert extended.found and extended.revision is RevisionMatch.OTHER
    assert "unknown_revision" in {r.code for r in extended.reasons}


async def test_printed_evidence_hashes_are_compared_with_the_store(server: Server) -> None:
    agreement_id, pdf = await _locked_with_evidence(server)
    match = await _platform(server, pdf)
    assert match["found"] and match["agreement_id"] == agreement_id and match["current"] is True
    assert {(e["kind"], e["sha256"], e["printed"]) for e in match["evidence"]} == {
        ("identity_frames", "1f" * 32, True), ("recording", "2e" * 32, True), ("audit_head", "3d" * 32, True)}
    assert [r["code"] for r in match["reasons"]] == ["not_completed"]
    assert (match["revision"], match["revision_number"]) == ("latest", 0)

    # The platform's record diverges from what the document prints (e.g. the database was altered).
    async with server.store.db.begin() as s:
        row = await s.scalar(select(AgreementVersionRow).where(AgreementVersionRow.agreement_id == agreement_id))
        row.evidence = {**row.evidence, "audit_head_sha256": "4c" * 32}
    match = await _platform(server, pdf)
    assert {(e["kind"], e["printed"]) for e in match["evidence"]} >= {("audit_head", False), ("recording", True)}
    assert "evidence_not_printed" in {r["code"] for r in match["reasons"]} and not match["consistent"]


async def test_an_unknown_agreement_is_not_found(server: Server) -> None:
    data = AgreementData.model_validate(agreement_dict())
    evidence = EvidenceAppendix.model_validate(EVIDENCE)
    rendered = await asyncio.to_thread(render_agreement, data, evidence, agreement_id="ag_00000000000000ff", version=1)
    match = await _platform(server, rendered.pdf)
    assert not match["found"] and not match["consistent"] and match["agreement_id"] is None
    assert [r["code"] for r in match["reasons"]] == ["not_on_platform"]
    assert match["file_sha256"] == rendered.sha256


async def test_a_superseded_version_is_matched_but_not_current(server: Server) -> None:
    agreement_id, pdf = await _locked_with_evidence(server)
    status, current = await server.call("GET", f"/api/agreements/{agreement_id}")
    status, edited = await server.call("PUT", f"/api/agreements/{agreement_id}",
                                       json={"data": {**current["data"], "place": "上海市"}})
    assert status == 200, edited
    match = await _platform(server, pdf)
    assert match["found"] and (match["agreement_id"], match["version"]) == (agreement_id, 1)
    assert match["current"] is False and match["current_version"] == 2 and match["version_status"] == "superseded"
    assert "superseded" in {r["code"] for r in match["reasons"]} and not match["consistent"]


async def test_cli_platform_check_against_live_servers(server: Server, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    agreement_id, pdf = await server.fully_signed()
    file = tmp_path / "agreement.pdf"
    file.write_bytes(pdf)
    root = tmp_path / "root.crt"
    root.write_bytes(server.app[PKI_KEY].root_cert.public_bytes(Encoding.PEM))
    base = ["verify", str(file), "--trust", str(root)]

    assert await asyncio.to_thread(accord, base) == 0
    assert "PLATFORM" not in capsys.readouterr().out  # offline by default

    assert await asyncio.to_thread(accord, [*base, "--platform", server.base_url]) == 0
    out = capsys.readouterr().out
    case_number = (await server.store.current(agreement_id)).data.case_number
    assert out.startswith("VALID") and f"PLATFORM: consistent - case {case_number}" in out
    assert agreement_id in out

    assert await asyncio.to_thread(accord, [*base, "--json", "--platform", server.base_url]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] and report["platform"]["agreement_id"] == agreement_id

    # Another platform never saw this agreement: the offline pass becomes exit 1.
    other = await start_server(tmp_path / "b")
    try:
        assert await asyncio.to_thread(accord, [*base, "--platform", other.base_url]) == 1
        out = capsys.readouterr().out
        assert out.startswith("VALID") and "PLATFORM: no matching case" in out and "not_on_platform" in out
    finally:
        await other.close()

    # Unreachable platform: the requested check cannot be made.
    port_gone = other.base_url
    assert await asyncio.to_thread(accord, [*base, "--platform", port_gone, "--timeout", "5"]) == 2
    assert "cannot be reached" in capsys.readouterr().err


async def test_verify_page_shows_the_platform_section(server: Server, tmp_path: Path) -> None:
    agreement_id, pdf = await _locked_with_evidence(server)
    status, current = await server.call("GET", f"/api/agreements/{agreement_id}")
    status, _ = await server.call("PUT", f"/api/agreements/{agreement_id}",
                                  json={"data": {**current["data"], "place": "上海市"}})
    assert status == 200
    file = tmp_path / "v1.pdf"
    file.write_bytes(pdf)
    async with browser_page() as page:
        await verify_on_page(page, server.base_url, file, "invalid")
        assert await page.locator("#platform").is_visible()
        assert await page.locator("#platform-verdict").get_attribute("data-valid") == "false"
        facts = await page.locator("#platform-facts").inner_text()
        case_number = (await server.store.current(agreement_id)).data.case_number
        assert case_number in facts and agreement_id in facts
        assert "已被替代，现行版本 v2" in facts
        assert "superseded:" in await page.locator("#platform-reasons").inner_text()
        rows = await page.locator("#platform-evidence tr").all_inner_texts()
        assert len(rows) == 3 and all(r.rstrip().endswith("是") for r in rows)
        assert any("2e" * 32 in r for r in rows)
