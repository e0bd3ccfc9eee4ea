"""``accord verify CASE-PACKAGE.zip``: the package a court receives checked offline as one object
— every member against the manifest, the audit chain, the agreement and the ruling through the
verifier, and the ruling tied to the agreement and the trail. A genuine package passes (exit 0);
a swapped file, an edited audit entry and a ruling for another agreement each fail (exit 1) with
their own reason."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from mediation.audit import canonical_json, entry_hash
from mediation.package_check import PackageError, PackageReport, check_package
from signaling.api.pki import pki_directory, pki_passphrase
from signaling.cli import main as accord
from signaling.config import Settings
from signing.pki import PlatformPKI
from signing.verification import verify_agreement

from pades_samples import Platform
from ruling_samples import CASE_ID, case_json, package_members, package_zip, sha256, swap_member


@dataclass(frozen=True)
class Packages:
    data_dir: Path
    platform: Platform
    agreement: bytes
    other_agreement: bytes
    genuine: dict[str, bytes]
    ruling_for_other_agreement: dict[str, bytes]


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Packages:
    data_dir = tmp_path_factory.mktemp("packages")
    settings = Settings(data_dir=data_dir, log_level="WARNING")
    platform = Platform(PlatformPKI.init(pki_directory(settings), pki_passphrase(settings), settings.base_url,
                                         "Accord Test"))
    agreement, other = asyncio.run(platform.full_agreement()), asyncio.run(platform.full_agreement())
    return Packages(data_dir, platform, agreement, other, asyncio.run(package_members(platform, agreement)),
                    asyncio.run(package_members(platform, agreement, ruled_agreement=other)))


def _check(packages: Packages, package: bytes) -> PackageReport:
    return check_package(package, lambda pdf: verify_agreement(pdf, [packages.platform.pki.root_cert]))


def _edited_case(members: dict[str, bytes], edit) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    case = json.loads(members["case.json"])
    edit(case)
    return {**members, "case.json": case_json(case)}


def test_a_genuine_package_passes(packages: Packages) -> None:
    report = _check(packages, package_zip(packages.genuine))
    assert report.valid, report.to_dict()
    assert (report.case_id, report.members, report.reasons) == (CASE_ID, 3, [])
    assert report.audit is not None and (report.audit.ok, report.audit.entries) == (True, 5)
    assert [(d.kind, d.ok, d.report and d.report.valid) for d in report.documents] == [
        ("agreement", True, True), ("ruling", True, True)]
    assert report.documents[0].sha256 == sha256(packages.agreement)
    assert report.documents[1].report and report.documents[1].report.ruling["agreement_sha256"] == sha256(packages.agreement)


def test_a_swapped_file_fails_against_the_manifest(packages: Packages) -> None:
    path = next(name for name in packages.genuine if name.startswith("agreement/"))
    report = _check(packages, swap_member(package_zip(packages.genuine), path, packages.other_agreement))
    assert not report.valid
    assert [r.code for r in report.reasons] == ["member_hash_mismatch"] and path in report.reasons[0].message
    # The swapped agreement is genuine in itself; case.json and the ruling still name the original.
    agreement = report.documents[0]
    assert [r.code for r in agreement.reasons] == ["document_hash_mismatch"] and agreement.report.valid
    assert "ruling_other_agreement" in report.failure_codes()


def test_an_edited_audit_entry_fails_the_chain(packages: Packages) -> None:
    def edit(case):  # type: ignore[no-untyped-def]
        case["audit"]["entries"][1]["payload"]["agreement_id"] = "ag_forged"

    report = _check(packages, package_zip(_edited_case(packages.genuine, edit)))  # manifest recomputed
    assert not report.valid
    assert [r.code for r in report.reasons] == ["audit_entry_altered"] and "audit entry 2" in report.reasons[0].message
    assert report.audit is not None and report.audit.first_bad_seq == 2
    assert all(d.ok for d in report.documents)


def test_a_rewritten_audit_trail_no_longer_matches_the_courts_ruling(packages: Packages) -> None:
    """Recomputing every hash after an edit satisfies the chain, but not the head the court signed."""
    def rewrite(case):  # type: ignore[no-untyped-def]
        entries = case["audit"]["entries"]
        entries[1]["payload"]["agreement_id"] = "ag_forged"
        prev = "0" * 64
        for e in entries:
            e["hash"] = prev = entry_hash(CASE_ID, e["seq"], e["at"], e["actor"], e["action"],
                                          canonical_json(e["payload"]), prev)
        case["audit"]["head"]["hash"] = prev

    report = _check(packages, package_zip(_edited_case(packages.genuine, rewrite)))
    assert not report.valid and report.reasons == [] and report.audit is not None and report.audit.ok
    ruling = report.documents[1]
    assert [r.code for r in ruling.reasons] == ["ruling_audit_mismatch"]


def test_a_ruling_for_another_agreement_fails(packages: Packages) -> None:
    report = _check(packages, package_zip(packages.ruling_for_other_agreement))
    assert not report.valid and report.reasons == []
    agreement, ruling = report.documents
    assert agreement.ok and ruling.report is not None and ruling.report.valid  # each genuine on its own
    assert [r.code for r in ruling.reasons] == ["ruling_other_agreement"]
    assert sha256(packages.other_agreement) in ruling.reasons[0].message


def test_a_ruling_not_recorded_in_the_trail_fails(packages: Packages) -> None:
    def drop_ruling_entry(case):  # type: ignore[no-untyped-def]
        case["audit"]["entries"].pop()
        case["audit"]["head"] = {"seq": 4, "hash": case["audit"]["entries"][-1]["hash"]}

    report = _check(packages, package_zip(_edited_case(packages.genuine, drop_ruling_entry)))
    assert [r.code for r in report.documents[1].reasons] == ["ruling_not_in_audit"]


def test_what_is_not_a_case_package_is_not_verifiable(packages: Packages) -> None:
    for data in (b"PK\x03\x04 not really a zip", package_zip({"case.json": b"{}"})):
        with pytest.raises(PackageError):
            _check(packages, data)


@pytest.mark.parametrize("name", ["genuine", "swapped", "ruling_for_other_agreement"])
def test_accord_verify_takes_the_zip(packages: Packages, name: str, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    members = packages.ruling_for_other_agreement if name == "ruling_for_other_agreement" else packages.genuine
    package = package_zip(members)
    if name == "swapped":
        package = swap_member(package, "case.json", members["case.json"] + b" ")
    path = tmp_path / "case-package.zip"
    path.write_bytes(package)
    code = accord(["--data-dir", str(packages.data_dir), "verify", str(path), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "case_package" and [d["kind"] for d in report["documents"]] == ["agreement", "ruling"]
    assert (code, report["valid"]) == ((0, True) if name == "genuine" else (1, False))
    code = accord(["--data-dir", str(packages.data_dir), "verify", str(path)])
    text = capsys.readouterr().out
    assert text.startswith(f"CASE PACKAGE {CASE_ID}: " + ("VALID" if name == "genuine" else "NOT VALID"))
    expected = {"genuine": "[ok ] ruling rulings/", "swapped": "! member_hash_mismatch: case.json",
                "ruling_for_other_agreement": "! ruling_other_agreement"}[name]
    assert expected in text, text
    assert accord(["--data-dir", str(packages.data_dir), "verify", str(path), "--platform", "http://x"]) == 2


@pytest.mark.parametrize(("edit", "code"), [
    (lambda case: case["audit"].update(entries={"1": "x"}), "audit_malformed"),
    (lambda case: case["audit"]["entries"][0].update(payload=float("nan")), "audit_malformed"),
    (lambda case: case["audit"].pop("head"), "audit_missing"),
    (lambda case: case["rulings"][0].update(path={"not": "a path"}), "document_missing"),
    (lambda case: case["agreement"].update(path="agreement/elsewhere.pdf"), "document_missing"),
    (lambda case: case["rulings"].append(case["agreement"]), "document_kind_mismatch"),
])
def test_a_malformed_case_file_is_reported_not_crashed_on(packages: Packages, edit, code: str) -> None:  # type: ignore[no-untyped-def]
    report = _check(packages, package_zip(_edited_case(packages.genuine, edit)))
    assert not report.valid and code in report.failure_codes(), report.to_dict()
