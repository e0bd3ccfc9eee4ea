"""The agreement endpoints against a real server: roles, signing tokens, refusals as HTTP errors."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any, AsyncIterator

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from agreement_samples import agreement_dict
import signaling.api.agreements as agreements_api
from agreement_server import Server, start_server


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    srv = await start_server(tmp_path)
    yield srv
    await srv.close()


async def test_drafting_needs_a_role_and_a_valid_body(server: Server) -> None:
    status, body = await server.call("POST", "/api/agreements", key=False, json={"data": agreement_dict()})
    assert status == 401 and body["error"]["code"] == "unauthenticated"
    bad = agreement_dict()
    bad["parties"][0]["id_number"] = "110105198503121230"
    status, body = await server.call("POST", "/api/agreements", json={"data": bad})
    assert status == 422 and body["error"]["code"] == "invalid_body"
    assert any(e["field"].startswith("data.parties.0") and "check digit" in e["problem"]
               for e in body["error"]["details"]["errors"])
    status, body = await server.call("POST", "/api/agreements", data=b"{not json",
                                     headers={"Content-Type": "application/json"})
    assert status == 400 and body["error"]["code"] == "invalid_json"


async def test_signing_tokens_are_checked(server: Server) -> None:
    agreement_id, tokens = await server.locked_agreement()
    status, body = await server.call("GET", "/api/sign/session", key=False)
    assert status == 401 and body["error"]["code"] == "unauthenticated"
    forged = tokens["sig_01_party_zhang"][:-2] + "AA"
    status, body = await server.call("GET", "/api/sign/session", token=forged)
    assert status == 401 and body["error"]["code"] == "token_invalid"
    # A room invitation signed with the room secret is not a signing token.
    from signaling.api.rooms import TOKENS_KEY

    room_token, _ = server.app[TOKENS_KEY].issue(agreement_id, "party", "张三", "applicant", seat="party:zhang")
    status, body = await server.call("GET", "/api/sign/session", token=room_token)
    assert status == 401 and body["error"]["code"] == "token_invalid"
    # A signing token is not a mediator credential.
    status, body = await server.call("POST", f"/api/agreements/{agreement_id}/versions/1/lock",
                                     token=tokens["sig_01_party_zhang"])
    assert status == 401


async def test_session_says_why_a_signer_must_wait(server: Server) -> None:
    agreement_id, tokens = await server.locked_agreement()
    status, session = await server.call("GET", "/api/sign/session", token=tokens["sig_02_party_li"])
    assert status == 200
    assert session["you"]["field_name"] == "sig_02_party_li" and session["page_count"] >= 3
    assert session["blocked"]["code"] == "out_of_order"
    status, session = await server.call("GET", "/api/sign/session", token=tokens["sig_01_party_zhang"])
    assert session["blocked"]["code"] == "identity_check_required"
    await server.pass_identity(agreement_id, "party:zhang")
    status, session = await server.call("GET", "/api/sign/session", token=tokens["sig_01_party_zhang"])
    assert session["blocked"] is None
    status, png = await server.call("GET", "/api/sign/pages/1", token=tokens["sig_01_party_zhang"])
    assert status == 200 and png[:8] == b"\x89PNG\r\n\x1a\n"
    status, body = await server.call("GET", "/api/sign/pages/99", token=tokens["sig_01_party_zhang"])
    assert status == 404 and body["error"]["code"] == "page_not_found"


async def test_http_ceremony_refusals_and_success(server: Server) -> None:
    agreement_id, tokens = await server.locked_agreement()
    key = ec.generate_private_key(ec.SECP256R1())
    status, body = await server.sign_as(tokens["sig_01_party_zhang"], "sig_01_party_zhang", key)
    assert (status, body["error"]["code"]) == (403, "identity_check_required")
    status, body = await server.call("POST", "/api/sign/begin", token=tokens["sig_01_party_zhang"],
                                     json={"version": 1, "field_name": "sig_02_party_li"})
    assert (status, body["error"]["code"]) == (403, "not_your_field")
    await server.pass_identity(agreement_id, "party:li")
    status, body = await server.sign_as(tokens["sig_02_party_li"], "sig_02_party_li", key)
    assert (status, body["error"]["code"]) == (409, "out_of_order")
    await server.pass_identity(agreement_id, "party:zhang")
    status, body = await server.sign_as(tokens["sig_01_party_zhang"], "sig_01_party_zhang", key)
    assert status == 200, body
    assert body["field_name"] == "sig_01_party_zhang" and body["revision"] == 1
    status, body = await server.call("POST", "/api/sign/prepare", token=tokens["sig_01_party_zhang"],
                                     json={"version": 1, "field_name": "sig_01_party_zhang"})
    assert (status, body["error"]["code"]) == (409, "already_signed")
    status, body = await server.call("POST", f"/api/agreements/{agreement_id}/seal", json={"version": 1})
    assert (status, body["error"]["code"]) == (409, "out_of_order")
    status, body = await server.call("POST", f"/api/agreements/{agreement_id}/seal", json={"version": 1},
                                     token=tokens["sig_01_party_zhang"])
    assert (status, body["error"]["code"]) == (401, "unauthenticated")  # a signer cannot seal
    # The mediator edits after locking: version 2, and version 1 can no longer be signed.
    status, body = await server.call("PUT", f"/api/agreements/{agreement_id}",
                                     json={"data": agreement_dict(place="上海市")})
    assert status == 200 and body["version"] == 2 and body["status"] == "draft"
    status, body = await server.sign_as(tokens["sig_02_party_li"], "sig_02_party_li", key)
    assert (status, body["error"]["code"]) == (409, "version_outdated")
    status, body = await server.call("POST", "/api/sign/begin", token=tokens["sig_01_party_zhang"],
                                     json={"version": 2, "field_name": "sig_01_party_zhang"})
    assert (status, body["error"]["code"]) == (409, "not_locked")
    status, session = await server.call("GET", "/api/sign/session", token=tokens["sig_01_party_zhang"])
    assert session["version"] == 2 and session["blocked"]["code"] == "not_locked" and session["page_count"] == 0
    assert session["you"]["field_name"] == "sig_01_party_zhang" and session["you"]["signed_at"] is None


async def test_preview_of_a_draft_and_its_lock(server: Server) -> None:
    status, created = await server.call("POST", "/api/agreements", json={"data": agreement_dict()})
    agreement_id = created["agreement_id"]
    assert created["status"] == "draft" and [s["field_name"] for s in created["slots"]][-1] == "sig_05_organisation"
    status, pdf = await server.call("GET", f"/api/agreements/{agreement_id}/preview.pdf")
    assert status == 200 and pdf[:5] == b"%PDF-"
    status, body = await server.call("GET", f"/api/agreements/{agreement_id}/versions/1/pdf")
    assert (status, body["error"]["code"]) == (409, "not_locked")
    status, body = await server.call("POST", f"/api/agreements/{agreement_id}/signing-links")
    assert (status, body["error"]["code"]) == (409, "not_locked")
    status, locked = await server.call("POST", f"/api/agreements/{agreement_id}/versions/1/lock")
    status, pdf = await server.call("GET", f"/api/agreements/{agreement_id}/versions/1/pdf?revision=0")
    assert status == 200 and hashlib.sha256(pdf).hexdigest() == locked["locked_sha256"]
    status, body = await server.call("GET", f"/api/agreements/{agreement_id}/versions/1/pdf?revision=1")
    assert (status, body["error"]["code"]) == (404, "revision_not_found")


async def test_editor_preview_pages_and_templates(server: Server) -> None:
    status, created = await server.call("POST", "/api/agreements", json={"data": agreement_dict()})
    agreement_id = created["agreement_id"]
    status, preview = await server.call("POST", f"/api/agreements/{agreement_id}/preview", key=False)
    assert status == 401
    status, preview = await server.call("POST", f"/api/agreements/{agreement_id}/preview")
    assert status == 200 and preview["page_count"] >= 3, preview
    pages = f"/api/agreements/{agreement_id}/previews/{preview['sha256']}/pages"
    status, png = await server.call("GET", f"{pages}/1")
    assert status == 200 and png[:8] == b"\x89PNG\r\n\x1a\n"
    status, body = await server.call("GET", f"{pages}/{preview['page_count'] + 1}")
    assert (status, body["error"]["code"]) == (404, "page_not_found")
    status, body = await server.call("GET", f"/api/agreements/{agreement_id}/previews/{'0' * 64}/pages/1")
    assert (status, body["error"]["code"]) == (404, "preview_not_found")
    status, body = await server.call("GET", f"/api/agreements/{agreement_id}/previews/..%2Fx/pages/1")
    assert status == 404
    # An edit and a new preview replace the old one on disk.
    status, _ = await server.call("PUT", f"/api/agreements/{agreement_id}",
                                  json={"data": agreement_dict(place="上海市徐汇区")})
    status, newer = await server.call("POST", f"/api/agreements/{agreement_id}/preview")
    assert newer["sha256"] != preview["sha256"]
    status, body = await server.call("GET", f"{pages}/1")
    assert (status, body["error"]["code"]) == (404, "preview_not_found")
    status, templates = await server.call("GET", "/api/agreement-templates")
    assert status == 200 and len(templates["templates"]) == 6 and templates["closing_clauses"]
    lending = next(t for t in templates["templates"] if t["dispute_type"] == "private_lending")
    assert lending["label_zh"] == "民间借贷纠纷" and lending["default_clauses"]


async def test_event_certificates_use_the_platform_id_digest_secret(server: Server) -> None:
    """The ID-number digest is keyed with the server's own secret file, not a plain SHA-256."""
    from signaling.config import ensure_secret
    from signing.pki import id_number_digest

    settings = server.app[agreements_api.AGREEMENT_SETTINGS_KEY]
    assert settings.secret_file("id-hash").exists()
    assert server.ceremony.id_digest_key == ensure_secret(settings, "id-hash")
    assert id_number_digest("110105198503121234", server.ceremony.id_digest_key) != \
        hashlib.sha256(b"110105198503121234").hexdigest()


async def test_bad_base64_and_unknown_agreements(server: Server) -> None:
    agreement_id, tokens = await server.locked_agreement()
    status, body = await server.call("POST", "/api/sign/enroll", token=tokens["sig_01_party_zhang"], json={
        "version": 1, "field_name": "sig_01_party_zhang", "spki": "%%%", "proof": "AAAA"})
    assert (status, body["error"]["code"]) == (422, "invalid_body")
    status, body = await server.call("GET", "/api/agreements/ag_0000000000000000")
    assert (status, body["error"]["code"]) == (404, "agreement_not_found")
    status, body = await server.call("GET", "/api/agreements/..%2F..%2Fetc")
    assert status == 404


async def test_identity_check_times_must_be_past_and_inside_the_window(server: Server) -> None:
    """A check dated in the future (or already lapsed) could not have allowed any signature."""
    agreement_id, _ = await server.locked_agreement()
    path = f"/api/agreements/{agreement_id}/identity-checks"
    now = dt.datetime.now(dt.UTC)
    identity: dict[str, Any] = {"key": False, "headers": {"Authorization": f"Bearer {server.identity_key}"}}
    for checked_at, code in ((now + dt.timedelta(minutes=10), "checked_at_in_future"),
                             (now - dt.timedelta(hours=1), "checked_at_too_old")):
        status, body = await server.call("POST", path, json={"signer_key": "party:zhang", "method": "face",
                                                             "checked_at": checked_at.isoformat()}, **identity)
        assert (status, body["error"]["code"]) == (422, code), body
    status, _ = await server.call("POST", path, json={"signer_key": "party:zhang", "method": "face",
                                                      "checked_at": now.isoformat()}, **identity)
    assert status == 201
