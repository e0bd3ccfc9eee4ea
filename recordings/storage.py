"""Where recording files live: a small interface so an object store can replace the local
directory later. Keys are relative paths (``<session>/<track>/00003.webm``).

Writers (muxing in a worker thread) write to a local *spool* path and then ``commit`` it: the
local store renames it into place (so a file under its final key is always complete); an object
store would upload it there. Everything here is blocking: call it from worker threads.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import BinaryIO, Protocol

PART = ".part"
CLAIMED = ".crashed"
_KEY = re.compile(r"[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*\.[a-z0-9]+")
_CHUNK = 1 << 20


class RecordingStorage(Protocol):
    def spool(self, key: str) -> Path:
        """An empty local file (0600) to write ``key``'s content into before ``commit``."""
        ...

    def commit(self, key: str, *, replace: bool = False) -> tuple[str, int]:
        """Make the spooled file durable under ``key``; its SHA-256 and size. A file already
        under ``key`` is never overwritten (``FileExistsError``) unless ``replace``: recorded
        media is written once."""
        ...

    def spooled(self, prefix: str) -> list[str]:
        """Keys under ``prefix`` whose spool file was left uncommitted (a crash)."""
        ...

    def keys(self, prefix: str) -> list[str]:
        ...

    def exists(self, key: str) -> bool:
        ...

    def open(self, key: str) -> BinaryIO:
        ...

    def local_path(self, key: str) -> Path:
        """A local file with ``key``'s content (for demuxing, range-request serving)."""
        ...

    def discard_spool(self, key: str) -> None:
        ...

    def write_bytes(self, key: str, data: bytes) -> tuple[str, int]:
        ...

    def claim_spool(self, key: str) -> Path | None:
        """Move an uncommitted spool file (a crash) aside for salvage; its local path."""
        ...

    def drop_claimed(self, key: str) -> None:
        ...

    def delete(self, key: str) -> None:
        ...


def check_key(key: str) -> str:
    if not _KEY.fullmatch(key) or ".." in key:
        raise ValueError(f"not a recording storage key: {key!r}")
    return key


def sha256_of(handle: BinaryIO) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := handle.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


class LocalRecordingStorage:
    """Files under ``root`` (``<data_dir>/recordings``), directories 0700, files 0600."""

    def __init__(self, root: Path):
        self.root = root

    def spool(self, key: str) -> Path:
        path = self._path(key).with_name(self._path(key).name + PART)
        self._make_dirs(path.parent)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        return path

    def commit(self, key: str, *, replace: bool = False) -> tuple[str, int]:
        final = self._path(key)
        part = final.with_name(final.name + PART)
        with part.open("rb") as handle:
            digest, size = sha256_of(handle)
            os.fsync(handle.fileno())
        if replace:
            part.replace(final)
        else:
            os.link(part, final)  # fails if ``final`` exists: no segment is ever overwritten
            part.unlink()
        _fsync_dir(final.parent)
        return digest, size

    def spooled(self, prefix: str) -> list[str]:
        base = self._path_dir(prefix)
        if not base.is_dir():
            return []
        return sorted({str(p.relative_to(self.root))[: -len(p.suffix)] for suffix in (PART, CLAIMED)
                       for p in base.rglob(f"*{suffix}")})

    def keys(self, prefix: str) -> list[str]:
        base = self._path_dir(prefix)
        if not base.is_dir():
            return []
        return sorted(str(p.relative_to(self.root)) for p in base.rglob("*")
                      if p.is_file() and p.suffix not in (PART, CLAIMED))

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def local_path(self, key: str) -> Path:
        return self._path(key)

    def discard_spool(self, key: str) -> None:
        final = self._path(key)
        final.with_name(final.name + PART).unlink(missing_ok=True)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def claim_spool(self, key: str) -> Path | None:
        final = self._path(key)
        part, claimed = final.with_name(final.name + PART), final.with_name(final.name + CLAIMED)
        if part.exists():
            part.replace(claimed)
        return claimed if claimed.exists() else None

    def drop_claimed(self, key: str) -> None:
        final = self._path(key)
        final.with_name(final.name + CLAIMED).unlink(missing_ok=True)

    def write_bytes(self, key: str, data: bytes) -> tuple[str, int]:
        """Small files that are rewritten (the manifest): spool, write, commit over the old one."""
        with self.spool(key).open("wb") as handle:
            handle.write(data)
        return self.commit(key, replace=True)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _make_dirs(self, directory: Path) -> None:
        """The root and every directory under it 0700 (``mkdir(parents=True)`` would give the
        parents the umask's mode)."""
        missing = []
        while not directory.is_dir():
            missing.append(directory)
            if directory == self.root:
                break
            directory = directory.parent
        for path in reversed(missing):
            path.mkdir(mode=0o700, parents=path == self.root, exist_ok=True)

    def _path_dir(self, prefix: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*", prefix):
            raise ValueError(f"not a recording storage prefix: {prefix!r}")
        return self.root / prefix


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
