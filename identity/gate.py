"""The identity gate the signing ceremony asks before anyone may sign.

The ceremony only asks "did this signer, in this case, pass the identity checks the policy
requires, recently?". A check counts for a short window so that the person at the keyboard when
signing is the person who was checked, not someone handed the device an hour later. The server's
gate reads the checks stored in the database (:class:`identity.checks.StoredIdentityGate`);
:class:`TestIdentityGate` keeps passes in memory for unit tests, benchmarks and demo data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable, Protocol

DEFAULT_WINDOW = dt.timedelta(minutes=5)
#: How far ahead of this server's clock a reported check may be: the identity service runs on
#: another machine, whose clock may differ by a moment — not by more.
CLOCK_TOLERANCE = dt.timedelta(seconds=2)
_REFERENCE_TIME = "%Y-%m-%dT%H:%M:%SZ"


class IdentityCheckRejected(ValueError):
    """A reported check the gate cannot accept; ``code`` is stable for the API."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class GateSubject:
    """Whom the ceremony asks about: one signer slot of one agreement, its case and participant."""

    agreement_id: str
    case_id: str | None
    signer_key: str
    participant_id: str | None


@dataclass(frozen=True)
class CitedAttestation:
    """One stored check that allowed a signature, by the hash of its signed attestation, with
    what the agreement's evidence appendix prints about it (the attestation itself says more)."""

    method: str
    sha256: str
    checked_at: dt.datetime
    score: float | None = None
    threshold: float | None = None
    #: A short note of what was judged, e.g. the liveness prompts or the provider's name.
    note: str | None = None


@dataclass(frozen=True)
class IdentityCheck:
    """What allowed a signature: the method(s) passed, when, and the evidence by hash
    (``frames_sha256`` of the frames compared; ``attestations``: every signed attestation of the
    checks that allowed it, face, liveness, code and provider alike)."""

    signer_key: str
    method: str
    checked_at: dt.datetime
    score: float | None = None
    frames_sha256: str | None = None
    attestations: tuple[CitedAttestation, ...] = ()

    def __post_init__(self) -> None:
        if self.checked_at.tzinfo is None:
            raise ValueError("checked_at must be timezone-aware")

    @property
    def attestation_hashes(self) -> list[str]:
        """The cited attestations' SHA-256, each once, in the order of the checks."""
        return list(dict.fromkeys(a.sha256 for a in self.attestations))

    def reference(self) -> str:
        """A one-line reference to this check's evidence, for the signature that it allowed:
        ``face+otp 2026-11-29T15:56:52Z score=0.970 frames-sha256=<hex> attestation-sha256=<hex>,<hex>``
        (method and UTC time always; every attestation that allowed it, comma-separated)."""
        parts = [self.method, self.checked_at.astimezone(dt.UTC).strftime(_REFERENCE_TIME)]
        if self.score is not None:
            parts.append(f"score={self.score:.3f}")
        if self.frames_sha256:
            parts.append(f"frames-sha256={self.frames_sha256}")
        if self.attestations:
            parts.append(f"attestation-sha256={','.join(self.attestation_hashes)}")
        return " ".join(parts)


def reference_time(reference: str | None) -> dt.datetime | None:
    """When the check a :meth:`IdentityCheck.reference` names took place (to the second, UTC);
    ``None`` if the text is not such a reference. The verifier compares it with the signature's
    timestamp: identity evidence newer than the signature cannot have allowed it."""
    parts = (reference or "").split()
    if len(parts) < 2:
        return None
    try:
        return dt.datetime.strptime(parts[1], _REFERENCE_TIME).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def reference_attestations(reference: str | None) -> list[str]:
    """The attestation hashes a reference cites (none, one, or one per check that allowed it)."""
    for part in (reference or "").split()[2:]:
        if part.startswith("attestation-sha256="):
            return [h for h in part.split("=", 1)[1].split(",") if h]
    return []


class IdentityGate(Protocol):
    async def check(self, subject: GateSubject) -> IdentityCheck | None:
        """What allows ``subject`` to sign now, else ``None``."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class TestIdentityGate:
    """For unit tests, benchmarks and ``accord demo load`` only: ``pass_now`` passes a signer
    without any camera, in memory. The server never uses it (its ``identity_gate = "test"`` stores
    simulated checks in the database, see :mod:`identity.checks`)."""

    __test__ = False  # not a pytest test class

    window: dt.timedelta = DEFAULT_WINDOW
    clock: Callable[[], dt.datetime] = _now
    _latest: dict[str, IdentityCheck] = field(default_factory=dict)

    async def pass_now(self, signer_key: str, score: float | None = 1.0, method: str = "test") -> IdentityCheck:
        """``signer_key`` is :func:`signing.ceremony.gate_key`; ``method`` names the check in the
        signature it allows (``accord demo load`` says ``development-demo``), so nobody mistakes it
        for a face comparison."""
        check = IdentityCheck(signer_key=signer_key, method=method, checked_at=self.clock(), score=score)
        self._latest[signer_key] = check
        return check

    async def check(self, subject: GateSubject) -> IdentityCheck | None:
        latest = self._latest.get(f"{subject.agreement_id}/{subject.signer_key}")
        if latest is None:
            return None
        age = self.clock() - latest.checked_at
        if age < dt.timedelta(0) or age > self.window:
            return None
        return latest
