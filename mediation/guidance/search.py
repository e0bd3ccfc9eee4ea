"""A BM25 index (bm25s, sparse matrices) over documents already turned into terms, shared by the
assistant (a hundred entries) and the similar-case search (a court's whole corpus)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import bm25s
import numpy as np


#: Prefixes of terms that are character fragments, not words (see ``text.terms``).
FRAGMENT_MARKS = ("~",)


@dataclass(frozen=True)
class Hit:
    position: int  # the document's position in the list the index was built from
    score: float


class SearchIndex:
    def __init__(self, documents: Sequence[Sequence[str]], *, keep_terms: bool = False, b: float = 0.75):
        """``keep_terms``: remember each document's term set, for :meth:`coverage` (small corpora).
        ``b``: BM25's length normalisation (0.75 is the usual; less favours short documents less)."""
        self.size = len(documents)
        self._bm25 = bm25s.BM25(b=b)
        if self.size:
            # bm25s wants at least one term per document: an empty one gets a placeholder nobody types.
            self._bm25.index([list(d) or ["\x00"] for d in documents], show_progress=False)
        self._terms = [frozenset(d) for d in documents] if keep_terms else []
        df = Counter(t for d in self._terms for t in d)
        self._idf = {t: math.log(1 + (self.size - n + 0.5) / (n + 0.5)) for t, n in df.items()}
        self._unknown_idf = math.log(1 + (self.size + 0.5) / 0.5) if self.size else 0.0

    def search(self, query: Sequence[str], limit: int) -> list[Hit]:
        """The ``limit`` best documents with a positive score, best first."""
        if not self.size or not query:
            return []
        scores = self._bm25.get_scores(list(query))
        limit = min(limit, self.size)
        best = np.argpartition(-scores, limit - 1)[:limit] if limit < self.size else np.arange(self.size)
        ranked = sorted(best, key=lambda i: (-scores[i], i))
        return [Hit(int(i), float(scores[i])) for i in ranked if scores[i] > 0]

    def coverage(self, query: Sequence[str], position: int) -> float:
        """How much of the question the document covers, each word weighted by its rarity (a word
        the corpus never uses weighs most: a question about something else is mostly such words).
        Character fragments help ranking only; they are left out here."""
        wanted = {t for t in query if not t.startswith(FRAGMENT_MARKS)}
        # A compound the corpus lacks whose part it has ("宠物狗" beside "宠物") is said by that part.
        known = {t for t in wanted if t in self._idf}
        wanted = {t for t in wanted if t in known or not any(k in t for k in known)}
        if not wanted:
            return 0.0
        weight = {t: self._idf.get(t, self._unknown_idf) for t in wanted}
        have = self._terms[position]
        return sum(w for t, w in weight.items() if t in have) / sum(weight.values())

    def knows(self, term: str) -> bool:
        """Whether some document has ``term`` (needs ``keep_terms``)."""
        return term in self._idf

    def matched(self, query: Sequence[str], position: int) -> list[str]:
        return sorted(set(query) & self._terms[position])
