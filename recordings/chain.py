"""The per-session hash chain over closed segments.

``chain_hash = SHA-256(prev || segment_sha256 || track_id || index)`` with ``prev`` the previous
entry's hash (32 zero bytes for the first), both digests as raw 32 bytes, the track id as UTF-8
and the segment index as 8 bytes big-endian. An entry's position is the order segments were
closed across all tracks of the session, so the chain fixes each segment's content, its track,
its place in the track and its place in time relative to the others; the RFC 3161 stamps over
chain heads fix when that order existed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

GENESIS = "0" * 64


def link(prev_hash: str, segment_sha256: str, track_id: str, index: int) -> str:
    digest = hashlib.sha256()
    digest.update(bytes.fromhex(prev_hash))
    digest.update(bytes.fromhex(segment_sha256))
    digest.update(track_id.encode())
    digest.update(index.to_bytes(8, "big"))
    return digest.hexdigest()


@dataclass(frozen=True)
class ChainLink:
    position: int
    track_id: str
    index: int
    segment_sha256: str
    prev_hash: str
    chain_hash: str


@dataclass(frozen=True)
class ChainProblem:
    position: int
    reason: str


def check(links: Sequence[ChainLink]) -> list[ChainProblem]:
    """Recompute the chain from genesis; every entry that does not follow is reported."""
    problems: list[ChainProblem] = []
    prev = GENESIS
    for expected, entry in enumerate(links, start=1):
        if entry.position != expected:
            problems.append(ChainProblem(expected, f"chain entry {expected} is missing"))
        if entry.prev_hash != prev:
            problems.append(ChainProblem(entry.position, "previous-hash link broken (an entry before it was "
                                                         "removed, altered or reordered)"))
        if link(entry.prev_hash, entry.segment_sha256, entry.track_id, entry.index) != entry.chain_hash:
            problems.append(ChainProblem(entry.position, f"chain entry {entry.position} does not match its segment "
                                                         f"(track {entry.track_id} #{entry.index})"))
        prev = entry.chain_hash
    return problems
