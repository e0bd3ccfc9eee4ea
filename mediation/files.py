"""Uploaded documents (evidence, powers of attorney, counselling material), kept by content hash.

The SHA-256 recorded at upload is what the audit trail, the court materials and the case
package cite, so a later change to a file on disk is detectable.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidInput

MAX_NAME = 200
#: The only kinds of file a browser is asked to show itself, recognised by their first bytes, never
#: by the name or the type the uploader claimed (an HTML page named ``evidence.pdf`` is neither).
INLINE_SIGNATURES = ((b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
                     (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"))


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    relative_path: str


class FileStore:
    """Content-addressed files under ``root`` (``<data_dir>/case-files``)."""

    def __init__(self, root: Path, max_bytes: int):
        self.root = root
        self.max_bytes = max_bytes

    async def put(self, data: bytes) -> StoredBlob:
        if not data:
            raise InvalidInput("empty_file", "the uploaded file is empty")
        if len(data) > self.max_bytes:
            raise InvalidInput("file_too_large", f"files are limited to {self.max_bytes} bytes",
                               {"limit": self.max_bytes})
        digest = await asyncio.to_thread(lambda: hashlib.sha256(data).hexdigest())  # up to max_bytes: off the loop
        relative = f"{digest[:2]}/{digest}"
        await asyncio.to_thread(self._write, self.root / relative, data)
        return StoredBlob(digest, len(data), relative)

    async def read(self, relative_path: str) -> bytes:
        return await asyncio.to_thread(self.path(relative_path).read_bytes)

    def path(self, relative_path: str) -> Path:
        """Where a stored file lies, for streaming it without reading it into memory."""
        return self.root / relative_path

    async def inline_type(self, relative_path: str) -> str | None:
        """The media type to show a stored file as, if its content is a PDF or a plain raster image
        (:data:`INLINE_SIGNATURES`); ``None`` for anything else, which is only ever downloaded."""
        head = await asyncio.to_thread(self._head, self.path(relative_path))
        return next((media_type for magic, media_type in INLINE_SIGNATURES if head.startswith(magic)), None)

    @staticmethod
    def _head(path: Path) -> bytes:
        with path.open("rb") as fh:
            return fh.read(16)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        tmp.replace(path)


def clean_file_name(name: str) -> str:
    """A display name for an upload: no path parts, bounded length."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not base:
        raise InvalidInput("invalid_file_name", "the file needs a name")
    if "\x00" in base:
        raise InvalidInput("invalid_file_name", "file names may not contain NUL characters")
    if len(base) > MAX_NAME:
        raise InvalidInput("invalid_file_name", f"file names are limited to {MAX_NAME} characters")
    return base
