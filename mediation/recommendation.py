"""Recommend five mediators for a case (the seed: "at application time, recommend 5 mediators
skilled in that kind of dispute").

Ranking happens in SQL: for each candidate, the per-mediator figures (current load, decided and
settled cases, ratings, accepted and declined choices) are correlated counts read from covering
indexes; the statement scores, orders and cuts to five in the database, so no Python loop runs
over 10,000 mediators. Specialists in the dispute type are ranked first; the others are ranked
only when one of them could still reach the list (fewer than five specialists, or a fifth
specialist scoring below the best score possible without the speciality). Each part of the score is a column of its own and
comes back in :class:`WeightedScore`, next to the raw figures in :class:`ScoreComponents`, so a
party (and a test) can see why a mediator ranks where they do.

Rates are smoothed towards a prior (``prior_weight`` imaginary cases) so a mediator with one
settled case out of one does not outrank one with 70 out of 100; the reason text shows the raw
figures. A mediator at or over capacity, unavailable, disabled, or who already declined this
case is not recommended at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .accounts import Actor
from .cases import CaseService
from .directory import ACTIVE_STEPS, DirectoryConfig, like_pattern, plain_text
from .directory_models import MediatorProfile, MediatorSpeciality, Organisation
from .errors import Forbidden
from .models import Account, Case, MediatorChoice, Rating
from .workflow import Outcome, Step, require_step

WANTED = 5


@dataclass(frozen=True)
class RecommendationWeights:
    """How much each criterion counts (the parts add up to 1 for a perfect mediator)."""

    speciality: float = 0.35
    settlement: float = 0.20
    satisfaction: float = 0.15
    load: float = 0.10
    decline: float = 0.10
    region: float = 0.10
    prior_weight: float = 3.0  # imaginary cases pulling a short record towards the priors below
    settlement_prior: float = 0.6
    satisfaction_prior: float = 4.0
    decline_prior: float = 0.0


@dataclass(frozen=True)
class ScoreComponents:
    """The raw figures behind a recommendation."""

    speciality: bool
    region_match: bool
    decided_cases: int
    settled_cases: int
    settlement_rate: float | None  # None before the first decided case
    ratings: int
    satisfaction: float | None  # mean 1-5, None before the first rating
    active_cases: int
    capacity: int
    answered_choices: int
    declined_choices: int
    decline_rate: float | None  # None before the first answered choice


@dataclass(frozen=True)
class WeightedScore:
    """Each criterion's contribution; ``total`` is their sum and the ranking key."""

    speciality: float
    settlement: float
    satisfaction: float
    load: float
    decline: float
    region: float
    total: float


@dataclass(frozen=True)
class Recommendation:
    rank: int
    mediator_id: str
    name: str
    organisation: str
    category: str
    region: str
    reason: str
    components: ScoreComponents
    score: WeightedScore


@dataclass(frozen=True)
class RecommendationResult:
    dispute_type: str
    region: str | None
    wanted: int
    recommendations: list[Recommendation]
    complete: bool  # exactly ``wanted`` recommendations
    shortfall: str | None = None  # says why fewer than ``wanted`` came back
    case_id: str | None = None


@dataclass
class _Query:
    dispute_type: str
    region: str | None
    exclude: list[str] = field(default_factory=list)


def _region(region: str | None) -> str | None:
    return plain_text(region, "region", 100, required=False) or None if region is not None else None


def _num(value: Any) -> float:
    return float(value) if value is not None else 0.0


class Recommender:
    def __init__(self, db: async_sessionmaker[AsyncSession], cases: CaseService, config: DirectoryConfig | None = None,
                 weights: RecommendationWeights | None = None):
        self.db = db
        self.cases = cases
        self.config = config or DirectoryConfig()
        self.weights = weights or RecommendationWeights()

    async def for_case(self, actor: Actor, case_id: str, region: str | None = None) -> RecommendationResult:
        """Recommendations for a case at step 1 or 2, for its parties, its organisation's
        administrators and platform administrators. Mediators who declined it are left out."""
        async with self.db() as s:
            ctx = await self.cases.load_context(s, actor, case_id)
            if not (ctx.relation.sides or ctx.relation.organisation or ctx.relation.oversight):
                raise Forbidden("forbidden", "recommendations are for the case's parties and administrators")
            require_step(Step(ctx.case.step), Step.START, Step.CHOOSE_MEDIATOR)
            declined = list((await s.scalars(select(MediatorChoice.mediator_id).where(
                MediatorChoice.case_id == case_id, MediatorChoice.status == "declined"))).all())
            result = await self._rank(s, _Query(ctx.case.dispute_type, _region(region), declined))
        return replace(result, case_id=case_id)

    async def for_dispute(self, dispute_type: str, region: str | None = None) -> RecommendationResult:
        """Recommendations for a dispute not filed yet (the guidance page), public information only."""
        dispute_type = plain_text(dispute_type, "dispute_type", 40)
        async with self.db() as s:
            return await self._rank(s, _Query(dispute_type, _region(region)))

    def _statement(self, q: _Query, *, specialists: bool) -> Any:
        """The best five among the specialists in the dispute type (``specialists``) or among the
        others. Each figure is a correlated count over a covering index, so the cost follows the
        number of candidates and their own records, not the size of the case tables."""
        w = self.weights
        me = MediatorProfile.account_id

        def count(column: Any, *conditions: Any, value: Any = None) -> Any:
            return (select(func.coalesce(func.sum(value), 0) if value is not None else func.count())
                    .where(column == me, *conditions).scalar_subquery())

        decided_outcomes = [str(Outcome.SETTLED), str(Outcome.FAILED)]
        skilled = select(MediatorSpeciality.account_id).where(MediatorSpeciality.dispute_type == q.dispute_type)
        candidates: Any = (
            select(me.label("account_id"), MediatorProfile.organisation_id, MediatorProfile.category,
                   MediatorProfile.region, MediatorProfile.max_concurrent,
                   count(Case.mediator_id, Case.step.in_(ACTIVE_STEPS)).label("active"),
                   count(Case.mediator_id, Case.outcome.in_(decided_outcomes)).label("decided"),
                   count(Case.mediator_id, Case.outcome == str(Outcome.SETTLED)).label("settled"),
                   count(Rating.mediator_id).label("rated"),
                   count(Rating.mediator_id, value=Rating.score).label("rating_sum"),
                   count(MediatorChoice.mediator_id, MediatorChoice.status == "declined")
                   .label("declined"),
                   count(MediatorChoice.mediator_id,
                         MediatorChoice.status.in_(["accepted", "declined"])).label("answered"))
            .where(MediatorProfile.available.is_(True), *([] if specialists else [me.not_in(skilled)]),
                   *([me.not_in(q.exclude)] if q.exclude else [])))
        if specialists:  # driven from the speciality index: only those mediators are looked at
            candidates = candidates.join(MediatorSpeciality, and_(MediatorSpeciality.account_id == me,
                                                                  MediatorSpeciality.dispute_type == q.dispute_type))
        # Computed once per candidate, not again for the ORDER BY (both databases honour the hint).
        candidates = candidates.cte("candidates").prefix_with("MATERIALIZED")
        c = candidates.c
        region_match: ColumnElement[Any] = literal(0)
        if q.region:
            region_match = case((c.region.like(like_pattern(q.region, anywhere=False), escape="\\"), 1), else_=0)
        k = w.prior_weight
        parts = {
            "p_speciality": literal(w.speciality if specialists else 0.0),
            "p_settlement": w.settlement * (c.settled + k * w.settlement_prior) / (c.decided + k),
            "p_satisfaction": w.satisfaction * ((c.rating_sum + k * w.satisfaction_prior) / (c.rated + k) - 1.0) / 4.0,
            "p_load": w.load * (1.0 - c.active * 1.0 / c.max_concurrent),
            "p_decline": w.decline * (1.0 - (c.declined + k * w.decline_prior) / (c.answered + k)),
            "p_region": w.region * region_match,
        }
        total = sum(parts.values(), literal(0.0))
        return (
            select(c.account_id, Account.display_name, Organisation.name.label("organisation"), c.category, c.region,
                   c.max_concurrent, literal(1 if specialists else 0).label("has_speciality"),
                   region_match.label("region_match"), c.active, c.decided, c.settled, c.rated, c.rating_sum,
                   c.declined, c.answered, *(expr.label(name) for name, expr in parts.items()), total.label("total"))
            .select_from(candidates)
            .join(Account, Account.id == c.account_id)
            .join(Organisation, Organisation.id == c.organisation_id)
            .where(Account.disabled_at.is_(None), c.active < c.max_concurrent)
            .order_by(total.desc(), c.account_id)
            .limit(WANTED)
        )

    def best_without_speciality(self) -> float:
        """The highest score a mediator without the speciality can reach (every other part at its maximum)."""
        w = self.weights
        return w.settlement + w.satisfaction + w.load + w.decline + w.region

    async def _rank(self, s: AsyncSession, q: _Query) -> RecommendationResult:
        rows = list((await s.execute(self._statement(q, specialists=True))).mappings().all())
        if len(rows) < WANTED or _num(rows[-1]["total"]) < self.best_without_speciality():
            # Only then can a mediator without the speciality make the list: rank them too and merge.
            rows += (await s.execute(self._statement(q, specialists=False))).mappings().all()
            rows = sorted(rows, key=lambda r: (-_num(r["total"]), r["account_id"]))[:WANTED]
        picks = [self._recommendation(rank, row, q) for rank, row in enumerate(rows, start=1)]
        shortfall = None
        if len(picks) < WANTED:
            shortfall = (f"只有 {len(picks)} 名调解员可以承接（其余调解员暂停接案、已满负荷或已拒绝本案）"
                         f" / only {len(picks)} mediators are available: the others are unavailable, at capacity "
                         "or declined this case")
        return RecommendationResult(q.dispute_type, q.region, WANTED, picks, len(picks) == WANTED, shortfall)

    def _recommendation(self, rank: int, row: Any, q: _Query) -> Recommendation:
        decided, settled, rated = int(row["decided"]), int(row["settled"]), int(row["rated"])
        answered, declined = int(row["answered"]), int(row["declined"])
        components = ScoreComponents(
            speciality=bool(row["has_speciality"]), region_match=bool(row["region_match"]), decided_cases=decided,
            settled_cases=settled, settlement_rate=round(settled / decided, 4) if decided else None, ratings=rated,
            satisfaction=round(int(row["rating_sum"]) / rated, 2) if rated else None, active_cases=int(row["active"]),
            capacity=int(row["max_concurrent"]), answered_choices=answered, declined_choices=declined,
            decline_rate=round(declined / answered, 4) if answered else None)
        score = WeightedScore(*(round(_num(row[name]), 4) for name in (
            "p_speciality", "p_settlement", "p_satisfaction", "p_load", "p_decline", "p_region", "total")))
        return Recommendation(rank, row["account_id"], row["display_name"], row["organisation"],
                              self.config.mediator_categories.get(row["category"], row["category"]), row["region"],
                              self.reason(components, q.dispute_type), components, score)

    def reason(self, c: ScoreComponents, dispute_type: str) -> str:
        """The figures a party weighs, in Chinese, e.g. "擅长民间借贷纠纷；调解成功率 72%；满意度 4.6；当前承办 3 件"."""
        label = self.config.dispute_label(dispute_type)
        parts = [f"擅长{label}" if c.speciality else f"未登记{label}专长"]
        parts.append(f"调解成功率 {round(c.settlement_rate * 100)}%（{c.decided_cases} 件已结）"
                     if c.settlement_rate is not None else "尚无已结案件")
        parts.append(f"满意度 {c.satisfaction:.1f}（{c.ratings} 条评价）" if c.satisfaction is not None else "尚无评价")
        parts.append(f"当前承办 {c.active_cases} 件（上限 {c.capacity} 件）")
        if c.decline_rate is not None:
            parts.append(f"拒绝率 {round(c.decline_rate * 100)}%")
        if c.region_match:
            parts.append("同一地区")
        return "；".join(parts)
