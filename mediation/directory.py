"""The public directory of mediation organisations and mediators (the seed's two directory
sections): administrators maintain it, anyone may search it.

Categories are a deployment's choice: :class:`DirectoryConfig` starts from the seed's (five
kinds of organisation, eleven kinds of mediator) and a deployment may replace them. Public views
carry names, categories, regions and professional details only, never a phone or ID number.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass, field, replace

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from signing.agreement import DISPUTE_LABELS

from .accounts import Actor, Role
from .clock import Clock
from .directory_models import MediatorLanguage, MediatorProfile, MediatorSpeciality, Organisation
from .errors import Forbidden, InvalidInput, NotFound
from .models import Account, Case, Rating
from .text import clean_text
from .workflow import Outcome, Step

#: The seed's organisation categories: people's, administrative and industry mediation, plus
#: commercial and lawyer mediation as the issue's examples of configured ones.
ORGANISATION_CATEGORIES: dict[str, str] = {
    "peoples": "人民调解",
    "administrative": "行政调解",
    "industry": "行业调解",
    "commercial": "商事调解",
    "lawyer": "律师调解",
}

#: The seed's eleven mediator categories (seven named in the seed, four a deployment configures).
MEDIATOR_CATEGORIES: dict[str, str] = {
    "scholar": "专家学者",
    "lawyer": "律师",
    "notary": "公证员",
    "arbitrator": "仲裁员",
    "retired_judge": "退休法官",
    "five_elders": "五老调解员",
    "community_worker": "社区工作者",
    "peoples_mediator": "专职人民调解员",
    "deputy": "人大代表·政协委员",
    "industry_expert": "行业专家",
    "psychologist": "心理咨询师",
}

#: Chinese names of the dispute types: the one vocabulary cases and agreement templates share.
DISPUTE_TYPES: dict[str, str] = {str(t): zh for t, (zh, _) in DISPUTE_LABELS.items()}

CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")
#: The steps in which a case occupies its mediator: what "current load" counts.
ACTIVE_STEPS = (str(Step.COUNSELLING), str(Step.VIDEO_MEDIATION), str(Step.RESULT))
MAX_PAGE_SIZE = 100
MAX_SPECIALITIES = 20
MAX_LANGUAGES = 10


@dataclass(frozen=True)
class DirectoryConfig:
    organisation_categories: dict[str, str] = field(default_factory=lambda: dict(ORGANISATION_CATEGORIES))
    mediator_categories: dict[str, str] = field(default_factory=lambda: dict(MEDIATOR_CATEGORIES))
    dispute_types: dict[str, str] = field(default_factory=lambda: dict(DISPUTE_TYPES))

    def dispute_label(self, dispute_type: str) -> str:
        return self.dispute_types.get(dispute_type, dispute_type)


@dataclass(frozen=True)
class NewOrganisation:
    name: str
    category: str
    region: str
    address: str
    contact: str
    intro: str = ""
    #: 统一社会信用代码: printed in the organisation's agreements and named in its seal certificate.
    credit_code: str | None = None


@dataclass(frozen=True)
class ProfileDetails:
    category: str
    region: str
    specialities: list[str]
    languages: list[str]
    available: bool = True
    max_concurrent: int = 10
    intro: str = ""


@dataclass(frozen=True)
class OrganisationView:
    id: str
    name: str
    category: str
    category_label: str
    region: str
    address: str
    contact: str
    intro: str


@dataclass(frozen=True)
class OrganisationDetail:
    organisation: OrganisationView
    mediators: int
    available_mediators: int
    closed_cases: int
    settled_cases: int


@dataclass(frozen=True)
class MediatorView:
    id: str
    name: str
    organisation_id: str
    organisation: str
    category: str
    category_label: str
    region: str
    specialities: list[str]
    languages: list[str]
    available: bool
    max_concurrent: int
    intro: str


@dataclass(frozen=True)
class MediatorDetail:
    mediator: MediatorView
    active_cases: int  # at counselling, video mediation or result: the mediator's current load
    decided_cases: int
    settled_cases: int
    success_rate: float | None  # settled / decided; None before the first decided case
    ratings: int
    satisfaction: float | None  # mean rating 1-5; None before the first rating


@dataclass(frozen=True)
class OrganisationQuery:
    name: str | None = None
    category: str | None = None
    region: str | None = None  # a prefix: "四川省成都市" finds every district of Chengdu
    page: int = 1
    page_size: int = 20
    #: Organisations with at least one listed mediator who handles this kind of dispute / speaks
    #: this language: an organisation has no specialities of its own, its mediators do.
    dispute_type: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class MediatorQuery:
    name: str | None = None
    category: str | None = None
    region: str | None = None
    dispute_type: str | None = None
    language: str | None = None
    organisation_id: str | None = None
    available_only: bool = False
    page: int = 1
    page_size: int = 20


@dataclass(frozen=True)
class OrganisationPage:
    items: list[OrganisationView]
    total: int
    page: int
    page_size: int


@dataclass(frozen=True)
class MediatorPage:
    items: list[MediatorView]
    total: int
    page: int
    page_size: int


def like_pattern(text: str, *, anywhere: bool) -> str:
    """A LIKE pattern matching ``text`` literally (``%`` and ``_`` escaped with ``\\``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%" if anywhere else f"{escaped}%"


def plain_text(value: str, name: str, limit: int, *, required: bool = True) -> str:
    """``clean_text`` that also refuses control characters (a NUL is not text, and PostgreSQL
    refuses it outright), tabs and newlines excepted."""
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in value):
        raise InvalidInput("invalid_text", f"{name} contains control characters", {"field": name})
    return clean_text(value, name, limit, required=required)


def _optional(value: str | None, name: str, limit: int) -> str | None:
    """A search filter: blank means no filter."""
    return plain_text(value, name, limit, required=False) or None if value is not None else None


def _check_page(page: int, page_size: int) -> None:
    if page < 1:
        raise InvalidInput("invalid_page", "pages are numbered from 1")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput("invalid_page_size", f"a page holds 1-{MAX_PAGE_SIZE} entries")


def _clean_values(values: list[str], name: str, limit: int) -> list[str]:
    cleaned = sorted({plain_text(v, f"{name}[]", 40) for v in values})
    if len(cleaned) > limit:
        raise InvalidInput("too_many", f"at most {limit} {name}", {"field": name, "limit": limit})
    return cleaned


class DirectoryService:
    def __init__(self, db: async_sessionmaker[AsyncSession], clock: Clock, config: DirectoryConfig | None = None):
        self.db = db
        self.clock = clock
        self.config = config or DirectoryConfig()

    # --- maintenance ------------------------------------------------------------------------
    async def add_organisation(self, actor: Actor, new: NewOrganisation) -> OrganisationView:
        if actor.role != Role.PLATFORM_ADMIN:
            raise Forbidden("forbidden", "only platform administrators register mediation organisations")
        if new.category not in self.config.organisation_categories:
            raise InvalidInput("unknown_category", "no such organisation category",
                               {"allowed": sorted(self.config.organisation_categories)})
        if new.credit_code is not None and not CREDIT_CODE.fullmatch(new.credit_code):
            raise InvalidInput("invalid_credit_code", "a unified social credit code has 18 characters from 0-9 and "
                                                      "A-Y without I, O, S, V, Z")
        row = Organisation(id="o_" + secrets.token_hex(8), name=plain_text(new.name, "name", 100),
                           credit_code=new.credit_code,
                           category=new.category, region=plain_text(new.region, "region", 100),
                           address=plain_text(new.address, "address", 200),
                           contact=plain_text(new.contact, "contact", 100),
                           intro=plain_text(new.intro, "intro", 2000, required=False), created_at=self.clock.now())
        async with self.db.begin() as s:
            if await s.scalar(select(Organisation.id).where(Organisation.name == row.name)) is not None:
                raise InvalidInput("name_taken", "an organisation with this name is already registered")
            s.add(row)
        return self._organisation_view(row)

    async def set_profile(self, actor: Actor, account_id: str, details: ProfileDetails) -> MediatorView:
        """Create or replace a mediator's directory profile: by their organisation's administrator
        or a platform administrator. The organisation is the one the account belongs to."""
        if details.category not in self.config.mediator_categories:
            raise InvalidInput("unknown_category", "no such mediator category",
                               {"allowed": sorted(self.config.mediator_categories)})
        if not 1 <= details.max_concurrent <= 100:
            raise InvalidInput("invalid_capacity", "a mediator handles 1-100 cases at a time")
        region = plain_text(details.region, "region", 100)
        intro = plain_text(details.intro, "intro", 2000, required=False)
        specialities = _clean_values(details.specialities, "specialities", MAX_SPECIALITIES)
        languages = _clean_values(details.languages, "languages", MAX_LANGUAGES)
        async with self.db.begin() as s:
            account = await s.get(Account, account_id)
            if account is None or account.role != Role.MEDIATOR or account.disabled_at is not None:
                raise NotFound("mediator_not_found", "no mediator account with this id")
            if actor.role == Role.ORG_ADMIN:
                if account.organisation != actor.organisation:
                    raise Forbidden("forbidden", "an organisation administrator manages their own mediators")
            elif actor.role != Role.PLATFORM_ADMIN:
                raise Forbidden("forbidden", "profiles are kept by administrators")
            org = await s.scalar(select(Organisation).where(Organisation.name == account.organisation))
            if org is None:
                raise InvalidInput("organisation_not_registered",
                                   "the mediator's organisation is not in the directory yet")
            profile = await s.get(MediatorProfile, account_id)
            if profile is None:
                profile = MediatorProfile(account_id=account_id)
                s.add(profile)
            profile.organisation_id = org.id
            profile.category = details.category
            profile.region = region
            profile.intro = intro
            profile.available = details.available
            profile.max_concurrent = details.max_concurrent
            profile.updated_at = self.clock.now()
            await s.flush()
            for model in (MediatorSpeciality, MediatorLanguage):
                for old in (await s.scalars(select(model).where(model.account_id == account_id))).all():
                    await s.delete(old)
            await s.flush()
            s.add_all([MediatorSpeciality(dispute_type=d, account_id=account_id) for d in specialities])
            s.add_all([MediatorLanguage(language=lang, account_id=account_id) for lang in languages])
        return await self.mediator_view(account_id)

    # --- reading ----------------------------------------------------------------------------
    def _organisation_view(self, row: Organisation) -> OrganisationView:
        return OrganisationView(row.id, row.name, row.category,
                                self.config.organisation_categories.get(row.category, row.category), row.region,
                                row.address, row.contact, row.intro)

    async def search_organisations(self, query: OrganisationQuery) -> OrganisationPage:
        _check_page(query.page, query.page_size)
        query = replace(query, name=_optional(query.name, "name", 100), category=_optional(query.category, "category", 40),
                        region=_optional(query.region, "region", 100),
                        dispute_type=_optional(query.dispute_type, "dispute_type", 40),
                        language=_optional(query.language, "language", 40))
        conditions: list[ColumnElement[bool]] = []
        if query.name:
            conditions.append(Organisation.name.like(like_pattern(query.name, anywhere=True), escape="\\"))
        if query.category:
            conditions.append(Organisation.category == query.category)
        if query.region:
            conditions.append(Organisation.region.like(like_pattern(query.region, anywhere=False), escape="\\"))
        for model, column, value in ((MediatorSpeciality, MediatorSpeciality.dispute_type, query.dispute_type),
                                     (MediatorLanguage, MediatorLanguage.language, query.language)):
            if value:
                conditions.append(exists().where(and_(MediatorProfile.organisation_id == Organisation.id,
                                                      model.account_id == MediatorProfile.account_id, column == value)))
        async with self.db() as s:
            total = await s.scalar(select(func.count()).select_from(Organisation).where(*conditions)) or 0
            rows = (await s.scalars(select(Organisation).where(*conditions).order_by(Organisation.name, Organisation.id)
                                    .limit(query.page_size).offset((query.page - 1) * query.page_size))).all()
        return OrganisationPage([self._organisation_view(r) for r in rows], total, query.page, query.page_size)

    async def organisation(self, organisation_id: str) -> OrganisationDetail:
        async with self.db() as s:
            row = await s.get(Organisation, organisation_id)
            if row is None:
                raise NotFound("organisation_not_found", "no organisation with this id")
            mediators, available = (await s.execute(
                select(func.count(), func.coalesce(func.sum(case((MediatorProfile.available, 1), else_=0)), 0))
                .where(MediatorProfile.organisation_id == organisation_id))).one()
            closed, settled = (await s.execute(
                select(func.count(), func.coalesce(func.sum(case((Case.outcome == str(Outcome.SETTLED), 1), else_=0)), 0))
                .where(Case.organisation == row.name, Case.status == "closed"))).one()
        return OrganisationDetail(self._organisation_view(row), mediators, int(available), closed, int(settled))

    def _mediator_select(self) -> Select[tuple[MediatorProfile, Account, Organisation]]:
        return (select(MediatorProfile, Account, Organisation)
                .join(Account, Account.id == MediatorProfile.account_id)
                .join(Organisation, Organisation.id == MediatorProfile.organisation_id)
                .where(Account.disabled_at.is_(None)))

    async def _mediator_views(self, s: AsyncSession,
                              rows: list[tuple[MediatorProfile, Account, Organisation]]) -> list[MediatorView]:
        ids = [p.account_id for p, _, _ in rows]
        specialities: dict[str, list[str]] = {i: [] for i in ids}
        languages: dict[str, list[str]] = {i: [] for i in ids}
        for account_id, value in (await s.execute(select(MediatorSpeciality.account_id, MediatorSpeciality.dispute_type)
                                                  .where(MediatorSpeciality.account_id.in_(ids)))).all():
            specialities[account_id].append(value)
        for account_id, value in (await s.execute(select(MediatorLanguage.account_id, MediatorLanguage.language)
                                                  .where(MediatorLanguage.account_id.in_(ids)))).all():
            languages[account_id].append(value)
        return [MediatorView(p.account_id, a.display_name, o.id, o.name, p.category,
                             self.config.mediator_categories.get(p.category, p.category), p.region,
                             sorted(specialities[p.account_id]), sorted(languages[p.account_id]), p.available,
                             p.max_concurrent, p.intro) for p, a, o in rows]

    async def search_mediators(self, query: MediatorQuery) -> MediatorPage:
        _check_page(query.page, query.page_size)
        query = replace(query, name=_optional(query.name, "name", 100), category=_optional(query.category, "category", 40),
                        region=_optional(query.region, "region", 100),
                        dispute_type=_optional(query.dispute_type, "dispute_type", 40),
                        language=_optional(query.language, "language", 40),
                        organisation_id=_optional(query.organisation_id, "organisation_id", 32))
        conditions: list[ColumnElement[bool]] = []
        if query.name:
            conditions.append(Account.display_name.like(like_pattern(query.name, anywhere=True), escape="\\"))
        if query.category:
            conditions.append(MediatorProfile.category == query.category)
        if query.region:
            conditions.append(MediatorProfile.region.like(like_pattern(query.region, anywhere=False), escape="\\"))
        if query.organisation_id:
            conditions.append(MediatorProfile.organisation_id == query.organisation_id)
        if query.available_only:
            conditions.append(MediatorProfile.available.is_(True))
        if query.dispute_type:
            conditions.append(exists().where(and_(MediatorSpeciality.account_id == MediatorProfile.account_id,
                                                  MediatorSpeciality.dispute_type == query.dispute_type)))
        if query.language:
            conditions.append(exists().where(and_(MediatorLanguage.account_id == MediatorProfile.account_id,
                                                  MediatorLanguage.language == query.language)))
        base = self._mediator_select().where(*conditions)
        async with self.db() as s:
            total = await s.scalar(select(func.count()).select_from(base.subquery())) or 0
            rows = (await s.execute(base.order_by(Account.display_name, Account.id).limit(query.page_size)
                                    .offset((query.page - 1) * query.page_size))).tuples().all()
            items = await self._mediator_views(s, list(rows))
        return MediatorPage(items, total, query.page, query.page_size)

    async def mediator_view(self, account_id: str) -> MediatorView:
        async with self.db() as s:
            row = (await s.execute(self._mediator_select().where(MediatorProfile.account_id == account_id))).tuples().first()
            if row is None:
                raise NotFound("mediator_not_found", "no mediator with this id in the directory")
            return (await self._mediator_views(s, [row]))[0]

    async def mediator(self, account_id: str) -> MediatorDetail:
        view = await self.mediator_view(account_id)
        async with self.db() as s:
            active, decided, settled = (await s.execute(select(
                func.coalesce(func.sum(case((Case.step.in_(ACTIVE_STEPS), 1), else_=0)), 0),
                func.coalesce(func.sum(case((Case.outcome.in_([str(Outcome.SETTLED), str(Outcome.FAILED)]), 1),
                                            else_=0)), 0),
                func.coalesce(func.sum(case((Case.outcome == str(Outcome.SETTLED), 1), else_=0)), 0),
            ).where(Case.mediator_id == account_id))).one()
            ratings, mean = (await s.execute(select(func.count(), func.avg(Rating.score))
                                             .where(Rating.mediator_id == account_id))).one()
        return MediatorDetail(view, int(active), int(decided), int(settled),
                              round(settled / decided, 4) if decided else None, ratings,
                              round(float(mean), 2) if mean is not None else None)
