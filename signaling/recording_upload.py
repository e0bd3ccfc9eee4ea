"""A recording package uploaded to the public verification page (``POST /api/verify``): recognised
by its content (a zip, not a PDF), streamed to a private file rather than held in memory (its size
bound is the ``max_package_bytes`` setting), bounded in what it may unpack to and in time, checked offline
by :func:`recordings.verify.verify_package` (hashing in worker threads, never on the event loop)
against the platform's roots. The report names every finding by code, place and message."""

from __future__ import annotations

import asyncio
import zipfile
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from mediation.errors import InvalidInput
from recordings.verify import verify_package

from .errors import ApiError

ZIP_MAGIC = b"PK\x03\x04"
#: What an uploaded package may unpack to, and how long its check may take.
MAX_UNPACKED_BYTES = 2 * 1024**3
MAX_MEMBERS = 10_000
VERIFY_SECONDS = 120.0


def is_zip(data: bytes) -> bool:
    return data.startswith(ZIP_MAGIC)


def _check_bounds(path: Path) -> None:
    """Refuse a zip that is unreadable or unpacks to too much (a zip bomb) before it is checked."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise InvalidInput("bad_recording_package", f"this is not a readable recording package: {exc}") from None
    if len(infos) > MAX_MEMBERS or sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
        raise InvalidInput("package_too_large", f"the package unpacks to more than {MAX_UNPACKED_BYTES} bytes "
                                                f"or {MAX_MEMBERS} files")


async def verify_recording_upload(path: Path, roots: list[x509.Certificate],
                                  seconds: float = VERIFY_SECONDS) -> dict[str, Any]:
    """The report of an uploaded recording package at ``path`` (``kind: recording_package``)."""
    trust = [asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER)) for cert in roots]
    try:
        await asyncio.to_thread(_check_bounds, path)
        report = await asyncio.wait_for(verify_package(path, trust), seconds)
    except InvalidInput as exc:
        raise ApiError(422, exc.code, exc.message) from None
    except TimeoutError:
        raise ApiError(422, "verification_timeout",
                       f"the package could not be checked within {seconds:.0f} s") from None
    return {"kind": "recording_package", **report.as_dict()}
