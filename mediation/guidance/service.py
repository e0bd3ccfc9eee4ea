"""Guidance over the database: the assistant's entries (seeded from the shipped file, edited by
platform administrators), its log of unanswered questions, consultation requests, the estimator's
platform figures (SQL aggregates) and the similar-case corpus. Searching and index building run in
a worker thread; the indexes are caches of tables, rebuilt when the tables change.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..accounts import Actor, Role
from ..clock import Clock
from ..directory_models import Organisation
from ..errors import Forbidden, InvalidInput, NotFound
from ..guidance_models import ConsultationRequest, GuidanceEntry, PastCase, UnansweredQuestion
from ..notifications import Notifier
from .assistant import Assistant, Entry, Language, Reply, shipped_entries
from .diagnosis import Answers, Diagnosis, diagnose
from .estimate import Estimate, Estimator
from .fees import LawyerFees
from .similar import CaseIndex, Piece, PastCaseIn, highlight, query_words

#: Unanswered questions are kept this long for the editors, then deleted (people type names and
#: phone numbers into questions).
UNANSWERED_KEEP = dt.timedelta(days=90)
#: How long a node trusts its copy of the knowledge base before asking whether it changed.
RECHECK_SECONDS = 2.0
MAX_SIMILAR = 20
#: What an organisation's administrators are told of a consultation request: no name, phone or
#: question (they read those on the consultation list, where their role is checked).
CONSULTATION_NOTICE = "consultation.requested"
CONSULTATION_TEXT = "A new consultation request ({id}) was sent to your organisation; see Guidance, consultation requests."

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SimilarCase:
    reference: str
    court: str
    dispute_type: str
    outcome: str
    result: str
    amount_yuan: int | None
    duration_days: int
    decided_on: str
    score: float
    facts: list[Piece]
    claims: list[Piece]


class GuidanceService:
    def __init__(self, db: async_sessionmaker[AsyncSession], clock: Clock, *, lawyer: LawyerFees | None = None,
                 notifier: Notifier | None = None):
        self.db = db
        self.clock = clock
        self.notifier = notifier
        self.estimator = Estimator(db, lawyer)
        self._assistant: Assistant | None = None
        self._entries_version: tuple[int, Any] | None = None
        self._checked_at = 0.0
        self._cases: CaseIndex | None = None
        # Two locks: a long rebuild of the case index must not hold up a knowledge-base refresh.
        self._entries_lock = asyncio.Lock()
        self._cases_lock = asyncio.Lock()

    # ------------------------------------------------------------------ knowledge base
    async def seed(self, entries: Iterable[Entry] | None = None) -> int:
        """Add the shipped entries whose id the table does not have yet; the number added."""
        entries = list(entries if entries is not None else await asyncio.to_thread(shipped_entries))
        now = self.clock.now()
        async with self.db.begin() as s:
            have = set((await s.execute(select(GuidanceEntry.id))).scalars())
            new = [e for e in entries if e.id not in have]
            s.add_all(_row(e, now, "seed") for e in new)
        await self.forget_old_questions()
        return len(new)

    async def forget_old_questions(self) -> int:
        """Delete unanswered questions older than :data:`UNANSWERED_KEEP` (at start and when listed)."""
        async with self.db.begin() as s:
            result = await s.execute(delete(UnansweredQuestion).where(
                UnansweredQuestion.asked_at < self.clock.now() - UNANSWERED_KEEP))
            return result.rowcount or 0

    async def entries(self) -> list[Entry]:
        async with self.db() as s:
            rows = (await s.execute(select(GuidanceEntry).order_by(GuidanceEntry.topic, GuidanceEntry.id))).scalars()
            return [_entry(r) for r in rows]

    async def put_entry(self, actor: Actor, entry: Entry) -> Entry:
        _editor(actor)
        async with self.db.begin() as s:
            await s.merge(_row(entry, self.clock.now(), actor.id))
        self._checked_at = 0.0
        return entry

    async def delete_entry(self, actor: Actor, entry_id: str) -> None:
        _editor(actor)
        async with self.db.begin() as s:
            if (await s.execute(delete(GuidanceEntry).where(GuidanceEntry.id == entry_id))).rowcount == 0:
                raise NotFound("not_found", "no such guidance entry")
        self._checked_at = 0.0

    async def unanswered(self, actor: Actor, limit: int = 100) -> list[dict[str, Any]]:
        _editor(actor)
        await self.forget_old_questions()
        async with self.db() as s:
            rows = (await s.execute(select(UnansweredQuestion).order_by(UnansweredQuestion.id.desc())
                                    .limit(limit))).scalars()
            return [{"question": r.question, "lang": r.lang, "outcome": r.outcome, "confidence": r.confidence,
                     "best_entry": r.best_entry, "asked_at": r.asked_at.isoformat()} for r in rows]

    async def _current_assistant(self) -> Assistant:
        if self._assistant is not None and time.monotonic() - self._checked_at < RECHECK_SECONDS:
            return self._assistant
        async with self._entries_lock:
            async with self.db() as s:
                version = tuple((await s.execute(select(func.count(), func.max(GuidanceEntry.updated_at)))).one())
            if self._assistant is None or version != self._entries_version:
                entries = await self.entries()
                self._assistant = await asyncio.to_thread(Assistant, entries)
                self._entries_version = version
            self._checked_at = time.monotonic()
            return self._assistant

    async def ask(self, question: str, lang: Language | None = None) -> Reply:
        """Answer; a declined or uncertain question is logged for the editors."""
        question = question.strip()
        if not question:
            raise InvalidInput("bad_question", "ask a question")
        assistant = await self._current_assistant()
        reply = await asyncio.to_thread(assistant.reply, question, lang)
        if reply.outcome != "answer":
            async with self.db.begin() as s:
                s.add(UnansweredQuestion(question=question[:300], lang=reply.lang, outcome=reply.outcome,
                                         confidence=reply.confidence,
                                         best_entry=reply.citation.entry_id if reply.citation else None,
                                         asked_at=self.clock.now()))
        return reply

    # ------------------------------------------------------------------ consultations
    async def request_consultation(self, organisation_id: str, name: str, phone: str, question: str,
                                   dispute_type: str | None) -> str:
        """Stored, then the organisation's administrators are told in the app (a failed notice is
        logged; the request stands)."""
        async with self.db.begin() as s:
            organisation = await s.get(Organisation, organisation_id)
            if organisation is None:
                raise NotFound("not_found", "no such organisation")
            request_id = "gc_" + secrets.token_hex(8)
            s.add(ConsultationRequest(id=request_id, organisation_id=organisation_id, name=name, phone=phone,
                                      question=question, dispute_type=dispute_type, created_at=self.clock.now()))
            organisation_name = organisation.name
        if self.notifier is not None:
            try:
                await self.notifier.tell_organisation(organisation_name, CONSULTATION_NOTICE,
                                                      CONSULTATION_TEXT.format(id=request_id))
            except Exception:
                log.exception("consultation notice not stored",
                              extra={"organisation_id": organisation_id, "request_id": request_id})
        return request_id

    async def consultations(self, actor: Actor, limit: int = 100) -> list[dict[str, Any]]:
        """An organisation's administrator sees the requests to their organisation; the platform's all."""
        query = select(ConsultationRequest, Organisation.name).join(
            Organisation, Organisation.id == ConsultationRequest.organisation_id)
        if actor.role == Role.ORG_ADMIN:
            query = query.where(Organisation.name == actor.organisation)
        elif actor.role != Role.PLATFORM_ADMIN:
            raise Forbidden("forbidden", "consultation requests are for organisation administrators")
        async with self.db() as s:
            rows = (await s.execute(query.order_by(ConsultationRequest.created_at.desc()).limit(limit))).all()
        return [{"id": r.id, "organisation": org, "name": r.name, "phone": r.phone, "question": r.question,
                 "dispute_type": r.dispute_type, "created_at": r.created_at.isoformat()} for r, org in rows]

    # ------------------------------------------------------------------ diagnosis and estimate
    @staticmethod
    def diagnose(answers: Answers) -> Diagnosis:
        return diagnose(answers)

    async def estimate(self, dispute_type: str, amount: Decimal, *, simplified: bool, with_lawyer: bool) -> Estimate:
        return await self.estimator.estimate(dispute_type, amount, simplified=simplified, with_lawyer=with_lawyer)

    # ------------------------------------------------------------------ similar cases
    async def import_cases(self, cases: Iterable[PastCaseIn], batch: int = 2000) -> int:
        """Add past cases (their terms computed in a thread); a reference already stored is refused."""
        count = 0
        pending: list[PastCaseIn] = []
        for case in cases:
            pending.append(case)
            if len(pending) >= batch:
                count += await self._insert(pending)
                pending = []
        if pending:
            count += await self._insert(pending)
        return count

    async def import_cases_if_none(self, cases: Iterable[PastCaseIn]) -> int:
        """The demo's corpus: imported only into an empty table, so running the demo again adds nothing."""
        async with self.db() as s:
            if (await s.execute(select(func.count()).select_from(PastCase))).scalar_one():
                return 0
        return await self.import_cases(cases)

    async def _insert(self, cases: list[PastCaseIn]) -> int:
        searchable = await asyncio.to_thread(lambda: [c.search_terms() for c in cases])
        async with self.db.begin() as s:
            refs = [c.reference for c in cases]
            taken = set((await s.execute(select(PastCase.reference).where(PastCase.reference.in_(refs)))).scalars())
            if taken or len(set(refs)) != len(refs):
                raise InvalidInput("duplicate_reference", f"references already imported: {sorted(taken)[:5]}")
            s.add_all(PastCase(reference=c.reference, court=c.court, dispute_type=c.dispute_type, facts=c.facts,
                               claims=c.claims, outcome=c.outcome, result=c.result, amount_yuan=c.amount_yuan,
                               duration_days=c.duration_days, decided_on=c.decided_on, terms=t)
                      for c, t in zip(cases, searchable))
        return len(cases)

    async def _case_index(self) -> CaseIndex:
        async with self.db() as s:
            version = tuple((await s.execute(select(func.count(), func.coalesce(func.max(PastCase.id), 0)))).one())
        if self._cases is not None and self._cases.version == version:
            return self._cases
        async with self._cases_lock:
            if self._cases is None or self._cases.version != version:
                async with self.db() as s:
                    rows = (await s.execute(select(PastCase.id, PastCase.terms).order_by(PastCase.id))).all()
                ids = [r[0] for r in rows]
                self._cases = await asyncio.to_thread(CaseIndex, version, ids, [r[1].split() for r in rows])
            return self._cases

    async def similar(self, description: str, limit: int = 5) -> list[SimilarCase]:
        index = await self._case_index()
        hits = await asyncio.to_thread(index.search, description, min(limit, MAX_SIMILAR))
        if not hits:
            return []
        async with self.db() as s:
            rows = {r.id: r for r in (await s.execute(select(PastCase).where(
                PastCase.id.in_([i for i, _ in hits])))).scalars()}
        words = await asyncio.to_thread(query_words, description)
        return [SimilarCase(r.reference, r.court, r.dispute_type, r.outcome, r.result, r.amount_yuan, r.duration_days,
                            r.decided_on.isoformat(), round(score, 3), highlight(r.facts, words),
                            highlight(r.claims, words))
                for i, score in hits if (r := rows.get(i)) is not None]


def _editor(actor: Actor) -> None:
    if actor.role != Role.PLATFORM_ADMIN:
        raise Forbidden("forbidden", "the knowledge base is edited by platform administrators")


def _row(e: Entry, now: Any, by: str) -> GuidanceEntry:
    return GuidanceEntry(id=e.id, topic=e.topic, question_zh=e.question_zh, question_en=e.question_en,
                         answer_zh=e.answer_zh, answer_en=e.answer_en, source=e.source, keywords=list(e.keywords),
                         updated_at=now, updated_by=by)


def _entry(r: GuidanceEntry) -> Entry:
    return Entry(r.id, r.topic, r.question_zh, r.question_en, r.answer_zh, r.answer_en, r.source, tuple(r.keywords))
