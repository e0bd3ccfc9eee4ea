"""A populated platform for tests that need a case far along: the cast, and a case driven
to a filed judicial confirmation application."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from mediation.schema import all_tables

from .api_client import Api, User, application_body
from .doubles import START

COURT = "Chengdu Jinjiang District People's Court"
ORG = "Jinjiang People's Mediation Committee"


async def cast_of_characters(api: Api) -> dict[str, User]:
    admin = await api.login("admin", "root")
    org_admin = await api.staff(admin, "org_admin", "orgadmin", organisation=ORG)
    return {
        "admin": admin,
        "org_admin": org_admin,
        "mediator": await api.staff(org_admin, "mediator", "mediator1", organisation=ORG),
        "clerk": await api.staff(admin, "court_clerk", "clerk1", court=COURT),
        "judge": await api.staff(admin, "judge", "judge1", court=COURT),
        "alice": await api.register("alice", 1),
        "bob": await api.register("bob", 2),
    }


async def strangers(api: Api, c: dict[str, User]) -> dict[str, User | str | None]:
    """One caller per role, none of them on the case (and their courts/organisations elsewhere):
    a mediator of the case's organisation who is not its mediator, another organisation's
    administrator, another court's clerk and judge."""
    admin = c["admin"]
    return {
        "anonymous": None,
        "party": await api.register("carol", 3),
        "agent": await api.register("dave", 4, role="agent"),
        "mediator": await api.staff(c["org_admin"], "mediator", "mediator2", organisation=ORG),
        "org_admin": await api.staff(admin, "org_admin", "orgadmin2", organisation="Wuhou Lawyers' Mediation Centre"),
        "court_clerk": await api.staff(admin, "court_clerk", "clerk2", court="Chengdu Wuhou District People's Court"),
        "judge": await api.staff(admin, "judge", "judge2", court="Chengdu Wuhou District People's Court"),
        "platform_admin": admin,
        "service": api.service_key,
    }


async def signing_service_reports_effect(api: Api, case_id: str, agreement_id: str,
                                         effective_at: datetime = START) -> None:
    """What the signing ceremony does in-process when the last party signature is recorded (the
    ceremony itself is tested in tests/signing/test_case_agreement.py): the case moves on."""
    await api.services.results.agreement_took_effect(case_id, agreement_id, effective_at)


async def case_with_filed_confirmation(api: Api, c: dict[str, User],
                                       counselling: Callable[[str], Awaitable[None]] | None = None, *,
                                       effective_at: datetime = START) -> tuple[str, str]:
    """Alice v. Bob, settled, with a judicial confirmation application filed at ``COURT``;
    ``counselling(case_id)`` runs while the case is at counselling; ``effective_at``: when the
    agreement took effect (the tests' manual clock starts at ``START``; a server's clock is today)."""
    alice, bob, mediator = c["alice"], c["bob"], c["mediator"]
    cid = (await api.call("POST", "/api/cases", alice, json=application_body(alice, bob), expect=201))["id"]
    await api.call("POST", f"/api/cases/{cid}/documents?name=iou.pdf", alice, data=b"%PDF IOU", expect=201)
    await api.call("POST", f"/api/cases/{cid}/consent", bob, json={"consent": True}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/mediator", alice, json={"mediator_id": mediator.id}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/assignment", mediator, json={"accept": True}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/messages", bob, json={"text": "hello"}, expect=201)
    if counselling is not None:
        await counselling(cid)
    await api.call("POST", f"/api/cases/{cid}/video", mediator, json={}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/video/conclude", mediator, json={}, expect=200)
    drafted = await api.call("POST", f"/api/cases/{cid}/agreement", mediator, expect=201, json={
        "payment_terms": {"debtor_side": "respondent", "amount_fen": 500_000,
                          "due_date": (START + timedelta(days=30)).date().isoformat(),
                          "money_only": True, "counter_obligation": False}})
    await signing_service_reports_effect(api, cid, drafted["agreement_id"], effective_at)
    await api.call("POST", f"/api/cases/{cid}/rating", alice, json={"score": 5}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/rating", bob, json={"score": 5}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/court/confirmation", alice, json={"court": COURT}, expect=201)
    app = await api.call("POST", f"/api/cases/{cid}/court/confirmation", bob, json={}, expect=201)
    return cid, app["id"]


async def database_snapshot(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every case-system table except sessions and codes (which logins create) and
    when an API key was last used (bookkeeping that any request may update)."""
    out = {}
    async with engine.connect() as conn:
        for table in all_tables().sorted_tables:
            if table.name in ("med_sessions", "med_one_time_codes"):
                continue
            columns = [c for c in table.columns if (table.name, c.name) != ("med_api_keys", "last_used_at")]
            rows = (await conn.execute(select(*columns))).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out
