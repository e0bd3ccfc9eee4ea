"""``verify``: an untouched recording passes; a flipped byte, a removed segment, two swapped
segments and a rewritten chain are each reported precisely, on the server and from a package."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from mediation.audit import read_trail
from mediation.services import MediationServices
from recordings import chain
from recordings.manifest import manifest_bytes, manifest_key
from recordings.package import PACKAGE_MANIFEST, write_package
from recordings.session_recorder import RecorderSettings
from recordings.storage import LocalRecordingStorage
from recordings.verify import RecordingReport, verify_package, verify_session
from signing.pki import PlatformPKI
from signing.verification import _as_asn1
from tests.mediation.doubles import MemorySms

from .media import start_recorder
from .synthetic import SyntheticSource

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.timeout(90), pytest.mark.parametrize("engine", ["sqlite"], indirect=True)]


def _codes(report: RecordingReport) -> list[tuple[str, str]]:
    return [(f.code, f.where) for f in report.findings]


def _rewrite(package: Path, target: Path, *, manifest: dict[str, Any] | None = None,
             files: dict[str, bytes | None] | None = None) -> Path:
    """A copy of ``package`` with the manifest replaced and files replaced (or removed: ``None``)."""
    files = files or {}
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(target, "w") as out:
        for name in source.namelist():
            if name == PACKAGE_MANIFEST and manifest is not None:
                out.writestr(name, manifest_bytes(manifest))
            elif name in files:
                if files[name] is not None:
                    out.writestr(name, files[name])  # type: ignore[arg-type]
            else:
                out.writestr(name, source.read(name))
    return target


async def _cli(data_dir: Path, *args: str) -> tuple[int, str]:
    """``accord --data-dir DATA_DIR ...`` as a child process running this worktree's code."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "signaling.cli", "--data-dir", str(data_dir), *args, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=asyncio.subprocess.PIPE)
    output = (await child.communicate())[0].decode()
    code = await child.wait()
    return code, ("INTACT" if code == 0 and ": INTACT" in output else output)


def _rechain(manifest: dict[str, Any]) -> None:
    """What a forger does after changing segments: recompute every chain entry and the head."""
    segments = {(t["id"], s["index"]): s for t in manifest["tracks"] for s in t["segments"]}
    prev, entries = chain.GENESIS, []
    for entry in manifest["chain"]["entries"]:
        segment = segments.get((entry["track_id"], entry["index"]))
        if segment is None:
            continue
        digest = chain.link(prev, segment["sha256"], entry["track_id"], entry["index"])
        entries.append({**entry, "position": len(entries) + 1, "segment_sha256": segment["sha256"],
                        "prev_hash": prev, "chain_hash": digest})
        prev = digest
    manifest["chain"].update(entries=entries, length=len(entries), head=prev)


async def test_verify_reports_exactly_what_was_changed(services: MediationServices, sms: MemorySms,
                                                       court_pki: PlatformPKI, tmp_path: Path) -> None:
    root = tmp_path / "recordings"  # where ``accord --data-dir tmp_path`` looks (the database is there too)
    recorder, alice = await start_recorder(services, sms, court_pki, root, SyntheticSource(),
                                           RecorderSettings(segment_seconds=0.7, stamp_interval_seconds=1.0))
    await recorder.record(alice)
    await asyncio.sleep(3.2)
    manifest = await recorder.stop()
    session_id, store, storage = recorder.session.id, recorder.store, LocalRecordingStorage(root)
    roots = [_as_asn1(court_pki.root_cert)]
    finals = [s["final"] for s in manifest["stamps"]]
    assert finals[-1] and not any(finals[:-1]) and len(finals) >= 2  # periodic (every second here), then final

    report = await verify_session(store, storage, session_id, roots)
    assert report.ok, report.findings
    assert report.segments == manifest["chain"]["length"] >= 6 and all(s.ok for s in report.stamps)
    trail = await read_trail(services.db, manifest["session"]["case_id"])
    assert trail[-1].action == "recording.manifest" and trail[-1].payload["sha256"] == report.manifest_sha256

    package = tmp_path / "recording.zip"
    await asyncio.to_thread(write_package, storage, session_id, package)
    assert (await verify_package(package, roots)).ok
    trust = str(court_pki.directory / "root.crt")
    assert await _cli(tmp_path, "recordings", "verify", session_id, "--trust", trust) == (0, "INTACT")
    assert await _cli(tmp_path, "recordings", "verify", session_id, "--package", str(package), "--trust", trust) \
        == (0, "INTACT")

    video = next(t for t in manifest["tracks"] if t["kind"] == "video")
    first, second = video["segments"][1], video["segments"][2]
    tid = video["id"]
    raw = {name: zipfile.ZipFile(package).read(name) for name in (first["path"], second["path"])}

    # a flipped byte in a segment
    flipped = bytearray(raw[first["path"]])
    flipped[len(flipped) // 2] ^= 0x01
    report = await verify_package(_rewrite(package, tmp_path / "flip.zip", files={first["path"]: bytes(flipped)}),
                                  roots)
    assert _codes(report) == [("altered_file", f"track {tid} segment 1")]
    assert "was altered" in report.findings[0].message

    # a removed segment file
    report = await verify_package(_rewrite(package, tmp_path / "gone.zip", files={second["path"]: None}), roots)
    assert _codes(report) == [("missing_file", f"track {tid} segment 2")]

    # two segments swapped
    swapped = _rewrite(package, tmp_path / "swap.zip", files={first["path"]: raw[second["path"]],
                                                               second["path"]: raw[first["path"]]})
    report = await verify_package(swapped, roots)
    assert _codes(report) == [("swapped_file", f"track {tid} segment 1"), ("swapped_file", f"track {tid} segment 2")]
    assert "holds the content of segment 2" in report.findings[0].message

    # a segment removed from the manifest and the chain recomputed: the time stamps no longer match
    forged = json.loads(manifest_bytes(manifest))
    forged_video = next(t for t in forged["tracks"] if t["id"] == tid)
    forged_video["segments"] = [s for s in forged_video["segments"] if s["index"] != 1]
    _rechain(forged)
    report = await verify_package(_rewrite(package, tmp_path / "cut.zip", manifest=forged), roots)
    codes = {code for code, _ in _codes(report)}
    assert ("segment_missing", f"track {tid} segment 1") in _codes(report)
    assert "stamp_mismatch" in codes and "chain_broken" not in codes

    # a forged chain head: a replaced segment, the chain recomputed and the stamps' heads edited to
    # match — the tokens' imprints no longer do
    forged = json.loads(manifest_bytes(manifest))
    forged_video = next(t for t in forged["tracks"] if t["id"] == tid)
    forged_video["segments"][1]["sha256"] = "ab" * 32
    _rechain(forged)
    heads = {0: chain.GENESIS, **{e["position"]: e["chain_hash"] for e in forged["chain"]["entries"]}}
    for stamp in forged["stamps"]:
        stamp["chain_head"] = heads[stamp["position"]]
    report = await verify_package(_rewrite(package, tmp_path / "head.zip", manifest=forged), roots)
    invalid = [f for f in report.findings if f.code == "stamp_invalid"]
    assert invalid and all("does not cover this chain head" in f.message for f in invalid)
    assert ("altered_file", f"track {tid} segment 1") in _codes(report)
    assert not [f for f in report.findings if f.code in ("chain_broken", "stamp_mismatch")]

    # on the server: a flipped byte in the stored file, and a stored manifest that is not the audited one
    path = root / first["path"]
    path.write_bytes(bytes(flipped))
    report = await verify_session(store, storage, session_id, roots)
    assert _codes(report) == [("altered_file", f"track {tid} segment 1")]
    code, output = await _cli(tmp_path, "recordings", "verify", session_id, "--trust", trust)
    assert code == 1 and f"! altered_file [track {tid} segment 1]" in output
    path.write_bytes(raw[first["path"]])
    stored = root / manifest_key(session_id)
    edited = json.loads(stored.read_bytes())
    edited["participants"][0]["consent"] = "refused"
    stored.write_bytes(manifest_bytes(edited))
    assert ("manifest_altered", "manifest") in _codes(await verify_session(store, storage, session_id, roots))

    # a token from another platform's TSA is not trusted
    other = PlatformPKI.init(tmp_path / "other-pki", "other-passphrase", "http://other.test", "Other")
    report = await verify_package(package, [_as_asn1(other.root_cert)])
    assert report.findings and {f.code for f in report.findings} == {"stamp_invalid"}
    assert "trusted root" in report.findings[0].message
    assert base64.b64decode(manifest["stamps"][0]["token"])  # tokens are carried in the manifest
    shutil.rmtree(root)
