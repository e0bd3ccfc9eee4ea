"""The court directory (applications and court accounts name a listed court) and the ruling
document: made and signed by the court with the ruling, numbered in the court's format, served
only to the case's parties and the staff of the court that ruled."""

from __future__ import annotations

import hashlib
import subprocess

from signing.pki import PlatformPKI
from signing.ruling import RulingContent, RulingError

from .api_client import Api, User, application_body
from .court_rulings import court_signed_ruling
from .doubles import START
from .scenario import COURT, case_with_filed_confirmation, cast_of_characters

OTHER_COURT = "Chengdu Wuhou District People's Court"


async def test_the_court_directory_is_kept_by_platform_administrators(api: Api) -> None:
    admin = await api.login("admin", "root")
    assert await api.call("GET", "/api/courts", expect=200) == []  # public
    # An empty directory takes court names as given (deployments that list no courts keep working).
    await api.staff(admin, "court_clerk", "clerk0", court="Anywhere Court")
    added = await api.call("POST", "/api/courts", admin, expect=201,
                           json={"name": COURT, "region": "四川省成都市锦江区", "code": "川0104"})
    assert (added["name"], added["code"]) == (COURT, "川0104") and added["id"].startswith("ct_")
    await api.call("POST", "/api/courts", admin, expect=201, json={"name": OTHER_COURT, "region": "四川省成都市武侯区"})
    assert [c["name"] for c in await api.call("GET", "/api/courts", expect=200)] == [COURT, OTHER_COURT]
    bad = await api.call("POST", "/api/courts", admin, expect=422, json={"name": "X", "region": "Y", "code": "0104"})
    assert bad["error"]["code"] == "invalid_court_code"
    again = await api.call("POST", "/api/courts", admin, expect=422, json={"name": COURT, "region": "Y"})
    assert again["error"]["code"] == "name_taken"

    # Once courts are listed, court staff belong to one of them.
    refused = await api.call("POST", "/api/accounts/staff", admin, expect=422, json={
        "role": "judge", "login": "judge9", "display_name": "J", "password": "x" * 12, "court": "Nowhere Court"})
    assert refused["error"]["code"] == "unknown_court"
    await api.staff(admin, "judge", "judge9", court=OTHER_COURT)  # the refused call left the login free


async def test_a_confirmation_names_a_listed_court(api: Api) -> None:
    c = await cast_of_characters(api)
    await api.call("POST", "/api/courts", c["admin"], expect=201, json={"name": COURT, "region": "成都"})
    alice, bob, mediator = c["alice"], c["bob"], c["mediator"]
    case_id, _ = await case_with_filed_confirmation(api, c)  # applied to the listed court
    assert (await api.call("GET", f"/api/cases/{case_id}", bob, expect=200))["court"] == COURT
    # A second case, applied for at a court the directory does not list.
    cid = (await api.call("POST", "/api/cases", alice, json=application_body(alice, bob), expect=201))["id"]
    await api.call("POST", f"/api/cases/{cid}/consent", bob, json={"consent": True}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/mediator", alice, json={"mediator_id": mediator.id}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/assignment", mediator, json={"accept": True}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/video", mediator, json={}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/video/conclude", mediator, json={}, expect=200)
    drafted = await api.call("POST", f"/api/cases/{cid}/agreement", mediator, json={}, expect=201)
    # What the signing ceremony reports in-process once the parties have signed.
    await api.services.results.agreement_took_effect(cid, drafted["agreement_id"], START)
    for party in (alice, bob):
        await api.call("POST", f"/api/cases/{cid}/rating", party, json={"score": 4}, expect=200)
    refused = await api.call("POST", f"/api/cases/{cid}/court/confirmation", alice, json={"court": OTHER_COURT},
                             expect=422)
    assert refused["error"]["code"] == "unknown_court"
    assert await api.call("GET", f"/api/cases/{cid}/court/applications", alice, expect=200) == []


async def _ruling(api: Api, who: User | str | None, application_id: str) -> tuple[int, bytes, str]:
    headers = {} if who is None else {"Authorization": f"Bearer {who.token if isinstance(who, User) else who}"}
    got = await api.client.get(f"/api/court/applications/{application_id}/ruling.pdf", headers=headers)
    return got.status, await got.read(), got.content_type


async def _accepted(api: Api, c: dict[str, User]) -> tuple[str, str]:
    case_id, app_id = await case_with_filed_confirmation(api, c)
    await api.call("POST", f"/api/court/applications/{app_id}/acceptance", c["clerk"], json={"accept": True},
                   expect=200)
    return case_id, app_id


async def test_the_ruling_document_reaches_the_parties_and_the_court_only(api: Api, court_pki: PlatformPKI) -> None:
    c = await cast_of_characters(api)
    _, app_id = await _accepted(api, c)
    assert (await _ruling(api, c["alice"], app_id))[0] == 404  # not ruled yet: no document
    ruled = await api.call("POST", f"/api/court/applications/{app_id}/ruling", c["judge"], json={"grant": True},
                           expect=200)
    assert ruled["ruling_document_id"] is not None  # made with the ruling, no upload step

    signed = await court_signed_ruling(api, c["alice"], app_id, court_pki)
    for reader in ("bob", "clerk", "judge"):
        assert await _ruling(api, c[reader], app_id) == (200, signed.pdf, "application/pdf"), reader

    # The mediator sees the case but is not served the ruling; another court's judge and a stranger
    # do not see the application at all; administrators are not among the readers.
    assert (await _ruling(api, c["mediator"], app_id))[0] == 403
    other_judge = await api.staff(c["admin"], "judge", "judge2", court=OTHER_COURT)
    carol = await api.register("carol", 3)
    for outsider in (other_judge, carol):
        status, body, _ = await _ruling(api, outsider, app_id)
        assert status == 404 and b"application_not_found" in body
    assert (await _ruling(api, c["admin"], app_id))[0] == 403
    assert (await _ruling(api, None, app_id))[0] == 401
    assert (await _ruling(api, c["alice"], "J-0000000000"))[0] == 404


async def test_the_ruling_is_signed_by_its_court_and_says_what_was_ruled(api: Api, court_pki: PlatformPKI) -> None:
    c = await cast_of_characters(api)
    await api.call("POST", "/api/courts", c["admin"], expect=201, json={"name": COURT, "region": "成都", "code": "川0104"})
    case_id, app_id = await _accepted(api, c)
    filed = await api.call("GET", f"/api/court/applications/{app_id}", c["judge"], expect=200)
    trail = await api.call("GET", f"/api/cases/{case_id}/timeline", c["judge"], expect=200)
    await api.call("POST", f"/api/court/applications/{app_id}/ruling", c["judge"], expect=200,
                   json={"grant": False, "reasons": "协议内容不明确"})
    ruling = await court_signed_ruling(api, c["bob"], app_id, court_pki)
    assert ruling.report.valid, ruling.report.to_dict()
    (seal,) = ruling.report.signatures
    assert (seal.field, seal.signer.organisation, seal.binding and seal.binding["kind"]) == ("court_seal", COURT, "court")
    assert len(ruling.report.document_timestamps) == 1  # B-LTA
    statement = ruling.statement
    assert (statement.court, statement.court_case_number, statement.kind, statement.decision) == (
        COURT, "(2026)川0104民特1号", "judicial_confirmation", "rejected")
    assert (statement.application_id, statement.case_id, statement.agreement_id, statement.judge) == (
        app_id, case_id, filed["materials"]["agreement"]["agreement_id"], "Judge1")
    assert statement.audit_seq == len(trail)  # the trail as the judge ruled, before the ruling's own entry
    text = _text(ruling.pdf)
    for words in (COURT, "民事裁定书", "(2026)川0104民特1号", "驳回申请人Alice、Bob的司法确认申请", "协议内容不明确",
                  "审判员", "二〇二六年三月二日", statement.audit_head[:20]):
        assert words in text, words
    # The audit entry of the ruling names the document's hash.
    entries = await api.call("GET", f"/api/cases/{case_id}/timeline", c["judge"], expect=200)
    (entry,) = [e for e in entries if e["action"] == "judicial_confirmation.ruled"]
    assert entry["payload"]["document"]["sha256"] == hashlib.sha256(ruling.pdf).hexdigest()
    assert entry["payload"]["court_case_number"] == "(2026)川0104民特1号"


async def test_each_court_numbers_its_rulings_per_kind_and_year(api: Api, court_pki: PlatformPKI) -> None:
    c = await cast_of_characters(api)
    await api.call("POST", "/api/courts", c["admin"], expect=201, json={"name": COURT, "region": "成都", "code": "川0104"})
    numbers = []
    for _ in range(2):
        _, app_id = await _accepted(api, c)
        await api.call("POST", f"/api/court/applications/{app_id}/ruling", c["judge"], json={"grant": True},
                       expect=200)
        numbers.append((await court_signed_ruling(api, c["alice"], app_id, court_pki)).statement.court_case_number)
    assert numbers == ["(2026)川0104民特1号", "(2026)川0104民特2号"]


async def test_a_case_that_moves_on_while_the_ruling_is_signed_gets_it_signed_again(
        api: Api, court_pki: PlatformPKI) -> None:
    c = await cast_of_characters(api)
    case_id, app_id = await _accepted(api, c)
    court = api.services.court
    real_signer = court.sign_ruling
    assert real_signer is not None
    signed_heads: list[int] = []

    async def meanwhile(content: RulingContent) -> bytes:
        signed_heads.append(content.statement.audit_seq)
        if len(signed_heads) == 1:  # a complaint lands in the trail while the first ruling is signed
            await api.call("POST", f"/api/cases/{case_id}/complaints", c["alice"], json={"text": "late"}, expect=201)
        return await real_signer(content)

    court.sign_ruling = meanwhile
    await api.call("POST", f"/api/court/applications/{app_id}/ruling", c["judge"], json={"grant": True}, expect=200)
    assert signed_heads[1] == signed_heads[0] + 1 and len(signed_heads) == 2
    ruling = await court_signed_ruling(api, c["alice"], app_id, court_pki)
    assert ruling.statement.audit_seq == signed_heads[1]
    audit = await api.call("GET", f"/api/cases/{case_id}/audit", c["judge"], expect=200)
    assert audit["ok"] is True


async def test_a_ruling_that_cannot_be_signed_is_not_recorded(api: Api) -> None:
    c = await cast_of_characters(api)
    case_id, app_id = await _accepted(api, c)

    async def no_court_certificate(content: RulingContent) -> bytes:
        raise RulingError(f"the ruling of {content.statement.court} cannot be signed: no certificate")

    api.services.court.sign_ruling = no_court_certificate
    refused = await api.call("POST", f"/api/court/applications/{app_id}/ruling", c["judge"], json={"grant": True},
                             expect=503)
    assert refused["error"]["code"] == "ruling_not_signed"
    api.services.court.sign_ruling = None
    refused = await api.call("POST", f"/api/court/applications/{app_id}/ruling", c["judge"], json={"grant": True},
                             expect=503)
    assert refused["error"]["code"] == "rulings_unavailable"
    application = await api.call("GET", f"/api/court/applications/{app_id}", c["judge"], expect=200)
    assert (application["status"], application["ruling"], application["ruling_document_id"]) == ("accepted", None, None)
    case = await api.call("GET", f"/api/cases/{case_id}", c["alice"], expect=200)
    assert case["status"] == "open"


def _text(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
