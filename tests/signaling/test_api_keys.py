"""Least privilege for integrating systems, against a real server: an API key opens exactly the
endpoints of its scopes, expiry and revocation hold at the next request (revocation also from the
command line of another process), and every endpoint open to keys declares its scope — checked
by walking the registry, so a new endpoint without one fails here."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

import signaling.app  # noqa: F401  (registers every API module)
from signaling.api.rooms import SETTINGS_KEY
from signaling.auth import API_KEYS_KEY, SCOPES, Principal, require_scope
from signaling.errors import ApiError
from signaling.openapi import ApiRegistry, api, scope_for
from tests.mediation.doubles import id_number

#: (method, path) -> the scope an API key needs. The least-privilege policy, written out: a change
#: of what a key may do is a visible change of this table (and of the README's list).
SCOPE_POLICY: dict[tuple[str, str], str] = {
    ("POST", "/api/rooms"): "rooms",
    ("GET", "/api/rooms/{room_id}"): "rooms",
    ("POST", "/api/rooms/{room_id}/invites"): "rooms",
    ("DELETE", "/api/rooms/{room_id}"): "rooms",
    ("GET", "/api/cases"): "cases:read",
    ("GET", "/api/cases/{case_id}"): "cases:read",
    ("GET", "/api/cases/{case_id}/timeline"): "cases:read",
    ("GET", "/api/cases/{case_id}/audit"): "cases:read",
    ("GET", "/api/cases/{case_id}/package"): "cases:read",
    ("GET", "/api/cases/{case_id}/package/contents"): "cases:read",
    ("GET", "/api/cases/{case_id}/package/members/{sha256}"): "cases:read",
    ("GET", "/api/cases/{case_id}/documents"): "cases:read",
    ("GET", "/api/cases/{case_id}/documents/{document_id}"): "cases:read",
    ("GET", "/api/cases/{case_id}/recommendations"): "cases:read",
    ("GET", "/api/cases/{case_id}/recording-policy"): "cases:read",
    ("GET", "/api/cases/{case_id}/sessions"): "cases:read",
    ("POST", "/api/cases/delegations"): "cases:write",
    ("POST", "/api/deadlines/scan"): "cases:write",
    ("GET", "/api/cases/{case_id}/litigation-package"): "court",
    ("GET", "/api/cases/{case_id}/court/applications"): "court",
    ("GET", "/api/court/applications/{application_id}"): "court",
    ("GET", "/api/agreements/{agreement_id}"): "agreements",
    ("PUT", "/api/agreements/{agreement_id}"): "agreements",
    ("GET", "/api/agreements/{agreement_id}/preview.pdf"): "agreements",
    ("POST", "/api/agreements/{agreement_id}/versions/{version}/lock"): "agreements",
    ("GET", "/api/agreements/{agreement_id}/versions/{version}/pdf"): "agreements",
    ("POST", "/api/agreements/{agreement_id}/preview"): "agreements",
    ("GET", "/api/agreements/{agreement_id}/previews/{sha256}/pages/{page}"): "agreements",
    ("GET", "/api/agreement-templates"): "agreements",
    ("POST", "/api/agreements/{agreement_id}/signing-links"): "agreements",
    ("POST", "/api/agreements/{agreement_id}/seal"): "agreements",
    ("POST", "/api/agreements/{agreement_id}/identity-checks"): "identity-provider",
    ("POST", "/api/webhooks"): "webhooks",
    ("GET", "/api/webhooks"): "webhooks",
    ("DELETE", "/api/webhooks/{webhook_id}"): "webhooks",
    ("GET", "/api/webhooks/{webhook_id}/deliveries"): "webhooks",
}


def without_scope(registry: ApiRegistry) -> list[str]:
    """Endpoints the ``service`` role may call that name no known scope."""
    return [f"{ep.method} {ep.path}" for ep in registry.endpoints
            if "service" in ep.allow and ep.scope not in SCOPES]


def test_every_endpoint_open_to_api_keys_declares_a_scope() -> None:
    assert without_scope(api) == []
    assert all(ep.scope is None for ep in api.endpoints if "service" not in ep.allow)


def test_the_registry_walk_catches_an_endpoint_without_a_scope() -> None:
    registry = ApiRegistry()

    @registry.route("POST", "/api/new", summary="new", allow=frozenset({"service"}), tag="new-feature")
    async def new_endpoint(_: Any, __: Any) -> dict[str, str]:
        return {}

    assert without_scope(registry) == ["POST /api/new"]
    # Until it names one, the endpoint stays closed to every key, even one holding every scope.
    every_scope = Principal("apikey:all", frozenset({"service"}), kind="service", scopes=frozenset(SCOPES))
    with pytest.raises(ApiError) as refused:
        require_scope(every_scope, registry.endpoints[0].scope)
    assert (refused.value.status, refused.value.code) == (403, "insufficient_scope")


def test_declared_scopes_match_the_policy_table() -> None:
    assert {(ep.method, ep.path): ep.scope for ep in api.endpoints if ep.scope is not None} == SCOPE_POLICY


def test_scopes_are_checked_where_they_are_declared() -> None:
    assert scope_for("GET", "cases", frozenset({"service"}), None) == "cases:read"
    assert scope_for("POST", "cases", frozenset({"service"}), None) == "cases:write"
    assert scope_for("POST", "cases", frozenset({"service"}), "agreements") == "agreements"
    assert scope_for("POST", "cases", frozenset({"party"}), None) is None
    with pytest.raises(ValueError, match="unknown API key scope"):
        scope_for("GET", "cases", frozenset({"service"}), "cases:everything")
    with pytest.raises(ValueError, match="service role may not call"):
        scope_for("GET", "cases", frozenset({"party"}), "cases:read")


# --- over HTTP --------------------------------------------------------------------------------
def _person(name: str, serial: int) -> dict[str, str]:
    return {"name": name, "phone": f"1380000{serial:04d}", "id_number": id_number(serial), "address": "成都市"}


DELEGATION = {"dispute_type": "loan", "claims": "还款一万二千元", "facts": "借款未还", "amount": "12000.00",
              "applicant": _person("张三", 11), "respondent": _person("李四", 12), "court": "成都市武侯区人民法院"}
IDENTITY_CHECK = {"payload": "e30="}  # a provider's signed verdict: the agreement is looked up first


async def _call(server: Any, key: str, method: str, path: str, body: Any = None,
                headers: dict[str, str] | None = None) -> tuple[int, Any]:
    sent = {"Authorization": f"Bearer {key}", **(headers or {})}
    async with aiohttp.ClientSession() as http:
        async with http.request(method, server.url + path, json=body, headers=sent) as resp:
            data = await resp.json() if resp.content_type == "application/json" else await resp.read()
            return resp.status, data


async def test_each_scope_opens_its_endpoints_and_no_other(server) -> None:
    keys = {scope: await server.issue_key(scope.replace(":", "-"), scope) for scope in SCOPES}
    status, case = await _call(server, keys["cases:write"], "POST", "/api/cases/delegations", DELEGATION)
    assert status == 201, case
    cid = case["id"]
    # (method, path, body, scope, status with that scope): representative endpoints of every scope.
    probes: list[tuple[str, str, Any, str, int]] = [
        ("POST", "/api/rooms", {"case_id": cid}, "rooms", 201),
        ("GET", "/api/rooms/r_nope", None, "rooms", 404),
        ("GET", "/api/cases", None, "cases:read", 200),
        ("GET", f"/api/cases/{cid}", None, "cases:read", 200),
        ("GET", f"/api/cases/{cid}/package", None, "cases:read", 200),  # the export: no longer any key's
        ("GET", f"/api/cases/{cid}/recommendations", None, "cases:read", 200),
        ("POST", "/api/cases/delegations", DELEGATION, "cases:write", 201),
        ("POST", "/api/deadlines/scan", {}, "cases:write", 200),
        ("GET", f"/api/cases/{cid}/court/applications", None, "court", 200),
        ("GET", "/api/court/applications/J-nope", None, "court", 404),
        ("GET", "/api/agreement-templates", None, "agreements", 200),
        ("POST", "/api/agreements/AG-nope/seal", {"version": 1}, "agreements", 404),
        ("POST", "/api/agreements/AG-nope/identity-checks", IDENTITY_CHECK, "identity-provider", 404),
        ("GET", "/api/webhooks", None, "webhooks", 200),
        ("DELETE", "/api/webhooks/w_nope", None, "webhooks", 404),
    ]
    assert {p[3] for p in probes} == set(SCOPES)
    for method, path, body, scope, expected in probes:
        for held, key in keys.items():
            status, answer = await _call(server, key, method, path, body)
            cell = (method, path, held)
            if held == scope:
                assert status == expected, (cell, status, answer)
            else:
                assert status == 403, (cell, status, answer)
                assert answer["error"]["code"] == "insufficient_scope", (cell, answer)
                assert answer["error"]["details"]["scope"] == scope and scope in answer["error"]["message"]
    status, _ = await _call(server, keys["rooms"], "GET", "/healthz")
    assert status == 200  # public endpoints need no scope


async def test_an_expired_key_is_refused(server) -> None:
    store = server.app[API_KEYS_KEY]
    short = await store.create("short-lived", {"rooms"}, expires_in=timedelta(seconds=1))
    status, _ = await _call(server, short.key, "POST", "/api/rooms", {"case_id": "C-1"})
    assert status == 201
    await asyncio.sleep(max(0.0, (short.info.expires_at - store.clock.now()).total_seconds()) + 0.05)
    status, answer = await _call(server, short.key, "POST", "/api/rooms", {"case_id": "C-1"})
    assert (status, answer["error"]["code"]) == (401, "api_key_expired")


async def test_revocation_from_the_command_line_holds_at_the_next_request(server) -> None:
    key = await server.issue_key("court-system", "rooms")
    status, _ = await _call(server, key, "POST", "/api/rooms", {"case_id": "C-1"})
    assert status == 201
    data_dir = server.app[SETTINGS_KEY].data_dir
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("ACCORD_") and k not in ("DATABASE_URL", "REDIS_URL")}
    done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "signaling.cli", "--data-dir",
                                                    str(data_dir), "apikey", "revoke", "court-system"],
                                   capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    status, answer = await _call(server, key, "POST", "/api/rooms", {"case_id": "C-1"})
    assert (status, answer["error"]["code"]) == (401, "api_key_revoked")


async def test_a_key_counts_only_in_the_authorization_header(server) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/api/rooms", json={"case_id": "C-1"},
                             headers={"Cookie": f"accord_session={server.api_key}"}) as resp:
            assert resp.status == 401 and (await resp.json())["error"]["code"] == "unauthenticated"
    status, answer = await _call(server, server.api_key[:-2] + "xx", "POST", "/api/rooms", {"case_id": "C-1"})
    assert (status, answer["error"]["code"]) == (401, "bad_credentials")


async def test_the_openapi_document_names_each_operation_s_scope(server) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/api/openapi.json") as resp:
            doc = await resp.json()
    documented = {(method.upper(), path): op["x-scopes"] for path, ops in doc["paths"].items()
                  for method, op in ops.items() if "x-scopes" in op}
    assert documented == {key: [scope] for key, scope in SCOPE_POLICY.items()}
    description = doc["components"]["securitySchemes"]["bearer"]["description"]
    assert all(f"`{scope}`" in description for scope in SCOPES)
