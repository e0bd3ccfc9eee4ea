"""An upload streamed to a private temporary file (0600, under the data directory's ``tmp``) instead
of memory: its first bytes decide its size limit (a PDF's is small, a recording package's large), and
one byte past that limit is a 413 ``too_large``. The file is removed when the caller is done."""

from __future__ import annotations

import asyncio
import os
import tempfile
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable

from .errors import ApiError

#: Enough of the start of a file to tell its kind by its magic bytes.
HEAD_BYTES = 8
_READ = 256 * 1024
#: Bytes gathered before one write to disk (in a worker thread, never on the event loop).
_FLUSH = 4 * 1024 * 1024


@dataclass(frozen=True)
class Spooled:
    path: Path
    head: bytes
    size: int


def too_large(limit: int) -> ApiError:
    return ApiError(413, "too_large", f"the file is larger than {limit} bytes", {"limit": limit})


def clear_stale(directory: Path) -> None:
    """Remove uploads a killed process left behind (at start-up, before any request is taken)."""
    for stale in directory.glob("upload-*"):
        stale.unlink(missing_ok=True)


def _private_file(directory: Path) -> tuple[int, Path]:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, name = tempfile.mkstemp(prefix="upload-", dir=directory)  # mkstemp creates it 0600
    return fd, Path(name)


async def _start(read: Callable[[int], Awaitable[bytes]]) -> bytearray:
    """The first chunks, until there are enough bytes to tell the kind (or the body ends)."""
    start = bytearray()
    while len(start) < HEAD_BYTES and (chunk := await read(_READ)):  # a multipart reader needs whole chunks
        start += chunk
    return start


@asynccontextmanager
async def spooled(read: Callable[[int], Awaitable[bytes]], directory: Path,
                  limit_for: Callable[[bytes], int]) -> AsyncIterator[Spooled]:
    """Stream ``read`` into a private file in ``directory``; ``limit_for(head)`` bounds its size."""
    fd, path = await asyncio.to_thread(_private_file, directory)
    try:
        with os.fdopen(fd, "wb") as out:
            pending = await _start(read)
            head = bytes(pending[:HEAD_BYTES])
            limit = limit_for(head)
            size = len(pending)
            while size <= limit and (chunk := await read(_READ)):
                size += len(chunk)
                pending += chunk
                if len(pending) >= _FLUSH:
                    await asyncio.to_thread(out.write, bytes(pending))
                    pending.clear()
            if size > limit:
                raise too_large(limit)
            await asyncio.to_thread(out.write, bytes(pending))
        yield Spooled(path, head, size)
    finally:
        path.unlink(missing_ok=True)
