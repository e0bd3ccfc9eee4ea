"""A whole case through the 7 steps over HTTP: two parties, a mediator, an organisation, a court
(clerk and judge) and the signing service; deadlines driven by the manual clock; judicial
confirmation ruled and a payment order issued; the audit chain intact at the end."""

from __future__ import annotations

from datetime import timedelta

from mediation.clock import ManualClock
from signing.pki import PlatformPKI

from .api_client import Api, application_body
from .court_rulings import court_signed_ruling
from .doubles import START, RecordingEvents, RecordingRooms
from .scenario import COURT, ORG, cast_of_characters, signing_service_reports_effect

async def test_whole_case_through_seven_steps(api: Api, clock: ManualClock, rooms: RecordingRooms,
                                              events: RecordingEvents, court_pki: PlatformPKI) -> None:
    c = await cast_of_characters(api)
    alice, bob, mediator, clerk, judge = c["alice"], c["bob"], c["mediator"], c["clerk"], c["judge"]

    # Step 1: alice applies with evidence; bob must consent within the step's limit.
    case = await api.call("POST", "/api/cases", alice, json=application_body(alice, bob), expect=201)
    cid = case["id"]
    assert (case["step"], case["step_number"], case["amount_fen"]) == ("start", 1, 1_200_000)
    assert [to for to, text in api.sms.sent if cid in text] == [bob.phone]  # asked to consent
    # Bob sees the case (by his verified phone) before he has answered; the mediator does not yet.
    (listed,) = await api.call("GET", "/api/cases", bob, expect=200)
    assert (listed["id"], listed["your_sides"], listed["parties"]) == (cid, ["respondent"],
                                                                        {"applicant": "Alice", "respondent": "Bob"})
    assert await api.call("GET", "/api/cases", mediator, expect=200) == []
    doc = await api.call("POST", f"/api/cases/{cid}/documents?name=iou.pdf", alice, data=b"%PDF IOU 12000",
                         headers={"Content-Type": "application/pdf"}, expect=201)
    assert doc["kind"] == "evidence" and len(doc["sha256"]) == 64
    assert (await api.call("POST", "/api/deadlines/scan", api.service_key, json={}, expect=200))["flagged"] == []
    clock.advance(timedelta(days=5, seconds=1))
    await api.sign_in_again(*c.values())
    flagged = (await api.call("POST", "/api/deadlines/scan", api.service_key, json={}, expect=200))["flagged"]
    assert [f["kind"] for f in flagged] == ["step:start"]
    bob_flags = await api.call("GET", "/api/me/flags", bob, expect=200)
    assert [(f["case_id"], f["kind"]) for f in bob_flags] == [(cid, "step:start")]
    assert await api.call("GET", "/api/me/flags", alice, expect=200) == []
    # A second scan does not flag the same deadline again.
    assert (await api.call("POST", "/api/deadlines/scan", api.service_key, json={}, expect=200))["flagged"] == []
    case = await api.call("POST", f"/api/cases/{cid}/consent", bob, json={"consent": True}, expect=200)
    assert case["step"] == "choose_mediator" and {p["consent"] for p in case["parties"]} == {"given"}

    # Step 2: choose from the directory; the mediator accepts.
    directory = await api.call("GET", "/api/mediators", expect=200)
    assert [m["id"] for m in directory] == [mediator.id]
    await api.call("POST", f"/api/cases/{cid}/mediator", alice, json={"mediator_id": mediator.id}, expect=200)
    answer = await api.call("POST", f"/api/cases/{cid}/assignment", mediator, json={"accept": True}, expect=200)
    assert answer["accepted"] is True

    # Step 3: counselling, each side privately with the mediator.
    await api.call("POST", f"/api/cases/{cid}/messages", alice, json={"text": "I want the money back"}, expect=201)
    await api.call("POST", f"/api/cases/{cid}/messages", bob, json={"text": "I can pay in March"}, expect=201)
    await api.call("POST", f"/api/cases/{cid}/messages", mediator,
                   json={"text": "Would March suit you?", "side": "applicant"}, expect=201)
    alice_sees = await api.call("GET", f"/api/cases/{cid}/messages", alice, expect=200)
    assert [m["text"] for m in alice_sees] == ["I want the money back", "Would March suit you?"]
    assert len(await api.call("GET", f"/api/cases/{cid}/messages", mediator, expect=200)) == 3

    # Step 4: the mediator opens the room; everyone gets their own link.
    case = await api.call("POST", f"/api/cases/{cid}/video", mediator, json={}, expect=200)
    assert case["step"] == "video_mediation" and rooms.created == [cid]
    assert rooms.owners == [(mediator.id, ORG)]  # the room belongs to the case and its organisation
    link = await api.call("GET", f"/api/cases/{cid}/invitation", bob, expect=200)
    assert link["url"].startswith("https://") and link["case_role"] == "respondent_party"
    room_id, seat = rooms.invites[-1]
    assert (room_id, seat.role, seat.side, seat.name, seat.account_id) == (case["room_id"], "party", "respondent",
                                                                           "Bob", bob.id)
    await api.call("POST", f"/api/cases/{cid}/video/conclude", mediator, json={}, expect=200)

    # Step 5: the agreement is drafted from the case; it takes effect when the parties have signed
    # (the ceremony, tests/signing/test_case_agreement.py, reports that in-process).
    due = (START + timedelta(days=20)).date().isoformat()
    drafted = await api.call("POST", f"/api/cases/{cid}/agreement", mediator, expect=201, json={
        "payment_terms": {"debtor_side": "respondent", "amount_fen": 1_200_000, "due_date": due,
                          "money_only": True, "counter_obligation": False}})
    assert drafted["case"]["result"] == {**drafted["case"]["result"], "agreement_id": drafted["agreement_id"],
                                         "agreement_status": "drafted"}
    await api.call("POST", f"/api/cases/{cid}/agreement/effective", api.service_key, json={}, expect=404)
    await signing_service_reports_effect(api, cid, drafted["agreement_id"])
    case = await api.call("GET", f"/api/cases/{cid}", alice, expect=200)
    assert (case["step"], case["outcome"], case["result"]["agreement_status"]) == ("evaluation", "settled", "effective")

    # Step 6: both rate the mediator; a complaint reaches the organisation.
    await api.call("POST", f"/api/cases/{cid}/rating", alice, json={"score": 5, "comment": "patient"}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/complaints", bob, json={"text": "the session started late"}, expect=201)
    complaints = await api.call("GET", "/api/complaints", c["org_admin"], expect=200)
    assert [x["case_id"] for x in complaints] == [cid]
    case = await api.call("POST", f"/api/cases/{cid}/rating", bob, json={"score": 4}, expect=200)
    assert case["step"] == "court_docking" and case["status"] == "open"

    # Step 7a: judicial confirmation, applied for jointly, then the court queue.
    jc = await api.call("POST", f"/api/cases/{cid}/court/confirmation", alice, json={"court": COURT}, expect=201)
    assert jc["status"] == "awaiting_joint"
    assert await api.call("GET", "/api/court/queue", clerk, expect=200) == []
    jc = await api.call("POST", f"/api/cases/{cid}/court/confirmation", bob, json={}, expect=201)
    assert jc["status"] == "filed" and jc["joined_sides"] == ["applicant", "respondent"]
    materials = jc["materials"]
    assert set(materials) == {"agreement", "mediation_certificate", "property_evidence", "parties", "recordings"}
    assert materials["recordings"] == []  # nothing was recorded in this case
    assert materials["property_evidence"][0]["sha256"] == doc["sha256"]
    assert materials["mediation_certificate"]["organisation"] == ORG
    assert [p["address"] for p in materials["parties"]] == ["1 Tianfu Road, Chengdu", "2 Jinjiang Road, Chengdu"]
    assert [a["id"] for a in await api.call("GET", "/api/court/queue", clerk, expect=200)] == [jc["id"]]
    await api.call("POST", f"/api/court/applications/{jc['id']}/acceptance", clerk, json={"accept": True}, expect=200)
    assert [a["id"] for a in await api.call("GET", "/api/court/queue", judge, expect=200)] == [jc["id"]]

    # The judge lets the 15 days pass: flagged to the court's judges; extended by 10 days once.
    clock.advance(timedelta(days=15, seconds=1))
    await api.sign_in_again(*c.values())
    flagged = (await api.call("POST", "/api/deadlines/scan", api.service_key, json={}, expect=200))["flagged"]
    assert f"court:rule:{jc['id']}" in [f["kind"] for f in flagged]
    assert f"court:rule:{jc['id']}" in [f["kind"] for f in await api.call("GET", "/api/me/flags", judge, expect=200)]
    await api.call("POST", f"/api/court/applications/{jc['id']}/extension", judge,
                   json={"reason": "both parties must attend the check (art. 356)"}, expect=200)
    await api.call("POST", f"/api/court/applications/{jc['id']}/extension", judge, json={"reason": "again"}, expect=409)
    ruled = await api.call("POST", f"/api/court/applications/{jc['id']}/ruling", judge, json={"grant": True},
                           expect=200)
    assert (ruled["status"], ruled["ruling"]) == ("ruled", "valid")
    # The ruling came with its document, signed by the court: no separate upload step.
    ruling = await court_signed_ruling(api, alice, jc["id"], court_pki)
    assert ruling.report.valid, ruling.report.reasons
    assert (ruling.statement.court_case_number, ruling.statement.decision) == ("(2026)民特1号", "valid")
    case = await api.call("GET", f"/api/cases/{cid}", alice, expect=200)
    assert case["status"] == "closed"

    # Step 7b: bob has not paid by the due date: alice (the creditor) applies for a payment order.
    po = await api.call("POST", f"/api/cases/{cid}/court/payment-order", alice, expect=201, json={
        "no_other_debt_dispute": True, "debtor_reachable_in_china": True, "no_pre_suit_preservation": True})
    assert all(check["met"] for check in po["materials"]["checks"])
    await api.call("POST", f"/api/court/applications/{po['id']}/acceptance", clerk, json={"accept": True}, expect=200)
    issued = await api.call("POST", f"/api/court/applications/{po['id']}/ruling", judge, json={"grant": True},
                            expect=200)
    assert issued["ruling"] == "issued"
    order = await court_signed_ruling(api, alice, po["id"], court_pki)
    assert order.report.valid and order.title == "支付令"
    assert (order.statement.court_case_number, order.statement.decision) == ("(2026)民督1号", "issued")

    # The trail is complete and intact, and progress was published live.
    verification = await api.call("GET", f"/api/cases/{cid}/audit", judge, expect=200)
    assert verification["ok"] is True
    actions = [e["action"] for e in await api.call("GET", f"/api/cases/{cid}/timeline", alice, expect=200)]
    for expected in ("case.created", "document.added", "deadline.overdue", "consent.given", "mediator.accepted",
                     "agreement.effective", "mediator.rated", "confirmation.filed", "court.accepted",
                     "court.extended", "judicial_confirmation.ruled", "payment_order.ruled"):
        assert expected in actions, expected
    assert actions.index("confirmation.filed") < actions.index("judicial_confirmation.ruled")
    kinds = [e["kind"] for case_id, e in events.seen if case_id == cid]
    assert kinds[0] == "case.created" and "court.ruling" in kinds


async def test_refusal_hands_the_case_to_litigation(api: Api) -> None:
    c = await cast_of_characters(api)
    alice, bob = c["alice"], c["bob"]
    cid = (await api.call("POST", "/api/cases", alice, json=application_body(alice, bob), expect=201))["id"]
    await api.call("POST", f"/api/cases/{cid}/consent", bob, json={"consent": False}, expect=422)  # reason required
    case = await api.call("POST", f"/api/cases/{cid}/consent", bob,
                          json={"consent": False, "reason": "I prefer the court"}, expect=200)
    assert (case["step"], case["status"], case["outcome"]) == ("court_docking", "closed", "refused")
    package = await api.call("GET", f"/api/cases/{cid}/litigation-package", alice, expect=200)
    assert package["outcome"] == "refused" and package["claims"] == "repay the loan of 12,000 yuan"
    assert package["parties"][0]["id_number"].count("*") == 13


async def test_failed_mediation_ends_with_a_litigation_package(api: Api) -> None:
    c = await cast_of_characters(api)
    alice, bob, mediator = c["alice"], c["bob"], c["mediator"]
    cid = (await api.call("POST", "/api/cases", alice, json=application_body(alice, bob), expect=201))["id"]
    await api.call("POST", f"/api/cases/{cid}/consent", bob, json={"consent": True}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/mediator", bob, json={"mediator_id": mediator.id}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/assignment", mediator, json={"accept": True}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/video", mediator, json={}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/video/conclude", mediator, json={}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/failure", mediator, json={"reasons": ["amount disputed"]}, expect=200)
    for who in (alice, bob):
        case = await api.call("POST", f"/api/cases/{cid}/rating", who, json={"score": 3}, expect=200)
    assert (case["step"], case["status"], case["outcome"]) == ("court_docking", "closed", "failed")
    package = await api.call("GET", f"/api/cases/{cid}/litigation-package", bob, expect=200)
    assert package["failure_reasons"] == ["amount disputed"]
    # No agreement, no judicial confirmation.
    await api.call("POST", f"/api/cases/{cid}/court/confirmation", alice, json={"court": COURT}, expect=409)


async def test_court_delegation_needs_both_parties_consent(api: Api) -> None:
    c = await cast_of_characters(api)
    alice, bob = c["alice"], c["bob"]
    case = await api.call("POST", "/api/cases/delegations", c["clerk"], json=application_body(alice, bob), expect=201)
    cid = case["id"]
    assert (case["origin"], case["court"]) == ("court_delegation", COURT)
    assert [p["consent"] for p in case["parties"]] == ["pending", "pending"]
    assert sorted(to for to, text in api.sms.sent if cid in text) == sorted([alice.phone, bob.phone])
    assert [x["id"] for x in await api.call("GET", "/api/cases", c["judge"], expect=200)] == [cid]
    case = await api.call("POST", f"/api/cases/{cid}/consent", bob, json={"consent": True}, expect=200)
    assert case["step"] == "start"
    case = await api.call("POST", f"/api/cases/{cid}/consent", alice, json={"consent": True}, expect=200)
    assert case["step"] == "choose_mediator"


async def test_a_party_applies_only_as_themselves(api: Api) -> None:
    c = await cast_of_characters(api)
    alice, bob = c["alice"], c["bob"]
    refused = await api.call("POST", "/api/cases", alice, json=application_body(bob, alice), expect=422)
    assert refused["error"]["code"] == "applicant_mismatch"


async def test_an_agent_acts_for_the_party_who_authorised_them(api: Api) -> None:
    c = await cast_of_characters(api)
    alice, bob = c["alice"], c["bob"]
    lawyer = await api.register("lawyer", 5, role="agent")
    cid = (await api.call("POST", "/api/cases", alice, json=application_body(alice, bob), expect=201))["id"]
    await api.call("GET", f"/api/cases/{cid}", lawyer, expect=404)
    poa = await api.call("POST", "/api/accounts/agents?agent=lawyer&name=poa.pdf", bob, data=b"%PDF signed POA",
                         headers={"Content-Type": "application/pdf"}, expect=201)
    assert len(poa["sha256"]) == 64
    assert [x["your_sides"] for x in await api.call("GET", "/api/cases", lawyer, expect=200)] == [["respondent"]]
    case = await api.call("POST", f"/api/cases/{cid}/consent", lawyer, json={"consent": True}, expect=200)
    assert case["step"] == "choose_mediator" and case["your_sides"] == ["respondent"]
    # The agent applies for the party they represent, never for anyone else.
    body = application_body(bob, alice, on_behalf_of=bob.id)
    assert (await api.call("POST", "/api/cases", lawyer, json=body, expect=201))["your_sides"] == ["applicant"]
    body = application_body(alice, bob, on_behalf_of=alice.id)
    assert (await api.call("POST", "/api/cases", lawyer, json=body, expect=403))["error"]["code"] == \
        "no_power_of_attorney"
