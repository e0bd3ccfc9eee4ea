"""API keys from the admin page's endpoints, against the whole app: a platform administrator
creates a key (shown once), lists it without its secret, the key opens exactly its scope's
endpoints until it is revoked; other people are refused and bad input is a 422."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import AsyncIterator

import pytest
from aiohttp import DummyCookieJar
from aiohttp.test_utils import TestClient, TestServer

from signaling.api.accounts import SERVICES_KEY
from signaling.app import create_app
from signaling.auth import SCOPES
from signaling.config import load_settings

from ..mediation.api_client import Api
from ..mediation.doubles import MemorySms
from ..mediation.helpers import PASSWORD

PATH = "/api/admin/api-keys"


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    app = create_app(load_settings(data_dir=tmp_path / "data", port=0))
    services = app[SERVICES_KEY]
    client = TestClient(TestServer(app), cookie_jar=DummyCookieJar())
    await client.start_server()
    try:
        await services.accounts.bootstrap_admin("root", "Platform Admin", PASSWORD)
        yield Api(client, services, MemorySms(), "")
    finally:
        await client.close()


async def test_create_list_use_and_revoke(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    admin = await api.login("admin", "root")
    caplog.set_level(logging.INFO, logger="signaling.api.api_keys")
    made = await api.call("POST", PATH, admin, expect=201,
                          json={"name": "court-system", "scopes": ["rooms"], "expires_in_days": 30})
    key = made["key"]
    assert key.startswith(f"ak_{made['id']}_") and made["state"] == "active" and made["scopes"] == ["rooms"]
    assert made["expires_at"] is not None and made["revoked_at"] is None

    listed = await api.call("GET", PATH, admin, expect=200)
    assert listed["scopes"] == SCOPES
    (row,) = listed["keys"]
    assert row["id"] == made["id"] and row["name"] == "court-system" and row["state"] == "active"
    assert row["last_used_at"] is None
    text = str(listed)
    assert key not in text and key.split("_")[-1] not in text and "hash" not in text

    # The key works within its scope, and only there.
    room = await api.call("POST", "/api/rooms", key, json={"case_id": "KEY-1"}, expect=201)
    refused = await api.call("GET", "/api/cases", key, expect=403)
    assert refused["error"]["code"] == "insufficient_scope"
    (row,) = (await api.call("GET", PATH, admin, expect=200))["keys"]
    assert row["last_used_at"] is not None

    revoked = await api.call("DELETE", f"{PATH}/{made['id']}", admin, expect=200)
    assert revoked["state"] == "revoked" and revoked["revoked_at"] is not None
    answer = await api.call("GET", f"/api/rooms/{room['room_id']}", key, expect=401)
    assert answer["error"]["code"] == "api_key_revoked"
    (row,) = (await api.call("GET", PATH, admin, expect=200))["keys"]
    assert row["state"] == "revoked"
    again = await api.call("DELETE", f"{PATH}/{made['id']}", admin, expect=409)
    assert again["error"]["code"] == "already_revoked"

    logged = [r for r in caplog.records if r.name == "signaling.api.api_keys"]
    assert [r.getMessage() for r in logged] == ["api key created", "api key revoked"]
    assert all(r.key_id == made["id"] and r.by == admin.id for r in logged)  # type: ignore[attr-defined]
    assert key not in caplog.text


async def test_only_platform_administrators(api: Api) -> None:
    admin = await api.login("admin", "root")
    await api.call("POST", "/api/courts", admin, json={"name": "Keys Court", "region": "Chengdu"}, expect=201)
    judge = await api.staff(admin, "judge", "judge1", court="Keys Court")
    key = (await api.call("POST", PATH, admin, expect=201, json={"name": "all", "scopes": sorted(SCOPES)}))["key"]
    for who in (judge, key):
        assert (await api.call("GET", PATH, who, expect=403))["error"]["code"] in ("forbidden", "insufficient_scope")
        await api.call("POST", PATH, who, json={"name": "mine", "scopes": ["rooms"]}, expect=403)
        await api.call("DELETE", f"{PATH}/000000000000", who, expect=403)
    await api.call("GET", PATH, None, expect=401)
    (row,) = (await api.call("GET", PATH, admin, expect=200))["keys"]  # nothing was made or revoked
    assert row["state"] == "active"


async def test_bad_input_is_refused(api: Api) -> None:
    admin = await api.login("admin", "root")
    cases: list[tuple[dict[str, object], str]] = [
        ({"name": "x", "scopes": ["admin"]}, "unknown_scope"),
        ({"name": "x", "scopes": []}, "invalid_body"),
        ({"name": "x"}, "invalid_body"),
        ({"name": "court system", "scopes": ["rooms"]}, "invalid_key_name"),
        ({"name": "x", "scopes": ["rooms"], "expires_in_days": 0}, "invalid_body"),
        ({"name": "x", "scopes": ["rooms"], "key": "ak_mine"}, "invalid_body"),
    ]
    for body, code in cases:
        answer = await api.call("POST", PATH, admin, json=body, expect=422)
        assert answer["error"]["code"] == code, body
    assert (await api.call("GET", PATH, admin, expect=200))["keys"] == []
    missing = await api.call("DELETE", f"{PATH}/0123456789ab", admin, expect=404)
    assert missing["error"]["code"] == "api_key_not_found"
    await api.call("POST", PATH, admin, json={"name": "dup", "scopes": ["rooms"]}, expect=201)
    taken = await api.call("POST", PATH, admin, json={"name": "dup", "scopes": ["court"]}, expect=409)
    assert taken["error"]["code"] == "name_taken"
