"""What a verifier says about the identity attestation a signature cites.

A signature's ``/Reason`` ends ``attestation-sha256=<hex>[,<hex>…]``: every attestation of the checks
that allowed it — face, liveness, one-time code, a provider's verdict
(:meth:`identity.gate.IdentityCheck.reference`).
The PDF does not carry the attestation itself: the platform's database does (``idn_checks``), and so
does the case package (``attestations/<sha256>.p7s``). Whoever holds the blob hands it to
:func:`review_attestations`, which checks it and ties it to the signature: the CMS signature
verifies against the platform's roots (judged at the signature's timestamp), and the record names
this agreement, version, signature field and participant, passed, and is not later than the
signature's timestamp (and, when the verifier knows it, this case). The outcome is one
:class:`AttestationSummary` per cited attestation of each signature, with a ``status`` and stable
reason codes; one that is not ``valid`` fails its signature:

``valid``       every check holds;
``missing``     the blob is not available (``attestation_missing``);
``invalid``     the blob is not a trustworthy attestation (``attestation_malformed``,
                ``attestation_bad_signature``, ``attestation_untrusted_signer``,
                ``attestation_not_an_attestation``);
``mismatched``  a genuine attestation, but not one that can have allowed this signature
                (``attestation_other_case``, ``attestation_other_agreement``, ``attestation_other_version``,
                ``attestation_other_field``, ``attestation_other_participant``,
                ``attestation_after_signature``, ``attestation_not_passed``).

Domain only: no database, no HTTP. The verifier's sandboxed child never calls this (it reads the
PDF only); the server looks the blobs up after the child returns its report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Mapping, Sequence

from cryptography import x509

from signing.pades import off_loop
from signing.verification_sandbox import AgreementReport, Reason, SignatureReport

from .attestation import Attestation, AttestationCheck, verify_attestation
from .gate import reference_attestations

#: Every reason code of a summary or a signature here (the verification page translates each).
REASON_CODES = ("attestation_missing", "attestation_invalid", "attestation_mismatched", "attestation_malformed",
                "attestation_bad_signature", "attestation_untrusted_signer", "attestation_not_an_attestation",
                "attestation_other_case", "attestation_other_agreement", "attestation_other_version", "attestation_other_field",
                "attestation_other_participant", "attestation_after_signature", "attestation_not_passed")
#: Signature reasons for a cited attestation that is not valid (``missing`` only where it is required).
FAILING = {"missing": "attestation_missing", "invalid": "attestation_invalid", "mismatched": "attestation_mismatched"}


@dataclass
class AttestationSummary:
    """What the court reads about one identity check that allowed a signature."""

    sha256: str
    status: str  # valid | missing | invalid | mismatched
    reasons: list[Reason] = field(default_factory=list)
    attestation_id: str | None = None
    methods: list[str] = field(default_factory=list)
    verdict: str | None = None
    verdict_reason: str | None = None
    #: ``{"face_match": {"score": 0.91, "threshold": 0.4}, "liveness": {"max_parallax": …, …}}``
    scores: dict[str, dict[str, float | None]] = field(default_factory=dict)
    #: The liveness prompts in the order shown, each ``kind:outcome`` (``turn_left:answered``).
    challenges: list[str] = field(default_factory=list)
    checked_at: str | None = None
    signer: str | None = None
    #: The live face against the seat's face in the case's recorded session, when the case had a
    #: recording: ``verdict`` (``match``, ``no_match``, ``no_face``, ``undecodable``), ``required``
    #: (whether it counted in the check's verdict), ``session_id``, ``track_id``, ``seat``, the
    #: cosines and the number of segments and frames compared.
    recorded_session: dict[str, str | float | int | bool | None] | None = None


def _scores(record: Attestation) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    if record.face_match is not None:
        out["face_match"] = {"score": record.face_match.score, "threshold": record.face_match.threshold}
    if record.liveness is not None:
        out["liveness"] = {"max_parallax": record.liveness.max_parallax, **record.liveness.thresholds}
    if record.recorded_session is not None:
        out["recorded_session"] = {"score": record.recorded_session.score, "best": record.recorded_session.best,
                                   "threshold": record.recorded_session.threshold}
    if record.provider is not None:
        out["provider"] = {"score": record.provider.score}
    return out


def _recorded_session(record: Attestation) -> dict[str, str | float | int | bool | None] | None:
    compared = record.recorded_session
    if compared is None:
        return None
    return {"verdict": compared.verdict, "required": compared.required, "session_id": compared.session_id,
            "track_id": compared.track_id, "seat": compared.seat, "score": compared.score, "best": compared.best,
            "threshold": compared.threshold, "segments": len(compared.segment_sha256),
            "frames_used": compared.frames_used}


def _mismatches(record: Attestation, report: SignatureReport, case_id: str | None) -> list[Reason]:
    """Compare the record's subject with what the signer's certificate was issued for (and with
    the agreement's case, when the verifier knows it)."""
    subject, binding = record.subject, report.binding or {}
    out = []
    checks = [("case", subject.case_id, case_id)] if case_id is not None else []
    checks += [("agreement", subject.agreement_id, binding.get("agreement_id")),
              ("version", subject.agreement_version, binding.get("version")),
              ("field", subject.slot, report.field),
              ("participant", subject.participant_id, binding.get("participant_id"))]
    for name, attested, expected in checks:
        if attested != expected:
            out.append(Reason(f"attestation_other_{name}", f"the attestation cited by field {report.field!r} is for "
                                                           f"{name} {attested!r}, the signature for {expected!r}"))
    if report.signing_time is not None and record.checked_at > dt.datetime.fromisoformat(report.signing_time):
        out.append(Reason("attestation_after_signature",
                          f"the attested check ({record.checked_at.isoformat()}) is later than the signature's "
                          f"timestamp ({report.signing_time}): it cannot have allowed it"))
    if record.verdict != "passed":
        out.append(Reason("attestation_not_passed", f"the attested check failed ({record.reason}): it cannot have "
                                                    f"allowed the signature"))
    return out


def summarise(report: SignatureReport, sha256: str, check: AttestationCheck | None,
              case_id: str | None = None) -> AttestationSummary:
    """The summary of a checked blob (``check=None``: the blob was not available)."""
    if check is None:
        return AttestationSummary(sha256, "missing", [Reason("attestation_missing", f"the attestation {sha256} cited "
                                                                                    f"by field {report.field!r} is not "
                                                                                    f"available")])
    if not check.valid or check.attestation is None:
        return AttestationSummary(sha256, "invalid", [Reason(f"attestation_{check.problem}",
                                                             f"the attestation cited by field {report.field!r} is not "
                                                             f"a trustworthy attestation ({check.problem})")],
                                  signer=check.signer_subject)
    record = check.attestation
    reasons = _mismatches(record, report, case_id)
    challenges = [f"{c.kind}:{c.outcome}" for c in record.liveness.challenges] if record.liveness else []
    return AttestationSummary(sha256, "mismatched" if reasons else "valid", reasons,
                              attestation_id=record.attestation_id, methods=list(record.methods),
                              verdict=record.verdict, verdict_reason=record.reason, scores=_scores(record),
                              challenges=challenges, checked_at=record.checked_at.isoformat(),
                              signer=check.signer_subject, recorded_session=_recorded_session(record))


def cited(report: AgreementReport) -> dict[str, list[str]]:
    """Field name → the attestation hashes its signature cites."""
    out = {}
    for signature in report.signatures:
        digests = reference_attestations(signature.identity_check)
        if digests:
            out[signature.field] = digests
    return out


async def review_attestations(report: AgreementReport, fetch: Callable[[set[str]], Awaitable[Mapping[str, bytes]]],
                              trust_roots: Sequence[x509.Certificate], *, required: bool,
                              case_id: str | None = None) -> None:
    """Attach an :class:`AttestationSummary` per cited attestation to every signature that cites
    some. ``fetch`` returns the blobs it has for a set of hashes; ``case_id`` is the agreement's
    case when the verifier knows it. A summary that is not ``valid`` adds ``attestation_invalid``
    / ``attestation_mismatched`` to its signature and fails the report; ``attestation_missing``
    only when ``required`` (the holder of the blobs should have had it)."""
    citations = cited(report)
    if not citations:
        return
    blobs = await fetch({digest for digests in citations.values() for digest in digests})
    for signature in report.signatures:
        moment = dt.datetime.fromisoformat(signature.signing_time) if signature.signing_time else None
        for digest in citations.get(signature.field, []):
            blob = blobs.get(digest)
            check = await off_loop(verify_attestation(blob, trust_roots, moment)) if blob is not None else None
            if check is not None and check.sha256 != digest:  # the holder returned other bytes than cited
                check = AttestationCheck(False, "bad_signature", digest)
            summary = summarise(signature, digest, check, case_id)
            signature.attestations.append(summary)
            if summary.status != "valid" and (summary.status != "missing" or required):
                signature.reasons.append(Reason(FAILING[summary.status], summary.reasons[0].message))
                signature.ok = False
    if not all(s.ok for s in report.signatures) and report.valid:
        report.valid = False
        report.reasons.append(Reason("signature_failed", "at least one signature or timestamp failed (see below)"))
