"""Hand-built directory data for the directory, recommendation and statistics tests: mediators
with profiles made through :class:`DirectoryService`, and a case history written as rows, so
each test states exactly which figures a mediator has."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mediation.accounts import Actor
from mediation.audit import GENESIS
from mediation.directory import DirectoryService, NewOrganisation, ProfileDetails
from mediation.models import Account, Case, Complaint, MediatorChoice, Rating

from .doubles import START

ADMIN = Actor("a_root", "platform_admin", "Root")
ORG = "示例人民调解委员会"
OTHER_ORG = "示例商事调解中心"
_serial = itertools.count(1)


@dataclass(frozen=True)
class History:
    """A mediator's record: ``settled``/``failed`` decided cases, ``active`` cases in progress,
    ``declined`` choices, ``ratings`` scores, ``complaints`` on their cases."""

    settled: int = 0
    failed: int = 0
    active: int = 0
    declined: int = 0
    ratings: tuple[int, ...] = ()
    complaints: int = 0
    court: str | None = None
    dispute_type: str = "loan"


async def organisations(directory: DirectoryService) -> dict[str, str]:
    first = await directory.add_organisation(ADMIN, NewOrganisation(ORG, "peoples", "四川省成都市锦江区",
                                                                    "示例路1号", "028-00000001", "示例机构"))
    second = await directory.add_organisation(ADMIN, NewOrganisation(OTHER_ORG, "commercial", "四川省成都市高新区",
                                                                     "示例路2号", "028-00000002"))
    return {ORG: first.id, OTHER_ORG: second.id}


async def mediator(db: async_sessionmaker[AsyncSession], directory: DirectoryService, name: str, *,
                   organisation: str = ORG, specialities: tuple[str, ...] = (), languages: tuple[str, ...] = ("普通话",),
                   region: str = "四川省成都市锦江区", category: str = "lawyer", capacity: int = 10,
                   available: bool = True) -> str:
    account_id = f"a_m{next(_serial):06d}"
    async with db.begin() as s:
        s.add(Account(id=account_id, role="mediator", login=account_id, display_name=name, organisation=organisation,
                      created_at=START))
    await directory.set_profile(ADMIN, account_id, ProfileDetails(category, region, list(specialities),
                                                                  list(languages), available, capacity))
    return account_id


def _case(mediator_id: str | None, step: str, status: str, outcome: str | None, h: History,
          organisation: str | None) -> Case:
    return Case(id=f"CASE-T{next(_serial):06d}", origin="application", court=h.court, dispute_type=h.dispute_type,
                claims="c", facts="f", step=step, status=status, outcome=outcome, mediator_id=mediator_id,
                organisation=organisation, created_by="test", created_at=START, updated_at=START, audit_seq=0,
                audit_head=GENESIS)


async def give_history(db: async_sessionmaker[AsyncSession], mediator_id: str, h: History,
                       organisation: str = ORG) -> None:
    async with db.begin() as s:
        decided = [_case(mediator_id, "evaluation", "open", "settled", h, organisation) for _ in range(h.settled)]
        decided += [_case(mediator_id, "court_docking", "closed", "failed", h, organisation) for _ in range(h.failed)]
        active = [_case(mediator_id, "counselling", "open", None, h, organisation) for _ in range(h.active)]
        refused = [_case(None, "choose_mediator", "open", None, h, None) for _ in range(h.declined)]
        s.add_all(decided + active + refused)
        await s.flush()
        for c in decided + active:
            s.add(MediatorChoice(case_id=c.id, mediator_id=mediator_id, chosen_by="test", status="accepted",
                                 chosen_at=START, answered_at=START))
        for c in refused:
            s.add(MediatorChoice(case_id=c.id, mediator_id=mediator_id, chosen_by="test", status="declined",
                                 reason="busy", chosen_at=START, answered_at=START))
        assert len(h.ratings) <= 2 * len(decided), "each decided case takes two ratings at most"
        for i, score in enumerate(h.ratings):
            s.add(Rating(case_id=decided[i // 2].id, side=("applicant", "respondent")[i % 2], mediator_id=mediator_id,
                         score=score, comment="", rated_by="test", rated_at=START))
        for c in itertools.islice(itertools.cycle(decided), h.complaints):
            s.add(Complaint(case_id=c.id, organisation=organisation, filed_by="test", text="slow", filed_at=START))
