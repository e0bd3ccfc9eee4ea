"""The platform's identity-attestation key and certificate.

Every identity check (face match, liveness, one-time code; passed or failed) leaves a record
signed with this key (:mod:`identity.attestation`), so that a court can see what was checked
without trusting the database it was read from. The certificate is issued by the platform
signing CA like a seal (:meth:`signing.pki.PlatformPKI.issue_identity_attestation_certificate`),
created on first use and renewed :data:`RENEW_BEFORE` its expiry; older certificates stay in
``issued/`` so attestations they signed still verify.

Layout under ``<pki directory>/identity-attestation/``::

    attestation.crt   the certificate (PEM)
    attestation.key   its key: PKCS#8 encrypted with the PKI passphrase, mode 0600

Blocking file and key work: call from a worker thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .pki import PlatformPKI, exclusive, keys_match, write_private
from .seals import RENEW_BEFORE



@dataclass(frozen=True)
class AttestationKey:
    """The key, its certificate and the issuer chain (CA first, root last)."""

    key: Any
    cert: x509.Certificate
    chain: list[x509.Certificate]

    def __repr__(self) -> str:
        return f"AttestationKey(subject={self.cert.subject.rfc4514_string()!r}, serial={self.cert.serial_number:x})"


class AttestationKeyStore:
    """Loads (or issues) the attestation key of one PKI; thread-safe, and a file lock keeps two
    server processes from issuing two certificates at once."""

    def __init__(self, pki: PlatformPKI, renew_before: timedelta = RENEW_BEFORE):
        self.pki = pki
        self.directory = pki.directory / "identity-attestation"
        self.renew_before = renew_before
        self._cached: AttestationKey | None = None
        self._lock = threading.Lock()

    def current(self) -> AttestationKey:
        with exclusive(self._lock, self.directory):
            loaded = self._cached if self._cached is not None and self._fresh(self._cached) else self._load()
            if loaded is None or not self._fresh(loaded):
                loaded = self._issue()
            self._cached = loaded
            return loaded

    def _fresh(self, loaded: AttestationKey) -> bool:
        return loaded.cert.not_valid_after_utc > datetime.now(timezone.utc) + self.renew_before

    def _load(self) -> AttestationKey | None:
        """The stored key, or ``None`` if there is none or a crash left key and certificate apart."""
        cert_path, key_path = self.directory / "attestation.crt", self.directory / "attestation.key"
        if not cert_path.exists() or not key_path.exists():
            return None
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = self.pki.read_private_key(key_path)
        if not keys_match(cert, key):
            return None
        return AttestationKey(key, cert, self.pki.chain)

    def _issue(self) -> AttestationKey:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = self.pki.issue_identity_attestation_certificate(key.public_key())
        self.pki.write_private_key(self.directory / "attestation.key", key)
        write_private(self.directory / "attestation.crt", cert.public_bytes(serialization.Encoding.PEM))
        return AttestationKey(key, cert, self.pki.chain)

