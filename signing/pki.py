"""The platform's own PKI: root CA, signing CA, time-stamping, event and seal certificates, CRLs.

Why a PKI of our own: every signer gets a short-lived *event certificate* bound to the identity
that was checked minutes before (ESL art. 13), and courts must be able to verify the agreement
offline years later. The root key may live off the server: everything here except
:meth:`PlatformPKI.reissue_root_crl` works with the root certificate alone.

Layout of the directory (private keys PKCS#8, encrypted with the passphrase, mode 0600)::

    root.crt  [root.key]  root.crl
    signing-ca.crt  signing-ca.key  signing-ca.crl
    tsa.crt  tsa.key
    identity-attestation/   the identity-attestation certificate (:mod:`signing.attestation_key`)
    pki.json          base URL, organisation, CRL number, revocations
    issued/<serial>.crt   every certificate issued (ESL art. 24: keep the records)
    seals/            one seal per mediation organisation and court (:mod:`signing.seals`)

Every event certificate names the one agreement field it was issued for
(:class:`signing.binding.SignerBinding`); every seal certificate names its holder
(:class:`signing.binding.SealHolder`). A PKI directory made before per-organisation seals may
still hold a platform-wide ``seal.crt``: it is no longer read.

Certificates point at ``{base_url}/pki/<file>`` (see :data:`PUBLISHED_FILES`) for CRLs (CRL
distribution point) and issuer certificates (AIA caIssuers).
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator, Sequence

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko_certvalidator import ValidationContext

from . import oids
from .binding import SealHolder, SignerBinding

#: Files served over HTTP under ``{base_url}/pki/``; values are what they hold.
PUBLISHED_FILES = {
    "root.crt": "root CA certificate (DER)",
    "root.crl": "CRL of the root CA (DER)",
    "signing-ca.crt": "platform signing CA certificate (DER)",
    "signing-ca.crl": "CRL of the signing CA (DER)",
    "tsa.crt": "time-stamping certificate (DER)",
}

_ROOT_VALIDITY = timedelta(days=20 * 365)
_CA_VALIDITY = timedelta(days=10 * 365)
_TSA_VALIDITY = timedelta(days=5 * 365)
_SEAL_VALIDITY = timedelta(days=2 * 365)
_CRL_VALIDITY = timedelta(days=7)
_ROOT_CRL_VALIDITY = timedelta(days=365)
_CLOCK_SKEW = timedelta(minutes=1)
_MAX_EVENT_VALIDITY = timedelta(days=1)
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class PKIError(Exception):
    """A PKI operation was refused; the message says why."""


class PossessionError(PKIError):
    """The proof that the requester holds the private key did not verify."""


@dataclass(frozen=True)
class SignerIdentity:
    """Who an event certificate is for, and the one agreement field it may sign (``binding``).
    Only a keyed digest of the ID number ever enters a certificate (:func:`id_number_digest`)."""

    name: str
    id_number_digest: str
    role: str
    case_number: str
    side: str | None = None
    binding: SignerBinding = field(kw_only=True)

    def __post_init__(self) -> None:
        if not self.name.strip() or len(self.name) > 64:
            raise PKIError("signer name must be 1-64 characters")
        if not _SHA256_HEX.fullmatch(self.id_number_digest):
            raise PKIError("id_number_digest must be the lowercase hex HMAC-SHA256 of the ID number")
        for label, value in (("role", self.role), ("case_number", self.case_number)):
            if not value.strip() or len(value) > 64:
                raise PKIError(f"{label} must be 1-64 characters")
        if self.side is not None and self.side not in ("applicant", "respondent"):
            raise PKIError("side must be 'applicant', 'respondent' or None")
        stated = (self.binding.role, self.binding.side, self.binding.case_number)
        if stated != (self.role, self.side, self.case_number):
            raise PKIError(f"the binding names role/side/case {stated}, the subject "
                           f"{(self.role, self.side, self.case_number)}")


#: Shortest key accepted for :func:`id_number_digest` (the platform's secret is 32 bytes).
MIN_ID_DIGEST_KEY_BYTES = 16


def id_number_digest(id_number: str, key: bytes) -> str:
    """The value for :attr:`SignerIdentity.id_number_digest`: HMAC-SHA256 of the normalised
    ID number (blanks removed, upper case) under a platform secret.

    Why keyed: an 18-digit resident ID has a known structure (region, birth date, check digit),
    so a plain SHA-256 in a public certificate could be reversed by trying the few billion
    plausible numbers. With the key, only the platform (e.g. a court asking it to confirm a
    given ID number) can recompute the digest; the certificate alone reveals nothing.
    """
    if len(key) < MIN_ID_DIGEST_KEY_BYTES:
        raise PKIError(f"the ID-number digest key must be at least {MIN_ID_DIGEST_KEY_BYTES} bytes")
    return hmac.new(key, "".join(id_number.split()).upper().encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Revocation:
    serial: int
    reason: str
    revoked_at: datetime
    newly_revoked: bool


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _encrypt(passphrase: str) -> serialization.KeySerializationEncryption:
    if not passphrase:
        raise PKIError("a non-empty passphrase is required to protect the PKI's private keys")
    return serialization.BestAvailableEncryption(passphrase.encode())


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` so that only the owner can read it, atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


@contextmanager
def exclusive(lock: threading.Lock, directory: Path, lock_name: str = ".lock") -> Iterator[None]:
    """Hold ``lock`` (this process's threads) and an ``flock`` on ``directory/lock_name`` (other
    processes: the server and an ``accord pki`` command may write the same files at once)."""
    with lock:
        directory.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(directory / lock_name, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def _write_key(path: Path, key: Any, passphrase: str) -> None:
    write_private(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          _encrypt(passphrase)))


def _read_key(path: Path, passphrase: str) -> Any:
    try:
        return serialization.load_pem_private_key(path.read_bytes(), passphrase.encode())
    except (ValueError, TypeError):
        raise PKIError(f"cannot decrypt {path.name}: wrong passphrase or damaged file") from None


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _read_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError:
        raise PKIError(f"{path} is missing") from None


def keys_match(cert: x509.Certificate, key: Any) -> bool:
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    return cert.public_key().public_bytes(serialization.Encoding.DER, pub) == \
        key.public_key().public_bytes(serialization.Encoding.DER, pub)


def _check_issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> None:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise PKIError(f"{cert.subject.rfc4514_string()} is not issued by "
                       f"{issuer.subject.rfc4514_string()}: {exc}") from None


def _signature_hash(key: Any) -> hashes.HashAlgorithm | None:
    return hashes.SHA256() if isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)) else None


def _check_public_key(public_key: Any) -> None:
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.name not in ("secp256r1", "secp384r1"):
            raise PKIError(f"elliptic curve {public_key.curve.name} is not accepted (use P-256)")
    elif isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < 2048:
            raise PKIError("RSA keys must have at least 2048 bits")
    else:
        raise PKIError(f"unsupported public key type {type(public_key).__name__}")


def verify_possession(spki_der: bytes, nonce: bytes, signature_raw_p1363: bytes) -> None:
    """Check that the holder of ``spki_der``'s private key signed ``nonce || spki_der``.

    This is what a browser does with WebCrypto (ECDSA P-256, SHA-256), whose signatures are
    raw ``r || s``. Binding the SPKI into the signed message stops a replay of the proof for
    another key. Raises :class:`PossessionError` with the reason.
    """
    try:
        public_key = serialization.load_der_public_key(spki_der)
    except (ValueError, TypeError):
        raise PossessionError("the public key is not a valid DER SubjectPublicKeyInfo") from None
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name != "secp256r1":
        raise PossessionError("the public key must be ECDSA P-256")
    if len(nonce) < 16:
        raise PossessionError("the challenge nonce is too short")
    if len(signature_raw_p1363) != 64:
        raise PossessionError("the signature must be 64 bytes (raw r||s as WebCrypto returns it)")
    r = int.from_bytes(signature_raw_p1363[:32], "big")
    s = int.from_bytes(signature_raw_p1363[32:], "big")
    try:
        public_key.verify(encode_dss_signature(r, s), nonce + spki_der, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise PossessionError("the proof-of-possession signature does not verify") from None


class PlatformPKI:
    """The loaded PKI. Construct with :meth:`init`, :meth:`load` or :meth:`import_ca`."""

    def __init__(self, directory: Path, passphrase: str, state: dict[str, Any]):
        self.directory = directory
        self._state = state
        self._lock = threading.Lock()
        # Kept for the seal keys (:mod:`signing.seals`), encrypted at rest like the others.
        self._passphrase = passphrase
        self.root_cert = _read_cert(directory / "root.crt")
        self.signing_ca_cert = _read_cert(directory / "signing-ca.crt")
        self.tsa_cert = _read_cert(directory / "tsa.crt")
        self._signing_ca_key = _read_key(directory / "signing-ca.key", passphrase)
        self._tsa_key = _read_key(directory / "tsa.key", passphrase)
        root_key_path = directory / "root.key"
        self._root_key = _read_key(root_key_path, passphrase) if root_key_path.exists() else None
        for cert, key in ((self.signing_ca_cert, self._signing_ca_key), (self.tsa_cert, self._tsa_key)):
            if not keys_match(cert, key):
                raise PKIError(f"the key for {cert.subject.rfc4514_string()} does not match its certificate")

    def __repr__(self) -> str:
        return (f"PlatformPKI(directory={str(self.directory)!r}, org_name={self.org_name!r}, "
                f"root_key_present={self._root_key is not None})")

    # -- construction -------------------------------------------------------------------

    @staticmethod
    def exists(directory: Path) -> bool:
        return (Path(directory) / "pki.json").exists()

    @classmethod
    def init(cls, directory: Path, passphrase: str, base_url: str, org_name: str) -> PlatformPKI:
        """Create a development PKI (new root and signing CA) in an empty directory."""
        directory = cls._prepare_directory(directory, passphrase)
        base_url = base_url.rstrip("/")
        now = _now()
        root_key, ca_key = _new_key(), _new_key()
        root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{org_name} Root CA"),
                               x509.NameAttribute(NameOID.ORGANIZATION_NAME, org_name)])
        root = (
            cls._ca_builder(root_name, root_name, root_key.public_key(), now, now + _ROOT_VALIDITY, path_length=1)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256())
        )
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{org_name} Signing CA"),
                             x509.NameAttribute(NameOID.ORGANIZATION_NAME, org_name)])
        ca = (
            cls._ca_builder(ca_name, root_name, ca_key.public_key(), now, now + _CA_VALIDITY, path_length=0)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
            .add_extension(_crl_dp(f"{base_url}/pki/root.crl"), critical=False)
            .add_extension(_aia(f"{base_url}/pki/root.crt"), critical=False)
            .sign(root_key, hashes.SHA256())
        )
        (directory / "root.crt").write_bytes(_pem(root))
        _write_key(directory / "root.key", root_key, passphrase)
        root_crl = _build_crl(root, root_key, [], 1, now, now + _ROOT_CRL_VALIDITY)
        (directory / "root.crl").write_bytes(root_crl.public_bytes(serialization.Encoding.DER))
        return cls._finish_setup(directory, passphrase, base_url, org_name, ca, ca_key)

    @classmethod
    def import_ca(cls, directory: Path, passphrase: str, base_url: str, org_name: str, *,
                  root_cert: x509.Certificate, ca_cert: x509.Certificate, ca_key: Any,
                  root_crl: x509.CertificateRevocationList | None = None) -> PlatformPKI:
        """Set up production from an existing root and issuing CA (the root key stays elsewhere).

        ``root_crl`` is the root's current CRL, needed to check the CA's revocation offline.
        """
        directory = cls._prepare_directory(directory, passphrase)
        _check_issued_by(ca_cert, root_cert)
        if not keys_match(ca_cert, ca_key):
            raise PKIError("the CA key does not match the CA certificate")
        try:
            if not ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
                raise PKIError("the CA certificate is not a CA (basicConstraints cA=false)")
        except x509.ExtensionNotFound:
            raise PKIError("the CA certificate has no basicConstraints extension") from None
        if root_crl is not None:
            if root_crl.issuer != root_cert.subject or not root_crl.is_signature_valid(root_cert.public_key()):
                raise PKIError("the root CRL is not signed by the root certificate")
            (directory / "root.crl").write_bytes(root_crl.public_bytes(serialization.Encoding.DER))
        (directory / "root.crt").write_bytes(_pem(root_cert))
        return cls._finish_setup(directory, passphrase, base_url.rstrip("/"), org_name, ca_cert, ca_key)

    @classmethod
    def load(cls, directory: Path, passphrase: str) -> PlatformPKI:
        directory = Path(directory)
        try:
            state = json.loads((directory / "pki.json").read_text())
        except FileNotFoundError:
            raise PKIError(f"no PKI in {directory} (run `accord pki init`)") from None
        return cls(directory, passphrase, state)

    @staticmethod
    def _prepare_directory(directory: Path, passphrase: str) -> Path:
        _encrypt(passphrase)
        directory = Path(directory)
        if PlatformPKI.exists(directory):
            raise PKIError(f"a PKI already exists in {directory}")
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(directory, 0o700)
        (directory / "issued").mkdir(exist_ok=True, mode=0o700)
        return directory

    @classmethod
    def _finish_setup(cls, directory: Path, passphrase: str, base_url: str, org_name: str,
                      ca: x509.Certificate, ca_key: Any) -> PlatformPKI:
        """Write the issuing CA, then issue the TSA certificate under it."""
        (directory / "signing-ca.crt").write_bytes(_pem(ca))
        _write_key(directory / "signing-ca.key", ca_key, passphrase)
        now = _now()
        ca_public = ca.public_key()
        tsa_key = _new_key()
        tsa = (
            _leaf_builder(ca, ca_public, tsa_key.public_key(), base_url, now, now + _TSA_VALIDITY,
                          x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{org_name} TSA"),
                                     x509.NameAttribute(NameOID.ORGANIZATION_NAME, org_name)]))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .add_extension(x509.CertificatePolicies([x509.PolicyInformation(oids.oid(oids.TSA_POLICY), None)]),
                           critical=False)
            .sign(ca_key, _signature_hash(ca_key))
        )
        (directory / "tsa.crt").write_bytes(_pem(tsa))
        _write_key(directory / "tsa.key", tsa_key, passphrase)
        (directory / "issued" / f"{tsa.serial_number:x}.crt").write_bytes(_pem(tsa))
        state = {"base_url": base_url, "org_name": org_name, "crl_number": 0, "revoked": []}
        write_private(directory / "pki.json", json.dumps(state, indent=2).encode())
        pki = cls(directory, passphrase, state)
        pki.issue_crl()
        return pki

    @staticmethod
    def _ca_builder(subject: x509.Name, issuer: x509.Name, public_key: Any, not_before: datetime,
                    not_after: datetime, path_length: int) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before - _CLOCK_SKEW)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        )

    # -- accessors ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._state["base_url"]

    @property
    def org_name(self) -> str:
        return self._state["org_name"]

    @property
    def has_root_key(self) -> bool:
        return self._root_key is not None

    @property
    def chain(self) -> list[x509.Certificate]:
        """Issuer chain of every certificate the signing CA issues (CA first, root last)."""
        return [self.signing_ca_cert, self.root_cert]

    @property
    def tsa_key(self) -> ec.EllipticCurvePrivateKey:
        return self._tsa_key

    def write_private_key(self, path: Path, key: Any) -> None:
        """Store ``key`` as the PKI's own keys are: PKCS#8 encrypted with its passphrase, mode 0600."""
        _write_key(path, key, self._passphrase)

    def read_private_key(self, path: Path) -> Any:
        return _read_key(path, self._passphrase)

    def published_file(self, name: str) -> bytes:
        """DER bytes of one entry of :data:`PUBLISHED_FILES` (for the HTTP layer)."""
        der = serialization.Encoding.DER
        if name == "root.crt":
            return self.root_cert.public_bytes(der)
        if name == "signing-ca.crt":
            return self.signing_ca_cert.public_bytes(der)
        if name == "tsa.crt":
            return self.tsa_cert.public_bytes(der)
        if name == "signing-ca.crl":
            return self.current_crl().public_bytes(der)
        if name == "root.crl":
            root_crl = self.root_crl()
            if root_crl is None:
                raise PKIError("no root CRL has been imported")
            return root_crl.public_bytes(der)
        raise PKIError(f"unknown PKI file {name!r}")

    # -- issuing ------------------------------------------------------------------------

    def issue_event_certificate(self, public_key: CertificateIssuerPublicKeyTypes, identity: SignerIdentity,
                                validity: timedelta = timedelta(minutes=30)) -> x509.Certificate:
        """A short-lived certificate for one signing event by a checked identity, naming the one
        agreement field it may sign (``identity.binding``)."""
        _check_public_key(public_key)
        if not timedelta(0) < validity <= _MAX_EVENT_VALIDITY:
            raise PKIError("event certificate validity must be positive and at most one day")
        now = datetime.now(timezone.utc)
        not_after = now + validity
        if not_after > self.signing_ca_cert.not_valid_after_utc:
            raise PKIError("the signing CA certificate expires before the requested validity ends")
        attributes = [
            x509.NameAttribute(NameOID.COMMON_NAME, identity.name),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, identity.id_number_digest),
            x509.NameAttribute(NameOID.TITLE, identity.role),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, identity.case_number),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.org_name),
        ]
        if identity.side:
            attributes.append(x509.NameAttribute(oids.oid(oids.SIDE_ATTRIBUTE), identity.side))
        cert = (
            _leaf_builder(self.signing_ca_cert, self.signing_ca_cert.public_key(), public_key, self.base_url,
                          now.replace(microsecond=0), not_after, x509.Name(attributes), skew=timedelta(seconds=30))
            .add_extension(_signer_eku(), critical=False)
            .add_extension(x509.CertificatePolicies(
                [x509.PolicyInformation(oids.oid(oids.EVENT_CERTIFICATE_POLICY), None)]), critical=False)
            .add_extension(x509.UnrecognizedExtension(oids.oid(oids.SIGNER_BINDING_EXTENSION),
                                                      identity.binding.to_der()), critical=False)
            .sign(self._signing_ca_key, _signature_hash(self._signing_ca_key))
        )
        (self.directory / "issued" / f"{cert.serial_number:x}.crt").write_bytes(_pem(cert))
        return cert

    def issue_seal_certificate(self, public_key: CertificateIssuerPublicKeyTypes, holder: SealHolder,
                               validity: timedelta = _SEAL_VALIDITY) -> x509.Certificate:
        """An organisation's (or a court's) seal certificate: subject O = the holder's name, the
        unified social credit code as serialNumber, the holder in a private extension and the
        seal or court policy."""
        _check_public_key(public_key)
        now = _now()
        not_after = min(now + validity, self.signing_ca_cert.not_valid_after_utc)
        attributes = [x509.NameAttribute(NameOID.COMMON_NAME, holder.name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, holder.name)]
        if holder.credit_code:
            attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, holder.credit_code))
        policy = oids.SEAL_CERTIFICATE_POLICY if holder.kind == "organisation" else oids.COURT_CERTIFICATE_POLICY
        try:
            cert = (
                _leaf_builder(self.signing_ca_cert, self.signing_ca_cert.public_key(), public_key, self.base_url,
                              now, not_after, x509.Name(attributes))
                .add_extension(_signer_eku(), critical=False)
                .add_extension(x509.CertificatePolicies([x509.PolicyInformation(oids.oid(policy), None)]),
                               critical=False)
                .add_extension(x509.UnrecognizedExtension(oids.oid(oids.SEAL_HOLDER_EXTENSION), holder.to_der()),
                               critical=False)
                .sign(self._signing_ca_key, _signature_hash(self._signing_ca_key))
            )
        except ValueError as exc:  # e.g. a name longer than X.520 allows
            raise PKIError(f"cannot issue a seal certificate for {holder.name!r}: {exc}") from None
        (self.directory / "issued" / f"{cert.serial_number:x}.crt").write_bytes(_pem(cert))
        return cert

    def issue_identity_attestation_certificate(self, public_key: CertificateIssuerPublicKeyTypes,
                                               validity: timedelta = _SEAL_VALIDITY) -> x509.Certificate:
        """The platform's identity-attestation certificate: signs the record of every identity
        check (:mod:`signing.attestation_key`); only its own EKU, so it can sign nothing else."""
        _check_public_key(public_key)
        now = _now()
        not_after = min(now + validity, self.signing_ca_cert.not_valid_after_utc)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{self.org_name} Identity Attestation"),
                             x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.org_name)])
        cert = (
            _leaf_builder(self.signing_ca_cert, self.signing_ca_cert.public_key(), public_key, self.base_url,
                          now, not_after, subject)
            .add_extension(x509.ExtendedKeyUsage([oids.oid(oids.IDENTITY_ATTESTATION_EKU)]), critical=True)
            .add_extension(x509.CertificatePolicies(
                [x509.PolicyInformation(oids.oid(oids.IDENTITY_ATTESTATION_POLICY), None)]), critical=False)
            .sign(self._signing_ca_key, _signature_hash(self._signing_ca_key))
        )
        (self.directory / "issued" / f"{cert.serial_number:x}.crt").write_bytes(_pem(cert))
        return cert

    def issued_certificate(self, serial: int) -> x509.Certificate | None:
        path = self.directory / "issued" / f"{serial:x}.crt"
        return _read_cert(path) if path.exists() else None

    # -- revocation ---------------------------------------------------------------------

    def revoke(self, serial: int, reason: x509.ReasonFlags | str = x509.ReasonFlags.unspecified) -> Revocation:
        """Revoke a certificate this PKI issued and publish a new CRL."""
        reason_flag = reason if isinstance(reason, x509.ReasonFlags) else _reason(reason)
        if self.issued_certificate(serial) is None:
            raise PKIError(f"no certificate with serial {serial:x} was issued by this PKI")
        with self._shared_state() as state:
            for entry in state["revoked"]:
                if int(entry["serial"], 16) == serial:
                    return Revocation(serial, entry["reason"], datetime.fromisoformat(entry["revoked_at"]), False)
            revoked_at = _now()
            state["revoked"].append(
                {"serial": f"{serial:x}", "reason": reason_flag.value, "revoked_at": revoked_at.isoformat()})
            self._publish_crl(state)
        return Revocation(serial, reason_flag.value, revoked_at, True)

    def revocations(self) -> list[Revocation]:
        with self._shared_state() as state:
            return [Revocation(int(e["serial"], 16), e["reason"], datetime.fromisoformat(e["revoked_at"]), False)
                    for e in state["revoked"]]

    def issue_crl(self) -> x509.CertificateRevocationList:
        """Sign and publish a new CRL of the signing CA (cheap: one ECDSA signature)."""
        with self._shared_state() as state:
            return self._publish_crl(state)

    def _publish_crl(self, state: dict[str, Any]) -> x509.CertificateRevocationList:
        state["crl_number"] += 1
        now = _now()
        crl = _build_crl(self.signing_ca_cert, self._signing_ca_key, state["revoked"], state["crl_number"],
                         now, now + _CRL_VALIDITY)
        _write_public(self.directory / "signing-ca.crl", crl.public_bytes(serialization.Encoding.DER))
        return crl

    @contextmanager
    def _shared_state(self) -> Iterator[dict[str, Any]]:
        """``pki.json`` read and written under a file lock: the server and ``accord pki revoke``
        may run at the same time, and neither may lose the other's revocations."""
        with exclusive(self._lock, self.directory, "pki.lock"):
            state = json.loads((self.directory / "pki.json").read_text())
            before = json.dumps(state, sort_keys=True)
            yield state
            if json.dumps(state, sort_keys=True) != before:
                write_private(self.directory / "pki.json", json.dumps(state, indent=2).encode())
            self._state = state

    def current_crl(self) -> x509.CertificateRevocationList:
        """The published CRL, reissued first if it is more than a day old."""
        path = self.directory / "signing-ca.crl"
        if path.exists():
            crl = x509.load_der_x509_crl(path.read_bytes())
            if crl.last_update_utc > datetime.now(timezone.utc) - timedelta(days=1):
                return crl
        return self.issue_crl()

    def root_crl(self) -> x509.CertificateRevocationList | None:
        """The root's CRL, refreshed when the root key is here and it is older than 30 days."""
        path = self.directory / "root.crl"
        crl = x509.load_der_x509_crl(path.read_bytes()) if path.exists() else None
        stale = crl is None or crl.last_update_utc < datetime.now(timezone.utc) - timedelta(days=30)
        if stale and self._root_key is not None:
            crl = self.reissue_root_crl()
        return crl

    def reissue_root_crl(self) -> x509.CertificateRevocationList:
        """A new root CRL keeping the old one's entries; needs the root key (offline in production)."""
        if self._root_key is None:
            raise PKIError("the root key is not on this server")
        now = _now()
        path = self.directory / "root.crl"
        number, entries = 1, []
        if path.exists():
            old = x509.load_der_x509_crl(path.read_bytes())
            number = old.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number + 1
            entries = [{"serial": f"{r.serial_number:x}", "reason": x509.ReasonFlags.unspecified.value,
                        "revoked_at": r.revocation_date_utc.isoformat()} for r in old]
        crl = _build_crl(self.root_cert, self._root_key, entries, number, now, now + _ROOT_CRL_VALIDITY)
        _write_public(path, crl.public_bytes(serialization.Encoding.DER))
        return crl

    # -- validation ---------------------------------------------------------------------

    def validation_context(self, *, fresh_crl: bool = False, moment: datetime | None = None,
                           extra_roots: Sequence[x509.Certificate] = (), extra_certs: Sequence[x509.Certificate] = (),
                           extra_crls: Sequence[bytes] = ()) -> ValidationContext:
        """An offline pyHanko ``ValidationContext`` trusting our root, with our CRLs preloaded.

        The published CRL is reused (every revocation publishes a new one at once), so all
        signatures of an agreement embed the same CRL and verification has less to check;
        ``fresh_crl`` issues a new one first. The ``extra_*`` add another CA's root, chain and
        CRLs (DER), e.g. an e-seal provider's (:class:`signing.seals.Seal`).
        """
        crls = [self.issue_crl() if fresh_crl else self.current_crl()]
        root_crl = self.root_crl()
        if root_crl is not None:
            crls.append(root_crl)
        der = serialization.Encoding.DER
        return ValidationContext(
            trust_roots=[asn1_certificate(c) for c in (self.root_cert, *extra_roots)],
            other_certs=[asn1_certificate(c) for c in (self.signing_ca_cert, self.tsa_cert, *extra_certs)],
            crls=[*(c.public_bytes(der) for c in crls), *extra_crls],
            allow_fetching=False,
            revocation_mode="require",
            moment=moment,
        )


def asn1_certificate(cert: x509.Certificate) -> asn1_x509.Certificate:
    """The asn1crypto form pyHanko works with."""
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _write_public(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _reason(name: str) -> x509.ReasonFlags:
    try:
        return x509.ReasonFlags(name)
    except ValueError:
        choices = ", ".join(f.value for f in x509.ReasonFlags if f is not x509.ReasonFlags.remove_from_crl)
        raise PKIError(f"unknown revocation reason {name!r} (one of: {choices})") from None


def _crl_dp(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints([x509.DistributionPoint(
        full_name=[x509.UniformResourceIdentifier(url)], relative_name=None, reasons=None, crl_issuer=None)])


def _aia(url: str) -> x509.AuthorityInformationAccess:
    return x509.AuthorityInformationAccess([x509.AccessDescription(
        x509.oid.AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(url))])


def _signer_eku() -> x509.ExtendedKeyUsage:
    # poppler's pdfsig wants an EKU on signer certificates; emailProtection is what NSS accepts
    # for document signers, the platform OID says what the certificate is really for.
    return x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, oids.oid(oids.DOCUMENT_SIGNING_EKU)])


def _leaf_builder(issuer: x509.Certificate, issuer_public_key: Any, public_key: Any, base_url: str,
                  not_before: datetime, not_after: datetime, subject: x509.Name,
                  skew: timedelta = _CLOCK_SKEW) -> x509.CertificateBuilder:
    """Common parts of every end-entity certificate issued by the signing CA."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before - skew)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public_key), critical=False)
        .add_extension(_crl_dp(f"{base_url}/pki/signing-ca.crl"), critical=False)
        .add_extension(_aia(f"{base_url}/pki/signing-ca.crt"), critical=False)
    )


def _build_crl(issuer: x509.Certificate, key: Any, revoked: list[dict[str, str]], number: int,
               this_update: datetime, next_update: datetime) -> x509.CertificateRevocationList:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()), critical=False)
    )
    for entry in revoked:
        revoked_cert = (
            x509.RevokedCertificateBuilder()
            .serial_number(int(entry["serial"], 16))
            .revocation_date(datetime.fromisoformat(entry["revoked_at"]))
        )
        if entry["reason"] != x509.ReasonFlags.unspecified.value:
            revoked_cert = revoked_cert.add_extension(x509.CRLReason(x509.ReasonFlags(entry["reason"])),
                                                      critical=False)
        builder = builder.add_revoked_certificate(revoked_cert.build())
    return builder.sign(key, _signature_hash(key))
