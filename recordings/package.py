"""A recording package: the zip a download gives and ``accord recordings verify --package``
checks offline — ``manifest.json`` (the stored bytes whose hash the audit trail records) and
every file the manifest lists, under its key."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

from .manifest import manifest_key
from .storage import RecordingStorage

PACKAGE_MANIFEST = "manifest.json"


def package_keys(manifest: dict) -> list[str]:  # type: ignore[type-arg]
    keys = []
    for track in manifest.get("tracks", []):
        keys += [s["path"] for s in track.get("segments", [])]
        if track.get("joined"):
            keys.append(track["joined"]["path"])
    if manifest.get("composite"):
        keys.append(manifest["composite"]["path"])
    return keys


def write_package(storage: RecordingStorage, session_id: str, destination: Path) -> None:
    """Blocking (file copying): call from a worker thread. Media is stored, not recompressed."""
    with storage.open(manifest_key(session_id)) as handle:
        raw = handle.read()
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(PACKAGE_MANIFEST, raw)
        for key in package_keys(json.loads(raw)):
            if storage.exists(key):
                with storage.open(key) as source, archive.open(key, "w", force_zip64=True) as target:
                    shutil.copyfileobj(source, target, 1 << 20)
