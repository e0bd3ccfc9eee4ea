"""The public directory: maintenance rules, search filters and paging, detail pages, and the HTTP
endpoints with who may call them (SQLite and PostgreSQL)."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import AsyncIterator

import pytest
from aiohttp import DummyCookieJar, web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from mediation.accounts import Actor
from mediation.directory import DirectoryService, MediatorQuery, NewOrganisation, OrganisationQuery, ProfileDetails
from mediation.errors import Forbidden, InvalidInput, NotFound
from mediation.schema import VERSION_TABLE, alembic_config, all_tables, upgrade_engine
from mediation.services import MediationServices
from signaling.api.accounts import make_session_resolver
from signaling.api.cases import setup_cases
from signaling.api.directory import setup_directory
from signaling.auth import make_auth_middleware
from signaling.config import Settings
from signaling.database import make_engine
from signaling.errors import error_middleware
from signaling.openapi import ApiRegistry
from signaling.openapi import api as registry

from .api_client import Api, application_body
from .conftest import MEDIATION_TAGS, api_key_store, scopes_for
from .directory_data import ADMIN, ORG, OTHER_ORG, History, give_history, mediator, organisations
from .doubles import MemorySms


@pytest.fixture
def directory(services: MediationServices) -> DirectoryService:
    return DirectoryService(services.db, services.cases.clock)


@pytest.fixture
async def api(services: MediationServices, engine: AsyncEngine, tmp_path: Path, sms: MemorySms) -> AsyncIterator[Api]:
    """The accounts, cases, directory and statistics endpoints over the services."""
    settings = Settings(data_dir=tmp_path / "data")
    keys = api_key_store(services)
    app = web.Application(middlewares=[error_middleware,
                                       make_auth_middleware(keys, make_session_resolver(services.accounts))])
    setup_cases(app, settings, engine, services, scan_interval=None)
    setup_directory(app, services)
    tags = (*MEDIATION_TAGS, "directory", "statistics")
    ApiRegistry([ep for ep in registry.endpoints if ep.tag in tags]).install(app)
    client = TestClient(TestServer(app), cookie_jar=DummyCookieJar())
    await client.start_server()
    await services.accounts.bootstrap_admin("root", "Platform Admin", "correct horse battery")
    try:
        yield Api(client, services, sms, (await keys.create("court-system", scopes_for(tags))).key)
    finally:
        await client.close()


async def test_search_filters_and_paging(services: MediationServices, directory: DirectoryService) -> None:
    orgs = await organisations(directory)
    db = services.db
    a = await mediator(db, directory, "示例调解员A", specialities=("loan", "labour"), languages=("普通话", "四川话"),
                       category="retired_judge")
    b = await mediator(db, directory, "示例调解员B", specialities=("traffic",), languages=("普通话", "English"),
                       region="四川省成都市高新区", organisation=OTHER_ORG)
    c = await mediator(db, directory, "示例调解员C_100%", specialities=("loan",), region="四川省绵阳市涪城区",
                       available=False)

    async def ids(**kw: object) -> list[str]:
        return [m.id for m in (await directory.search_mediators(MediatorQuery(**kw))).items]  # type: ignore[arg-type]

    assert await ids() == [a, b, c]
    assert await ids(dispute_type="loan") == [a, c]
    assert await ids(language="English") == [b]
    assert await ids(region="四川省成都市") == [a, b]
    assert await ids(category="retired_judge") == [a]
    assert await ids(organisation_id=orgs[OTHER_ORG]) == [b]
    assert await ids(available_only=True) == [a, b]
    assert await ids(name="C_100%") == [c]
    assert await ids(name="_") == [c]  # LIKE wildcards are taken literally
    assert await ids(name="%") == [c]
    page = await directory.search_mediators(MediatorQuery(page=2, page_size=2))
    assert page.total == 3 and [m.id for m in page.items] == [c]
    found = (await directory.search_mediators(MediatorQuery(dispute_type="loan"))).items[0]
    assert found.specialities == ["labour", "loan"] and found.languages == ["四川话", "普通话"]
    assert found.category_label == "退休法官" and found.organisation == ORG

    org_page = await directory.search_organisations(OrganisationQuery(category="commercial"))
    assert [o.name for o in org_page.items] == [OTHER_ORG] and org_page.total == 1
    assert org_page.items[0].category_label == "商事调解"
    assert (await directory.search_organisations(OrganisationQuery(region="四川省成都市"))).total == 2
    assert (await directory.search_organisations(OrganisationQuery(name="人民"))).items[0].name == ORG

    async def org_names(**kw: object) -> list[str]:
        return [o.name for o in (await directory.search_organisations(OrganisationQuery(**kw))).items]  # type: ignore[arg-type]

    # An organisation is found by what its listed mediators handle and speak.
    assert await org_names(dispute_type="traffic") == [OTHER_ORG]
    assert await org_names(dispute_type="loan") == [ORG]
    assert await org_names(dispute_type="marriage_family") == []
    assert await org_names(language="English") == [OTHER_ORG]
    assert await org_names(language="普通话", dispute_type="labour") == [ORG]
    with pytest.raises(InvalidInput):
        await directory.search_mediators(MediatorQuery(page=0))
    with pytest.raises(InvalidInput):
        await directory.search_organisations(OrganisationQuery(page_size=101))


async def test_detail_pages_carry_the_record(services: MediationServices, directory: DirectoryService) -> None:
    orgs = await organisations(directory)
    m = await mediator(services.db, directory, "示例调解员D", specialities=("loan",))
    await give_history(services.db, m, History(settled=3, failed=1, active=2, ratings=(5, 4, 3)))
    detail = await directory.mediator(m)
    assert (detail.decided_cases, detail.settled_cases, detail.success_rate) == (4, 3, 0.75)
    assert (detail.active_cases, detail.ratings, detail.satisfaction) == (2, 3, 4.0)
    org = await directory.organisation(orgs[ORG])
    assert (org.mediators, org.available_mediators, org.closed_cases, org.settled_cases) == (1, 1, 1, 0)
    with pytest.raises(NotFound):
        await directory.mediator("a_nobody")
    with pytest.raises(NotFound):
        await directory.organisation("o_nothing")


async def test_maintenance_is_for_administrators(services: MediationServices, directory: DirectoryService) -> None:
    await organisations(directory)
    m = await mediator(services.db, directory, "示例调解员E", specialities=("loan",))
    details = ProfileDetails("lawyer", "四川省成都市", ["contract"], ["普通话"], True, 5)
    own_admin = Actor("a_oa", "org_admin", "OA", organisation=ORG)
    other_admin = Actor("a_ob", "org_admin", "OB", organisation=OTHER_ORG)
    updated = await directory.set_profile(own_admin, m, details)
    assert updated.specialities == ["contract"] and updated.max_concurrent == 5
    with pytest.raises(Forbidden):
        await directory.set_profile(other_admin, m, details)
    with pytest.raises(Forbidden):
        await directory.set_profile(Actor(m, "mediator", "E", organisation=ORG), m, details)
    with pytest.raises(Forbidden):
        await directory.add_organisation(own_admin, NewOrganisation("X", "peoples", "r", "a", "c"))
    with pytest.raises(InvalidInput):
        await directory.add_organisation(ADMIN, NewOrganisation(ORG, "peoples", "r", "a", "c"))  # name taken
    with pytest.raises(InvalidInput):
        await directory.add_organisation(ADMIN, NewOrganisation("Y", "no-such-kind", "r", "a", "c"))
    for bad in (ProfileDetails("astrologer", "r", [], []), ProfileDetails("lawyer", "r", [], [], True, 0),
                ProfileDetails("lawyer", "r", [f"t{i}" for i in range(21)], []),
                ProfileDetails("lawyer", "r", ["x" * 41], [])):
        with pytest.raises(InvalidInput):
            await directory.set_profile(ADMIN, m, bad)
    assert (await directory.mediator_view(m)).specialities == ["contract"]  # refused changes changed nothing


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=30), region=st.text(max_size=30), language=st.text(max_size=45))
async def test_any_search_text_is_safe(directory: DirectoryService, name: str, region: str, language: str) -> None:
    """Any text finds nothing in an empty directory, or is refused as such: never a database error."""
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in name + region + language):
        with pytest.raises(InvalidInput):
            await directory.search_mediators(MediatorQuery(name=name, region=region, language=language))
        return
    if len(language.strip()) > 40:
        with pytest.raises(InvalidInput):
            await directory.search_mediators(MediatorQuery(name=name, region=region, language=language))
        return
    page = await directory.search_mediators(MediatorQuery(name=name, region=region, language=language))
    assert page.total == 0 and page.items == []


async def test_http_directory_is_public_and_maintenance_is_not(api: Api) -> None:
    admin = await api.login("admin", "root")
    org = await api.call("POST", "/api/directory/organisations", admin, expect=201, json={
        "name": ORG, "category": "peoples", "region": "四川省成都市锦江区", "address": "示例路1号",
        "contact": "028-00000001"})
    org_admin = await api.staff(admin, "org_admin", "orgadmin", organisation=ORG)
    med = await api.staff(org_admin, "mediator", "mediator1", organisation=ORG)
    party = await api.register("alice", 1)
    profile = {"category": "lawyer", "region": "四川省成都市锦江区", "specialities": ["loan"], "languages": ["普通话"]}
    for who, status in ((None, 401), (party, 403), (med, 403)):
        await api.call("PUT", f"/api/directory/mediators/{med.id}", who, json=profile, expect=status)
        await api.call("POST", "/api/directory/organisations", who, json={"name": "Z"}, expect=status)
    await api.call("PUT", f"/api/directory/mediators/{med.id}", org_admin, json=profile, expect=200)

    found = await api.call("GET", "/api/directory/mediators?dispute_type=loan&region=四川省成都市", expect=200)
    assert found["total"] == 1 and found["items"][0]["id"] == med.id and found["items"][0]["name"] == "Mediator1"
    assert "phone" not in found["items"][0]
    assert (await api.call("GET", f"/api/directory/mediators/{med.id}", expect=200))["success_rate"] is None
    assert (await api.call("GET", "/api/directory/organisations?name=人民", expect=200))["items"][0]["id"] == org["id"]
    assert (await api.call("GET", f"/api/directory/organisations/{org['id']}", expect=200))["mediators"] == 1
    categories = await api.call("GET", "/api/directory/categories", expect=200)
    assert len(categories["organisation_categories"]) == 5 and len(categories["mediator_categories"]) == 11
    recommended = await api.call("GET", "/api/directory/recommendations?dispute_type=loan", expect=200)
    assert [r["mediator_id"] for r in recommended["recommendations"]] == [med.id]
    assert recommended["shortfall"] and not recommended["complete"]
    assert recommended["recommendations"][0]["reason"].startswith("擅长民间借贷纠纷")

    await api.call("GET", "/api/directory/mediators?page=0", expect=422)
    await api.call("GET", "/api/directory/mediators?colour=red", expect=422)
    refused = await api.call("GET", "/api/directory/mediators?name=a%00b", expect=422)
    assert refused["error"]["code"] == "invalid_text"
    await api.call("GET", "/api/directory/recommendations?dispute_type=%00", expect=422)
    await api.call("GET", "/api/directory/recommendations", expect=422)
    await api.call("GET", "/api/directory/mediators/a_nobody", expect=404)
    await api.call("PUT", f"/api/directory/mediators/{med.id}", org_admin, json={**profile, "max_concurrent": 0},
                   expect=422)


async def test_http_case_recommendations_and_statistics_are_authorised(api: Api) -> None:
    admin = await api.login("admin", "root")
    await api.call("POST", "/api/directory/organisations", admin, expect=201, json={
        "name": ORG, "category": "peoples", "region": "四川省成都市锦江区", "address": "示例路1号",
        "contact": "028-00000001"})
    org_admin = await api.staff(admin, "org_admin", "orgadmin", organisation=ORG)
    med = await api.staff(org_admin, "mediator", "mediator1", organisation=ORG)
    clerk = await api.staff(admin, "court_clerk", "clerk1", court="示例法院")
    await api.call("PUT", f"/api/directory/mediators/{med.id}", org_admin, expect=200, json={
        "category": "lawyer", "region": "四川省成都市锦江区", "specialities": ["loan"], "languages": ["普通话"]})
    alice, bob, carol = (await api.register("alice", 1), await api.register("bob", 2), await api.register("carol", 3))
    cid = (await api.call("POST", "/api/cases", alice, json=application_body(alice, bob), expect=201))["id"]
    path = f"/api/cases/{cid}/recommendations"
    for who in (alice, bob, admin):
        body = await api.call("GET", path + "?region=四川省成都市", who, expect=200)
        assert body["case_id"] == cid and body["recommendations"][0]["mediator_id"] == med.id
    await api.call("GET", path, carol, expect=404)  # not her case: it does not exist for her
    await api.call("GET", path, med, expect=403)
    await api.call("GET", path, clerk, expect=403)
    await api.call("GET", path, None, expect=401)

    for who in (admin, org_admin, clerk):
        stats = await api.call("GET", "/api/statistics/cases", who, expect=200)
        assert [s["key"] for s in stats["by_step"]][0] == "start"
    assert (await api.call("GET", "/api/statistics/cases", admin))["total"] == 1
    assert (await api.call("GET", "/api/statistics/cases", org_admin))["total"] == 0  # no mediator yet
    assert (await api.call("GET", "/api/statistics/cases", clerk))["total"] == 0  # not their court's
    for who, status in ((alice, 403), (med, 403), (None, 401)):
        await api.call("GET", "/api/statistics/cases", who, expect=status)
        await api.call("GET", "/api/statistics/mediators", who, expect=status)
    listed = await api.call("GET", "/api/statistics/mediators", org_admin, expect=200)
    assert [m["mediator_id"] for m in listed] == [med.id] and listed[0]["success_rate"] is None
    await api.call("GET", "/api/statistics/mediators?limit=0", admin, expect=422)


DIRECTORY_TABLES = {"med_organisations", "med_mediator_profiles", "med_mediator_specialities", "med_mediator_languages"}
DIRECTORY_INDEXES = {"ix_med_cases_mediator_load", "ix_med_mediator_choices_mediator_status",
                     "ix_med_ratings_mediator_score"}


def _touches_directory(diff: object) -> bool:
    text = repr(diff)
    return any(name in text for name in DIRECTORY_TABLES | DIRECTORY_INDEXES)


async def test_migration_matches_the_models(engine: AsyncEngine) -> None:
    def compare(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return [d for d in compare_metadata(context, all_tables()) if _touches_directory(d)]

    async with engine.connect() as conn:
        assert await conn.run_sync(compare) == []


async def test_directory_migration_downgrades_and_upgrades(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'steps.sqlite3'}"
    engine = make_engine(url)
    try:
        await upgrade_engine(engine)
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0001"))
            assert not DIRECTORY_TABLES & set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            indexes = await conn.run_sync(lambda c: {i["name"] for i in inspect(c).get_indexes("med_cases")})
            assert "ix_med_cases_mediator_load" not in indexes
        await upgrade_engine(engine)
        async with engine.connect() as conn:
            assert DIRECTORY_TABLES <= set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()
