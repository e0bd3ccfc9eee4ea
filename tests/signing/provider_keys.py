"""An identity provider's signing key and certificate, made in the test, and the signed envelope
it sends to ``POST /api/agreements/{id}/identity-checks`` (:mod:`identity.provider`)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class ProviderKey:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @classmethod
    def make(cls, name: str = "实名认证服务", *, issuer: ProviderKey | None = None,
             not_before: dt.datetime | None = None, days: int = 30) -> ProviderKey:
        """Self-signed (a trust anchor), or issued by ``issuer``."""
        key = ec.generate_private_key(ec.SECP256R1())
        start = not_before or dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        cert = (x509.CertificateBuilder().subject_name(subject)
                .issuer_name(issuer.cert.subject if issuer else subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(start)
                .not_valid_after(start + dt.timedelta(days=days))
                .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
                .sign(issuer.key if issuer else key, hashes.SHA256()))
        return cls(key, cert)

    def write(self, path: Path) -> Path:
        path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        return path

    def envelope(self, verdict: dict[str, Any]) -> dict[str, str]:
        payload = json.dumps(verdict, ensure_ascii=False).encode()
        return {"payload": base64.b64encode(payload).decode(),
                "signature": base64.b64encode(self.key.sign(payload, ec.ECDSA(hashes.SHA256()))).decode(),
                "certificate": self.cert.public_bytes(serialization.Encoding.PEM).decode()}
