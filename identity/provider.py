"""Signed verdicts of an external identity provider (a real-name platform).

Why signed: an API key proves who *sent* a request, not that the provider *made* the check; a
leaked key or a proxy could otherwise record "passed" for anyone. So a provider's verdict is
accepted only as bytes signed by a certificate this deployment trusts for providers
(``identity_provider_certificates``: each file one trust anchor, PEM). The signed envelope is::

    {"payload":     base64 of the verdict's JSON bytes (exactly as signed),
     "signature":   base64 of the signature over those bytes (ECDSA or RSA PKCS#1 v1.5 with SHA-256, or Ed25519),
     "certificate": the signing certificate, PEM: an anchor itself, or issued directly by one}

The verdict names the agreement and signer slot it is for, so a signed verdict cannot be replayed
for another signer. The envelope is kept with the check (``details``) as evidence.

Refusal codes (:class:`ProviderVerdictRejected`): ``providers_not_configured``, ``verdict_unsigned``,
``verdict_malformed``, ``provider_certificate_invalid``, ``provider_untrusted``,
``provider_certificate_expired``, ``verdict_signature_invalid``, ``verdict_other_agreement``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .attestation import ProviderEvidence
from .gate import IdentityCheckRejected

#: A verdict is a small JSON object; an envelope is a few kB.
MAX_PAYLOAD_BYTES = 16 * 1024


class ProviderVerdictRejected(IdentityCheckRejected):
    """A provider's verdict that is not authenticated; ``code`` is stable for the API."""


@dataclass(frozen=True)
class AuthenticatedVerdict:
    """The verified bytes and who signed them (kept with the check as evidence)."""

    payload: bytes
    provider: str
    certificate_sha256: str
    signature_b64: str


def load_anchors(paths: Sequence[Path]) -> list[x509.Certificate]:
    """The configured trust anchors (each file may hold several PEM certificates)."""
    anchors: list[x509.Certificate] = []
    for path in paths:
        anchors += x509.load_pem_x509_certificates(Path(path).read_bytes())
    return anchors


def _b64(value: str | None, what: str) -> bytes:
    if not value:
        raise ProviderVerdictRejected("verdict_unsigned", f"the verdict carries no {what}: a provider's verdict "
                                                          "must be signed by the provider")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ProviderVerdictRejected("verdict_malformed", f"the {what} is not base64") from None


def _issued_by_anchor(cert: x509.Certificate, anchors: Sequence[x509.Certificate]) -> bool:
    for anchor in anchors:
        if cert == anchor:
            return True
        try:
            cert.verify_directly_issued_by(anchor)
            return True
        except (ValueError, TypeError, InvalidSignature):
            continue
    return False


def _verify_signature(cert: x509.Certificate, signature: bytes, payload: bytes) -> None:
    key = cert.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, payload, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, payload, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, payload)
        else:
            raise ProviderVerdictRejected("provider_certificate_invalid", "the provider's key type is not supported "
                                                                          "(EC, RSA or Ed25519)")
    except InvalidSignature:
        raise ProviderVerdictRejected("verdict_signature_invalid", "the signature does not match the verdict: it was "
                                                                   "altered or not signed by this certificate") from None


def authenticate_verdict(payload_b64: str | None, signature_b64: str | None, certificate_pem: str | None,
                         anchors: Sequence[x509.Certificate], now: dt.datetime) -> AuthenticatedVerdict:
    """The verdict's bytes if signed by a certificate trusted for providers and valid ``now``."""
    if not anchors:
        raise ProviderVerdictRejected("providers_not_configured", "this server trusts no identity provider "
                                                                  "(identity_provider_certificates is empty)")
    payload = _b64(payload_b64, "payload")
    signature = _b64(signature_b64, "signature")
    if not certificate_pem:
        raise ProviderVerdictRejected("verdict_unsigned", "the verdict carries no signing certificate")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ProviderVerdictRejected("verdict_malformed", f"the verdict is larger than {MAX_PAYLOAD_BYTES} bytes")
    try:
        cert = x509.load_pem_x509_certificate(certificate_pem.encode())
    except ValueError:
        raise ProviderVerdictRejected("provider_certificate_invalid", "the certificate is not a PEM certificate") \
            from None
    if not _issued_by_anchor(cert, anchors):
        raise ProviderVerdictRejected("provider_untrusted", "the verdict is signed by a certificate that is not "
                                                            "trusted for identity providers")
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise ProviderVerdictRejected("provider_certificate_expired",
                                      f"the provider's certificate is valid from {cert.not_valid_before_utc.isoformat()}"
                                      f" to {cert.not_valid_after_utc.isoformat()}, not now")
    _verify_signature(cert, signature, payload)
    return AuthenticatedVerdict(payload, cert.subject.rfc4514_string(),
                                hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest(),
                                signature_b64 or "")


class ProviderVerdict(BaseModel):
    """What an identity provider signs: one check of one signer slot of one agreement."""

    model_config = ConfigDict(extra="forbid")

    agreement_id: str = Field(min_length=1, max_length=32)
    signer_key: str = Field(min_length=1, max_length=64)
    method: str = Field(min_length=1, max_length=64, pattern=r"^(face|liveness|otp|provider:[a-z0-9_-]{1,40})$")
    checked_at: dt.datetime
    passed: bool = True
    reason: str | None = Field(default=None, max_length=40)
    score: float | None = Field(default=None, ge=0, le=1)
    frames_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    #: The request's nonce, when this server asked (:mod:`identity.provider_client`).
    nonce: str | None = Field(default=None, max_length=64)


@dataclass(frozen=True)
class AcceptedVerdict:
    """A verdict that is authenticated, well formed and for the agreement asked about."""

    signed: AuthenticatedVerdict
    verdict: ProviderVerdict

    def evidence(self) -> ProviderEvidence:
        """The attestation's ``provider`` section (the signed bytes by hash)."""
        v = self.verdict
        return ProviderEvidence(passed=v.passed, reason=None if v.passed else v.reason or "failed",
                                provider=self.signed.provider, method=v.method,
                                certificate_sha256=self.signed.certificate_sha256,
                                verdict_sha256=hashlib.sha256(self.signed.payload).hexdigest(), score=v.score,
                                frames_sha256=v.frames_sha256)

    def envelope(self) -> dict[str, object]:
        """What the check row keeps as evidence: the signed bytes, the signature, who signed."""
        return {"provider": self.signed.provider, "provider_certificate_sha256": self.signed.certificate_sha256,
                "signed_verdict": base64.b64encode(self.signed.payload).decode(),
                "signature": self.signed.signature_b64}


def accept_verdict(payload_b64: str | None, signature_b64: str | None, certificate_pem: str | None,
                   anchors: Sequence[x509.Certificate], now: dt.datetime, agreement_id: str) -> AcceptedVerdict:
    """:func:`authenticate_verdict`, then the verdict's schema and its agreement (a verdict signed
    for one agreement cannot be replayed for another)."""
    signed = authenticate_verdict(payload_b64, signature_b64, certificate_pem, anchors, now)
    try:
        verdict = ProviderVerdict.model_validate_json(signed.payload)
    except ValidationError as exc:
        raise ProviderVerdictRejected("verdict_malformed", f"the signed verdict does not match the schema: {exc}") \
            from None
    if verdict.checked_at.tzinfo is None:
        raise ProviderVerdictRejected("verdict_malformed", "checked_at needs a time zone")
    if verdict.agreement_id != agreement_id:
        raise ProviderVerdictRejected("verdict_other_agreement",
                                      f"the signed verdict is for agreement {verdict.agreement_id}")
    return AcceptedVerdict(signed, verdict)
