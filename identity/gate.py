"""The identity gate the signing ceremony asks before anyone may sign.

The identity service (face comparison against the ID document, a later issue) records each
passed check here; the ceremony only asks "did this signer pass a check recently?". A check
counts for a short window so that the person at the keyboard when signing is the person who
was checked, not someone handed the device an hour later.
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
class IdentityCheck:
    """A passed identity check; ``frames_sha256`` is the hash of the frames compared (never the frames)."""

    signer_key: str
    method: str
    checked_at: dt.datetime
    score: float | None = None
    frames_sha256: str | None = None

    def __post_init__(self) -> None:
        if self.checked_at.tzinfo is None:
            raise ValueError("checked_at must be timezone-aware")

    def reference(self) -> str:
        """A one-line reference to this check's evidence, for the signature that it allowed:
        ``face 2026-11-29T15:56:52Z score=0.970 frames-sha256=<hex>`` (method and UTC time always)."""
        parts = [self.method, self.checked_at.astimezone(dt.UTC).strftime(_REFERENCE_TIME)]
        if self.score is not None:
            parts.append(f"score={self.score:.3f}")
        if self.frames_sha256:
            parts.append(f"frames-sha256={self.frames_sha256}")
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


class IdentityGate(Protocol):
    async def check(self, signer_key: str) -> IdentityCheck | None:
        """The most recent passed check for ``signer_key`` still inside the window, else ``None``."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class RecordedIdentityGate:
    """Keeps the latest passed check per signer, as reported by the identity service.

    In memory on purpose: a check is only worth minutes, so losing them on restart merely asks
    signers to check again. (Several server processes would need a shared store: Redis.)
    """

    window: dt.timedelta = DEFAULT_WINDOW
    clock: Callable[[], dt.datetime] = _now
    _latest: dict[str, IdentityCheck] = field(default_factory=dict)

    async def record(self, check: IdentityCheck) -> None:
        """Store a passed check (a failed check is simply not recorded); forget lapsed ones.

        A check dated in the future, or already outside the window, is refused
        (:class:`IdentityCheckRejected`): a signature's identity evidence must be older than the
        signature, and the verifier checks exactly that."""
        now = self.clock()
        if check.checked_at > now + CLOCK_TOLERANCE:
            raise IdentityCheckRejected("checked_at_in_future",
                                        f"checked_at {check.checked_at.isoformat()} is later than now "
                                        f"({now.isoformat()}): a check cannot be reported before it took place")
        cutoff = now - self.window
        if check.checked_at < cutoff:
            raise IdentityCheckRejected("checked_at_too_old",
                                        f"checked_at {check.checked_at.isoformat()} is more than "
                                        f"{int(self.window.total_seconds())} s ago: the check no longer allows "
                                        "signing; check again")
        self._latest = {k: c for k, c in self._latest.items() if c.checked_at >= cutoff}
        previous = self._latest.get(check.signer_key)
        if previous is None or previous.checked_at <= check.checked_at:
            self._latest[check.signer_key] = check

    async def check(self, signer_key: str) -> IdentityCheck | None:
        latest = self._latest.get(signer_key)
        if latest is None:
            return None
        age = self.clock() - latest.checked_at
        if age < dt.timedelta(0) or age > self.window:
            return None
        return latest


class TestIdentityGate(RecordedIdentityGate):
    """For tests and local development only: ``pass_now`` records a check without any camera.

    Selected by ``Settings.identity_gate == "test"``, which ``load_settings`` refuses in production.
    """

    __test__ = False  # not a pytest test class

    async def pass_now(self, signer_key: str, score: float | None = 1.0, method: str = "test") -> IdentityCheck:
        """``method`` names the check in the signature it allows (``accord demo load`` says
        ``development-demo``), so nobody mistakes it for a face comparison."""
        check = IdentityCheck(signer_key=signer_key, method=method, checked_at=self.clock(), score=score,
                              frames_sha256=None)
        await self.record(check)
        return check


def gate_for(kind: str, environment: str, window: dt.timedelta = DEFAULT_WINDOW) -> RecordedIdentityGate:
    """The gate a setting names: ``test`` for tests, anything else records the identity service's checks.

    Refuses the test gate in production even when settings were built without ``load_settings``.
    """
    if kind == "test":
        if environment == "production":
            raise ValueError("the test identity gate is refused in production")
        return TestIdentityGate(window=window)
    return RecordedIdentityGate(window=window)
