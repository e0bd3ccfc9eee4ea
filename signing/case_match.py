"""Match an uploaded agreement PDF to its case on this platform.

Offline verification proves a file is a validly signed agreement; a court also wants to know
*which* agreement it is and whether the platform still stands behind that version. We match by
content, not by what the page says: the first revision of every signed agreement is the locked
PDF, whose SHA-256 was fixed at lock. So the hash of the bytes up to one of the first ``%%EOF``
markers names the agreement version — looked up through a
:class:`~signing.agreement_versions.RevisionLookup` (an index on the stored hashes, never a scan) —
and the whole file's hash tells whether it is the newest stored revision, an earlier cut, or bytes
we never produced. Those prefix hashes come from
:func:`~signing.verification.revision_prefix_hashes`; an upload has them computed in the
verifier's sandboxed child (:func:`~signing.verification.verify_upload_safely`).

The evidence hashes of the store (identity-check frames, recording manifests, audit-trail head)
are then looked up in the PDF's page text (``pdftotext``), so a divergence between what the
appendix prints and what the platform holds shows.

The result carries only the case number, ids, statuses and hashes: the endpoint is public and
must not disclose names or identity numbers. The blocking work (hashing, ``pdftotext``) runs in
worker threads.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import subprocess
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from .agreement_versions import RevisionLookup, VersionState, VersionStatus
from .verification import Reason, revision_prefix_hashes

#: Seconds ``pdftotext`` may take on a file that already passed the verifier's parse limits.
PDFTOTEXT_TIMEOUT_SECONDS = 20.0


class RevisionMatch(StrEnum):
    LATEST = "latest"  # identical to the newest revision the platform stored
    EARLIER = "earlier"  # identical to an older stored revision (cut back, or signatures since added)
    OTHER = "other"  # starts with our locked PDF, but these bytes were never stored here


@dataclass
class EvidenceHash:
    """One evidence hash the platform holds for this version, and whether the PDF prints it."""

    kind: str  # identity_frames, recording, audit_head
    sha256: str
    printed: bool


@dataclass
class CaseMatch:
    found: bool
    file_sha256: str
    agreement_id: str | None = None
    version: int | None = None
    #: The case the agreement was drafted for (its identity attestations must name it).
    case_id: str | None = None
    case_number: str | None = None
    version_status: str | None = None
    #: Is this the agreement's current version (``False``: edited after lock, superseded).
    current: bool | None = None
    current_version: int | None = None
    revision: RevisionMatch | None = None
    #: Which stored revision file this is (0 = the locked PDF), if identical to one.
    revision_number: int | None = None
    stored_revisions: int | None = None
    locked_sha256: str | None = None
    final_sha256: str | None = None
    evidence: list[EvidenceHash] = field(default_factory=list)
    #: Found, current, identical to the newest stored revision and every evidence hash printed.
    consistent: bool = False
    reasons: list[Reason] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)




def _page_text(pdf: bytes) -> str | None:
    try:
        done = subprocess.run(["pdftotext", "-q", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True,
                              timeout=PDFTOTEXT_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else None


def _store_evidence(state: VersionState) -> list[tuple[str, str]]:
    ev = state.evidence
    pairs = [("identity_frames", c.frames_sha256) for c in ev.identity_checks if c.frames_sha256]
    pairs += [("recording", r.sha256) for r in ev.recordings]
    if ev.audit_head_sha256:
        pairs.append(("audit_head", ev.audit_head_sha256))
    return pairs


def _compare_evidence(match: CaseMatch, state: VersionState, pdf: bytes) -> None:
    text = _page_text(pdf)
    if text is None:
        match.reasons.append(Reason("page_text_unreadable", "the page text could not be extracted to compare "
                                                           "the printed evidence hashes"))
        return
    # Long hashes wrap in the appendix table: compare with all whitespace removed.
    flat = re.sub(r"\s+", "", text)
    match.evidence = [EvidenceHash(kind, digest, digest in flat) for kind, digest in _store_evidence(state)]
    for item in match.evidence:
        if not item.printed:
            match.reasons.append(Reason("evidence_not_printed", f"the platform's {item.kind} hash {item.sha256} "
                                                                f"is not printed in the document"))
    if re.sub(r"\s+", "", state.data.case_number) not in flat:
        match.reasons.append(Reason("case_number_not_printed", "the document does not print the case number "
                                                               "the platform holds"))


async def match_to_platform(pdf: bytes, lookup: RevisionLookup, *,
                            prefixes: Collection[str] | None = None) -> CaseMatch:
    """Find the agreement version whose locked PDF starts ``pdf``; see the module docstring.
    ``prefixes`` are :func:`revision_prefix_hashes` of ``pdf`` when the caller has them already."""
    match = CaseMatch(found=False, file_sha256=await asyncio.to_thread(lambda: hashlib.sha256(pdf).hexdigest()))
    if prefixes is None:
        prefixes = await asyncio.to_thread(revision_prefix_hashes, pdf)
    found = await lookup(set(prefixes))
    if found is None:
        match.reasons.append(Reason("not_on_platform", "no agreement on this platform was locked with this "
                                                       "document's first revision (another platform, or altered)"))
        return match
    state, current_version, revision_hashes = found.state, found.current_version, found.revision_sha256
    match.found = True
    match.agreement_id, match.version = state.agreement_id, state.version
    match.case_id, match.case_number = state.case_id, state.data.case_number
    match.version_status = state.status.value
    match.current, match.current_version = state.version == current_version, current_version
    match.stored_revisions = len(revision_hashes)
    match.locked_sha256, match.final_sha256 = state.locked_sha256, state.final_sha256
    if match.file_sha256 in revision_hashes:
        match.revision_number = revision_hashes.index(match.file_sha256)
        match.revision = RevisionMatch.LATEST if match.revision_number == state.revision else RevisionMatch.EARLIER
    else:
        match.revision = RevisionMatch.OTHER
    if not match.current:
        match.reasons.append(Reason("superseded", f"version {state.version} was edited after locking and replaced "
                                                  f"by version {current_version}; its signatures do not count"))
    if match.revision is RevisionMatch.EARLIER:
        match.reasons.append(Reason("earlier_revision", f"this is stored revision {match.revision_number} of "
                                                        f"{state.revision}: later signatures are missing"))
    elif match.revision is RevisionMatch.OTHER:
        match.reasons.append(Reason("unknown_revision", "the document starts with this agreement's locked PDF, but "
                                                        "its later revisions were not produced by this platform"))
    if state.status is VersionStatus.LOCKED:
        match.reasons.append(Reason("not_completed", "the platform is still collecting signatures for this version"))
    await asyncio.to_thread(_compare_evidence, match, state, pdf)
    match.consistent = not match.reasons
    return match
