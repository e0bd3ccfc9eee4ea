"""Identity checks stored in the database, and the gate that reads them.

Every check — face match, liveness, one-time code, an identity provider's verdict — is a row,
passed or failed, with what it measured and its signed attestation, so every node of a cluster
gives the same answer and the case keeps the evidence. Each check is also written into the case's
audit trail. The policy (``identity_policy``) names the methods a signer must pass; the gate
allows a signature when, inside the window, the newest check of every required method is a pass
for this very case, agreement, slot and participant, and no failed check came after those
passes (a failure voids older passes). Failed attempts per slot are limited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mediation import audit
from mediation.clock import Clock
from mediation.errors import Throttled
from mediation.identity_models import IdentityCheckRow
from mediation.models import Case

from .gate import CLOCK_TOLERANCE, DEFAULT_WINDOW, CitedAttestation, GateSubject, IdentityCheck, IdentityCheckRejected

#: ``session``: the live face against the seat's face in the case's recorded session
#: (:mod:`identity.recorded_session`); optional, never in the default, where it is reported only.
#: ``provider``: the configured real-name provider's signed verdict (:mod:`identity.provider_client`).
METHODS = ("face", "liveness", "otp", "session", "provider")
#: The method of a simulated check (``identity_gate = "test"``, never in production).
SIMULATED = "test"
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class IdentityPolicy:
    """Which checks a signer passes before signing, e.g. ``face+liveness+otp`` (the default)."""

    methods: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> IdentityPolicy:
        names = {part.strip() for part in text.split("+") if part.strip()}
        unknown = names - set(METHODS)
        if unknown or not names:
            raise ValueError(f"identity_policy {text!r}: a '+'-joined choice of {', '.join(METHODS)}")
        return cls(tuple(m for m in METHODS if m in names))

    @property
    def label(self) -> str:
        return "+".join(self.methods)


@dataclass(frozen=True)
class CheckOutcome:
    """One check to store; ``details`` holds what it measured (never an image)."""

    subject: GateSubject
    method: str
    passed: bool
    checked_at: dt.datetime
    recorded_by: str
    reason: str | None = None
    score: float | None = None
    threshold: float | None = None
    frames_sha256: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    attestation: bytes | None = None
    attestation_sha256: str | None = None


@dataclass(frozen=True)
class GateStatus:
    """Where a signer stands, for the signing page: which required checks are passed and fresh."""

    required: tuple[str, ...]
    passed: tuple[str, ...]
    last_failure: str | None
    failures_left: int


class StoredIdentityGate:
    def __init__(self, db: async_sessionmaker[AsyncSession], clock: Clock, policy: IdentityPolicy, *,
                 window: dt.timedelta = DEFAULT_WINDOW, simulation: bool = False):
        self.db = db
        self.clock = clock
        self.policy = policy
        self.window = window
        #: Accept simulated checks (``identity_gate = "test"``; settings refuse it in production).
        self.simulation = simulation

    @staticmethod
    def _of(subject: GateSubject) -> list[Any]:
        return [IdentityCheckRow.agreement_id == subject.agreement_id,
                IdentityCheckRow.signer_key == subject.signer_key,
                IdentityCheckRow.participant_id.is_(None) if subject.participant_id is None
                else IdentityCheckRow.participant_id == subject.participant_id,
                IdentityCheckRow.case_id.is_(None) if subject.case_id is None
                else IdentityCheckRow.case_id == subject.case_id]

    async def record(self, outcome: CheckOutcome) -> int:
        """Store a check and write it into the case's audit trail; its id. A check dated in the
        future or already outside the window is refused: a signature's identity evidence must be
        older than the signature, and the verifier checks exactly that."""
        now = self.clock.now()
        if outcome.checked_at.tzinfo is None:
            raise IdentityCheckRejected("invalid_checked_at", "checked_at needs a time zone")
        if outcome.checked_at > now + CLOCK_TOLERANCE:
            raise IdentityCheckRejected("checked_at_in_future",
                                        f"checked_at {outcome.checked_at.isoformat()} is later than now "
                                        f"({now.isoformat()}): a check cannot be reported before it took place")
        if outcome.checked_at < now - self.window:
            raise IdentityCheckRejected("checked_at_too_old",
                                        f"checked_at {outcome.checked_at.isoformat()} is more than "
                                        f"{int(self.window.total_seconds())} s ago: the check no longer allows "
                                        "signing; check again")
        if outcome.method == SIMULATED and not self.simulation:
            raise IdentityCheckRejected("simulation_disabled", "this server does not accept simulated checks")
        subject = outcome.subject
        row = IdentityCheckRow(case_id=subject.case_id, agreement_id=subject.agreement_id,
                               signer_key=subject.signer_key, participant_id=subject.participant_id,
                               method=outcome.method, passed=outcome.passed, reason=outcome.reason,
                               score=outcome.score, threshold=outcome.threshold, frames_sha256=outcome.frames_sha256,
                               details=outcome.details, attestation=outcome.attestation,
                               attestation_sha256=outcome.attestation_sha256, checked_at=outcome.checked_at,
                               recorded_by=outcome.recorded_by)
        async with self.db.begin() as s:
            s.add(row)
            if subject.case_id is not None:
                case = await s.scalar(select(Case).where(Case.id == subject.case_id).with_for_update())
                if case is not None:
                    case.updated_at = now
                    audit.append(s, case, outcome.recorded_by,
                                 "identity.check_passed" if outcome.passed else "identity.check_failed",
                                 {"agreement": subject.agreement_id, "signer_key": subject.signer_key,
                                  "participant": subject.participant_id, "method": outcome.method,
                                  "reason": outcome.reason, "score": outcome.score,
                                  "attestation_sha256": outcome.attestation_sha256}, now)
            await s.flush()
            return row.id

    async def attestations(self, hashes: set[str]) -> dict[str, bytes]:
        """The signed attestation blobs stored under these SHA-256 (by the indexed column; at most
        one per hash), for the verifier and the case package."""
        if not hashes:
            return {}
        async with self.db() as s:
            rows = (await s.execute(select(IdentityCheckRow.attestation_sha256, IdentityCheckRow.attestation)
                                    .where(IdentityCheckRow.attestation_sha256.in_(sorted(hashes)),
                                           IdentityCheckRow.attestation.is_not(None)))).all()
        return {digest: blob for digest, blob in rows}

    async def _recent(self, subject: GateSubject, since: dt.datetime, now: dt.datetime) -> list[IdentityCheckRow]:
        async with self.db() as s:
            return list((await s.scalars(
                select(IdentityCheckRow).where(*self._of(subject), IdentityCheckRow.checked_at >= since,
                                               IdentityCheckRow.checked_at <= now)
                .order_by(IdentityCheckRow.checked_at.desc(), IdentityCheckRow.id.desc()))).all())

    def _passes(self, rows: list[IdentityCheckRow]) -> dict[str, IdentityCheckRow]:
        """The newest check of each method, if it is a pass and no failure of any method follows it."""
        newest: dict[str, IdentityCheckRow] = {}
        for row in rows:  # newest first
            newest.setdefault(row.method, row)
        failures = [r.checked_at for r in rows if not r.passed]
        last_failure = max(failures) if failures else None
        return {m: r for m, r in newest.items()
                if r.passed and (last_failure is None or r.checked_at > last_failure)}

    async def check(self, subject: GateSubject) -> IdentityCheck | None:
        now = self.clock.now()
        passes = self._passes(await self._recent(subject, now - self.window, now))
        if self.simulation and SIMULATED in passes:
            used = [passes[SIMULATED]]
            method = SIMULATED
        elif all(m in passes for m in self.policy.methods):
            used = [passes[m] for m in self.policy.methods]
            method = self.policy.label
        else:
            return None
        face = passes.get("face")
        return IdentityCheck(signer_key=subject.signer_key, method=method,
                             checked_at=max(r.checked_at for r in used),
                             score=face.score if face is not None and method != SIMULATED else used[0].score,
                             frames_sha256=face.frames_sha256 if face is not None else None,
                             attestations=tuple(_cited(r) for r in used if r.attestation_sha256))

    async def status(self, subject: GateSubject) -> GateStatus:
        now = self.clock.now()
        rows = await self._recent(subject, now - max(self.window, FAILURE_WINDOW), now)
        fresh = [r for r in rows if r.checked_at >= now - self.window]
        passes = self._passes(fresh)
        failures = [r for r in rows if not r.passed and r.checked_at >= now - FAILURE_WINDOW]
        return GateStatus(required=self.policy.methods, passed=tuple(m for m in self.policy.methods if m in passes),
                          last_failure=failures[0].reason or failures[0].method if failures else None,
                          failures_left=max(0, MAX_FAILURES - len(failures)))

    async def ensure_attempts_left(self, subject: GateSubject) -> None:
        """Refuse a new attempt after :data:`MAX_FAILURES` failed checks of this slot within
        :data:`FAILURE_WINDOW`: the project's :class:`~mediation.errors.Throttled`
        (``identity_attempts_exhausted``, ``details["retry_after"]`` in seconds)."""
        now = self.clock.now()
        since = now - FAILURE_WINDOW
        async with self.db() as s:
            count, oldest = (await s.execute(
                select(func.count(IdentityCheckRow.id), func.min(IdentityCheckRow.checked_at))
                .where(IdentityCheckRow.agreement_id == subject.agreement_id,
                       IdentityCheckRow.signer_key == subject.signer_key,
                       IdentityCheckRow.passed.is_(False), IdentityCheckRow.checked_at >= since))).one()
        if count >= MAX_FAILURES:
            wait = int((oldest + FAILURE_WINDOW - now).total_seconds()) + 1 if oldest else int(FAILURE_WINDOW.total_seconds())
            raise Throttled("identity_attempts_exhausted",
                            f"too many failed identity checks for this signature: try again in {max(wait, 1)} s",
                            {"retry_after": max(wait, 1)})


def _cited(row: IdentityCheckRow) -> CitedAttestation:
    """A passed check as the signature it allows cites it (``note``: see :class:`CheckRecorder`)."""
    note = (row.details or {}).get("note")
    return CitedAttestation(method=row.method, sha256=row.attestation_sha256 or "", checked_at=row.checked_at,
                            score=row.score, threshold=row.threshold, note=note if isinstance(note, str) else None)
