"""Shared builders for the PKI / PAdES / verification tests and bench/signing.py, bench/security.py.

A simple reportlab PDF with pre-created empty signature fields and the slot table stands in for
the agreement (signing-B renders the real one); signers are played by Python keys: "browser"
parties sign the DER signed attributes with ECDSA P-256 and hand back raw r||s as WebCrypto does,
with event certificates bound to their field of that document; the seal is the organisation's.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer
from pyhanko.sign.fields import SigFieldSpec, append_signature_field
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from signing.agreement_pdf import write_signer_catalog
from signing.binding import SignerBinding, SignerTable, SlotEntry, SlotOrganisation
from signing.development import browser_sign
from signing.pades import MEDIATION_SEAL_CAPTION, KeyCustody, SealStamp, SignatureEvidence, StampText, finalize_lta, \
    finish_external, prepare_external, sign_with_key
from signing.pki import PlatformPKI, SignerIdentity, id_number_digest
from signing.seals import Seal, SealRegistry
from signing.tsa import InProcessTimeStamper, TimeStampAuthority

#: The platform secret for ID-number digests in these tests.
ID_DIGEST_KEY = b"accord-test-id-digest-key-32byte"
#: What a browser-held-key signature states, and the seal's statement.
BROWSER_EVIDENCE = SignatureEvidence(KeyCustody.BROWSER, "test 2026-11-29T15:56:52Z score=1.000")
SEAL_EVIDENCE = SignatureEvidence(KeyCustody.SERVER)

PAGE_TEXT = "Mediation agreement CASE-1: the respondent pays 50000 CNY by 2026-12-31."
AGREEMENT_ID = "ag_00000000000000a1"
CASE_NUMBER = "CASE-1"
ORGANISATION = SlotOrganisation(name="朝阳区人民调解委员会", credit_code="53110105MJ0000001X")
ORGANISATION_ID = "org-chaoyang"
#: What a certificate binds to when a test does not care which document it signs.
NO_DOCUMENT_SHA256 = "0" * 64


@dataclass(frozen=True)
class Seat:
    field: str
    name: str
    role: str
    side: str | None
    id_number: str
    participant_id: str | None = None


SEATS = [
    Seat("party_applicant", "张三", "party", "applicant", "110105198503121234", "acc-zhang"),
    Seat("party_respondent", "李四", "party", "respondent", "31010419900101456X", "acc-li"),
    Seat("mediator", "赵调解", "mediator", None, "110101197508083210", "acc-zhao"),
    Seat("seal", ORGANISATION.name, "organisation", None, "", ORGANISATION_ID),
]
#: Five signatures: both parties, the respondent's agent, the mediator and the seal.
FIVE_SEATS = [*SEATS[:2], Seat("agent_respondent", "王律师", "agent", "respondent", "440103198005207890", "acc-wang"),
              *SEATS[2:]]


def slot_entry(seat: Seat) -> SlotEntry:
    return SlotEntry(field_name=seat.field, role=seat.role, side=seat.side, name=seat.name,
                     participant_id=seat.participant_id,
                     organisation=ORGANISATION if seat.role == "organisation" else None)


def blank_pdf(field_names: list[str], text: str = PAGE_TEXT, seats: list[Seat] = SEATS, *,
              agreement_id: str = AGREEMENT_ID, case_number: str = CASE_NUMBER) -> bytes:
    """One page of text plus an empty signature field per name, and in the catalog the
    expected-fields list and the slot table (a field no seat has gets a placeholder party slot).
    One revision, like the locked agreement PDF."""
    buf = BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.drawString(72, 770, text)
    c.showPage()
    c.save()
    writer = copy_into_new_writer(PdfFileReader(BytesIO(buf.getvalue())))
    by_field = {seat.field: seat for seat in seats}
    slots = [slot_entry(by_field.get(name, Seat(name, "测试", "party", None, ""))) for name in field_names]
    write_signer_catalog(writer, SignerTable(agreement_id=agreement_id, version=1, case_number=case_number,
                                             slots=slots))
    for i, name in enumerate(field_names):
        append_signature_field(writer, SigFieldSpec(name, on_page=0, box=(72 + 120 * (i % 4), 600 - 80 * (i // 4),
                                                                          182 + 120 * (i % 4), 660 - 80 * (i // 4))))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def eof_flood(size: int = 240_000) -> bytes:
    """A well-formed PDF (catalog, empty page tree, classic xref) whose one stream is ``size``
    bytes of ``%%EOF`` lines: every line looks like the end of a revision (issue 8 item 3)."""
    flood = b"%%EOF\n" * (size // 6)
    out = bytearray(b"%PDF-1.7\n")
    offsets = [len(out)]
    out += b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    offsets.append(len(out))
    out += b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 /Flood 3 0 R >>\nendobj\n"
    offsets.append(len(out))
    out += b"3 0 obj\n<< /Length %d >>\nstream\n" % len(flood) + flood + b"\nendstream\nendobj\n"
    xref = len(out)
    out += b"xref\n0 4\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)
def first_revision(pdf: bytes) -> bytes:
    """The locked document a signed PDF starts with (up to its first ``%%EOF`` and line end)."""
    end = PdfFileReader(BytesIO(pdf)).xrefs.get_xref_container_info(0).end_location
    found = re.compile(rb"%%EOF\r?\n?").search(pdf, end)
    assert found is not None
    return pdf[:found.end()]


class Platform:
    """A development PKI plus its in-process TSA, in a temporary directory."""

    def __init__(self, pki: PlatformPKI):
        self.pki = pki
        self.timestamper = InProcessTimeStamper(TimeStampAuthority(pki))

    @classmethod
    def create(cls, directory: Path, org_name: str = "朝阳区人民调解委员会") -> "Platform":
        return cls(PlatformPKI.init(directory, "test-passphrase", "http://accord.test", org_name))

    @property
    def seals(self) -> SealRegistry:
        return SealRegistry(self.pki)

    def identity(self, seat: Seat, document: bytes | None = None, **binding: Any) -> SignerIdentity:
        """The seat's identity bound to its field of ``document`` (its locked first revision);
        ``binding`` overrides what the certificate states (forgeries)."""
        stated: dict[str, Any] = {
            "agreement_id": AGREEMENT_ID, "version": 1, "field_name": seat.field, "role": seat.role,
            "side": seat.side, "participant_id": seat.participant_id, "case_number": CASE_NUMBER,
            "version_sha256": hashlib.sha256(first_revision(document)).hexdigest() if document else NO_DOCUMENT_SHA256,
        } | binding
        return SignerIdentity(seat.name, id_number_digest(seat.id_number, ID_DIGEST_KEY), stated["role"],
                              stated["case_number"], stated["side"], binding=SignerBinding(**stated))

    def certificate(self, seat: Seat, document: bytes, key: ec.EllipticCurvePrivateKey,
                    **binding: Any) -> x509.Certificate:
        """A genuine event certificate for ``seat`` on ``document`` (as the ceremony issues it)."""
        return self.pki.issue_event_certificate(key.public_key(), self.identity(seat, document, **binding))

    async def sign_in_browser(self, pdf: bytes, seat: Seat, key: ec.EllipticCurvePrivateKey | None = None,
                              cert: x509.Certificate | None = None,
                              evidence: SignatureEvidence = BROWSER_EVIDENCE) -> bytes:
        """Sign ``seat.field`` with ``cert`` (default: a certificate for that seat and document)."""
        key = key or ec.generate_private_key(ec.SECP256R1())
        cert = cert or self.certificate(seat, pdf, key)
        context = self.pki.validation_context()
        prepared = await prepare_external(pdf, seat.field, cert, self.pki.chain, StampText(seat.name, seat.role),
                                          self.timestamper, evidence=evidence, validation_context=context)
        return await finish_external(prepared, browser_sign(key, prepared.signed_attrs_der), self.timestamper,
                                     context)

    def organisation_seal(self, org_id: str = ORGANISATION_ID, name: str = ORGANISATION.name,
                          credit_code: str | None = ORGANISATION.credit_code) -> Seal:
        return self.seals.for_organisation(org_id, name, credit_code)

    async def seal(self, pdf: bytes, field: str = "seal", seal: Seal | None = None) -> bytes:
        """Seal ``field`` (default: with the seal of the organisation the samples name)."""
        seal = seal or self.organisation_seal()
        return await sign_with_key(pdf, field, seal.key, seal.cert, seal.chain,
                                   SealStamp(seal.holder.name, MEDIATION_SEAL_CAPTION), self.timestamper,
                                   self.seals.validation_context(), evidence=SEAL_EVIDENCE)

    async def full_agreement(self, seats: list[Seat] = SEATS) -> bytes:
        """Every seat signs in order (browser keys, seal server-held), then B-LTA."""
        pdf = blank_pdf([s.field for s in seats], seats=seats)
        for seat in seats:
            pdf = await (self.seal(pdf, seat.field) if seat.role == "organisation" else self.sign_in_browser(pdf, seat))
        return await finalize_lta(pdf, self.timestamper, self.seals.validation_context())


def provider_seal(provider: Platform, name: str, credit_code: str,
                   key: ec.EllipticCurvePrivateKey) -> bytes:
    """What an e-seal provider hands out: its CA issues the seal (credit code in an OU), PEM with its chain."""
    ca_key = provider.pki.read_private_key(provider.pki.directory / "signing-ca.key")
    ca = provider.pki.signing_ca_cert
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name}电子印章"),
                                 x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, credit_code),
                                 x509.NameAttribute(NameOID.ORGANIZATION_NAME, name)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            [x509.UniformResourceIdentifier("http://provider.test/ca.crl")], None, None, None)]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (cert, ca, provider.pki.root_cert))


def provider_crls(provider: Platform) -> list[bytes]:
    return [provider.pki.published_file("signing-ca.crl"), provider.pki.published_file("root.crl")]


def pdfsig(pdf: Path, root_pem: Path, work: Path) -> str:
    """Poppler's ``pdfsig`` output for ``pdf``, trusting ``root_pem`` (a fresh NSS database under
    ``work``; NSS trust flags are SSL,email,object-signing: document signers need the email flag)."""
    nss = work / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "accord-root", "-t", "C,C,C", "-i", str(root_pem)],
                   check=True, capture_output=True)
    return subprocess.run(["pdfsig", "-nssdir", f"sql:{nss}", str(pdf)], capture_output=True, text=True,
                          timeout=120).stdout
