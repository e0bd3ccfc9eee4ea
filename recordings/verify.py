"""Checking a recording: its files against the manifest, the hash chain, every time stamp, and
(on the server) the manifest against the hash the case's audit trail recorded.

Each finding names what is wrong and where (track, segment, chain position, stamp) so a court
can tell a missing segment from an altered one, a swapped one or a rewritten chain. Works from
the recording storage (``accord recordings verify SESSION``) or from a downloaded package
(``--package ZIP``: ``manifest.json`` plus the files under their keys), without a network.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from asn1crypto import x509 as asn1_x509

from mediation.errors import InvalidInput

from . import chain
from .manifest import manifest_bytes, manifest_key
from .package import PACKAGE_MANIFEST
from .stamps import check_token
from .storage import RecordingStorage, sha256_of
from .store import RecordingStore

MAX_MANIFEST_BYTES = 64 * 1024 * 1024

#: Opens a file of the recording by key, or ``None`` when there is no such file.
FileOpener = Callable[[str], BinaryIO | None]


@dataclass(frozen=True)
class Finding:
    code: str
    where: str
    message: str


@dataclass(frozen=True)
class StampCheck:
    position: int
    time: str | None
    tsa: str | None
    final: bool
    ok: bool


@dataclass
class RecordingReport:
    session_id: str
    state: str | None
    manifest_sha256: str | None
    segments: int = 0
    chain_length: int = 0
    stamps: list[StampCheck] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, code: str, where: str, message: str) -> None:
        self.findings.append(Finding(code, where, message))

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def _seconds(us: int | None) -> str:
    return "?" if us is None else f"{us / 1e6:.3f} s"


def _digest(open_file: FileOpener, key: str) -> tuple[str, int] | None:
    handle = open_file(key)
    if handle is None:
        return None
    with handle:
        return sha256_of(handle)


async def verify_manifest(manifest: dict[str, Any], open_file: FileOpener,
                          trust_roots: list[asn1_x509.Certificate], *, manifest_sha256: str | None = None
                          ) -> RecordingReport:
    """Check the files, chain and stamps a manifest describes."""
    session = manifest.get("session", {})
    report = RecordingReport(session.get("id", "?"), session.get("state"), manifest_sha256)
    keys = [s["path"] for t in manifest.get("tracks", []) for s in t.get("segments", [])]
    keys += [t["joined"]["path"] for t in manifest.get("tracks", []) if t.get("joined")]
    keys += [manifest["composite"]["path"]] if manifest.get("composite") else []
    # hashing gigabytes is not work for the event loop
    digests = await asyncio.to_thread(lambda: {key: _digest(open_file, key) for key in keys})
    segments: dict[tuple[str, int], dict[str, Any]] = {}
    by_sha: dict[str, tuple[str, int]] = {}
    for track in manifest.get("tracks", []):
        _check_track(report, track, digests, segments, by_sha)
    _check_chain(report, manifest.get("chain", {}), segments)
    await _check_stamps(report, manifest, trust_roots)
    composite = manifest.get("composite")
    if composite:
        found = digests[composite["path"]]
        if found is None:
            report.add("missing_file", "composite", f"the review composite {composite['path']} is missing")
        elif found[0] != composite["sha256"]:
            report.add("altered_file", "composite", "the review composite does not match its hash in the manifest")
    return report


def _check_track(report: RecordingReport, track: dict[str, Any], digests: dict[str, tuple[str, int] | None],
                 segments: dict[tuple[str, int], dict[str, Any]], by_sha: dict[str, tuple[str, int]]) -> None:
    track_id = track["id"]
    entries = track.get("segments", [])
    for expected, segment in enumerate(entries):
        if segment["index"] != expected:
            report.add("segment_missing", f"track {track_id} segment {expected}",
                       f"segment {expected} of track {track_id} ({track['seat']} {track['kind']}) is not in the "
                       f"manifest: the next one listed is {segment['index']}")
            break
    starts = [s["start_us"] for s in entries]
    if starts != sorted(starts):
        report.add("out_of_order", f"track {track_id}", f"the segments of track {track_id} are not in time order")
    for segment in entries:
        segments[(track_id, segment["index"])] = segment
        by_sha.setdefault(segment["sha256"], (track_id, segment["index"]))
    for segment in entries:
        report.segments += 1
        where = f"track {track_id} segment {segment['index']}"
        span = f"{_seconds(segment['start_us'])}–{_seconds(segment['end_us'])}"
        found = digests[segment["path"]]
        if found is None:
            report.add("missing_file", where, f"the file of segment {segment['index']} of track {track_id} "
                                              f"({track['seat']} {track['kind']}, {span}) is missing: {segment['path']}")
        elif found[0] != segment["sha256"]:
            other = by_sha.get(found[0])
            if other is not None:
                report.add("swapped_file", where, f"the file of segment {segment['index']} of track {track_id} ({span}) "
                                                  f"holds the content of segment {other[1]} of track {other[0]}")
            else:
                report.add("altered_file", where, f"the file of segment {segment['index']} of track {track_id} "
                                                  f"({span}) was altered: SHA-256 {found[0]} instead of "
                                                  f"{segment['sha256']} ({found[1]} bytes, {segment['size']} recorded)")
    joined = track.get("joined")
    if joined:
        found = digests[joined["path"]]
        if found is not None and found[0] != joined["sha256"]:
            report.add("altered_file", f"track {track_id} joined", f"the joined file of track {track_id} does not "
                                                                   f"match its hash in the manifest")


def _check_chain(report: RecordingReport, manifest_chain: dict[str, Any],
                 segments: dict[tuple[str, int], dict[str, Any]]) -> None:
    links = [chain.ChainLink(e["position"], e["track_id"], e["index"], e["segment_sha256"], e["prev_hash"],
                             e["chain_hash"]) for e in manifest_chain.get("entries", [])]
    report.chain_length = len(links)
    for problem in chain.check(links):
        report.add("chain_broken", f"chain position {problem.position}", problem.reason)
    chained: set[tuple[str, int]] = set()
    for entry in links:
        key = (entry.track_id, entry.index)
        chained.add(key)
        segment = segments.get(key)
        if segment is None:
            report.add("segment_missing", f"chain position {entry.position}",
                       f"the chain lists segment {entry.index} of track {entry.track_id}, which the manifest "
                       f"does not: it was removed")
        elif segment["sha256"] != entry.segment_sha256:
            report.add("chain_mismatch", f"track {entry.track_id} segment {entry.index}",
                       f"segment {entry.index} of track {entry.track_id} has another hash in the manifest than the "
                       f"chain fixed at position {entry.position}")
    for key in sorted(set(segments) - chained):
        report.add("not_chained", f"track {key[0]} segment {key[1]}",
                   f"segment {key[1]} of track {key[0]} is not in the hash chain (added afterwards)")
    head = links[-1].chain_hash if links else None
    if manifest_chain.get("head") != head:
        report.add("chain_broken", "chain head", "the manifest's chain head is not the last entry's hash")


async def _check_stamps(report: RecordingReport, manifest: dict[str, Any],
                        trust_roots: list[asn1_x509.Certificate]) -> None:
    entries = manifest.get("chain", {}).get("entries", [])
    heads = {0: chain.GENESIS, **{e["position"]: e["chain_hash"] for e in entries}}
    stamps = manifest.get("stamps", [])
    for number, stamp in enumerate(stamps, start=1):
        where = f"stamp {number} (chain position {stamp['position']})"
        result = await check_token(base64.b64decode(stamp["token"]), stamp["chain_head"], trust_roots)
        report.stamps.append(StampCheck(stamp["position"], result.time.isoformat() if result.time else None,
                                        result.tsa, bool(stamp.get("final")), result.ok))
        if not result.ok:
            report.add("stamp_invalid", where, f"time stamp {number}: {result.reason}")
        if heads.get(stamp["position"]) != stamp["chain_head"]:
            report.add("stamp_mismatch", where, f"the chain head stamped at {stamp.get('time')} is not the chain's "
                                                f"head at position {stamp['position']}: the chain was rewritten after "
                                                f"it was time-stamped")
    if report.state in ("finished", "interrupted"):
        final = [s for s in stamps if s.get("final")]
        if not final:
            report.add("not_stamped", "chain head", "the ended recording has no final time stamp")
        elif final[-1]["position"] != len(entries):
            report.add("stamp_mismatch", "chain head", f"the final time stamp covers {final[-1]['position']} chain "
                                                       f"entries but the chain has {len(entries)}")


async def verify_session(store: RecordingStore, storage: RecordingStorage, session_id: str,
                         trust_roots: list[asn1_x509.Certificate]) -> RecordingReport:
    """On the server: the stored manifest against the hash the audit trail recorded, the database's
    chain against the manifest's, then everything :func:`verify_manifest` checks."""
    session = await store.session(session_id)
    key = manifest_key(session_id)
    if session.manifest_sha256 is None or not storage.exists(key):
        report = RecordingReport(session_id, session.state, None)
        report.add("no_manifest", "manifest", "the recording has no manifest yet (still recording, or not recovered)")
        return report
    raw = await asyncio.to_thread(_read_all, storage, key)
    manifest = json.loads(raw)
    sha256 = hashlib.sha256(raw).hexdigest()

    def open_stored(file_key: str) -> BinaryIO | None:
        return storage.open(file_key) if storage.exists(file_key) else None

    report = await verify_manifest(manifest, open_stored, trust_roots, manifest_sha256=sha256)
    if sha256 != session.manifest_sha256 or manifest_bytes(manifest) != raw:
        report.add("manifest_altered", "manifest", f"the stored manifest (SHA-256 {sha256}) is not the one the "
                                                   f"case's audit trail records ({session.manifest_sha256})")
    position, head = await store.chain_head(session_id)
    if (position, head) != (report.chain_length, manifest.get("chain", {}).get("head") or chain.GENESIS):
        report.add("chain_mismatch", "chain head", f"the database's chain ({position} entries, head {head}) is not "
                                                   f"the manifest's")
    return report


def _read_all(storage: RecordingStorage, key: str) -> bytes:
    with storage.open(key) as handle:
        return handle.read()


def _open_package(package: Path) -> tuple[zipfile.ZipFile, dict[str, Any], str]:
    """The open zip, its manifest and the manifest's SHA-256 (blocking: run in a worker thread)."""
    archive = zipfile.ZipFile(package)
    try:
        info = archive.getinfo(PACKAGE_MANIFEST)
        if info.file_size > MAX_MANIFEST_BYTES:
            raise _bad(f"its manifest is larger than {MAX_MANIFEST_BYTES} bytes")
        raw = archive.read(info)
        manifest = json.loads(raw)
        if not isinstance(manifest, dict):
            raise _bad("its manifest is not a JSON object")
        return archive, manifest, hashlib.sha256(raw).hexdigest()
    except BaseException:
        archive.close()
        raise


async def verify_package(package: Path, trust_roots: list[asn1_x509.Certificate]) -> RecordingReport:
    """Offline, from a downloaded package (:mod:`recordings.package`); files are hashed as they
    are read from the zip, never loaded whole. Anything that is not such a package is refused
    with ``InvalidInput`` (``bad_recording_package``)."""
    try:
        archive, manifest, manifest_sha256 = await asyncio.to_thread(_open_package, package)
        with archive:
            names = set(archive.namelist())

            def open_packaged(key: str) -> BinaryIO | None:
                return archive.open(key) if key in names and key != PACKAGE_MANIFEST else None  # type: ignore[return-value]

            return await verify_manifest(manifest, open_packaged, trust_roots,
                                         manifest_sha256=manifest_sha256)
    except InvalidInput:
        raise
    except (zipfile.BadZipFile, KeyError, TypeError, ValueError, AttributeError, OSError) as exc:
        raise _bad(f"{type(exc).__name__}: {exc}") from None


def _bad(reason: str) -> InvalidInput:
    return InvalidInput("bad_recording_package", f"this is not a readable recording package: {reason}")
