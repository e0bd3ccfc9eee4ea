"""PAdES signing primitives on PDF bytes: browser-held keys, server-held keys, B-LTA.

Why interrupted signing: the signer's key never leaves their browser (ESL art. 13 (1)-(2)).
:func:`prepare_external` fixes the document and returns the DER of the CMS signed attributes
(``signed_attrs_der``, first byte 0x31); the browser signs exactly those bytes with WebCrypto
(ECDSA P-256 / SHA-256, which hashes them itself) and :func:`finish_external` verifies the
signature against the event certificate *before* embedding it.

Every signature is timestamped (B-T) and its validation data go into the DSS, in the
signature's own revision when a validation context is given at prepare time (B-LT);
:func:`finalize_lta` adds validation data for all signatures plus a document timestamp (B-LTA). All of it works offline: pass a ``ValidationContext`` with the CRLs preloaded and
``allow_fetching=False`` (:meth:`signing.pki.PlatformPKI.validation_context`).

Signing the same revision twice in parallel silently loses a signature: callers serialise
prepare -> finish per document.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from io import BytesIO
from pathlib import Path
from typing import Any, Coroutine, Protocol, TypeVar
from zoneinfo import ZoneInfo

from asn1crypto import cms, tsp
from asn1crypto.core import Void
from asn1crypto import keys as asn1_keys
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import AxisAlignment, InnerScaling, Margins, SimpleBoxLayoutRule
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_signer import (
    DSSContentSettings,
    PdfTBSDocument,
    PdfTimeStamper,
    SigDSSPlacementPreference,
)
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore, async_add_validation_info, collect_validation_info
from pyhanko.stamp import BaseStampStyle, StaticStampStyle, TextStampStyle
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathError, ValidationError
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .evidence import KeyCustody, SignatureEvidence
from .fonts import cjk_stamp_font
from .identity_print import fill_identity_field
from .pki import asn1_certificate
from .seal_image import SealImage

#: China Standard Time, for the time printed in stamps (the proven time is the TSA's).
CHINA_TIME = ZoneInfo("Asia/Shanghai")
_MD = "sha256"
# pyHanko's SigAppearanceSetup overwrites a "ts" parameter with its own UTC signing time, so the
# stamp's time goes in under another name, "when".
_STAMP_TEMPLATE = "签署人：%(signer)s\n身份：%(role)s\n时间：%(when)s"
# The placeholder only sizes the /Contents reservation; a DER ECDSA P-256 signature is <= 72
# bytes and RSA-4096 512, so 512 bytes of room covers every key we issue certificates for.
_PLACEHOLDER_SIGNATURE = bytes(512)
#: What pyHanko's certificate validator raises for a certificate that must not sign.
_INVALID_CERTIFICATE = (PathError, ValidationError)

T = TypeVar("T")


class SigningError(Exception):
    """A signing step was refused; the message says why."""


class Stamp(Protocol):
    """A signature's visible appearance: a pyHanko stamp style and its text parameters."""

    def style(self) -> BaseStampStyle: ...

    def params(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class StampText:
    """What the visible stamp says. ``font_path`` defaults to the cached CJK stamp font.

    ``signed_at`` is fixed when the stamp is made, so the font subset and the text agree; it is
    printed in ``time_zone`` with its offset, e.g. ``2026-11-29 23:56:52 (UTC+8)``.
    """

    name: str
    role: str
    font_path: Path | None = None
    time_zone: tzinfo = CHINA_TIME
    signed_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def style(self) -> TextStampStyle:
        font = self.font_path or cjk_stamp_font(_STAMP_TEMPLATE + self.name + self.role + self.params()["when"])
        return TextStampStyle(
            stamp_text=_STAMP_TEMPLATE,
            text_box_style=TextBoxStyle(font=GlyphAccumulatorFactory(str(font), font_size=10)),
            border_width=1,
        )

    def params(self) -> dict[str, str]:
        return {"signer": self.name, "role": self.role, "when": stamp_time(self.signed_at, self.time_zone)}


#: The line under the star of a mediation organisation's seal (a court's seal has none).
MEDIATION_SEAL_CAPTION = "调解专用章"
#: The round seal centred in the field's box, as large as the box allows.
_SEAL_LAYOUT = SimpleBoxLayoutRule(x_align=AxisAlignment.ALIGN_MID, y_align=AxisAlignment.ALIGN_MID,
                                   margins=Margins.uniform(1), inner_content_scaling=InnerScaling.STRETCH_TO_FIT)


@dataclass(frozen=True)
class SealStamp:
    """What an organisation's or a court's seal shows: its red round seal drawn from ``holder``
    (the name), with ``caption`` under the star (:mod:`signing.seal_image`). People's signatures
    keep :class:`StampText`."""

    holder: str
    caption: str = ""

    def style(self) -> StaticStampStyle:
        return StaticStampStyle(background=SealImage(self.holder, self.caption), background_layout=_SEAL_LAYOUT,
                                background_opacity=1.0, border_width=0)

    def params(self) -> dict[str, str]:
        return {}


def stamp_time(moment: datetime, time_zone: tzinfo = CHINA_TIME) -> str:
    """``2026-11-29 23:56:52 (UTC+8)``: local time with an offset a reader cannot misread."""
    if moment.tzinfo is None:
        raise ValueError("the signing time must carry a time zone")
    local = moment.astimezone(time_zone)
    offset = local.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    label = f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
    return local.strftime("%Y-%m-%d %H:%M:%S") + f" ({label})"


@dataclass
class PreparedSignature:
    """A document fixed for signing, waiting for the signer's signature value.

    ``signed_attrs_der`` is what the signer signs; ``prepared_pdf`` and ``byte_range`` let the
    signer's page check that ``document_digest`` (the messageDigest inside the signed
    attributes) is the SHA-256 of the bytes it was shown. The rest is state for
    :func:`finish_external`; an instance can be finished once.
    """

    field_name: str
    signed_attrs_der: bytes
    document_digest: bytes
    prepared_pdf: bytes
    byte_range: tuple[int, int, int, int]
    certificate: x509.Certificate
    _signed_attrs: cms.CMSAttributes = field(repr=False)
    _registry: SimpleCertificateStore = field(repr=False)
    _prep: Any = field(repr=False)
    _post_sign: Any = field(repr=False)
    _validation_embedded: bool = field(repr=False)
    _finished: bool = field(default=False, repr=False)


def _registry(chain: list[x509.Certificate]) -> SimpleCertificateStore:
    return SimpleCertificateStore.from_certs([asn1_certificate(c) for c in chain])


def key_signer(key: Any, cert: x509.Certificate, chain: list[x509.Certificate]) -> signers.SimpleSigner:
    """pyHanko's CMS signer for a key held here (seals, identity attestations), embedding ``chain``
    but no root."""
    key_der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return signers.SimpleSigner(signing_cert=asn1_certificate(cert), signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
                                cert_registry=_registry(chain), embed_roots=False)


def _metadata(field_name: str, evidence: SignatureEvidence,
              validation_context: ValidationContext | None) -> signers.PdfSignatureMetadata:
    """PAdES with the evidence as ``/Reason``; with a validation context the DSS goes into the
    signature's own revision (B-LT in one revision: half the revisions a verifier's modification
    analysis has to walk)."""
    if validation_context is None:
        return signers.PdfSignatureMetadata(field_name=field_name, md_algorithm=_MD, reason=evidence.reason(),
                                            subfilter=fields.SigSeedSubFilter.PADES)
    return signers.PdfSignatureMetadata(
        field_name=field_name, md_algorithm=_MD, subfilter=fields.SigSeedSubFilter.PADES, reason=evidence.reason(),
        embed_validation_info=True, validation_context=validation_context,
        dss_settings=DSSContentSettings(placement=SigDSSPlacementPreference.TOGETHER_WITH_SIGNATURE,
                                        include_vri=False),
    )


async def _check_certificate(cert: x509.Certificate, chain: list[x509.Certificate],
                             validation_context: ValidationContext) -> None:
    validator = CertificateValidator(asn1_certificate(cert), intermediate_certs=[asn1_certificate(c) for c in chain],
                                     validation_context=validation_context)
    try:
        await validator.async_validate_usage({"non_repudiation"})
    except _INVALID_CERTIFICATE as exc:
        raise SigningError(f"the signer's certificate does not validate, nothing was embedded: {exc}") from None


def _check_field(pdf: bytes, field_name: str) -> None:
    """Refuse early, with a clear message, a field that is missing or already signed."""
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        for name, value, _ref in fields.enumerate_sig_fields(reader, filled_status=None):
            if name == field_name:
                if value is not None:
                    raise SigningError(f"signature field {field_name!r} is already signed")
                return
    except SigningError:
        raise
    except Exception as exc:  # pyHanko raises many types on damaged input
        raise SigningError(f"the document cannot be read: {exc}") from None
    raise SigningError(f"the document has no signature field {field_name!r}")


def _stamp_signer(signature_meta: signers.PdfSignatureMetadata, signer: signers.Signer,
                  stamp: Stamp, timestamper: TimeStamper | None) -> signers.PdfSigner:
    return signers.PdfSigner(signature_meta, signer=signer, timestamper=timestamper, stamp_style=stamp.style())


def _writer_with_identity(pdf: bytes, field: str, evidence: SignatureEvidence) -> IncrementalPdfFileWriter:
    """The signature's revision, with the signer's identity checks printed in the appendix box
    (when the evidence has lines and the document has the box): the signature then covers them."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    if evidence.printed_identity:
        fill_identity_field(writer, field, list(evidence.printed_identity))
    return writer


def _byte_range(pdf: bytes, reserved_start: int, reserved_end: int) -> tuple[int, int, int, int]:
    return (0, reserved_start, reserved_end, len(pdf) - reserved_end)


async def _prepare_external(pdf: bytes, field: str, cert: x509.Certificate, chain: list[x509.Certificate],
                            stamp: Stamp, timestamper: TimeStamper, evidence: SignatureEvidence,
                            validation_context: ValidationContext | None) -> PreparedSignature:
    _check_field(pdf, field)
    if validation_context is not None:
        await _check_certificate(cert, chain, validation_context)
    asn1_cert = asn1_certificate(cert)
    registry = _registry(chain)
    placeholder = signers.ExternalSigner(asn1_cert, registry, signature_value=_PLACEHOLDER_SIGNATURE,
                                         embed_roots=False)
    pdf_signer = _stamp_signer(_metadata(field, evidence, validation_context), placeholder, stamp, timestamper)
    writer = _writer_with_identity(pdf, field, evidence)
    prep, tbs, output = await pdf_signer.async_digest_doc_for_signing(
        writer, existing_fields_only=True, appearance_text_params=stamp.params())
    signed_attrs = await placeholder.signed_attrs(prep.document_digest, _MD, use_pades=True)
    prepared = output.getvalue()
    return PreparedSignature(
        field_name=field,
        signed_attrs_der=signed_attrs.dump(),
        document_digest=prep.document_digest,
        prepared_pdf=prepared,
        byte_range=_byte_range(prepared, prep.reserved_region_start, prep.reserved_region_end),
        certificate=cert,
        _signed_attrs=signed_attrs,
        _registry=registry,
        _prep=prep,
        _post_sign=tbs.post_sign_instructions,
        _validation_embedded=validation_context is not None,
    )


def signature_to_der(signature: bytes, public_key: Any) -> bytes:
    """Normalise a signature value for CMS: ECDSA raw ``r||s`` (WebCrypto) becomes DER."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        size = (public_key.curve.key_size + 7) // 8
        if len(signature) == 2 * size:
            return encode_dss_signature(int.from_bytes(signature[:size], "big"),
                                        int.from_bytes(signature[size:], "big"))
        try:
            r, s = decode_dss_signature(signature)
        except ValueError:
            raise SigningError(f"the signature is neither raw r||s ({2 * size} bytes) nor DER ECDSA") from None
        return encode_dss_signature(r, s)
    return signature


def _verify_value(cert: x509.Certificate, signature_der: bytes, message: bytes) -> None:
    public_key = cert.public_key()
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature_der, message, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature_der, message, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise SigningError(f"unsupported key type {type(public_key).__name__}")
    except InvalidSignature:
        raise SigningError("the signature does not verify against the signer's certificate over the "
                           "prepared signed attributes (wrong key, or different bytes were signed)") from None


async def _add_validation_info(pdf: bytes, field_name: str, validation_context: ValidationContext) -> bytes:
    """B-LT: put the signer's and TSA's chain and revocation data into the DSS."""
    reader = PdfFileReader(BytesIO(pdf))
    embedded = next(s for s in reader.embedded_regular_signatures if s.field_name == field_name)
    try:
        out = await async_add_validation_info(embedded, validation_context, output=BytesIO())
    except _INVALID_CERTIFICATE as exc:
        raise SigningError(f"the signer's certificate does not validate, nothing was embedded: {exc}") from None
    return out.getvalue()


async def _finish_external(prepared: PreparedSignature, signature: bytes, timestamper: TimeStamper,
                           validation_context: ValidationContext) -> bytes:
    if prepared._finished:
        raise SigningError("this prepared signature was already finished")
    signature_der = signature_to_der(signature, prepared.certificate.public_key())
    _verify_value(prepared.certificate, signature_der, prepared.signed_attrs_der)
    ext = signers.ExternalSigner(asn1_certificate(prepared.certificate), prepared._registry,
                                 signature_value=signature_der, embed_roots=False)
    signed = await ext.async_sign_prescribed_attributes(_MD, signed_attrs=prepared._signed_attrs,
                                                        timestamper=timestamper)
    if prepared._validation_embedded:  # checked at prepare; a revocation since then still stops it
        await _check_certificate(prepared.certificate, [], validation_context)
    output = BytesIO(prepared.prepared_pdf)
    await PdfTBSDocument.async_finish_signing(output, prepared._prep, signed,
                                              post_sign_instr=prepared._post_sign)
    prepared._finished = True
    if prepared._validation_embedded:
        return output.getvalue()
    return await _add_validation_info(output.getvalue(), prepared.field_name, validation_context)


async def _sign_with_key(pdf: bytes, field: str, key: Any, cert: x509.Certificate, chain: list[x509.Certificate],
                         stamp: Stamp, timestamper: TimeStamper, validation_context: ValidationContext,
                         evidence: SignatureEvidence) -> bytes:
    _check_field(pdf, field)
    signer = key_signer(key, cert, chain)
    await _check_certificate(cert, chain, validation_context)
    pdf_signer = _stamp_signer(_metadata(field, evidence, validation_context), signer, stamp, timestamper)
    out = await pdf_signer.async_sign_pdf(_writer_with_identity(pdf, field, evidence), existing_fields_only=True,
                                          appearance_text_params=stamp.params())
    return out.getvalue()


async def _finalize_lta(pdf: bytes, timestamper: TimeStamper, validation_context: ValidationContext) -> bytes:
    reader = PdfFileReader(BytesIO(pdf))
    signatures = reader.embedded_regular_signatures
    if not signatures:
        raise SigningError("the document has no signatures to archive")
    paths = []
    for embedded in signatures:
        try:
            paths.extend(await collect_validation_info(embedded, validation_context))
        except _INVALID_CERTIFICATE as exc:
            raise SigningError(f"signature {embedded.field_name!r} does not validate, not archiving: {exc}") from None
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    DocumentSecurityStore.supply_dss_in_writer(writer, None, paths=paths, validation_context=validation_context)
    out = await PdfTimeStamper(timestamper).async_timestamp_pdf(
        writer, _MD, validation_context=validation_context, output=BytesIO())
    return out.getvalue()


async def _renew_archive_timestamp(pdf: bytes, timestamper: TimeStamper,
                                   validation_context: ValidationContext) -> bytes:
    reader = PdfFileReader(BytesIO(pdf))
    out = await PdfTimeStamper(timestamper).async_update_archival_timestamp_chain(
        reader, validation_context, in_place=False, output=BytesIO())
    return out.getvalue()


async def off_loop(work: Coroutine[Any, Any, T]) -> T:
    """pyHanko's async API still does its CPU work (fonts, hashing, validation) on the calling
    loop; run it on a loop of its own in a worker thread so the server stays responsive."""
    return await asyncio.to_thread(asyncio.run, work)


async def prepare_external(pdf: bytes, field: str, cert: x509.Certificate, chain: list[x509.Certificate],
                           stamp: Stamp, timestamper: TimeStamper, *, evidence: SignatureEvidence,
                           validation_context: ValidationContext | None = None) -> PreparedSignature:
    """Fix the document for a signature by a key held elsewhere (the signer's browser).

    ``evidence`` (key custody, identity-check reference) goes into the signed ``/Reason``. Pass
    ``validation_context`` to check the certificate now and put its validation data into the
    signature's own revision (recommended); without it :func:`finish_external` adds them in a
    revision of their own.
    """
    return await off_loop(_prepare_external(pdf, field, cert, chain, stamp, timestamper, evidence,
                                             validation_context))


async def finish_external(prepared: PreparedSignature, signature: bytes, timestamper: TimeStamper,
                          validation_context: ValidationContext) -> bytes:
    """Embed the signer's signature (raw P1363 or DER) after checking it; returns the B-LT PDF."""
    return await off_loop(_finish_external(prepared, signature, timestamper, validation_context))


async def sign_with_key(pdf: bytes, field: str, key: Any, cert: x509.Certificate, chain: list[x509.Certificate],
                        stamp: Stamp, timestamper: TimeStamper, validation_context: ValidationContext, *,
                        evidence: SignatureEvidence) -> bytes:
    """Sign with a key the server holds (the organisation or court seal, with a :class:`SealStamp`; the
    no-WebCrypto fallback); the ``evidence`` (normally ``server`` custody) goes into the signed
    ``/Reason``. Returns the B-LT PDF."""
    return await off_loop(_sign_with_key(pdf, field, key, cert, chain, stamp, timestamper, validation_context,
                                          evidence))


async def finalize_lta(pdf: bytes, timestamper: TimeStamper, validation_context: ValidationContext) -> bytes:
    """B-LTA: fresh validation data for every signature, then a closing document timestamp."""
    return await off_loop(_finalize_lta(pdf, timestamper, validation_context))


async def renew_archive_timestamp(pdf: bytes, timestamper: TimeStamper,
                                  validation_context: ValidationContext) -> bytes:
    """Add validation data for the last document timestamp and a new one (before its TSA cert expires)."""
    return await off_loop(_renew_archive_timestamp(pdf, timestamper, validation_context))


def document_digest(prepared_pdf: bytes, byte_range: tuple[int, int, int, int]) -> bytes:
    """SHA-256 over a signature's byte ranges: what a signer's page recomputes to check what it signs."""
    start1, len1, start2, len2 = byte_range
    digest = hashlib.sha256()
    digest.update(prepared_pdf[start1:start1 + len1])
    digest.update(prepared_pdf[start2:start2 + len2])
    return digest.digest()


def signature_timestamp_time(pdf: bytes, field_name: str) -> datetime:
    """The genTime of the RFC 3161 token in the signature on ``field_name``: the time the TSA
    vouches for (every signature here is B-T or better). Parses the PDF: call from a worker thread.
    Raises :class:`SigningError` if the field is unsigned or its signature carries no token."""
    reader = PdfFileReader(BytesIO(pdf))
    embedded = next((s for s in reader.embedded_regular_signatures if s.field_name == field_name), None)
    if embedded is None:
        raise SigningError(f"field {field_name} carries no signature")
    unsigned = embedded.signer_info["unsigned_attrs"]
    tokens = [] if isinstance(unsigned, Void) else \
        [a["values"][0] for a in unsigned if a["type"].native == "signature_time_stamp_token"]
    if len(tokens) != 1:
        raise SigningError(f"the signature on {field_name} carries {len(tokens)} timestamp tokens, not one")
    tst_info = tsp.TSTInfo.load(tokens[0]["content"]["encap_content_info"]["content"].contents)
    gen_time: datetime = tst_info["gen_time"].native
    return gen_time.astimezone(timezone.utc)
