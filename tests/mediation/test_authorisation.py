"""The authorisation matrix: every role against every endpoint of the case system.

Three layers are checked: the declared roles (the table below must match what the endpoints
declare, so a change of policy is a visible change of this file), the role check (no credential
→ 401, a role not allowed → 403), and the row-level check (an allowed role with no part in the
case → 404, exactly as for a case that does not exist, and nothing changes in the database).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from signaling.openapi import api as registry

from .api_client import Api, User
from .conftest import MEDIATION_TAGS
from .doubles import START, id_number
from .scenario import case_with_filed_confirmation, cast_of_characters, database_snapshot, strangers

ACCOUNTS = {"party", "agent", "mediator", "org_admin", "court_clerk", "judge", "platform_admin"}
EVERYONE = ACCOUNTS | {"service"}
PUBLIC = {"public"}

#: (method, path) -> roles allowed. The policy, written out.
ALLOWED: dict[tuple[str, str], set[str]] = {
    ("POST", "/api/auth/code"): PUBLIC,
    ("POST", "/api/accounts/register"): PUBLIC,
    ("POST", "/api/accounts/staff"): {"org_admin", "platform_admin"},
    ("POST", "/api/auth/login"): PUBLIC,
    ("POST", "/api/auth/login/code"): PUBLIC,
    ("POST", "/api/auth/logout"): ACCOUNTS,
    ("GET", "/api/auth/me"): ACCOUNTS,
    ("POST", "/api/accounts/agents"): {"party"},
    ("GET", "/api/mediators"): PUBLIC,
    ("POST", "/api/cases"): {"party", "agent"},
    ("POST", "/api/cases/delegations"): {"court_clerk", "service"},
    ("GET", "/api/cases"): EVERYONE,
    ("GET", "/api/cases/{case_id}"): EVERYONE,
    ("GET", "/api/cases/{case_id}/timeline"): EVERYONE,
    ("GET", "/api/cases/{case_id}/audit"): EVERYONE,
    ("GET", "/api/cases/{case_id}/package"): {"party", "agent", "court_clerk", "judge", "platform_admin", "service"},
    ("GET", "/api/cases/{case_id}/package/contents"): {"party", "agent", "court_clerk", "judge", "platform_admin", "service"},
    ("GET", "/api/cases/{case_id}/package/members/{sha256}"): {"party", "agent", "court_clerk", "judge", "platform_admin", "service"},
    ("POST", "/api/cases/{case_id}/documents"): {"party", "agent", "mediator"},
    ("GET", "/api/cases/{case_id}/documents"): EVERYONE,
    ("GET", "/api/cases/{case_id}/documents/{document_id}"): EVERYONE,
    ("POST", "/api/cases/{case_id}/consent"): {"party", "agent"},
    ("POST", "/api/cases/{case_id}/mediator"): {"party", "agent"},
    ("POST", "/api/cases/{case_id}/assignment"): {"mediator"},
    ("POST", "/api/cases/{case_id}/messages"): {"party", "agent", "mediator"},
    ("GET", "/api/cases/{case_id}/messages"): {"party", "agent", "mediator", "platform_admin"},
    ("POST", "/api/cases/{case_id}/video"): {"mediator"},
    ("GET", "/api/cases/{case_id}/invitation"): {"party", "agent", "mediator", "court_clerk", "judge"},
    ("POST", "/api/cases/{case_id}/video/guest-links"): {"mediator"},
    ("POST", "/api/cases/{case_id}/video/conclude"): {"mediator"},
    ("GET", "/api/cases/{case_id}/recording-policy"): EVERYONE,
    ("PUT", "/api/cases/{case_id}/recording-policy"): {"mediator"},
    ("GET", "/api/cases/{case_id}/recordings"): {"party", "agent", "mediator", "court_clerk", "judge"},
    ("POST", "/api/cases/{case_id}/agreement"): {"mediator"},
    ("POST", "/api/cases/{case_id}/failure"): {"mediator"},
    ("POST", "/api/cases/{case_id}/rating"): {"party", "agent"},
    ("POST", "/api/cases/{case_id}/complaints"): {"party", "agent"},
    ("GET", "/api/complaints"): {"org_admin"},
    ("GET", "/api/cases/{case_id}/litigation-package"): EVERYONE,
    ("POST", "/api/cases/{case_id}/court/confirmation"): {"party", "agent"},
    ("POST", "/api/cases/{case_id}/court/payment-order"): {"party", "agent"},
    ("GET", "/api/cases/{case_id}/court/applications"): EVERYONE,
    ("GET", "/api/court/queue"): {"court_clerk", "judge"},
    ("GET", "/api/court/applications/{application_id}"): EVERYONE,
    ("POST", "/api/court/applications/{application_id}/acceptance"): {"court_clerk"},
    ("POST", "/api/court/applications/{application_id}/extension"): {"judge"},
    ("POST", "/api/court/applications/{application_id}/ruling"): {"judge"},
    ("GET", "/api/me/flags"): ACCOUNTS,
    ("GET", "/api/me/application-draft"): {"party", "agent"},  # before PUT: nobody has a draft yet
    ("PUT", "/api/me/application-draft"): {"party", "agent"},
    ("DELETE", "/api/me/application-draft"): {"party", "agent"},
    ("GET", "/api/me/desk"): {"mediator"},
    ("POST", "/api/cases/{case_id}/sessions"): {"mediator"},
    ("GET", "/api/cases/{case_id}/sessions"): EVERYONE,
    ("POST", "/api/cases/{case_id}/sessions/{session_id}/cancel"): {"mediator"},
    ("POST", "/api/deadlines/scan"): {"platform_admin", "service"},
    ("GET", "/api/court/applications/{application_id}/ruling.pdf"): {"party", "agent", "court_clerk", "judge"},
    ("GET", "/api/courts"): PUBLIC,
    ("POST", "/api/courts"): {"platform_admin"},  # last: once a court is listed, court names are checked
}

#: A valid body for each endpoint that takes one, so the only possible refusals are about who calls.
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/cases/{case_id}/consent"): {"consent": True},
    ("POST", "/api/cases/{case_id}/mediator"): {"mediator_id": "a_0000000000000000"},
    ("POST", "/api/cases/{case_id}/assignment"): {"accept": True},
    ("POST", "/api/cases/{case_id}/messages"): {"text": "hello", "side": "applicant"},
    ("POST", "/api/cases/{case_id}/video"): {},
    ("POST", "/api/cases/{case_id}/video/conclude"): {},
    ("POST", "/api/cases/{case_id}/video/guest-links"): {"side": "applicant"},
    ("POST", "/api/cases/{case_id}/sessions"): {"starts_at": (START + timedelta(days=1)).isoformat()},
    ("POST", "/api/cases/{case_id}/sessions/{session_id}/cancel"): {},
    ("PUT", "/api/cases/{case_id}/recording-policy"): {"mode": "joint"},
    ("POST", "/api/cases/{case_id}/agreement"): {},
    ("POST", "/api/cases/{case_id}/failure"): {"reasons": ["no"]},
    ("POST", "/api/cases/{case_id}/rating"): {"score": 1},
    ("POST", "/api/cases/{case_id}/complaints"): {"text": "bad"},
    ("POST", "/api/cases/{case_id}/court/confirmation"): {},
    ("POST", "/api/cases/{case_id}/court/payment-order"): {"no_other_debt_dispute": True,
                                                           "debtor_reachable_in_china": True,
                                                           "no_pre_suit_preservation": True},
    ("POST", "/api/court/applications/{application_id}/acceptance"): {"accept": True},
    ("POST", "/api/court/applications/{application_id}/extension"): {"reason": "busy"},
    ("POST", "/api/court/applications/{application_id}/ruling"): {"grant": True},
}
RAW = {("POST", "/api/cases/{case_id}/documents")}

#: Oversight callers see every case; what they then get is decided by the case's state
#: (settled, at court docking, confirmation filed), not by who they are.
OVERSIGHT_RESULT: dict[tuple[str, str], int] = {
    ("GET", "/api/cases/{case_id}/litigation-package"): 404,  # settled cases have none
    ("GET", "/api/cases/{case_id}/package/members/{sha256}"): 404,  # no member has that hash
}


def test_declared_roles_match_the_policy_table() -> None:
    declared = {(ep.method, ep.path): set(ep.allow) for ep in registry.endpoints if ep.tag in MEDIATION_TAGS}
    assert declared == ALLOWED


async def test_every_role_against_every_case_endpoint(api: Api, engine: AsyncEngine) -> None:
    c = await cast_of_characters(api)
    case_id, application_id = await case_with_filed_confirmation(api, c)
    (document,) = (await api.call("GET", f"/api/cases/{case_id}/documents", c["alice"], expect=200))["documents"]
    callers = await strangers(api, c)
    before = await database_snapshot(engine)
    scoped = [key for key in ALLOWED if "{" in key[1]]
    for method, template in scoped:
        allowed = ALLOWED[(method, template)]
        for role, who in callers.items():
            for target_case, target_app in ((case_id, application_id), ("CASE-0000000000", "J-0000000000")):
                # The case's real document under the missing case too: a document id grants nothing.
                path = template.replace("{case_id}", target_case).replace("{application_id}", target_app) \
                    .replace("{document_id}", document["id"]).replace("{session_id}", "VS-0").replace("{sha256}", "0" * 64)
                if (method, template) in RAW:
                    path += "?name=evidence.pdf"
                body = BODIES.get((method, template))
                raw = b"%PDF x" if (method, template) in RAW else None
                got = await api.client.request(
                    method, path, json=body if raw is None else None, data=raw,
                    headers={} if who is None else {"Authorization": f"Bearer {who.token if isinstance(who, User) else who}"})
                payload = await got.json() if got.content_type == "application/json" else await got.read()
                cell = (method, template, role, target_case)
                if who is None:
                    expected = 401
                elif role not in allowed:
                    expected = 403
                elif role in ("platform_admin", "service") and target_case == case_id:
                    expected = OVERSIGHT_RESULT.get((method, template), 200)
                else:
                    expected = 404
                assert got.status == expected, (cell, got.status, payload)
                if expected == 404 and role not in ("platform_admin", "service"):
                    # Nothing distinguishes someone else's case from a case that does not exist.
                    assert payload["error"]["code"] in ("case_not_found", "application_not_found"), (cell, payload)
                    assert "Alice" not in str(payload) and "Bob" not in str(payload)
    assert await database_snapshot(engine) == before


async def test_every_role_against_every_other_endpoint(api: Api) -> None:
    c = await cast_of_characters(api)
    case_id, _ = await case_with_filed_confirmation(api, c)
    callers = await strangers(api, c)
    carol = callers["party"]
    assert isinstance(carol, User)

    def request_for(key: tuple[str, str], role: str) -> tuple[dict[str, Any], bytes | None, str]:
        """A valid request for ``role`` (where the role has one) and its path."""
        method, path = key
        n = sorted(callers).index(role)
        if key == ("POST", "/api/auth/code"):
            return {"phone": f"1370000{n:04d}"}, None, path
        if key == ("POST", "/api/accounts/register"):
            return {"role": "party", "login": f"new{n}", "display_name": "New", "password": "x" * 12,
                    "phone": f"1360000{n:04d}", "id_number": id_number(100 + n), "code": "000000"}, None, path
        if key == ("POST", "/api/accounts/staff"):
            return {"role": "mediator", "login": f"staff{n}", "display_name": "Staff", "password": "x" * 12,
                    "organisation": "Wuhou Lawyers' Mediation Centre"}, None, path
        if key == ("POST", "/api/auth/login"):
            # One login per caller: the throttle counts failures per login (a test of its own).
            return {"channel": "party", "login": f"nobody{n}", "password": "wrong password"}, None, path
        if key == ("POST", "/api/auth/login/code"):
            return {"channel": "party", "phone": "13900000001", "code": "000000"}, None, path
        if key == ("POST", "/api/accounts/agents"):
            return {}, b"%PDF power of attorney", path + "?agent=dave&name=poa.pdf"
        if key in (("POST", "/api/cases"), ("POST", "/api/cases/delegations")):
            body = {"dispute_type": "loan", "claims": "c", "facts": "f",
                    "applicant": {"name": "X", "phone": f"1350000{n:04d}", "id_number": id_number(200 + n),
                                  "address": "a"},
                    "respondent": {"name": "Y", "phone": f"1340000{n:04d}", "id_number": id_number(300 + n),
                                   "address": "b"},
                    "court": "Chengdu Wuhou District People's Court"}
            if role in ("party", "agent"):  # parties apply as themselves, agents for the party they represent
                body["applicant"] = {"name": "Carol", "phone": carol.phone, "id_number": carol.id_number, "address": "a"}
            if role == "agent":
                body["on_behalf_of"] = carol.id
            return body, None, path
        if key == ("POST", "/api/courts"):
            return {"name": f"Court {n}", "region": "Chengdu"}, None, path
        if key == ("PUT", "/api/me/application-draft"):
            return {"data": {"claims": "c"}}, None, path
        return ({} if method == "POST" else None), None, path  # type: ignore[return-value]

    # Success where a role may act; the org admin's staff call is refused by the domain when
    # the organisation is not its own (403), the platform admin's succeeds.
    success = {("POST", "/api/auth/code"): 202, ("POST", "/api/accounts/staff"): 201,
               ("POST", "/api/accounts/agents"): 201, ("POST", "/api/cases"): 201,
               ("POST", "/api/cases/delegations"): 201, ("POST", "/api/courts"): 201,
               ("DELETE", "/api/me/application-draft"): 204}
    refused_anyway = {("POST", "/api/accounts/register"): 401, ("POST", "/api/auth/login"): 401,
                      ("POST", "/api/auth/login/code"): 401, ("GET", "/api/me/application-draft"): 404}
    order = [k for k in ALLOWED if "{" not in k[1] and k != ("POST", "/api/auth/logout")]
    order.append(("POST", "/api/auth/logout"))  # last: it ends the caller's session
    for key in order:
        allowed = ALLOWED[key]
        for role, who in callers.items():
            body, raw, path = request_for(key, role)
            headers = {} if who is None else {"Authorization": f"Bearer {who.token if isinstance(who, User) else who}"}
            if raw is not None:
                headers["Content-Type"] = "application/pdf"
            got = await api.client.request(key[0], path, json=body if raw is None else None, data=raw, headers=headers)
            payload = await got.json() if got.content_type == "application/json" else await got.read()
            if allowed != PUBLIC and who is None:
                expected = 401
            elif allowed != PUBLIC and role not in allowed:
                expected = 403
            elif key == ("POST", "/api/accounts/staff") and role == "org_admin":
                expected = 201  # a mediator of its own organisation
            else:
                expected = refused_anyway.get(key, success.get(key, 200))
            assert got.status == expected, (key, role, got.status, payload)
            if key == ("GET", "/api/cases") and expected == 200:
                listed = case_id in [x["id"] for x in payload]
                assert listed == (role in ("platform_admin", "service")), role
            if key in (("GET", "/api/court/queue"), ("GET", "/api/complaints")) and expected == 200:
                assert payload == [], (key, role)
