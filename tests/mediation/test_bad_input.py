"""Bad input over HTTP: each refusal is a 4xx with a clear code and message, and nothing changes
(every table row and the audit chain are as before)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given, settings, strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from mediation.accounts import normalise_phone
from mediation.audit import verify_chain
from mediation.text import clean_text
from mediation.clock import ManualClock
from mediation.errors import MediationError
from mediation.id_numbers import validate_id_number
from signaling.api.cases import CaseApplication
from signaling.errors import ApiError
from signaling.openapi import parse_model

from .api_client import Api, User, application_body
from .doubles import id_number
from .scenario import case_with_filed_confirmation, cast_of_characters, database_snapshot


def _wrong_check(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


async def _refused(api: Api, engine: AsyncEngine, case_id: str, method: str, path: str, who: User,
                   status: int, code: str, **kwargs: Any) -> dict[str, Any]:
    before = await database_snapshot(engine)
    chain_before = await verify_chain(api.services.db, case_id)
    body = await api.call(method, path, who, expect=status, **kwargs)
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    assert await database_snapshot(engine) == before
    assert await verify_chain(api.services.db, case_id) == chain_before
    assert chain_before.ok
    return body


async def test_bad_applications(api: Api, engine: AsyncEngine) -> None:
    c = await cast_of_characters(api)
    alice, bob = c["alice"], c["bob"]
    cid = (await api.call("POST", "/api/cases", alice, json=application_body(alice, bob), expect=201))["id"]
    good = application_body(alice, bob)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({**good, "respondent": {**good["respondent"], "id_number": _wrong_check(bob.id_number or "")}},
         422, "invalid_id_number"),
        ({**good, "respondent": {**good["respondent"], "id_number": "51010419801301002X"}}, 422, "invalid_id_number"),
        ({**good, "claims": "x" * 5001}, 422, "invalid_body"),
        ({**good, "applicant": {**good["applicant"], "name": "n" * 101}}, 422, "invalid_body"),
        ({**good, "amount": "12.345"}, 422, "amount_fraction_of_fen"),
        ({**good, "amount": "1,23,45"}, 422, "amount_grouping"),
        ({**good, "surprise": 1}, 422, "invalid_body"),
        ({**good, "facts": "   "}, 422, "invalid_body"),
        ({**good, "respondent": good["applicant"]}, 422, "same_party"),
    ]
    for body, status, code in cases:
        await _refused(api, engine, cid, "POST", "/api/cases", alice, status, code, json=body)
    await _refused(api, engine, cid, "POST", "/api/cases", alice, 400, "invalid_json", data=b"{not json",
                   headers={"Content-Type": "application/json"})
    details = (await api.call("POST", "/api/cases", alice, json={**good, "claims": "x" * 5001}, expect=422))
    assert details["error"]["details"]["errors"][0]["field"] == "claims"


async def test_wrong_steps_and_repeated_actions(api: Api, engine: AsyncEngine) -> None:
    c = await cast_of_characters(api)
    alice, bob, mediator = c["alice"], c["bob"], c["mediator"]
    cid = (await api.call("POST", "/api/cases", alice, json=application_body(alice, bob), expect=201))["id"]
    refusals = [
        ("POST", f"/api/cases/{cid}/mediator", alice, {"mediator_id": mediator.id}, 409, "wrong_step"),
        ("POST", f"/api/cases/{cid}/rating", alice, {"score": 5}, 409, "wrong_step"),
        ("POST", f"/api/cases/{cid}/court/confirmation", alice, {"court": "X"}, 409, "wrong_step"),
        ("POST", f"/api/cases/{cid}/consent", alice, {"consent": True}, 409, "already_answered"),
        ("POST", f"/api/cases/{cid}/rating", alice, {"score": 6}, 422, "invalid_body"),
        ("POST", f"/api/cases/{cid}/documents?name=empty.pdf", alice, None, 422, "empty_file"),
    ]
    for method, path, who, body, status, code in refusals:
        await _refused(api, engine, cid, method, path, who, status, code,
                       **({"json": body} if body is not None else {"data": b""}))
    await api.call("POST", f"/api/cases/{cid}/consent", bob, json={"consent": True}, expect=200)
    await _refused(api, engine, cid, "POST", f"/api/cases/{cid}/consent", bob, 409, "wrong_step",
                   json={"consent": False, "reason": "changed my mind"})
    # A mediator who was not chosen is a stranger; a declined mediator cannot be chosen again.
    await _refused(api, engine, cid, "POST", f"/api/cases/{cid}/assignment", mediator, 404, "case_not_found",
                   json={"accept": True})
    await api.call("POST", f"/api/cases/{cid}/mediator", alice, json={"mediator_id": mediator.id}, expect=200)
    await _refused(api, engine, cid, "POST", f"/api/cases/{cid}/assignment", mediator, 422, "missing_field",
                   json={"accept": False})
    await api.call("POST", f"/api/cases/{cid}/assignment", mediator, json={"accept": False, "reason": "conflict"},
                   expect=200)
    await _refused(api, engine, cid, "POST", f"/api/cases/{cid}/mediator", bob, 409, "mediator_declined",
                   json={"mediator_id": mediator.id})
    await _refused(api, engine, cid, "POST", f"/api/cases/{cid}/mediator", bob, 422, "not_a_mediator",
                   json={"mediator_id": alice.id})


async def test_another_partys_case_is_invisible(api: Api, engine: AsyncEngine) -> None:
    c = await cast_of_characters(api)
    alice, bob = c["alice"], c["bob"]
    carol = await api.register("carol", 3)
    cid = (await api.call("POST", "/api/cases", alice, json=application_body(alice, bob), expect=201))["id"]
    for method, path, body in (("GET", f"/api/cases/{cid}", None), ("POST", f"/api/cases/{cid}/consent", {"consent": True}),
                               ("GET", f"/api/cases/{cid}/timeline", None)):
        refused = await _refused(api, engine, cid, method, path, carol, 404, "case_not_found", json=body)
        assert cid in refused["error"]["message"]  # only the id the caller sent, nothing about the case


async def test_identity_mismatch_blocks_consent(api: Api, engine: AsyncEngine) -> None:
    """The respondent is known by phone before they act; the ID number must match too."""
    c = await cast_of_characters(api)
    alice, bob = c["alice"], c["bob"]
    body = application_body(alice, bob)
    body["respondent"]["id_number"] = id_number(77)
    cid = (await api.call("POST", "/api/cases", alice, json=body, expect=201))["id"]
    await _refused(api, engine, cid, "POST", f"/api/cases/{cid}/consent", bob, 403, "identity_mismatch",
                   json={"consent": True})


async def test_court_conditions(api: Api, engine: AsyncEngine, clock: ManualClock) -> None:
    c = await cast_of_characters(api)
    cid, app_id = await case_with_filed_confirmation(api, c)
    alice, bob, clerk, judge = c["alice"], c["bob"], c["clerk"], c["judge"]
    declarations = {"no_other_debt_dispute": True, "debtor_reachable_in_china": True, "no_pre_suit_preservation": True}
    refused = await _refused(api, engine, cid, "POST", f"/api/cases/{cid}/court/payment-order", alice, 422,
                             "payment_order_conditions", json=declarations)
    assert [(u["code"], u["condition"]) for u in refused["error"]["details"]["unmet"]] == [("debt_due", "the debt is due")]
    refused = await _refused(api, engine, cid, "POST", f"/api/cases/{cid}/court/payment-order", alice, 422,
                             "payment_order_conditions", json={**declarations, "no_other_debt_dispute": False})
    assert len(refused["error"]["details"]["unmet"]) == 2
    await _refused(api, engine, cid, "POST", f"/api/cases/{cid}/court/payment-order", bob, 403, "not_the_creditor",
                   json=declarations)
    await _refused(api, engine, cid, "POST", f"/api/cases/{cid}/court/confirmation", alice, 409, "already_applied",
                   json={})
    await _refused(api, engine, cid, "POST", f"/api/court/applications/{app_id}/ruling", judge, 409, "wrong_status",
                   json={"grant": True})
    await _refused(api, engine, cid, "POST", f"/api/court/applications/{app_id}/acceptance", clerk, 422,
                   "missing_field", json={"accept": False})
    await api.call("POST", f"/api/court/applications/{app_id}/acceptance", clerk,
                   json={"accept": False, "reasons": "the agreement's content is unclear (art. 358)"}, expect=200)
    # After a refusal the parties may apply again, but not once the 30 days have passed.
    clock.advance(timedelta(days=31))
    await api.sign_in_again(alice)
    await _refused(api, engine, cid, "POST", f"/api/cases/{cid}/court/confirmation", alice, 409, "window_closed",
                   json={"court": "Chengdu Jinjiang District People's Court"})


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({
    "dispute_type": st.text(max_size=60), "claims": st.text(max_size=60), "facts": st.text(max_size=60),
    "amount": st.one_of(st.none(), st.text(max_size=20), st.from_regex(r"\d{1,14}(\.\d{0,3})?", fullmatch=True)),
    "applicant": st.fixed_dictionaries({"name": st.text(max_size=120), "phone": st.text(max_size=20),
                                        "id_number": st.one_of(st.text(min_size=18, max_size=18),
                                                               st.from_regex(r"\d{17}[\dX]", fullmatch=True)),
                                        "address": st.text(max_size=20)}),
    "respondent": st.just({"name": "Bob", "phone": "13900000002", "id_number": id_number(2), "address": "b"}),
}))
def test_fuzzed_applications_are_accepted_or_refused_cleanly(data: dict[str, Any]) -> None:
    """Whatever arrives is either a valid application or a named refusal: never a crash."""
    try:
        app = parse_model(CaseApplication, data).domain()  # type: ignore[attr-defined]
        for value, limit in ((app.dispute_type, 40), (app.claims, 5000), (app.facts, 5000)):
            clean_text(value, "field", limit)
        validate_id_number(app.applicant.id_number)
        normalise_phone(app.applicant.phone)
    except ApiError as err:
        assert err.status == 422 and err.details["errors"]
    except MediationError as err:
        assert err.code and err.message
    else:
        assert app.amount_fen is None or app.amount_fen >= 0


async def test_nul_characters_are_refused_on_every_database(api: Api, engine: AsyncEngine) -> None:
    """PostgreSQL cannot store NUL: it must be a clear 4xx there as on SQLite, never a 500."""
    c = await cast_of_characters(api)
    alice, bob = c["alice"], c["bob"]
    cid = (await api.call("POST", "/api/cases", alice, json=application_body(alice, bob), expect=201))["id"]
    await _refused(api, engine, cid, "POST", "/api/cases", alice, 422, "invalid_text",
                   json=application_body(alice, bob, claims="pay\x00me"))
    await _refused(api, engine, cid, "GET", "/api/cases/CASE%00X", alice, 404, "case_not_found")
    await _refused(api, engine, cid, "GET", "/api/court/applications/J%00", alice, 404, "application_not_found")
    await _refused(api, engine, cid, "POST", "/api/auth/login", alice, 401, "bad_credentials",
                   json={"channel": "party", "login": "al\x00ice", "password": "whatever1234"})
    await _refused(api, engine, cid, "POST", f"/api/cases/{cid}/documents?name=a%00.pdf", alice, 422,
                   "invalid_file_name", data=b"%PDF")


async def test_list_limits_are_bounded(api: Api, engine: AsyncEngine) -> None:
    """``?limit=-1`` was ``LIMIT -1`` (no limit at all on SQLite): the 200-case cap holds, and a
    limit out of its bounds is a 422 naming the parameter (as on the notification, directory and
    statistics lists, whose tests check theirs)."""
    c = await cast_of_characters(api)
    alice, bob = c["alice"], c["bob"]
    await api.call("POST", "/api/cases", alice, json=application_body(alice, bob), expect=201)
    assert len(await api.call("GET", "/api/cases?limit=200", alice, expect=200)) == 1
    for path in ("/api/cases?limit=-1", "/api/cases?limit=201", "/api/cases?offset=-5", "/api/cases?limit=x"):
        body = await api.call("GET", path, alice, expect=422)
        assert body["error"]["code"] == "invalid_query", path
        assert body["error"]["details"]["errors"][0]["field"] in path, (path, body)
