"""Verification of signed mediation agreements, for courts, offline.

Why more than pyHanko's AdES verdict: the AdES indication stays PASSED after an incremental
update that rewrites page text or adds an annotation, and a file cut back to an earlier revision
is a genuine earlier document with fewer signatures. So an agreement is valid only if

* every expected field (the JSON list under :data:`EXPECTED_FIELDS_KEY` in the catalog, or the
  caller's list) carries a signature,
* every signature is intact, cryptographically valid, and passes AdES long-term validation judged
  at the time its timestamp proves (short-lived event certificates have expired by the time a
  court looks; the embedded CRLs and document timestamps give the proof of existence),
* every signature's modification analysis is clean (only form filling, further signatures and
  archival updates after it), and
* the last revision is covered by a document timestamp (B-LTA).

Reasons are machine codes plus human text. Hostile input (not a PDF, truncated, huge, bombs)
raises :class:`VerificationError`; :func:`verify_upload_safely` also bounds time and memory by
running every step that reads the file's bytes in a child process: the parse, the judgement and
the revision hashes that match the file to its case (:mod:`signing.case_match`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import multiprocessing
import re
import resource
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from io import BytesIO
from typing import TYPE_CHECKING, Any

from asn1crypto import crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, DiffResult, ModificationLevel
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import async_validate_pdf_timestamp
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.policy_decl import (
    CertificateFetchingRule,
    LocalKnowledge,
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESStatus
from pyhanko_certvalidator.authority import CertTrustAnchor
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import (
    REQUIRE_REVINFO,
    CertRevTrustPolicy,
    FreshnessReqType,
)
from pyhanko_certvalidator.registry import SimpleTrustManager
from pyhanko_certvalidator.revinfo.archival import CRLContainer

from . import oids
from .pades import SignatureEvidence
from .pki import asn1_certificate

if TYPE_CHECKING:
    from .case_match import CaseMatch

#: Catalog key holding the JSON list of signature fields the agreement must carry.
EXPECTED_FIELDS_KEY = "/AccordExpectedFields"
#: Largest file the verifier reads (an agreement with a few signatures is well under 1 MB).
MAX_PDF_BYTES = 20 * 1024 * 1024
#: Wall-clock budget and address-space cap for :func:`verify_agreement_bytes_safely`.
DEFAULT_TIMEOUT_SECONDS = 30.0
CHILD_MEMORY_BYTES = 1536 * 1024 * 1024
#: ``%%EOF`` markers the verifier accepts. Each revision of an agreement ends with one (the locked
#: PDF, each signature, validation data, each document timestamp): a few dozen, even after years
#: of archive timestamp renewals.
MAX_REVISIONS = 200
#: A revision ends after ``%%EOF`` and its line end (none, CR, LF or CRLF).
_EOF = re.compile(rb"%%EOF[\r\n]{0,2}")

_SIGNATURE_LEVELS_OK = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING)
_TIMESTAMP_LEVELS_OK = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
_REVOKED = (AdESIndeterminate.REVOKED_NO_POE, AdESIndeterminate.REVOKED_CA_NO_POE, AdESFailure.REVOKED)
#: AdES sub-indications that mean "no proof of existence at the validation time" (not "bad").
_NEEDS_EARLIER_TIME = {"NO_POE", "OUT_OF_BOUNDS_NO_POE", "REVOCATION_OUT_OF_BOUNDS_NO_POE", "TRY_LATER"}


class VerificationError(Exception):
    """The input cannot be verified at all (not a PDF, too large, malformed, too costly)."""


@dataclass(frozen=True)
class Reason:
    code: str
    message: str


@dataclass
class SignerInfo:
    """Who signed, as the event certificate's subject says."""

    name: str | None
    role: str | None
    case_number: str | None
    side: str | None
    id_number_digest: str | None
    organisation: str | None


@dataclass
class SignatureReport:
    field: str
    signer: SignerInfo
    certificate_serial: str
    chain: list[str]
    intact: bool
    valid: bool
    trusted: bool
    signing_time: str | None
    timestamp_ok: bool
    revocation: str
    coverage: str | None
    modification_level: str | None
    docmdp_ok: bool | None
    bottom_line: bool
    ades_indication: str
    ades_subindication: str | None
    ok: bool
    reasons: list[Reason] = field(default_factory=list)
    #: From the signed ``/Reason`` (:class:`signing.pades.SignatureEvidence`): ``browser`` or
    #: ``server``, and the identity check that allowed the signature; ``None`` if not stated.
    key_custody: str | None = None
    identity_check: str | None = None


@dataclass
class DocumentTimestampReport:
    field: str
    time: str | None
    tsa: str | None
    intact: bool
    valid: bool
    trusted: bool
    coverage: str | None
    modification_level: str | None
    ok: bool
    reasons: list[Reason] = field(default_factory=list)


@dataclass
class AgreementReport:
    valid: bool
    expected_fields: list[str]
    signed_fields: list[str]
    signatures: list[SignatureReport]
    document_timestamps: list[DocumentTimestampReport]
    judged_at: str
    notes: list[str] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    #: The agreement's case on the platform that verified it (:mod:`signing.case_match`); ``None`` offline.
    platform: CaseMatch | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def failure_codes(self) -> set[str]:
        """Every reason code in the report (document and signatures), for quick checks."""
        codes = {r.code for r in self.reasons}
        for item in [*self.signatures, *self.document_timestamps]:
            codes.update(r.code for r in item.reasons)
        return codes


def _enum_name(value: Any) -> str | None:
    return None if value is None else getattr(value, "name", str(value))


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(timezone.utc).isoformat()


def _subject_value(cert: asn1_x509.Certificate, key: str) -> str | None:
    for rdn in cert.subject.chosen:
        for attr in rdn:
            if attr["type"].dotted == key or attr["type"].native == key:
                value = attr["value"].native
                return value if isinstance(value, str) else str(value)
    return None


def _signer_info(cert: asn1_x509.Certificate) -> SignerInfo:
    return SignerInfo(
        name=_subject_value(cert, "common_name"),
        role=_subject_value(cert, "title"),
        case_number=_subject_value(cert, "organizational_unit_name"),
        side=_subject_value(cert, oids.SIDE_ATTRIBUTE),
        id_number_digest=_subject_value(cert, "serial_number"),
        organisation=_subject_value(cert, "organization_name"),
    )


def _policy(trust_roots: list[asn1_x509.Certificate], extra_crls: list[bytes]) -> PdfSignatureValidationSpec:
    cert_policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=[CertTrustAnchor(c) for c in trust_roots]),
        revinfo_policy=CertRevTrustPolicy(
            REQUIRE_REVINFO, freshness=None, freshness_req_type=FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION),
    )
    offline = RevocationInfoGatheringSpec(online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY,
                                          certificate_fetching_rule=CertificateFetchingRule.NEVER_FETCH)
    return PdfSignatureValidationSpec(
        signature_validation_spec=SignatureValidationSpec(
            cert_validation_policy=cert_policy, revinfo_gathering_policy=offline,
            local_knowledge=LocalKnowledge(known_crls=[CRLContainer(crl.CertificateList.load(c)) for c in extra_crls])),
        diff_policy=None,
    )


def revision_prefix_hashes(pdf: bytes, max_revisions: int = MAX_REVISIONS) -> list[str]:
    """SHA-256 of the bytes up to each ``%%EOF``, first revision first, in one pass over the file.

    Where a revision ends among the line-end bytes after ``%%EOF`` is not marked (the next update
    may start with one), so each cut in the first two of them counts: at most three hashes per
    marker, each of a different prefix. Past ``max_revisions`` markers the file is refused: no
    agreement has that many revisions, and the platform lookup takes a bounded list.
    """
    view = memoryview(pdf)
    hashes: list[str] = []
    running, fed = hashlib.sha256(), 0
    for count, marker in enumerate(_EOF.finditer(pdf), start=1):
        if count > max_revisions:
            raise VerificationError(f"the PDF has more than {max_revisions} end-of-file markers; an agreement "
                                    f"has one per revision, a few dozen at most")
        for end in range(marker.start() + 5, marker.end() + 1):
            running.update(view[fed:end])
            fed = end
            hashes.append(running.copy().hexdigest())
    return hashes


def _open(pdf: bytes, max_bytes: int) -> PdfFileReader:
    if len(pdf) > max_bytes:
        raise VerificationError(f"the file is {len(pdf)} bytes; the verifier accepts at most {max_bytes}")
    if b"%PDF-" not in pdf[:1024]:
        raise VerificationError("not a PDF (no %PDF- header)")
    if b"%%EOF" not in pdf[-2048:]:
        raise VerificationError("the PDF is truncated (no %%EOF at the end)")
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=True)
        reader.root  # noqa: B018 - forces the trailer and catalog to parse
        return reader
    except RecursionError:
        raise VerificationError("the PDF nests objects too deeply to be read safely") from None
    except MemoryError:
        raise VerificationError("the PDF needs too much memory to be read") from None
    except Exception as exc:  # pyHanko raises many types on malformed input
        raise VerificationError(f"the PDF cannot be read: {exc}") from None


def _expected_fields(reader: PdfFileReader, given: list[str] | None, reasons: list[Reason]) -> list[str]:
    if given is not None:
        return list(given)
    raw = reader.root.get(EXPECTED_FIELDS_KEY)
    if raw is None:
        reasons.append(Reason("expected_fields_unknown",
                              "the document does not list its expected signature fields and none were given"))
        return []
    try:
        names = json.loads(str(raw))
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or not names:
            raise ValueError("not a non-empty list of strings")
    except ValueError as exc:
        reasons.append(Reason("expected_fields_unknown", f"the expected-fields list is malformed: {exc}"))
        return []
    return names


def _chain(status: Any) -> list[str]:
    path = getattr(status, "validation_path", None)
    if path is None:
        return []
    return [cert.subject.human_friendly for cert in reversed(list(path.iter_certs(include_root=True)))]


async def _signature_report(embedded: Any, spec: PdfSignatureValidationSpec,
                            timing: ValidationTimingInfo) -> SignatureReport:
    result = await ades_lta_validation(embedded, spec, timing_info=timing)
    status = result.api_status
    cert = embedded.signer_cert
    subindic = result.ades_subindic
    intact = bool(status and status.intact)
    valid = bool(status and status.valid)
    # Without a later document timestamp pyHanko's past validation has no proof of existence;
    # a chain that validates *now* with the embedded revocation data is then good enough.
    trusted_now = bool(status and status.trusted)
    passed = subindic.status is AdESStatus.PASSED or (trusted_now and subindic.name in _NEEDS_EARLIER_TIME)
    revoked = subindic in _REVOKED or getattr(status, "revocation_details", None) is not None
    reasons: list[Reason] = []
    if not intact:
        reasons.append(Reason("not_intact", "the signed bytes were changed after signing (digest mismatch)"))
    elif not valid:
        reasons.append(Reason("bad_signature", "the signature value does not verify"))
    if revoked:
        reasons.append(Reason("revoked", "the signer's certificate (or its CA) was revoked before the signature "
                                         "was proven to exist"))
    elif subindic is AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND:
        reasons.append(Reason("untrusted", "the certificate does not chain to a trusted root"))
    elif not passed and intact and valid:
        reasons.append(Reason("ades_" + subindic.name.lower(),
                              f"long-term validation: {subindic.status.name} / {subindic.name}"
                              + (f" ({result.failure_msg})" if result.failure_msg else "")))
    revocation = "revoked" if revoked else ("good" if passed else "unknown")
    # Modification analysis once per signature (pyHanko's AdES path would redo it for every
    # document timestamp of every signature).
    embedded.compute_integrity_info(diff_policy=DEFAULT_DIFF_POLICY)
    integrity = embedded.summarise_integrity_info()
    diff = integrity.get("diff_result")
    level = diff.modification_level if isinstance(diff, DiffResult) else (
        ModificationLevel.OTHER if diff is not None else None)
    coverage = _enum_name(integrity["coverage"])
    docmdp_ok = integrity["docmdp_ok"]
    if level not in _SIGNATURE_LEVELS_OK or not docmdp_ok:
        reasons.append(Reason("modified_after_signing",
                              f"the document was changed after this signature in a way signatures do not allow "
                              f"(modification level {_enum_name(level)}"
                              + (f": {diff}" if diff is not None and not isinstance(diff, DiffResult) else "") + ")"))
    ts_status = getattr(status, "timestamp_validity", None)
    timestamp_ok = bool(ts_status and ts_status.intact and ts_status.valid)
    if not timestamp_ok:
        reasons.append(Reason("no_signature_timestamp", "the signature has no valid timestamp"))
    signing_time = ts_status.timestamp if ts_status else None
    evidence = SignatureEvidence.parse(_text(embedded.sig_object.get("/Reason")))
    return SignatureReport(
        field=embedded.field_name,
        signer=_signer_info(cert),
        certificate_serial=f"{cert.serial_number:x}",
        chain=_chain(status),
        intact=intact,
        valid=valid,
        trusted=passed,
        signing_time=_iso(signing_time),
        timestamp_ok=timestamp_ok,
        revocation=revocation,
        coverage=coverage,
        modification_level=_enum_name(level),
        docmdp_ok=docmdp_ok,
        bottom_line=intact and valid and passed and bool(docmdp_ok),
        ades_indication=subindic.status.name,
        ades_subindication=subindic.name,
        ok=not reasons,
        reasons=reasons,
        key_custody=evidence.key_custody.value if evidence else None,
        identity_check=evidence.identity_check if evidence else None,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


async def _timestamp_report(embedded: Any, reader: PdfFileReader, trust_roots: list[asn1_x509.Certificate],
                            extra_crls: list[bytes], moment: datetime) -> DocumentTimestampReport:
    dss = DocumentSecurityStore.read_dss(reader)
    vc = dss.as_validation_context({"trust_roots": trust_roots, "allow_fetching": False, "crls": extra_crls,
                                    "revocation_mode": "hard-fail", "moment": moment})
    status = await async_validate_pdf_timestamp(embedded, validation_context=vc, diff_policy=DEFAULT_DIFF_POLICY)
    reasons: list[Reason] = []
    if not (status.intact and status.valid):
        reasons.append(Reason("timestamp_not_intact", "the document timestamp does not match the document"))
    elif not status.trusted:
        reasons.append(Reason("timestamp_untrusted", "the document timestamp's TSA does not chain to a trusted root"))
    if status.modification_level not in _TIMESTAMP_LEVELS_OK:
        reasons.append(Reason("modified_after_timestamp", "the document was changed after the document timestamp"))
    return DocumentTimestampReport(
        field=embedded.field_name,
        time=_iso(status.timestamp),
        tsa=embedded.signer_cert.subject.human_friendly,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        coverage=_enum_name(status.coverage),
        modification_level=_enum_name(status.modification_level),
        ok=not reasons,
        reasons=reasons,
    )


def _as_asn1(cert: x509.Certificate | asn1_x509.Certificate | bytes) -> asn1_x509.Certificate:
    if isinstance(cert, asn1_x509.Certificate):
        return cert
    if isinstance(cert, bytes):
        return asn1_x509.Certificate.load(cert)
    return asn1_certificate(cert)




def _raise_too_complex(exc: BaseException) -> None:
    if isinstance(exc, (RecursionError, MemoryError)):
        raise VerificationError("the PDF is too complex to be verified safely") from None


async def _judge(regular: list[Any], timestamps: list[Any], reader: PdfFileReader,
                 roots: list[asn1_x509.Certificate], extra_crls: list[bytes], moment: datetime,
                 point_in_time: bool) -> tuple[list[SignatureReport], list[DocumentTimestampReport]]:
    spec = _policy(roots, extra_crls)
    timing = ValidationTimingInfo(validation_time=moment, best_signature_time=moment,
                                  point_in_time_validation=point_in_time)
    signatures = []
    for embedded in regular:
        try:
            signatures.append(await _signature_report(embedded, spec, timing))
        except Exception as exc:
            _raise_too_complex(exc)
            signatures.append(_unreadable_signature(embedded.field_name, exc))
    stamps = []
    for embedded in timestamps:
        try:
            stamps.append(await _timestamp_report(embedded, reader, roots, extra_crls, moment))
        except Exception as exc:
            _raise_too_complex(exc)
            stamps.append(DocumentTimestampReport(embedded.field_name, None, None, False, False, False, None, None,
                                                  False, [Reason("timestamp_unreadable", str(exc))]))
    return signatures, stamps


async def async_verify_agreement(pdf: bytes, trust_roots: list[x509.Certificate],
                                 expected_fields: list[str] | None = None, *,
                                 as_of: datetime | None = None,
                                 current_crls: list[bytes] | None = None,
                                 require_document_timestamp: bool = True,
                                 max_bytes: int = MAX_PDF_BYTES) -> AgreementReport:
    """See the module docstring.

    Judged now by default. If the embedded revocation data are too old for that (a court checks
    after the CRLs' next update), the agreement is judged at the time of its last document
    timestamp instead and the report says so in ``notes``; ``current_crls`` (DER, e.g. fetched
    from the platform) let it be judged now. ``as_of`` replaces "now" (e.g. to see what a court
    will see in a year).
    """
    if not trust_roots:
        raise VerificationError("at least one trust root is needed")
    reader = _open(pdf, max_bytes)
    roots = [_as_asn1(c) for c in trust_roots]
    crls = list(current_crls or [])
    reasons: list[Reason] = []
    notes: list[str] = []
    expected = _expected_fields(reader, expected_fields, reasons)
    try:
        regular = list(reader.embedded_regular_signatures)
        timestamps = list(reader.embedded_timestamp_signatures)
        all_fields = {name: value for name, value, _ref in enumerate_sig_fields(reader, filled_status=None)}
    except Exception as exc:
        _raise_too_complex(exc)
        raise VerificationError(f"the signature fields cannot be read: {exc}") from None
    moment = as_of or datetime.now(timezone.utc)
    signatures, stamps = await _judge(regular, timestamps, reader, roots, crls, moment, as_of is not None)
    archive_times = [datetime.fromisoformat(t.time) for t in stamps if t.time is not None]
    if archive_times and any(not s.ok and s.ades_subindication in _NEEDS_EARLIER_TIME for s in signatures):
        moment = max(archive_times)
        signatures, stamps = await _judge(regular, timestamps, reader, roots, crls, moment, True)
        notes.append(f"the embedded revocation data no longer cover today; judged at the last document "
                     f"timestamp ({_iso(moment)}). Revocation of the TSA after that time is not covered: "
                     f"renew the archive timestamp or supply current CRLs.")
    signed = [s.field for s in signatures]
    for name in expected:
        if name not in signed:
            why = "is empty" if name in all_fields else "does not exist in the document"
            reasons.append(Reason("field_not_signed", f"expected signature field {name!r} {why}"))
    for name in signed:
        if expected and name not in expected:
            reasons.append(Reason("unexpected_signature", f"signature field {name!r} is not an expected field"))
    if require_document_timestamp and not stamps:
        reasons.append(Reason("no_document_timestamp", "no document timestamp closes the agreement (not B-LTA)"))
    if not regular and not timestamps:
        reasons.append(Reason("no_signatures", "the document carries no signatures"))
    valid = not reasons and all(s.ok for s in signatures) and all(t.ok for t in stamps)
    if not valid and not reasons:
        reasons.append(Reason("signature_failed", "at least one signature or timestamp failed (see below)"))
    return AgreementReport(valid=valid, expected_fields=expected, signed_fields=signed, signatures=signatures,
                           document_timestamps=stamps, judged_at=_iso(moment) or "", notes=notes, reasons=reasons)


def _unreadable_signature(field_name: str, exc: Exception) -> SignatureReport:
    return SignatureReport(
        field=field_name, signer=SignerInfo(None, None, None, None, None, None), certificate_serial="",
        chain=[], intact=False, valid=False, trusted=False, signing_time=None, timestamp_ok=False,
        revocation="unknown", coverage=None, modification_level=None, docmdp_ok=None, bottom_line=False,
        ades_indication="FAILED", ades_subindication=None, ok=False,
        reasons=[Reason("signature_unreadable", f"the signature cannot be processed: {exc}")],
    )


def verify_agreement(pdf: bytes, trust_roots: list[x509.Certificate], expected_fields: list[str] | None = None,
                     **options: Any) -> AgreementReport:
    """Synchronous wrapper (runs its own event loop: call it from a worker thread or process)."""
    return asyncio.run(async_verify_agreement(pdf, trust_roots, expected_fields, **options))


@dataclass
class VerifiedUpload:
    """What the sandboxed verifier returns: the report, and the file's revision prefix hashes
    (:func:`revision_prefix_hashes`) for :func:`signing.case_match.match_to_platform`."""

    report: AgreementReport
    prefix_hashes: list[str]


def _child(conn: Any, pdf: bytes, roots_der: list[bytes], expected: list[str] | None,
           options: dict[str, Any], memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        prefix_hashes = revision_prefix_hashes(pdf)  # first: a flood of markers is refused before the parse
        roots = [x509.load_der_x509_certificate(der) for der in roots_der]
        conn.send(("ok", VerifiedUpload(verify_agreement(pdf, roots, expected, **options), prefix_hashes)))
    except VerificationError as exc:
        conn.send(("error", str(exc)))
    except MemoryError:
        conn.send(("error", "verifying this PDF needs more memory than allowed"))
    except RecursionError:
        conn.send(("error", "the PDF nests objects too deeply to be read safely"))
    finally:
        conn.close()


_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload([__name__])


def verify_upload_safely(pdf: bytes, trust_roots: list[x509.Certificate],
                         expected_fields: list[str] | None = None, *,
                         timeout: float = DEFAULT_TIMEOUT_SECONDS,
                         memory_bytes: int = CHILD_MEMORY_BYTES, **options: Any) -> VerifiedUpload:
    """:func:`verify_agreement` and :func:`revision_prefix_hashes` in a child process with a time
    and memory budget.

    Blocking: call it through an executor. The size check happens here first, so a huge upload
    never reaches the child. A hang or a crash becomes a :class:`VerificationError`.
    """
    max_bytes = options.get("max_bytes", MAX_PDF_BYTES)
    if len(pdf) > max_bytes:
        raise VerificationError(f"the file is {len(pdf)} bytes; the verifier accepts at most {max_bytes}")
    roots_der = [c.public_bytes(serialization.Encoding.DER) for c in trust_roots]
    receiver, sender = _context.Pipe(duplex=False)
    process = _context.Process(target=_child, args=(sender, pdf, roots_der, expected_fields, options, memory_bytes),
                               daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise VerificationError(f"verification took longer than {timeout:.0f} s and was stopped")
        try:
            outcome, payload = receiver.recv()
        except EOFError:
            raise VerificationError("the verifier process died on this input (resource limits)") from None
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join()
    if outcome == "error":
        raise VerificationError(payload)
    return payload


def verify_agreement_bytes_safely(pdf: bytes, trust_roots: list[x509.Certificate],
                                  expected_fields: list[str] | None = None, **options: Any) -> AgreementReport:
    """The report of :func:`verify_upload_safely` alone (offline checks, which match no case)."""
    return verify_upload_safely(pdf, trust_roots, expected_fields, **options).report
