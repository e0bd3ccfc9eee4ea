"""Case numbers in the court's format: ``(2026)川0104民调7号`` — the year (China time), the code of
the court the case names in the court directory, 民调 (pre-litigation mediation) and the court's
sequence for that year. A case that names no court (or a court listed without a code) is
numbered in the platform's own sequence, ``(2026)民调7号``.

The number is given when the case is created, in the creating transaction, from one counter
row per (court code, year): the counter's update takes that row's lock, so two cases created at
once never get the same number, on PostgreSQL (row lock) as on SQLite (write lock), and a
failed creation rolls its number back with it. The unique index on ``med_cases.case_number``
is the last guard.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from .court_models import Court
from .models import CaseNumberSequence

CHINA = ZoneInfo("Asia/Shanghai")
#: The case-type character pair for mediation before litigation (诉前调解).
MEDIATION_TYPE = "民调"


def format_case_number(year: int, court_code: str | None, number: int) -> str:
    return f"({year}){court_code or ''}{MEDIATION_TYPE}{number}号"


def case_year(at: datetime) -> int:
    """The year a case number carries: the calendar year in China when the case was created."""
    return at.astimezone(CHINA).year


async def next_number(s: AsyncSession, scope: str, year: int) -> int:
    """The next number of ``scope`` (a court code, ``""`` for the platform) in ``year``, counted in
    the caller's transaction."""
    insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
    await s.execute(insert(CaseNumberSequence).values(scope=scope, year=year, last=0)
                    .on_conflict_do_nothing(index_elements=["scope", "year"]))
    counted = await s.execute(update(CaseNumberSequence)
                              .where(CaseNumberSequence.scope == scope, CaseNumberSequence.year == year)
                              .values(last=CaseNumberSequence.last + 1).returning(CaseNumberSequence.last))
    return int(counted.scalar_one())


async def assign_case_number(s: AsyncSession, court: str | None, at: datetime) -> str:
    """The number of a case created at ``at`` that names ``court`` (a court directory name, or none)."""
    code = await s.scalar(select(Court.code).where(Court.name == court)) if court else None
    year = case_year(at)
    return format_case_number(year, code, await next_number(s, code or "", year))
