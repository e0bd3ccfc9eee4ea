"""Applications as real disputes need them: a company respondent (credit code), a respondent whose ID
number is unknown, the applicant's identity from their registration, amounts as people write them,
and a draft kept on the server."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from mediation.application_draft_models import ApplicationDraft
from mediation.application_drafts import MAX_DRAFT_BYTES
from mediation.id_numbers import credit_code_check_character

from .api_client import Api, User
from .doubles import id_number
from .scenario import cast_of_characters


def credit_code(serial: int) -> str:
    first17 = f"91510104MA{serial:07d}"
    return first17 + credit_code_check_character(first17)


def body(respondent: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """An online application as the page sends it: no applicant details, only their address."""
    return {"dispute_type": "contract", "claims": "pay for the goods", "facts": "delivered on 2025-05-01",
            "amount": "1.86万", "applicant_address": "1 Tianfu Road, Chengdu", "respondent": respondent, **overrides}


async def test_company_respondent_and_applicant_from_registration(api: Api) -> None:
    c = await cast_of_characters(api)
    alice = c["alice"]
    code = credit_code(1)
    case = await api.call("POST", "/api/cases", alice, expect=201, json=body({
        "kind": "company", "name": "Chengdu Example Trading Co., Ltd.", "phone": "13911112222",
        "id_number": code.lower(), "representative": "Wang Wu", "address": "9 Renmin Road, Chengdu"}))
    assert case["amount_fen"] == 1_860_000
    parties = {p["side"]: p for p in case["parties"]}
    assert parties["applicant"]["name"] == alice.account["display_name"]  # from the account, not retyped
    assert parties["applicant"]["id_number"] == alice.id_number[:3] + "*" * 13 + alice.id_number[-2:]
    company = parties["respondent"]
    assert (company["kind"], company["representative"]) == ("company", "Wang Wu")
    assert company["id_number"] == code[:3] + "*" * 13 + code[-2:]
    # A company's contact answers for it (no personal number to match the credit code against).
    contact = await api.register("contact", 30)
    case2 = await api.call("POST", "/api/cases", alice, expect=201, json=body({
        "kind": "company", "name": "Other Co.", "phone": contact.phone, "id_number": credit_code(2),
        "representative": "Li Si", "address": "x"}))
    answered = await api.call("POST", f"/api/cases/{case2['id']}/consent", contact, json={"consent": True}, expect=200)
    assert answered["step"] == "choose_mediator"


async def test_refusals_name_the_field(api: Api) -> None:
    c = await cast_of_characters(api)
    alice = c["alice"]
    company = {"kind": "company", "name": "Co.", "phone": "13911112222", "id_number": credit_code(3),
               "representative": "Wang Wu", "address": "x"}
    bad = [
        (body({**company, "id_number": credit_code(3)[:-1] + "0" if not credit_code(3).endswith("0")
               else credit_code(3)[:-1] + "1"}), "invalid_credit_code", "respondent.id_number"),
        (body({**company, "id_number": None}), "missing_field", "respondent.id_number"),
        (body({**company, "representative": None}), "missing_field", "respondent.representative"),
        (body({**company, "kind": "person", "id_number": "123"}), "invalid_id_number", "respondent.id_number"),
        (body(company, amount="18,60"), "amount_grouping", "amount"),
        (body(company, amount="-3"), "amount_negative", "amount"),
    ]
    for sent, code, field in bad:
        error = (await api.call("POST", "/api/cases", alice, json=sent, expect=422))["error"]
        assert (error["code"], error["details"]["field"]) == (code, field), error
    # Details that are given must still be the account's own.
    wrong = {"name": "Alice", "phone": alice.phone, "id_number": id_number(99), "address": "x"}
    error = (await api.call("POST", "/api/cases", alice, json=body(company, applicant=wrong), expect=422))["error"]
    assert error["code"] == "applicant_mismatch"


async def test_unknown_id_number_comes_from_the_respondents_account(api: Api) -> None:
    c = await cast_of_characters(api)
    alice, bob = c["alice"], c["bob"]
    case = await api.call("POST", "/api/cases", alice, expect=201, json=body({
        "name": "Bob", "phone": bob.phone, "address": "2 Jinjiang Road, Chengdu"}))
    respondent = next(p for p in case["parties"] if p["side"] == "respondent")
    assert (respondent["kind"], respondent["id_number"]) == ("person", None)
    answered = await api.call("POST", f"/api/cases/{case['id']}/consent", bob, json={"consent": True}, expect=200)
    respondent = next(p for p in answered["parties"] if p["side"] == "respondent")
    assert respondent["id_number"] == bob.id_number[:3] + "*" * 13 + bob.id_number[-2:]
    # The applicant's own number is never optional.
    refused = await api.call("POST", "/api/cases/delegations", api.service_key, expect=422, json=body(
        {"name": "Bob", "phone": bob.phone, "address": "x"}, court="Chengdu Jinjiang District People's Court",
        applicant={"name": "Alice", "phone": alice.phone, "address": "x"}))
    assert refused["error"]["details"]["field"] == "applicant.id_number"


async def test_drafts_are_per_account_resumable_and_bounded(api: Api) -> None:
    c = await cast_of_characters(api)
    alice, bob, mediator = c["alice"], c["bob"], c["mediator"]
    path = "/api/me/application-draft"
    assert (await api.call("GET", path, alice, expect=404))["error"]["code"] == "draft_not_found"
    draft = {"claims": "pay for the goods", "amount": "1.86万", "respondent": {"kind": "company", "name": "Co."}}
    await api.call("PUT", path, alice, json={"data": draft}, expect=200)
    await api.call("PUT", path, alice, json={"data": {**draft, "facts": "later"}}, expect=200)
    assert (await api.call("GET", path, alice, expect=200))["data"] == {**draft, "facts": "later"}
    await api.call("GET", path, bob, expect=404)  # one's own only
    await api.call("GET", path, mediator, expect=403)
    too_big = {"facts": "x" * (MAX_DRAFT_BYTES + 1)}
    error = (await api.call("PUT", path, alice, json={"data": too_big}, expect=422))["error"]
    assert error["code"] == "draft_too_large"
    assert (await api.call("GET", path, alice, expect=200))["data"]["facts"] == "later"  # the refused one changed nothing
    response = await api.client.request("DELETE", path, headers={"Authorization": f"Bearer {alice.token}"})
    assert response.status == 204
    await api.call("GET", path, alice, expect=404)


async def test_the_draft_is_stored_encrypted(api: Api) -> None:
    alice: User = (await cast_of_characters(api))["alice"]
    await api.call("PUT", "/api/me/application-draft", alice, expect=200,
                   json={"data": {"respondent": {"id_number": id_number(42)}}})
    async with api.services.db() as s:
        stored = (await s.scalars(select(ApplicationDraft.data_enc))).one()
    assert id_number(42).encode() not in stored


async def test_a_company_respondent_is_a_legal_person_in_the_agreement_draft(api: Api) -> None:
    c = await cast_of_characters(api)
    alice, mediator = c["alice"], c["mediator"]
    contact = await api.register("contact", 31)
    code = credit_code(4)
    cid = (await api.call("POST", "/api/cases", alice, expect=201, json=body({
        "kind": "company", "name": "Example Trading Co.", "phone": contact.phone, "id_number": code,
        "representative": "Wang Wu", "address": "9 Renmin Road"})))["id"]
    await api.call("POST", f"/api/cases/{cid}/consent", contact, json={"consent": True}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/mediator", alice, json={"mediator_id": mediator.id}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/assignment", mediator, json={"accept": True}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/video", mediator, json={}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/video/conclude", mediator, json={}, expect=200)
    drafted = await api.call("POST", f"/api/cases/{cid}/agreement", mediator, json={}, expect=201)
    company = (await api.services.agreements.current(drafted["agreement_id"])).data.parties[1]
    assert (company.name, company.id_type.value, company.id_number) == ("Example Trading Co.", "credit_code", code)
    assert company.legal_person and company.representative == "Wang Wu"
    assert drafted["case"]["amount_fen"] == 1_860_000


async def test_an_online_applicant_gives_an_address(api: Api) -> None:
    alice = (await cast_of_characters(api))["alice"]
    respondent = {"name": "Bob", "phone": "13911113333", "address": "x"}
    error = (await api.call("POST", "/api/cases", alice, json=body(respondent, applicant_address=" "), expect=422))["error"]
    assert (error["code"], error["details"]["field"]) == ("missing_field", "applicant_address")
