"""The per-case hash-chained audit trail.

Each entry's hash is SHA-256 over a canonical JSON encoding of (case, seq, time, actor, action,
payload, previous hash); the case row keeps the head (last seq and hash), written in the same
transaction as the entry, so removing the newest entries is caught as well as altering,
removing or reordering any earlier one. Entries are appended inside the transaction of the
change they record: either both happen or neither does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .errors import NotFound
from .models import AuditEntry, Case

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def entry_hash(case_id: str, seq: int, at: str, actor: str, action: str, payload: str, prev_hash: str) -> str:
    encoded = canonical_json({"case": case_id, "seq": seq, "at": at, "actor": actor, "action": action,
                              "payload": payload, "prev": prev_hash})
    return hashlib.sha256(encoded.encode()).hexdigest()


def append(s: AsyncSession, case: Case, actor: str, action: str, payload: dict[str, Any], at: datetime) -> AuditEntry:
    """Add the next entry for ``case`` to the session (the caller holds the case row, locked)."""
    seq = case.audit_seq + 1
    at_text = at.astimezone(timezone.utc).isoformat(timespec="microseconds")
    payload_text = canonical_json(payload)
    digest = entry_hash(case.id, seq, at_text, actor, action, payload_text, case.audit_head)
    entry = AuditEntry(case_id=case.id, seq=seq, at=at_text, actor=actor, action=action, payload=payload_text,
                       prev_hash=case.audit_head, hash=digest)
    s.add(entry)
    case.audit_seq = seq
    case.audit_head = digest
    return entry


async def record(db: async_sessionmaker[AsyncSession], case_id: str, actor: str, action: str,
                 payload: dict[str, Any], at: datetime) -> None:
    """Append one entry on its own, for a change made outside the case's tables (a mediator's
    action in the video room): locks the case row, so the chain stays a chain."""
    async with db.begin() as s:
        case = await s.scalar(select(Case).where(Case.id == case_id).with_for_update())
        if case is None:
            raise NotFound("case_not_found", f"no case {case_id}")
        append(s, case, actor, action, payload, at)


@dataclass(frozen=True)
class AuditVerification:
    """``ok`` or the first entry that does not check out and why."""

    case_id: str
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: str
    actor: str
    action: str
    payload: dict[str, Any]
    hash: str


class ChainLink(Protocol):
    """An entry as stored (:class:`~mediation.models.AuditEntry`) or as a case package carries it."""

    seq: int
    at: str
    actor: str
    action: str
    payload: str  # the canonical JSON that was hashed
    prev_hash: str
    hash: str


def check_chain(case_id: str, links: Sequence[ChainLink], head_seq: int, head_hash: str) -> AuditVerification:
    """Recompute the chain from the genesis hash and compare its end with the head the case records.
    Pure: the database check and the offline check of a case package (``accord verify``) share it."""
    prev = GENESIS
    for expected_seq, row in enumerate(links, start=1):
        if row.seq != expected_seq:
            return AuditVerification(case_id, False, len(links), expected_seq, f"entry {expected_seq} is missing")
        if row.prev_hash != prev:
            return AuditVerification(case_id, False, len(links), row.seq,
                                     "previous-hash link broken (an entry before it was removed, altered or reordered)")
        if entry_hash(case_id, row.seq, row.at, row.actor, row.action, row.payload, row.prev_hash) != row.hash:
            return AuditVerification(case_id, False, len(links), row.seq, "entry content does not match its hash")
        prev = row.hash
    if head_seq != len(links) or head_hash != prev:
        return AuditVerification(case_id, False, len(links), len(links) + 1,
                                 f"the case records {head_seq} entries ending in another hash: entries after {len(links)} were removed")
    return AuditVerification(case_id, True, len(links))


async def verify_chain(db: async_sessionmaker[AsyncSession], case_id: str) -> AuditVerification:
    async with db() as s:
        case = await s.get(Case, case_id)
        if case is None:
            raise NotFound("case_not_found", f"no case {case_id}")
        rows = (await s.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.seq))).all()
    return check_chain(case_id, rows, case.audit_seq, case.audit_head)


async def read_trail(db: async_sessionmaker[AsyncSession], case_id: str) -> list[AuditRecord]:
    async with db() as s:
        rows = (await s.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.seq))).all()
    return [AuditRecord(r.seq, r.at, r.actor, r.action, json.loads(r.payload), r.hash) for r in rows]
