"""The case package carries every identity attestation and the certificates that signed them;
`accord verify PACKAGE.zip` checks each signature's attestation offline and names a tampered or a
missing one precisely."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from pathlib import Path
from typing import AsyncIterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from agreement_server import FIELDS, Server, start_server
from mediation.package import zip_package
from mediation.package_check import ATTESTATION_CHAIN, MANIFEST, check_package
from signaling.cli import main as accord
from signing.verification import verify_agreement_bytes_safely

PEOPLE = FIELDS[:4]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    srv = await start_server(tmp_path)
    yield srv
    await srv.close()


def _members(package: bytes) -> tuple[dict[str, bytes], dict]:
    archive = zipfile.ZipFile(io.BytesIO(package))
    manifest = json.loads(archive.read(MANIFEST))
    members = {name: archive.read(name) for name in archive.namelist() if name != MANIFEST}
    return members, {k: v for k, v in manifest.items() if k != "members"}


async def _cli(tmp_path: Path, name: str, package: bytes, root: Path, capsys: pytest.CaptureFixture) -> tuple[int, str]:
    path = tmp_path / name
    path.write_bytes(package)
    capsys.readouterr()
    code = await asyncio.to_thread(accord, ["--data-dir", str(tmp_path), "verify", str(path), "--trust", str(root)])
    return code, capsys.readouterr().out


async def test_package_attestations_good_tampered_and_missing(server: Server, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture) -> None:
    agreement_id, _ = await server.fully_signed(attested=True)
    case_id = (await server.store.current(agreement_id)).case_id
    c = await server.cast()
    status, package = await server.as_user(c.li, "GET", f"/api/cases/{case_id}/package")
    assert status == 200
    members, header = _members(package)
    content = json.loads(members["case.json"])
    index = content["identity_attestations"]
    assert len(index) == 4 and all(e["passed"] and e["method"] == "face" for e in index)
    for entry in index:
        assert members[entry["path"]] and entry["path"] == f"attestations/{entry['sha256']}.p7s"
    chain = x509.load_pem_x509_certificates(members[ATTESTATION_CHAIN])
    assert any("Identity Attestation" in cert.subject.rfc4514_string() for cert in chain)

    root = server.ceremony.pki.root_cert
    root_pem = tmp_path / "root.pem"
    root_pem.write_bytes(root.public_bytes(Encoding.PEM))

    def check(data: bytes):
        return check_package(data, lambda pdf: verify_agreement_bytes_safely(pdf, [root]), [root])

    report = await asyncio.to_thread(check, package)
    assert report.valid, report.to_dict()
    (agreement,) = report.documents
    signatures = {s.field: s for s in agreement.report.signatures}
    for name in PEOPLE:
        assert [a.status for a in signatures[name].attestations] == ["valid"], signatures[name].attestations
    code, out = await _cli(tmp_path, "good.zip", package, root_pem, capsys)
    assert code == 0, out
    for entry in index:
        assert f"identity attestation {entry['sha256']}: VALID" in out
    assert "face_match passed" in out and "score=0.93, threshold=0.4" in out

    # A forger alters one attestation and rewrites the manifest to match.
    tampered_entry, missing_entry = index[0], index[1]
    altered = dict(members)
    blob = bytearray(altered[tampered_entry["path"]])
    blob[len(blob) // 2] ^= 0x01
    altered[tampered_entry["path"]] = bytes(blob)
    report = await asyncio.to_thread(check, zip_package(altered, header))
    assert not report.valid and report.reasons == []  # the manifest matches: only the attestation tells
    by_hash = {s.attestations[0].sha256: s for s in report.documents[0].report.signatures if s.attestations}
    bad = by_hash[tampered_entry["sha256"]]
    assert bad.attestations[0].status == "invalid" and [r.code for r in bad.reasons] == ["attestation_invalid"]
    assert bad.attestations[0].reasons[0].code in ("attestation_bad_signature", "attestation_malformed")
    assert all(s.attestations[0].status == "valid" for h, s in by_hash.items() if h != tampered_entry["sha256"])
    code, out = await _cli(tmp_path, "tampered.zip", zip_package(altered, header), root_pem, capsys)
    assert code == 1 and f"identity attestation {tampered_entry['sha256']}: INVALID" in out
    assert "! attestation_invalid:" in out

    # Another package lacks one attestation (member and manifest entry both removed).
    lacking = {k: v for k, v in members.items() if k != missing_entry["path"]}
    report = await asyncio.to_thread(check, zip_package(lacking, header))
    assert not report.valid and report.reasons == []
    by_hash = {s.attestations[0].sha256: s for s in report.documents[0].report.signatures if s.attestations}
    gone = by_hash[missing_entry["sha256"]]
    assert gone.attestations[0].status == "missing" and [r.code for r in gone.reasons] == ["attestation_missing"]
    code, out = await _cli(tmp_path, "missing.zip", zip_package(lacking, header), root_pem, capsys)
    assert code == 1 and f"identity attestation {missing_entry['sha256']}: MISSING" in out
