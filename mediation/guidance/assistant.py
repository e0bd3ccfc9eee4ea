"""The Q&A assistant ("成小法" in the seed): the best knowledge-base entry for a question, with how
sure it is. Three outcomes: an answer citing its entry; an uncertain answer (below the confidence
threshold: said so, and a human consultation offered); a decline (nothing in the knowledge base is
about the question). Pure computation over a snapshot of the entries; the database side is
:mod:`mediation.guidance.service`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Literal

import yaml

from .search import SearchIndex
from .text import intent_words, subject_words, terms

KNOWLEDGE_FILE = Path(__file__).parent / "knowledge.yaml"
#: A question is declined when it names no subject of the synonym table (a dispute or procedure
#: word, see ``text.subject_words``) and its best entry both scores below this (BM25) and covers
#: less than :data:`DECLINE_COVERAGE` of it: off-topic questions meet the knowledge base on common
#: words ("多少钱", "手机"), everyday questions about disputes name what they are about ("借", "工资").
DECLINE_SCORE = 10.0
DECLINE_COVERAGE = 0.45
#: Below this coverage, the answer is given as uncertain and a human consultation is offered.
CONFIDENT_FROM = 0.50
#: The best BM25 hits are re-ranked by score x coverage^COVERAGE_WEIGHT: an entry that answers all
#: of a question beats a short one that shares its commonest word ("多少钱") more often.
RERANKED = 8
QUESTION_WEIGHT = 2
COVERAGE_WEIGHT = 0.5
LENGTH_NORMALISATION = 0.5
MAX_QUESTION_CHARS = 300
CJK = re.compile(r"[\u3400-\u9fff]")

Language = Literal["zh", "en"]
Outcome = Literal["answer", "unsure", "declined"]


@dataclass(frozen=True)
class Entry:
    id: str
    topic: str
    question_zh: str
    question_en: str
    answer_zh: str
    answer_en: str
    source: str
    keywords: tuple[str, ...] = ()

    def search_terms(self) -> list[str]:
        """What the index sees: both questions :data:`QUESTION_WEIGHT` times (a question is what
        people rephrase), the keywords' terms once each (a list of synonyms folds onto one word,
        which must not count as often as it has synonyms) and both answers."""
        questions = terms(f"{self.question_zh} {self.question_en}")
        keywords = list(dict.fromkeys(terms(" ".join(self.keywords))))
        return questions * QUESTION_WEIGHT + keywords + terms(f"{self.answer_zh} {self.answer_en}")

    def question(self, lang: Language) -> str:
        return self.question_en if lang == "en" else self.question_zh

    def answer(self, lang: Language) -> str:
        return self.answer_en if lang == "en" else self.answer_zh

    @classmethod
    def of(cls, data: dict[str, Any]) -> Entry:
        return cls(id=str(data["id"]), topic=str(data["topic"]), question_zh=str(data["question_zh"]),
                   question_en=str(data["question_en"]), answer_zh=str(data["answer_zh"]),
                   answer_en=str(data["answer_en"]), source=str(data["source"]),
                   keywords=tuple(str(k) for k in data.get("keywords") or ()))


def shipped_entries(path: Path = KNOWLEDGE_FILE) -> list[Entry]:
    """The knowledge base that ships with the project (the seed of the database table)."""
    return [Entry.of(e) for e in yaml.safe_load(path.read_text(encoding="utf-8"))["entries"]]


@lru_cache(maxsize=1)
def _shipped_ids() -> frozenset[str]:
    return frozenset(e.id for e in shipped_entries())


@dataclass(frozen=True)
class Citation:
    entry_id: str
    question: str
    source: str


@dataclass(frozen=True)
class Reply:
    outcome: Outcome
    lang: Language
    confidence: float  # the rarity-weighted share of the question the entry covers, 0-1
    text: str  # the answer, or what the assistant says instead
    citation: Citation | None = None
    #: Other entries that may be what was meant (for "unsure" and also shown after answers).
    related: list[Citation] = field(default_factory=list)
    offer_consultation: bool = False


UNSURE = {"zh": "我不太确定下面的内容是否回答了您的问题，仅供参考。建议申请人工咨询，由调解组织的工作人员为您解答。",
          "en": "I am not sure the following answers your question; take it as a pointer only. "
                "You can request a consultation with a mediation organisation's staff."}
DECLINED = {"zh": "抱歉，我只能回答与纠纷调解、诉讼费用、司法确认、支付令、证据和期限等有关的问题。"
                  "如果您的问题与纠纷有关，可以换个说法，或申请人工咨询。",
            "en": "Sorry, I can only answer questions about dispute mediation, court fees, judicial confirmation, "
                  "payment orders, evidence and time limits. If your question is about a dispute, try other words "
                  "or request a consultation."}


def language_of(question: str, preferred: Language | None = None) -> Language:
    if preferred is not None:
        return preferred
    return "zh" if CJK.search(question) else "en"


class Assistant:
    """Built once per snapshot of the knowledge base (rebuilt when an editor changes it)."""

    def __init__(self, entries: Iterable[Entry]):
        self.entries = list(entries)
        self.index = SearchIndex([e.search_terms() for e in self.entries], keep_terms=True, b=LENGTH_NORMALISATION)
        # The shipped entries' subjects are in the synonym table; an entry an editor added is not,
        # so its own keywords stand in for them.
        shipped = _shipped_ids()
        self.subjects = subject_words() | {t for e in self.entries if e.id not in shipped
                                           for t in terms(" ".join(e.keywords)) if not t.startswith("~")}

    def reply(self, question: str, lang: Language | None = None) -> Reply:
        question = question[:MAX_QUESTION_CHARS]
        lang = language_of(question, lang)
        query = terms(question)
        intent = intent_words()
        hits = self.index.search(query + [t for t in query if t in intent], RERANKED)
        if not hits:
            return Reply("declined", lang, 0.0, DECLINED[lang], offer_consultation=True)
        covered = {h.position: self.index.coverage(query, h.position) for h in hits}
        hits = sorted(hits, key=lambda h: -h.score * covered[h.position] ** COVERAGE_WEIGHT)[:4]
        best = hits[0]
        confidence = round(covered[best.position], 3)
        entry = self.entries[best.position]
        related = [self._cite(self.entries[h.position], lang) for h in hits[1:]]
        names_a_subject = any(t in self.subjects and self.index.knows(t) for t in query)
        if not names_a_subject and best.score < DECLINE_SCORE and confidence < DECLINE_COVERAGE:
            return Reply("declined", lang, confidence, DECLINED[lang], offer_consultation=True)
        if confidence < CONFIDENT_FROM:
            return Reply("unsure", lang, confidence, UNSURE[lang] + "\n\n" + entry.answer(lang),
                         self._cite(entry, lang), related, offer_consultation=True)
        return Reply("answer", lang, confidence, entry.answer(lang), self._cite(entry, lang), related)

    @staticmethod
    def _cite(entry: Entry, lang: Language) -> Citation:
        return Citation(entry.id, entry.question(lang), entry.source)
