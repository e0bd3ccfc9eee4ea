"""The cost and outcome estimator: litigation (the fee schedule, a typical lawyer, the statutory
time limit and the court's own past judgments of the type) against mediation (free at people's
mediation; this platform's settlement rate and median time to a result for the type). Every
figure is a grouped SQL aggregate; a median is read from the middle row(s) of the values ordered
in SQL, so no list of cases is loaded into Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, case as when, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..guidance_models import PastCase
from ..models import Case, CaseResult
from ..workflow import Outcome
from .fees import LawyerFees, LitigationCost, litigation_cost, payment_order_fee

#: Fewer decided cases of a type than this, and the platform's figures cover all types.
MIN_CASES_FOR_TYPE = 5


@dataclass(frozen=True)
class MediationFigures:
    """The platform's own record for a dispute type (or all types when it has too few cases)."""

    dispute_type: str | None
    decided: int
    settled: int
    settlement_rate: float | None
    median_days: float | None
    fee: Decimal  # people's mediation: nothing


@dataclass(frozen=True)
class CourtFigures:
    """How long the past cases of the type that ended in a judgment took (the similar-case corpus)."""

    judgments: int
    median_days: float | None


@dataclass(frozen=True)
class Estimate:
    dispute_type: str
    amount: Decimal
    litigation: LitigationCost
    court: CourtFigures
    payment_order_fee: Decimal
    mediation: MediationFigures
    explanation_zh: str
    explanation_en: str


async def _median(s: AsyncSession, value: ColumnElement[Any], query: Select[Any], count: int) -> float | None:
    """The median of ``value`` over ``query``'s ``count`` rows: the middle one or two rows in SQL order."""
    if not count:
        return None
    middle = (await s.execute(query.with_only_columns(value).order_by(value)
                              .offset((count - 1) // 2).limit(2 - count % 2))).scalars().all()
    return round(sum(float(v) for v in middle) / len(middle), 1) if middle else None


class Estimator:
    def __init__(self, db: async_sessionmaker[AsyncSession], lawyer: LawyerFees | None = None):
        self.db = db
        self.lawyer = lawyer or LawyerFees()

    async def mediation_figures(self, dispute_type: str | None) -> MediationFigures:
        async with self.db() as s:
            days = (func.julianday(CaseResult.recorded_at) - func.julianday(Case.created_at)
                    if s.bind.dialect.name == "sqlite" else
                    func.extract("epoch", CaseResult.recorded_at - Case.created_at) / 86400.0)
            where = [Case.outcome.in_((str(Outcome.SETTLED), str(Outcome.FAILED)))]
            if dispute_type is not None:
                where.append(Case.dispute_type == dispute_type)
            decided, settled = (await s.execute(select(
                func.count(), func.coalesce(func.sum(when((Case.outcome == str(Outcome.SETTLED), 1), else_=0)), 0))
                .where(*where))).one()
            decided, settled = int(decided), int(settled)
            if dispute_type is not None and decided < MIN_CASES_FOR_TYPE:
                return await self.mediation_figures(None)
            query = select(Case.id).join(CaseResult, CaseResult.case_id == Case.id).where(*where)
            median = await _median(s, days, query, decided)
        return MediationFigures(dispute_type, decided, settled, round(settled / decided, 4) if decided else None,
                                median, Decimal(0))

    async def court_figures(self, dispute_type: str) -> CourtFigures:
        where = [PastCase.dispute_type == dispute_type, PastCase.outcome == "judgment"]
        async with self.db() as s:
            count = int((await s.execute(select(func.count()).select_from(PastCase).where(*where))).scalar_one())
            median = await _median(s, PastCase.duration_days, select(PastCase.id).where(*where), count)
        return CourtFigures(count, median)

    async def estimate(self, dispute_type: str, amount: Decimal, *, simplified: bool, with_lawyer: bool) -> Estimate:
        lit = litigation_cost(dispute_type, amount, simplified=simplified, lawyer=self.lawyer if with_lawyer else None)
        med = await self.mediation_figures(dispute_type)
        court = await self.court_figures(dispute_type)
        zh, en = _explain(lit, court, med, simplified=simplified, with_lawyer=with_lawyer)
        return Estimate(dispute_type, amount, lit, court, payment_order_fee(amount), med, zh, en)


def _explain(lit: LitigationCost, court: CourtFigures, med: MediationFigures, *, simplified: bool,
             with_lawyer: bool) -> tuple[str, str]:
    """The plain-language comparison, in Chinese and English."""
    if med.decided:
        rate = f"{med.settlement_rate * 100:.1f}%" if med.settlement_rate is not None else "—"
        days = f"{med.median_days:g}" if med.median_days is not None else "—"
        scope_zh = "同类纠纷" if med.dispute_type else "全部纠纷（同类案件太少）"
        scope_en = "disputes of this type" if med.dispute_type else "all disputes (too few of this type)"
        record_zh = f"本平台{scope_zh}的调解成功率为{rate}，从申请到出结果的中位用时为{days}天。"
        record_en = (f"On this platform {scope_en} settled in {rate} of decided cases, with a median of {days} "
                     f"days from application to result. ")
    else:
        record_zh, record_en = "本平台还没有已结束的调解案件可供统计。", "This platform has no decided mediation yet to count. "
    past_zh = f"以往同类判决案件的中位用时为{court.median_days:g}天，" if court.median_days is not None else ""
    past_en = (f" past judgments of this type took a median of {court.median_days:g} days;"
               if court.median_days is not None else "")
    zh = (f"起诉需预交案件受理费约{lit.acceptance_fee}元{'（简易程序减半）' if simplified else ''}，"
          f"{f'律师费约{lit.lawyer_fee}元，' if with_lawyer else ''}一审法定审限{lit.months}个月，{past_zh}"
          f"还不含上诉和执行的时间。人民调解免费；{record_zh}调解不成仍可起诉，申请调解使诉讼时效中断。")
    en = (f"Suing means advancing a court fee of about {lit.acceptance_fee} yuan"
          f"{' (halved under simplified procedure)' if simplified else ''}"
          f"{f', a lawyer about {lit.lawyer_fee} yuan' if with_lawyer else ''}; first instance may take up to "
          f"{lit.months} months;{past_en} appeal and enforcement come on top. People's mediation is free. "
          f"{record_en}If mediation fails you can still sue, and applying interrupts the limitation period.")
    return zh, en
