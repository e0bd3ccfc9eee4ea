"""HTTP face of the platform PKI: the RFC 3161 time-stamping endpoint and CRL/certificate downloads.

All public: relying parties (courts, pdfsig, Acrobat) fetch these without an account. The URLs
are the ones baked into issued certificates (CRL distribution point, AIA caIssuers).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from pyhanko.sign.timestamps import TimeStamper

from signing.pki import PUBLISHED_FILES, PKIError, PlatformPKI
from signing.ruling import CourtRulingSigner
from signing.seals import SealRegistry
from signing.tsa import MAX_REQUEST_BYTES, InProcessTimeStamper, TimeStampAuthority, external_timestamper

from ..auth import PUBLIC
from ..config import PKI_PASSPHRASE_SECRET, Settings, ensure_secret, pki_directory, refuse_passphrase_beside_keys
from ..errors import ApiError
from ..openapi import api

PKI_KEY = web.AppKey("pki", PlatformPKI)
TSA_KEY = web.AppKey("tsa", TimeStampAuthority)

_CONTENT_TYPES = {".crt": "application/pkix-cert", ".crl": "application/pkix-crl"}


def pki_passphrase(settings: Settings) -> str:
    """``ACCORD_KEY_PASSPHRASE`` (or ``_FILE``); development falls back to a generated secret file."""
    if settings.environment == "production":
        refuse_passphrase_beside_keys(settings)
    if settings.key_passphrase:
        return settings.key_passphrase
    if settings.environment == "production":
        raise PKIError("production needs ACCORD_KEY_PASSPHRASE or ACCORD_KEY_PASSPHRASE_FILE for the PKI keys")
    return ensure_secret(settings, PKI_PASSPHRASE_SECRET).hex()


def open_platform_pki(settings: Settings, org_name: str = "Accord Development") -> PlatformPKI:
    """Load the PKI from the data directory; in development create one on first start."""
    directory = pki_directory(settings)
    passphrase = pki_passphrase(settings)
    if PlatformPKI.exists(directory):
        return PlatformPKI.load(directory, passphrase)
    if settings.environment == "production":
        raise PKIError(f"no PKI in {directory}: run `accord pki init` or `accord pki import`")
    return PlatformPKI.init(directory, passphrase, settings.base_url, org_name)


def install_pki(app: web.Application, pki: PlatformPKI) -> None:
    """What the app factory calls once the PKI is loaded."""
    app[PKI_KEY] = pki
    app[TSA_KEY] = TimeStampAuthority(pki)


def platform_timestamper(settings: Settings, authority: TimeStampAuthority) -> TimeStamper:
    """The TSA signatures get their timestamps from: the configured external one, else the platform's own."""
    return external_timestamper(settings.tsa_url) if settings.tsa_url else InProcessTimeStamper(authority)


def court_ruling_signer(settings: Settings, pki: PlatformPKI) -> CourtRulingSigner:
    """What judges' rulings are signed with: each court's certificate from this PKI (a TSA object
    of its own is fine: the TSA's serial numbers are kept in a locked file)."""
    return CourtRulingSigner(SealRegistry(pki), platform_timestamper(settings, TimeStampAuthority(pki)))


@api.route("POST", "/tsa", summary="RFC 3161 time-stamping authority", allow=PUBLIC, tag="pki",
           raw_body=True, content_type="application/timestamp-query")
async def timestamp(request: web.Request, _: None) -> web.Response:
    """Send a DER TimeStampReq; get a DER TimeStampResp. Refusals are ``rejection`` responses."""
    if request.content_type != "application/timestamp-query":
        raise ApiError(415, "unsupported_media_type", "send Content-Type: application/timestamp-query")
    body = b""
    while len(body) <= MAX_REQUEST_BYTES:  # the TSA answers an oversized request with a rejection
        chunk = await request.content.read(MAX_REQUEST_BYTES + 1 - len(body))
        if not chunk:
            break
        body += chunk
    authority = request.app[TSA_KEY]
    reply = await asyncio.get_running_loop().run_in_executor(None, authority.respond, body)
    return web.Response(body=reply, content_type="application/timestamp-reply")


@api.route("GET", "/pki/{name}", summary="CA certificates and CRLs (DER)", allow=PUBLIC, tag="pki")
async def pki_file(request: web.Request, _: None) -> web.Response:
    """One of root.crt, root.crl, signing-ca.crt, signing-ca.crl, tsa.crt."""
    name = request.match_info["name"]
    if name not in PUBLISHED_FILES:
        raise ApiError(404, "not_found", f"no such PKI file; available: {', '.join(PUBLISHED_FILES)}")
    try:
        # Reading (and, when stale, re-signing) a CRL touches disk and keys: not on the event loop.
        data = await asyncio.to_thread(request.app[PKI_KEY].published_file, name)
    except PKIError as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    return web.Response(body=data, content_type=_CONTENT_TYPES[Path(name).suffix],
                        headers={"Cache-Control": "public, max-age=300"})
