"""The public directory, mediator recommendation and the data centre over HTTP.

Searching organisations and mediators, reading their pages and recommending mediators for a
kind of dispute are public (the seed's directory sections). Recommendations for a filed case
are for its parties, its organisation's administrators and platform administrators (the case
domain decides who is related to the case). Statistics are for administrators and court staff,
each scoped to what they oversee. ``setup_directory`` is what the app factory calls after
``setup_cases``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import Field

from mediation.directory import (DirectoryConfig, DirectoryService, MediatorQuery, NewOrganisation, OrganisationQuery,
                                 ProfileDetails)
from mediation.recommendation import Recommender
from mediation.services import MediationServices
from mediation.statistics import StatisticsService

from ..auth import PUBLIC
from ..openapi import Query, api, query_of
from .accounts import Strict, actor_of, domain_errors, dump

TAG = "directory"
STATS_TAG = "statistics"

ADMINS = frozenset({"platform_admin", "org_admin"})
CASE_RECOMMENDATION_ROLES = frozenset({"party", "agent", "org_admin", "platform_admin", "service"})
STATISTICS_ROLES = frozenset({"platform_admin", "org_admin", "court_clerk", "judge"})


@dataclass(frozen=True)
class DirectoryServices:
    directory: DirectoryService
    recommender: Recommender
    statistics: StatisticsService


DIRECTORY_KEY = web.AppKey("mediation_directory", DirectoryServices)


def setup_directory(app: web.Application, services: MediationServices, config: DirectoryConfig | None = None) -> None:
    """Build the directory services over the case system's database (same tables, same clock)."""
    config = config or DirectoryConfig()
    app[DIRECTORY_KEY] = DirectoryServices(DirectoryService(services.db, services.cases.clock, config),
                                           Recommender(services.db, services.cases, config),
                                           StatisticsService(services.db, config))


def _of(request: web.Request) -> DirectoryServices:
    return request.app[DIRECTORY_KEY]


class Paging(Query):
    page: int = Field(default=1, ge=1, le=100_000)
    page_size: int = Field(default=20, ge=1, le=100)


class OrganisationSearch(Paging):
    name: str | None = Field(default=None, max_length=100)
    category: str | None = Field(default=None, max_length=40)
    region: str | None = Field(default=None, max_length=100)
    dispute_type: str | None = Field(default=None, max_length=40)
    language: str | None = Field(default=None, max_length=40)


class MediatorSearch(Paging):
    name: str | None = Field(default=None, max_length=100)
    category: str | None = Field(default=None, max_length=40)
    region: str | None = Field(default=None, max_length=100)
    dispute_type: str | None = Field(default=None, max_length=40)
    language: str | None = Field(default=None, max_length=40)
    organisation_id: str | None = Field(default=None, max_length=32)
    available: bool = False


class DisputeQuery(Query):
    dispute_type: str = Field(min_length=1, max_length=40)
    region: str | None = Field(default=None, max_length=100)


class RegionQuery(Query):
    region: str | None = Field(default=None, max_length=100)


class StatisticsPaging(Query):
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class OrganisationIn(Strict):
    name: str = Field(min_length=1, max_length=100)
    category: str = Field(min_length=1, max_length=40)
    region: str = Field(min_length=1, max_length=100)
    address: str = Field(min_length=1, max_length=200)
    contact: str = Field(min_length=1, max_length=100)
    intro: str = Field(default="", max_length=2000)
    credit_code: str | None = Field(default=None, min_length=18, max_length=18)


class ProfileIn(Strict):
    category: str = Field(min_length=1, max_length=40)
    region: str = Field(min_length=1, max_length=100)
    specialities: list[str] = Field(default_factory=list, max_length=20)
    languages: list[str] = Field(default_factory=list, max_length=10)
    available: bool = True
    max_concurrent: int = Field(default=10, ge=1, le=100)
    intro: str = Field(default="", max_length=2000)


# --- public directory -------------------------------------------------------------------------
@api.route("GET", "/api/directory/categories", summary="Organisation and mediator categories, dispute types",
           allow=PUBLIC, tag=TAG)
async def categories(request: web.Request, _: None) -> Any:
    config = _of(request).directory.config
    return {"organisation_categories": config.organisation_categories,
            "mediator_categories": config.mediator_categories, "dispute_types": config.dispute_types}


@api.route("GET", "/api/directory/organisations", summary="Search mediation organisations", allow=PUBLIC, tag=TAG,
           query=OrganisationSearch)
@domain_errors
async def search_organisations(request: web.Request, _: None) -> Any:
    """Query: ``name`` (part of it), ``category``, ``region`` (a prefix), ``dispute_type`` and
    ``language`` (some listed mediator of theirs handles it / speaks it), ``page``, ``page_size``."""
    q: OrganisationSearch = query_of(request)
    return dump(await _of(request).directory.search_organisations(
        OrganisationQuery(q.name, q.category, q.region, q.page, q.page_size, q.dispute_type, q.language)))


@api.route("GET", "/api/directory/organisations/{organisation_id}", summary="A mediation organisation's page",
           allow=PUBLIC, tag=TAG)
@domain_errors
async def organisation(request: web.Request, _: None) -> Any:
    return dump(await _of(request).directory.organisation(request.match_info["organisation_id"]))


@api.route("POST", "/api/directory/organisations", summary="Register a mediation organisation",
           allow=frozenset({"platform_admin"}), tag=TAG, request=OrganisationIn, status=201)
@domain_errors
async def add_organisation(request: web.Request, body: OrganisationIn) -> Any:
    return dump(await _of(request).directory.add_organisation(actor_of(request), NewOrganisation(
        body.name, body.category, body.region, body.address, body.contact, body.intro, body.credit_code)))


@api.route("GET", "/api/directory/mediators", summary="Search mediators", allow=PUBLIC, tag=TAG, query=MediatorSearch)
@domain_errors
async def search_mediators(request: web.Request, _: None) -> Any:
    """Query: ``name``, ``category``, ``region`` (prefix), ``dispute_type`` (speciality), ``language``,
    ``organisation_id``, ``available`` (only those taking cases), ``page``, ``page_size``."""
    q: MediatorSearch = query_of(request)
    return dump(await _of(request).directory.search_mediators(MediatorQuery(
        q.name, q.category, q.region, q.dispute_type, q.language, q.organisation_id, q.available, q.page,
        q.page_size)))


@api.route("GET", "/api/directory/mediators/{mediator_id}", summary="A mediator's page, with their record",
           allow=PUBLIC, tag=TAG)
@domain_errors
async def mediator(request: web.Request, _: None) -> Any:
    return dump(await _of(request).directory.mediator(request.match_info["mediator_id"]))


@api.route("PUT", "/api/directory/mediators/{mediator_id}", summary="Create or replace a mediator's profile",
           allow=ADMINS, tag=TAG, request=ProfileIn)
@domain_errors
async def set_profile(request: web.Request, body: ProfileIn) -> Any:
    return dump(await _of(request).directory.set_profile(actor_of(request), request.match_info["mediator_id"],
                                                         ProfileDetails(body.category, body.region, body.specialities,
                                                                        body.languages, body.available,
                                                                        body.max_concurrent, body.intro)))


# --- recommendation ---------------------------------------------------------------------------
@api.route("GET", "/api/directory/recommendations", summary="Five mediators for a kind of dispute",
           allow=PUBLIC, tag=TAG, query=DisputeQuery)
@domain_errors
async def recommend_for_dispute(request: web.Request, _: None) -> Any:
    """Query: ``dispute_type``, optional ``region``. For guidance before applying."""
    q: DisputeQuery = query_of(request)
    return dump(await _of(request).recommender.for_dispute(q.dispute_type, q.region))


@api.route("GET", "/api/cases/{case_id}/recommendations", summary="Five mediators for this case (step 2)",
           allow=CASE_RECOMMENDATION_ROLES, tag=TAG, scope="cases:read", query=RegionQuery)
@domain_errors
async def recommend_for_case(request: web.Request, _: None) -> Any:
    """Ranked by speciality, settlement rate, satisfaction, load, decline rate and region (optional
    ``region`` query parameter); each with its reason and score parts."""
    q: RegionQuery = query_of(request)
    return dump(await _of(request).recommender.for_case(actor_of(request), request.match_info["case_id"], q.region))


# --- data centre ------------------------------------------------------------------------------
@api.route("GET", "/api/statistics/cases", summary="Case counts by dispute type, step and outcome",
           allow=STATISTICS_ROLES, tag=STATS_TAG, query=Query)
@domain_errors
async def case_statistics(request: web.Request, _: None) -> Any:
    return dump(await _of(request).statistics.cases(actor_of(request)))


@api.route("GET", "/api/statistics/mediators", summary="Per mediator: accepted, success, declines, satisfaction",
           allow=STATISTICS_ROLES, tag=STATS_TAG, query=StatisticsPaging)
@domain_errors
async def mediator_statistics(request: web.Request, _: None) -> Any:
    """Query: ``limit`` (1-1000), ``offset``."""
    q: StatisticsPaging = query_of(request)
    return dump(await _of(request).statistics.mediators(actor_of(request), q.limit, q.offset))
