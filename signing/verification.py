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
  archival updates after it),
* the last revision is covered by a document timestamp (B-LTA), and
* every signature belongs to its field (PAdES validity says nothing about *who* filled *which*
  field): the slot table of the first revision (:class:`signing.binding.SignerTable`) names each
  field's signer, and the certificate's binding (:class:`signing.binding.SignerBinding`) must name
  that field, role, side, participant and case, this agreement, and — by the SHA-256 of the
  locked PDF — this document's first revision; each field has its own certificate; the seal
  field carries the seal of the organisation the table names, never a person's certificate; the
  identity check a signature states is older than its timestamp.

A court's ruling (its catalog carries a :class:`signing.binding.RulingStatement`) is judged the
same way, except for whom the one field belongs to: the court's seal field must carry a court
certificate (the court certificate policy, no person's binding) issued to the court the
statement names. The report then says ``document_kind="ruling"`` and carries the statement.

Reasons are machine codes plus human text. Hostile input (not a PDF, truncated, huge, bombs)
raises :class:`VerificationError`; :func:`verify_upload_safely` also bounds time and memory by
running every step that reads the file's bytes in a child process: the parse, the judgement and
the revision hashes that match the file to its case (:mod:`signing.case_match`). The report
types and that runner live in :mod:`signing.verification_sandbox` (light to import) and are
re-exported here.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import datetime, timezone
from io import BytesIO
from typing import Any

from asn1crypto import crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
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

from identity.gate import reference_time

from . import oids
from .binding import (
    EXPECTED_FIELDS_KEY,
    RULING_KEY,
    SEAL_ROLE,
    BindingError,
    RulingStatement,
    SealHolder,
    SignerBinding,
    SignerTable,
    SlotEntry,
    certificate_policies,
    credit_code_in,
    seal_holder,
    signer_binding,
)
from .evidence import SignatureEvidence
from .pki import asn1_certificate
from .verification_sandbox import (
    CHILD_MEMORY_BYTES,
    DEFAULT_TIMEOUT_SECONDS,
    EOF_MARKER,
    MAX_PDF_BYTES,
    MAX_REVISIONS,
    AgreementReport,
    DocumentTimestampReport,
    Reason,
    SignatureReport,
    SignerInfo,
    VerificationError,
    VerifiedUpload,
    revision_prefix_hashes,
    verify_agreement_bytes_safely,
    verify_upload_safely,
)

__all__ = [
    "CHILD_MEMORY_BYTES", "DEFAULT_TIMEOUT_SECONDS", "EXPECTED_FIELDS_KEY", "MAX_PDF_BYTES", "MAX_REVISIONS",
    "AgreementReport", "DocumentTimestampReport", "Reason", "SignatureReport", "SignerInfo", "VerificationError",
    "VerifiedUpload", "async_verify_agreement", "revision_prefix_hashes", "verify_agreement",
    "verify_agreement_bytes_safely", "verify_upload_safely",
]

_SIGNATURE_LEVELS_OK = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING)
_TIMESTAMP_LEVELS_OK = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
_REVOKED = (AdESIndeterminate.REVOKED_NO_POE, AdESIndeterminate.REVOKED_CA_NO_POE, AdESFailure.REVOKED)
#: AdES sub-indications that mean "no proof of existence at the validation time" (not "bad").
_NEEDS_EARLIER_TIME = {"NO_POE", "OUT_OF_BOUNDS_NO_POE", "REVOCATION_OUT_OF_BOUNDS_NO_POE", "TRY_LATER"}


def _enum_name(value: Any) -> str | None:
    return None if value is None else getattr(value, "name", str(value))


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(timezone.utc).isoformat()


def _subject_values(cert: asn1_x509.Certificate, key: str) -> list[str]:
    values = []
    for rdn in cert.subject.chosen:
        for attr in rdn:
            if attr["type"].dotted == key or attr["type"].native == key:
                value = attr["value"].native
                values.append(value if isinstance(value, str) else str(value))
    return values


def _subject_value(cert: asn1_x509.Certificate, key: str) -> str | None:
    return next(iter(_subject_values(cert, key)), None)


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


def _expected_fields(catalog: Any, given: list[str] | None, reasons: list[Reason]) -> list[str]:
    if given is not None:
        return list(given)
    raw = catalog.get(EXPECTED_FIELDS_KEY)
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




# --- who signed which field ---------------------------------------------------------------------


def _signer_table(catalog: Any, reasons: list[Reason]) -> SignerTable | None:
    try:
        return SignerTable.from_catalog(catalog)
    except BindingError as exc:
        reasons.append(Reason("signer_slots_unknown", f"the document does not say who must sign each field "
                                                      f"({exc}), so no signature can be tied to its field"))
        return None


def _first_revision_hashes(pdf: bytes, reader: PdfFileReader) -> set[str]:
    """SHA-256 of the first revision as it sits in the file: the bytes up to the ``%%EOF`` after
    its cross-reference data. Where it ends among the line-end bytes after the marker is not
    marked (the next update may start with one), so every cut in that run counts."""
    try:
        start = reader.xrefs.get_xref_container_info(0).end_location
    except Exception as exc:  # damaged cross-reference data
        _raise_too_complex(exc)
        return set()
    found = EOF_MARKER.search(pdf, start)
    if found is None:
        return set()
    running = hashlib.sha256(pdf[:found.start() + 5])
    hashes = {running.hexdigest()}
    for end in range(found.start() + 6, found.end() + 1):
        running.update(pdf[end - 1:end])
        hashes.add(running.hexdigest())
    return hashes


def _identity_reasons(slot: SlotEntry, report: SignatureReport) -> list[Reason]:
    checked = reference_time(report.identity_check)
    if checked is None:
        return [Reason("identity_check_missing", f"the signature on field {slot.field_name!r} does not state the "
                                                 f"identity check (with its time) that allowed {slot.name} to sign")]
    if report.signing_time is not None and checked > datetime.fromisoformat(report.signing_time):
        return [Reason("identity_check_after_signature",
                       f"the identity check stated for field {slot.field_name!r} ({_iso(checked)}) is later than "
                       f"the signature's timestamp ({report.signing_time}): it cannot have allowed the signature")]
    return []


def _person_reasons(slot: SlotEntry, table: SignerTable, cert: asn1_x509.Certificate, binding: SignerBinding | None,
                    first_revision: set[str], report: SignatureReport) -> list[Reason]:
    name = slot.field_name
    if binding is None:
        return [Reason("binding_missing", f"the certificate on field {name!r} was not issued to the signer of an "
                                          f"agreement field (it names none), so it cannot stand for {slot.name}")]
    out = []
    if binding.case_number != table.case_number:
        out.append(Reason("certificate_other_case", f"the certificate on field {name!r} was issued for case "
                                                    f"{binding.case_number}, not for this agreement's case "
                                                    f"{table.case_number}"))
    elif binding.agreement_id != table.agreement_id:
        out.append(Reason("certificate_other_agreement", f"the certificate on field {name!r} was issued for "
                                                         f"agreement {binding.agreement_id}, not for this one "
                                                         f"({table.agreement_id})"))
    elif binding.version != table.version or binding.version_sha256 not in first_revision:
        out.append(Reason("certificate_other_version", f"the certificate on field {name!r} was issued for another "
                                                       f"text of this agreement (version {binding.version}), not "
                                                       f"for the locked text this document starts with"))
    if binding.field_name != name:
        out.append(Reason("certificate_other_field", f"the certificate on field {name!r} was issued for field "
                                                     f"{binding.field_name!r}: a certificate signs only its own field"))
    if binding.role != slot.role:
        out.append(Reason("signer_role_mismatch", f"field {name!r} is for the {slot.role}; the certificate was "
                                                  f"issued to the {binding.role}"))
    if binding.side != slot.side:
        out.append(Reason("signer_side_mismatch", f"field {name!r} is for the {slot.side or 'no'} side; the "
                                                  f"certificate was issued to the {binding.side or 'no'} side"))
    if binding.participant_id != slot.participant_id:
        out.append(Reason("signer_participant_mismatch", f"field {name!r} is for case participant "
                                                         f"{slot.participant_id}; the certificate was issued to "
                                                         f"participant {binding.participant_id}"))
    signer = _subject_value(cert, "common_name")
    if signer != slot.name:
        out.append(Reason("signer_name_mismatch", f"field {name!r} is for {slot.name}; the certificate names "
                                                  f"{signer}"))
    return out + _identity_reasons(slot, report)


def _seal_reasons(slot: SlotEntry, cert: asn1_x509.Certificate, binding: SignerBinding | None,
                  holder: SealHolder | None) -> list[Reason]:
    org = slot.organisation
    if binding is not None or oids.EVENT_CERTIFICATE_POLICY in certificate_policies(cert):
        return [Reason("seal_by_person_certificate",
                       f"the seal field {slot.field_name!r} was signed with a person's event certificate "
                       f"({_subject_value(cert, 'common_name')}), not with the seal of {slot.name}")]
    names = _subject_values(cert, "organization_name")
    code = credit_code_in(_subject_values(cert, "serial_number") + _subject_values(cert, "organizational_unit_name"))
    other_holder = holder is not None and (
        holder.kind != "organisation"
        or (holder.holder_id is not None and slot.participant_id is not None
            and holder.holder_id != slot.participant_id))
    if org is None or names != [org.name] or code != org.credit_code or other_holder:
        expected = f"{org.name} ({org.credit_code or 'no credit code'})" if org else "an organisation it does not name"
        return [Reason("seal_wrong_organisation",
                       f"the seal field {slot.field_name!r} carries the certificate of {', '.join(names) or '?'} "
                       f"({code or 'no credit code'}"
                       + (f", {holder.kind} {holder.holder_id or ''}".rstrip() if holder else "")
                       + f"), not the seal of {expected} whom the agreement names")]
    return []


def _slot_reasons(slot: SlotEntry, table: SignerTable, cert: asn1_x509.Certificate, first_revision: set[str],
                  report: SignatureReport) -> list[Reason]:
    try:
        binding, holder = signer_binding(cert), seal_holder(cert)
    except BindingError as exc:
        return [Reason("binding_missing", f"field {slot.field_name!r}: {exc}")]
    stated = binding or holder
    report.binding = stated.model_dump() if stated is not None else None
    if slot.role == SEAL_ROLE:
        return _seal_reasons(slot, cert, binding, holder)
    return _person_reasons(slot, table, cert, binding, first_revision, report)


def _check_slots(table: SignerTable, first_revision: set[str], regular: list[Any],
                 signatures: list[SignatureReport]) -> None:
    """Tie each signature to its field's slot; a certificate may sign one field only."""
    by_certificate: dict[bytes, list[SignatureReport]] = {}
    for embedded, report in zip(regular, signatures, strict=True):
        if any(r.code == "signature_unreadable" for r in report.reasons):
            continue
        slot = table.slot(report.field)
        if slot is None:
            report.reasons.append(Reason("slot_unknown", f"the document names no signer for field {report.field!r}"))
            continue
        try:
            cert = embedded.signer_cert
            by_certificate.setdefault(cert.sha256, []).append(report)
            report.reasons += _slot_reasons(slot, table, cert, first_revision, report)
        except Exception as exc:
            _raise_too_complex(exc)
            report.reasons.append(Reason("signature_unreadable", f"the signer's certificate cannot be read: {exc}"))
    for reports in by_certificate.values():
        if len(reports) > 1:
            fields = ", ".join(r.field for r in reports)
            for report in reports:
                report.reasons.append(Reason("certificate_reused", f"one certificate signed several fields "
                                                                   f"({fields}); each signer has their own"))
    for report in signatures:
        report.ok = not report.reasons


# --- a court's ruling -----------------------------------------------------------------------------


def _ruling_statement(catalog: Any, reasons: list[Reason]) -> RulingStatement | None:
    try:
        return RulingStatement.from_catalog(catalog)
    except BindingError as exc:
        reasons.append(Reason("ruling_statement_malformed", f"the document is marked as a court ruling but its "
                                                            f"statement cannot be read ({exc})"))
        return None


def _court_seal_reasons(ruling: RulingStatement, cert: asn1_x509.Certificate, report: SignatureReport) -> list[Reason]:
    field = ruling.seal_field
    try:
        binding, holder = signer_binding(cert), seal_holder(cert)
    except BindingError as exc:
        return [Reason("binding_missing", f"field {field!r}: {exc}")]
    stated = holder or binding
    report.binding = stated.model_dump() if stated is not None else None
    if binding is not None or oids.COURT_CERTIFICATE_POLICY not in certificate_policies(cert) \
            or (holder is not None and holder.kind != "court"):
        return [Reason("court_seal_not_court_certificate",
                       f"the ruling's seal field {field!r} is signed with a certificate that was not issued to a "
                       f"court ({_subject_value(cert, 'common_name')}): a ruling carries its court's seal")]
    names = _subject_values(cert, "organization_name")
    if names != [ruling.court] or (holder is not None and holder.name != ruling.court):
        return [Reason("court_seal_wrong_court",
                       f"the ruling is made by {ruling.court}, but its seal field carries the certificate of "
                       f"{', '.join(names) or '?'}")]
    return []


def _check_court_seal(ruling: RulingStatement, regular: list[Any], signatures: list[SignatureReport]) -> None:
    """The ruling's one field carries the seal of the court it names; nothing else is signed."""
    for embedded, report in zip(regular, signatures, strict=True):
        if any(r.code == "signature_unreadable" for r in report.reasons):
            continue
        if report.field != ruling.seal_field:
            report.reasons.append(Reason("slot_unknown", f"the ruling names no signer for field {report.field!r}"))
            continue
        try:
            report.reasons += _court_seal_reasons(ruling, embedded.signer_cert, report)
        except Exception as exc:
            _raise_too_complex(exc)
            report.reasons.append(Reason("signature_unreadable", f"the signer's certificate cannot be read: {exc}"))
    for report in signatures:
        report.ok = not report.reasons


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
    try:
        # The locked PDF's catalog: every signature covers it, later updates cannot change it.
        catalog = reader.get_historical_root(0)
        expected = _expected_fields(catalog, expected_fields, reasons)
        is_ruling = RULING_KEY in catalog
        ruling = _ruling_statement(catalog, reasons) if is_ruling else None
        table = None if is_ruling else _signer_table(catalog, reasons)
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
    if ruling is not None:
        _check_court_seal(ruling, regular, signatures)
        if expected_fields is None and expected != [ruling.seal_field]:
            reasons.append(Reason("ruling_statement_malformed", f"the ruling's expected fields {expected} are not "
                                                                f"its one court-seal field {ruling.seal_field!r}"))
    elif table is not None:
        _check_slots(table, _first_revision_hashes(pdf, reader), regular, signatures)
        reasons += [Reason("slot_unknown", f"the document names no signer for expected field {name!r}")
                    for name in expected if table.slot(name) is None]
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
                           document_timestamps=stamps, judged_at=_iso(moment) or "", notes=notes, reasons=reasons,
                           agreement_id=table.agreement_id if table else None,
                           signer_slots=[slot.model_dump() for slot in table.slots] if table else [],
                           document_kind="ruling" if is_ruling else "agreement",
                           ruling=ruling.model_dump(mode="json") if ruling else None)


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
