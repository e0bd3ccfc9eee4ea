"""The data centre's dashboard over HTTP: the charts' figures, their CSV export and the public summary.

Who sees what is decided by :class:`mediation.statistics.Scope` from the caller (platform
administrators everything, an organisation administrator their organisation, court staff their
court's cases, a mediator their own); filters only narrow that scope further. The public summary
names nobody. ``setup_datacentre`` runs after ``setup_directory`` (it reuses its statistics).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from aiohttp import web
from pydantic import Field, model_validator

from mediation.dashboard import DashboardService, Filters, csv_export

from ..auth import PUBLIC
from ..openapi import Query, api, query_of
from .accounts import actor_of, domain_errors, dump
from .directory import DIRECTORY_KEY, STATISTICS_ROLES, STATS_TAG

DASHBOARD_ROLES = STATISTICS_ROLES | {"mediator"}
DASHBOARD_KEY = web.AppKey("datacentre_dashboard", DashboardService)


def setup_datacentre(app: web.Application) -> None:
    app[DASHBOARD_KEY] = DashboardService(app[DIRECTORY_KEY].statistics)


class PublicFilters(Query):
    since: date | None = None
    until: date | None = None
    dispute_type: str | None = Field(default=None, max_length=40)

    @model_validator(mode="after")
    def period_in_order(self) -> PublicFilters:
        if self.since is not None and self.until is not None and self.since > self.until:
            raise ValueError("since is after until")
        return self

    def filters(self) -> Filters:
        return Filters(self.since, self.until, self.dispute_type)


class DashboardFilters(PublicFilters):
    organisation: str | None = Field(default=None, max_length=100)

    def filters(self) -> Filters:
        return Filters(self.since, self.until, self.dispute_type, self.organisation)


class ExportQuery(DashboardFilters):
    table: Literal["mediators", "organisations", "types", "steps", "months"] = "mediators"


def _of(request: web.Request) -> DashboardService:
    return request.app[DASHBOARD_KEY]


@api.route("GET", "/api/statistics/dashboard", summary="The data centre: figures for every chart, under filters",
           allow=DASHBOARD_ROLES, tag=STATS_TAG, query=DashboardFilters)
@domain_errors
async def dashboard(request: web.Request, _: None) -> Any:
    """Query: ``since``/``until`` (dates the cases were filed, inclusive), ``dispute_type``,
    ``organisation``. Scoped to what the caller oversees."""
    q: DashboardFilters = query_of(request)
    return dump(await _of(request).dashboard(actor_of(request), q.filters()))


@api.route("GET", "/api/statistics/dashboard.csv", summary="One table of the data centre as CSV",
           allow=DASHBOARD_ROLES, tag=STATS_TAG, query=ExportQuery)
@domain_errors
async def dashboard_csv(request: web.Request, _: None) -> web.Response:
    """``table``: mediators, organisations, types, steps or months; the dashboard's filters apply.
    UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese labels."""
    q: ExportQuery = query_of(request)
    board = await _of(request).dashboard(actor_of(request), q.filters())
    return web.Response(body=("\ufeff" + csv_export(board, q.table)).encode(), content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="accord-{q.table}.csv"'})


@api.route("GET", "/api/statistics/public", summary="The published summary: totals, outcomes, settlement by month",
           allow=PUBLIC, tag=STATS_TAG, query=PublicFilters)
@domain_errors
async def public_summary(request: web.Request, _: None) -> Any:
    """No mediator and no organisation is named; counts only."""
    q: PublicFilters = query_of(request)
    return dump(await _of(request).public_summary(q.filters()))
