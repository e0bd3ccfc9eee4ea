"""One case, one chain, over HTTP: a case through steps 1-5, its agreement drafted from the case,
locked, signed by each participant with their own session (browser keys played by Python), sealed
by the organisation's administrator; the case moves to step 6 by itself, in effect from the last
party signature's timestamp-token time; nobody gets another participant's certificate; the case
package carries the signed PDF, which pyHanko and poppler accept."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import AsyncIterator

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from agreement_samples import agreement_dict
from agreement_server import FIELDS, Person, Server, start_server
from signing.pades import signature_timestamp_time
from signing.verification import async_verify_agreement
from pades_samples import pdfsig


SIGNER_KEYS = dict(zip(FIELDS, ("party:applicant", "party:respondent", "agent:respondent", "mediator")))


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    srv = await start_server(tmp_path / "data")
    yield srv
    await srv.close()


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


async def _case_through_step_four(server: Server) -> str:
    """张三 applies, 李四 consents, 张三 chooses 赵调解, who accepts, counsels, opens and ends the video session."""
    c = await server.cast()
    sample = agreement_dict()
    zhang, li = sample["parties"]
    party = lambda p: {"name": p["name"], "phone": p["contact"], "id_number": p["id_number"],  # noqa: E731
                       "address": p["address"]}
    status, case = await server.as_user(c.zhang, "POST", "/api/cases", json={
        "dispute_type": "loan", "claims": "请求被申请人归还借款50,000元", "facts": sample["facts"],
        "amount": "50000.00", "applicant": party(zhang), "respondent": party(li)})
    assert status == 201, case
    case_id = case["id"]
    for who, method, path, body in (
            (c.li, "POST", "consent", {"consent": True}),
            (c.zhang, "POST", "mediator", {"mediator_id": c.mediator.actor.id}),
            (c.mediator, "POST", "assignment", {"accept": True}),
            (c.li, "POST", "messages", {"text": "我三月可以还款"}),
            (c.mediator, "POST", "video", {}),
            (c.mediator, "POST", "video/conclude", {})):
        status, body = await server.as_user(who, method, f"/api/cases/{case_id}/{path}", json=body)
        assert status in (200, 201), (path, body)
    return case_id


def _next(case: dict) -> list[tuple[str, str, str | None, str | None]]:
    return [(a["action"], a["role"], a["side"], a["account_id"]) for a in case["next_actions"]]


async def _signing(server: Server, who: Person, case_id: str) -> dict:
    status, body = await server.as_user(who, "GET", f"/api/cases/{case_id}/signing")
    assert status == 200, body
    return body


async def test_a_case_agreement_signed_by_its_participants_takes_effect_by_itself(server: Server,
                                                                                   tmp_path: Path) -> None:
    c = await server.cast()
    case_id = await _case_through_step_four(server)
    status, body = await server.as_user(c.zhang, "GET", f"/api/cases/{case_id}/signing")
    assert (status, body["error"]["code"]) == (404, "no_agreement")

    # Step 5: the mediator drafts the agreement from the case, writes the terms, locks it.
    status, drafted = await server.as_user(c.mediator, "POST", f"/api/cases/{case_id}/agreement", json={
        "payment_terms": {"debtor_side": "respondent", "amount_fen": 5_000_000, "due_date": "2026-12-31",
                          "money_only": True, "counter_obligation": False}})
    assert status == 201, drafted
    agreement_id = drafted["agreement_id"]
    status, current = await server.as_user(c.mediator, "GET", f"/api/agreements/{agreement_id}")
    data = current["data"]
    data["parties"][1]["agent"]["signs"] = True  # 王律师 signs next to 李四
    data["monetary"][0].update(due_date="2026-12-31", method="银行转账")
    status, edited = await server.as_user(c.mediator, "PUT", f"/api/agreements/{agreement_id}", json={"data": data})
    assert status == 200, edited
    status, case = await server.as_user(c.zhang, "GET", f"/api/cases/{case_id}")
    assert _next(case) == [("lock_agreement", "mediator", None, c.mediator.actor.id)]
    status, locked = await server.as_user(c.mediator, "POST", f"/api/agreements/{agreement_id}/versions/1/lock")
    assert status == 200 and [s["field_name"] for s in locked["slots"]] == FIELDS
    status, case = await server.as_user(c.li, "GET", f"/api/cases/{case_id}")
    assert _next(case) == [("sign", "party", "applicant", c.zhang.actor.id)]  # who signs, by account
    assert case["result"]["agreement_pdf_url"] is None

    # Each participant sees their own slot and whether it is their turn.
    zhang_view = await _signing(server, c.zhang, case_id)
    assert zhang_view["sign_url"] == f"/sign.html?agreement={agreement_id}"
    assert zhang_view["session"]["you"]["field_name"] == FIELDS[0]
    assert zhang_view["session"]["blocked"]["code"] == "identity_check_required"
    li_view = await _signing(server, c.li, case_id)
    assert li_view["session"]["you"]["field_name"] == FIELDS[1] and li_view["session"]["blocked"]["code"] == "out_of_order"
    status, body = await server.as_user(c.org_admin, "GET", f"/api/cases/{case_id}/signing")
    assert status == 403  # the seal is affixed from the agreement, not signed by a person

    # The development identity check (test gate only) is for one's own field alone.
    status, body = await server.as_user(c.li, "POST", "/api/sign/identity/simulate",
                                        json={"agreement_id": agreement_id, "field_name": FIELDS[0]})
    assert (status, body["error"]["code"]) == (404, "unknown_field")
    status, body = await server.as_user(c.zhang, "POST", "/api/sign/identity/simulate",
                                        json={"agreement_id": agreement_id, "field_name": FIELDS[0]})
    assert (status, body["method"]) == (200, "test"), body
    zhang_view = await _signing(server, c.zhang, case_id)
    assert zhang_view["session"]["blocked"] is None and zhang_view["session"]["identity_simulation"] is True

    # Nobody gets another participant's certificate: not by session, not with another slot's link.
    for key in SIGNER_KEYS.values():
        await server.pass_identity(agreement_id, key)
    for intruder, field in ((c.li, FIELDS[0]), (c.wang, FIELDS[1]), (c.mediator, FIELDS[0])):
        status, body = await server.sign_with_session(intruder, agreement_id, field, _key())
        assert (status, body["error"]["code"]) == (403, "not_your_field"), (intruder.login, field, body)
    status, links = await server.as_user(c.mediator, "POST", f"/api/agreements/{agreement_id}/signing-links")
    li_link = next(link for link in links["links"] if link["field_name"] == FIELDS[1])
    assert li_link["participant_id"] == c.li.actor.id
    status, body = await server.sign_as(li_link["token"], FIELDS[0], _key())
    assert (status, body["error"]["code"]) == (403, "not_your_field")
    stranger = await server.stranger()
    status, body = await server.as_user(stranger, "GET", f"/api/sign/session?agreement={agreement_id}")
    assert (status, body["error"]["code"]) == (404, "agreement_not_found")
    assert (await server.store.current(agreement_id)).signatures == []

    # The parties (and the agent) sign in order with their own sessions.
    times = {}
    for person, field in ((c.zhang, FIELDS[0]), (c.li, FIELDS[1]), (c.wang, FIELDS[2])):
        status, case = await server.as_user(c.zhang, "GET", f"/api/cases/{case_id}")
        assert case["step"] == "result"  # not in effect before the last party signature
        await server.pass_identity(agreement_id, SIGNER_KEYS[field])
        status, done = await server.sign_with_session(person, agreement_id, field, _key())
        assert status == 200, done
        times[field] = done
    last = times[FIELDS[2]]
    state = await server.store.current(agreement_id)
    pdf = await server.store.read_pdf(state)
    token_time = signature_timestamp_time(pdf, FIELDS[2])
    assert last["effective_at"] == last["timestamp_at"] and state.effective_at == token_time
    assert [s.participant_id for s in state.signatures] == [c.zhang.actor.id, c.li.actor.id, c.wang.actor.id]

    # The case moved on by itself: step 6, settled, in effect at the token's time.
    status, case = await server.as_user(c.zhang, "GET", f"/api/cases/{case_id}")
    assert (case["step"], case["outcome"], case["result"]["agreement_status"]) == ("evaluation", "settled",
                                                                                    "effective")
    assert case["result"]["effective_at"].replace("Z", "+00:00") == token_time.isoformat()
    status, trail = await server.as_user(c.zhang, "GET", f"/api/cases/{case_id}/timeline")
    effect = next(e for e in trail if e["action"] == "agreement.effective")
    assert effect["actor"] == "signing" and effect["payload"]["effective_at"] == token_time.isoformat()
    status, body = await server.call("POST", f"/api/cases/{case_id}/agreement/effective",
                                     json={"agreement_id": agreement_id, "effective_at": "2020-01-01T00:00:00Z"})
    assert status in (404, 405)  # no caller sets the effective time

    # The mediator signs, the organisation's administrator seals: the agreement is complete.
    assert _next(case) == [("rate", "party", "applicant", c.zhang.actor.id),
                           ("rate", "party", "respondent", c.li.actor.id),
                           ("sign", "mediator", None, c.mediator.actor.id)]
    await server.pass_identity(agreement_id, "mediator")
    status, done = await server.sign_with_session(c.mediator, agreement_id, FIELDS[3], _key())
    assert status == 200 and done["effective_at"] == last["effective_at"]
    status, case = await server.as_user(c.org_admin, "GET", f"/api/cases/{case_id}")
    assert _next(case)[-1] == ("seal", "org_admin", None, None) and case["next_actions"][-1]["organisation"] == \
        agreement_dict()["organisation"]["name"]
    status, body = await server.as_user(c.zhang, "GET", f"/api/cases/{case_id}/agreement.pdf")
    assert (status, body["error"]["code"]) == (409, "agreement_not_completed")
    status, sealed = await server.as_user(c.org_admin, "POST", f"/api/agreements/{agreement_id}/seal",
                                          json={"version": 1})
    assert status == 200 and sealed["status"] == "completed", sealed
    final = await server.store.current(agreement_id)

    # Every step of the agreement is in the case's trail, with the hash each one produced.
    status, trail = await server.as_user(c.zhang, "GET", f"/api/cases/{case_id}/timeline")
    steps = [(e["action"], e["payload"].get("field"), e["payload"]["sha256"]) for e in trail
             if e["action"] in ("agreement.locked", "agreement.signed", "agreement.sealed", "agreement.completed")]
    assert steps == [("agreement.locked", None, final.locked_sha256)] + [
        ("agreement.signed", s.field_name, s.pdf_sha256) for s in final.signatures[:4]] + [
        ("agreement.sealed", "sig_05_organisation", final.signatures[4].pdf_sha256),
        ("agreement.completed", None, final.final_sha256)]

    # The finished agreement opens from the case: for its people, the same 404 for anyone else.
    status, case = await server.as_user(c.zhang, "GET", f"/api/cases/{case_id}")
    assert case["result"]["agreement_pdf_url"] == f"/api/cases/{case_id}/agreement.pdf"
    assert _next(case)[-1][0] == "rate"  # nothing left to sign
    for who in (c.zhang, c.li, c.wang, c.mediator, c.org_admin):
        status, pdf = await server.as_user(who, "GET", case["result"]["agreement_pdf_url"])
        assert (status, hashlib.sha256(pdf).hexdigest()) == (200, final.final_sha256), who.login
    for who in (await server.stranger(), await server.other_organisation_admin()):
        status, body = await server.as_user(who, "GET", case["result"]["agreement_pdf_url"])
        assert (status, body["error"]["code"]) == (404, "case_not_found"), who.login

    # Step 6 → 7 by ratings; the confirmation application names the agreement by id and hash.
    for who in (c.zhang, c.li):
        status, body = await server.as_user(who, "POST", f"/api/cases/{case_id}/rating", json={"score": 5})
        assert status == 200, body
    court = "北京市朝阳区人民法院"
    status, application = await server.as_user(c.zhang, "POST", f"/api/cases/{case_id}/court/confirmation",
                                                json={"court": court})
    assert status == 201, application
    status, application = await server.as_user(c.li, "POST", f"/api/cases/{case_id}/court/confirmation", json={})
    assert status == 201 and application["status"] == "filed", application
    clerk = await server.court_clerk(court)
    status, pdf = await server.as_user(clerk, "GET", f"/api/cases/{case_id}/agreement.pdf")
    assert (status, hashlib.sha256(pdf).hexdigest()) == (200, final.final_sha256)  # the court it went to
    assert application["materials"]["agreement"] | {"agreement_id": agreement_id, "sha256": final.final_sha256,
                                                    "version": 1} == application["materials"]["agreement"]

    # The case package carries the signed PDF, listed in the manifest with its hash.
    status, package = await server.as_user(c.li, "GET", f"/api/cases/{case_id}/package")
    assert status == 200
    archive = zipfile.ZipFile(io.BytesIO(package))
    manifest = json.loads(archive.read("manifest.json"))
    content = json.loads(archive.read("case.json"))
    path = content["agreement"]["path"]
    signed = archive.read(path)
    assert hashlib.sha256(signed).hexdigest() == manifest["members"][path] == final.final_sha256 == \
        content["agreement"]["sha256"]
    report = await async_verify_agreement(signed, [server.ceremony.pki.root_cert])
    assert report.valid, report.to_dict()
    assert report.signed_fields == report.expected_fields == FIELDS
    pdf_path, root_pem = tmp_path / "final.pdf", tmp_path / "root.pem"
    pdf_path.write_bytes(signed)
    root_pem.write_bytes(server.ceremony.pki.root_cert.public_bytes(Encoding.PEM))
    out = pdfsig(pdf_path, root_pem, tmp_path)
    assert out.count("Signature Validation: Signature is Valid.") == 5, out


async def test_participants_reach_only_their_own_case_agreement(server: Server) -> None:
    """Row-level access follows the case: the mediator of another case, an administrator of another
    organisation and a party of another case get the same 404 as for no agreement at all."""
    c = await server.cast()
    case_id, agreement_id = await server.drafted_agreement()
    other_case, other_agreement = await server.drafted_agreement()
    assert other_agreement != agreement_id
    for who in (c.mediator, c.org_admin):
        status, _ = await server.as_user(who, "GET", f"/api/agreements/{agreement_id}")
        assert status == 200
    status, body = await server.as_user(c.zhang, "GET", f"/api/agreements/{agreement_id}")
    assert status == 403  # parties sign; they do not edit
    outsider = await server.other_organisation_admin()
    status, body = await server.as_user(outsider, "GET", f"/api/agreements/{agreement_id}")
    assert (status, body["error"]["code"]) == (404, "agreement_not_found")
    status, body = await server.as_user(outsider, "POST", f"/api/agreements/{agreement_id}/seal", json={"version": 1})
    assert (status, body["error"]["code"]) == (404, "agreement_not_found")
    stranger = await server.stranger()
    status, body = await server.as_user(stranger, "GET", f"/api/cases/{case_id}/signing")
    assert (status, body["error"]["code"]) == (404, "case_not_found")
