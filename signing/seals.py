"""Seal certificates: one per mediation organisation, one per court.

Why one per organisation: the seal closes an agreement in the name of the organisation that
mediated it (People's Mediation Law art. 29). A single platform-wide seal certificate cannot
show *which* organisation sealed, so a verifier could not refuse another organisation's seal.
Each seal certificate names its holder in the subject (O = name, serialNumber = unified social
credit code) and in a private extension (:class:`signing.binding.SealHolder`), under the seal
(or court) certificate policy, issued by the platform signing CA. A court's certificate, for
signing rulings, is made the same way.

A seal is created on first use and reused; it is renewed when its name or credit code no longer
match or it is about to expire. An organisation with a seal from a real e-seal provider imports
it (:meth:`SealRegistry.import_seal`, ``accord pki import-seal``): the provider's chain and CRLs
are kept with it, and its root is trusted for verification (:func:`provider_roots`). An imported
seal is never renewed here: a mismatch is an error naming what to import.

Layout under ``<pki directory>/seals/<kind>-<digest of the holder key>/``::

    seal.crt     the certificate (PEM)
    seal.key     its key: PKCS#8 encrypted with the PKI passphrase, mode 0600
    seal.json    holder (kind, id, name, credit code), imported or not (mode 0600)
    chain.pem    imported seals only: the provider's issuer chain, root last
    crl-<n>.crl  imported seals only: the provider's CRLs (DER)

Blocking file and key work: call from a worker thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathError
from pyhanko_certvalidator.errors import ValidationError as CertificateInvalid

from . import oids
from .binding import CREDIT_CODE, SealHolder, credit_code_in
from .pki import exclusive, PKIError, PlatformPKI, asn1_certificate, keys_match, write_private

#: A platform-issued seal is renewed when it expires within this time.
RENEW_BEFORE = timedelta(days=30)


class SealError(PKIError):
    """No usable seal: the message says why and what to do."""


@dataclass(frozen=True)
class Seal:
    """A seal's key and certificate, with what validating it needs."""

    holder: SealHolder
    key: Any
    cert: x509.Certificate
    #: Issuer certificates, root last (the platform's chain for platform-issued seals).
    chain: list[x509.Certificate]
    #: CRLs (DER) of an imported seal's provider; empty for platform-issued seals.
    crls: list[bytes]
    imported: bool

    @property
    def provider_root(self) -> x509.Certificate | None:
        """The e-seal provider's root an imported seal chains to (``None``: the platform's own)."""
        return _provider_root(self.chain)


def _provider_root(chain: list[x509.Certificate]) -> x509.Certificate | None:
    if chain and chain[-1].issuer == chain[-1].subject:
        return chain[-1]
    return None


def _holder_key(holder: SealHolder) -> str:
    """Where a holder's seal lives: its id, else (agreements not yet tied to an organisation
    record) its credit code, else its name."""
    ident = holder.holder_id or (f"credit:{holder.credit_code}" if holder.credit_code else f"name:{holder.name}")
    return f"{holder.kind}-{hashlib.sha256(f'{holder.kind}:{ident}'.encode()).hexdigest()[:24]}"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _subject_values(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(a.value) for a in cert.subject.get_attributes_for_oid(oid)]


def _subject_credit_code(cert: x509.Certificate) -> str | None:
    return credit_code_in(_subject_values(cert, NameOID.SERIAL_NUMBER)
                          + _subject_values(cert, NameOID.ORGANIZATIONAL_UNIT_NAME))


class SealRegistry:
    """The seals of one platform PKI. Thread-safe; a file lock keeps two processes (the server
    and ``accord pki import-seal``) from writing one seal at the same time."""

    def __init__(self, pki: PlatformPKI, renew_before: timedelta = RENEW_BEFORE):
        self.pki = pki
        self.directory = pki.directory / "seals"
        self.renew_before = renew_before
        #: Loaded seals by holder key, with the ``seal.json`` mtime they were loaded at: another
        #: process (``accord pki import-seal``) may replace a seal while this one runs.
        self._cache: dict[str, tuple[int, Seal]] = {}
        self._lock = threading.Lock()

    # --- lookup -------------------------------------------------------------------------------

    def for_organisation(self, org_id: str | None, name: str, credit_code: str | None) -> Seal:
        """The seal of a mediation organisation (``org_id``: ``med_organisations.id``)."""
        return self._get(self._holder("organisation", org_id, name, credit_code))

    def for_court(self, court_name: str) -> Seal:
        """The certificate a court signs its rulings with."""
        return self._get(self._holder("court", None, court_name, None))

    @staticmethod
    def _holder(kind: str, holder_id: str | None, name: str, credit_code: str | None) -> SealHolder:
        if credit_code is not None and not CREDIT_CODE.fullmatch(credit_code):
            raise SealError(f"{credit_code!r} is not a unified social credit code")
        try:
            return SealHolder(kind=kind, holder_id=holder_id, name=name.strip(), credit_code=credit_code)
        except ValidationError as exc:
            raise SealError(f"cannot make a seal for {name!r}: {exc.errors()[0]['msg']}") from None

    def _get(self, holder: SealHolder) -> Seal:
        key = _holder_key(holder)
        with exclusive(self._lock, self.directory):
            seal = self._cached(key)
            if seal is not None and self._usable(seal, holder):
                return seal
            if seal is not None and seal.imported:
                raise SealError(self._mismatch(seal, holder))
            return self._issue(key, holder)

    def _cached(self, key: str) -> Seal | None:
        try:
            mtime = (self.directory / key / "seal.json").stat().st_mtime_ns
        except FileNotFoundError:
            return None
        cached = self._cache.get(key)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        seal = self._load(key)
        if seal is not None:
            self._cache[key] = (mtime, seal)
        return seal

    def _usable(self, seal: Seal, holder: SealHolder) -> bool:
        same = (seal.holder.name, seal.holder.credit_code) == (holder.name, holder.credit_code)
        margin = timedelta(0) if seal.imported else self.renew_before
        return same and seal.cert.not_valid_after_utc > _now() + margin

    @staticmethod
    def _mismatch(seal: Seal, holder: SealHolder) -> str:
        if seal.cert.not_valid_after_utc <= _now():
            return (f"the imported seal of {holder.name} expired on {seal.cert.not_valid_after_utc:%Y-%m-%d}: "
                    "import the renewed certificate (accord pki import-seal)")
        return (f"the imported seal names {seal.holder.name} ({seal.holder.credit_code or 'no credit code'}), "
                f"the agreement {holder.name} ({holder.credit_code or 'no credit code'}): import the "
                "organisation's current seal certificate (accord pki import-seal)")


    def _load(self, key: str) -> Seal | None:
        """The stored seal, or ``None`` if a crash left its key and certificate apart (a
        platform-issued seal is then simply issued again)."""
        folder = self.directory / key
        meta = json.loads((folder / "seal.json").read_text())
        imported = bool(meta["imported"])
        cert = x509.load_pem_x509_certificate((folder / "seal.crt").read_bytes())
        private_key = self.pki.read_private_key(folder / "seal.key")
        if not keys_match(cert, private_key):
            if imported:
                raise SealError(f"the imported seal in {folder} does not match its key: import it again")
            return None
        chain = x509.load_pem_x509_certificates((folder / "chain.pem").read_bytes()) if imported else self.pki.chain
        return Seal(holder=SealHolder.model_validate(meta["holder"]), key=private_key, cert=cert, chain=chain,
                    crls=[p.read_bytes() for p in sorted(folder.glob("crl-*.crl"))], imported=imported)

    def _store(self, key: str, seal: Seal) -> None:
        folder = self.directory / key
        folder.mkdir(mode=0o700, exist_ok=True)
        for old in folder.glob("crl-*.crl"):
            old.unlink()
        self.pki.write_private_key(folder / "seal.key", seal.key)
        (folder / "seal.crt").write_bytes(seal.cert.public_bytes(serialization.Encoding.PEM))
        if seal.imported:
            (folder / "chain.pem").write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM)
                                                        for c in seal.chain))
            for number, crl in enumerate(seal.crls):
                (folder / f"crl-{number}.crl").write_bytes(crl)
        write_private(folder / "seal.json", json.dumps({"holder": seal.holder.model_dump(),
                                                        "imported": seal.imported}, ensure_ascii=False).encode())
        self._cache[key] = ((folder / "seal.json").stat().st_mtime_ns, seal)

    def _issue(self, key: str, holder: SealHolder) -> Seal:
        private_key = ec.generate_private_key(ec.SECP256R1())
        cert = self.pki.issue_seal_certificate(private_key.public_key(), holder)
        seal = Seal(holder=holder, key=private_key, cert=cert, chain=self.pki.chain, crls=[], imported=False)
        self._store(key, seal)
        return seal

    # --- e-seal providers ---------------------------------------------------------------------

    def import_seal(self, org_id: str, cert_pem: bytes, key: Any, crls: Sequence[bytes] = ()) -> Seal:
        """Use an organisation's seal from an e-seal provider: ``cert_pem`` holds its certificate
        first, then the provider's issuer chain up to its root (not needed for a certificate the
        platform signing CA issued); ``crls`` the provider's current CRLs (DER).

        The organisation is read from the certificate (O and credit code); the certificate must
        validate, revocation included, before it is kept. Re-import to refresh the CRLs.
        """
        try:
            certs = x509.load_pem_x509_certificates(cert_pem)
        except ValueError as exc:
            raise SealError(f"the seal certificate file is not PEM: {exc}") from None
        cert, chain = certs[0], certs[1:] or self.pki.chain
        holder = self._imported_holder(org_id, cert)
        if not keys_match(cert, key):
            raise SealError("the key does not belong to the seal certificate")
        for oid in (oids.SIGNER_BINDING_EXTENSION, oids.SEAL_HOLDER_EXTENSION):
            try:
                cert.extensions.get_extension_for_oid(oids.oid(oid))
                raise SealError("this certificate was issued by the platform for another purpose; "
                                "only a provider's organisation seal can be imported")
            except x509.ExtensionNotFound:
                pass
        seal = Seal(holder=holder, key=key, cert=cert, chain=chain, crls=list(crls), imported=True)
        self._check_validates(seal)
        with exclusive(self._lock, self.directory):
            self._store(_holder_key(holder), seal)
        return seal

    @staticmethod
    def _imported_holder(org_id: str, cert: x509.Certificate) -> SealHolder:
        names = _subject_values(cert, NameOID.ORGANIZATION_NAME)
        if len(names) != 1:
            raise SealError("the seal certificate's subject must name exactly one organisation (O)")
        if cert.not_valid_after_utc <= _now():
            raise SealError(f"the seal certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}")
        return SealRegistry._holder("organisation", org_id, names[0], _subject_credit_code(cert))

    def _check_validates(self, seal: Seal) -> None:
        validator = CertificateValidator(asn1_certificate(seal.cert),
                                         intermediate_certs=[asn1_certificate(c) for c in seal.chain],
                                         validation_context=self._context([seal.chain], seal.crls))
        try:
            asyncio.run(validator.async_validate_usage({"non_repudiation"}))
        except (PathError, CertificateInvalid) as exc:
            raise SealError(f"the seal certificate does not validate (give its chain up to the root and the "
                            f"provider's current CRLs): {exc}") from None

    # --- validation ---------------------------------------------------------------------------

    def validation_context(self) -> ValidationContext:
        """The platform's offline context, plus the roots, chains and CRLs of the providers of
        imported seals: sealing with one, archiving and renewing the agreement need them."""
        return self._context(*_imported(self.pki.directory))

    def _context(self, chains: list[list[x509.Certificate]], crls: Sequence[bytes]) -> ValidationContext:
        return self.pki.validation_context(extra_roots=_roots(chains), extra_crls=crls,
                                           extra_certs=[c for chain in chains for c in chain])

    def trusted_roots(self) -> list[x509.Certificate]:
        """What a verifier on this platform trusts: the platform root and imported seals' providers' roots."""
        return [self.pki.root_cert, *(r for r in provider_roots(self.pki.directory) if r != self.pki.root_cert)]

    def holders(self) -> list[tuple[SealHolder, x509.Certificate, bool]]:
        """Every seal kept here: holder, certificate and whether it was imported (keys not read)."""
        out = []
        for meta_path in sorted(self.directory.glob("*/seal.json")):
            meta = json.loads(meta_path.read_text())
            cert = x509.load_pem_x509_certificate((meta_path.parent / "seal.crt").read_bytes())
            out.append((SealHolder.model_validate(meta["holder"]), cert, bool(meta["imported"])))
        return out


def _imported(pki_directory: Path) -> tuple[list[list[x509.Certificate]], list[bytes]]:
    """The issuer chains and CRLs of every imported seal (certificates and CRLs only, no keys)."""
    seals = Path(pki_directory) / "seals"
    chains = [x509.load_pem_x509_certificates(p.read_bytes()) for p in sorted(seals.glob("*/chain.pem"))]
    return chains, [p.read_bytes() for p in sorted(seals.glob("*/crl-*.crl"))]


def _roots(chains: list[list[x509.Certificate]]) -> list[x509.Certificate]:
    roots: dict[bytes, x509.Certificate] = {}
    for root in filter(None, map(_provider_root, chains)):
        roots[root.fingerprint(hashes.SHA256())] = root
    return list(roots.values())


def provider_roots(pki_directory: Path) -> list[x509.Certificate]:
    """The e-seal providers' roots of the seals imported into a PKI directory: what a verifier on
    this platform trusts besides the platform root. Reads certificates only (no passphrase)."""
    return _roots(_imported(pki_directory)[0])
