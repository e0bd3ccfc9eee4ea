"""The case package shown in the page: its members as the manifest lists them, the cheap check's
verdict (which fails for an altered member), and its PDFs served one at a time to the same people
who may download it."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import zipfile

from mediation.package_check import check_structure
from signing.pki import PlatformPKI

from .api_client import Api
from .court_rulings import court_signed_ruling
from .scenario import case_with_filed_confirmation, cast_of_characters


async def test_contents_list_the_download_and_its_pdfs_open(api: Api, court_pki: PlatformPKI) -> None:
    c = await cast_of_characters(api)
    cid, application_id = await case_with_filed_confirmation(api, c)
    await api.call("POST", f"/api/court/applications/{application_id}/acceptance", c["clerk"], json={"accept": True},
                   expect=200)
    await api.call("POST", f"/api/court/applications/{application_id}/ruling", c["judge"], json={"grant": True},
                   expect=200)
    ruling = await court_signed_ruling(api, c["alice"], application_id, court_pki)

    contents = await api.call("GET", f"/api/cases/{cid}/package/contents", c["alice"], expect=200)
    download = await api.client.get(f"/api/cases/{cid}/package", headers={"Authorization": f"Bearer {c['alice'].token}"})
    archive = zipfile.ZipFile(io.BytesIO(await download.read()))
    listed = json.loads(archive.read("manifest.json"))["members"]
    by_path = {m["path"]: m for m in contents["members"]}
    assert set(by_path) == set(archive.namelist())
    assert contents["members"][0]["path"] == "manifest.json" and contents["case_id"] == cid
    for path, digest in listed.items():
        assert by_path[path]["sha256"] == digest and by_path[path]["size"] == archive.getinfo(path).file_size, path
    (document,) = json.loads(archive.read("case.json"))["documents"]
    assert by_path[document["path"]]["label"] == document["name"] and by_path[document["path"]]["kind"] == "document"
    assert by_path[document["path"]]["inline_type"] is None  # "%PDF IOU" is no PDF by its bytes
    (ruling_member,) = [m for m in contents["members"] if m["kind"] == "ruling"]
    assert ruling_member["inline_type"] == "application/pdf"
    assert ruling_member["sha256"] == hashlib.sha256(ruling.pdf).hexdigest()
    check = contents["check"]
    assert check["valid"] is True and check["reasons"] == [] and check["audit"]["ok"] is True
    assert check["members"] == len(listed)

    opened = await api.client.get(f"/api/cases/{cid}/package/members/{ruling_member['sha256']}",
                                  headers={"Authorization": f"Bearer {c['alice'].token}"})
    assert opened.status == 200 and opened.content_type == "application/pdf"
    assert opened.headers["Content-Disposition"].startswith("inline;")
    assert await opened.read() == ruling.pdf
    not_viewable = await api.call("GET", f"/api/cases/{cid}/package/members/{listed['case.json']}", c["alice"],
                                  expect=422)
    assert not_viewable["error"]["code"] == "package_member_not_viewable"
    missing = await api.call("GET", f"/api/cases/{cid}/package/members/{'f' * 64}", c["alice"], expect=404)
    assert missing["error"]["code"] == "package_member_not_found"

    # The mediator does not receive the package; someone with no part in the case sees no case.
    stranger = await api.register("carol", 3)
    for path in ("contents", f"members/{ruling_member['sha256']}"):
        await api.call("GET", f"/api/cases/{cid}/package/{path}", c["mediator"], expect=403)
        refused = await api.call("GET", f"/api/cases/{cid}/package/{path}", stranger, expect=404)
        assert refused["error"]["code"] == "case_not_found"


async def test_the_cheap_check_finds_an_altered_member(api: Api) -> None:
    c = await cast_of_characters(api)
    cid, _ = await case_with_filed_confirmation(api, c)
    response = await api.client.get(f"/api/cases/{cid}/package", headers={"Authorization": f"Bearer {c['alice'].token}"})
    original = zipfile.ZipFile(io.BytesIO(await response.read()))
    altered = io.BytesIO()
    with zipfile.ZipFile(altered, "w") as out:
        for name in original.namelist():
            data = original.read(name)
            out.writestr(name, data.replace(b"%PDF IOU", b"%PDF IOU!") if name.startswith("files/") else data)
    assert (await asyncio.to_thread(check_structure, original.fp.getvalue())).valid  # type: ignore[union-attr]
    report = await asyncio.to_thread(check_structure, altered.getvalue())
    assert not report.valid and [r.code for r in report.reasons] == ["member_hash_mismatch"]
