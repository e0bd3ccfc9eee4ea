"""The court directory (applications and court accounts name a listed court) and the ruling
document, served only to the case's parties and the staff of the court that ruled."""

from __future__ import annotations

import secrets

from mediation.models import StoredFile

from .api_client import Api, User, application_body
from .doubles import START
from .scenario import COURT, case_with_filed_confirmation, cast_of_characters

OTHER_COURT = "Chengdu Wuhou District People's Court"
RULING = b"%PDF-1.7 ruling confirming the mediation agreement"


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
    await api.call("POST", f"/api/cases/{cid}/agreement", mediator, json={"agreement_id": "AG-2"}, expect=200)
    await api.call("POST", f"/api/cases/{cid}/agreement/effective", api.service_key, expect=200,
                   json={"agreement_id": "AG-2", "effective_at": START.isoformat()})
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


async def test_the_ruling_document_reaches_the_parties_and_the_court_only(api: Api) -> None:
    c = await cast_of_characters(api)
    _, app_id = await case_with_filed_confirmation(api, c)
    clerk, judge = c["clerk"], c["judge"]
    await api.call("POST", f"/api/court/applications/{app_id}/acceptance", clerk, json={"accept": True}, expect=200)
    await api.call("POST", f"/api/court/applications/{app_id}/ruling", judge, json={"grant": True}, expect=200)
    status, body, _ = await _ruling(api, c["alice"], app_id)
    assert status == 404 and b"no_ruling_document" in body  # ruled, the signed document not attached yet

    # The signed ruling lands in the case file store (as the court's signing part stores it) and is attached.
    blob = await api.services.cases.files.put(RULING)
    file_id = "f_" + secrets.token_hex(8)
    async with api.services.db.begin() as s:
        s.add(StoredFile(id=file_id, sha256=blob.sha256, size=blob.size, media_type="application/pdf",
                         name="民事裁定书.pdf", path=blob.relative_path, uploaded_by=judge.id, created_at=START))
    application = await api.call("POST", f"/api/court/applications/{app_id}/ruling-document", judge,
                                 json={"document_id": file_id}, expect=200)
    assert application["ruling_document_id"] == file_id

    for reader in ("alice", "bob", "clerk", "judge"):
        status, body, content_type = await _ruling(api, c[reader], app_id)
        assert (status, body, content_type) == (200, RULING, "application/pdf"), reader

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
