"""A clearly fictional demo platform: organisations, about sixty mediators, party accounts and a
few hundred cases spread over the seven steps, with ratings, declines and complaints, so a new
user sees a living platform.

Everything goes through the domain services (accounts with one-time codes, the case workflow,
the recommender), so audit chains, deadlines and statistics are real. Every name says it is an
example (示例调解员01, 示例当事人07); phone numbers use the 170 0000 range and ID numbers are
well-formed but invented. The same seed gives the same names, choices and step distribution
(ids and timestamps are new each time). Time runs on a :class:`ManualClock` moved forward case by
case, so older cases are further along, as on a real platform.
"""

from __future__ import annotations

import random
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable
from datetime import date, timedelta

from sqlalchemy import select

from .accounts import Actor, NewAccount, Role
from .cases import Application, PartyDetails, PaymentTerms
from .clock import ManualClock
from .courts import NewCourt
from .directory import DirectoryService, NewOrganisation, ProfileDetails
from .directory_models import Organisation
from .id_numbers import check_character
from .recommendation import Recommender
from .services import MediationServices
from .workflow import Step

DEMO_MARK = "示例"
LOADER = Actor("demo-loader", str(Role.PLATFORM_ADMIN), "演示数据加载")

ORGANISATIONS: list[tuple[str, str, str]] = [
    ("示例锦江区人民调解委员会", "peoples", "四川省成都市锦江区"),
    ("示例武侯区人民调解委员会", "peoples", "四川省成都市武侯区"),
    ("示例成华区司法局行政调解中心", "administrative", "四川省成都市成华区"),
    ("示例成都市物业纠纷行业调解委员会", "industry", "四川省成都市青羊区"),
    ("示例成都市道路交通事故行业调解委员会", "industry", "四川省成都市金牛区"),
    ("示例天府商事调解中心", "commercial", "四川省成都市高新区"),
    ("示例蓉城律师调解工作室", "lawyer", "四川省成都市锦江区"),
    ("示例郫都区人民调解委员会", "peoples", "四川省成都市郫都区"),
]
#: Basic-level people's courts of Chengdu (CPL art. 205 sends judicial confirmation to a basic-level
#: court), with the codes their case numbers carry, e.g. (2026)川0104民调1号.
DEMO_COURTS: list[NewCourt] = [
    NewCourt(f"{DEMO_MARK}成都市{district}人民法院", f"四川省成都市{district}", f"川{code}")
    for district, code in [("锦江区", "0104"), ("青羊区", "0105"), ("金牛区", "0106"), ("武侯区", "0107"),
                           ("成华区", "0108"), ("龙泉驿区", "0112"), ("新都区", "0114"), ("郫都区", "0117")]
]
LANGUAGES = ["普通话", "四川话", "English", "藏语", "彝语"]
#: Dispute types and how often demo cases have them.
DISPUTE_MIX: dict[str, int] = {"loan": 26, "marriage_family": 12, "labour": 12, "traffic": 10,
                               "property_service": 9, "neighbour": 7, "contract": 9, "consumer": 6,
                               "tenancy": 5, "financial_loan": 4}
#: Where demo cases stop, by weight (court docking includes refused and failed cases).
STEP_MIX: dict[Step, int] = {Step.START: 6, Step.CHOOSE_MEDIATOR: 8, Step.COUNSELLING: 12, Step.VIDEO_MEDIATION: 10,
                             Step.RESULT: 8, Step.EVALUATION: 14, Step.COURT_DOCKING: 42}
HISTORY = timedelta(days=150)
MAX_TICK_MINUTES = 40
MAX_TICKS_PER_CASE = 14  # the most _tick() calls one case can make


def time_span(cases: int) -> timedelta:
    """How far before "now" the clock must start so the last demo case still lies in the past."""
    return HISTORY + cases * MAX_TICKS_PER_CASE * timedelta(minutes=MAX_TICK_MINUTES)


class DemoOutbox:
    """An SMS gateway that keeps the last one-time code per phone, so the loader can register its
    fictional parties through the real code check. Nothing is sent anywhere."""

    def __init__(self) -> None:
        self._codes: dict[str, str] = {}

    async def send(self, phone: str, text: str) -> None:
        found = re.search(r"\b(\d{6})\b", text)
        if found:
            self._codes[phone] = found.group(1)

    def code_for(self, phone: str) -> str:
        return self._codes.pop(phone)


@dataclass(frozen=True)
class DemoSummary:
    seed: int
    organisations: int
    mediators: int
    parties: int
    cases: int
    by_step: dict[str, int]
    by_outcome: dict[str, int]
    ratings: int
    declines: int
    complaints: int
    mediator_logins: list[str] = field(default_factory=list)


class DemoAlreadyLoaded(Exception):
    """The demo organisations exist already: loading twice would double the platform."""


@dataclass
class _Party:
    actor: Actor
    details: PartyDetails


class DemoLoader:
    def __init__(self, services: MediationServices, directory: DirectoryService, recommender: Recommender,
                 read_code: Callable[[str], str], clock: ManualClock, seed: int = 2016, password: str | None = None):
        """``read_code`` returns the one-time code the services' SMS gateway last sent to a phone
        (:meth:`DemoOutbox.code_for` when the command wires a :class:`DemoOutbox`)."""
        self.s = services
        self.directory = directory
        self.recommender = recommender
        self.read_code = read_code
        self.clock = clock
        self.rng = random.Random(seed)
        self.seed = seed
        self.password = password
        self.counts: Counter[str] = Counter()

    def _password(self) -> str:
        return self.password or secrets.token_urlsafe(18)

    async def load(self, cases: int = 300, mediators: int = 60, parties: int = 40) -> DemoSummary:
        async with self.s.db() as session:
            if await session.scalar(select(Organisation.id).where(Organisation.name == ORGANISATIONS[0][0])):
                raise DemoAlreadyLoaded("the demo data set is already loaded in this database")
        orgs = await self._organisations()
        await self.s.courts.ensure(LOADER, DEMO_COURTS)
        staff = await self._mediators(orgs, mediators)
        people = [await self._party(i) for i in range(1, parties + 1)]
        targets = sorted((self._pick(STEP_MIX) for _ in range(cases)), key=lambda step: -step.number)
        step_gap = HISTORY / max(cases, 1)
        by_step: Counter[str] = Counter()
        by_outcome: Counter[str] = Counter()
        for target in targets:
            self.clock.advance(step_gap)
            view = await self._case(target, people, staff)
            by_step[view[0]] += 1
            by_outcome[view[1] or "pending"] += 1
        return DemoSummary(self.seed, len(orgs), len(staff), len(people), cases, dict(by_step), dict(by_outcome),
                           self.counts["ratings"], self.counts["declines"], self.counts["complaints"],
                           [f"demo-mediator-{i:02d}" for i in range(1, len(staff) + 1)] if self.password else [])

    def _pick(self, weights: dict[Step, int] | dict[str, int]) -> Step:
        keys = list(weights)
        return self.rng.choices(keys, weights=[weights[k] for k in keys])[0]  # type: ignore[return-value]

    async def _organisations(self) -> list[str]:
        names = []
        for i, (name, category, region) in enumerate(ORGANISATIONS, start=1):
            await self.directory.add_organisation(LOADER, NewOrganisation(
                name, category, region, f"{region}示例路{i}号", f"028-0000{i:04d}",
                "本机构为演示数据，虚构，不对应任何真实组织。"))
            names.append(name)
        return names

    async def _mediators(self, orgs: list[str], count: int) -> dict[str, Actor]:
        staff: dict[str, Actor] = {}
        categories = list(self.directory.config.mediator_categories)
        dispute_types = list(DISPUTE_MIX)
        regions = {name: region for name, _, region in ORGANISATIONS}
        for i in range(1, count + 1):
            org = orgs[(i - 1) % len(orgs)]
            info = await self.s.accounts.create_staff(LOADER, NewAccount(
                Role.MEDIATOR, f"demo-mediator-{i:02d}", f"示例调解员{i:02d}", self._password(), organisation=org))
            await self.directory.set_profile(LOADER, info.id, ProfileDetails(
                category=self.rng.choice(categories), region=regions[org],
                specialities=self.rng.sample(dispute_types, self.rng.randint(1, 3)),
                languages=["普通话"] + self.rng.sample(LANGUAGES[1:], self.rng.randint(0, 2)),
                available=self.rng.random() > 0.08, max_concurrent=self.rng.choice([5, 8, 10, 12, 15]),
                intro="演示数据中的虚构调解员。"))
            staff[info.id] = info.as_actor()
        return staff

    async def _party(self, i: int) -> _Party:
        phone = f"1700000{i:04d}"
        first17 = f"510104{1960 + i % 40}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
        number = first17 + check_character(first17)
        await self.s.accounts.send_code(phone)
        info = await self.s.accounts.register(NewAccount(
            Role.PARTY, f"demo-party-{i:02d}", f"示例当事人{i:02d}", self._password(), phone=phone, id_number=number),
            self.read_code(phone))
        return _Party(info.as_actor(), PartyDetails(info.display_name, phone, number, f"四川省成都市示例街道{i}号"))

    def _tick(self) -> None:
        self.clock.advance(timedelta(minutes=self.rng.randint(5, MAX_TICK_MINUTES)))

    async def _case(self, target: Step, people: list[_Party], staff: dict[str, Actor]) -> tuple[str, str | None]:
        """Drive one case to ``target`` through the workflow; returns its final (step, outcome)."""
        cases = self.s.cases
        applicant, respondent = self.rng.sample(people, 2)
        dispute = self._pick(DISPUTE_MIX)  # type: ignore[arg-type]
        amount = self.rng.randint(20, 3000) * 100_00
        view = await cases.apply(applicant.actor, Application(
            str(dispute), f"请求对方支付 {amount // 100} 元（演示数据）", "演示案情：双方因示例事项发生争议。",
            applicant.details, respondent.details, amount_fen=amount))
        cid = view.id
        if target == Step.START:
            return view.step, view.outcome
        self._tick()
        refuse = target == Step.COURT_DOCKING and self.rng.random() < 0.08
        view = await cases.answer_consent(respondent.actor, cid, not refuse, "不同意调解（演示）" if refuse else "")
        if refuse or target == Step.CHOOSE_MEDIATOR:
            return view.step, view.outcome
        mediator = await self._assign(applicant.actor, cid, staff)
        if mediator is None:  # every recommended mediator declined or none is free: the case waits at step 2
            final = await cases.view(applicant.actor, cid)
            return final.step, final.outcome
        for side, who in (("applicant", applicant.actor), ("respondent", respondent.actor)):
            self._tick()
            await cases.send_message(who, cid, "您好，我想说明一下情况（演示）。")
            await cases.send_message(mediator, cid, "收到，我们约个时间视频调解（演示）。", side)
        if target == Step.COUNSELLING:
            return str(Step.COUNSELLING), None
        self._tick()
        await cases.open_video(mediator, cid)
        if target == Step.VIDEO_MEDIATION:
            return str(Step.VIDEO_MEDIATION), None
        self._tick()
        view = await cases.conclude_video(mediator, cid)
        if target == Step.RESULT:
            return view.step, view.outcome
        self._tick()
        if self.rng.random() < 0.68:
            due = (self.clock.now() + timedelta(days=30)).date()
            agreement = await cases.record_agreement(mediator, cid, PaymentTerms(
                "respondent", amount * self.rng.choice([5, 8, 10]) // 10, date.isoformat(due), True, False))
            # The demo does not run the signing ceremony (no identity checks, no browsers): it
            # moves the case on as the ceremony's last party signature would.
            await cases.agreement_took_effect(cid, agreement, self.clock.now())
            view = await cases.view(mediator, cid)
        else:
            view = await cases.record_failure(mediator, cid, ["双方对金额分歧较大（演示）"])
        if target == Step.EVALUATION:
            return view.step, view.outcome
        skill = self.rng.random()
        for who in (applicant.actor, respondent.actor):
            self._tick()
            score = max(1, min(5, round(3.2 + 2 * skill + self.rng.gauss(0, 0.7))))
            view = await cases.rate(who, cid, score, "演示评价")
            self.counts["ratings"] += 1
        if self.rng.random() < 0.03:
            await cases.complain(applicant.actor, cid, "调解员回复较慢（演示投诉）")
            self.counts["complaints"] += 1
        return view.step, view.outcome

    async def _assign(self, party: Actor, cid: str, staff: dict[str, Actor]) -> Actor | None:
        """The party picks from the five recommendations; a mediator sometimes declines."""
        for _ in range(3):
            self._tick()
            recommended = (await self.recommender.for_case(party, cid)).recommendations
            if not recommended:
                return None
            pick = recommended[min(int(self.rng.expovariate(1.2)), len(recommended) - 1)].mediator_id
            await self.s.cases.choose_mediator(party, cid, pick)
            self._tick()
            mediator = staff[pick]
            if self.rng.random() < 0.12:
                await self.s.cases.answer_assignment(mediator, cid, False, "时间冲突，无法承办（演示）")
                self.counts["declines"] += 1
                continue
            await self.s.cases.answer_assignment(mediator, cid, True)
            return mediator
        return None
