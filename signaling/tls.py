"""TLS for the server: browsers allow cameras only on localhost or HTTPS."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .config import Settings


def self_signed_certificate(directory: Path, hostnames: list[str]) -> tuple[Path, Path]:
    """Create (once) a self-signed certificate for ``hostnames``; browsers will warn, by design."""
    cert_path, key_path = directory / "self-signed.crt", directory / "self-signed.key"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])])
    alt: list[x509.GeneralName] = []
    for host in hostnames:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt.append(x509.DNSName(host))
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .sign(key, hashes.SHA256()))
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    if settings.tls_cert and settings.tls_key:
        cert, key = settings.tls_cert, settings.tls_key
    elif settings.tls_self_signed:
        hosts = ["localhost", "127.0.0.1"] + ([settings.host] if settings.host not in ("0.0.0.0", "::") else [])
        cert, key = self_signed_certificate(settings.data_dir / "tls", list(dict.fromkeys(hosts)))
    else:
        return None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx
