"""The public verifier: a signed agreement PDF or a recording package zip in, the report out.
Each check runs in a child process with limits, a few at a time (:data:`CONCURRENT_VERIFICATIONS`).
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

from aiohttp import BodyPartReader, web

from identity.attestation_review import review_attestations
from signing.case_match import match_to_platform
from signing.verification import MAX_PDF_BYTES, VerificationError, verify_upload_safely

from ..auth import PUBLIC
from ..config import Settings
from ..errors import ApiError
from ..openapi import api
from ..recording_upload import is_zip, verify_recording_upload
from ..upload_spool import clear_stale, spooled
from .agreements import AGREEMENT_SETTINGS_KEY, CEREMONY_KEY, GATE_KEY, STORE_KEY, TAG

VERIFY_SLOTS_KEY = web.AppKey("verify_slots", asyncio.Semaphore)
#: Verifications running at once: each is a child process, and the verifier is public.
CONCURRENT_VERIFICATIONS = 2
#: Room for a multipart envelope around the file.
_ENVELOPE = 64 * 1024


def setup_verification(app: web.Application, settings: Settings) -> None:
    """Clear uploads a killed process left behind and bound the verifications running at once.
    Call after :func:`.agreements.setup_agreements`."""
    clear_stale(settings.data_dir / "tmp")
    app[VERIFY_SLOTS_KEY] = asyncio.Semaphore(CONCURRENT_VERIFICATIONS)


def _pdf_limit(settings: Settings) -> int:
    return min(settings.max_upload_bytes, MAX_PDF_BYTES)


def _verify_body_limit(app: web.Application) -> int:
    """The largest body ``/api/verify`` reads: a recording package's limit (a PDF's is smaller)."""
    settings = app[AGREEMENT_SETTINGS_KEY]
    return max(_pdf_limit(settings), settings.max_package_bytes) + _ENVELOPE


async def _upload_reader(request: web.Request) -> Callable[[int], Awaitable[bytes]]:
    """How to read the uploaded file: the raw body, or the form field ``file``."""
    if request.content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            if isinstance(part, BodyPartReader) and part.name == "file":
                return part.read_chunk
        raise ApiError(400, "no_file", "send the PDF in a form field named 'file'")
    if request.content_type not in ("application/pdf", "application/octet-stream", "application/zip"):
        raise ApiError(415, "unsupported_media_type",
                       "send the PDF as application/pdf or as multipart/form-data field 'file'")
    return request.content.read


@api.route("POST", "/api/verify", summary="Verify a signed agreement PDF or a recording package zip (public)",
           allow=PUBLIC, tag=TAG,
           raw_body=True, content_type="application/pdf", max_body_of=_verify_body_limit)
async def verify_upload(request: web.Request, _: None) -> dict[str, Any]:
    """Every signature, the document timestamps, the expected fields and the verdict. The check runs
    in a child process with time and memory limits: a malformed or hostile file cannot hurt the server.
    Each signature citing identity attestations gets ``attestations``, one per check that allowed it
    (status ``valid``, ``missing``, ``invalid`` or ``mismatched``, reason codes, methods, verdict,
    scores and thresholds, challenges, time), checked here against the blobs stored with the case. ``platform`` matches the file to its agreement and case here (ids, statuses and hashes only), by
    the revision hashes the child computed. The body is streamed to a private temporary file: a
    PDF may be at most ``min(max_upload_bytes, 20 MiB)``, a recording package zip (recognised by its
    first bytes) at most ``max_package_bytes``; ``x-max-body-bytes`` is the larger plus a form envelope."""
    settings = request.app[AGREEMENT_SETTINGS_KEY]

    def limit_for(head: bytes) -> int:
        return settings.max_package_bytes if is_zip(head) else _pdf_limit(settings)

    read = await _upload_reader(request)
    async with spooled(read, settings.data_dir / "tmp", limit_for) as upload:
        if not upload.size:
            raise ApiError(400, "empty_upload", "the upload is empty")
        roots = await asyncio.to_thread(request.app[CEREMONY_KEY].seals.trusted_roots)
        if is_zip(upload.head):  # a downloaded recording package, recognised by its content
            async with request.app[VERIFY_SLOTS_KEY]:
                return await verify_recording_upload(upload.path, roots)
        pdf = await asyncio.to_thread(upload.path.read_bytes)  # at most the PDF limit
    async with request.app[VERIFY_SLOTS_KEY]:
        try:
            verified = await asyncio.to_thread(verify_upload_safely, pdf, roots)
        except VerificationError as exc:
            raise ApiError(422, "unverifiable_pdf", str(exc)) from None
        verified.report.platform = await match_to_platform(pdf, request.app[STORE_KEY].locked_with,
                                                           prefixes=verified.prefix_hashes)
    # The attestations cited by the signatures, from the database (never in the sandboxed child):
    # an agreement of this platform must find each of them here.
    await review_attestations(verified.report, request.app[GATE_KEY].attestations, roots,
                              required=verified.report.platform.found, case_id=verified.report.platform.case_id)
    return verified.report.to_dict()
