"""A clearly fictional demo platform: organisations, about sixty mediators, accounts for every
role, and a few hundred cases spread over the seven steps, so a new user sees a living platform
whose documents verify.

Everything goes through the domain services (accounts with one-time codes, the case workflow,
the recommender, the signing ceremony, the court service), so audit chains, deadlines,
statistics, agreements and signatures are real. Every name says it is an example (示例调解员01,
示例当事人07); phone numbers use the 170 0000 range, ID numbers and credit codes are well-formed
but invented. Every demo account opens with one password, printed once by ``accord demo load``.

**Signed agreements.** The settled cases among the first ``signed`` get their agreement drafted
from the case, its terms written, locked, signed by each participant with a key made in Python
that plays the browser (:mod:`signing.development`: proof of possession, ``begin/enroll/prepare/
complete``) after an identity check recorded through the gate as a development check
(``development-demo``), and sealed with the organisation's own seal; the case then moves on by
itself, in effect from the last party signature's timestamp. The other settled cases stay at step
5 with their draft: nothing is "in effect" without its signatures. Signed cases at step 7 go to
their court: applied for, joined, accepted and ruled on through :class:`mediation.court.CourtService`.

**Time.** Each case has its own history: a case waiting at an early step was created recently, a
case further along months ago (:class:`DemoClock` is set back to it). A case whose agreement is
signed lives in the hours before the load, because signatures carry the time-stamping
authority's real time, and what follows them happens at the real time too.

**Loading while the server runs, and again.** Each action is one of the services' own
transactions, which lock the case row (on SQLite the database's write lock), so the server's
deadline scan and live requests interleave safely. Each demo case carries its plan number in its
facts (``（演示数据 2016-0007）``): a second run finds the cases it made, drives each on from where
it stands to its planned step, creates only the missing ones, and finds accounts and
organisations by login and name. The same seed gives the same plan (names, choices, steps, which
cases are signed); ids and timestamps are new each time.
"""

from __future__ import annotations

import random
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from typing import Awaitable, Callable, TypeVar

from sqlalchemy import func, select

from identity.gate import TestIdentityGate
from signing.agreement import AgreementData, SignerRole
from signing.agreement_versions import VersionState, VersionStatus
from signing.ceremony import Signer, SigningCeremony, gate_key
from signing.development import sign_as_browser

from .accounts import Actor, NewAccount, PasswordHash, Role
from .agreement_drafting import CHINA
from .cases import Application, PartyDetails, PaymentTerms
from .courts import NewCourt
from .directory import DirectoryService, NewOrganisation, ProfileDetails
from .directory_models import MediatorProfile, Organisation
from .id_numbers import check_character
from .models import (Account, AgentLink, Case, CaseParty, CaseResult, Complaint, CounsellingMessage,
                     CourtApplication, MediatorChoice, Rating)
from .recommendation import Recommender
from .services import MediationServices
from .workflow import JUDICIAL_CONFIRMATION, Outcome, Step

DEMO_MARK = "示例"
#: How the demo labels the identity checks it records: no camera, no face, development only.
IDENTITY_METHOD = "development-demo"
LOGIN_PREFIX = "demo-"

#: (name, category, region, unified social credit code)
ORGANISATIONS: list[tuple[str, str, str, str]] = [
    ("示例锦江区人民调解委员会", "peoples", "四川省成都市锦江区", "53510104MJ0000001X"),
    ("示例武侯区人民调解委员会", "peoples", "四川省成都市武侯区", "53510107MJ0000002X"),
    ("示例成华区司法局行政调解中心", "administrative", "四川省成都市成华区", "11510108MB0000003X"),
    ("示例成都市物业纠纷行业调解委员会", "industry", "四川省成都市青羊区", "51510105MJ0000004X"),
    ("示例成都市道路交通事故行业调解委员会", "industry", "四川省成都市金牛区", "51510106MJ0000005X"),
    ("示例天府商事调解中心", "commercial", "四川省成都市高新区", "52510100MJ0000006X"),
    ("示例蓉城律师调解工作室", "lawyer", "四川省成都市锦江区", "31510000MD0000007X"),
    ("示例郫都区人民调解委员会", "peoples", "四川省成都市郫都区", "53510117MJ0000008X"),
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
#: Where demo cases are headed, by weight (court docking includes refused and failed cases).
STEP_MIX: dict[Step, int] = {Step.START: 6, Step.CHOOSE_MEDIATOR: 8, Step.COUNSELLING: 12, Step.VIDEO_MEDIATION: 10,
                             Step.RESULT: 8, Step.EVALUATION: 14, Step.COURT_DOCKING: 42}
DELEGATED_SHARE = 0.4  # cases a court delegates; the others a party applies for, naming a court
REFUSAL_SHARE = 0.08  # of the cases headed for step 7: the respondent refuses mediation
SETTLED_SHARE = 0.68  # of the mediations that end: an agreement (else a failure record)
DECLINE_SHARE = 0.12  # a chosen mediator declines
MAX_CHOICES = 3  # after three declines the case waits at step 2
AGENTS = 3  # parties 1..AGENTS are represented by demo-agent-01..; the agent signs next to them
HISTORY = timedelta(days=150)
MAX_TICK_MINUTES = 40
#: A case's own history is at most this long (ticks between its actions), so it ends before "now".
CASE_SPAN = timedelta(minutes=30 * MAX_TICK_MINUTES)
#: Steps where a case headed there has nothing more to do once it arrives (at the others it still
#: acts: counselling messages, the result record, the court).
STOPS = (Step.START, Step.CHOOSE_MEDIATOR, Step.VIDEO_MEDIATION, Step.EVALUATION)
FACTS = "演示案情：双方因示例事项发生争议。"
MARK_START = "（演示数据 "
PLAN_MARK = re.compile(r"（演示数据 (\d+)-(\d{4})）$")


class CourtStage(StrEnum):
    """How far a signed case goes at the court."""

    RATED = "rated"  # both parties rated the mediator; nobody applied yet
    OPENED = "opened"  # one party applied, waiting for the other to join
    FILED = "filed"  # filed, waiting for the clerk
    ACCEPTED = "accepted"  # accepted, waiting for the judge
    RULED = "ruled"


#: The stages signed cases at step 7 reach, in turn: half are ruled on, the first one always.
COURT_STAGES = (CourtStage.RULED, CourtStage.FILED, CourtStage.RULED, CourtStage.ACCEPTED, CourtStage.RULED,
                CourtStage.OPENED, CourtStage.RULED, CourtStage.RATED)


def _wall() -> datetime:
    return datetime.now(timezone.utc)


class DemoClock:
    """The services' clock while the demo loads: set back to each case's own history, moved on by
    the case's actions, and never ahead of the wall clock (``now`` is the earlier of the two), so
    nothing is dated in the future and a case that follows its signatures runs on real time."""

    def __init__(self) -> None:
        self._at = _wall()

    def now(self) -> datetime:
        return min(self._at, _wall())

    def set(self, at: datetime) -> None:
        self._at = at

    def advance(self, delta: timedelta) -> None:
        self._at = self.now() + delta

    def follow_wall(self) -> None:
        self._at = datetime.max.replace(tzinfo=timezone.utc)


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
class DemoSigning:
    """What signing needs: the ceremony (over the services' agreement store, its ``on_effective``
    wired to the case) and the test identity gate it asks, which production refuses."""

    ceremony: SigningCeremony
    gate: TestIdentityGate


@dataclass(frozen=True)
class CasePlan:
    """What becomes of demo case ``number``: a pure function of the seed and the number."""

    number: int
    target: Step  # where the case stops
    applicant: int  # party indices
    respondent: int
    dispute: str
    amount_fen: int
    court: int  # index into DEMO_COURTS
    delegated: bool
    refuses: bool
    result: str | None  # "agreement" | "failure" | None (not recorded)
    signed: bool
    agreed_tenths: int
    picks: tuple[int, ...]
    declines: tuple[bool, ...]
    scores: tuple[int, int]
    complains: bool
    court_stage: CourtStage
    grants: bool
    age: timedelta  # how long before the load the case was created


T = TypeVar("T")


def _weighted(rng: random.Random, weights: dict[T, int]) -> T:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def plan_cases(seed: int, cases: int, parties: int, signed: int) -> list[CasePlan]:
    """The plan of every demo case. Each case draws from its own generator, so a case's plan does
    not depend on how many cases are loaded; ``signed`` picks the first settled ones to sign."""
    plans = []
    signing_left = signed
    at_court = 0  # signed cases headed for step 7 so far
    for number in range(1, cases + 1):
        rng = random.Random(f"accord-demo/{seed}/{number}")
        target = _weighted(rng, STEP_MIX)
        applicant, respondent = rng.sample(range(parties), 2)
        refuses = target == Step.COURT_DOCKING and rng.random() < REFUSAL_SHARE
        result = None
        if target.number >= Step.EVALUATION.number and not refuses:
            result = "agreement" if rng.random() < SETTLED_SHARE else "failure"
        is_signed = result == "agreement" and signing_left > 0
        signing_left -= is_signed
        if result == "agreement" and not is_signed:
            target = Step.RESULT  # the draft waits for its signatures at step 5
        court_stage = COURT_STAGES[at_court % len(COURT_STAGES)]
        at_court += is_signed and target == Step.COURT_DOCKING
        skill = rng.random()
        plans.append(CasePlan(
            number=number, target=target, applicant=applicant, respondent=respondent,
            dispute=_weighted(rng, DISPUTE_MIX), amount_fen=rng.randint(20, 3000) * 100_00,
            court=rng.randrange(len(DEMO_COURTS)), delegated=rng.random() < DELEGATED_SHARE, refuses=refuses,
            result=result, signed=is_signed, agreed_tenths=rng.choice([5, 8, 10]),
            picks=tuple(min(int(rng.expovariate(1.2)), 4) for _ in range(MAX_CHOICES)),
            declines=tuple(rng.random() < DECLINE_SHARE for _ in range(MAX_CHOICES)),
            scores=(max(1, min(5, round(3.2 + 2 * skill + rng.gauss(0, 0.7)))),
                    max(1, min(5, round(3.2 + 2 * skill + rng.gauss(0, 0.7))))),
            complains=rng.random() < 0.03, court_stage=court_stage, grants=rng.random() < 0.9,
            age=timedelta(0) if is_signed else HISTORY * (target.number - 1 + rng.random()) / 7))
    return plans


def plan_mark(seed: int, number: int) -> str:
    """What a demo case's facts end with: the seed and the plan number, to find it again."""
    return f"{MARK_START}{seed}-{number:04d}）"


@dataclass(frozen=True)
class DemoAccounts:
    """The demo's logins by role, and the one password they all open with."""

    password: str
    by_role: dict[str, list[str]]


@dataclass(frozen=True)
class DemoSummary:
    seed: int
    organisations: int
    mediators: int
    parties: int
    cases: int
    cases_created: int
    by_step: dict[str, int]
    by_outcome: dict[str, int]
    signed_agreements: int
    court_applications: dict[str, int]
    ratings: int
    declines: int
    complaints: int
    accounts: DemoAccounts


class DemoSeedMismatch(Exception):
    """Demo cases of another seed are here: finishing them with this seed would mix two plans."""


@dataclass
class _Seen:
    """Where a case stands: the case, its result, and what its current step needs."""

    case: Case
    result: CaseResult | None = None
    consents: dict[str, str] = field(default_factory=dict)  # side -> pending | given | refused
    choices: list[MediatorChoice] = field(default_factory=list)
    messages: int = 0
    rated: set[str] = field(default_factory=set)
    complained: bool = False
    application: CourtApplication | None = None


@dataclass
class _Cast:
    admin: Actor
    mediators: dict[str, Actor] = field(default_factory=dict)  # by account id
    parties: list[Actor] = field(default_factory=list)
    details: list[PartyDetails] = field(default_factory=list)
    clerks: dict[str, Actor] = field(default_factory=dict)  # by court name
    judges: dict[str, Actor] = field(default_factory=dict)


Action = Callable[[], Awaitable[object]]


class DemoLoader:
    def __init__(self, services: MediationServices, directory: DirectoryService, recommender: Recommender,
                 read_code: Callable[[str], str], clock: DemoClock, signing: DemoSigning | None = None, *,
                 seed: int = 2016, password: str | None = None):
        """``read_code`` returns the one-time code the services' SMS gateway last sent to a phone
        (:meth:`DemoOutbox.code_for` when the command wires a :class:`DemoOutbox`). Without
        ``signing`` no agreement is signed (every settled case waits at step 5)."""
        self.s = services
        self.directory = directory
        self.recommender = recommender
        self.read_code = read_code
        self.clock = clock
        self.signing = signing
        self.seed = seed
        self.password = password or secrets.token_urlsafe(12)
        self.rng = random.Random(seed)  # ticks only: how long each action takes
        self.counts: Counter[str] = Counter()
        self._known: dict[str, Account] = {}
        self._hash: PasswordHash | None = None

    async def load(self, cases: int = 300, mediators: int = 60, parties: int = 40, signed: int = 20) -> DemoSummary:
        """Load (or finish loading) the plan for these numbers. Logins starting with ``demo-`` are
        the demo's: they are reused, and all get this run's password."""
        self.clock.follow_wall()  # accounts and organisations are made now; each case then has its own time
        existing = await self._existing_cases()
        async with self.s.db() as s:
            self._known = {a.login: a for a in (await s.scalars(
                select(Account).where(Account.login.startswith(LOGIN_PREFIX)))).all()}
        self._hash = await self.s.accounts.hash_password(self.password)
        cast = _Cast(await self._account(Role.PLATFORM_ADMIN, "demo-admin", "示例平台管理员"))
        orgs = await self._organisations(cast.admin)
        await self.s.courts.ensure(cast.admin, DEMO_COURTS)
        await self._staff(cast, orgs, mediators)
        await self._people(cast, parties)
        if self._known:  # accounts of an earlier run: they open with this run's password too
            await self.s.accounts.set_password(cast.admin, [a.id for a in self._known.values()], self._hash)

        plans = plan_cases(self.seed, cases, parties, signed if self.signing is not None else 0)
        by_step: Counter[str] = Counter()
        by_outcome: Counter[str] = Counter()
        for plan in sorted(plans, key=lambda p: -p.age):  # oldest first: numbers follow creation times
            case_id = existing.get(plan.number)
            if case_id is None:
                self.counts["created"] += 1
            seen = await self._drive(plan, case_id, cast)
            by_step[seen.case.step] += 1
            by_outcome[seen.case.outcome or "pending"] += 1
            if seen.result is not None and seen.result.agreement_status == "effective":
                self.counts["signed"] += 1
        return await self._summary(cast, orgs, plans, by_step, by_outcome, parties)

    # --- who is there -----------------------------------------------------------------------
    async def _existing_cases(self) -> dict[int, str]:
        """The demo cases loaded before, by plan number."""
        async with self.s.db() as s:
            rows = (await s.execute(select(Case.id, Case.facts).where(Case.facts.like(f"%{MARK_START}%")))).all()
        found: dict[int, str] = {}
        for case_id, facts in rows:
            mark = PLAN_MARK.search(facts)
            if mark is None:
                continue
            if int(mark.group(1)) != self.seed:
                raise DemoSeedMismatch(f"the demo data set here was loaded with --seed {mark.group(1)}: "
                                       f"run again with --seed {mark.group(1)} to finish it")
            found[int(mark.group(2))] = case_id
        return found

    async def _account(self, role: Role, login: str, name: str, *, organisation: str | None = None,
                       court: str | None = None, id_number: str | None = None, phone: str | None = None,
                       by: Actor | None = None) -> Actor:
        """The demo account ``login``, created (with the demo password, staff ``by`` the demo's
        administrator) unless an earlier run did."""
        row = self._known.get(login)
        if row is not None:
            return Actor(row.id, row.role, row.display_name, row.phone, row.organisation, row.court)
        assert self._hash is not None
        new = NewAccount(role, login, name, self._hash, phone=phone, id_number=id_number, organisation=organisation,
                         court=court)
        if role == Role.PLATFORM_ADMIN:
            info = await self.s.accounts.bootstrap_admin(login, name, self._hash)
        elif role in (Role.PARTY, Role.AGENT):
            assert phone is not None
            await self.s.accounts.send_code(phone)
            info = await self.s.accounts.register(new, self.read_code(phone))
        else:
            assert by is not None
            info = await self.s.accounts.create_staff(by, new)
        return info.as_actor()

    async def _organisations(self, admin: Actor) -> list[str]:
        async with self.s.db() as s:
            listed = set((await s.scalars(select(Organisation.name))).all())
        for i, (name, category, region, credit_code) in enumerate(ORGANISATIONS, start=1):
            if name not in listed:
                await self.directory.add_organisation(admin, NewOrganisation(
                    name, category, region, f"{region}示例路{i}号", f"028-0000{i:04d}",
                    "本机构为演示数据，虚构，不对应任何真实组织。", credit_code=credit_code))
        return [name for name, *_ in ORGANISATIONS]

    async def _staff(self, cast: _Cast, orgs: list[str], count: int) -> None:
        for i, org in enumerate(orgs, start=1):
            await self._account(Role.ORG_ADMIN, f"demo-orgadmin-{i:02d}", f"示例机构管理员{i:02d}", organisation=org,
                                by=cast.admin)
        for court in DEMO_COURTS:
            code = (court.code or "")[1:]
            cast.clerks[court.name] = await self._account(Role.COURT_CLERK, f"demo-clerk-{code}",
                                                          f"示例书记员{code}", court=court.name, by=cast.admin)
            cast.judges[court.name] = await self._account(Role.JUDGE, f"demo-judge-{code}", f"示例法官{code}",
                                                          court=court.name, by=cast.admin)
        async with self.s.db() as s:
            profiled = set((await s.scalars(select(MediatorProfile.account_id))).all())
        regions = {name: region for name, _, region, _ in ORGANISATIONS}
        categories = list(self.directory.config.mediator_categories)
        for i in range(1, count + 1):
            org = orgs[(i - 1) % len(orgs)]
            actor = await self._account(Role.MEDIATOR, f"demo-mediator-{i:02d}", f"示例调解员{i:02d}",
                                        organisation=org, id_number=_id_number("510105", 1965 + i % 30, i),
                                        by=cast.admin)
            cast.mediators[actor.id] = actor
            rng = random.Random(f"accord-demo/{self.seed}/mediator/{i}")
            if actor.id not in profiled:
                await self.directory.set_profile(cast.admin, actor.id, ProfileDetails(
                    category=rng.choice(categories), region=regions[org],
                    specialities=rng.sample(list(DISPUTE_MIX), rng.randint(1, 3)),
                    languages=["普通话"] + rng.sample(LANGUAGES[1:], rng.randint(0, 2)),
                    available=rng.random() > 0.08, max_concurrent=rng.choice([5, 8, 10, 12, 15]),
                    intro="演示数据中的虚构调解员。"))

    async def _people(self, cast: _Cast, count: int) -> None:
        for i in range(1, count + 1):
            phone = f"1700000{i:04d}"
            number = _id_number("510104", 1960 + i % 40, i)
            actor = await self._account(Role.PARTY, f"demo-party-{i:02d}", f"示例当事人{i:02d}", phone=phone,
                                        id_number=number)
            cast.parties.append(actor)
            cast.details.append(PartyDetails(actor.name, phone, number, f"四川省成都市示例街道{i}号"))
        async with self.s.db() as s:
            linked = set((await s.scalars(select(AgentLink.party_id).where(AgentLink.revoked_at.is_(None)))).all())
        for i in range(1, min(AGENTS, count) + 1):
            login = f"demo-agent-{i:02d}"
            await self._account(Role.AGENT, login, f"示例代理人{i:02d}", phone=f"1700001{i:04d}",
                                id_number=_id_number("510106", 1975 + i, i))
            party = cast.parties[i - 1]
            if party.id not in linked:
                await self.s.accounts.authorise_agent(party, login, b"%PDF-1.4\n% demo power of attorney\n",
                                                      "授权委托书（演示）.pdf", "application/pdf")

    # --- one case ---------------------------------------------------------------------------
    async def _drive(self, plan: CasePlan, case_id: str | None, cast: _Cast) -> _Seen:
        """Create the case (unless it exists) and take it, action by action, to its planned step."""
        if case_id is None:
            self.clock.set(_wall() - CASE_SPAN - plan.age)
            case_id = await self._create(plan, cast)
        seen = await self._see(case_id)
        self.clock.set(seen.case.updated_at)
        while (action := await self._next(plan, seen, cast)) is not None:
            self.clock.advance(timedelta(minutes=self.rng.randint(5, MAX_TICK_MINUTES)))
            await action()
            seen = await self._see(case_id)
        return seen

    async def _create(self, plan: CasePlan, cast: _Cast) -> str:
        court = DEMO_COURTS[plan.court].name
        app = Application(plan.dispute, f"请求对方支付 {plan.amount_fen // 100} 元（演示数据）",
                          FACTS + plan_mark(self.seed, plan.number), cast.details[plan.applicant],
                          cast.details[plan.respondent], amount_fen=plan.amount_fen, court=court)
        if plan.delegated:
            return (await self.s.filing.delegate(cast.clerks[court], app)).id
        return (await self.s.filing.apply(cast.parties[plan.applicant], app)).id

    async def _see(self, case_id: str) -> _Seen:
        """The case, and what its current step needs to know of it."""
        async with self.s.db() as s:
            case = await s.get(Case, case_id)
            assert case is not None
            seen = _Seen(case)
            step = Step(case.step)
            if step.number >= Step.RESULT.number:
                seen.result = await s.get(CaseResult, case_id)
            if step == Step.START:
                seen.consents = dict((await s.execute(select(CaseParty.side, CaseParty.consent)
                                                      .where(CaseParty.case_id == case_id))).all())
            elif step == Step.CHOOSE_MEDIATOR:
                seen.choices = list((await s.scalars(select(MediatorChoice).where(MediatorChoice.case_id == case_id)
                                                     .order_by(MediatorChoice.id))).all())
            elif step == Step.COUNSELLING:
                seen.messages = await s.scalar(select(func.count()).select_from(CounsellingMessage)
                                               .where(CounsellingMessage.case_id == case_id)) or 0
            elif step == Step.EVALUATION:
                seen.rated = set((await s.scalars(select(Rating.side).where(Rating.case_id == case_id))).all())
            elif step == Step.COURT_DOCKING:
                seen.complained = await s.scalar(select(Complaint.id).where(Complaint.case_id == case_id)
                                                 .limit(1)) is not None
                seen.application = await s.scalar(select(CourtApplication).where(
                    CourtApplication.case_id == case_id, CourtApplication.kind == JUDICIAL_CONFIRMATION))
            return seen

    async def _next(self, plan: CasePlan, seen: _Seen, cast: _Cast) -> Action | None:
        """The next action that takes the case towards its plan, or ``None`` when it is there."""
        case = seen.case
        step = Step(case.step)
        applicant, respondent = cast.parties[plan.applicant], cast.parties[plan.respondent]
        if step.number > plan.target.number or (step == plan.target and step in STOPS):
            return None
        if step == Step.START:
            if seen.consents.get("applicant") == "pending":  # a delegated case asks both parties
                return lambda: self.s.filing.answer_consent(applicant, case.id, True)
            return lambda: self.s.filing.answer_consent(respondent, case.id, not plan.refuses,
                                                "不同意调解（演示）" if plan.refuses else "")
        if step == Step.CHOOSE_MEDIATOR:
            return await self._choosing(plan, seen, cast, applicant)
        mediator = cast.mediators.get(case.mediator_id or "")
        unsigned = self._to_sign(plan, seen)
        if step.number > Step.RESULT.number and unsigned and mediator is not None \
                and (await self.s.agreements.current(unsigned)).status is not VersionStatus.COMPLETED:
            # The parties' signatures moved the case on before an earlier run could add the rest.
            return lambda: self._sign(plan, unsigned, mediator)
        if step == Step.COURT_DOCKING or mediator is None:
            return self._docking(plan, seen, cast, applicant, respondent)
        if step == Step.COUNSELLING:
            if seen.messages < 4:
                return self._counselling(seen.messages, case.id, mediator, (applicant, respondent))
            return None if plan.target == Step.COUNSELLING else (lambda: self.s.video.open_video(mediator, case.id))
        if step == Step.VIDEO_MEDIATION:
            return lambda: self.s.video.conclude_video(mediator, case.id)
        if step == Step.RESULT:
            return self._result(plan, seen, mediator)
        side, who, score = next((side, who, score) for side, who, score in (
            ("applicant", applicant, plan.scores[0]), ("respondent", respondent, plan.scores[1]))
            if side not in seen.rated)
        self.counts["ratings"] += 1
        return lambda: self.s.evaluation.rate(who, case.id, score, "演示评价")

    def _docking(self, plan: CasePlan, seen: _Seen, cast: _Cast, applicant: Actor, respondent: Actor
                 ) -> Action | None:
        """Step 7: a complaint now and then, and a settled case's way through the court."""
        case = seen.case
        if plan.complains and not seen.complained and case.organisation is not None:
            self.counts["complaints"] += 1
            return lambda: self.s.evaluation.complain(applicant, case.id, "调解员回复较慢（演示投诉）")
        if case.outcome == Outcome.SETTLED:
            return self._court(plan, seen, cast, applicant, respondent)
        return None

    async def _choosing(self, plan: CasePlan, seen: _Seen, cast: _Cast, applicant: Actor) -> Action | None:
        """The party picks from the five recommendations; a mediator sometimes declines."""
        case_id = seen.case.id
        attempt = len(seen.choices)
        proposed = next((c for c in seen.choices if c.status == "proposed"), None)
        if proposed is not None:
            mediator = cast.mediators[proposed.mediator_id]
            if plan.declines[attempt - 1]:
                self.counts["declines"] += 1
                return lambda: self.s.mediator_choice.answer_assignment(mediator, case_id, False, "时间冲突，无法承办（演示）")
            return lambda: self.s.mediator_choice.answer_assignment(mediator, case_id, True)
        if attempt >= MAX_CHOICES:
            return None  # every chosen mediator declined: the case waits at step 2
        recommended = (await self.recommender.for_case(applicant, case_id)).recommendations
        if not recommended:
            return None
        pick = recommended[min(plan.picks[attempt], len(recommended) - 1)].mediator_id
        return lambda: self.s.mediator_choice.choose_mediator(applicant, case_id, pick)

    def _counselling(self, sent: int, case_id: str, mediator: Actor, parties: tuple[Actor, Actor]) -> Action:
        """Each side writes to the mediator, who answers on that side's thread."""
        side = ("applicant", "respondent")[sent // 2]
        if sent % 2 == 0:
            return lambda: self.s.counselling.send_message(parties[sent // 2], case_id, "您好，我想说明一下情况（演示）。")
        return lambda: self.s.counselling.send_message(mediator, case_id, "收到，我们约个时间视频调解（演示）。", side)

    def _result(self, plan: CasePlan, seen: _Seen, mediator: Actor) -> Action | None:
        case_id = seen.case.id
        if seen.result is None:
            if plan.result == "failure":
                return lambda: self.s.results.record_failure(mediator, case_id, ["双方对金额分歧较大（演示）"])
            if plan.result == "agreement":
                return lambda: self.s.results.record_agreement(mediator, case_id, self._terms(plan))
            return None
        unsigned = self._to_sign(plan, seen)
        return (lambda: self._sign(plan, unsigned, mediator)) if unsigned else None

    @staticmethod
    def _to_sign(plan: CasePlan, seen: _Seen) -> str | None:
        """The id of the case's agreement if the plan signs it."""
        return seen.result.agreement_id if plan.signed and seen.result is not None else None

    def _terms(self, plan: CasePlan) -> PaymentTerms:
        due = (self.clock.now().astimezone(CHINA).date() + timedelta(days=30)).isoformat()
        return PaymentTerms("respondent", plan.amount_fen * plan.agreed_tenths // 10, due, True, False)

    async def _sign(self, plan: CasePlan, agreement_id: str, mediator: Actor) -> None:
        """The agreement through the real ceremony: terms, lock, each participant's signature after
        a development identity check, the organisation's seal. Picks up where an earlier run stopped."""
        assert self.signing is not None
        store, ceremony, gate = self.s.agreements, self.signing.ceremony, self.signing.gate
        state = await store.current(agreement_id)
        if state.status is VersionStatus.DRAFT:
            state = await store.edit(agreement_id, self._agreed(state, plan), mediator.id)
            state = await store.lock(agreement_id, state.version)
        self.clock.follow_wall()  # signatures carry the time-stamping authority's real time
        for slot in state.slots:
            if slot.field_name in state.signed_fields():
                continue
            if slot.role is SignerRole.ORGANISATION:
                state = await ceremony.seal(agreement_id, state.version)
                continue
            await gate.pass_now(gate_key(agreement_id, slot.signer_key), score=None, method=IDENTITY_METHOD)
            state = await sign_as_browser(ceremony, agreement_id, state.version,
                                          Signer(slot.signer_key, slot.participant_id), slot.field_name)
        if state.effective_at is not None:  # an earlier run stopped between the signature and the case
            result = await self._result_row(state.case_id)
            if result is not None and result.agreement_status != "effective":
                await self.s.results.signatures_took_effect(state)

    @staticmethod
    def _agreed(state: VersionState, plan: CasePlan) -> AgreementData:
        """The mediator's terms: the agreed amount by bank transfer within 30 days; the agent signs."""
        data = state.data
        monetary = [m.model_copy(update={"amount": Decimal(plan.amount_fen * plan.agreed_tenths // 10) / 100,
                                         "method": "银行转账"}) for m in data.monetary]
        parties = [p.model_copy(update={"agent": p.agent.model_copy(update={"signs": True})}) if p.agent else p
                   for p in data.parties]
        return data.model_copy(update={"monetary": monetary, "parties": parties})

    async def _result_row(self, case_id: str | None) -> CaseResult | None:
        if case_id is None:
            return None
        async with self.s.db() as s:
            return await s.get(CaseResult, case_id)

    def _court(self, plan: CasePlan, seen: _Seen, cast: _Cast, applicant: Actor, respondent: Actor) -> Action | None:
        """Judicial confirmation as far as the plan goes: apply, join, accept, rule."""
        court, app = self.s.court, seen.application
        stages = list(CourtStage)
        reached = {None: CourtStage.RATED, "awaiting_joint": CourtStage.OPENED, "filed": CourtStage.FILED,
                   "accepted": CourtStage.ACCEPTED, "ruled": CourtStage.RULED}.get(app.status if app else None)
        if reached is None or stages.index(reached) >= stages.index(plan.court_stage):
            return None
        case_id = seen.case.id
        if app is None:
            return lambda: court.apply_confirmation(applicant, case_id, None)
        if app.status == "awaiting_joint":
            return lambda: court.apply_confirmation(respondent, case_id, None)
        if app.status == "filed":
            return lambda: court.decide_acceptance(cast.clerks[app.court], app.id, True)
        reasons = "" if plan.grants else "协议内容不明确，无法确认（演示）"
        return lambda: court.rule(cast.judges[app.court], app.id, plan.grants, reasons)

    # --- what was loaded --------------------------------------------------------------------
    async def _summary(self, cast: _Cast, orgs: list[str], plans: list[CasePlan], by_step: Counter[str],
                       by_outcome: Counter[str], parties: int) -> DemoSummary:
        async with self.s.db() as s:
            logins = (await s.execute(select(Account.role, Account.login)
                                      .where(Account.login.startswith(LOGIN_PREFIX)).order_by(Account.login))).all()
            statuses = Counter((await s.scalars(select(CourtApplication.status)
                                                .join(Case, Case.id == CourtApplication.case_id)
                                                .where(Case.facts.like(f"%{MARK_START}%")))).all())
        by_role: dict[str, list[str]] = {}
        for role, login in logins:
            by_role.setdefault(role, []).append(login)
        return DemoSummary(self.seed, len(orgs), len(cast.mediators), parties, len(plans), self.counts["created"],
                           dict(by_step), dict(by_outcome), self.counts["signed"], dict(statuses),
                           self.counts["ratings"], self.counts["declines"], self.counts["complaints"],
                           DemoAccounts(self.password, by_role))


def _id_number(region: str, year: int, serial: int) -> str:
    """A well-formed, invented GB 11643 number."""
    first17 = f"{region}{year}{1 + serial % 12:02d}{1 + serial % 28:02d}{serial % 1000:03d}"
    return first17 + check_character(first17)
