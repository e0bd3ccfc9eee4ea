"""Shared builders for the PKI / PAdES / verification tests and bench/signing.py, bench/security.py.

A simple reportlab PDF with pre-created empty signature fields stands in for the agreement
(signing-B renders the real one); signers are played by Python keys: "browser" parties sign the
DER signed attributes with ECDSA P-256 and hand back raw r||s as WebCrypto does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigFieldSpec, append_signature_field
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from signing.pades import KeyCustody, SignatureEvidence, StampText, finalize_lta, finish_external, prepare_external, \
    sign_with_key
from signing.pki import PlatformPKI, SignerIdentity, id_number_digest
from signing.tsa import InProcessTimeStamper, TimeStampAuthority
from signing.verification import EXPECTED_FIELDS_KEY

#: The platform secret for ID-number digests in these tests.
ID_DIGEST_KEY = b"accord-test-id-digest-key-32byte"
#: What a browser-held-key signature states, and the seal's statement.
BROWSER_EVIDENCE = SignatureEvidence(KeyCustody.BROWSER, "test 2026-11-29T15:56:52Z score=1.000")
SEAL_EVIDENCE = SignatureEvidence(KeyCustody.SERVER)

PAGE_TEXT = "Mediation agreement CASE-1: the respondent pays 50000 CNY by 2026-12-31."


@dataclass(frozen=True)
class Seat:
    field: str
    name: str
    role: str
    side: str | None
    id_number: str


SEATS = [
    Seat("party_applicant", "张三", "party", "applicant", "110105198503121234"),
    Seat("party_respondent", "李四", "party", "respondent", "31010419900101456X"),
    Seat("mediator", "赵调解", "mediator", None, "110101197508083210"),
    Seat("seal", "", "seal", None, ""),
]
#: Five signatures: both parties, the respondent's agent, the mediator and the seal.
FIVE_SEATS = [*SEATS[:2], Seat("agent_respondent", "王律师", "agent", "respondent", "440103198005207890"), *SEATS[2:]]


def blank_pdf(field_names: list[str], text: str = PAGE_TEXT) -> bytes:
    """One page of text plus an empty signature field per name, and the expected-fields list."""
    buf = BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.drawString(72, 770, text)
    c.showPage()
    c.save()
    writer = IncrementalPdfFileWriter(BytesIO(buf.getvalue()))
    writer.root[generic.NameObject(EXPECTED_FIELDS_KEY)] = generic.TextStringObject(json.dumps(field_names))
    writer.update_root()
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


def browser_sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """What WebCrypto's ECDSA P-256/SHA-256 returns: raw r||s, 64 bytes."""
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


class Platform:
    """A development PKI plus its in-process TSA, in a temporary directory."""

    def __init__(self, pki: PlatformPKI):
        self.pki = pki
        self.timestamper = InProcessTimeStamper(TimeStampAuthority(pki))

    @classmethod
    def create(cls, directory: Path, org_name: str = "朝阳区人民调解委员会") -> "Platform":
        return cls(PlatformPKI.init(directory, "test-passphrase", "http://accord.test", org_name))

    def identity(self, seat: Seat) -> SignerIdentity:
        return SignerIdentity(seat.name, id_number_digest(seat.id_number, ID_DIGEST_KEY), seat.role, "CASE-1", seat.side)

    async def sign_in_browser(self, pdf: bytes, seat: Seat, key: ec.EllipticCurvePrivateKey | None = None,
                              cert: x509.Certificate | None = None) -> bytes:
        key = key or ec.generate_private_key(ec.SECP256R1())
        cert = cert or self.pki.issue_event_certificate(key.public_key(), self.identity(seat))
        context = self.pki.validation_context()
        prepared = await prepare_external(pdf, seat.field, cert, self.pki.chain, StampText(seat.name, seat.role),
                                          self.timestamper, evidence=BROWSER_EVIDENCE, validation_context=context)
        return await finish_external(prepared, browser_sign(key, prepared.signed_attrs_der), self.timestamper,
                                     context)

    async def seal(self, pdf: bytes, field: str = "seal") -> bytes:
        return await sign_with_key(pdf, field, self.pki.seal_key, self.pki.seal_cert, self.pki.chain,
                                   StampText(self.pki.org_name, "调解组织"), self.timestamper,
                                   self.pki.validation_context(), evidence=SEAL_EVIDENCE)

    async def full_agreement(self, seats: list[Seat] = SEATS) -> bytes:
        """Every seat signs in order (browser keys, seal server-held), then B-LTA."""
        pdf = blank_pdf([s.field for s in seats])
        for seat in seats:
            pdf = await (self.seal(pdf, seat.field) if seat.role == "seal" else self.sign_in_browser(pdf, seat))
        return await finalize_lta(pdf, self.timestamper, self.pki.validation_context())
