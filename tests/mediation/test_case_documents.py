"""The case's documents over HTTP: who lists and opens which (evidence, each side's private
counselling material, the powers of attorney of the parties' agents), the court only once the case
applied to it, and what a browser is sent: a PDF or an image inline under its own name, anything
else (an HTML page named ``evidence.pdf`` among them) as a download."""

from __future__ import annotations

import io
import json
import zipfile
from urllib.parse import quote

from .api_client import Api, User, application_body
from .scenario import COURT, case_with_filed_confirmation, cast_of_characters

PDF = b"%PDF-1.4 IOU for 12000 yuan"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
HTML = b"<!doctype html><script>document.title = 'pwned'</script>"


def _auth(who: User | str) -> dict[str, str]:
    return {"Authorization": f"Bearer {who.token if isinstance(who, User) else who}"}


async def _upload(api: Api, who: User, case_id: str, name: str, data: bytes, media_type: str,
                  side: str | None = None) -> str:
    query = f"?name={quote(name)}" + (f"&side={side}" if side else "")
    return (await api.call("POST", f"/api/cases/{case_id}/documents{query}", who, data=data,
                           headers={"Content-Type": media_type}, expect=201))["id"]


async def _listed(api: Api, who: User | str, case_id: str) -> set[str]:
    return {d["name"] for d in (await api.call("GET", f"/api/cases/{case_id}/documents", who, expect=200))["documents"]}


async def test_who_opens_which_document(api: Api) -> None:
    c = await cast_of_characters(api)
    alice, bob, mediator = c["alice"], c["bob"], c["mediator"]
    lawyer = await api.register("lawyer", 5, role="agent")
    await api.call("POST", "/api/accounts/agents?agent=lawyer&name=poa.pdf", bob, data=b"%PDF-1.7 signed POA",
                   headers={"Content-Type": "application/pdf"}, expect=201)
    uploaded: dict[str, tuple[str, bytes]] = {}

    async def counselling(case_id: str) -> None:
        for who, name, data, media_type, side in ((alice, "alice-note.pdf", PDF, "application/pdf", None),
                                                  (bob, "bob-photo.png", PNG, "image/png", None),
                                                  (mediator, "to-bob.txt", b"for Bob only", "text/plain", "respondent")):
            uploaded[name] = (await _upload(api, who, case_id, name, data, media_type, side), data)

    case_id, _ = await case_with_filed_confirmation(api, c, counselling)
    everything = (await api.call("GET", f"/api/cases/{case_id}/documents", c["admin"], expect=200))["documents"]
    by_name = {d["name"]: d for d in everything}
    assert set(by_name) == {"iou.pdf", "poa.pdf", "alice-note.pdf", "bob-photo.png", "to-bob.txt"}
    poa = by_name["poa.pdf"]
    assert (poa["kind"], poa["side"], poa["added_by"], poa["added_by_name"]) == \
        ("power_of_attorney", "respondent", bob.id, "Bob")
    assert (by_name["to-bob.txt"]["kind"], by_name["to-bob.txt"]["side"], by_name["to-bob.txt"]["added_by"]) == \
        ("counselling", "respondent", mediator.id)
    assert by_name["iou.pdf"]["url"] == f"/api/cases/{case_id}/documents/{by_name['iou.pdf']['id']}"

    shared = {"iou.pdf", "poa.pdf"}
    sees = {
        "alice": (alice, shared | {"alice-note.pdf"}),
        "bob": (bob, shared | {"bob-photo.png", "to-bob.txt"}),
        "lawyer": (lawyer, shared | {"bob-photo.png", "to-bob.txt"}),  # Bob's agent: Bob's side
        "mediator": (mediator, set(by_name)),
        "org_admin": (c["org_admin"], shared),  # counselling stays between each side and the mediator
        "clerk": (c["clerk"], shared),
        "judge": (c["judge"], shared),
        "service": (api.service_key, set(by_name)),
    }
    for role, (who, visible) in sees.items():
        assert await _listed(api, who, case_id) == visible, role
        view = await api.call("GET", f"/api/cases/{case_id}", who, expect=200)
        assert {d["name"] for d in view["documents"]} == visible, role  # the case page lists the same
        for name, document in by_name.items():
            got = await api.client.get(document["url"], headers=_auth(who))
            if name in visible:
                assert got.status == 200, (role, name)
                expected = uploaded[name][1] if name in uploaded else None
                assert expected is None or await got.read() == expected, (role, name)
            else:  # the other side's counselling material is as missing as a document that does not exist
                assert got.status == 404, (role, name)
                assert (await got.json())["error"]["code"] == "document_not_found", (role, name)
    missing = await api.client.get(f"/api/cases/{case_id}/documents/f_0000000000000000", headers=_auth(alice))
    assert (missing.status, (await missing.json())["error"]["code"]) == (404, "document_not_found")


async def test_the_court_opens_documents_only_once_the_case_applied_to_it(api: Api) -> None:
    c = await cast_of_characters(api)
    alice, bob, clerk = c["alice"], c["bob"], c["clerk"]
    case_id = (await api.call("POST", "/api/cases", alice, json=application_body(alice, bob, court=COURT),
                              expect=201))["id"]
    document_id = await _upload(api, alice, case_id, "iou.pdf", PDF, "application/pdf")
    view = await api.call("GET", f"/api/cases/{case_id}", clerk, expect=200)  # the named court follows the case
    assert view["documents"] == []
    for path in (f"/api/cases/{case_id}/documents", f"/api/cases/{case_id}/documents/{document_id}"):
        refused = await api.call("GET", path, clerk, expect=404)
        assert refused["error"]["code"] == "case_not_found"


async def test_only_pdfs_and_images_open_in_the_browser(api: Api) -> None:
    c = await cast_of_characters(api)
    alice, bob = c["alice"], c["bob"]
    case_id = (await api.call("POST", "/api/cases", alice, json=application_body(alice, bob), expect=201))["id"]
    sent = {
        "借条.pdf": (PDF, "application/pdf", "application/pdf", "inline"),
        "转账记录.png": (PNG, "image/png", "image/png", "inline"),
        # An HTML page under a PDF's name and type: its bytes decide, it only ever downloads.
        "evidence.pdf": (HTML, "application/pdf", "application/octet-stream", "attachment"),
        "page.html": (HTML, "text/html", "application/octet-stream", "attachment"),
    }
    for name, (data, declared, served, disposition) in sent.items():
        document_id = await _upload(api, alice, case_id, name, data, declared)
        got = await api.client.get(f"/api/cases/{case_id}/documents/{document_id}", headers=_auth(bob))
        assert got.status == 200, name
        assert await got.read() == data, name
        assert got.headers["Content-Type"] == served, name
        assert got.headers["X-Content-Type-Options"] == "nosniff", name
        header = got.headers["Content-Disposition"]
        assert header.startswith(f"{disposition}; filename="), (name, header)
        assert header.endswith(f"filename*=UTF-8''{quote(name, safe='')}"), (name, header)
        assert header.isascii(), header
    listed = (await api.call("GET", f"/api/cases/{case_id}/documents", bob, expect=200))["documents"]
    assert [(d["name"], d["media_type"], d["kind"], d["added_by"]) for d in listed] == \
        [(name, declared, "evidence", alice.id) for name, (_, declared, _, _) in sent.items()]


async def test_the_case_package_leaves_out_the_other_sides_counselling_material(api: Api) -> None:
    c = await cast_of_characters(api)

    async def counselling(case_id: str) -> None:
        await _upload(api, c["bob"], case_id, "bob-photo.png", PNG, "image/png")

    case_id, _ = await case_with_filed_confirmation(api, c, counselling)
    for who, names in ((c["alice"], ["iou.pdf"]), (c["bob"], ["iou.pdf", "bob-photo.png"])):
        response = await api.client.get(f"/api/cases/{case_id}/package", headers=_auth(who))
        content = json.loads(zipfile.ZipFile(io.BytesIO(await response.read())).read("case.json"))
        assert [d["name"] for d in content["documents"]] == names, who.id
