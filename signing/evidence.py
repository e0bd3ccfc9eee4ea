"""What a signature states about how it was made: key custody and the identity check behind it.

Kept apart from :mod:`signing.pades` (which loads pyHanko's signers and fonts) because the
verifier reads it back from every signature.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class KeyCustody(StrEnum):
    """Who held the signing key: the signer's browser (ESL art. 13 (1)-(2)) or the server."""

    BROWSER = "browser"
    SERVER = "server"


@dataclass(frozen=True)
class SignatureEvidence:
    """How a signature was made, written into the signature dictionary's ``/Reason``.

    The signature's byte ranges cover that dictionary, so the statement is signed with the
    document and survives outside our database: a court reading the PDF alone sees which key
    custody was used and which identity check let the signer sign. Format (one line, parsed back
    by :meth:`parse`): ``key-custody=browser; identity-check=<reference>``. The reference states
    when the check took place (:meth:`identity.gate.IdentityCheck.reference`); the verifier
    refuses a signature whose check is later than its timestamp.
    """

    key_custody: KeyCustody
    identity_check: str | None = None
    #: Not part of ``/Reason``: the lines the same revision prints in the signer's identity box of
    #: the evidence appendix (:mod:`signing.identity_print`), covered by the signature.
    printed_identity: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if self.identity_check is not None and (";" in self.identity_check or not self.identity_check.strip()):
            raise ValueError("the identity-check reference must be non-empty and contain no ';'")

    def reason(self) -> str:
        parts = [f"key-custody={self.key_custody.value}"]
        if self.identity_check is not None:
            parts.append(f"identity-check={self.identity_check}")
        return "; ".join(parts)

    @classmethod
    def parse(cls, reason: str | None) -> "SignatureEvidence | None":
        """The evidence in a ``/Reason`` we wrote; ``None`` for anything else."""
        first, *rest = (reason or "").split("; ")
        name, _, value = first.partition("=")
        if name != "key-custody" or value not in set(KeyCustody) or len(rest) > 1:
            return None
        reference = None
        if rest:
            name, _, reference = rest[0].partition("=")
            if name != "identity-check" or not reference.strip():
                return None
        return cls(KeyCustody(value), reference)
