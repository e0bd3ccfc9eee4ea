"""The authorisation matrix over the whole server, generated from the API registry.

Every endpoint ``/api/openapi.json`` describes must have a row in :data:`ROWS` (a missing or stale
row fails :func:`test_every_endpoint_has_a_row`); each row is the policy written out, one line:
who may call it and, for a path naming an object, what kind of object. One server, one world
(a settled case at court, its agreement and documents, a room, a webhook, a directory entry, an API
key), then every endpoint with every caller: nobody, one person per role with no part in that world
(another case's party, an agent, a mediator of the same organisation who is not the case's,
another organisation's administrator, another court's clerk and judge), the platform
administrator, and an API key for each scope. Expected:

* 401 for nobody on a non-public endpoint; 403 for a role the row does not allow, and for a key
  whose scope is not the endpoint's;
* for an allowed caller on someone else's object: the 404 of an object that does not exist
  (platform administrators and keys with the scope reach every object: never 401/403 there);
* never a server error, for anyone.

Likewise every Socket.IO event the server registers (:data:`EVENTS`): from a connection that never
joined, and from a stranger joined to a room of their own naming a seat of the world's room, which
must not change. New endpoints add one line to :data:`ROWS`, new events one to :data:`EVENTS`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator

import pytest
import socketio
from aiohttp import DummyCookieJar
from aiohttp.test_utils import TestClient, TestServer

from signaling.api.accounts import SERVICES_KEY
from signaling.api.rooms import HUB_KEY
from signaling.app import create_app
from signaling.auth import API_KEYS_KEY, SCOPES
from signaling.config import load_settings
from signaling.openapi import api as registry

from ..mediation.api_client import Api, User, application_body
from ..mediation.doubles import MemorySms
from ..mediation.helpers import PASSWORD
from ..mediation.scenario import case_with_filed_confirmation, cast_of_characters, strangers

ACCOUNTS = frozenset({"party", "agent", "mediator", "org_admin", "court_clerk", "judge", "platform_admin"})
EVERYONE = ACCOUNTS | {"service"}
PUBLIC = frozenset({"public"})
#: Callers who reach every object of a kind their role may touch at all.
OVERSIGHT = frozenset({"platform_admin", "service"})


@dataclass(frozen=True)
class Row:
    allow: frozenset[str]
    #: The kind of object the path names (its first parameter); ``None``: none, or public.
    owner: str | None = None
    #: What an allowed caller without a part in that object gets (the object-not-found answer).
    foreign: int = 404


def row(allow: frozenset[str] | set[str], owner: str | None = None, foreign: int = 404) -> Row:
    return Row(frozenset(allow), owner, foreign)


#: (method, path) -> the policy. One line per endpoint.
ROWS: dict[tuple[str, str], Row] = {
    ("POST", "/api/auth/code"): row(PUBLIC),
    ("POST", "/api/accounts/register"): row(PUBLIC),
    ("POST", "/api/accounts/staff"): row({"org_admin", "platform_admin"}),
    ("POST", "/api/auth/login"): row(PUBLIC),
    ("POST", "/api/auth/login/code"): row(PUBLIC),
    ("POST", "/api/auth/logout"): row(ACCOUNTS),
    ("GET", "/api/auth/me"): row(ACCOUNTS),
    ("POST", "/api/accounts/agents"): row({"party"}),
    ("GET", "/api/mediators"): row(PUBLIC),
    ("POST", "/tsa"): row(PUBLIC),
    ("GET", "/pki/{name}"): row(PUBLIC),
    ("GET", "/api/agreements/{agreement_id}"): row({"mediator", "org_admin", "platform_admin", "service"}, "agreement"),
    ("PUT", "/api/agreements/{agreement_id}"): row({"mediator", "org_admin", "platform_admin", "service"}, "agreement"),
    ("GET", "/api/agreements/{agreement_id}/preview.pdf"): row({"mediator", "org_admin", "platform_admin", "service"}, "agreement"),
    ("POST", "/api/agreements/{agreement_id}/versions/{version}/lock"): row({"mediator", "org_admin", "platform_admin", "service"}, "agreement"),
    ("GET", "/api/agreements/{agreement_id}/versions/{version}/pdf"): row({"mediator", "org_admin", "platform_admin", "service"}, "agreement"),
    ("POST", "/api/agreements/{agreement_id}/preview"): row({"mediator", "org_admin", "platform_admin", "service"}, "agreement"),
    ("GET", "/api/agreements/{agreement_id}/previews/{sha256}/pages/{page}"): row({"mediator", "org_admin", "platform_admin", "service"}, "agreement"),
    ("GET", "/api/agreement-templates"): row({"mediator", "org_admin", "platform_admin", "service"}),
    ("POST", "/api/agreements/{agreement_id}/signing-links"): row({"mediator", "org_admin", "platform_admin", "service"}, "agreement"),
    ("POST", "/api/agreements/{agreement_id}/seal"): row({"org_admin", "service"}, "agreement"),
    ("POST", "/api/agreements/{agreement_id}/identity-checks"): row({"service"}, "agreement"),
    ("POST", "/api/sign/identity/simulate"): row(PUBLIC),
    ("GET", "/api/sign/session"): row(PUBLIC),
    ("GET", "/api/cases/{case_id}/signing"): row({"agent", "mediator", "party"}, "case"),
    ("GET", "/api/cases/{case_id}/agreement.pdf"): row(ACCOUNTS, "case"),
    ("GET", "/api/sign/pages/{page}"): row(PUBLIC),
    ("GET", "/api/sign/document.pdf"): row(PUBLIC),
    ("POST", "/api/sign/begin"): row(PUBLIC),
    ("POST", "/api/sign/enroll"): row(PUBLIC),
    ("POST", "/api/sign/prepare"): row(PUBLIC),
    ("GET", "/api/sign/prepared.pdf"): row(PUBLIC),
    ("POST", "/api/sign/complete"): row(PUBLIC),
    ("POST", "/api/verify"): row(PUBLIC),
    ("POST", "/api/cases"): row({"agent", "party"}),
    ("POST", "/api/cases/delegations"): row({"court_clerk", "service"}),
    ("GET", "/api/cases"): row(EVERYONE),
    ("GET", "/api/cases/{case_id}"): row(EVERYONE, "case"),
    ("GET", "/api/cases/{case_id}/timeline"): row(EVERYONE, "case"),
    ("GET", "/api/cases/{case_id}/audit"): row(EVERYONE, "case"),
    ("GET", "/api/cases/{case_id}/package"): row({"agent", "court_clerk", "judge", "party", "platform_admin", "service"}, "case"),
    ("GET", "/api/cases/{case_id}/package/contents"): row({"agent", "court_clerk", "judge", "party", "platform_admin", "service"}, "case"),
    ("GET", "/api/cases/{case_id}/package/members/{sha256}"): row({"agent", "court_clerk", "judge", "party", "platform_admin", "service"}, "case"),
    ("POST", "/api/cases/{case_id}/documents"): row({"agent", "mediator", "party"}, "case"),
    ("GET", "/api/cases/{case_id}/documents"): row(EVERYONE, "case"),
    ("GET", "/api/cases/{case_id}/documents/{document_id}"): row(EVERYONE, "case"),
    ("POST", "/api/cases/{case_id}/consent"): row({"agent", "party"}, "case"),
    ("POST", "/api/cases/{case_id}/mediator"): row({"agent", "party"}, "case"),
    ("POST", "/api/cases/{case_id}/assignment"): row({"mediator"}, "case"),
    ("POST", "/api/cases/{case_id}/messages"): row({"agent", "mediator", "party"}, "case"),
    ("GET", "/api/cases/{case_id}/messages"): row({"agent", "mediator", "party", "platform_admin"}, "case"),
    ("POST", "/api/cases/{case_id}/video"): row({"mediator"}, "case"),
    ("GET", "/api/cases/{case_id}/invitation"): row({"agent", "court_clerk", "judge", "mediator", "party"}, "case"),
    ("POST", "/api/cases/{case_id}/video/guest-links"): row({"mediator"}, "case"),
    ("POST", "/api/cases/{case_id}/video/conclude"): row({"mediator"}, "case"),
    ("POST", "/api/cases/{case_id}/agreement"): row({"mediator"}, "case"),
    ("POST", "/api/cases/{case_id}/failure"): row({"mediator"}, "case"),
    ("POST", "/api/cases/{case_id}/rating"): row({"agent", "party"}, "case"),
    ("POST", "/api/cases/{case_id}/complaints"): row({"agent", "party"}, "case"),
    ("GET", "/api/complaints"): row({"org_admin"}),
    ("GET", "/api/cases/{case_id}/litigation-package"): row(EVERYONE, "case"),
    ("POST", "/api/cases/{case_id}/court/confirmation"): row({"agent", "party"}, "case"),
    ("POST", "/api/cases/{case_id}/court/payment-order"): row({"agent", "party"}, "case"),
    ("GET", "/api/cases/{case_id}/court/applications"): row(EVERYONE, "case"),
    ("GET", "/api/court/queue"): row({"court_clerk", "judge"}),
    ("GET", "/api/court/applications/{application_id}"): row(EVERYONE, "application"),
    ("POST", "/api/court/applications/{application_id}/acceptance"): row({"court_clerk"}, "application"),
    ("POST", "/api/court/applications/{application_id}/extension"): row({"judge"}, "application"),
    ("POST", "/api/court/applications/{application_id}/ruling"): row({"judge"}, "application"),
    ("GET", "/api/court/applications/{application_id}/ruling.pdf"): row({"agent", "court_clerk", "judge", "party"}, "application"),
    ("GET", "/api/courts"): row(PUBLIC),
    ("POST", "/api/courts"): row({"platform_admin"}),
    ("GET", "/api/me/flags"): row(ACCOUNTS),
    # The caller's own draft and desk: no object named, nothing of anyone else's to reach.
    ("GET", "/api/me/application-draft"): row({"agent", "party"}),
    ("PUT", "/api/me/application-draft"): row({"agent", "party"}),
    ("DELETE", "/api/me/application-draft"): row({"agent", "party"}),
    ("GET", "/api/me/desk"): row({"mediator"}),
    ("POST", "/api/cases/{case_id}/sessions"): row({"mediator"}, "case"),
    ("GET", "/api/cases/{case_id}/sessions"): row(EVERYONE, "case"),
    ("POST", "/api/cases/{case_id}/sessions/{session_id}/cancel"): row({"mediator"}, "case"),
    ("POST", "/api/deadlines/scan"): row({"platform_admin", "service"}),
    ("GET", "/api/directory/categories"): row(PUBLIC),
    ("GET", "/api/directory/organisations"): row(PUBLIC),
    ("GET", "/api/directory/organisations/{organisation_id}"): row(PUBLIC),
    ("POST", "/api/directory/organisations"): row({"platform_admin"}),
    ("GET", "/api/directory/mediators"): row(PUBLIC),
    ("GET", "/api/directory/mediators/{mediator_id}"): row(PUBLIC, "mediator"),
    # Profiles are public: another organisation's administrator is told no, not "no such mediator".
    ("PUT", "/api/directory/mediators/{mediator_id}"): row({"org_admin", "platform_admin"}, "mediator", foreign=403),
    ("GET", "/api/directory/recommendations"): row(PUBLIC),
    ("GET", "/api/cases/{case_id}/recommendations"): row({"agent", "org_admin", "party", "platform_admin", "service"}, "case"),
    ("GET", "/api/statistics/cases"): row({"court_clerk", "judge", "org_admin", "platform_admin"}),
    ("GET", "/api/statistics/mediators"): row({"court_clerk", "judge", "org_admin", "platform_admin"}),
    ("GET", "/api/statistics/dashboard"): row({"court_clerk", "judge", "mediator", "org_admin", "platform_admin"}),
    ("GET", "/api/statistics/dashboard.csv"): row({"court_clerk", "judge", "mediator", "org_admin", "platform_admin"}),
    ("GET", "/api/statistics/public"): row(PUBLIC),
    ("GET", "/api/guidance/answer"): row(PUBLIC),
    ("GET", "/api/guidance/entries"): row(PUBLIC),
    ("PUT", "/api/guidance/entries/{entry_id}"): row({"platform_admin"}),
    ("DELETE", "/api/guidance/entries/{entry_id}"): row({"platform_admin"}),
    ("GET", "/api/guidance/unanswered"): row({"platform_admin"}),
    ("POST", "/api/guidance/consultations"): row(PUBLIC),
    ("GET", "/api/guidance/consultations"): row({"org_admin", "platform_admin"}),
    ("POST", "/api/guidance/diagnosis"): row(PUBLIC),
    ("GET", "/api/guidance/estimate"): row(PUBLIC),
    ("GET", "/api/guidance/similar-cases"): row(PUBLIC),
    ("GET", "/api/notifications"): row(ACCOUNTS),
    ("POST", "/api/notifications/{notification_id}/read"): row(ACCOUNTS, "notification"),
    ("GET", "/api/notifications/preferences"): row(ACCOUNTS),
    ("PUT", "/api/notifications/preferences"): row(ACCOUNTS),
    ("POST", "/api/rooms"): row({"mediator", "org_admin", "platform_admin", "service"}),
    ("GET", "/api/rooms/{room_id}"): row({"mediator", "org_admin", "platform_admin", "service"}, "room"),
    ("POST", "/api/rooms/{room_id}/invites"): row({"mediator", "org_admin", "platform_admin", "service"}, "room"),
    ("DELETE", "/api/rooms/{room_id}"): row({"mediator", "org_admin", "platform_admin", "service"}, "room"),
    ("GET", "/api/cases/{case_id}/recording-policy"): row(EVERYONE, "case"),
    ("PUT", "/api/cases/{case_id}/recording-policy"): row({"mediator"}, "case"),
    ("GET", "/api/cases/{case_id}/recordings"): row({"agent", "court_clerk", "judge", "mediator", "party"}, "case"),
    # A link names one file for one account: a stranger's (forged) link leads nowhere.
    ("GET", "/api/recordings/media/{token}"): row({"agent", "court_clerk", "judge", "mediator", "party"}, "link"),
    ("GET", "/api/cases/{case_id}/identity"): row({"agent", "mediator", "party"}, "case"),
    ("PUT", "/api/cases/{case_id}/identity"): row({"agent", "mediator", "party"}, "case"),
    ("DELETE", "/api/cases/{case_id}/identity"): row({"agent", "mediator", "party"}, "case"),
    ("GET", "/api/cases/{case_id}/identity/enrolments"): row({"mediator", "platform_admin"}, "case"),
    ("GET", "/api/sign/identity"): row(PUBLIC),
    ("POST", "/api/sign/identity/sessions"): row(PUBLIC),
    ("POST", "/api/sign/identity/sessions/{session_id}/offer"): row(PUBLIC),
    ("GET", "/api/sign/identity/sessions/{session_id}"): row(PUBLIC),
    ("POST", "/api/sign/identity/code"): row(PUBLIC),
    ("POST", "/api/sign/identity/code/verify"): row(PUBLIC),
    ("GET", "/healthz"): row(PUBLIC),
    ("GET", "/api/openapi.json"): row(PUBLIC),
    ("POST", "/api/webhooks"): row({"platform_admin", "service"}),
    ("GET", "/api/webhooks"): row({"platform_admin", "service"}),
    ("DELETE", "/api/webhooks/{webhook_id}"): row({"platform_admin", "service"}, "webhook"),
    ("GET", "/api/webhooks/{webhook_id}/deliveries"): row({"platform_admin", "service"}, "webhook"),
    ("GET", "/api/admin/api-keys"): row({"platform_admin"}),
    ("POST", "/api/admin/api-keys"): row({"platform_admin"}),
    ("DELETE", "/api/admin/api-keys/{key_id}"): row({"platform_admin"}),
}


def test_every_endpoint_has_a_row() -> None:
    """Generated from the registry: an endpoint without a row (or a row without an endpoint) fails,
    and each row's roles are the ones the endpoint declares."""
    declared = {(ep.method, ep.path): ep.allow for ep in registry.endpoints}
    assert not declared.keys() - ROWS.keys(), f"endpoints without a row: {sorted(declared.keys() - ROWS.keys())}"
    assert not ROWS.keys() - declared.keys(), f"rows without an endpoint: {sorted(ROWS.keys() - declared.keys())}"
    assert {k: ROWS[k].allow for k in declared} == declared


#: A valid body where an endpoint takes one, so that what is refused is the caller, not the body.
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/auth/code"): {"phone": "13700009999"},
    ("POST", "/api/auth/login"): {"channel": "party", "login": "nobody", "password": "wrong password"},
    ("POST", "/api/auth/login/code"): {"channel": "party", "phone": "13900000001", "code": "000000"},
    ("POST", "/api/accounts/staff"): {"role": "mediator", "login": "matrix-staff", "display_name": "Staff",
                                      "password": "x" * 12, "organisation": "Wuhou Lawyers' Mediation Centre"},
    ("PUT", "/api/agreements/{agreement_id}"): {"data": {}},
    ("POST", "/api/agreements/{agreement_id}/seal"): {"version": 1},
    ("POST", "/api/agreements/{agreement_id}/identity-checks"): {"payload": "e30="},
    ("POST", "/api/agreements/{agreement_id}/preview"): {"data": {}},
    ("POST", "/api/agreements/{agreement_id}/signing-links"): {"field_name": "sig_01_party_applicant"},
    ("POST", "/api/cases/{case_id}/consent"): {"consent": True},
    ("POST", "/api/cases/{case_id}/mediator"): {"mediator_id": "a_0000000000000000"},
    ("POST", "/api/cases/{case_id}/assignment"): {"accept": True},
    ("POST", "/api/cases/{case_id}/messages"): {"text": "hello", "side": "applicant"},
    ("POST", "/api/cases/{case_id}/video/guest-links"): {"side": "applicant"},
    ("POST", "/api/cases/{case_id}/failure"): {"reasons": ["no"]},
    ("POST", "/api/cases/{case_id}/rating"): {"score": 1},
    ("POST", "/api/cases/{case_id}/complaints"): {"text": "bad"},
    ("POST", "/api/cases/{case_id}/court/payment-order"): {"no_other_debt_dispute": True,
                                                           "debtor_reachable_in_china": True,
                                                           "no_pre_suit_preservation": True},
    ("POST", "/api/court/applications/{application_id}/acceptance"): {"accept": True},
    ("POST", "/api/court/applications/{application_id}/extension"): {"reason": "busy"},
    ("POST", "/api/court/applications/{application_id}/ruling"): {"grant": True},
    ("POST", "/api/rooms"): {"case_id": "MATRIX-1"},
    ("POST", "/api/rooms/{room_id}/invites"): {"role": "party", "side": "applicant", "name": "Mallory"},
    ("POST", "/api/webhooks"): {"url": "https://93.184.216.34/hook", "kinds": ["*"]},
    ("POST", "/api/admin/api-keys"): {"name": "matrix-new", "scopes": ["rooms"], "expires_in_days": 1},
    ("PUT", "/api/notifications/preferences"): {"by_sms": False, "by_email": False},
    ("PUT", "/api/cases/{case_id}/recording-policy"): {"mode": "joint"},
    # A valid body (the photo is checked after the caller's part in the case): the caller is what is refused.
    ("PUT", "/api/cases/{case_id}/identity"): {"name": "Mallory", "id_type": "resident_id",
                                              "id_number": "11010519491231002X", "reference_source": "id_card",
                                              "photo": "aGVsbG8=", "consent": True, "consent_version": "1"},
    ("POST", "/api/sign/identity/sessions"): {"field_name": "sig_01_party_applicant"},
    ("POST", "/api/sign/identity/sessions/{session_id}/offer"): {"field_name": "sig_01_party_applicant", "sdp": "v=0"},
    ("POST", "/api/sign/identity/code"): {"field_name": "sig_01_party_applicant"},
    ("POST", "/api/sign/identity/code/verify"): {"field_name": "sig_01_party_applicant", "code": "000000"},
    ("PUT", "/api/directory/mediators/{mediator_id}"): {"category": "lawyer", "region": "Chengdu"},
    ("PUT", "/api/guidance/entries/{entry_id}"): {"topic": "t", "question_zh": "问", "question_en": "q",
                                                  "answer_zh": "答", "answer_en": "a", "source": "s"},
    ("POST", "/api/guidance/consultations"): {"organisation_id": "o_0000000000000000", "name": "Mallory",
                                              "phone": "13900000000", "question": "help"},
    ("POST", "/api/guidance/diagnosis"): {"dispute_type": "loan", "relationship": "stranger", "written_evidence": True},
    ("POST", "/api/courts"): {"name": "Matrix Court", "region": "Chengdu"},
    ("PUT", "/api/me/application-draft"): {"data": {"claims": "matrix"}},
    ("POST", "/api/cases/{case_id}/sessions"): {
        "starts_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat(), "duration_minutes": 60},
    ("POST", "/api/directory/organisations"): {"name": "Matrix Org", "category": "peoples", "region": "Chengdu",
                                               "address": "1 Road", "contact": "028"},
}
#: Uploads: the body is bytes of this type.
RAW: dict[tuple[str, str], str] = {
    ("POST", "/api/cases/{case_id}/documents"): "application/pdf",
    ("POST", "/api/accounts/agents"): "application/pdf",
    ("POST", "/api/verify"): "application/pdf",
    ("POST", "/tsa"): "application/timestamp-query",
}


@dataclass
class World:
    api: Api
    values: dict[str, str]  # path parameter -> the world's object
    callers: dict[str, User | str | None]  # "party", ..., "key:<scope>"
    room_id: str
    room_seat: str


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    app = create_app(load_settings(data_dir=tmp_path / "data", port=0))
    services = app[SERVICES_KEY]
    sms = MemorySms()
    services.accounts.sms = services.cases.sms = sms  # codes read by the test, not from a file
    client = TestClient(TestServer(app), cookie_jar=DummyCookieJar())
    await client.start_server()
    try:
        await services.accounts.bootstrap_admin("root", "Platform Admin", PASSWORD)
        keys = {scope: (await app[API_KEYS_KEY].create(f"matrix-{scope.replace(':', '-')}", {scope})).key for scope in SCOPES}
        api = Api(client, services, sms, (await app[API_KEYS_KEY].create("matrix-all", set(SCOPES))).key)
        c = await cast_of_characters(api)
        case_id, application_id = await case_with_filed_confirmation(api, c, effective_at=dt.datetime.now(dt.UTC))
        callers = await strangers(api, c)
        carol = callers["party"]
        assert isinstance(carol, User)
        await api.call("POST", "/api/cases", carol, json=application_body(carol, c["bob"]), expect=201)
        del callers["service"]
        callers.update({f"key:{scope}": key for scope, key in keys.items()})
        (document,) = (await api.call("GET", f"/api/cases/{case_id}/documents", c["alice"], expect=200))["documents"]
        agreement = await services.agreements.of_case(case_id)
        room = await api.call("POST", "/api/rooms", c["mediator"], json={"case_id": "WORLD-1"}, expect=201)
        seat = await api.call("POST", f"/api/rooms/{room['room_id']}/invites", c["mediator"], expect=201,
                              json={"role": "party", "side": "applicant", "name": "Alice"})
        hook = await api.call("POST", "/api/webhooks", c["admin"], expect=201, json=BODIES[("POST", "/api/webhooks")])
        spare_key = await app[API_KEYS_KEY].create("matrix-spare", {"rooms"})  # what the revocation row revokes
        org = await api.call("POST", "/api/directory/organisations", c["admin"], expect=201,
                             json=BODIES[("POST", "/api/directory/organisations")] | {"name": "World Org"})
        inbox = await api.call("GET", "/api/notifications", c["alice"], expect=200)
        notification = inbox["items"][0]["id"] if inbox.get("items") else "n_0000000000000000"
        values = {"case_id": case_id, "application_id": application_id, "document_id": document["id"],
                  "agreement_id": agreement.id if agreement else "ag_0000000000000000", "version": "1",
                  "sha256": "0" * 64, "page": "1", "room_id": room["room_id"], "webhook_id": hook["id"],
                  "notification_id": notification, "organisation_id": org["id"], "mediator_id": c["mediator"].id,
                  "name": "root.crt", "token": "forged-link",
                  "session_id": "ids_0000000000000000", "key_id": spare_key.info.id, "entry_id": "matrix-entry"}
        yield World(api, values, callers, room["room_id"], seat["seat"])
    finally:
        await client.close()


#: Public endpoints check what they check themselves (a signing link, a login): any answer but a server error.
ANY = 0


def _expected(key: tuple[str, str], scope: str | None, caller: str) -> int | None:
    """The status the matrix requires; ``None``: the gate lets the caller through (anything but
    401, 403 and a server error); :data:`ANY`: anything but a server error."""
    policy = ROWS[key]
    if policy.allow == PUBLIC:
        return ANY
    if caller == "anonymous":
        return 401
    if caller.startswith("key:"):
        if "service" not in policy.allow or caller != f"key:{scope}":
            return 403
        return None  # keys with the scope reach every object of it
    if caller not in policy.allow:
        return 403
    if policy.owner is None or caller in OVERSIGHT:
        return None
    return policy.foreign


async def test_every_endpoint_with_every_caller(world: World) -> None:
    api = world.api
    document = await api.call("GET", "/api/openapi.json", expect=200)
    served = [(method.upper(), path) for path, ops in document["paths"].items() for method in ops]
    assert len(served) > 80
    served.sort(key=lambda k: k == ("POST", "/api/auth/logout"))  # last: it ends the caller's session
    scopes = {(ep.method, ep.path): ep.scope for ep in registry.endpoints}
    failures: list[str] = []
    for key in served:
        method, template = key
        path = template
        for name, value in world.values.items():
            path = path.replace("{" + name + "}", value)
        assert "{" not in path, path
        for n, (caller, who) in enumerate(world.callers.items()):
            headers = {} if who is None else {"Authorization": f"Bearer {who.token if isinstance(who, User) else who}"}
            body = BODIES.get(key, {} if method in ("POST", "PUT") else None)
            data = None
            if key in RAW:
                headers["Content-Type"] = RAW[key]
                body, data = None, b"%PDF-1.7 matrix"
            if key == ("POST", "/api/auth/login"):
                body = body | {"login": f"nobody{n}"}  # the throttle counts per login
            response = await api.client.request(method, path, json=body, data=data, headers=headers)
            got = response.status
            await response.read()
            expected = _expected(key, scopes[key], caller)
            if got >= 500 or (expected is None and got in (401, 403)) or (expected not in (None, ANY) and got != expected):
                failures.append(f"{method} {template} as {caller}: {got}, expected {expected or 'not 401/403'}")
    assert not failures, "\n".join(failures)


#: Every Socket.IO event: the payload a stranger sends naming the world room's seat (``SEAT``).
SEAT = "{seat}"
EVENTS: dict[str, dict[str, Any]] = {
    "join": {"token": "forged"},
    "leave": {},
    "rtc:offer": {"sdp": "v=0"},
    "rtc:answer": {"sdp": "v=0"},
    "media:state": {"audio": True, "video": True},
    "chat:send": {"text": "hello from elsewhere"},
    "mod:admit": {"seat": SEAT},
    "mod:mute": {"seat": SEAT, "kind": "audio", "muted": True},
    "mod:permit": {"seat": SEAT, "publish": False},
    "mod:remove": {"seat": SEAT},
    "mod:end": {},
    "caucus:start": {"side": "applicant"},
    "caucus:end": {},
    "case:follow": {"case_id": "{case_id}"},
    "case:unfollow": {"case_id": "{case_id}"},
    "rec:start": {},
    "rec:stop": {},
    "rec:consent": {"consent": True},
    "guide:ask": {"question": "人民调解收费吗"},
}
#: Events a connection may send before joining a room (the rest answer ``not_joined``).
BEFORE_JOIN = {"join": "token_invalid", "case:follow": "unauthenticated", "case:unfollow": None, "guide:ask": None}


def _payload(event: str, world: World) -> dict[str, Any]:
    return {k: v.replace(SEAT, world.room_seat).replace("{case_id}", world.values["case_id"]) if isinstance(v, str)
            else v for k, v in EVENTS[event].items()}


async def test_every_socket_event_with_a_foreign_room(world: World) -> None:
    api = world.api
    sio_server = api.client.app[HUB_KEY].sio
    registered = {name for name in sio_server.handlers["/"] if name not in ("connect", "disconnect", "*")}
    assert registered == EVENTS.keys(), f"events without a row: {registered - EVENTS.keys()}"
    url = str(api.client.make_url("/"))
    hub = api.client.app[HUB_KEY]
    victim = socketio.AsyncClient(reconnection=False)
    stranger = socketio.AsyncClient(reconnection=False)
    unjoined = socketio.AsyncClient(reconnection=False)
    try:
        # The world's room has someone in it (its mediator, who admits nobody meanwhile).
        invite = await api.call("POST", f"/api/rooms/{world.room_id}/invites", api.service_key, expect=201,
                                json={"role": "mediator", "name": "World mediator"})
        other_mediator = world.callers["mediator"]
        assert isinstance(other_mediator, User)
        for client in (victim, unjoined):
            await client.connect(url, transports=["websocket"])
        # The stranger is signed in: their session cookie rides on the socket (case:follow reads it).
        await stranger.connect(url, transports=["websocket"], headers={"Cookie": f"accord_session={other_mediator.token}"})
        assert (await victim.call("join", {"token": invite["token"]}, timeout=10))["ok"]
        before = hub.rooms[world.room_id].room.snapshot_for(invite["seat"])
        for event in EVENTS:
            ack = await unjoined.call(event, _payload(event, world), timeout=10)
            code = BEFORE_JOIN.get(event, "not_joined")
            if code is None:
                assert ack["ok"], (event, ack)
            else:
                assert ack["ok"] is False and ack["error"]["code"] == code, (event, ack)
        # A stranger (the other mediator) joined to a room of their own, naming the world room's seat.
        own = await api.call("POST", "/api/rooms", world.callers["key:rooms"], expect=201, json={"case_id": "OWN-1"})
        own_invite = await api.call("POST", f"/api/rooms/{own['room_id']}/invites", world.callers["key:rooms"],
                                    expect=201, json={"role": "mediator", "name": "Stranger"})
        assert (await stranger.call("join", {"token": own_invite["token"]}, timeout=10))["ok"]
        for event in sorted(EVENTS, key=lambda name: name == "leave"):  # leaving last: it ends the stranger's seat
            if event in ("join", "mod:end"):
                continue
            ack = await stranger.call(event, _payload(event, world), timeout=10)
            if event.startswith("mod:") and "seat" in EVENTS[event]:
                assert ack["ok"] is False and ack["error"]["code"] == "unknown_seat", (event, ack)
            if event == "case:follow":  # another mediator's case: as if it did not exist
                assert ack["ok"] is False and ack["error"]["code"] == "not_found", ack
        await asyncio.sleep(0.2)
        assert hub.rooms[world.room_id].room.snapshot_for(invite["seat"]) == before
        assert not await hub.store.is_removed(world.room_id, world.room_seat, None)
    finally:
        for client in (victim, stranger, unjoined):
            await client.disconnect()
