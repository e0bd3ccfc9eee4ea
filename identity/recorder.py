"""Turns what a check measured into stored evidence: an attestation signed with the platform's
identity-attestation key, and the check row the gate reads (passed or failed alike)."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from signing.attestation_key import AttestationKeyStore

from .attestation import (AttestationSubject, FaceMatchEvidence, LivenessEvidence, OneTimeCodeEvidence,
                          ProviderEvidence, RecordedSessionEvidence, make_attestation, sign_attestation)
from .checks import CheckOutcome, StoredIdentityGate
from .face_match import FaceMatchResult
from .gate import GateSubject


@dataclass(frozen=True)
class CheckTarget:
    """The slot being checked, with what the attestation names: the version and signature field."""

    subject: GateSubject
    agreement_version: int
    field_name: str


@dataclass(frozen=True)
class RecordedCheck:
    check_id: int
    passed: bool
    reason: str | None
    attestation_sha256: str


class CheckRecorder:
    def __init__(self, gate: StoredIdentityGate, keys: AttestationKeyStore):
        self.gate = gate
        self.keys = keys

    async def _record(self, target: CheckTarget, method: str, started_at: dt.datetime, *,
                      face: FaceMatchResult | None = None, liveness: LivenessEvidence | None = None,
                      code: OneTimeCodeEvidence | None = None,
                      recorded_session: RecordedSessionEvidence | None = None,
                      provider: ProviderEvidence | None = None, recorded_by: str = "identity",
                      extra: dict[str, object] | None = None, checked_at: dt.datetime | None = None) -> RecordedCheck:
        subject = target.subject
        if subject.case_id is None or subject.participant_id is None:
            raise ValueError("identity checks are made for a case participant")
        checked_at = checked_at or self.gate.clock.now()
        record = make_attestation(
            AttestationSubject(case_id=subject.case_id, participant_id=subject.participant_id,
                               agreement_id=subject.agreement_id, agreement_version=target.agreement_version,
                               slot=target.field_name),
            started_at, checked_at, face_match=FaceMatchEvidence.of(face) if face else None, liveness=liveness,
            one_time_code=code, recorded_session=recorded_session, provider=provider)
        key = await asyncio.to_thread(self.keys.current)  # file and key work on first use
        signed = await sign_attestation(record, key)
        passed = record.verdict == "passed"
        reason = record.reason.split(":", 1)[1] if record.reason else None
        score = face.score if face else provider.score if provider else None
        frames = face.frames_sha256 if face else provider.frames_sha256 if provider else None
        check_id = await self.gate.record(CheckOutcome(
            subject=subject, method=method, passed=passed, checked_at=checked_at, recorded_by=recorded_by,
            reason=None if passed else reason or "failed", score=score,
            threshold=face.threshold if face else None, frames_sha256=frames,
            details={"attestation_id": record.attestation_id, "frames_used": face.frames_used if face else None,
                     "note": _note(liveness, code, provider), **(extra or {}),
                     **({"recorded_session": recorded_session.verdict} if recorded_session else {})},
            attestation=signed.blob, attestation_sha256=signed.sha256))
        if self.session_required and face is not None and face.passed:
            # The policy's ``session`` method; a case without a recording has nothing to compare.
            evidence = recorded_session
            session_passed = evidence is None or evidence.passed
            await self.gate.record(CheckOutcome(
                subject=subject, method="session", passed=session_passed, checked_at=checked_at,
                recorded_by="identity", reason=None if evidence is None or session_passed else evidence.reason,
                score=evidence.score if evidence else None, threshold=evidence.threshold if evidence else None,
                frames_sha256=evidence.frames_sha256 if evidence else None,
                details={"attestation_id": record.attestation_id,
                         "recorded_session": evidence.verdict if evidence else "no_recording"},
                attestation=signed.blob, attestation_sha256=signed.sha256))
        return RecordedCheck(check_id, passed, None if passed else reason or "failed", signed.sha256)

    @property
    def session_required(self) -> bool:
        """Whether the policy makes the recorded-session comparison block signing (``session``)."""
        return "session" in self.gate.policy.methods

    async def face(self, target: CheckTarget, started_at: dt.datetime, result: FaceMatchResult,
                   recorded_session: RecordedSessionEvidence | None = None) -> RecordedCheck:
        """A face check, with the recorded-session comparison when the case has a recording (it
        counts in the verdict only when the policy requires ``session``)."""
        return await self._record(target, "face", started_at, face=result, recorded_session=recorded_session)

    async def liveness(self, target: CheckTarget, started_at: dt.datetime,
                       evidence: LivenessEvidence) -> RecordedCheck:
        return await self._record(target, "liveness", started_at, liveness=evidence)

    async def one_time_code(self, target: CheckTarget, started_at: dt.datetime, refusal: str | None) -> RecordedCheck:
        return await self._record(target, "otp", started_at,
                                  code=OneTimeCodeEvidence(passed=refusal is None, reason=refusal))

    async def provider(self, target: CheckTarget, checked_at: dt.datetime, evidence: ProviderEvidence, *,
                       recorded_by: str, method: str | None = None,
                       extra: dict[str, object] | None = None) -> RecordedCheck:
        """An external provider's verdict (made at ``checked_at``, as it states), counted as
        ``method`` (default: the method it checked); ``extra`` keeps the signed envelope with the row."""
        return await self._record(target, method or evidence.method, checked_at, provider=evidence,
                                  recorded_by=recorded_by, extra=extra, checked_at=checked_at)


def _note(liveness: LivenessEvidence | None, code: OneTimeCodeEvidence | None,
          provider: ProviderEvidence | None) -> str | None:
    """What the evidence appendix prints beside a passed check's scores: the prompts answered,
    the code's channel, the provider's name."""
    if liveness is not None:
        return "→".join(c.kind for c in liveness.challenges)[:200]
    if code is not None:
        return code.channel
    if provider is not None:
        return provider.provider[:200]
    return None
