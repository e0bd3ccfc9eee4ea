"""The agreement endpoints against a real server: roles, signing tokens, refusals as HTTP errors."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
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


async def test_the_draft_comes_from_the_case_and_keeps_its_identities(server: Server) -> None:
    """No free-standing agreements; the case's people, their ID numbers (never shown in full to the
    editor, never taken back from it), the agent with a power of attorney, the mediator, the
    organisation from the directory and the amount claimed are all pre-filled."""
    status, body = await server.call("POST", "/api/agreements", json={"data": agreement_dict()})
    assert status in (404, 405)
    c = await server.cast()
    case_id = await server.case_at_result()
    status, body = await server.call("POST", f"/api/cases/{case_id}/agreement", json={})
    assert status == 403  # an integrating system is not the case's mediator
    status, drafted = await server.as_user(c.mediator, "POST", f"/api/cases/{case_id}/agreement", json={})
    assert status == 201 and drafted["editor_url"] == f"/agreement.html#{drafted['agreement_id']}"
    assert drafted["case"]["result"]["agreement_id"] == drafted["agreement_id"]
    status, again = await server.as_user(c.mediator, "POST", f"/api/cases/{case_id}/agreement", json={})
    assert (status, again["error"]["code"]) == (409, "result_exists")
    status, current = await server.as_user(c.mediator, "GET", f"/api/agreements/{drafted['agreement_id']}")
    sample = agreement_dict()
    zhang, li = current["data"]["parties"]
    assert current["case_id"] == case_id and current["data"]["case_number"] == drafted["case"]["case_number"]
    assert (zhang["name"], zhang["side"], zhang["address"], zhang["contact"], zhang["participant_id"]) == (
        "张三", "applicant", sample["parties"][0]["address"], sample["parties"][0]["contact"], c.zhang.actor.id)
    assert zhang["id_number"] == sample["parties"][0]["id_number"][:3] + "*" * 13 + sample["parties"][0]["id_number"][-2:]
    assert (li["agent"]["name"], li["agent"]["participant_id"], li["agent"]["signs"]) == ("王律师", c.wang.actor.id, False)
    assert current["data"]["mediator"]["participant_id"] == c.mediator.actor.id
    assert current["data"]["organisation"] == {"name": "朝阳区人民调解委员会", "address": "北京市朝阳区调解路9号",
                                               "credit_code": "12110105MB0000000X",
                                               "organisation_id": c.organisation_id}
    assert current["data"]["dispute_type"] == "loan" and "请求被申请人归还借款" in current["data"]["facts"]
    assert current["data"]["monetary"][0]["amount"] == "50000.00"
    assert [(s["field_name"], s["participant_id"]) for s in current["slots"]] == [
        ("sig_01_party_applicant", c.zhang.actor.id), ("sig_02_party_respondent", c.li.actor.id),
        ("sig_03_mediator", c.mediator.actor.id), ("sig_04_organisation", c.organisation_id)]
    stored = await server.store.current(drafted["agreement_id"])
    assert stored.data.parties[0].id_number == sample["parties"][0]["id_number"]  # the server's copy is whole

    agreement = f"/api/agreements/{drafted['agreement_id']}"
    data = current["data"]
    status, body = await server.call("PUT", agreement, key=False, json={"data": data})
    assert status == 401 and body["error"]["code"] == "unauthenticated"
    changed = json.loads(json.dumps(data))
    changed["parties"][0]["id_number"] = sample["parties"][1]["id_number"]
    changed["parties"][1]["name"] = "王五"
    status, body = await server.as_user(c.mediator, "PUT", agreement, json={"data": changed})
    assert (status, body["error"]["code"]) == (422, "invalid_body")
    assert {e["field"] for e in body["error"]["details"]["errors"]} == {"data.parties.0.id_number",
                                                                        "data.parties.1.name"}
    dropped = json.loads(json.dumps(data))
    dropped["parties"][0]["agent"] = {"name": "孙律师", "id_number": "110105198503121230", "contact": "13700000009"}
    status, body = await server.as_user(c.mediator, "PUT", agreement, json={"data": dropped})
    assert status == 422 and any(e["field"] == "data.parties.0.agent" and "check digit" in e["problem"]
                                 for e in body["error"]["details"]["errors"])
    status, body = await server.as_user(c.mediator, "PUT", agreement, data=b"{not json",
                                        headers={"Content-Type": "application/json"})
    assert status == 400 and body["error"]["code"] == "invalid_json"
    for person in (*data["parties"], data["mediator"]):
        person.pop("id_number")  # left out: kept just as well as masked
    data["parties"][1]["agent"]["signs"] = True
    status, edited = await server.as_user(c.mediator, "PUT", agreement, json={"data": data})
    assert status == 200, edited
    assert [s["participant_id"] for s in edited["slots"]][2] == c.wang.actor.id
    assert (await server.store.current(drafted["agreement_id"])).data == stored.data.model_copy(update={
        "parties": [stored.data.parties[0], stored.data.parties[1].model_copy(update={
            "agent": stored.data.parties[1].agent.model_copy(update={"signs": True})})]})


async def test_signing_tokens_are_checked(server: Server) -> None:
    agreement_id, tokens = await server.locked_agreement()
    status, body = await server.call("GET", "/api/sign/session", key=False)
    assert status == 401 and body["error"]["code"] == "unauthenticated"
    forged = tokens["sig_01_party_applicant"][:-2] + "AA"
    status, body = await server.call("GET", "/api/sign/session", token=forged)
    assert status == 401 and body["error"]["code"] == "token_invalid"
    # A room invitation signed with the room secret is not a signing token.
    from signaling.api.rooms import TOKENS_KEY

    c = await server.cast()
    room_token, _ = server.app[TOKENS_KEY].issue(agreement_id, "party", "张三", "applicant",
                                                 seat=f"party:applicant/{c.zhang.actor.id}")
    status, body = await server.call("GET", "/api/sign/session", token=room_token)
    assert status == 401 and body["error"]["code"] == "token_invalid"
    # A signing token is not a mediator credential (and no session from cast() rides along).
    server.session.cookie_jar.clear()
    status, body = await server.call("POST", f"/api/agreements/{agreement_id}/versions/1/lock",
                                     token=tokens["sig_01_party_applicant"])
    assert status == 401


async def test_session_says_why_a_signer_must_wait(server: Server) -> None:
    agreement_id, tokens = await server.locked_agreement()
    status, session = await server.call("GET", "/api/sign/session", token=tokens["sig_02_party_respondent"])
    assert status == 200
    assert session["you"]["field_name"] == "sig_02_party_respondent" and session["page_count"] >= 3
    assert session["blocked"]["code"] == "out_of_order"
    status, session = await server.call("GET", "/api/sign/session", token=tokens["sig_01_party_applicant"])
    assert session["blocked"]["code"] == "identity_check_required"
    await server.pass_identity(agreement_id, "party:applicant")
    status, session = await server.call("GET", "/api/sign/session", token=tokens["sig_01_party_applicant"])
    assert session["blocked"] is None
    status, png = await server.call("GET", "/api/sign/pages/1", token=tokens["sig_01_party_applicant"])
    assert status == 200 and png[:8] == b"\x89PNG\r\n\x1a\n"
    status, body = await server.call("GET", "/api/sign/pages/99", token=tokens["sig_01_party_applicant"])
    assert status == 404 and body["error"]["code"] == "page_not_found"


async def test_http_ceremony_refusals_and_success(server: Server) -> None:
    agreement_id, tokens = await server.locked_agreement()
    key = ec.generate_private_key(ec.SECP256R1())
    status, body = await server.sign_as(tokens["sig_01_party_applicant"], "sig_01_party_applicant", key)
    assert (status, body["error"]["code"]) == (403, "identity_check_required")
    status, body = await server.call("POST", "/api/sign/begin", token=tokens["sig_01_party_applicant"],
                                     json={"version": 1, "field_name": "sig_02_party_respondent"})
    assert (status, body["error"]["code"]) == (403, "not_your_field")
    await server.pass_identity(agreement_id, "party:respondent")
    status, body = await server.sign_as(tokens["sig_02_party_respondent"], "sig_02_party_respondent", key)
    assert (status, body["error"]["code"]) == (409, "out_of_order")
    await server.pass_identity(agreement_id, "party:applicant")
    status, body = await server.sign_as(tokens["sig_01_party_applicant"], "sig_01_party_applicant", key)
    assert status == 200, body
    assert body["field_name"] == "sig_01_party_applicant" and body["revision"] == 1
    status, body = await server.call("POST", "/api/sign/prepare", token=tokens["sig_01_party_applicant"],
                                     json={"version": 1, "field_name": "sig_01_party_applicant"})
    assert (status, body["error"]["code"]) == (409, "already_signed")
    status, body = await server.call("POST", f"/api/agreements/{agreement_id}/seal", json={"version": 1})
    assert (status, body["error"]["code"]) == (409, "out_of_order")
    status, body = await server.call("POST", f"/api/agreements/{agreement_id}/seal", json={"version": 1},
                                     token=tokens["sig_01_party_applicant"])
    assert (status, body["error"]["code"]) == (401, "unauthenticated")  # a signer cannot seal
    # The mediator edits after locking: version 2, and version 1 can no longer be signed.
    status, current = await server.call("GET", f"/api/agreements/{agreement_id}")
    status, body = await server.call("PUT", f"/api/agreements/{agreement_id}",
                                     json={"data": {**current["data"], "place": "上海市"}})
    assert status == 200 and body["version"] == 2 and body["status"] == "draft"
    status, body = await server.sign_as(tokens["sig_02_party_respondent"], "sig_02_party_respondent", key)
    assert (status, body["error"]["code"]) == (409, "version_outdated")
    status, body = await server.call("POST", "/api/sign/begin", token=tokens["sig_01_party_applicant"],
                                     json={"version": 2, "field_name": "sig_01_party_applicant"})
    assert (status, body["error"]["code"]) == (409, "not_locked")
    status, session = await server.call("GET", "/api/sign/session", token=tokens["sig_01_party_applicant"])
    assert session["version"] == 2 and session["blocked"]["code"] == "not_locked" and session["page_count"] == 0
    assert session["you"]["field_name"] == "sig_01_party_applicant" and session["you"]["signed_at"] is None


async def test_preview_of_a_draft_and_its_lock(server: Server) -> None:
    _, agreement_id = await server.drafted_agreement()
    status, created = await server.call("GET", f"/api/agreements/{agreement_id}")
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
    _, agreement_id = await server.drafted_agreement()
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
    status, current = await server.call("GET", f"/api/agreements/{agreement_id}")
    status, _ = await server.call("PUT", f"/api/agreements/{agreement_id}",
                                  json={"data": {**current["data"], "place": "上海市徐汇区"}})
    status, newer = await server.call("POST", f"/api/agreements/{agreement_id}/preview")
    assert newer["sha256"] != preview["sha256"]
    status, body = await server.call("GET", f"{pages}/1")
    assert (status, body["error"]["code"]) == (404, "preview_not_found")
    status, templates = await server.call("GET", "/api/agreement-templates")
    assert status == 200 and len(templates["templates"]) == 13 and templates["closing_clauses"]
    lending = next(t for t in templates["templates"] if t["dispute_type"] == "loan")
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
    status, body = await server.call("POST", "/api/sign/enroll", token=tokens["sig_01_party_applicant"], json={
        "version": 1, "field_name": "sig_01_party_applicant", "spki": "%%%", "proof": "AAAA"})
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
        status, body = await server.call("POST", path, json=server.provider.envelope({
            "agreement_id": agreement_id, "signer_key": "party:applicant", "method": "face",
            "checked_at": checked_at.isoformat()}), **identity)
        assert (status, body["error"]["code"]) == (422, code), body
    status, _ = await server.call("POST", path, json=server.provider.envelope({
        "agreement_id": agreement_id, "signer_key": "party:applicant", "method": "face",
        "checked_at": now.isoformat()}), **identity)
    assert status == 201
