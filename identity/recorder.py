"""Turns what a check measured into stored evidence: an attestation signed with the platform's
identity-attestation key, and the check row the gate reads (passed or failed alike)."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from signing.attestation_key import AttestationKeyStore

from .attestation import (AttestationSubject, FaceMatchEvidence, LivenessEvidence, OneTimeCodeEvidence,
                          make_attestation, sign_attestation)
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
                      code: OneTimeCodeEvidence | None = None) -> RecordedCheck:
        subject = target.subject
        if subject.case_id is None or subject.participant_id is None:
            raise ValueError("identity checks are made for a case participant")
        checked_at = self.gate.clock.now()
        record = make_attestation(
            AttestationSubject(case_id=subject.case_id, participant_id=subject.participant_id,
                               agreement_id=subject.agreement_id, agreement_version=target.agreement_version,
                               slot=target.field_name),
            started_at, checked_at, face_match=FaceMatchEvidence.of(face) if face else None, liveness=liveness,
            one_time_code=code)
        key = await asyncio.to_thread(self.keys.current)  # file and key work on first use
        signed = await sign_attestation(record, key)
        passed = record.verdict == "passed"
        reason = (face.reason if face else liveness.reason if liveness else code.reason if code else None)
        check_id = await self.gate.record(CheckOutcome(
            subject=subject, method=method, passed=passed, checked_at=checked_at, recorded_by="identity",
            reason=None if passed else reason or "failed", score=face.score if face else None,
            threshold=face.threshold if face else None, frames_sha256=face.frames_sha256 if face else None,
            details={"attestation_id": record.attestation_id, "frames_used": face.frames_used if face else None},
            attestation=signed.blob, attestation_sha256=signed.sha256))
        return RecordedCheck(check_id, passed, None if passed else reason or "failed", signed.sha256)

    async def face(self, target: CheckTarget, started_at: dt.datetime, result: FaceMatchResult) -> RecordedCheck:
        return await self._record(target, "face", started_at, face=result)

    async def liveness(self, target: CheckTarget, started_at: dt.datetime,
                       evidence: LivenessEvidence) -> RecordedCheck:
        return await self._record(target, "liveness", started_at, liveness=evidence)

    async def one_time_code(self, target: CheckTarget, started_at: dt.datetime, refusal: str | None) -> RecordedCheck:
        return await self._record(target, "otp", started_at,
                                  code=OneTimeCodeEvidence(passed=refusal is None, reason=refusal))
