"""A recording package uploaded to the verification page: recognised by content, bounded, checked
off the event loop with a time limit; a flipped byte is reported with its code and place; every
finding code the verifier can give has a zh and an en text on the page."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from signaling.errors import ApiError
from signaling import recording_upload
from signaling.recording_upload import is_zip, verify_recording_upload
from signing.pki import PlatformPKI

from .package_builder import build_package, flip_in_first_segment

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.timeout(90)]


def _file(directory: Path, data: bytes) -> Path:
    """The upload as the endpoint hands it over: already streamed to a file."""
    path = directory / f"upload-{len(list(directory.iterdir()))}.zip"
    path.write_bytes(data)
    return path


async def test_an_uploaded_package_is_verified_and_a_flipped_byte_named(court_pki: PlatformPKI,
                                                                        tmp_path: Path) -> None:
    package = await build_package(court_pki, tmp_path)
    assert is_zip(package) and not is_zip(b"%PDF-1.7")
    report = await verify_recording_upload(_file(tmp_path, package), [court_pki.root_cert])
    assert report["kind"] == "recording_package" and report["ok"], report["findings"]
    assert report["segments"] >= 4 and report["stamps"] and all(s["ok"] for s in report["stamps"])

    flipped, key = flip_in_first_segment(package)
    report = await verify_recording_upload(_file(tmp_path, flipped), [court_pki.root_cert])
    assert not report["ok"]
    (finding,) = report["findings"]
    track = key.split("/")[1]
    assert (finding["code"], finding["where"]) == ("altered_file", f"track {track} segment 0")

    with pytest.raises(ApiError) as refused:  # the time limit holds
        await verify_recording_upload(_file(tmp_path, package), [court_pki.root_cert], seconds=0.000_001)
    assert (refused.value.status, refused.value.code) == (422, "verification_timeout")


async def test_what_is_not_a_recording_package_is_refused_clearly(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(ApiError) as refused:
        await verify_recording_upload(_file(tmp_path, plain.getvalue()), [])
    assert (refused.value.status, refused.value.code) == (422, "bad_recording_package")

    with pytest.raises(ApiError) as refused:
        await verify_recording_upload(_file(tmp_path, b"PK\x03\x04 broken"), [])
    assert refused.value.code == "bad_recording_package"

    monkeypatch.setattr(recording_upload, "MAX_UNPACKED_BYTES", 1_000_000)  # the real bound is GiBs
    bomb = io.BytesIO()  # zeros compress to almost nothing: a small upload that unpacks to more
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("0.webm", bytes(2_000_000))
    assert len(bomb.getvalue()) < 10_000
    with pytest.raises(ApiError) as refused:
        await verify_recording_upload(_file(tmp_path, bomb.getvalue()), [])
    assert refused.value.code == "package_too_large"


def test_every_finding_code_has_a_text_in_both_languages() -> None:
    codes = set(re.findall(r'\.add\("([a-z_]+)"', (REPO / "recordings" / "verify.py").read_text()))
    errors = {"bad_recording_package", "package_too_large", "verification_timeout"}
    assert {"altered_file", "missing_file", "swapped_file", "stamp_mismatch"} <= codes
    findings = (REPO / "web_client" / "js" / "verify" / "messages.js").read_text().split("\n  en: {")
    shared = (REPO / "web_client" / "js" / "error_messages.js").read_text().split("\n  en: {")  # every page's
    for page_table, shared_table in zip(findings, shared, strict=True):
        assert {c for c in codes if f'"finding.{c}":' not in page_table} == set()
        assert {c for c in errors if f'"error.{c}":' not in shared_table} == set()
