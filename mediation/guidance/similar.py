"""Similar past cases: BM25 over the facts and claims of a corpus of past cases, with the matching
words marked for highlighting. The index lives in memory, rebuilt from the database's stored terms
when the corpus changes (its row count and last id are checked before a search), so every node
answers from the same table. The import format is JSON Lines, one case a line (see README,
"Similar cases"), validated here before anything is written.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from .search import SearchIndex
from .text import terms

OUTCOMES = ("mediated", "judgment", "withdrawn", "confirmed", "rejected")
MAX_FIELD_CHARS = 5000


class ImportError_(ValueError):
    """A line of an import file is not a valid past case (the whole import is refused)."""


@dataclass(frozen=True)
class PastCaseIn:
    reference: str
    court: str
    dispute_type: str
    facts: str
    claims: str
    outcome: str
    result: str
    amount_yuan: int | None
    duration_days: int
    decided_on: dt.date

    def search_terms(self) -> str:
        return " ".join(terms(f"{self.facts} {self.claims}"))


def parse_line(line: str, number: int, dispute_types: Iterable[str]) -> PastCaseIn:
    try:
        raw: dict[str, Any] = json.loads(line)
        if not isinstance(raw, dict):
            raise ValueError("not an object")
        case = PastCaseIn(
            reference=str(raw["reference"])[:64], court=str(raw["court"])[:100],
            dispute_type=str(raw["dispute_type"]), facts=str(raw["facts"]), claims=str(raw["claims"]),
            outcome=str(raw["outcome"]), result=str(raw.get("result", "")),
            amount_yuan=None if raw.get("amount_yuan") is None else int(raw["amount_yuan"]),
            duration_days=int(raw["duration_days"]), decided_on=dt.date.fromisoformat(str(raw["decided_on"])))
    except (KeyError, ValueError, TypeError) as exc:
        raise ImportError_(f"line {number}: {exc.__class__.__name__}: {exc}") from None
    if case.dispute_type not in set(dispute_types):
        raise ImportError_(f"line {number}: unknown dispute_type {case.dispute_type!r}")
    if case.outcome not in OUTCOMES:
        raise ImportError_(f"line {number}: outcome must be one of {', '.join(OUTCOMES)}")
    if not (case.facts.strip() and case.claims.strip()) or max(len(case.facts), len(case.claims)) > MAX_FIELD_CHARS:
        raise ImportError_(f"line {number}: facts and claims must be 1-{MAX_FIELD_CHARS} characters")
    if case.duration_days < 0 or (case.amount_yuan is not None and case.amount_yuan < 0):
        raise ImportError_(f"line {number}: negative duration or amount")
    return case


def parse_lines(lines: Iterable[str], dispute_types: Iterable[str]) -> Iterator[PastCaseIn]:
    types = frozenset(dispute_types)
    for number, line in enumerate(lines, 1):
        if line.strip():
            yield parse_line(line, number, types)


@dataclass(frozen=True)
class Piece:
    text: str
    hit: bool


def highlight(text: str, words: Iterable[str]) -> list[Piece]:
    """``text`` cut into pieces, the occurrences of ``words`` marked (longest word first)."""
    ordered = sorted({w for w in words if w}, key=len, reverse=True)
    pieces: list[Piece] = []
    plain_start = i = 0
    while i < len(text):
        word = next((w for w in ordered if text.startswith(w, i)), None)
        if word is None:
            i += 1
            continue
        if plain_start < i:
            pieces.append(Piece(text[plain_start:i], False))
        pieces.append(Piece(word, True))
        i += len(word)
        plain_start = i
    if plain_start < len(text):
        pieces.append(Piece(text[plain_start:], False))
    return pieces


def query_words(description: str) -> list[str]:
    """The words of a description worth marking in a case's text: its terms that are words (not
    character pairs), also before synonym folding (the case may use the person's own word)."""
    found = [t for t in terms(description) if not t.startswith("~")]
    found += [t[1:] for t in terms(description) if t.startswith("~")]
    return found


class CaseIndex:
    """A snapshot of the corpus: row ids in index order and the BM25 index over their terms."""

    def __init__(self, version: tuple[int, int], ids: list[int], documents: list[list[str]]):
        self.version = version
        self.ids = ids
        self.index = SearchIndex(documents)

    def search(self, description: str, limit: int) -> list[tuple[int, float]]:
        return [(self.ids[h.position], h.score) for h in self.index.search(terms(description), limit)]
